"""How noisy is the importance-sampled evidence? Two independent draws per fit, on ``select``.

    python benchmarks/evidence_noise.py [--curves 300] [--samples 64] [--workers 2]

For every curve of a fixed shuffle of the ``select`` set (never a test set) where
``--refine`` has a choice to make (two shapes or more with p ≥ 5 %), each shape is fitted
once (``refine.refine_shape``, as shipped) and its ln p(data | shape)
(``refine.sampled_log_evidence``) is estimated twice, with proposal seeds 0 and 1. ln Z is a
property of the data and the shape, so the spread of the two estimates is the estimator's
own: the class rule compares ln Z between shapes, where differences of ~1 decide. Prints
the distribution of |Δ ln Z| and how often the two draws would pick different shapes by
ln Z alone; writes --json.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from inverse_seeding import map_with_progress, stored_curves, worker_curve  # noqa: E402


def _one(args) -> dict:
    n_samples, q, intensity, sigma, dq, true_shape, _truth = args
    from sasview_saxsim_plugin.inverse.estimate import estimate
    from sasview_saxsim_plugin.inverse.evidence import SmearedCurve
    from sasview_saxsim_plugin.inverse.refine import (
        refine_shape,
        sampled_log_evidence,
        shape_posteriors,
    )

    q, intensity, sigma, dq = worker_curve(q, intensity, sigma, dq)
    result = estimate(q, intensity, sigma)
    posteriors = shape_posteriors(result)
    row = {"true_shape": true_shape, "shapes": {}}
    if len(posteriors) < 2:
        return row
    curves = SmearedCurve(q, dq)
    for shape, (summary, samples) in posteriors.items():
        fit = refine_shape(shape, summary, samples, q, intensity, sigma, dq)
        row["shapes"][shape] = [sampled_log_evidence(fit, result, q, intensity, sigma, dq,
                                                     n_samples=n_samples, seed=seed,
                                                     curves=curves) for seed in (0, 1)]
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--curves", type=int, default=300)
    ap.add_argument("--samples", type=int, default=64)
    ap.add_argument("--workers", type=int, default=os.cpu_count())
    ap.add_argument("--json", default=None)
    a = ap.parse_args()
    jobs = [(a.samples, *c) for c in stored_curves("select", 8, a.curves)]
    rows = map_with_progress(_one, jobs, a.workers)
    pairs = np.array([v for r in rows for v in r["shapes"].values()], dtype=float)
    finite = np.all(np.isfinite(pairs), axis=1) if pairs.size else np.array([], bool)
    delta = np.abs(pairs[finite, 0] - pairs[finite, 1])
    flips = 0
    choices = [r for r in rows if len(r["shapes"]) > 1]
    for r in choices:
        values = np.array(list(r["shapes"].values()), dtype=float)
        flips += int(np.argmax(values[:, 0]) != np.argmax(values[:, 1]))
    print(f"\n{len(choices)} curves with a choice, {int(finite.sum())} fits "
          f"({int((~finite).sum())} with a non-finite estimate), {a.samples} draws each")
    if delta.size:
        p50, p90, p99 = np.percentile(delta, [50, 90, 99])
        print(f"|Δ ln Z| between two draws: median {p50:.3f}, p90 {p90:.2f}, p99 {p99:.1f}; "
              f"> 1: {100 * np.mean(delta > 1):.1f} %, > 3: {100 * np.mean(delta > 3):.1f} %")
    print(f"the two draws pick different shapes by ln Z alone on {flips} of {len(choices)} curves")
    if a.json:
        with open(a.json, "w") as fh:
            json.dump({"curves": a.curves, "samples": a.samples, "rows": rows}, fh, indent=1)


if __name__ == "__main__":
    main()
