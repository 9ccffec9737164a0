"""What an instrument makes of a model curve, broad enough to cover real acquisitions.

A model curve is computed once on ``CALC_Q`` (1 % log steps); every acquisition drawn from it is
cheap, so one model curve is "measured" several times by different instruments. The priors
(``draw_acquisition``) span what SAXS/SANS instruments deliver (docs: Methods, "Acquisitions the
network is trained on"):

* q from USAXS to WAXS edges: q_min 0.0005-0.03, q_max 0.1-1 1/Å; 20-1000 points, log or
  linear spacing;
* resolution: none, Gaussian pinhole with σ_q/q 0.5-15 %, or slit smearing (slit length
  0.005-0.1 1/Å, Kratky cameras and Bonse-Hart USAXS);
* a flat background from none to 3x the particle signal at the first point, either left in or
  subtracted with a residual error (over-subtraction makes the last points negative: those are
  dropped like in a real file);
* noise: counting statistics (counts follow the signal and the detector pixels per q bin),
  per-point multiplicative noise, or counting plus a relative and an absolute floor;
* the reported dI exact or mis-estimated by up to 2x (and missing for a quarter of the training
  rows: ``train`` blanks the dI/I channel);
* any absolute scale (arbitrary or absolute units).

Only points with 0.0015 ≤ q ≤ 0.65 1/Å are simulated: the network reads 0.002-0.6 1/Å, so points
outside change nothing it sees (``features``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy.special import roots_legendre

#: model grid (1/Å): 1.0 % log steps wide enough for 3σ pinhole smearing at the simulated ends
CALC_Q = np.geomspace(8e-4, 0.95, 700)
_CALC_STEP = float(np.log(CALC_Q[1] / CALC_Q[0]))
#: the simulated part of every acquisition (1/Å)
SIMULATED_RANGE = (0.0015, 0.65)
RESOLUTIONS = ("none", "pinhole", "slit")
NOISE_MODELS = ("counting", "multiplicative", "mixed")


@dataclass(frozen=True)
class Acquisition:
    """One simulated measurement. q in 1/Å; ``dq_over_q``: Gaussian pinhole σ_q / q;
    ``slit_length``: slit-smearing length (1/Å); ``background``: flat, in units of the scaled
    particle signal at the first point; ``residual``: what remains of a subtracted background,
    in units of the scaled particle signal at the last point (negative: over-subtracted);
    ``counts``: counts in the first point; ``relative_noise``: σ/I of the multiplicative noise
    or the relative floor of the mixed model; ``absolute_noise``: absolute floor in units of
    the particle signal at the last point; ``error_scale``: reported dI / true σ."""

    q_min: float
    q_max: float
    n_points: int
    log_spacing: bool
    resolution: str
    dq_over_q: float
    slit_length: float
    scale: float
    background: float
    subtracted: bool
    residual: float
    noise: str
    counts: float
    relative_noise: float
    absolute_noise: float
    error_scale: float

    def full_q(self) -> np.ndarray:
        """Every point the instrument records (1/Å)."""
        if self.log_spacing:
            return np.geomspace(self.q_min, self.q_max, self.n_points)
        return np.linspace(self.q_min, self.q_max, self.n_points)

    def q(self) -> np.ndarray:
        """The recorded points inside ``SIMULATED_RANGE`` (1/Å)."""
        q = self.full_q()
        return q[(q >= SIMULATED_RANGE[0]) & (q <= SIMULATED_RANGE[1])]


def _log_uniform(rng: np.random.Generator, low: float, high: float) -> float:
    return float(np.exp(rng.uniform(np.log(low), np.log(high))))


def draw_acquisition(rng: np.random.Generator) -> Acquisition:
    """One acquisition from the broad priors (module docstring)."""
    q_min = _log_uniform(rng, 0.0005, 0.03)
    q_max = _log_uniform(rng, 0.1, 1.0)
    n_points = int(round(_log_uniform(rng, 20, 1000)))
    u = rng.random()
    resolution = "none" if u < 0.25 else ("pinhole" if u < 0.85 else "slit")
    noise = NOISE_MODELS[int(rng.choice(3, p=[0.45, 0.2, 0.35]))]
    subtracted = bool(rng.random() < 0.35)
    return Acquisition(
        q_min=q_min, q_max=q_max, n_points=n_points, log_spacing=bool(rng.random() < 0.5),
        resolution=resolution,
        dq_over_q=float(rng.uniform(0.005, 0.15)) if resolution == "pinhole" else 0.0,
        slit_length=_log_uniform(rng, 0.005, 0.1) if resolution == "slit" else 0.0,
        scale=_log_uniform(rng, 1e-4, 1e4),
        background=0.0 if rng.random() < 0.2 else _log_uniform(rng, 1e-5, 3.0),
        subtracted=subtracted,
        residual=float(rng.uniform(-1.5, 1.5)) if subtracted and rng.random() < 0.6 else 0.0,
        noise=noise,
        counts=_log_uniform(rng, 1e2, 1e7),
        relative_noise=(float(rng.uniform(0.01, 0.15)) if noise == "multiplicative"
                        else _log_uniform(rng, 1e-3, 5e-2)),
        absolute_noise=_log_uniform(rng, 1e-3, 1.0) if noise == "mixed" else 0.0,
        error_scale=1.0 if rng.random() < 0.6 else _log_uniform(rng, 0.5, 2.0),
    )


@lru_cache(maxsize=64)
def _pinhole_kernel(dq_over_q: float) -> np.ndarray:
    """Convolution kernel on CALC_Q's log grid for Gaussian pinhole smearing σ_q = r·q.

    With q' = q·e^u, ∫ I(q') G(q' − q; r q) dq' = ∫ I(q e^u) e^u G(e^u − 1; r) du: on a log grid
    the smearing is a convolution with a kernel that does not depend on q. Like sasmodels'
    ``pinhole_resolution`` the Gaussian is cut at −2.5σ and +3σ and normalised."""
    reach = max(np.log1p(3.0 * dq_over_q), -np.log1p(-min(2.5 * dq_over_q, 0.99)))
    half = int(np.ceil(reach / _CALC_STEP)) + 1
    u = _CALC_STEP * np.arange(-half, half + 1)
    t = np.expm1(u) / dq_over_q
    w = np.exp(u) * np.exp(-0.5 * t**2) * ((t >= -2.5) & (t <= 3.0))
    return w / w.sum()


def pinhole_smear(i_calc: np.ndarray, dq_over_q: float) -> np.ndarray:
    """I on CALC_Q pinhole-smeared with σ_q / q = ``dq_over_q`` (ends: the edge value held)."""
    if dq_over_q < 0.5 * _CALC_STEP:
        return i_calc
    k = _pinhole_kernel(round(float(dq_over_q), 5))
    half = k.size // 2
    padded = np.pad(i_calc, half, mode="edge")
    return np.correlate(padded, k, mode="valid")  # out[i] = Σ_m I(q_i e^(u_m)) k_m


def _interp_loglog(q: np.ndarray, i_calc: np.ndarray) -> np.ndarray:
    return np.exp(np.interp(np.log(q), np.log(CALC_Q), np.log(np.maximum(i_calc, 1e-300))))


def slit_smear(i_calc: np.ndarray, q: np.ndarray, slit_length: float, nodes: int = 40
               ) -> np.ndarray:
    """Slit-smeared I at q (1/Å): (1/L) ∫₀ᴸ I(√(q² + u²)) du, L = ``slit_length`` (1/Å), by
    Gauss-Legendre quadrature on the model curve (sasmodels' Slit1D with zero width)."""
    x, w = roots_legendre(nodes)
    u = 0.5 * slit_length * (x + 1.0)
    qq = np.sqrt(q[:, None] ** 2 + u[None, :] ** 2)
    return _interp_loglog(qq.ravel(), i_calc).reshape(qq.shape) @ (0.5 * w)


def expected_measurement(i_calc: np.ndarray, acq: Acquisition
                         ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(q 1/Å, mean I, true σ) that ``acq`` records on average from the model curve on CALC_Q."""
    q = acq.q()
    if acq.resolution == "slit":
        signal = slit_smear(i_calc, q, acq.slit_length)
    else:
        smeared = pinhole_smear(i_calc, acq.dq_over_q) if acq.resolution == "pinhole" else i_calc
        signal = _interp_loglog(q, smeared)
    signal = acq.scale * signal
    if q.size == 0:
        return q, signal, signal
    bg = acq.background * signal[0]
    total = signal + bg
    # a separately measured background subtracted: its mean goes, a residual may stay
    mean = signal + acq.residual * signal[-1] if acq.subtracted else total
    if acq.noise == "multiplicative":  # the thesis' I·N(1, s²) on what was recorded
        return q, mean, acq.relative_noise * total
    # counts per point follow the intensity and the detector pixels of the point's annulus
    pixels = (q / q[0]) ** (2.0 if acq.log_spacing else 1.0)
    counts = acq.counts * (total / total[0]) * pixels
    sigma = total / np.sqrt(counts)
    if acq.noise == "mixed":
        sigma = np.sqrt(sigma**2 + (acq.relative_noise * total) ** 2
                        + (acq.absolute_noise * signal[-1]) ** 2)
    if acq.subtracted:  # the background run's own counting noise adds
        sigma = np.hypot(sigma, bg / np.sqrt(np.maximum(counts * bg / total, 1e-12)))
    return q, mean, sigma


def measure(i_calc: np.ndarray, acq: Acquisition, rng: np.random.Generator
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(q 1/Å, I, reported dI) of one noisy measurement of the model curve on CALC_Q."""
    q, mean, sigma = expected_measurement(i_calc, acq)
    intensity = mean + rng.normal(0.0, 1.0, q.size) * sigma
    return q, intensity, sigma * acq.error_scale
