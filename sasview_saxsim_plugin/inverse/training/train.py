"""Training loops for the shipped cINN and the thesis INN baseline (``saxsim train``).

Both read the cached standard sets (``dataset.STANDARD_SETS``): the shipped network trains on
"train" and picks its best epoch on "val"; the thesis baseline trains on "train-thesis" and
checks on "val-thesis". The test sets are never read here.
"""

from __future__ import annotations

import math
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ..catalogue import LOG_PARAMETERS, PARAMETER_NAMES
from ..features import N_BINS, NETWORK_Q_EDGES
from ..networks import (
    N_SHAPES,
    THESIS_DIM,
    THESIS_X,
    ShapePosteriorNet,
    ThesisINN,
    inverse_multiquadric_mmd,
)
from ..parameters import WIDTH, to_standard
from .dataset import load_joined, load_set

WEIGHTS_DIR = Path(__file__).parent / "weights"
SHIPPED_WEIGHTS = WEIGHTS_DIR / "shipped.pt"
THESIS_WEIGHTS = WEIGHTS_DIR / "thesis_inn.pt"
#: change of the standardised parameters when a curve moves up by one q bin: the lengths
#: (learnt as ln Å) shrink by the bin ratio (``shift_features``)
_LOG_BIN_SHIFT = torch.tensor(
    [float(np.log(NETWORK_Q_EDGES[1] / NETWORK_Q_EDGES[0])) / w if n in LOG_PARAMETERS else 0.0
     for n, w in zip(PARAMETER_NAMES, WIDTH, strict=True)], dtype=torch.float32)


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


#: what ``saxsim train`` ships: trained on both training priors, model selection on both
#: validation sets (the test sets are never read)
SHIPPED_TRAIN_SETS = ("train", "train-extra", "train-more", "train-thesis")
SHIPPED_VAL_SETS = ("val", "val-thesis")
#: version of the shipped network's design (1: MLP encoder, 2 channels, broad data only;
#: 2: convolutional encoder, dI/I channel, broad + thesis training mix; 3: the same network
#: on 2.3x the broad curves, fewer epochs in the same time; 4: the encoder twice as wide,
#: trained in bfloat16 where the CPU/GPU has it natively)
SHIPPED_VERSION = 4
#: epochs of the shipped run: 435 000 rows x 44 epochs fit the 60-minute budget on 2 cores
#: (v4 on a 2-core Xeon with AMX-BF16: 42 of them, 1.3 min each; all 44 at 1.07 min on a 2-core
#: EPYC with AVX512-BF16, docs/train_check_avx512.json)
SHIPPED_EPOCHS = 44
#: channels of the shipped encoder's first convolution
SHIPPED_ENCODER_WIDTH = 48
#: the width ``saxsim train`` uses where the encoder would train in float32 on a CPU: there the
#: shipped width costs 2.1x the time per step and buys too few epochs in the budget (2-core
#: AVX2 EPYC, 55 min: width 48 9 epochs, width 24 18 epochs and a lower validation loss;
#: docs: Methods and Validation, "on a CPU without native bfloat16")
FLOAT32_CPU_ENCODER_WIDTH = 24


def default_encoder_width(device: torch.device, bf16_encoder: bool) -> int:
    """Encoder width of the recipe on this machine: ``SHIPPED_ENCODER_WIDTH`` on a GPU or where
    the encoder trains in bfloat16, ``FLOAT32_CPU_ENCODER_WIDTH`` on a CPU in float32."""
    if device.type == "cuda" or bf16_encoder:
        return SHIPPED_ENCODER_WIDTH
    return FLOAT32_CPU_ENCODER_WIDTH


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


def train_shipped(epochs: int = SHIPPED_EPOCHS, batch: int = 512, lr: float = 1e-3,
                  max_minutes: float = 55, seed: int = 0, out: Path = SHIPPED_WEIGHTS,
                  log=None, workers: int | None = None,
                  encoder: str = "conv", channels: int = 3,
                  train_sets: tuple = SHIPPED_TRAIN_SETS,
                  val_sets: tuple = SHIPPED_VAL_SETS,
                  noise_dropout: float = 0.25, ce_weight: float = 1.0,
                  shift_bins: int = 0, encoder_width: int | None = None,
                  bf16_encoder: bool | None = None) -> dict:
    """Train ``ShapePosteriorNet`` by maximum likelihood + cross-entropy; save the best epoch
    (lowest validation loss). On a machine too slow for ``epochs`` in ``max_minutes`` the
    one-cycle schedule is shortened after any epoch whose mean pace so far says the rest will
    not fit (``epochs_within``), so the learning rate still anneals to its end instead of the
    run being cut at a high rate.

    ``noise_dropout``: fraction of training rows whose dI/I channel is blanked (as for a curve
    without dI), so the network works with and without uncertainties. ``ce_weight``: weight
    of the classifier's cross-entropy against the flow's NLL per parameter (shipped: 1).
    ``shift_bins``: each training row is moved by a random whole number of q bins up to this
    (``shift_features``: the same shape at a size scaled by the bin ratio; shipped: 0).
    ``encoder_width``: channels of the encoder's first convolution (shipped: 48; v3: 24);
    None: ``default_encoder_width`` (48 on a GPU or with bfloat16, else 24).
    ``bf16_encoder``: run the encoder in bfloat16 autocast while training (weights, the flow and
    validation stay float32; fast only where the CPU has AMX / AVX512-BF16 or on a GPU);
    None: where ``bf16_is_fast``."""
    torch.manual_seed(seed)
    device = _device()
    if bf16_encoder is None:
        bf16_encoder = bf16_is_fast(device)
    if encoder_width is None:
        encoder_width = default_encoder_width(device, bf16_encoder)
        if encoder_width != SHIPPED_ENCODER_WIDTH:
            _log(f"encoder in float32 on a CPU: encoder width {encoder_width} (the v3 "
                 f"recipe), since width {SHIPPED_ENCODER_WIDTH} in float32 fits too few epochs "
                 f"in the time budget (pass encoder_width / --encoder-width to override)", log)
    _log(f"encoder width {encoder_width}, encoder in "
         f"{'bfloat16' if bf16_encoder else 'float32'} on {device.type}", log)
    train, val = load_joined(train_sets, workers), load_joined(val_sets, workers)
    width = channels * N_BINS

    def tensors(d):
        theta = to_standard(d["parameters"])
        return (torch.as_tensor(d["features"][:, :width]), torch.as_tensor(d["shape"]),
                torch.as_tensor(theta, dtype=torch.float32))

    x_tr, s_tr, t_tr = tensors(train)
    x_va, s_va, t_va = (t.to(device) for t in tensors(val))
    net = ShapePosteriorNet(encoder=encoder, channels=channels,
                            encoder_width=encoder_width).to(device)
    opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=1e-5)
    steps_per_epoch = math.ceil(len(x_tr) / batch)
    sched = _one_cycle(opt, lr, epochs * steps_per_epoch)
    gen = torch.Generator().manual_seed(seed)

    losses = make_losses(net, device)

    best = _BestEpoch(max_minutes, log)
    history = []
    for epoch in range(epochs):
        net.train()
        perm = torch.randperm(len(x_tr), generator=gen)
        total = n = 0.0
        for i in range(0, len(perm), batch):
            idx = perm[i:i + batch]
            x, s, theta = x_tr[idx].to(device), s_tr[idx].to(device), t_tr[idx].to(device)
            noise = torch.randn(theta.shape, generator=gen).to(device)
            if channels > 2 and noise_dropout > 0:
                blank = (torch.rand(len(idx), 1, generator=gen) < noise_dropout).to(device)
                x = torch.cat([x[:, :2 * N_BINS],
                               torch.where(blank, 0.0, x[:, 2 * N_BINS:])], dim=1)
            if shift_bins > 0:
                k = torch.randint(-shift_bins, shift_bins + 1, (len(idx),), generator=gen)
                x = shift_features(x, k.to(device))
                # the size moves with the curve: ln R, ln L shift by −k bin widths
                theta = theta - k.to(device)[:, None] * _LOG_BIN_SHIFT.to(device)
            nll, ce, _ = losses(x, s, theta, noise, bf16=bf16_encoder)
            loss = nll + ce_weight * ce
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
        elapsed = best.minutes()
        history.append({"epoch": epoch + 1, "train_loss": total / n, "val_nll": float(nll),
                        "val_ce": float(ce), "val_accuracy": float(acc), "minutes": elapsed})
        _log(f"epoch {epoch + 1:3d}  train {total / n:.4f}  val nll {float(nll):.4f}  "
             f"ce {float(ce):.4f}  acc {float(acc):.4f}  {elapsed:.1f} min", log)
        best.update(net, val_loss, epoch + 1)
        pace = elapsed / (epoch + 1)
        if (fit := max(epoch + 1, epochs_within(pace, epochs, max_minutes))) < epochs:
            _log(f"{epochs} epochs would take {pace * epochs:.0f} min here: schedule "
                 f"shortened to {fit} epochs to stay within {max_minutes:g} min", log)
            epochs = fit
            sched = _one_cycle(opt, lr, epochs * steps_per_epoch,
                               done=(epoch + 1) * steps_per_epoch)
        if epoch + 1 >= epochs or best.time_is_up(epoch + 1):
            break
    return best.save(out, net, history, kind="shipped",
                     metadata={**_metadata(seed, train_sets + val_sets),
                               "version": SHIPPED_VERSION, "bf16_encoder": bf16_encoder})


def shift_features(x: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
    """``featurize`` rows (batch, channels·N_BINS) moved by ``k`` whole q bins (per row; k > 0
    towards higher q): the features of the same curve recorded at q·r^k, r the bin ratio, i.e.
    of the same shape with every length divided by r^k. Bins moved in from outside are masked;
    log I is re-centred over the bins still valid."""
    rows = x.reshape(x.shape[0], -1, N_BINS)
    source = torch.arange(N_BINS, device=x.device)[None, :] - k[:, None]
    valid = ((source >= 0) & (source < N_BINS)).to(x.dtype)
    moved = rows.gather(2, source.clamp(0, N_BINS - 1)[:, None, :].expand_as(rows))
    moved = moved * valid[:, None, :]
    mask = moved[:, 1]
    mean = (moved[:, 0] * mask).sum(1, keepdim=True) / mask.sum(1, keepdim=True).clamp(min=1)
    moved[:, 0] = (moved[:, 0] - mean) * mask
    return moved.reshape(x.shape)


def _metadata(seed: int, sets: tuple) -> dict:
    """What a weight file must carry to be reproduced and used correctly."""
    from dataclasses import asdict

    from ..catalogue import CATALOGUE
    from ..features import NETWORK_Q_EDGES
    from .dataset import FORMAT_VERSION, STANDARD_SETS

    return {"parameter_names": PARAMETER_NAMES, "shapes": [e.name for e in CATALOGUE],
            "network_q_edges_1_per_A": NETWORK_Q_EDGES.tolist(),
            "normalisation": "log10 of bin-mean I minus its mean over valid bins; mask channel; "
                             "log10 relative error of the bin mean + NOISE_OFFSET (0: no dI)",
            "priors": {e.name: {prior: {k: repr(v) for k, v in values.items()}
                                for prior, values in e.priors.items()} for e in CATALOGUE},
            "sets": {n if isinstance(n, str) else f"custom-{n.key()}":
                     asdict(STANDARD_SETS[n] if isinstance(n, str) else n) for n in sets},
            "data_format": FORMAT_VERSION, "seed": seed, "torch": str(torch.__version__)}


# --- thesis baseline -----------------------------------------------------------------------

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
