"""Does the network's input (128 log-q bin means) keep the class information of the raw curve?

    python benchmarks/binning_information.py [--workers 2] [--json docs/binning_information.json]

For every curve of the held-out broad test set ("test-broad") that the shipped network
misclassifies (an analysis of its errors; nothing is trained, tuned or calibrated here): fit
the true shape from the true parameters and the predicted shape from the network's posterior
median, once to the raw points and once to the bin means the network reads (the same points,
0.002-0.6 1/Å, I > 0, averaged into ``features.NETWORK_Q_EDGES``; the model is averaged over
the same points, σ of each mean is sqrt(Σσ²)/n). One engine for both: ``refine.fit_model``
(``--refine``'s least squares, scale and background included, the model smeared with the
data's dq), given the averaging matrix for the binned form.

ΔBIC = BIC(true) - BIC(predicted) on each form of the data: < -6 is strong evidence for the
true class (Kass-Raftery). If the binned data keep the raw curve's strong evidence, binning
loses nothing and the encoder is what limits the network; if they do not, the features are.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

import numpy as np

from sasview_saxsim_plugin.inverse.catalogue import SHAPE_NAMES
from sasview_saxsim_plugin.inverse.dataset import load_set
from sasview_saxsim_plugin.inverse.features import N_BINS, NETWORK_Q_EDGES
from sasview_saxsim_plugin.inverse.parameters import as_dict
from sasview_saxsim_plugin.inverse.refine import fit_model

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from inverse_seeding import map_with_progress  # noqa: E402

STRONG = -6.0


def bin_operator(q: np.ndarray) -> np.ndarray:
    """(bins with points, points) matrix averaging the points of each network bin."""
    idx = np.searchsorted(NETWORK_Q_EDGES, q, side="right") - 1
    rows = [np.flatnonzero(idx == b) for b in range(N_BINS)]
    rows = [r for r in rows if r.size]
    op = np.zeros((len(rows), q.size))
    for k, r in enumerate(rows):
        op[k, r] = 1.0 / r.size
    return op


def _one(args) -> dict:
    q, intensity, sigma, dq, true_shape, truth, predicted, start = args
    from inverse_seeding import worker_curve

    q, intensity, sigma, dq = worker_curve(q, intensity, sigma, dq)
    inside = (q >= NETWORK_Q_EDGES[0]) & (q <= NETWORK_Q_EDGES[-1])
    q, intensity, sigma, dq = q[inside], intensity[inside], sigma[inside], dq[inside]
    row = {"true_shape": true_shape, "predicted": predicted, "points": int(q.size)}
    op = bin_operator(q)
    for form, average in (("raw", None), ("binned", op)):
        row[f"{form}_delta_bic"] = (
            fit_model(true_shape, q, intensity, sigma, truth, dq, average=average).bic
            - fit_model(predicted, q, intensity, sigma, start, dq, average=average).bic)
    row["raw_n"], row["binned_n"] = int(q.size), int(op.shape[0])
    return row


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--workers", type=int, default=os.cpu_count())
    ap.add_argument("--json", default="docs/binning_information.json")
    a = ap.parse_args(argv)
    from sasview_saxsim_plugin.inverse.estimate import load_model, summarise

    data = load_set("test-broad")
    probs, samples = load_model().predict(data["features"], 300)
    wrong = np.flatnonzero(probs.argmax(1) != data["shape"])
    jobs = []
    for i in wrong:
        q, intensity, sigma, dq = data["curves"][i].astype(float)
        truth = as_dict(data["parameters"][i])
        predicted = SHAPE_NAMES[int(probs[i].argmax())]
        start = {k: v[0] for k, v in summarise(predicted, samples[i]).items()}
        jobs.append((q, intensity, sigma, dq, SHAPE_NAMES[data["shape"][i]], truth, predicted,
                     start))
    rows = map_with_progress(_one, jobs, a.workers)
    raw = np.array([r["raw_delta_bic"] for r in rows])
    binned = np.array([r["binned_delta_bic"] for r in rows])
    summary = {
        "misclassified": len(rows),
        "raw_strong_for_truth": int(np.sum(raw < STRONG)),
        "binned_strong_for_truth": int(np.sum(binned < STRONG)),
        "strong_raw_kept_binned": int(np.sum((raw < STRONG) & (binned < STRONG))),
        "raw_predicted_at_least_as_good": int(np.sum(raw >= 0)),
        "binned_predicted_at_least_as_good": int(np.sum(binned >= 0)),
        "median_points": float(np.median([r["points"] for r in rows])),
        "median_bins": float(np.median([r["binned_n"] for r in rows])),
        "median_delta_bic_raw": float(np.median(raw)),
        "median_delta_bic_binned": float(np.median(binned)),
    }
    print(f"{len(rows)} misclassified test-broad curves (median {summary['median_points']:.0f} "
          f"points, {summary['median_bins']:.0f} bins)")
    print(f"{'':10s} {'ΔBIC<-6 (truth strong)':>24s} {'ΔBIC>=0 (wrong fits as well)':>30s}"
          f" {'median ΔBIC':>12s}")
    for form, v in (("raw", raw), ("binned", binned)):
        print(f"{form:10s} {int(np.sum(v < STRONG)):24d} {int(np.sum(v >= 0)):30d} "
              f"{np.median(v):12.1f}")
    print(f"strong on raw and still strong binned: {summary['strong_raw_kept_binned']}")
    with open(a.json, "w") as f:
        json.dump({"summary": summary, "rows": rows}, f, indent=1, default=float)
    return 0


if __name__ == "__main__":
    sys.exit(main())
