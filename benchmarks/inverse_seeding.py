"""Seeding value of the shape estimate: how often does a least-squares fit reach the truth?

    python benchmarks/inverse_seeding.py --curves 200 [--workers 2]

On held-out broad-prior curves ("test-broad", never trained on), three strategies, each with
the same fitting engine (``inverse.refine.fit_model``: scipy least squares on sasmodels
curves; the cylinder through the sasmodels-equivalent table of ``cylinder_table``):

  (i)   one fit per catalogue model from sasmodels' default parameters, class by lowest BIC;
  (ii)  expert multi-start: a grid pre-scan per model (scale and background solved linearly at
        every grid point), local fits from the 2 best grid points, class by lowest BIC;
  (iii) ``estimate`` + a local fit of the estimated model from the posterior medians, and of
        any other shape given ≥ 5 % probability, lowest BIC (``saxsim infer --refine``).

and, not a method but the ceiling of local fitting on these curves:

  (truth_start) one local fit of the true shape started at the true parameters.

Every fit knows the data's q resolution (dq, as SasView data files carry it).
Success: right class, radius and (cylinder) length within 2 %, (hard sphere) volume fraction
within 0.02. Time per curve is wall time on one core.
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

from sasview_saxsim_plugin.inverse.catalogue import SHAPE_NAMES, entry
from sasview_saxsim_plugin.inverse.dataset import load_set
from sasview_saxsim_plugin.inverse.model_curves import fit_scale_background, model_intensity
from sasview_saxsim_plugin.inverse.parameters import as_dict
from sasview_saxsim_plugin.inverse.refine import fit_model

DEFAULTS = {  # sasmodels' default parameter values of each model
    "sphere": {"radius": 50.0, "radius_pd": 0.0},
    "hardsphere": {"radius": 50.0, "radius_pd": 0.0, "volfraction": 0.2},
    "cylinder": {"radius": 20.0, "radius_pd": 0.0, "length": 400.0, "length_pd": 0.0},
}
GRID = {
    "radius": np.geomspace(10, 500, 10), "radius_pd": [0.05, 0.2],
    "length": np.geomspace(40, 4000, 7), "length_pd": [0.1], "volfraction": [0.05, 0.2, 0.35],
}


def success(shape: str, values: dict, true_shape: str, truth: dict) -> bool:
    if shape != true_shape:
        return False
    if abs(values["radius"] / truth["radius"] - 1) > 0.02:
        return False
    if shape == "cylinder" and abs(values["length"] / truth["length"] - 1) > 0.02:
        return False
    return not (shape == "hardsphere" and abs(values["volfraction"] - truth["volfraction"]) > 0.02)


def best_by_bic(fits):
    return min(fits, key=lambda f: f.bic)


def strategy_defaults(q, intensity, sigma, dq):
    return best_by_bic([fit_model(s, q, intensity, sigma, DEFAULTS[s], dq) for s in SHAPE_NAMES])


def strategy_multistart(q, intensity, sigma, dq, starts: int = 2):
    fits = []
    for s in SHAPE_NAMES:
        names = entry(s).parameters
        scored = []
        for combo in itertools.product(*(GRID[n] for n in names)):
            values = dict(zip(names, combo, strict=True))
            curve = model_intensity(s, q, values, dq)
            scale, bg = fit_scale_background(intensity, curve, sigma)
            scored.append((float(np.sum(((intensity - scale * curve - bg) / sigma) ** 2)), values))
        scored.sort(key=lambda t: t[0])
        fits += [fit_model(s, q, intensity, sigma, v, dq) for _, v in scored[:starts]]
    return best_by_bic(fits)


def strategy_estimate(q, intensity, sigma, dq):
    from sasview_saxsim_plugin.inverse import estimate
    from sasview_saxsim_plugin.inverse.refine import refine_estimate

    return refine_estimate(estimate(q, intensity, sigma), q, intensity, sigma, dq)


def strategy_truth_start(q, intensity, sigma, dq, true_shape, truth):
    return fit_model(true_shape, q, intensity, sigma, truth, dq)


STRATEGIES = {"defaults_bic": strategy_defaults, "multistart": strategy_multistart,
              "estimate_refine": strategy_estimate, "truth_start": strategy_truth_start}
#: strategies that are shown the answer (ceilings, not methods): not run by default
CEILINGS = ("truth_start",)


def worker_curve(q, intensity, sigma, dq):
    """In a worker process: one thread, and the stored curve's usable points (finite q, I > 0)
    as every benchmark of the fits reads them."""
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    import torch

    torch.set_num_threads(1)
    keep = np.isfinite(q) & (intensity > 0)
    return q[keep], intensity[keep], sigma[keep], dq[keep]


def stored_curves(set_name: str, seed: int, n: int) -> list[tuple]:
    """(q 1/Å, I, dI, dq, true shape, truth dict) of the first ``n`` curves of a stored set
    (``keep_curves``) in a fixed shuffle (the sets are stored shape by shape)."""
    data = load_set(set_name)
    out = []
    for i in np.random.default_rng(seed).permutation(len(data["shape"]))[:n]:
        q, intensity, sigma, dq = data["curves"][i].astype(float)
        out.append((q, intensity, sigma, dq, SHAPE_NAMES[data["shape"][i]],
                    as_dict(data["parameters"][i])))
    return out


def map_with_progress(function, jobs: list, workers: int, chunksize: int = 1,
                      every: int = 50) -> list:
    """``function`` over ``jobs`` in ``workers`` processes, in order, with a count on stderr."""
    rows = []
    with ProcessPoolExecutor(workers) as pool:
        for k, row in enumerate(pool.map(function, jobs, chunksize=chunksize)):
            rows.append(row)
            if (k + 1) % every == 0:
                print(f"{k + 1}/{len(jobs)}", file=sys.stderr, flush=True)
    return rows


def _one(args):
    strategy, q, intensity, sigma, dq, true_shape, truth = args
    q, intensity, sigma, dq = worker_curve(q, intensity, sigma, dq)
    t = time.perf_counter()
    extra = (true_shape, truth) if strategy in CEILINGS else ()
    fit = STRATEGIES[strategy](q, intensity, sigma, dq, *extra)
    return {"strategy": strategy, "seconds": time.perf_counter() - t, "shape": fit.shape,
            "true_shape": true_shape, "ok": success(fit.shape, fit.parameters, true_shape, truth),
            "values": fit.parameters, "truth": truth, "bic": fit.bic,
            "reduced_chi2": fit.reduced_chi2}


def summarise(rows: list[dict], strategies) -> dict:
    """Success, class accuracy and time per strategy; prints a table."""
    summary = {}
    print(f"\n{'strategy':18s} {'curves':>6s} {'success':>8s} {'class acc':>9s} {'s/curve':>8s} "
          f"{'mean s':>7s} {'p90 s':>7s}")
    for strategy in strategies:
        r = [x for x in rows if x["strategy"] == strategy]
        if not r:
            continue
        ok = np.mean([x["ok"] for x in r])
        acc = np.mean([x["shape"] == x["true_shape"] for x in r])
        sec = np.array([x["seconds"] for x in r])
        summary[strategy] = {"curves": len(r), "success": float(ok), "class_accuracy": float(acc),
                             "seconds_median": float(np.median(sec)),
                             "seconds_mean": float(sec.mean()),
                             "seconds_p90": float(np.percentile(sec, 90))}
        print(f"{strategy:18s} {len(r):6d} {100 * ok:7.1f}% {100 * acc:8.1f}% "
              f"{np.median(sec):8.2f} {sec.mean():7.2f} {np.percentile(sec, 90):7.2f}")
    return summary


def append_table(summary: dict, workers: int) -> None:
    """The summary as a markdown table in docs/benchmarks.md, with the machine and command."""
    import platform

    import torch
    from _report import append_section

    lines = ["| strategy | curves | success | class accuracy | s/curve median | mean | p90 |",
             "|---|---|---|---|---|---|---|"]
    for name, r in summary.items():
        lines.append(f"| {name} | {r['curves']} | {100 * r['success']:.1f} % | "
                     f"{100 * r['class_accuracy']:.1f} % | {r['seconds_median']:.2f} | "
                     f"{r['seconds_mean']:.2f} | {r['seconds_p90']:.2f} |")
    machine = (f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
               f"torch {torch.__version__}, {workers} worker processes of one thread")
    append_section("Seeding value of the shape estimate (held-out test-broad curves)",
                   "\n".join(lines), machine)


def merge(paths: list[str], out: str) -> int:
    """Combine the rows of several (partial) runs (.json or .rows.jsonl) into one report."""
    rows, seen = [], set()
    for path in paths:
        if path.endswith(".jsonl"):
            part = [json.loads(line) for line in open(path)]
        else:
            part = json.load(open(path))["rows"]
        for row in part:
            key = (row["strategy"], json.dumps(row["truth"], sort_keys=True))
            if key not in seen:
                seen.add(key)
                rows.append(row)
    summary = summarise(rows, list(STRATEGIES))
    with open(out, "w") as f:
        json.dump({"summary": summary, "rows": rows, "merged_from": paths}, f, indent=1,
                  default=float)
    return 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--curves", type=int, default=200)
    ap.add_argument("--start", type=int, default=0,
                    help="skip the first curves of the fixed order (resume a partial run)")
    ap.add_argument("--workers", type=int, default=os.cpu_count())
    ap.add_argument("--strategies", nargs="+", choices=list(STRATEGIES),
                    default=[s for s in STRATEGIES if s not in CEILINGS])
    ap.add_argument("--multistart-curves", type=int,
                    help="fewer curves for the (slow) multi-start strategy (default: --curves)")
    ap.add_argument("--json", default="docs/inverse_seeding.json")
    ap.add_argument("--no-append", action="store_true",
                    help="do not append the table to docs/benchmarks.md")
    ap.add_argument("--merge", nargs="+", metavar="RUN",
                    help="only combine earlier runs' rows (.json / .rows.jsonl) into --json")
    a = ap.parse_args(argv)
    if a.merge:
        return merge(a.merge, a.json)
    curves = stored_curves("test-broad", 2026, a.curves)
    jobs = []
    for strategy in a.strategies:
        n = a.multistart_curves if strategy == "multistart" and a.multistart_curves else a.curves
        jobs += [(strategy, *curve) for curve in curves[a.start:n]]
    rows = []
    partial = open(a.json + ".rows.jsonl", "w")  # survives an interrupted run
    with ProcessPoolExecutor(a.workers) as pool:
        for k, row in enumerate(pool.map(_one, jobs, chunksize=1)):
            rows.append(row)
            partial.write(json.dumps(row, default=float) + "\n")
            partial.flush()
            if (k + 1) % 20 == 0:
                print(f"{k + 1}/{len(jobs)}", file=sys.stderr, flush=True)
    summary = summarise(rows, a.strategies)
    if not a.no_append:
        append_table(summary, a.workers)
    partial.close()
    os.remove(a.json + ".rows.jsonl")
    with open(a.json, "w") as f:
        json.dump({"summary": summary, "rows": rows}, f, indent=1, default=float)
    return 0


if __name__ == "__main__":
    sys.exit(main())
