"""Training of the thesis INN baseline (``saxsim train --model thesis``): trains on
"train-thesis", checks on "val-thesis" (``thesis.data``); "test-thesis" is never read here."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ..features import N_BINS, NETWORK_Q_EDGES
from .catalogue import CATALOGUE, PARAMETER_NAMES
from .data import FORMAT_VERSION, STANDARD_SETS, load_set
from .network import N_SHAPES, THESIS_DIM, THESIS_X, ThesisINN, inverse_multiquadric_mmd

THESIS_WEIGHTS = Path(__file__).parents[1] / "weights" / "thesis_inn.pt"


def _device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def _log(message: str, log) -> None:
    print(message, flush=True)
    if log is not None:
        log.write(message + "\n")
        log.flush()


class _BestEpoch:
    """Keeps the weights of the epoch with the lowest validation loss and the wall clock."""

    def __init__(self, max_minutes: float, log):
        self.loss, self.state, self.epoch = float("inf"), None, -1
        self.max_minutes, self.log, self.start = max_minutes, log, time.time()

    def minutes(self) -> float:
        return (time.time() - self.start) / 60

    def update(self, net: nn.Module, val_loss: float, epoch: int) -> None:
        if val_loss < self.loss:
            self.loss, self.epoch = val_loss, epoch
            self.state = {k: v.detach().cpu().clone() for k, v in net.state_dict().items()}

    def time_is_up(self, epoch: int) -> bool:
        """True (and says so) when one more epoch would pass ``max_minutes``."""
        if self.minutes() / epoch * (epoch + 1) > self.max_minutes:
            _log(f"stopping after epoch {epoch}: the next would pass {self.max_minutes} min",
                 self.log)
            return True
        return False

    def save(self, out: Path, net: nn.Module, history: list, **extra) -> dict:
        out = Path(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        torch.save({"config": net.config, "state": self.state, "best_epoch": self.epoch,
                    "history": history, **extra}, out)
        return {"best_epoch": self.epoch, "history": history, "path": str(out)}


def _metadata(seed: int, sets: tuple) -> dict:
    """What the weight file must carry to be reproduced and used correctly."""
    from dataclasses import asdict

    return {"parameter_names": PARAMETER_NAMES, "shapes": [e.name for e in CATALOGUE],
            "network_q_edges_1_per_A": NETWORK_Q_EDGES.tolist(),
            "priors": {e.name: {prior: {k: repr(v) for k, v in values.items()}
                                for prior, values in e.priors.items()} for e in CATALOGUE},
            "sets": {n: asdict(STANDARD_SETS[n]) for n in sets},
            "data_format": FORMAT_VERSION, "seed": seed, "torch": str(torch.__version__)}


def thesis_x(shape: np.ndarray, parameters: np.ndarray, stats: dict) -> np.ndarray:
    """Thesis input vector: one-hot shape, radius in the shape's slot (0 elsewhere), radius pd,
    length, length pd, volume fraction (0 when the shape has none), standardised."""
    n = len(shape)
    x = np.zeros((n, THESIS_X), np.float32)
    x[np.arange(n), shape] = 1.0
    z = (parameters - stats["mean"]) / stats["std"]
    x[np.arange(n), N_SHAPES + shape] = z[:, 0]
    x[:, 2 * N_SHAPES:] = np.nan_to_num(z[:, 1:], nan=0.0)
    return x


def train_thesis(epochs: int = 200, batch: int = 128, lr: float = 2e-3, seed: int = 0,
                 out: Path = THESIS_WEIGHTS, log=None, workers: int | None = None,
                 max_minutes: float = 30) -> dict:
    """Thesis INN: x -> [y, z], losses 0.001 MSE(y) + 100 MMD([y, z]) + 1000 MMD(x) (4.2.2)."""
    torch.manual_seed(seed)
    device = _device()
    train, val = load_set("train-thesis", workers), load_set("val-thesis", workers)
    p = train["parameters"]
    stats = {"mean": np.nanmean(p, axis=0), "std": np.nanstd(p, axis=0)}

    def tensors(d):
        x = thesis_x(d["shape"], d["parameters"], stats)
        x = np.pad(x, ((0, 0), (0, THESIS_DIM - THESIS_X)))
        return torch.as_tensor(x), torch.as_tensor(d["features"][:, :N_BINS])

    x_tr, y_tr = tensors(train)
    x_va, y_va = (t.to(device) for t in tensors(val))
    net = ThesisINN().to(device)
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    gen = torch.Generator().manual_seed(seed)

    def losses(x, y, z_noise):
        out = net(x)
        y_pred, z_pred = out[:, :N_BINS], out[:, N_BINS:]
        l_y = nn.functional.mse_loss(y_pred, y)
        l_z = inverse_multiquadric_mmd(torch.cat([y_pred, z_pred], 1),
                                       torch.cat([y, z_noise], 1))
        x_rev = net(torch.cat([y, z_noise], 1), rev=True)
        l_x = inverse_multiquadric_mmd(x_rev, x)
        return 0.001 * l_y + 100 * l_z + 1000 * l_x

    best = _BestEpoch(max_minutes, log)
    history = []
    for epoch in range(epochs):
        net.train()
        perm = torch.randperm(len(x_tr), generator=gen)
        for i in range(0, len(perm) - batch + 1, batch):
            idx = perm[i:i + batch]
            z = torch.randn(len(idx), THESIS_DIM - N_BINS, generator=gen).to(device)
            loss = losses(x_tr[idx].to(device), y_tr[idx].to(device), z)
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(net.parameters(), 10.0)
            opt.step()
        net.eval()
        with torch.no_grad():
            vals = []
            g = torch.Generator().manual_seed(1)
            for i in range(0, len(x_va) - batch + 1, batch):
                z = torch.randn(batch, THESIS_DIM - N_BINS, generator=g).to(device)
                vals.append(float(losses(x_va[i:i + batch], y_va[i:i + batch], z)))
        val_loss = float(np.mean(vals))
        elapsed = best.minutes()
        history.append({"epoch": epoch + 1, "val_loss": val_loss, "minutes": elapsed})
        if (epoch + 1) % 10 == 0 or epoch == 0:
            _log(f"thesis epoch {epoch + 1:3d}  val loss {val_loss:.4f}  {elapsed:.1f} min", log)
        best.update(net, val_loss, epoch + 1)
        if best.time_is_up(epoch + 1):
            break
    return best.save(out, net, history, kind="thesis",
                     stats={k: v.tolist() for k, v in stats.items()},
                     metadata=_metadata(seed, ("train-thesis", "val-thesis")))
