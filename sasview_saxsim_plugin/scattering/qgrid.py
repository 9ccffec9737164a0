"""The DFT q grid and absolute-unit conversion (docs: Methods, units and normalisation).

q_k = 2π·k/L for k = -n/2 … n/2-1 (``2π·fftfreq(n, d)``), in 1/Å. A voxel density ρ (SLD
contrast, 1e-6/Å²) has amplitude A(q) = d³·DFT(ρ)(q) (1e-6 Å); intensity per volume V (Å³)
is I = |A|²/V · 1e-4 in 1/cm (the 1e-4 turns (1e-6/Å²)²·Å³ into 1/cm, as in sasmodels).
"""

from __future__ import annotations

import numpy as np

#: (1e-6/Å²)² · Å⁶ / Å³ -> 1/cm
ABSOLUTE_UNITS = 1e-4


def dft_q(n: int, spacing: float) -> np.ndarray:
    """DFT frequencies 2π·fftfreq(n, d) in 1/Å (FFT order)."""
    return 2 * np.pi * np.fft.fftfreq(n, spacing)


def q_step(n: int, spacing: float) -> float:
    """Spacing of the DFT q grid, 2π/L (1/Å)."""
    return 2 * np.pi / (n * spacing)


def trusted_q_max(spacing: float) -> float:
    """Upper end of the q range we trust for a voxel size d: π/(2d) (1/Å), half of Nyquist."""
    return np.pi / (2 * spacing)


def intensity_factor(spacing: float, volume: float) -> float:
    """Factor turning raw |DFT(ρ)|² into 1/cm for normalisation volume ``volume`` (Å³)."""
    return spacing ** 6 / volume * ABSOLUTE_UNITS
