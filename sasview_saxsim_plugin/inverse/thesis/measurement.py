"""The thesis baseline's measurement (section 3.2.1): model curves on a fine grid, "measured" on
the thesis' DFT q grid with multiplicative noise. (The product's acquisitions:
``training.acquisition``.)

Model curves are computed once on ``CALC_Q`` (fine log grid, wide enough for 3σ smearing at the
ends of the broad q range); every measurement drawn from them is cheap, so one model curve can
be "measured" several times with different instruments.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sasmodels.resolution import pinhole_resolution

#: calculation grid (1/Å): 1.07 % log steps from 0.0013 to 0.8
CALC_Q = np.geomspace(0.0013, 0.8, 600)
_CALC_STEP = float(np.log(CALC_Q[1] / CALC_Q[0]))


@dataclass(frozen=True)
class Instrument:
    """One simulated acquisition. q in 1/Å; dq_over_q the Gaussian pinhole width (σ_q / q)."""

    q_min: float
    q_max: float
    n_points: int
    log_spacing: bool
    dq_over_q: float
    scale: float              # multiplies the model curve (unknown concentration / units)
    background: float         # flat background, in units of the scaled curve at q_max
    counts: float             # counts in the first point (Poisson statistics)
    relative_floor: float     # systematic relative error added in quadrature
    subtracted: bool          # background subtracted: mean removed, its noise kept
    multiplicative_noise: float = 0.0   # thesis noise: I * N(1, s^2), no counting noise

    def q(self) -> np.ndarray:
        if self.log_spacing:
            return np.geomspace(self.q_min, self.q_max, self.n_points)
        return np.linspace(self.q_min, self.q_max, self.n_points)


def thesis_instrument() -> Instrument:
    """Thesis section 3.2.1: DFT grid of a 250 nm box with 512 points (q_k = k 2π/2500 Å,
    k = 1..256, up to 0.64 1/Å), no smearing, no background, I·N(1, 0.1²) noise."""
    dq = 2 * np.pi / 2500.0
    return Instrument(q_min=dq, q_max=256 * dq, n_points=256, log_spacing=False, dq_over_q=0.0,
                      scale=1.0, background=0.0, counts=np.inf, relative_floor=0.0,
                      subtracted=False, multiplicative_noise=0.1)


def smear(i_calc: np.ndarray, q: np.ndarray, dq_over_q: float) -> np.ndarray:
    """I at q (1/Å) from the model on CALC_Q with Gaussian pinhole resolution σ_q = dq_over_q·q
    (sasmodels' pinhole_resolution); below one calc step, log-log interpolation."""
    if dq_over_q < 1.5 * _CALC_STEP:
        return np.exp(np.interp(np.log(q), np.log(CALC_Q), np.log(i_calc)))
    weights = pinhole_resolution(CALC_Q, q, dq_over_q * q)
    return i_calc @ weights


def expected_measurement(i_calc: np.ndarray, instrument: Instrument
                         ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(q 1/Å, mean I, dI) that ``instrument`` records on average from the model curve
    ``i_calc`` on CALC_Q: the noise-free curve (scaled, smeared, with its flat background
    unless subtracted) and the σ its noise has."""
    q = instrument.q()
    ideal = instrument.scale * smear(i_calc, q, instrument.dq_over_q)
    if instrument.multiplicative_noise > 0:
        return q, ideal, instrument.multiplicative_noise * ideal
    bg = instrument.background * ideal[-1]
    total = ideal + bg
    # counts per point follow the signal and the number of detector pixels in the annulus
    pixels = (q / q[0]) ** (2.0 if instrument.log_spacing else 1.0)
    counts = instrument.counts * (total / total[0]) * pixels
    sigma = total * np.sqrt(1.0 / counts + instrument.relative_floor**2)
    if instrument.subtracted:  # an independently measured background is subtracted
        sigma = np.hypot(sigma, bg * np.sqrt(1.0 / np.maximum(counts * bg / total, 1e-12)))
        return q, ideal, sigma
    return q, total, sigma


def measure(i_calc: np.ndarray, instrument: Instrument, rng: np.random.Generator
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(q 1/Å, I, dI) as recorded by ``instrument`` from the model curve ``i_calc`` on CALC_Q:
    ``expected_measurement`` plus its noise."""
    q, mean, sigma = expected_measurement(i_calc, instrument)
    if instrument.multiplicative_noise > 0:
        return q, mean * rng.normal(1.0, instrument.multiplicative_noise, q.size), sigma
    return q, mean + rng.normal(0.0, 1.0, q.size) * sigma, sigma
