"""Which restart rule for ``refine_estimate``? Compared on the ``calib`` set, never on a test set.

    python benchmarks/refine_restarts.py [--set calib] [--curves 300] [--policies shipped ...]

Each curve is estimated once; then every policy refines the same estimate (the local fits of
``saxsim infer --refine``) and differs only in what it does after a fit whose reduced χ² is
poor (``refine.chi2_is_poor``):

  shipped      ``refine_estimate`` as it ships (up to ``RETRIES`` posterior draws while poor)
  screened-K   the K best of 24 posterior samples by the cheap misfit of ``estimate``'s check,
               only while that misfit beats the one of the fit reached (the rule shipped
               before 2026-12-01, with K = 2)
  draws-K      K posterior draws spread over the sample array
  quantiles    the median with length, then radius, moved to its 16th and 84th percentile
  always-K     K posterior draws after every fit, poor or not
  boxed        shipped, then, where the fit ended outside the posterior's 1-99 % range of
               radius or length, a fit from the median bounded to that range (lower BIC kept)
  truth        the true shape from the true parameters (a ceiling, not a method)

Success as in inverse_seeding.py (right class, radius/length within 2 %, φ within 0.02). For
each failure of a policy: does the truth-start fit fail too, or is its BIC lower (ΔBIC < -6:
a local minimum the policy missed)? Prints a table; --json keeps the rows.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np

from sasview_saxsim_plugin.inverse.catalogue import PARAMETER_NAMES, entry

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from inverse_seeding import (  # noqa: E402
    map_with_progress,
    stored_curves,
    success,
    worker_curve,
)


def _starts(policy: str, shape: str, summary: dict, samples: np.ndarray, q, intensity, sigma):
    from sasview_saxsim_plugin.inverse import refine as rf
    from sasview_saxsim_plugin.inverse.estimate import estimate_misfit

    names = entry(shape).parameters
    median = {n: summary[n][0] for n in names}
    if policy == "quantiles":
        out = []
        for n in ("length", "radius"):
            if n in names:
                for j in (1, 2):
                    out.append({**median, n: summary[n][j]})
        return out
    k = int(policy.split("-")[1])
    if policy.startswith("screened"):
        candidates = rf.posterior_starts(shape, samples[:24])
        misfit = [estimate_misfit(shape, c, q, intensity, sigma)[2] for c in candidates]
        return [(misfit[i], candidates[i]) for i in np.argsort(misfit, kind="stable")[:k]]
    rows = samples[np.linspace(0, len(samples) - 1, k + 2).astype(int)[1:-1]]
    return rf.posterior_starts(shape, rows)


def posterior_box(shape: str, samples, low: float = 1.0, high: float = 99.0) -> dict | None:
    """name -> (p1, p99) of the posterior samples for radius and length (Å)."""
    if samples is None:
        return None
    return {n: tuple(np.percentile(samples[:, PARAMETER_NAMES.index(n)], [low, high]))
            for n in ("radius", "length") if n in entry(shape).parameters}


def refine_with(policy: str, result, q, intensity, sigma, dq):
    """``refine_estimate`` with another restart rule (see the module docstring)."""
    from sasview_saxsim_plugin.inverse import refine as rf
    from sasview_saxsim_plugin.inverse.estimate import estimate_misfit

    if policy == "shipped":
        return rf.refine_estimate(result, q, intensity, sigma, dq)
    if policy == "boxed":
        fits = []
        for shape, (summary, samples) in rf.shape_posteriors(result).items():
            best = rf.refine_shape(shape, summary, samples, q, intensity, sigma, dq)
            box = posterior_box(shape, samples)
            if box is not None and any(not lo <= best.parameters[n] <= hi
                                       for n, (lo, hi) in box.items()):
                median = {n: summary[n][0] for n in entry(shape).parameters}
                inside = rf.fit_model(shape, q, intensity, sigma, median, dq, box=box)
                if inside.bic < best.bic:
                    best = inside
            fits.append(best)
        return rf.choose_refined(fits, result, q, intensity, sigma, dq)
    always = policy.startswith("always")
    fits = []
    for shape, (summary, samples) in rf.shape_posteriors(result).items():
        median = {n: summary[n][0] for n in entry(shape).parameters}
        best = rf.fit_model(shape, q, intensity, sigma, median, dq)
        if always or rf.chi2_is_poor(best, q.size):
            for start in _starts(policy, shape, summary, samples, q, intensity, sigma):
                if policy.startswith("screened"):
                    screen, start = start
                    if screen >= estimate_misfit(shape, best.parameters, q, intensity, sigma)[2]:
                        break  # the screen sees no better basin than the one reached
                again = rf.fit_model(shape, q, intensity, sigma, start, dq)
                if again.bic < best.bic:
                    best = again
                if not always and not rf.chi2_is_poor(best, q.size):
                    break
        fits.append(best)
    return rf.choose_refined(fits, result, q, intensity, sigma, dq)


def _one(args) -> dict:
    policies, q, intensity, sigma, dq, true_shape, truth = args
    from sasview_saxsim_plugin.inverse import estimate
    from sasview_saxsim_plugin.inverse.refine import fit_model

    q, intensity, sigma, dq = worker_curve(q, intensity, sigma, dq)
    t0 = time.perf_counter()
    result = estimate(q, intensity, sigma)
    seconds_estimate = time.perf_counter() - t0
    row = {"true_shape": true_shape, "truth": truth, "policies": {}}
    for policy in policies:
        t = time.perf_counter()
        if policy == "truth":
            fit = fit_model(true_shape, q, intensity, sigma, truth, dq)
        else:
            fit = refine_with(policy, result, q, intensity, sigma, dq)
        spent = time.perf_counter() - t + (0.0 if policy == "truth" else seconds_estimate)
        row["policies"][policy] = {"ok": success(fit.shape, fit.parameters, true_shape, truth),
                                   "shape": fit.shape, "bic": fit.bic, "seconds": spent}
    return row


def summarise(rows: list[dict], policies: list[str]) -> None:
    print(f"\n{'policy':12s} {'success':>8s} {'class':>7s} {'median s':>9s} {'mean s':>7s}   "
          "failures: truth fails too / policy >= truth / weak / strong (ΔBIC)")
    for p in policies:
        res = [r["policies"][p] for r in rows]
        ok = np.mean([x["ok"] for x in res])
        acc = np.mean([x["shape"] == r["true_shape"] for x, r in zip(res, rows, strict=True)])
        sec = np.array([x["seconds"] for x in res])
        split = ""
        if "truth" in policies and p != "truth":
            counts = [0, 0, 0, 0]
            for x, r in zip(res, rows, strict=True):
                ref = r["policies"]["truth"]
                if x["ok"]:
                    continue
                delta = ref["bic"] - x["bic"]
                counts[0 if not ref["ok"] else 1 if delta >= 0 else 2 if delta > -6 else 3] += 1
            split = " / ".join(map(str, counts))
        print(f"{p:12s} {100 * ok:7.1f}% {100 * acc:6.1f}% {np.median(sec):9.2f} "
              f"{sec.mean():7.2f}   {split}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--set", default="calib", help="a standard set with curves (not a test set)")
    ap.add_argument("--curves", type=int, default=300)
    ap.add_argument("--policies", nargs="+",
                    default=["shipped", "screened-2", "draws-8", "quantiles", "truth"])
    ap.add_argument("--workers", type=int, default=os.cpu_count())
    ap.add_argument("--json")
    a = ap.parse_args(argv)
    if a.set.startswith("test"):
        ap.error("choose the restart rule on calib or val, never on a test set")
    jobs = [(a.policies, *curve) for curve in stored_curves(a.set, 7, a.curves)]
    rows = map_with_progress(_one, jobs, a.workers, chunksize=2)
    summarise(rows, a.policies)
    if a.json:
        with open(a.json, "w") as fh:
            json.dump(rows, fh, default=float)
    return 0


if __name__ == "__main__":
    sys.exit(main())
