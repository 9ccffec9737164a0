"""Map physical shape parameters to the networks' standardised vector and back.

radius and length are learnt as ln(Å); every coordinate is shifted and scaled to zero mean and
unit variance under the broad prior of the catalogue (uniform in the learnt coordinate).
"""

from __future__ import annotations

import numpy as np

from .catalogue import (
    BROAD_LENGTH,
    BROAD_PD,
    BROAD_RADIUS,
    BROAD_VOLFRACTION,
    LOG_PARAMETERS,
    PARAMETER_NAMES,
)

_RANGES = {
    "radius": (np.log(BROAD_RADIUS.low), np.log(BROAD_RADIUS.high)),
    "radius_pd": (BROAD_PD.low, BROAD_PD.high),
    "length": (np.log(BROAD_LENGTH.low), np.log(BROAD_LENGTH.high)),
    "length_pd": (BROAD_PD.low, BROAD_PD.high),
    "volfraction": (BROAD_VOLFRACTION.low, BROAD_VOLFRACTION.high),
}
CENTER = np.array([(a + b) / 2 for a, b in (_RANGES[p] for p in PARAMETER_NAMES)])
WIDTH = np.array([(b - a) / np.sqrt(12.0) for a, b in (_RANGES[p] for p in PARAMETER_NAMES)])
_LOG = np.array([p in LOG_PARAMETERS for p in PARAMETER_NAMES])
#: physical bounds applied to samples mapped back (pd and volume fraction stay physical)
LOWER = np.array([1.0, 0.0, 1.0, 0.0, 0.0])
UPPER = np.array([np.inf, 1.0, np.inf, 1.0, 0.74])


def as_dict(row: np.ndarray) -> dict:
    """name -> value (Å, relative, fraction) of one parameter row over ``PARAMETER_NAMES``,
    without the parameters its shape does not have (NaN)."""
    return {n: float(v) for n, v in zip(PARAMETER_NAMES, row, strict=True) if np.isfinite(v)}


def to_standard(values: np.ndarray) -> np.ndarray:
    """(..., 5) physical parameters (Å, relative, fraction; NaN = inactive) -> standardised."""
    v = np.array(values, dtype=float, copy=True)
    v[..., _LOG] = np.log(v[..., _LOG])
    return (v - CENTER) / WIDTH


def from_standard(standard: np.ndarray) -> np.ndarray:
    """Inverse of ``to_standard``, clipped to physical bounds."""
    v = np.asarray(standard, dtype=float) * WIDTH + CENTER
    v[..., _LOG] = np.exp(np.minimum(v[..., _LOG], 50.0))
    return np.clip(v, LOWER, UPPER)
