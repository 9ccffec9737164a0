"""Route to oriented 2D: the central slice kz = 0 (beam along z, thesis 3.1.8 / sasmodels'
detector frame), rebinned and masked."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import SaxsimInputError
from .qgrid import dft_q, intensity_factor, trusted_q_max


@dataclass
class Detector2D:
    """I(qx, qy) on a regular grid: ``qx``, ``qy`` (1/Å, 2D arrays), ``intensity`` and
    ``sigma`` (1/cm), ``mask`` (True = use), ``rebin`` (fine pixels per side of a pixel)."""

    qx: np.ndarray
    qy: np.ndarray
    intensity: np.ndarray
    sigma: np.ndarray
    mask: np.ndarray
    rebin: int = 1

    @property
    def q(self) -> np.ndarray:
        return np.hypot(self.qx, self.qy)


def _crop(n: int, rebin: int) -> slice:
    m = (n // rebin) * rebin
    # keep q = 0 at the centre of a block when possible
    start = (n - m) // 2
    return slice(start, start + m)


def rebin2d(values: np.ndarray, rebin: int) -> np.ndarray:
    """Mean over ``rebin``×``rebin`` blocks of a centred (fftshifted) 2D array."""
    n = values.shape[0]
    sl = _crop(n, rebin)
    m = sl.stop - sl.start
    return values[sl, sl].reshape(m // rebin, rebin, m // rebin, rebin).mean(axis=(1, 3))


def fine_q(n: int, spacing: float) -> tuple[np.ndarray, np.ndarray]:
    """Centred detector q grids (qx, qy), 1/Å, of the kz = 0 slice."""
    q1 = np.fft.fftshift(dft_q(n, spacing))
    return np.meshgrid(q1, q1, indexing="ij")


def detector_from_slice(slice_fft_order: np.ndarray, box_length: float, spacing: float,
                        volume: float | None = None, scale: float = 1.0, rebin: int = 1,
                        q_min: float | None = None, q_max: float | None = None,
                        i_emin: float = 0.01) -> Detector2D:
    """Turn the engine's raw |DFT|² slice (FFT order) into a centred, rebinned 2D pattern.

    ``rebin``×``rebin`` pixels are averaged (σ = standard error over the block's independent
    half, at least ``i_emin``·I). The mask keeps q_min ≤ |q| ≤ q_max (defaults: two rebinned
    pixels from the centre to π/(2d), which also drops the under-represented corners).
    """
    n = slice_fft_order.shape[0]
    if rebin < 1 or n // rebin < 2:
        raise SaxsimInputError(f"rebin factor must be between 1 and {n // 2}, got {rebin}")
    inten = np.fft.fftshift(slice_fft_order).astype(float)
    inten *= intensity_factor(spacing, volume or box_length ** 3) * scale
    qx, qy = fine_q(n, spacing)
    mean = rebin2d(inten, rebin)
    if rebin > 1:
        sq = rebin2d(inten ** 2, rebin)
        k = rebin * rebin
        std = np.sqrt(np.maximum(sq - mean ** 2, 0) * k / (k - 1))
        sem = std / np.sqrt(k / 2)      # Friedel mates are not independent
    else:
        sem = mean.copy()               # one speckle pixel: fluctuation ~ its own mean
    sigma = np.maximum(sem, i_emin * mean)
    qxb, qyb = rebin2d(qx, rebin), rebin2d(qy, rebin)
    q = np.hypot(qxb, qyb)
    lo = q_min if q_min is not None else 2 * np.pi / box_length * rebin * 1.5
    hi = q_max if q_max is not None else trusted_q_max(spacing)
    mask = (q >= lo) & (q <= hi)
    return Detector2D(qxb, qyb, mean, sigma, mask, rebin)
