"""Pilot: does training on q-dilated copies of the curves help the class? (docs/inverse.md)

    python benchmarks/dilation_training_pilot.py [--copies 3] [--epochs 7]

Regenerates the ``train`` set with its measured curves kept (same spec and seed, so the same
rows; ~5 min, ~1 GB in the cache), adds ``copies - 1`` copies of every row read at f·q with
ln f uniform in ±0.1 (features recomputed by ``featurize`` from the points; radius and length
divided by f), and trains the shipped network on them with ``val`` for model selection. With
``copies`` × ``epochs`` = 21 the compute equals the 20-epoch baseline pilot
(``train_shipped(epochs=20, train_sets=("train",), val_sets=("val",), encoder_width=24,
bf16_encoder=False)``, the network of v3). Prints the training
log and the last epoch; the weights go to --out.
"""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np

from sasview_saxsim_plugin.inverse import train as training
from sasview_saxsim_plugin.inverse.catalogue import LOG_PARAMETERS, PARAMETER_NAMES
from sasview_saxsim_plugin.inverse.dataset import STANDARD_SETS, load_set
from sasview_saxsim_plugin.inverse.features import featurize


def dilated_copy(data: dict, rng: np.random.Generator, span: float = 0.1) -> dict:
    """Every stored curve read at f·q (ln f uniform in ±span): features and parameters."""
    factors = np.exp(rng.uniform(-span, span, len(data["shape"])))
    features = np.zeros_like(data["features"])
    for i, (q, intensity, sigma, _) in enumerate(data["curves"].astype(float)):
        keep = np.isfinite(q) & (intensity > 0)
        features[i], _ = featurize(q[keep] * factors[i], intensity[keep], sigma[keep])
    parameters = data["parameters"].copy()
    for name in LOG_PARAMETERS:  # the lengths (Å); NaN for shapes without one stays NaN
        parameters[:, PARAMETER_NAMES.index(name)] /= factors
    return {"features": features, "parameters": parameters, "shape": data["shape"]}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--copies", type=int, default=3, help="rows per curve, the original included")
    ap.add_argument("--epochs", type=int, default=7)
    ap.add_argument("--out", default="dilation_pilot.pt")
    a = ap.parse_args(argv)
    from dataclasses import replace

    data = load_set(replace(STANDARD_SETS["train"], keep_curves=True))
    rng = np.random.default_rng(7)
    parts = [{k: data[k] for k in ("features", "parameters", "shape")}]
    parts += [dilated_copy(data, rng) for _ in range(a.copies - 1)]
    augmented = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    del data, parts
    load_joined = training.load_joined
    # the pilot's training rows in place of the "train" set; validation as usual
    training.load_joined = (lambda names, workers=None: augmented if tuple(names) == ("train",)
                            else load_joined(names, workers))
    result = training.train_shipped(epochs=a.epochs, out=a.out, train_sets=("train",),
                                    val_sets=("val",), max_minutes=60, log=sys.stdout,
                                    encoder_width=24, bf16_encoder=False)  # the v3 net
    print(json.dumps({"copies": a.copies, "last_epoch": result["history"][-1]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
