"""Pilot: is the encoder's capacity a limit of the shape accuracy? (docs/inverse.md)

    python benchmarks/encoder_width_pilot.py --width 48 --bf16 on [--epochs 20]
        [--json docs/encoder_width_pilot.json]

Trains the shipped network with the encoder's first convolution ``--width`` channels wide
(v4, shipped: 48; v3: 24; the later layers scale with it) on ``train`` only for ``--epochs``,
model selection on ``val`` only (neither a test set), the protocol of the earlier pilots
(baseline: ``--width 24 --bf16 off``, the v3 network). ``--bf16 on`` runs the encoder in
bfloat16 autocast while training (``train_shipped(bf16_encoder=True)``), which makes the
width-48 encoder nearly as fast as the width-24 one in float32 on a CPU with AMX-BF16.
Appends the best epoch's validation figures and the minutes per epoch to --json (a list, one
entry per run).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys

import torch

from sasview_saxsim_plugin.inverse.train import bf16_is_fast, train_shipped


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--width", type=int, default=48)
    ap.add_argument("--bf16", choices=("on", "off"), default="on")
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--out", default="encoder_width_pilot.pt")
    ap.add_argument("--json", default="docs/encoder_width_pilot.json")
    a = ap.parse_args(argv)
    r = train_shipped(epochs=a.epochs, out=a.out, train_sets=("train",), val_sets=("val",),
                      max_minutes=60, encoder_width=a.width,
                      bf16_encoder=a.bf16 == "on")
    best = r["history"][r["best_epoch"] - 1]
    entry = {"width": a.width, "bf16_encoder": a.bf16 == "on", "epochs": len(r["history"]),
             "best_epoch": r["best_epoch"], "val_accuracy": best["val_accuracy"],
             "val_nll": best["val_nll"], "val_ce": best["val_ce"],
             "minutes": r["history"][-1]["minutes"],
             "minutes_per_epoch": r["history"][-1]["minutes"] / len(r["history"]),
             "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
                        f"native bf16 {bf16_is_fast(torch.device('cpu'))}",
             "command": " ".join(["python benchmarks/encoder_width_pilot.py",
                                  *(argv or sys.argv[1:])])}
    runs = json.load(open(a.json)) if os.path.exists(a.json) else []
    runs.append(entry)
    with open(a.json, "w") as fh:
        json.dump(runs, fh, indent=1)
    print(f"width {a.width}, bf16 {a.bf16}: val accuracy {100 * entry['val_accuracy']:.2f} % "
          f"(epoch {entry['best_epoch']}), {entry['minutes_per_epoch']:.2f} min/epoch; "
          f"wrote {a.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
