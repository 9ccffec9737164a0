"""Time of ``estimate`` per curve on this machine (docs/inverse.md, "Speed").

    python benchmarks/inverse_speed.py [--curves 150]

Curves from the held-out "test-broad" set, one at a time (as a user calls it), after a warm-up:
(a) features + network (500 posterior samples), (b) the full ``estimate`` including the
confidence check. Medians and 95th percentiles; appended to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import sys
import time

import numpy as np
import torch

from sasview_saxsim_plugin.inverse import estimate
from sasview_saxsim_plugin.inverse.dataset import load_set
from sasview_saxsim_plugin.inverse.estimate import load_model
from sasview_saxsim_plugin.inverse.features import clean_curve, featurize


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--curves", type=int, default=150)
    ap.add_argument("--no-append", action="store_true")
    ap.add_argument("--weights", help="weight file (default: the shipped network)")
    a = ap.parse_args(argv)
    data = load_set("test-broad")
    order = np.random.default_rng(1).permutation(len(data["shape"]))[:a.curves]
    model = load_model(a.weights)
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
        model.predict(x, 500)
        net.append(time.perf_counter() - t)
        t = time.perf_counter()
        estimate(q, intensity, sigma, weights=a.weights)
        full.append(time.perf_counter() - t)
    net, full = 1e3 * np.array(net), 1e3 * np.array(full)
    machine = (f"{platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}, "
               f"{torch.get_num_threads()} threads")
    rows = [("features + network (500 samples)", net), ("estimate() incl. confidence check", full)]
    text = [f"\n### estimate() time per curve ({datetime.date.today()}, {machine})\n",
            f"`python benchmarks/inverse_speed.py{' --weights ' + a.weights if a.weights else ''}`"
            ", held-out broad curves one at a time\n",
            "| step | median (ms) | p95 (ms) | max (ms) |", "|---|---|---|---|"]
    for label, v in rows:
        text.append(f"| {label} | {np.median(v):.1f} | {np.percentile(v, 95):.1f} | "
                    f"{v.max():.1f} |")
    print("\n".join(text))
    if not a.no_append:
        with open("docs/benchmarks.md", "a") as f:
            f.write("\n".join(text) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
