"""The shipped family network against the thesis' own INN on thesis-like curves.

    python benchmarks/inverse_eval.py [--curves 300] [--json FILE]

The thesis baseline's held-out set "test-thesis" (thesis Table 3.3 priors of sphere, hard-sphere
fluid and cylinder; the section 3.2.1 DFT grid, 10 % multiplicative noise; never trained on by
either network): the thesis INN (``inverse/thesis``, trained on that regime only) classifies
and estimates its three shapes; the shipped network, trained on twelve families and broad
acquisitions, sees the same curves through ``estimate(q, I, dI)`` as a user would, and must
pick among all twelve. Prints (with the machine and the command) accuracy, the radius error and
the 68 % interval coverage of each, and writes nothing else unless --json FILE is given.
The twelve-family figures on both generators: ``inverse_families.py``.
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np
from common import machine_description, publish  # benchmarks/ is on sys.path

from sasview_saxsim_plugin.inverse import estimate
from sasview_saxsim_plugin.inverse.thesis.catalogue import PARAMETER_NAMES, SHAPE_NAMES
from sasview_saxsim_plugin.inverse.thesis.data import load_set
from sasview_saxsim_plugin.inverse.thesis.evaluate import ThesisPredictor, evaluate_predictions
from sasview_saxsim_plugin.inverse.thesis.train import THESIS_WEIGHTS

#: the thesis' shape names as sasmodels families
FAMILY_OF = {"sphere": "sphere", "hardsphere": "sphere@hardsphere", "cylinder": "cylinder"}


def family_network_rows(data: dict, order: np.ndarray) -> dict:
    right, radius_error, inside = [], [], []
    for i in order:
        q, intensity, sigma, _ = data["curves"][i].astype(float)
        ok = np.isfinite(q)
        r = estimate(q[ok], intensity[ok], sigma[ok])
        truth_name = FAMILY_OF[SHAPE_NAMES[data["shape"][i]]]
        right.append(r.model_name == truth_name)
        if r.model_name == truth_name:
            true_radius = data["parameters"][i, PARAMETER_NAMES.index("radius")]
            median, p16, p84 = r.parameters["radius"]
            radius_error.append(abs(median / true_radius - 1))
            inside.append(p16 <= true_radius <= p84)
    return {"curves": len(order), "accuracy": float(np.mean(right)),
            "radius_median_relative_error": float(np.median(radius_error)),
            "radius_coverage_68": float(np.mean(inside))}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--curves", type=int, default=300, help="a fixed random subset")
    ap.add_argument("--json", metavar="FILE", help="also save every figure as JSON")
    a = ap.parse_args(argv)
    data = load_set("test-thesis")
    order = np.random.default_rng(3).permutation(len(data["shape"]))[:a.curves]
    report = {"family network (estimate)": family_network_rows(data, order)}
    if THESIS_WEIGHTS.exists():
        probs, samples = ThesisPredictor(THESIS_WEIGHTS).predict(data["features"][order], 200)
        m = evaluate_predictions(data["shape"][order], data["parameters"][order], probs,
                                 samples)
        k = PARAMETER_NAMES.index("radius")
        errors, coverage = [], []
        for s in SHAPE_NAMES:
            stats = m["per_shape"][s].get("radius")
            if stats:
                errors.append(stats["median_relative_error"])
                coverage.append(stats["coverage_68"])
        report["thesis INN (its own 3 shapes)"] = {
            "curves": m["n"], "accuracy": m["accuracy"],
            "radius_median_relative_error": float(np.mean(errors)),
            "radius_coverage_68": float(np.mean(coverage)), "radius_index": k}
    lines = ["| network | curves | accuracy | radius median error | radius 68 % coverage |",
             "|---|---|---|---|---|"]
    for name, r in report.items():
        lines.append(f"| {name} | {r['curves']} | {100 * r['accuracy']:.1f} % | "
                     f"{100 * r['radius_median_relative_error']:.1f} % | "
                     f"{r['radius_coverage_68']:.2f} |")
    publish("Thesis-like curves (test-thesis): family network and thesis INN",
            "\n".join(lines), machine_description(), report, a.json,
            note=f", {len(order)} curves, {os.cpu_count()} cores")
    return 0


if __name__ == "__main__":
    sys.exit(main())
