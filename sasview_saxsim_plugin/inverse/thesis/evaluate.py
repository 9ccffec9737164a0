"""The thesis INN's predictions and the metrics of thesis section 4.2 (confusion matrix,
parameter errors, interval coverage) over its three shapes."""

from __future__ import annotations

import numpy as np
import torch

from ..checkpoint import read_weights
from ..features import N_BINS
from .catalogue import PARAMETER_NAMES, SHAPE_NAMES, entry
from .network import N_SHAPES, THESIS_DIM, THESIS_X, ThesisINN


class ThesisPredictor:
    """Inverse direction of the thesis INN: [y, z ~ N(0, 1)] -> x, read back to parameters."""

    def __init__(self, path):
        blob = read_weights(path)
        self.net = ThesisINN(**blob["config"])
        self.net.load_state_dict(blob["state"])
        self.net.eval()
        self.mean = np.asarray(blob["stats"]["mean"])
        self.std = np.asarray(blob["stats"]["std"])

    @torch.no_grad()
    def predict(self, features: np.ndarray, n_samples: int = 200, seed: int = 0):
        """Class probabilities (fraction of samples per class) and physical samples."""
        y = torch.as_tensor(np.atleast_2d(features)[:, :N_BINS], dtype=torch.float32)
        rows = y.shape[0]
        gen = torch.Generator().manual_seed(seed)
        z = torch.randn(rows * n_samples, THESIS_DIM - N_BINS, generator=gen)
        x = self.net(torch.cat([y.repeat_interleave(n_samples, 0), z], 1), rev=True)
        x = x[:, :THESIS_X].numpy().reshape(rows, n_samples, THESIS_X)
        votes = x[..., :N_SHAPES].argmax(-1)
        probs = np.stack([(votes == k).mean(1) for k in range(N_SHAPES)], 1)
        chosen = probs.argmax(1)
        radius = np.take_along_axis(x[..., N_SHAPES:2 * N_SHAPES],
                                    chosen[:, None, None].repeat(n_samples, 1), axis=2)[..., 0]
        z_params = np.concatenate([radius[..., None], x[..., 2 * N_SHAPES:]], axis=-1)
        samples = z_params * self.std + self.mean
        samples[..., 1:] = np.maximum(samples[..., 1:], 0.0)
        return probs, samples


def evaluate_predictions(shape_true: np.ndarray, params_true: np.ndarray, probs: np.ndarray,
                         samples: np.ndarray) -> dict:
    """Metrics of one network on one test set. Parameter errors use the curves whose shape was
    classified right; lengths compared relatively (median |Δ|/true) and as RMSE in Å and MSE
    in nm² (thesis Table 4.4), pd and volume fraction as absolute errors."""
    pred = probs.argmax(1)
    confusion = np.zeros((N_SHAPES, N_SHAPES), int)
    np.add.at(confusion, (shape_true, pred), 1)
    out = {"n": int(len(pred)), "accuracy": float((pred == shape_true).mean()),
           "confusion": confusion.tolist(), "per_shape": {}}
    med = np.median(samples, axis=1)
    p16, p84 = np.percentile(samples, [16, 84], axis=1)
    for k, shape in enumerate(SHAPE_NAMES):
        rows = (shape_true == k) & (pred == k)
        stats = {}
        for j, name in enumerate(PARAMETER_NAMES):
            if name not in entry(shape).parameters or not rows.any():
                continue
            t, m = params_true[rows, j], med[rows, j]
            inside = (params_true[rows, j] >= p16[rows, j]) & (params_true[rows, j] <= p84[rows, j])
            s = {"coverage_68": float(inside.mean())}
            if name in ("radius", "length"):
                rel = np.abs(m - t) / t
                s.update(median_relative_error=float(np.median(rel)),
                         p90_relative_error=float(np.percentile(rel, 90)),
                         rmse_A=float(np.sqrt(np.mean((m - t) ** 2))),
                         mse_nm2=float(np.mean(((m - t) / 10.0) ** 2)))
            else:
                err = np.abs(m - t)
                s.update(median_abs_error=float(np.median(err)),
                         rmse=float(np.sqrt(np.mean(err**2))), mse=float(np.mean(err**2)))
            stats[name] = s
        out["per_shape"][shape] = stats
    return out
