"""From a measured curve to the network's input, shared by training and ``estimate``.

The curve is averaged into 128 log-spaced q bins between 0.002 and 0.6 1/Å (``NETWORK_Q``), bins
the data do not reach are masked, log10 I is taken and its mean over the valid bins removed (the
absolute scale is unknown). Input vector (384 numbers): [normalised log10 I · mask, mask,
noise], where noise is log10 of the relative error of each bin's mean, shifted by
NOISE_OFFSET to be positive, or 0 everywhere when the curve has no usable dI. Without it the
network cannot tell a real 1 % wiggle (a weak structure-factor peak) from counting noise.
Weight files trained on the first two channels only (format 2) read the first 256 numbers.
"""

from __future__ import annotations

import numpy as np

from ..errors import SaxsimInputError

NETWORK_Q_EDGES = np.geomspace(0.002, 0.6, 129)
NETWORK_Q = np.sqrt(NETWORK_Q_EDGES[1:] * NETWORK_Q_EDGES[:-1])
N_BINS = NETWORK_Q.size
CHANNELS = 3
FEATURES = CHANNELS * N_BINS
#: log10(relative error) is clipped to [NOISE_CLIP] and shifted by NOISE_OFFSET (values 0.5-5)
NOISE_CLIP = (-4.0, 0.5)
NOISE_OFFSET = 4.5
MIN_POINTS = 20
MIN_BINS = 24
#: every training acquisition starts at or below this q and ends at or above the next (1/Å;
#: training.acquisition.draw_acquisition): outside, the network's calibration was never
#: measured
TRAINING_Q_MIN_UP_TO = 0.03
TRAINING_Q_MAX_FROM = 0.1
#: q factors of the curves whose class probabilities ``estimate`` averages (test-time
#: augmentation): every length of a family enters I(q) as q·length, so the curve I(f·q) is
#: one of the same family with its lengths divided by f (the unknown scale absorbs the volume
#: factor). ±10 % in 9 steps (chosen for the three-shape network of 2026-12-03 on its
#: held-out `select` set; docs: Methods).
CLASS_DILATIONS = np.exp(np.linspace(-0.1, 0.1, 9))


def clean_curve(q, intensity, d_intensity=None, q_unit: str = "1/A"
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, list[str]]:
    """Validate a measured curve; return sorted (q 1/Å, I, dI or None, notes).

    Drops non-finite and non-positive intensities (with a note), converts 1/nm, refuses curves
    that are too short or look like 1/nm while declared 1/Å (``SaxsimInputError``).
    """
    notes: list[str] = []
    q = np.asarray(q, dtype=float).ravel()
    intensity = np.asarray(intensity, dtype=float).ravel()
    if q.shape != intensity.shape:
        raise SaxsimInputError(f"q and I differ in length ({q.size} vs {intensity.size})")
    d = None if d_intensity is None else np.asarray(d_intensity, dtype=float).ravel()
    if d is not None and d.shape != q.shape:
        raise SaxsimInputError(f"dI has {d.size} values for {q.size} q points")
    if q_unit in ("1/nm", "nm^-1"):
        q = q / 10.0
    elif q_unit not in ("1/A", "1/Å", "A^-1"):
        raise SaxsimInputError(f"q_unit must be '1/A' or '1/nm', not {q_unit!r}")
    reasons = {"NaN/inf q": ~np.isfinite(q), "q <= 0": np.isfinite(q) & (q <= 0),
               "NaN/inf intensity": ~np.isfinite(intensity)}
    if d is not None:
        reasons["NaN/inf dI"] = ~np.isfinite(d)
    keep = ~np.any(list(reasons.values()), axis=0)
    if (~keep).any():
        why = ", ".join(f"{name} {int(m.sum())}" for name, m in reasons.items() if m.any())
        notes.append(f"{int((~keep).sum())} of {q.size} rows dropped: {why}")
    positive = intensity > 0
    if (keep & ~positive).any():
        notes.append(f"{int((keep & ~positive).sum())} of {q.size} rows dropped: I <= 0 "
                     "(the network reads log I)")
    keep &= positive
    if keep.sum() < MIN_POINTS:
        raise SaxsimInputError(f"only {int(keep.sum())} usable points (finite, q > 0, I > 0); "
                               f"at least {MIN_POINTS} are needed")
    order = np.argsort(q[keep])
    q, intensity = q[keep][order], intensity[keep][order]
    d = None if d is None else d[keep][order]
    if q_unit.startswith("1/A") or q_unit in ("1/Å", "A^-1"):
        if q[-1] > 1.5 and q[0] > 0.01:
            raise SaxsimInputError(
                f"q runs from {q[0]:.3g} to {q[-1]:.3g}: that looks like 1/nm, not 1/Å. "
                "Divide q by 10 or pass q_unit='1/nm' (CLI: --q-unit 1/nm)")
    return q, intensity, d, notes


def featurize(q: np.ndarray, intensity: np.ndarray, d_intensity: np.ndarray | None = None
              ) -> tuple[np.ndarray, int]:
    """Network input (FEATURES floats, float32) and the number of valid bins, from a clean curve.

    q in 1/Å, sorted; I > 0; dI (1-σ, same units as I) optional, used only when all > 0. Each
    bin holds the mean I of its points and the relative error of that mean,
    sqrt(Σ dI²)/n / mean I; bins inside the data range without points get the log-log
    interpolation of I and of the points' dI/I at their centre; bins outside are masked.
    """
    log_q = np.log(q)
    idx = np.searchsorted(NETWORK_Q_EDGES, q, side="right") - 1
    inside = (idx >= 0) & (idx < N_BINS)
    sums = np.bincount(idx[inside], weights=intensity[inside], minlength=N_BINS)
    counts = np.bincount(idx[inside], minlength=N_BINS)
    log_i = np.full(N_BINS, np.nan)
    has = counts > 0
    log_i[has] = np.log10(sums[has] / counts[has])
    covered = (NETWORK_Q >= q[0]) & (NETWORK_Q <= q[-1]) & ~has
    if covered.any():
        log_i[covered] = np.interp(np.log(NETWORK_Q[covered]), log_q, np.log10(intensity))
    mask = np.isfinite(log_i)
    n_valid = int(mask.sum())
    out = np.zeros(FEATURES, dtype=np.float32)
    if n_valid:
        values = log_i[mask] - log_i[mask].mean()
        out[:N_BINS][mask] = values
        out[N_BINS:2 * N_BINS][mask] = 1.0
    usable = (d_intensity is not None and d_intensity.shape == q.shape
              and bool(np.all(d_intensity > 0)))
    if n_valid and usable:
        var = np.bincount(idx[inside], weights=d_intensity[inside] ** 2, minlength=N_BINS)
        log_rel = np.full(N_BINS, np.nan)
        log_rel[has] = np.log10(np.sqrt(var[has]) / sums[has])  # = sqrt(Σσ²)/n / (Σ I/n)
        if covered.any():
            log_rel[covered] = np.interp(np.log(NETWORK_Q[covered]), log_q,
                                         np.log10(d_intensity / intensity))
        noise = np.clip(log_rel[mask], *NOISE_CLIP) + NOISE_OFFSET
        out[2 * N_BINS:][mask] = noise
    return out, n_valid


def dilated_features(q: np.ndarray, intensity: np.ndarray,
                     d_intensity: np.ndarray | None = None,
                     factors: np.ndarray = CLASS_DILATIONS) -> np.ndarray:
    """``featurize`` rows (len(factors), FEATURES) of the curve with q multiplied by each of
    ``factors`` (dimensionless; see ``CLASS_DILATIONS``); q in 1/Å, as for ``featurize``."""
    return np.stack([featurize(q * f, intensity, d_intensity)[0] for f in factors])


def without_uncertainties(features: np.ndarray) -> np.ndarray:
    """A copy of ``featurize`` rows with the dI/I channel blanked, as for a curve without dI."""
    out = np.array(features, copy=True)
    out[..., 2 * N_BINS:] = 0.0
    return out


def has_uncertainties(features: np.ndarray) -> np.ndarray:
    """Per ``featurize`` row: does it carry the dI/I channel (the curve had usable dI)?"""
    return np.any(np.atleast_2d(features)[:, 2 * N_BINS:] != 0, axis=1)


def check_range(q: np.ndarray, n_valid: int) -> list[str]:
    """Notes on how the q range relates to the training range; error if they hardly overlap."""
    notes = []
    if n_valid < MIN_BINS:
        raise SaxsimInputError(
            f"the data cover only {n_valid} of the network's {N_BINS} q bins (0.002-0.6 1/Å, "
            f"need {MIN_BINS}): q range {q[0]:.3g}-{q[-1]:.3g} 1/Å is outside what it was "
            "trained on")
    if q[0] < NETWORK_Q_EDGES[0] or q[-1] > NETWORK_Q_EDGES[-1]:
        notes.append(f"points outside 0.002-0.6 1/Å (data {q[0]:.3g}-{q[-1]:.3g}) not used by "
                     "the network")
    if not inside_training_range(q):
        notes.append(f"q range {q[0]:.3g}-{q[-1]:.3g} 1/Å is narrower than every training "
                     f"acquisition's (q_min ≤ {TRAINING_Q_MIN_UP_TO}, q_max ≥ "
                     f"{TRAINING_Q_MAX_FROM} 1/Å): less reliable, so not called confident")
    return notes


def inside_training_range(q: np.ndarray) -> bool:
    """Whether sorted q (1/Å) reaches as low and as high as every training acquisition did
    (``TRAINING_Q_MIN_UP_TO``, ``TRAINING_Q_MAX_FROM``): the range over which ``estimate``'s
    confidence is measured."""
    return bool(q[0] <= TRAINING_Q_MIN_UP_TO and q[-1] >= TRAINING_Q_MAX_FROM)

