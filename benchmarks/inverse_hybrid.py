"""Family accuracy of the recommended workflow, and how much class information the errors hold.

    python benchmarks/inverse_hybrid.py [--curves 600] [--workers 2] [--json FILE]
    python benchmarks/inverse_hybrid.py --generator independent --seed 7 8 9 10 [--curves 600]

On the held-out "test" set of the family sets (never trained, tuned or calibrated on), or on
curves of the independent generator (``foreign_curves.py``, the cache ``inverse_families.py``
makes; catalogue families only; q in 1/nm converted; σ from the scatter when a file has no dI,
as ``saxsim infer`` does):

* network: the family ``estimate`` returns;
* network + refine when not confident: for every curve ``estimate`` does not flag confident,
  the family ``refine_estimate`` picks (``saxsim infer --refine``: local fits of the listed
  families, chosen by ``refine.CLASS_CRITERION``), using the data's resolution (pinhole dq
  or slit length) like SasView files carry it;
* for each curve still misclassified: the true family fitted from the true parameters (the
  best start any method could have) against the chosen fit, ΔBIC = BIC(true) - BIC(chosen).
  ΔBIC >= 0 means the wrong family explains the data at least as well: the curve itself
  cannot tell them apart (nested families often), and no classifier that looks only at this
  curve could get it right except by its prior. ΔBIC < -6 ("strong" on the Kass-Raftery
  scale) means the information was there.

Prints the table (with the machine and the command) and writes nothing else unless --json FILE
is given (the summary and every curve's row).
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

from sasview_saxsim_plugin.inverse.families import FAMILY_NAMES

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import publish  # noqa: E402
from inverse_seeding import map_with_progress, stored_curves, worker_machine  # noqa: E402


def _one(args) -> dict:
    q, intensity, sigma, dq, slit, true_shape, truth = args
    from inverse_seeding import worker_curve

    from sasview_saxsim_plugin.inverse import estimate
    from sasview_saxsim_plugin.inverse.refine import fit_model, refine_estimate

    q, intensity, sigma, res = worker_curve(q, intensity, sigma, dq, slit)
    r = estimate(q, intensity, sigma, **res)
    row = {"true_shape": true_shape, "network": r.model_name, "confident": r.confident,
           "probability": r.probabilities[r.model_name], "q_min": float(q[0]),
           "truth": truth, "hybrid": r.model_name, "refine_seconds": 0.0}
    if not r.confident:
        t = time.perf_counter()
        fit = refine_estimate(r, q, intensity, sigma, **res)
        row.update(hybrid=fit.model_name, refine_seconds=time.perf_counter() - t)
        if fit.model_name != true_shape:
            reference = fit_model(true_shape, q, intensity, sigma, truth, **res)
            row["delta_bic"] = reference.bic - fit.bic
    return row


def _one_independent(c: dict) -> dict:
    """``_one`` for a curve of the independent generator, read as ``saxsim infer`` reads a
    file (``analysis.analyse_curve``: q unit, missing dI, dq or slit length)."""
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    import foreign_curves as fc
    import torch

    from sasview_saxsim_plugin.inverse.analysis import analyse_curve, fit_inputs
    from sasview_saxsim_plugin.inverse.families import family
    from sasview_saxsim_plugin.inverse.refine import fit_model, refine_estimate
    from sasview_saxsim_plugin.scattering.curve import Curve1D

    torch.set_num_threads(1)
    unit = 0.1 if c["q_unit"] == "1/nm" else 1.0
    columns = {} if c["slit_length"] is None else {"slit_length": c["slit_length"] * unit}
    curve = Curve1D(c["q"] * unit, c["I"], c["dI"],
                    None if c["dq"] is None else c["dq"] * unit, columns=columns)
    first = analyse_curve(curve)
    r = first.estimate
    row = {"true_shape": c["family"], "network": r.model_name, "confident": r.confident,
           "probability": r.probabilities[r.model_name], "q_min": float(curve.q[0]),
           "instrument": c["instrument"], "hybrid": r.model_name, "refine_seconds": 0.0}
    if not r.confident:
        t = time.perf_counter()
        q, i, sigma, res = fit_inputs(curve)
        refined = refine_estimate(r, q, i, sigma, **res)  # the estimate is not run twice
        row.update(hybrid=refined.model_name, refine_seconds=time.perf_counter() - t)
        if refined.model_name != c["family"]:
            truth = fc.truth_in_catalogue_terms(c["family"], c["truth"])
            for p in family(c["family"]).parameters:  # no distribution drawn: pd 0
                truth.setdefault(p.name, 0.0)
            reference = fit_model(c["family"], q, i, sigma, truth, **res)
            row["delta_bic"] = reference.bic - refined.bic
    return row


def summarise(rows: list[dict]) -> tuple[dict, str]:
    """The figures of the table, and the table as text."""
    n = len(rows)
    net = np.array([r["network"] == r["true_shape"] for r in rows])
    hyb = np.array([r["hybrid"] == r["true_shape"] for r in rows])
    conf = np.array([r["confident"] for r in rows])
    refine_s = np.array([r["refine_seconds"] for r in rows if not r["confident"]])
    delta = np.array([r["delta_bic"] for r in rows if "delta_bic" in r])
    wrong_unflagged = int(np.sum(~hyb & conf))
    k = len(FAMILY_NAMES)
    confusion = np.zeros((k, k), dtype=int)
    for r in rows:
        confusion[FAMILY_NAMES.index(r["true_shape"]), FAMILY_NAMES.index(r["hybrid"])] += 1
    out = {"curves": n, "network_accuracy": float(net.mean()),
           "confident_fraction": float(conf.mean()),
           "hybrid_accuracy": float(hyb.mean()), "hybrid_confusion": confusion.tolist(),
           "refined_curves": int((~conf).sum()),
           "refine_seconds_median": float(np.median(refine_s)) if refine_s.size else None,
           "refine_seconds_mean": float(refine_s.mean()) if refine_s.size else None,
           "errors_confident": wrong_unflagged,
           "errors_refined": int(delta.size),
           "errors_wrong_fits_at_least_as_well": int(np.sum(delta >= 0)),
           "errors_weak_evidence": int(np.sum((delta < 0) & (delta > -6))),
           "errors_strong_evidence": int(np.sum(delta <= -6))}
    lines = [f"{'curves':>7s} {'network':>8s} {'confident':>9s} {'net+refine':>10s} "
             f"{'refined':>7s} {'refine s (median/mean)':>22s}",
             f"{n:7d} {100 * net.mean():7.2f}% {100 * conf.mean():8.1f}% "
             f"{100 * hyb.mean():9.2f}% {(~conf).sum():7d} "
             f"{out['refine_seconds_median'] or 0:10.2f} / {out['refine_seconds_mean'] or 0:.2f}",
             f"confusion after refine (rows true, columns chosen): {list(FAMILY_NAMES)}"]
    lines += [f"    {row.tolist()}" for row in confusion]
    lines.append(f"remaining errors: {wrong_unflagged} among confident curves; of the "
                 f"{delta.size} refined: wrong family fits at least as well "
                 f"{out['errors_wrong_fits_at_least_as_well']}, true family better by "
                 f"ΔBIC < 6 {out['errors_weak_evidence']}, by ≥ 6 "
                 f"{out['errors_strong_evidence']}")
    return out, "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--curves", type=int, default=600, help="a fixed random subset (max 6000)")
    ap.add_argument("--workers", type=int, default=os.cpu_count())
    ap.add_argument("--json", metavar="FILE", help="also save the summary and rows as JSON")
    ap.add_argument("--generator", choices=("own", "independent"), default="own")
    ap.add_argument("--seed", type=int, nargs="+", default=[7],
                    help="independent generator: the seeds of inverse_families.py's cache")
    ap.add_argument("--per-seed", type=int, default=50,
                    help="independent generator: curves per family in each seed's cache")
    a = ap.parse_args(argv)
    if a.generator == "own":
        jobs, one, label = stored_curves("test", 2027, a.curves), _one, "held-out test curves"
    else:
        from inverse_families import foreign_set

        jobs = [c for seed in a.seed for c in foreign_set(a.per_seed, 100, seed, a.workers)
                if c["family"] is not None]
        jobs = [jobs[i] for i in np.random.default_rng(2027).permutation(len(jobs))[:a.curves]]
        one, label = _one_independent, "independent generator"
    rows = map_with_progress(one, jobs, a.workers, chunksize=4)
    summary, text = summarise(rows)
    publish(f"Network + refine when not confident ({label})", text,
            worker_machine(a.workers), {"summary": summary, "rows": rows}, a.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
