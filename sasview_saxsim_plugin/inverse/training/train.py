"""Training of the shipped family network (``ShapePosteriorNet`` over ``families.FAMILIES``),
resumable: ``saxsim train``.

Reads the cached family sets (``dataset``): trains on "train", picks the epoch with the lowest
validation loss on "val"; "calib" and "test" are never read here. After every epoch the whole
state (weights, optimiser, schedule, best epoch, history, random generators, minutes so far)
goes to ``<out>.checkpoint``; a rerun with the same arguments continues from it (kill the job,
start it again, it picks up after the last finished epoch); the checkpoint is removed when the
run completes. The clock (``max_minutes``) counts all sessions of a resumed run together.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import time
import warnings
from pathlib import Path

import torch
from torch import nn

from ..families import FAMILIES, FAMILY_NAMES, MAX_PARAMETERS, catalogue_key, to_standard
from ..features import N_BINS
from ..networks import ShapePosteriorNet
from .dataset import FORMAT_VERSION, STANDARD_SETS, load_set

WEIGHTS_DIR = Path(__file__).parents[1] / "weights"
SHIPPED_WEIGHTS = WEIGHTS_DIR / "shipped.pt"


def _device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def bf16_is_fast(device: torch.device, cpuinfo: str | None = None) -> bool:
    """Whether bfloat16 matrix products run natively here: a CUDA GPU that supports them, or a
    CPU with AMX-BF16 / AVX512-BF16 (elsewhere torch emulates them, slower than float32).
    ``cpuinfo``: the text of /proc/cpuinfo (read when None; no file: False)."""
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text()
        except OSError:
            return False
    flags = set(cpuinfo.split())
    return "amx_bf16" in flags or "avx512_bf16" in flags


def _log(message: str, log) -> None:
    print(message, flush=True)
    if log is not None:
        log.write(message + "\n")
        log.flush()


#: channels of the shipped encoder's first convolution (v5: the width a 2-core CPU trains
#: enough epochs of in the time budget in float32; v4 used 48 in bfloat16)
SHIPPED_ENCODER_WIDTH = 24


def epochs_within(minutes_per_epoch: float, epochs: int, max_minutes: float,
                  margin: float = 1.03) -> int:
    """How many epochs fit ``max_minutes`` at ``minutes_per_epoch`` (the mean pace so far; with
    a 3 % margin): ``epochs`` when they all fit, otherwise fewer (at least 1)."""
    fit = int(max_minutes // (margin * max(minutes_per_epoch, 1e-9)))
    return max(1, min(epochs, fit))


def _one_cycle(opt, lr: float, total_steps: int, done: int = 0):
    """One-cycle schedule over ``total_steps``, advanced past the ``done`` steps taken."""
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=total_steps,
                                                pct_start=0.05)
    with warnings.catch_warnings():  # fast-forwarding a schedule, not skipping a step
        warnings.filterwarnings("ignore", message="Detected call of `lr_scheduler.step")
        for _ in range(done):
            sched.step()
    return sched


def make_losses(net: ShapePosteriorNet, device: torch.device, compile: bool = False):
    """The training losses of ``ShapePosteriorNet``: a function (features, shape, standardised
    parameters with NaN for inactive ones, N(0, 1) noise of their shape, bf16) -> (NLL per
    parameter, cross-entropy, accuracy). ``bf16``: the encoder in bfloat16 autocast.
    ``compile``: through ``torch.compile`` (needs a C++ compiler on a CPU)."""

    def losses(x, s, theta, noise, bf16=False):
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
            code = net.encode(x)
        code = code.float()
        logits = net.classifier(code)
        # inactive parameters (NaN) are replaced by N(0, 1) noise the flow learns to ignore
        theta = torch.where(torch.isnan(theta), noise, theta)
        z, log_jac = net.log_likelihood_terms(theta, net.condition(code, s))
        nll = (0.5 * z.pow(2).sum(1) - log_jac).mean() / theta.shape[1]
        ce = nn.functional.cross_entropy(logits, s)
        acc = (logits.argmax(1) == s).float().mean()
        return nll, ce, acc

    return torch.compile(losses) if compile else losses


#: version of the family network's design (5: twelve sasmodels families, broad acquisitions)
SHIPPED_VERSION = 5
#: epochs and wall-clock budget of the shipped run (the schedule shortens itself on a machine
#: too slow for all epochs in the budget: ``epochs_within``)
SHIPPED_EPOCHS = 30
SHIPPED_MINUTES = 100.0


def _minutes_now() -> float:
    """The training clock (minutes; a function so tests can stand in for a slow machine)."""
    return time.time() / 60.0


def _tensors(data: dict, channels: int):
    theta = to_standard(data["parameters"], data["family"])
    return (torch.as_tensor(data["features"][:, :channels * N_BINS]),
            torch.as_tensor(data["family"]),
            torch.as_tensor(theta, dtype=torch.float32))


def _spec(name_or_spec):
    return STANDARD_SETS[name_or_spec] if isinstance(name_or_spec, str) else name_or_spec


def _run_key(settings: dict) -> str:
    return hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:16]


def train_shipped(out: Path = SHIPPED_WEIGHTS, epochs: int = SHIPPED_EPOCHS, batch: int = 512,
                  lr: float = 1e-3, max_minutes: float = SHIPPED_MINUTES, seed: int = 0,
                  log=None, workers: int | None = None, noise_dropout: float = 0.25,
                  encoder_width: int | None = None, bf16_encoder: bool | None = None,
                  train_set="train", val_set="val",
                  stop_after_epochs: int | None = None) -> dict:
    """Train the family network; save the best epoch to ``out``; resume from
    ``<out>.checkpoint`` when one of the same settings exists.

    ``max_minutes`` bounds the whole run (all sessions of a resumed run together); the
    one-cycle schedule is shortened when the pace says ``epochs`` will not fit
    (``train.epochs_within``). ``noise_dropout``: fraction of rows whose dI/I channel is
    blanked (curves without dI). ``train_set`` / ``val_set``: names of ``STANDARD_SETS`` or
    ``SetSpec``s. ``stop_after_epochs``: stop (leaving the checkpoint) after this many epochs
    in this call, to test resuming."""
    out = Path(out)
    checkpoint = out.with_name(out.name + ".checkpoint")
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if bf16_encoder is None:
        bf16_encoder = bf16_is_fast(device)
    if encoder_width is None:
        encoder_width = SHIPPED_ENCODER_WIDTH
    channels = 3
    settings = {"epochs": epochs, "batch": batch, "lr": lr, "seed": seed,
                "noise_dropout": noise_dropout, "encoder_width": encoder_width,
                "bf16_encoder": bf16_encoder, "train": _spec(train_set).key(),
                "val": _spec(val_set).key(), "catalogue": catalogue_key(),
                "version": SHIPPED_VERSION}
    key = _run_key(settings)
    _log(f"family network v{SHIPPED_VERSION}: {len(FAMILIES)} families, encoder width "
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
            net.load_state_dict(saved["net"])
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
    start, done_here = _minutes_now(), 0
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
        minutes = minutes_before + (_minutes_now() - start)
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
                "metadata": {"version": SHIPPED_VERSION, "families": list(FAMILY_NAMES),
                             "parameters": {f.name: list(f.parameter_names) for f in FAMILIES},
                             "catalogue": catalogue_key(), "data_format": FORMAT_VERSION,
                             "settings": settings, "torch": str(torch.__version__),
                             "minutes": state["minutes"]}}, out)
    checkpoint.unlink(missing_ok=True)
    return {"finished": True, "best_epoch": state["best_epoch"], "path": str(out),
            "history": state["history"], "minutes": state["minutes"]}

