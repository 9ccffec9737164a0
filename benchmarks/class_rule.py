"""Which class rule for ``--refine``? Chosen on the ``select`` set, never on a test set.

    python benchmarks/class_rule.py [--set select] [--curves 2000] [--json docs/class_rule.json]

``refine_estimate`` fits each shape the network gives at least ``ALTERNATIVE_PROBABILITY``
(5 %) and keeps the lowest BIC. Here every shape with at least ``--min-probability`` (0.5 %)
is fitted the same way (``refine.refine_shape``), once per curve, and each rule is then scored
on the same fits:

  bic-T       fit the shapes with p ≥ T, keep the lowest BIC (T = 5 %: shipped)
  prior-T-W   fit the shapes with p ≥ T, keep the highest W·ln p − BIC/2 (the network's class
              probability as prior odds, W its weight; W = 1 is Bayes' rule if the network's p
              held no information from the same data, which it does, so W is a fitted weight)
  pen-L-W     as prior-5%-W with χ² + L·k instead of BIC's χ² + k·ln n (L = 2: AIC)
  laplace-T-W as prior-T-W with the Laplace log evidence under the broad priors
              (``FitResult.log_evidence``) instead of −BIC/2
  sampled-T-W as prior-T-W with the importance-sampled log evidence under the broad priors
              (``refine.sampled_log_evidence``: the network's flow and a Student-t at each
              fit's optimum as proposal); W = 0 is Bayes' rule with nothing fitted to data

Success as in inverse_seeding.py (right class, radius/length within 2 %, φ within 0.02); time
per curve = the estimate + the fits a rule needs (+ the sampled evidence of each candidate
where a sampled rule has two or more). Prints a table; --json keeps the rows, so new
rules can be scored without refitting (--rows).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from types import SimpleNamespace

import numpy as np

from sasview_saxsim_plugin.inverse.catalogue import entry
from sasview_saxsim_plugin.inverse.refine import choose_fit

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from inverse_seeding import (  # noqa: E402
    map_with_progress,
    stored_curves,
    success,
    worker_curve,
)

THRESHOLDS = (0.005, 0.01, 0.02, 0.05)
WEIGHTS = (0.0, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0)
PENALTIES = (0.0, 2.0, 4.0)


def _one(args) -> dict:
    min_probability, q, intensity, sigma, dq, true_shape, truth = args
    import importlib

    from sasview_saxsim_plugin.inverse.evidence import SmearedCurve
    from sasview_saxsim_plugin.inverse.refine import (
        refine_shape,
        sampled_log_evidence,
        shape_posteriors,
    )

    estimate_module = importlib.import_module("sasview_saxsim_plugin.inverse.estimate")
    estimate_module.ALTERNATIVE_PROBABILITY = min_probability
    q, intensity, sigma, dq = worker_curve(q, intensity, sigma, dq)
    t0 = time.perf_counter()
    result = estimate_module.estimate(q, intensity, sigma)
    row = {"true_shape": true_shape, "truth": truth, "probabilities": result.probabilities,
           "confident": result.confident, "points": int(q.size),
           "seconds_estimate": time.perf_counter() - t0, "fits": {}}
    fits = []
    for shape, (summary, samples) in shape_posteriors(result).items():
        t = time.perf_counter()
        fit = refine_shape(shape, summary, samples, q, intensity, sigma, dq)
        fits.append(fit)
        row["fits"][shape] = {"bic": fit.bic, "reduced_chi2": fit.reduced_chi2,
                              "log_evidence": fit.log_evidence,
                              "seconds": time.perf_counter() - t,
                              "ok": success(fit.shape, fit.parameters, true_shape, truth)}
    curves = SmearedCurve(q, dq)
    for fit in fits if len(fits) > 1 else []:  # sampled evidence where there is a choice
        t = time.perf_counter()
        value = sampled_log_evidence(fit, result, q, intensity, sigma, dq, curves=curves)
        row["fits"][fit.shape].update(sampled_log_evidence=value,
                                      seconds_evidence=time.perf_counter() - t)
    return row


def choose(row: dict, threshold: float, weight: float, penalty: float | None = None,
           criterion: str = "bic") -> str | None:
    """The shape a rule keeps: ``refine.choose_fit`` (weight·ln p − BIC/2, or with χ² +
    penalty·k instead of the BIC, or weight·ln p + Laplace ln Z) among the fitted shapes with
    p ≥ threshold (the top shape always)."""
    probs = row["probabilities"]
    top = max(probs, key=probs.get)
    candidates = []
    for shape, fit in row["fits"].items():
        if shape != top and probs[shape] < threshold:
            continue
        bic = fit["bic"]
        if penalty is not None:
            k = len(entry(shape).parameters) + 2  # with scale and background
            bic += k * (penalty - np.log(row["points"]))
        candidates.append(SimpleNamespace(
            shape=shape, bic=bic, log_evidence=fit.get("log_evidence", np.nan),
            sampled_log_evidence=fit.get("sampled_log_evidence", np.nan)))
    return choose_fit(candidates, probs, weight, criterion).shape


def score(rows: list[dict], threshold: float, weight: float, penalty: float | None = None,
          criterion: str = "bic") -> dict:
    ok = acc = 0
    seconds = []
    for row in rows:
        shape = choose(row, threshold, weight, penalty, criterion)
        ok += row["fits"][shape]["ok"]
        acc += shape == row["true_shape"]
        probs = row["probabilities"]
        top = max(probs, key=probs.get)
        fitted = [f for s, f in row["fits"].items() if s == top or probs[s] >= threshold]
        evidence = (sum(f.get("seconds_evidence", 0.0) for f in fitted)
                    if criterion == "sampled" and len(fitted) > 1 else 0.0)
        seconds.append(row["seconds_estimate"] + sum(f["seconds"] for f in fitted) + evidence)
    n = len(rows)
    return {"success": ok / n, "class_accuracy": acc / n, "seconds_mean": float(np.mean(seconds)),
            "seconds_median": float(np.median(seconds))}


def summarise(rows: list[dict]) -> list[dict]:
    n = len(rows)
    se = np.sqrt(0.8 * 0.2 / n)
    print(f"\n{n} curves (binomial s.e. of a success rate near 80 %: ±{100 * se:.1f} points; "
          "differences between rules on the same curves are paired, so smaller)")
    print(f"{'rule':16s} {'success':>8s} {'class':>7s} {'mean s':>7s} {'median s':>9s}")
    table = []
    for t in THRESHOLDS:
        for w in WEIGHTS:
            r = score(rows, t, w)
            name = f"bic-{t:g}" if w == 0 else f"prior-{t:g}-{w:g}"
            table.append({"rule": name, "threshold": t, "weight": w, **r})
            print(f"{name:16s} {100 * r['success']:7.2f}% {100 * r['class_accuracy']:6.2f}% "
                  f"{r['seconds_mean']:7.2f} {r['seconds_median']:9.2f}")
    for pen in PENALTIES:
        for w in (0.0, 1.0):
            r = score(rows, 0.05, w, pen)
            name = f"pen-{pen:g}-{w:g}"
            table.append({"rule": name, "threshold": 0.05, "weight": w, "penalty": pen, **r})
            print(f"{name:16s} {100 * r['success']:7.2f}% {100 * r['class_accuracy']:6.2f}% "
                  f"{r['seconds_mean']:7.2f} {r['seconds_median']:9.2f}")
    for criterion, key, present in (("laplace", "log_evidence", all),
                                    ("sampled", "sampled_log_evidence", any)):
        if not present(key in f for r in rows for f in r["fits"].values()):
            continue
        for t in THRESHOLDS:
            for w in WEIGHTS:
                r = score(rows, t, w, criterion=criterion)
                name = f"{criterion}-{t:g}-{w:g}"
                table.append({"rule": name, "threshold": t, "weight": w,
                              "criterion": criterion, **r})
                print(f"{name:16s} {100 * r['success']:7.2f}% "
                      f"{100 * r['class_accuracy']:6.2f}% {r['seconds_mean']:7.2f} "
                      f"{r['seconds_median']:9.2f}")
    never = sum(1 for r in rows if r["true_shape"] not in r["fits"])
    print(f"true shape below {min(THRESHOLDS):g} (no rule can pick it): {never} curves")
    return table


def append_table(table: list[dict], set_name: str, curves: int, workers: int) -> None:
    """The BIC rules and the half- and full-weight prior rules as a markdown table in
    docs/benchmarks.md, with the machine and command."""
    import platform

    import torch
    from _report import append_section

    lines = ["| rule | success | class accuracy | s/curve mean | median |", "|---|---|---|---|---|"]
    for r in table:
        if r["weight"] in (0.0, 0.5, 1.0):
            lines.append(f"| {r['rule']} | {100 * r['success']:.2f} % | "
                         f"{100 * r['class_accuracy']:.2f} % | {r['seconds_mean']:.2f} | "
                         f"{r['seconds_median']:.2f} |")
    machine = (f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
               f"torch {torch.__version__}, {workers} worker processes of one thread")
    append_section(f"--refine class rules on {curves} '{set_name}' curves (not a test set)",
                   "\n".join(lines), machine)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--set", default="select", help="a standard set with curves (not a test set)")
    ap.add_argument("--curves", type=int, default=2000)
    ap.add_argument("--min-probability", type=float, default=min(THRESHOLDS))
    ap.add_argument("--workers", type=int, default=os.cpu_count())
    ap.add_argument("--json", default="docs/class_rule.json")
    ap.add_argument("--rows", help="score the rows of an earlier --json run instead of fitting")
    ap.add_argument("--no-append", action="store_true",
                    help="do not append the table to docs/benchmarks.md")
    a = ap.parse_args(argv)
    if a.rows:
        with open(a.rows) as fh:
            stored = json.load(fh)
        table = summarise(stored["rows"])
        if not a.no_append:
            append_table(table, stored["set"], stored["curves"], a.workers)
        return 0
    if a.set.startswith("test"):
        ap.error("choose the class rule on select, calib or val, never on a test set")
    jobs = [(a.min_probability, *curve) for curve in stored_curves(a.set, 8, a.curves)]
    rows = map_with_progress(_one, jobs, a.workers, chunksize=2, every=100)
    table = summarise(rows)
    if not a.no_append:
        append_table(table, a.set, len(rows), a.workers)
    with open(a.json, "w") as fh:
        json.dump({"set": a.set, "curves": len(rows), "table": table, "rows": rows}, fh,
                  default=float)
    return 0


if __name__ == "__main__":
    sys.exit(main())
