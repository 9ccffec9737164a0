"""Which q dilations should ``estimate`` average its class over? Chosen on ``select``, never on
a test set.

    python benchmarks/class_averaging.py [--set select] [--json docs/class_averaging.json]
        [--weights FILE [FILE ...]]

For each stored curve of the set, the features of the curve read at f·q for every factor f of a
configuration (``features.dilated_features``: the same shape with its lengths divided by f),
the shipped network's class probabilities of each copy, and the class of their mean (and of
the mean of ln p); ``--weights`` scores another weight file (a retrained network) the same way,
or several: the mean of their probabilities (an ensemble, each network at its own temperature).
Configurations: ``exp(linspace(-span, span, count))``; the half-bin and
whole-bin rows (bin width ln(300)/128 = 0.0446 in ln q) separate sub-bin placement from
position on the bins. Prints a table and writes --json.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

import numpy as np
import torch

from sasview_saxsim_plugin.inverse.dataset import load_set
from sasview_saxsim_plugin.inverse.estimate import load_model
from sasview_saxsim_plugin.inverse.features import NETWORK_Q_EDGES

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from inverse_eval import dilated_rows  # noqa: E402

BIN = float(np.log(NETWORK_Q_EDGES[1] / NETWORK_Q_EDGES[0]))
#: (span in ln q, count); (0, 1) is one pass of the network
CONFIGURATIONS = ((0.0, 1), (0.05, 9), (0.1, 9), (0.2, 9), (0.2, 17), (0.3, 13), (0.4, 17),
                  (BIN / 2, 5), (BIN / 2, 9), (BIN, 3), (2 * BIN, 3), (2 * BIN, 5))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--set", default="select", help="a standard set with curves (not a test set)")
    ap.add_argument("--json", default="docs/class_averaging.json")
    ap.add_argument("--weights", nargs="+",
                    help="weight file(s) (default: the shipped network); several: an ensemble")
    a = ap.parse_args(argv)
    if a.set.startswith("test"):
        ap.error("choose the averaging on select or calib, never on a test set")
    torch.set_num_threads(2)
    data = load_set(a.set)
    models = [load_model(w) for w in a.weights] if a.weights else [load_model()]
    truth = data["shape"]
    table = []
    print(f"{len(truth)} '{a.set}' curves")
    print(f"{'span (ln q)':>11s} {'bins':>5s} {'count':>5s} {'mean p':>8s} {'mean ln p':>9s}")
    for span, count in CONFIGURATIONS:
        factors = np.exp(np.linspace(-span, span, count))
        rows = dilated_rows(data, factors=factors)
        probs = np.mean([m.copy_probabilities(rows) for m in models], axis=0)
        row = {"span": span, "span_bins": span / BIN, "count": count,
               "accuracy_mean_p": float((probs.mean(1).argmax(1) == truth).mean()),
               "accuracy_mean_log_p": float((np.log(np.maximum(probs, 1e-30)).mean(1).argmax(1)
                                             == truth).mean())}
        table.append(row)
        print(f"{span:11.4f} {span / BIN:5.2f} {count:5d} {100 * row['accuracy_mean_p']:7.2f}% "
              f"{100 * row['accuracy_mean_log_p']:8.2f}%")
    with open(a.json, "w") as fh:
        json.dump({"set": a.set, "curves": len(truth), "weights": a.weights or ["shipped"],
                   "table": table}, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
