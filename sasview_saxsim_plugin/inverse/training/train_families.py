"""Training of the family network (``ShapePosteriorNet`` over ``families.FAMILIES``), resumable.

Reads the cached family sets (``family_dataset``): trains on "train", picks the epoch with the
lowest validation loss on "val"; "calib" and "test" are never read here. After every epoch the
whole state (weights, optimiser, schedule, best epoch, history, random generators, minutes so
far) goes to ``<out>.checkpoint``; a rerun with the same arguments continues from it (kill the
job, start it again, it picks up after the last finished epoch); the checkpoint is removed when
the run completes.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import time
from pathlib import Path

import torch
from torch import nn

from ..families import FAMILIES, FAMILY_NAMES, MAX_PARAMETERS, to_standard
from ..features import N_BINS
from ..networks import ShapePosteriorNet
from .family_dataset import FORMAT_VERSION, STANDARD_SETS, catalogue_key, load_set
from .train import (
    _log,
    _one_cycle,
    bf16_is_fast,
    default_encoder_width,
    epochs_within,
    make_losses,
)

#: version of the family network's design (5: twelve sasmodels families, broad acquisitions)
FAMILY_VERSION = 5


def _tensors(data: dict, channels: int):
    theta = to_standard(data["parameters"], data["family"])
    return (torch.as_tensor(data["features"][:, :channels * N_BINS]),
            torch.as_tensor(data["family"]),
            torch.as_tensor(theta, dtype=torch.float32))


def _run_key(settings: dict) -> str:
    return hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:16]


def train_families(out: Path, epochs: int = 30, batch: int = 512, lr: float = 1e-3,
                   max_minutes: float = 120, seed: int = 0, log=None,
                   workers: int | None = None, noise_dropout: float = 0.25,
                   encoder_width: int | None = None, bf16_encoder: bool | None = None,
                   train_set: str = "train", val_set: str = "val",
                   stop_after_epochs: int | None = None) -> dict:
    """Train the family network; save the best epoch to ``out``; resume from
    ``<out>.checkpoint`` when one of the same settings exists.

    ``max_minutes`` bounds the whole run (all sessions of a resumed run together); the
    one-cycle schedule is shortened when the pace says ``epochs`` will not fit
    (``train.epochs_within``). ``noise_dropout``: fraction of rows whose dI/I channel is
    blanked (curves without dI). ``stop_after_epochs``: stop (leaving the checkpoint) after
    this many epochs in this call, to test resuming."""
    out = Path(out)
    checkpoint = out.with_name(out.name + ".checkpoint")
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if bf16_encoder is None:
        bf16_encoder = bf16_is_fast(device)
    if encoder_width is None:
        encoder_width = default_encoder_width(device, bf16_encoder)
    channels = 3
    settings = {"epochs": epochs, "batch": batch, "lr": lr, "seed": seed,
                "noise_dropout": noise_dropout, "encoder_width": encoder_width,
                "bf16_encoder": bf16_encoder, "train": STANDARD_SETS[train_set].key(),
                "val": STANDARD_SETS[val_set].key(), "catalogue": catalogue_key(),
                "version": FAMILY_VERSION}
    key = _run_key(settings)
    _log(f"family network v{FAMILY_VERSION}: {len(FAMILIES)} families, encoder width "
         f"{encoder_width} in {'bfloat16' if bf16_encoder else 'float32'} on {device.type}",
         log)
    train, val = load_set(train_set, workers), load_set(val_set, workers)
    x_tr, s_tr, t_tr = _tensors(train, channels)
    x_va, s_va, t_va = (t.to(device) for t in _tensors(val, channels))
    del train, val

    torch.manual_seed(seed)
    net = ShapePosteriorNet(encoder="conv", channels=channels, encoder_width=encoder_width,
                            classes=len(FAMILIES), parameters=MAX_PARAMETERS).to(device)
    opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=1e-5)
    steps_per_epoch = math.ceil(len(x_tr) / batch)
    gen = torch.Generator().manual_seed(seed)
    state = {"epoch": 0, "epochs": epochs, "minutes": 0.0, "best_loss": float("inf"),
             "best_state": None, "best_epoch": -1, "history": []}
    if checkpoint.exists():
        saved = torch.load(checkpoint, map_location="cpu", weights_only=True)
        if saved.get("key") == key:
            net.load_state_dict(saved["net"])  # (moved to the device by load_state_dict)
            opt.load_state_dict(saved["opt"])
            gen.set_state(saved["generator"])
            state = saved["state"]
            _log(f"resuming from {checkpoint} after epoch {state['epoch']} "
                 f"({state['minutes']:.1f} min so far)", log)
        else:
            _log(f"{checkpoint} belongs to other settings: starting afresh", log)
    epochs = state["epochs"]
    sched = _one_cycle(opt, lr, epochs * steps_per_epoch, done=state["epoch"] * steps_per_epoch)
    losses = make_losses(net, device)
    start, done_here = time.time(), 0
    minutes_before = state["minutes"]
    for epoch in range(state["epoch"], epochs):
        net.train()
        perm = torch.randperm(len(x_tr), generator=gen)
        total = n = 0.0
        for i in range(0, len(perm), batch):
            idx = perm[i:i + batch]
            x, s, theta = x_tr[idx].to(device), s_tr[idx].to(device), t_tr[idx].to(device)
            noise = torch.randn(theta.shape, generator=gen).to(device)
            if noise_dropout > 0:
                blank = (torch.rand(len(idx), 1, generator=gen) < noise_dropout).to(device)
                x = torch.cat([x[:, :2 * N_BINS],
                               torch.where(blank, 0.0, x[:, 2 * N_BINS:])], dim=1)
            nll, ce, _ = losses(x, s, theta, noise, bf16=bf16_encoder)
            loss = nll + ce
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(net.parameters(), 10.0)
            opt.step()
            sched.step()
            total += loss.item() * len(idx)
            n += len(idx)
        net.eval()
        with torch.no_grad():
            noise = torch.randn(t_va.shape, generator=torch.Generator().manual_seed(1)).to(device)
            nll, ce, acc = losses(x_va, s_va, t_va, noise)
        val_loss = float(nll + ce)
        minutes = minutes_before + (time.time() - start) / 60
        state["history"].append({"epoch": epoch + 1, "train_loss": total / n,
                                 "val_nll": float(nll), "val_ce": float(ce),
                                 "val_accuracy": float(acc), "minutes": minutes})
        _log(f"epoch {epoch + 1:3d}/{epochs}  train {total / n:.4f}  val nll {float(nll):.4f}  "
             f"ce {float(ce):.4f}  acc {float(acc):.4f}  {minutes:.1f} min", log)
        if val_loss < state["best_loss"]:
            state.update(best_loss=val_loss, best_epoch=epoch + 1,
                         best_state={k: v.detach().cpu().clone()
                                     for k, v in net.state_dict().items()})
        state.update(epoch=epoch + 1, minutes=minutes)
        pace = minutes / (epoch + 1)
        if (fit := max(epoch + 1, epochs_within(pace, epochs, max_minutes))) < epochs:
            _log(f"{epochs} epochs would take {pace * epochs:.0f} min here: schedule "
                 f"shortened to {fit} epochs to stay within {max_minutes:g} min", log)
            epochs = state["epochs"] = fit
            sched = _one_cycle(opt, lr, epochs * steps_per_epoch,
                               done=(epoch + 1) * steps_per_epoch)
        tmp = checkpoint.with_name(checkpoint.name + ".tmp")
        checkpoint.parent.mkdir(parents=True, exist_ok=True)
        torch.save({"key": key, "net": net.state_dict(), "opt": opt.state_dict(),
                    "generator": gen.get_state(), "state": state}, tmp)
        os.replace(tmp, checkpoint)
        done_here += 1
        if epoch + 1 >= epochs:
            break
        if stop_after_epochs is not None and done_here >= stop_after_epochs:
            _log(f"stopping after {done_here} epochs as asked; rerun to continue", log)
            return {"finished": False, "epoch": epoch + 1, "checkpoint": str(checkpoint)}
    out.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"config": net.config, "state": state["best_state"],
                "best_epoch": state["best_epoch"], "history": state["history"],
                "kind": "families",
                "metadata": {"version": FAMILY_VERSION, "families": list(FAMILY_NAMES),
                             "parameters": {f.name: list(f.parameter_names) for f in FAMILIES},
                             "catalogue": catalogue_key(), "data_format": FORMAT_VERSION,
                             "settings": settings, "torch": str(torch.__version__),
                             "minutes": state["minutes"]}}, out)
    checkpoint.unlink(missing_ok=True)
    return {"finished": True, "best_epoch": state["best_epoch"], "path": str(out),
            "history": state["history"], "minutes": state["minutes"]}

