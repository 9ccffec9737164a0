"""Is the shipped class head (one linear layer on the encoder code) a limit of the shape accuracy?

    python benchmarks/class_head_pilot.py [--train-sets train] [--epochs 15]
        [--json docs/class_head_pilot.json]

Freezes the shipped encoder, computes the codes of the training rows (a quarter of them with the
dI/I channel blanked, as in training) and trains a nonlinear head (MLP 128-256-256-3, GELU,
cross-entropy, AdamW) on them, with early stopping on `val`. Compares the one-pass accuracy of
that head with the shipped linear head on `val` and `select` (neither is a test set), and on
`select` also with the class averaged over the q-dilated copies as `estimate` does. Decision rule
written down before the run (docs/inverse.md): pursue only if +0.3 points on both sets.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np
import torch
from torch import nn

from sasview_saxsim_plugin.inverse.dataset import load_joined, load_set
from sasview_saxsim_plugin.inverse.estimate import load_model
from sasview_saxsim_plugin.inverse.features import without_uncertainties
from sasview_saxsim_plugin.inverse.networks import N_SHAPES

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from inverse_eval import dilated_rows  # noqa: E402


def codes_of(model, features: np.ndarray, batch: int = 4096) -> torch.Tensor:
    """Encoder codes of feature rows, batched."""
    return torch.cat([model.encode(features[i:i + batch]) for i in range(0, len(features), batch)])


def blank_some(features: np.ndarray, fraction: float, seed: int) -> np.ndarray:
    """A copy with ``fraction`` of the rows blanked as for a curve without dI."""
    rows = np.random.default_rng(seed).random(len(features)) < fraction
    return np.where(rows[:, None], without_uncertainties(features), features)


def train_head(codes: torch.Tensor, shapes: torch.Tensor, val_codes: torch.Tensor,
               val_shapes: torch.Tensor, epochs: int, seed: int = 0) -> tuple[nn.Module, list]:
    """MLP head on frozen codes; keeps the epoch with the lowest `val` cross-entropy."""
    torch.manual_seed(seed)
    head = nn.Sequential(nn.Linear(codes.shape[1], 256), nn.GELU(), nn.Linear(256, 256),
                         nn.GELU(), nn.Linear(256, N_SHAPES))
    opt = torch.optim.AdamW(head.parameters(), lr=1e-3, weight_decay=1e-4)
    steps = epochs * int(np.ceil(len(codes) / 512))
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=1e-3, total_steps=steps)
    best, state, history = float("inf"), None, []
    gen = torch.Generator().manual_seed(seed)
    for epoch in range(epochs):
        head.train()
        perm = torch.randperm(len(codes), generator=gen)
        for i in range(0, len(perm), 512):
            idx = perm[i:i + 512]
            loss = nn.functional.cross_entropy(head(codes[idx]), shapes[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
        head.eval()
        with torch.no_grad():
            logits = head(val_codes)
            ce = float(nn.functional.cross_entropy(logits, val_shapes))
            acc = float((logits.argmax(1) == val_shapes).float().mean())
        history.append({"epoch": epoch + 1, "val_ce": ce, "val_accuracy": acc})
        print(f"epoch {epoch + 1:3d}  val ce {ce:.4f}  acc {100 * acc:.2f} %", flush=True)
        if ce < best:
            best, state = ce, {k: v.clone() for k, v in head.state_dict().items()}
    head.load_state_dict(state)
    return head, history


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--train-sets", default="train", help="comma-separated training sets")
    ap.add_argument("--epochs", type=int, default=15)
    ap.add_argument("--json", default="docs/class_head_pilot.json")
    a = ap.parse_args(argv)
    torch.set_num_threads(2)
    t0 = time.time()
    model = load_model()
    train = load_joined(tuple(a.train_sets.split(",")))
    codes = codes_of(model, blank_some(train["features"], 0.25, seed=0))
    shapes = torch.as_tensor(train["shape"])
    print(f"{len(codes)} training codes in {time.time() - t0:.0f} s", flush=True)
    held_out = {name: load_set(name) for name in ("val", "select")}
    val_codes = codes_of(model, held_out["val"]["features"])
    head, history = train_head(codes, shapes, val_codes,
                               torch.as_tensor(held_out["val"]["shape"]), a.epochs)
    result = {"train_sets": a.train_sets, "rows": len(codes), "history": history, "sets": {}}
    with torch.no_grad():
        for name, data in held_out.items():
            truth = data["shape"]
            for variant, feats in (("with dI", data["features"]),
                                   ("without dI", without_uncertainties(data["features"]))):
                c = codes_of(model, feats)
                linear = model.class_probabilities(c).argmax(1).numpy()
                mlp = head(c).argmax(1).numpy()
                row = {"linear": float((linear == truth).mean()),
                       "mlp": float((mlp == truth).mean())}
                if name == "select" and variant == "with dI":
                    dil = dilated_rows(data)
                    copies, n = dil.shape[1], len(dil)
                    dc = codes_of(model, dil.reshape(n * copies, -1))
                    p_lin = model.class_probabilities(dc).numpy().reshape(n, copies, -1).mean(1)
                    p_mlp = torch.softmax(head(dc), 1).numpy().reshape(n, copies, -1).mean(1)
                    row["linear_averaged"] = float((p_lin.argmax(1) == truth).mean())
                    row["mlp_averaged"] = float((p_mlp.argmax(1) == truth).mean())
                result["sets"][f"{name} ({variant})"] = row
                print(f"{name:7s} {variant:11s} " + "  ".join(
                    f"{k} {100 * v:.2f} %" for k, v in row.items()), flush=True)
    result["minutes"] = (time.time() - t0) / 60
    with open(a.json, "w") as fh:
        json.dump(result, fh, indent=1)
    print(f"{result['minutes']:.1f} min; wrote {a.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
