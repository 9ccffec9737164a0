"""Model curves of the catalogue families on measured q points (optionally pinhole-smeared),
and the linear scale + background that best match a measured curve."""

from __future__ import annotations

import numpy as np
from sasmodels.resolution import pinhole_resolution

from .families import family

#: resolution narrower than ~1.5 % of q changes nothing the 600-point grid can see
MIN_SMEARING = 0.015


class SmearedCurve:
    """Family curves at the measured q (1/Å), smeared like sasmodels' Pinhole1D with the data's
    dq (1-σ Gaussian q resolution, 1/Å) or like its Slit1D with the data's slit length
    (``slit_length``, 1/Å; SasView's dxl): the smearing matrix is built once and reused for
    every parameter set (a fit or a sampler calls it many times); ``points``: model points
    the smearing integrates over (log-spaced)."""

    def __init__(self, q: np.ndarray, dq: np.ndarray | None = None,
                 slit_length: np.ndarray | float | None = None, points: int = 600):
        self.q = np.asarray(q, dtype=float)
        self.weights = None
        if slit_length is not None and np.any(np.asarray(slit_length, dtype=float) > 0):
            from sasmodels.resolution import Slit1D

            lengths = np.broadcast_to(np.asarray(slit_length, dtype=float), self.q.shape)
            top = float(np.sqrt(self.q.max() ** 2 + lengths.max() ** 2))
            q_calc = np.geomspace(max(0.5 * self.q.min(), 1e-5), 1.01 * top, points)
            slit = Slit1D(self.q, q_length=lengths, q_calc=q_calc)
            self.q_calc, self.weights = slit.q_calc, slit.weight_matrix
        elif dq is not None and np.median(np.asarray(dq, dtype=float) / self.q) >= MIN_SMEARING:
            dq = np.maximum(np.asarray(dq, dtype=float), MIN_SMEARING * self.q)
            lo = max(float(np.min(self.q - 3 * dq)), 0.5 * self.q[0], 1e-5)
            self.q_calc = np.geomspace(lo, float(np.max(self.q + 3 * dq)), points)
            self.weights = pinhole_resolution(self.q_calc, self.q, dq)

    def __call__(self, name: str, values: dict) -> np.ndarray:
        """I(q) (1/cm at scale 1, background 0) of family ``name`` at ``values`` (Å)."""
        f = family(name)
        with np.errstate(all="ignore"):
            if self.weights is None:
                return f.intensity(self.q, values)
            return f.intensity(self.q_calc, values) @ self.weights


def model_intensity(name: str, q: np.ndarray, values: dict, dq: np.ndarray | None = None,
                    slit_length: np.ndarray | float | None = None) -> np.ndarray:
    """I(q) (1/cm at scale 1, background 0) of family ``name`` at q (1/Å); with dq (1-σ
    Gaussian q resolution, 1/Å) the curve is smeared like sasmodels' Pinhole1D, with a slit
    length (1/Å) like its Slit1D."""
    return SmearedCurve(q, dq, slit_length)(name, values)


def fit_scale_background(intensity: np.ndarray, model: np.ndarray, sigma: np.ndarray
                         ) -> tuple[float, float]:
    """Weighted least squares I ≈ scale·model + background (scale ≥ 0)."""
    w = 1.0 / sigma
    a = np.stack([model * w, w], axis=1)
    (scale, background), *_ = np.linalg.lstsq(a, intensity * w, rcond=None)
    if scale <= 0:
        norm = float(np.sum((model * w) ** 2))
        scale = max(float(np.sum(intensity * model * w**2)) / norm, 1e-30) if norm > 0 else 1e-30
        background = 0.0
    return float(scale), float(background)


def noise_estimate(q: np.ndarray, intensity: np.ndarray) -> np.ndarray:
    """σ(I) from the point-to-point scatter when a file has no uncertainties: a running median
    of |second difference| / sqrt(6) of I, relative to I (curvature makes it an overestimate)."""
    log_i = np.log(intensity)
    second = np.abs(log_i[1:-1] - 0.5 * (log_i[:-2] + log_i[2:]))
    second = np.concatenate([second[:1], second, second[-1:]]) * np.sqrt(2.0 / 3.0)
    width = max(5, intensity.size // 20) | 1
    pad = np.pad(second, width // 2, mode="edge")
    windows = np.lib.stride_tricks.sliding_window_view(pad, width)
    relative = np.maximum(np.median(windows, axis=1), 1e-3)
    return relative * intensity
