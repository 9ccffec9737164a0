"""Route 2 to isotropic I(q): the lattice Debye sum (docs: Methods), exact for the voxel lattice.

The autocorrelation C(m) = Σ_r ρ(r)·ρ(r + m·d) of the (zero-padded, so nothing wraps) density
is summed by integer squared lag m² = mx²+my²+mz²; the orientation average of
|A(q)|² = d⁶ Σ_m C(m)·exp(i q·m d) is then

    ⟨|A(q)|²⟩ = d⁶ Σ_{m²} S(m²) · sin(q d √m²)/(q d √m²),     S(m²) = Σ_{|m|²=m²} C(m)

at any q, with no binning and no speckle. The lattice has few distinct squared distances, so
the sum is short. Computed in double precision: at high q the terms cancel to 1e-8 of I(0).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.fft
import torch

from ..errors import SaxsimInputError
from .qgrid import ABSOLUTE_UNITS


@dataclass
class DebyeProfile:
    """Squared lags ``m2`` (integers) with their summed autocorrelation ``weights`` for a density
    of voxel size ``spacing`` (Å)."""

    m2: np.ndarray
    weights: np.ndarray
    spacing: float

    def amplitude2(self, q: np.ndarray, scale: float = 1.0) -> np.ndarray:
        """Orientation-averaged |A(q)|² (units (1e-6/Å²)²·Å⁶) at ``q`` (1/Å) for the density with
        all lengths multiplied by ``scale`` (|A_s(q)|² = s⁶·|A_1(q·s)|²)."""
        q = np.atleast_1d(np.asarray(q, float))
        r = torch.from_numpy(self.spacing * np.sqrt(self.m2.astype(float)))
        w = torch.from_numpy(self.weights)
        qt = torch.from_numpy(q * scale)
        out = torch.empty(q.size, dtype=torch.float64)
        chunk = max(1, 4_000_000 // max(1, r.numel()))
        for i in range(0, q.size, chunk):
            x = torch.outer(qt[i:i + chunk], r)
            out[i:i + chunk] = torch.sinc(x / np.pi) @ w
        return out.numpy() * (self.spacing * scale) ** 6

    def intensity(self, q: np.ndarray, volume: float, scale: float = 1.0) -> np.ndarray:
        """I(q) in 1/cm for normalisation volume ``volume`` (Å³)."""
        return self.amplitude2(q, scale) / volume * ABSOLUTE_UNITS


def _support(values: np.ndarray) -> tuple[slice, ...]:
    nz = values != 0
    slices = []
    for axis in range(3):
        other = tuple(a for a in range(3) if a != axis)
        idx = np.nonzero(nz.any(axis=other))[0]
        if idx.size == 0:
            raise SaxsimInputError("the density is zero everywhere: nothing scatters")
        slices.append(slice(int(idx[0]), int(idx[-1]) + 1))
    return tuple(slices)


def lattice_debye_parts(parts: list[np.ndarray], spacing: float) -> dict:
    """Symmetrised auto- and cross-correlations of several unit-contrast densities on one grid,
    grouped by squared lag: {(i, j): DebyeProfile} for i ≤ j.

    A particle made of parts with contrasts c_i then has
    ⟨|A|²⟩ = Σ_i c_i²·P_ii + 2·Σ_{i<j} c_i c_j·P_ij, so its contrasts can change without a new
    transform (used by the plugin model's cache).
    """
    parts = [np.asarray(p, dtype=np.float64) for p in parts]
    if not parts or any(p.shape != parts[0].shape or p.ndim != 3 for p in parts):
        raise SaxsimInputError("parts must be 3D arrays of one shape")
    union = np.zeros(parts[0].shape, bool)
    for p in parts:
        if not np.all(np.isfinite(p)):
            raise SaxsimInputError("density contains NaN or infinite voxel values")
        union |= p != 0
    box = _support(union.astype(np.int8))
    crops = [p[box] for p in parts]
    ext = crops[0].shape
    pad = tuple(scipy.fft.next_fast_len(2 * e - 1, real=True) for e in ext)
    specs = [scipy.fft.rfftn(c, s=pad, workers=-1) for c in crops]
    index = _lag_index(ext, pad)
    out = {}
    for i in range(len(parts)):
        for j in range(i, len(parts)):
            power = (specs[i] * np.conj(specs[j])).real   # Re: symmetrised C_ij(m)+C_ij(-m) / 2
            corr = scipy.fft.irfftn(power, s=pad, workers=-1)
            m2, w = _group_by_lag(corr, index)
            out[(i, j)] = DebyeProfile(m2, w, float(spacing))
    return out


def _lag_index(ext, pad) -> tuple[tuple[np.ndarray, ...], torch.Tensor, int]:
    """Which entries of a padded autocorrelation can be non-zero (|lag| < extent per axis)
    and the squared lag m² of each, flattened (shared by all pairs of one geometry)."""
    lags, valid = [], []
    for e, p in zip(ext, pad, strict=True):
        j = np.arange(p)
        lag = np.where(j < p - j, j, j - p).astype(np.int64)   # wrapped lag
        valid.append(np.nonzero(np.abs(lag) < e)[0])
        lags.append(lag[valid[-1]] ** 2)
    m2 = (lags[0][:, None, None] + lags[1][None, :, None] + lags[2][None, None, :]).ravel()
    return tuple(valid), torch.from_numpy(m2), int(m2.max()) + 1


def _group_by_lag(corr: np.ndarray, index) -> tuple[np.ndarray, np.ndarray]:
    valid, m2, size = index
    vals = corr[np.ix_(*valid)].ravel()
    sums = torch.bincount(m2, torch.from_numpy(vals), minlength=size).numpy()
    keep = np.nonzero(sums)[0]
    return keep, sums[keep]


def lattice_debye(values: np.ndarray, spacing: float) -> DebyeProfile:
    """Autocorrelation of a density (SLD contrast per voxel, 1e-6/Å²) grouped by squared lag.

    The density is cropped to its non-zero support and zero-padded to twice that size, so the
    result does not depend on the box (a single isolated particle). Memory ≈ 24 bytes × the
    padded support volume.
    """
    values = np.asarray(values)
    if values.ndim != 3:
        raise SaxsimInputError(f"density must be 3D, got shape {values.shape}")
    if not np.all(np.isfinite(values)):
        raise SaxsimInputError("density contains NaN or infinite voxel values")
    crop = np.asarray(values[_support(values)], dtype=np.float64)
    ext = crop.shape
    pad = tuple(scipy.fft.next_fast_len(2 * e - 1, real=True) for e in ext)
    spec = scipy.fft.rfftn(crop, s=pad, workers=-1)
    power = spec.real ** 2 + spec.imag ** 2
    del spec
    corr = scipy.fft.irfftn(power, s=pad, workers=-1)
    del power
    m2, w = _group_by_lag(corr, _lag_index(ext, pad))
    return DebyeProfile(m2, w, float(spacing))
