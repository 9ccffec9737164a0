"""``saxsim make-training-set | train | infer``: the inverse-problem commands (thin adapters)."""

from __future__ import annotations

import argparse
import json
import os

from ..io.curves import check_target


def cmd_make_training_set(a) -> int:
    from ..errors import SaxsimInputError
    from ..inverse.training.dataset import STANDARD_SETS, cache_dir, load_set

    names = a.sets or list(STANDARD_SETS)
    for name in names:
        if name not in STANDARD_SETS:
            raise SaxsimInputError(f"unknown set {name!r}; known: {', '.join(STANDARD_SETS)}")
    for name in names:
        d = load_set(name, a.workers)
        print(f"{name:6s} {len(d['family']):7d} curves  (cache: {cache_dir() / 'families'})")
    return 0


#: where ``saxsim train`` writes when no --out is given: the current folder, never the
#: installed weights (``saxsim infer --weights FILE`` uses a trained file)
DEFAULT_TRAIN_OUT = {"shipped": "saxsim_shipped.pt", "thesis": "saxsim_thesis_inn.pt"}


def _train_targets(a) -> dict:
    """model -> weight file to write, checked before any training starts. An unfinished run
    of the same file (its ``.checkpoint`` beside it) is continued, not refused."""
    from ..errors import SaxsimInputError

    models = ("thesis", "shipped") if a.model == "both" else (a.model,)
    if a.out and len(models) > 1:
        raise SaxsimInputError("--out names one file: give --model shipped or --model thesis "
                               "with it (--model both writes "
                               f"{' and '.join(DEFAULT_TRAIN_OUT.values())})")
    targets = {m: a.out or DEFAULT_TRAIN_OUT[m] for m in models}
    for path in targets.values():
        if os.path.exists(path) and not a.overwrite:
            raise SaxsimInputError(f"{path} exists; pass --overwrite to replace it, or --out "
                                   "another file")
    return targets


def cmd_train(a) -> int:
    targets = _train_targets(a)
    log = open(a.log, "a") if a.log else None
    try:
        if "thesis" in targets:
            from ..inverse.thesis.train import train_thesis
            r = train_thesis(epochs=200 if a.epochs is None else a.epochs,
                             out=targets["thesis"], log=log, workers=a.workers,
                             max_minutes=30.0 if a.max_minutes is None else a.max_minutes)
            print(f"thesis INN: best epoch {r['best_epoch']}, weights {r['path']}")
        if "shipped" in targets:
            from ..inverse.training import train as t
            from ..inverse.training.calibrate import calibrate
            r = t.train_shipped(out=targets["shipped"],
                                epochs=t.SHIPPED_EPOCHS if a.epochs is None else a.epochs,
                                max_minutes=(t.SHIPPED_MINUTES if a.max_minutes is None
                                             else a.max_minutes),
                                log=log, workers=a.workers, encoder_width=a.encoder_width,
                                bf16_encoder={"auto": None, "on": True, "off": False}[a.bf16])
            c = calibrate(r["path"])
            print(f"family network: best epoch {r['best_epoch']} of "
                  f"{len(r['history'])} ({r['minutes']:.0f} min), temperature "
                  f"{c['temperature']:.3f}, confident from P >= "
                  f"{c['probability_threshold']:.2f}, chi2 threshold "
                  f"{c['chi2_threshold']:.3g}, weights {r['path']} (use it with saxsim infer "
                  "--weights)")
    finally:
        if log:
            log.close()
    return 0


def _table(r) -> str:
    from ..inverse.analysis import format_parameters

    top = r.ranked[0]
    lines = [f"model: {top.model_name}  (P = {top.probability:.3f})",
             f"confident: {'yes' if r.confident else 'NO'}  (reduced chi2 of the estimate "
             f"{r.reduced_chi2:.3g})",
             f"{'parameter':22s} {'median':>10s} {'16 %':>10s} {'84 %':>10s}"]
    for name, (med, lo, hi) in top.parameters.items():
        lines.append(f"{name:22s} {med:10.4g} {lo:10.4g} {hi:10.4g}")
    lines.append(f"scale {top.sasmodels_parameters['scale']:.4g}, background "
                 f"{top.sasmodels_parameters['background']:.4g} (data units)")
    lines.append("next families:")
    for other in r.ranked[1:3]:
        lines.append(f"  {other.model_name} (P = {other.probability:.3f}): "
                     f"{format_parameters(other.model_name, other.parameters)}")
    lines += [f"note: {n}" for n in r.notes]
    return "\n".join(lines)


def cmd_infer(a) -> int:
    import dataclasses

    from ..inverse.analysis import analyse_curve
    from ..io.loading import load_curve
    from ..io.plotting import plot_estimate

    curve = load_curve(a.file, a.index)
    # the loader already converted files that declare 1/nm; --q-unit overrides what they say
    factor = 1.0
    if a.q_unit == "1/nm" and curve.q_unit != "1/nm":
        factor = 0.1
    elif a.q_unit == "1/A" and curve.q_unit == "1/nm":
        factor = 10.0
    columns = dict(curve.columns)
    if "slit_length" in columns:
        columns["slit_length"] = columns["slit_length"] * factor
    curve = dataclasses.replace(curve, q=curve.q * factor, columns=columns,
                                dq=None if curve.dq is None else curve.dq * factor)
    png = check_target(a.plot or os.path.splitext(os.path.basename(a.file))[0]
                       + "_estimate.png", None)
    analysis = analyse_curve(curve, refine=a.refine, weights=a.weights)
    r, refined, q = analysis.estimate, analysis.refined, curve.q
    q_plot, models = analysis.plot_curves()
    plot_estimate(q, curve.intensity, curve.d_intensity, r, png, curve.title,
                  {label: (q_plot, values) for label, values in models.items()})
    if a.json:
        out = r.to_dict()
        out["plot"] = png
        if refined is not None:
            out["refined"] = {"model_name": refined.model_name,
                              "parameters": refined.parameters, "scale": refined.scale,
                              "background": refined.background,
                              "reduced_chi2": refined.reduced_chi2,
                              "seconds": refined.seconds,
                              "sasmodels_parameters": refined.sasmodels_parameters()}
        print(json.dumps(out, default=float))
        return 0
    print(f"{curve.title} ({len(curve.q)} points; q read as 1/Å after unit conversion)")
    print(_table(r))
    if refined is not None:
        print(f"\nrefined by least squares: {refined.model_name} ({refined.evaluations} "
              "evaluations, "
              f"{refined.seconds:.2f} s): reduced chi2 {refined.reduced_chi2:.3g}")
        for name, v in refined.parameters.items():
            print(f"  {name:22s} {v:10.4g}")
    print(f"plot: {png}")
    return 0


def _positive_int(text: str) -> int:
    """argparse type: a whole number ≥ 1 (a clear message instead of a traceback)."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 1, not {text!r}")
    return value


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Register the inverse-problem subcommands on ``saxsim``'s parser."""
    m = sub.add_parser("make-training-set",
                       help="generate the family network's training/test sets (cached)")
    m.add_argument("--sets", nargs="+", help="standard set names (default: all)")
    m.add_argument("--workers", type=int, help="processes (default: all cores)")
    m.set_defaults(func=cmd_make_training_set)
    t = sub.add_parser("train", help="train the shape-estimation network(s)")
    t.add_argument("--model", choices=("shipped", "thesis", "both"), default="shipped")
    t.add_argument("--epochs", type=_positive_int, help="default 30 (shipped) / 200 (thesis)")
    t.add_argument("--max-minutes", type=float, default=None,
                   help="wall-time budget of the training, all resumed runs together "
                        "(default 100 shipped / 30 thesis); the schedule shortens to fit")
    t.add_argument("--out", help="weight file to write (default: "
                                 f"{DEFAULT_TRAIN_OUT['shipped']} / "
                                 f"{DEFAULT_TRAIN_OUT['thesis']} here; never the installed "
                                 "weights unless named)")
    t.add_argument("--overwrite", action="store_true", help="replace an existing --out file")
    t.add_argument("--workers", type=int, help="processes for data generation")
    t.add_argument("--log", help="append progress to this file")
    t.add_argument("--encoder-width", type=_positive_int, default=None,
                   help="channels of the encoder's first convolution (default 24, as shipped)")
    t.add_argument("--bf16", choices=("auto", "on", "off"), default="auto",
                   help="train the encoder in bfloat16: auto = where the CPU/GPU runs it "
                        "natively (default)")
    t.set_defaults(func=cmd_train)
    i = sub.add_parser("infer", help="rank sasmodels families and estimate their parameters "
                                     "for a measured 1D curve")
    i.add_argument("file", help="any 1D file SasView loads (ASCII, CanSAS XML, NXcanSAS, ...)")
    i.add_argument("--index", type=int, default=0, help="dataset index in the file")
    i.add_argument("--q-unit", choices=("1/A", "1/nm"),
                   help="override the file's q unit (default: as the file says, else 1/Å)")
    i.add_argument("--refine", action="store_true",
                   help="least-squares fits of the listed families from the estimate; the "
                        "evidence picks one")
    i.add_argument("--json", action="store_true", help="print one JSON object")
    i.add_argument("--plot", help="PNG path (default: FILE_estimate.png here)")
    i.add_argument("--weights", help="weight file (default: the shipped network)")
    i.set_defaults(func=cmd_infer)

