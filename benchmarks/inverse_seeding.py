"""Seeding value of the model estimate: how often does a least-squares fit reach the truth?

    python benchmarks/inverse_seeding.py --curves 200 [--workers 2] [--json FILE]
    python benchmarks/inverse_seeding.py --merge RUN1.json RUN2.rows.jsonl [--json FILE]

On held-out curves of the family sets ("test", never trained on), three strategies, each with
the same fitting engine (``inverse.refine.fit_model``: scipy least squares on sasmodels
curves or their tested tables):

  (i)   one fit per family from sasmodels' default parameters, family by lowest BIC;
  (ii)  expert multi-start: a grid pre-scan per family over its prior (scale and background
        solved linearly at every grid point), local fits from the 2 best grid points, family by
        lowest BIC;
  (iii) ``estimate`` + ``refine_estimate`` (``saxsim infer --refine``: local fits of the listed
        families from their posteriors, family by evidence).

and, not a method but the ceiling of local fitting on these curves:

  (truth_start) one local fit of the true family started at the true parameters.

Every fit knows the data's q resolution (pinhole dq or slit length, as SasView data files carry
them).
Success: right family, every length within 2 %, volume fraction within 0.02, contrast ratio
within 0.1, fractal dimension within 0.05 (polydispersities not judged). Time per curve is wall
time on one core.

Prints the table (markdown, with the machine and the command) and writes nothing else unless
--json FILE is given: then the summary and every fit's row, and during the run FILE.rows.jsonl
(one row per fit, so an interrupted run can be --merge'd; removed at the end).
fit_ceiling.py and inverse_hybrid.py import the helpers of this file.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np
from common import publish  # benchmarks/ is on sys.path

from sasview_saxsim_plugin.inverse.families import FAMILIES, FAMILY_NAMES, as_dict, family
from sasview_saxsim_plugin.inverse.model_curves import fit_scale_background, model_intensity
from sasview_saxsim_plugin.inverse.refine import fit_model
from sasview_saxsim_plugin.inverse.training.dataset import load_set


def _defaults(name: str) -> dict:
    """sasmodels' default values of a family's learnt parameters (pd 0; the core's contrast
    relative to the shell from sasmodels' default SLDs), inside the fit bounds."""
    from sasmodels.core import load_model_info

    info = load_model_info(name)
    default = {p.name: p.default for p in info.parameters.kernel_parameters}
    out = {}
    for p in family(name).parameters:
        if p.name.endswith("_pd"):
            value = 0.0
        elif p.name == "sld_core":
            value = ((default["sld_core"] - default["sld_solvent"])
                     / (default["sld_shell"] - default["sld_solvent"]))
        else:
            value = default[p.name]
        lo, hi = p.fit_bounds()
        out[p.name] = float(np.clip(value, lo, hi))
    return out


DEFAULTS = {f.name: _defaults(f.name) for f in FAMILIES}


def _grid(parameter) -> list:
    low, high = parameter.prior.low, parameter.prior.high
    if parameter.name.endswith("_pd"):
        return [0.05, 0.2]
    if parameter.log:
        return list(np.geomspace(low, high, 5))
    return list(np.linspace(low, high, 4)[1:3])


GRID = {f.name: [_grid(p) for p in f.parameters] for f in FAMILIES}
TOLERANCE = {"volfraction": 0.02, "sld_core": 0.1, "fractal_dim_mass": 0.05}


def success(name: str, values: dict, true_name: str, truth: dict) -> bool:
    if name != true_name:
        return False
    for p in family(name).parameters:
        if p.name.endswith("_pd"):
            continue
        if p.log and abs(values[p.name] / truth[p.name] - 1) > 0.02:
            return False
        if not p.log and abs(values[p.name] - truth[p.name]) > TOLERANCE[p.name]:
            return False
    return True


def best_by_bic(fits):
    return min(fits, key=lambda f: f.bic)


def strategy_defaults(q, intensity, sigma, res):
    return best_by_bic([fit_model(s, q, intensity, sigma, DEFAULTS[s], **res)
                        for s in FAMILY_NAMES])


def strategy_multistart(q, intensity, sigma, res, starts: int = 2, criterion: str = "bic",
                        scan_resolution: bool = True):
    """Expert multi-start: each family's prior grid pre-scanned (scale and background solved),
    the ``starts`` best grid points refined; the best fit by BIC (or by ``criterion="chi2"``
    the lowest χ²). ``scan_resolution=False``: the pre-scan ranks the grid points without
    the resolution smearing (the fits always use it), as an expert's quick look does."""
    scan_res = res if scan_resolution else {k: None for k in res}
    fits = []
    for s in FAMILY_NAMES:
        spec = family(s)
        names = spec.parameter_names
        scored = []
        for combo in itertools.product(*GRID[s]):
            values = dict(zip(names, combo, strict=True))
            if spec.accept is not None and not bool(np.all(spec.accept(
                    {k: np.array([v]) for k, v in values.items()}))):
                continue
            curve = model_intensity(s, q, values, **scan_res)
            scale, bg = fit_scale_background(intensity, curve, sigma)
            scored.append((float(np.sum(((intensity - scale * curve - bg) / sigma) ** 2)), values))
        scored.sort(key=lambda t: t[0])
        fits += [fit_model(s, q, intensity, sigma, v, **res) for _, v in scored[:starts]]
    return best_by_bic(fits) if criterion == "bic" else min(fits, key=lambda f: f.reduced_chi2)


def strategy_estimate(q, intensity, sigma, res):
    from sasview_saxsim_plugin.inverse import estimate
    from sasview_saxsim_plugin.inverse.refine import refine_estimate

    return refine_estimate(estimate(q, intensity, sigma, **res), q, intensity, sigma, **res)


def strategy_truth_start(q, intensity, sigma, res, true_shape, truth):
    return fit_model(true_shape, q, intensity, sigma, truth, **res)


STRATEGIES = {"defaults_bic": strategy_defaults, "multistart": strategy_multistart,
              "estimate_refine": strategy_estimate, "truth_start": strategy_truth_start}
#: strategies that are shown the answer (ceilings, not methods): not run by default
CEILINGS = ("truth_start",)


def worker_curve(q, intensity, sigma, dq, slit):
    """In a worker process: one thread, and the stored curve's usable points (finite q, I > 0)
    as every benchmark of the fits reads them, with their resolution as keyword arguments of
    the fits (``dq`` pinhole width or ``slit_length``, 1/Å)."""
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    import torch

    torch.set_num_threads(1)
    keep = np.isfinite(q) & (intensity > 0)
    res = {"dq": dq[keep] if np.any(dq[keep] > 0) else None,
           "slit_length": np.full(int(keep.sum()), slit) if slit > 0 else None}
    return q[keep], intensity[keep], sigma[keep], res


def stored_curves(set_name: str, seed: int, n: int) -> list[tuple]:
    """(q 1/Å, I, dI, dq, slit length, true family, truth dict) of the first ``n`` curves of
    a stored set (``keep_curves``) in a fixed shuffle (the sets are stored family by
    family)."""
    from sasview_saxsim_plugin.inverse.training.dataset import ACQUISITION_COLUMNS

    data = load_set(set_name)
    slit_column = ACQUISITION_COLUMNS.index("slit_length")
    out = []
    for i in np.random.default_rng(seed).permutation(len(data["family"]))[:n]:
        q, intensity, sigma, dq = data["curves"][i].astype(float)
        name = FAMILY_NAMES[data["family"][i]]
        out.append((q, intensity, sigma, dq, float(data["acquisition"][i, slit_column]), name,
                    as_dict(name, data["parameters"][i])))
    return out


def map_with_progress(function, jobs: list, workers: int, chunksize: int = 1,
                      every: int = 50, on_row=None) -> list:
    """``function`` over ``jobs`` in ``workers`` processes, in order, with a count on stderr;
    ``on_row(row)`` is called as each result arrives (to save it before a long run ends)."""
    rows = []
    with ProcessPoolExecutor(workers) as pool:
        for k, row in enumerate(pool.map(function, jobs, chunksize=chunksize)):
            rows.append(row)
            if on_row is not None:
                on_row(row)
            if (k + 1) % every == 0:
                print(f"{k + 1}/{len(jobs)}", file=sys.stderr, flush=True)
    return rows


def _one(args):
    strategy, q, intensity, sigma, dq, slit, true_shape, truth = args
    q, intensity, sigma, res = worker_curve(q, intensity, sigma, dq, slit)
    t = time.perf_counter()
    extra = (true_shape, truth) if strategy in CEILINGS else ()
    fit = STRATEGIES[strategy](q, intensity, sigma, res, *extra)
    return {"strategy": strategy, "seconds": time.perf_counter() - t, "shape": fit.model_name,
            "true_shape": true_shape,
            "ok": success(fit.model_name, fit.parameters, true_shape, truth),
            "values": fit.parameters, "truth": truth, "bic": fit.bic,
            "reduced_chi2": fit.reduced_chi2}


def summarise(rows: list[dict], strategies) -> dict:
    """Success, class accuracy and time per strategy."""
    summary = {}
    for strategy in strategies:
        r = [x for x in rows if x["strategy"] == strategy]
        if not r:
            continue
        sec = np.array([x["seconds"] for x in r])
        summary[strategy] = {"curves": len(r), "success": float(np.mean([x["ok"] for x in r])),
                             "class_accuracy": float(np.mean([x["shape"] == x["true_shape"]
                                                              for x in r])),
                             "seconds_median": float(np.median(sec)),
                             "seconds_mean": float(sec.mean()),
                             "seconds_p90": float(np.percentile(sec, 90))}
    return summary


def table(summary: dict) -> str:
    """The summary as a markdown table."""
    lines = ["| strategy | curves | success | class accuracy | s/curve median | mean | p90 |",
             "|---|---|---|---|---|---|---|"]
    for name, r in summary.items():
        lines.append(f"| {name} | {r['curves']} | {100 * r['success']:.1f} % | "
                     f"{100 * r['class_accuracy']:.1f} % | {r['seconds_median']:.2f} | "
                     f"{r['seconds_mean']:.2f} | {r['seconds_p90']:.2f} |")
    return "\n".join(lines)


def worker_machine(workers: int) -> str:
    """This machine as the fitting benchmarks run on it: CPU, cores, torch, worker processes."""
    import platform

    import torch

    return (f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
            f"torch {torch.__version__}, {workers} worker processes of one thread")


TITLE = "Seeding value of the model estimate (held-out test curves)"


def merge(paths: list[str], out: str | None) -> int:
    """Combine the rows of several (partial) runs (.json or .rows.jsonl) into one report."""
    rows, seen = [], set()
    for path in paths:
        with open(path) as fh:
            part = ([json.loads(line) for line in fh] if path.endswith(".jsonl")
                    else json.load(fh)["rows"])
        for row in part:
            key = (row["strategy"], json.dumps(row["truth"], sort_keys=True))
            if key not in seen:
                seen.add(key)
                rows.append(row)
    summary = summarise(rows, list(STRATEGIES))
    publish(TITLE, table(summary), "the machines of the merged runs",
            {"summary": summary, "rows": rows, "merged_from": paths}, out,
            note=f" (rows of {len(paths)} earlier runs)")
    return 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--curves", type=int, default=200)
    ap.add_argument("--start", type=int, default=0,
                    help="skip the first curves of the fixed order (resume a partial run)")
    ap.add_argument("--workers", type=int, default=os.cpu_count())
    ap.add_argument("--strategies", nargs="+", choices=list(STRATEGIES),
                    default=[s for s in STRATEGIES if s not in CEILINGS])
    ap.add_argument("--multistart-curves", type=int,
                    help="fewer curves for the (slow) multi-start strategy (default: --curves)")
    ap.add_argument("--json", metavar="FILE",
                    help="also save the summary and every fit's row as JSON")
    ap.add_argument("--merge", nargs="+", metavar="RUN",
                    help="only combine earlier runs' rows (.json / .rows.jsonl): print their "
                         "table (and save them into --json)")
    a = ap.parse_args(argv)
    if a.merge:
        return merge(a.merge, a.json)
    curves = stored_curves("test", 2026, a.curves)
    jobs = []
    for strategy in a.strategies:
        n = a.multistart_curves if strategy == "multistart" and a.multistart_curves else a.curves
        jobs += [(strategy, *curve) for curve in curves[a.start:n]]
    rows = []
    # with --json, every row also goes to FILE.rows.jsonl: it survives an interrupted run
    partial = open(a.json + ".rows.jsonl", "w") if a.json else None
    with ProcessPoolExecutor(a.workers) as pool:
        for k, row in enumerate(pool.map(_one, jobs, chunksize=1)):
            rows.append(row)
            if partial is not None:
                partial.write(json.dumps(row, default=float) + "\n")
                partial.flush()
            if (k + 1) % 20 == 0:
                print(f"{k + 1}/{len(jobs)}", file=sys.stderr, flush=True)
    summary = summarise(rows, a.strategies)
    publish(TITLE, table(summary), worker_machine(a.workers), {"summary": summary, "rows": rows},
            a.json)
    if partial is not None:
        partial.close()
        os.remove(a.json + ".rows.jsonl")
    return 0


if __name__ == "__main__":
    sys.exit(main())
