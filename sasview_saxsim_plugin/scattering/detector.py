"""Route to oriented 2D: the central slice kz = 0 (beam along z, thesis 3.1.8 / sasmodels'
detector frame), rebinned and masked."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import SaxsimInputError
from .qgrid import dft_q, intensity_factor


@dataclass
class Detector2D:
    """I(qx, qy) on a regular grid: ``qx``, ``qy`` (1/Å, 2D arrays), ``intensity`` and
    ``sigma`` (1/cm), ``mask`` (True = use)."""

    qx: np.ndarray
    qy: np.ndarray
    intensity: np.ndarray
    sigma: np.ndarray
    mask: np.ndarray

    @property
    def q(self) -> np.ndarray:
        return np.hypot(self.qx, self.qy)


def detector_from_slice(slice_fft_order: np.ndarray, box_length: float, spacing: float,
                        volume: float | None = None, scale: float = 1.0, rebin: int = 1,
                        q_min: float | None = None, q_max: float | None = None,
                        i_emin: float = 0.01) -> Detector2D:
    """Turn the engine's raw |DFT|² slice (FFT order) into a centred, rebinned 2D pattern.

    ``rebin`` pixels × ``rebin`` pixels are averaged (σ = standard error of the pixels, at least
    ``i_emin``·I). The mask keeps q_min ≤ |q| ≤ q_max (default: one DFT step to the largest
    circle inside the detector, so the under-represented corners are dropped, thesis 3.1.9).
    """
    n = slice_fft_order.shape[0]
    if rebin < 1 or n // rebin < 2:
        raise SaxsimInputError(f"rebin factor must be between 1 and {n // 2}, got {rebin}")
    inten = np.fft.fftshift(slice_fft_order) * intensity_factor(spacing, volume or box_length ** 3)
    inten = inten * scale
    q1 = np.fft.fftshift(dft_q(n, spacing))
    m = (n // rebin) * rebin
    start = (n - m) // 2 + (1 if (n - m) % 2 else 0) if m < n else 0
    sl = slice(start, start + m)
    blocks = inten[sl, sl].reshape(m // rebin, rebin, m // rebin, rebin)
    qb = q1[sl].reshape(m // rebin, rebin).mean(axis=1)
    mean = blocks.mean(axis=(1, 3))
    if rebin > 1:
        std = blocks.std(axis=(1, 3), ddof=1)
        sem = std / np.sqrt(rebin * rebin / 2)   # Friedel mates are not independent
    else:
        sem = np.zeros_like(mean)
    sigma = np.maximum(sem, i_emin * mean)
    qx, qy = np.meshgrid(qb, qb, indexing="ij")
    q = np.hypot(qx, qy)
    lo = q_min if q_min is not None else 2 * np.pi / box_length * rebin
    hi = q_max if q_max is not None else np.abs(qb).max()
    mask = (q >= lo) & (q <= hi)
    return Detector2D(qx, qy, mean, sigma, mask)
