"""Time of ``estimate`` per curve on this machine (docs/validation.md, "Speed per curve").

    python benchmarks/inverse_speed.py [--curves 150] [--weights FILE] [--json FILE]

Curves from the held-out "test" set of the family sets, one at a time (as a user calls it),
after a warm-up: (a) features + network (class probabilities, 500 posterior samples of the top
family), (b) the full ``estimate`` (dilated copies, the listed families' posteriors and seeds,
the confidence check). Medians, 95th percentiles and maxima. Prints the table (markdown, with the
machine and the command) and writes nothing else unless --json FILE is given (the same
figures and every curve's times).
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time

import numpy as np
import torch
from common import publish  # benchmarks/ is on sys.path

from sasview_saxsim_plugin.inverse import estimate
from sasview_saxsim_plugin.inverse.estimate import load_network
from sasview_saxsim_plugin.inverse.features import clean_curve, featurize
from sasview_saxsim_plugin.inverse.training.dataset import load_set


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--curves", type=int, default=150)
    ap.add_argument("--weights", help="weight file (default: the shipped network)")
    ap.add_argument("--json", metavar="FILE", help="also save the times as JSON")
    a = ap.parse_args(argv)
    data = load_set("test")
    order = np.random.default_rng(1).permutation(len(data["family"]))[:a.curves]
    network = load_network(a.weights)
    curves = []
    for i in order:
        q, intensity, sigma, _ = data["curves"][i].astype(float)
        ok = np.isfinite(q)
        curves.append((q[ok], intensity[ok], sigma[ok]))
    estimate(*curves[0], weights=a.weights)  # warm-up: kernels, weights
    net, full = [], []
    for q, intensity, sigma in curves:
        t = time.perf_counter()
        qc, ic, sc, _ = clean_curve(q, intensity, sigma)
        x, _ = featurize(qc, ic, sc)
        code = network.encode(x[None])
        top = network.class_probabilities(code).argmax(1)
        network.posterior(code, top, 500)
        net.append(time.perf_counter() - t)
        t = time.perf_counter()
        estimate(q, intensity, sigma, weights=a.weights)
        full.append(time.perf_counter() - t)
    net, full = 1e3 * np.array(net), 1e3 * np.array(full)
    machine = (f"{platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}, "
               f"{torch.get_num_threads()} threads")
    rows = [("features + network (500 samples)", net), ("estimate() incl. confidence check", full)]
    lines = ["| step | median (ms) | p95 (ms) | max (ms) |", "|---|---|---|---|"]
    raw = {"machine": machine, "weights": a.weights, "curves": len(curves), "steps": {}}
    for label, v in rows:
        lines.append(f"| {label} | {np.median(v):.1f} | {np.percentile(v, 95):.1f} | "
                     f"{v.max():.1f} |")
        raw["steps"][label] = {"median_ms": float(np.median(v)),
                               "p95_ms": float(np.percentile(v, 95)),
                               "max_ms": float(v.max()), "ms": v.tolist()}
    publish("estimate() time per curve", "\n".join(lines), machine, raw, a.json,
            note=f", {len(curves)} held-out test curves one at a time")
    return 0


if __name__ == "__main__":
    sys.exit(main())
