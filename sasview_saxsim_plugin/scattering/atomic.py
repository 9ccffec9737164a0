"""I(q) of atomic structures by the Debye equation over binned pair distances.

    I(q) = Σ_i F_i(q)² + 2 Σ_{i<j} F_i(q) F_j(q) sin(q r_ij)/(q r_ij)

Atoms of one kind share a form factor F_t(q), so the pair sum only needs, per pair of kinds
(a, b), the histogram h_ab(r) of pair distances: S_ab(q) = Σ_r h_ab(r)·sinc(q r), and then
I(q) = Σ_t N_t F_t² + 2 Σ_{a≤b} F_a F_b S_ab(q) for *any* form factors — the solvent density,
the excluded-volume scale and the hydration contrast change F_t, not the histograms, so they
are fit parameters that cost nothing to change (the scheme of CRYSOL, Svergun et al. 1995,
and AUSAXS). Distances are binned at ``BIN_WIDTH`` and each bin is represented by the mean
distance of its pairs (the error of a bin is then second order in its width: about
q²·w²/72·|sinc''| ≈ 1e-7 at q = 0.5 1/Å, w = 0.02 Å).

X-ray form factors in vacuum are Waasmaier & Kirfel (1995) (``periodictable.cromermann``), in
electrons; q in 1/Å; lengths in Å. The pair loop is compiled with numba (the 'atoms' extra)
and runs on every core.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np

from ..errors import SaxsimInputError, require_extra

#: distance bin (Å); the bin's mean distance stands for its pairs
BIN_WIDTH = 0.02


@cache
def _cromer_mann(symbol: str):
    from periodictable import cromermann
    try:
        return cromermann.getCMformula(symbol)
    except KeyError:
        raise SaxsimInputError(f"no X-ray form factor for element {symbol!r}") from None


def xray_form_factor(symbol: str, q: np.ndarray) -> np.ndarray:
    """Atomic X-ray form factor f0(q) in electrons of element ``symbol`` (e.g. "C", "Fe")
    at ``q`` (1/Å): Waasmaier-Kirfel five-Gaussian fit, valid to q = 6·4π 1/Å."""
    return np.asarray(_cromer_mann(symbol).atstol(np.asarray(q, float) / (4 * np.pi)),
                      float)


def _pair_kernel():
    numba = require_extra("numba", "atoms", "the Debye pair histogram of atomic structures")

    @numba.njit(parallel=True, fastmath=False, cache=True)
    def histogram(xyz, weights, kinds, n_kinds, inv_width, n_bins, n_threads):
        counts = np.zeros((n_threads, n_kinds, n_kinds, n_bins))
        sums = np.zeros((n_threads, n_kinds, n_kinds, n_bins))
        n = xyz.shape[0]
        # rows dealt round-robin so that every thread gets as many pairs
        for t in numba.prange(n_threads):
            for i in range(t, n, n_threads):
                xi, yi, zi = xyz[i, 0], xyz[i, 1], xyz[i, 2]
                ki = kinds[i]
                wi = weights[i]
                for j in range(i + 1, n):
                    dx = xyz[j, 0] - xi
                    dy = xyz[j, 1] - yi
                    dz = xyz[j, 2] - zi
                    r = np.sqrt(dx * dx + dy * dy + dz * dz)
                    k = int(r * inv_width)
                    if k >= n_bins:
                        k = n_bins - 1
                    kj = kinds[j]
                    a, b = (ki, kj) if ki <= kj else (kj, ki)
                    w = wi * weights[j]
                    counts[t, a, b, k] += w
                    sums[t, a, b, k] += w * r
        return counts.sum(axis=0), sums.sum(axis=0)

    return histogram


_KERNEL = None


@dataclass
class PairHistogram:
    """Distance histograms of a structure's atoms by pair of kinds.

    ``kinds``: names of the kinds (elements, dummy solvent sites, ...); ``counts[a]``: atoms
    of kind a (summed occupancies); ``pairs[a, b]`` (a ≤ b, the rest zero): unordered pairs of
    distinct atoms per bin, each weighted by the product of the two occupancies;
    ``distance[a, b]``: the mean distance (Å) of each bin's pairs."""

    kinds: tuple[str, ...]
    counts: np.ndarray
    pairs: np.ndarray
    distance: np.ndarray

    def sinc_sums(self, q: np.ndarray) -> np.ndarray:
        """S_ab(q) = Σ_bins pairs_ab·sinc(q·r) for every pair of kinds: (kinds, kinds, q)."""
        import torch
        q = np.asarray(q, float)
        n = len(self.kinds)
        out = np.zeros((n, n, q.size))
        qt = torch.from_numpy(q)
        for a in range(n):
            for b in range(a, n):
                used = self.pairs[a, b] > 0
                if not used.any():
                    continue
                r = torch.from_numpy(self.distance[a, b][used])
                w = torch.from_numpy(self.pairs[a, b][used])
                chunk = max(1, 2_000_000 // max(1, r.numel()))
                for i in range(0, q.size, chunk):
                    x = torch.outer(qt[i:i + chunk], r)
                    out[a, b, i:i + chunk] = (torch.sinc(x / np.pi) @ w).numpy()
        return out

    def intensity(self, q: np.ndarray, form_factors: np.ndarray,
                  sums: np.ndarray | None = None) -> np.ndarray:
        """⟨|A(q)|²⟩ (electrons²) for per-kind form factors ``form_factors`` (kinds, q);
        ``sums``: precomputed :meth:`sinc_sums` at the same q."""
        f = np.asarray(form_factors, float)
        s = self.sinc_sums(q) if sums is None else sums
        total = (self.counts[:, None] * f ** 2).sum(axis=0)
        n = len(self.kinds)
        for a in range(n):
            for b in range(a, n):
                total += 2.0 * f[a] * f[b] * s[a, b]
        return total


def pair_histogram(xyz: np.ndarray, kinds: np.ndarray, names: tuple[str, ...],
                   occupancy: np.ndarray | None = None,
                   bin_width: float = BIN_WIDTH) -> PairHistogram:
    """The :class:`PairHistogram` of atoms at ``xyz`` ((N, 3), Å) of kinds ``kinds`` (N
    indices into ``names``) with ``occupancy`` (N; default 1): an atom of occupancy p counts
    p in its self term and p·p' in its pairs (alternate locations)."""
    global _KERNEL
    xyz = np.ascontiguousarray(xyz, dtype=np.float64)
    weights = np.ascontiguousarray(np.ones(len(xyz)) if occupancy is None else occupancy,
                                   dtype=np.float64)
    kinds = np.ascontiguousarray(kinds, dtype=np.int64)
    if xyz.ndim != 2 or xyz.shape[1] != 3 or len(kinds) != len(xyz):
        raise SaxsimInputError("atom coordinates must be an (N, 3) array with one kind each")
    if len(xyz) == 0:
        raise SaxsimInputError("the structure has no atoms")
    if not np.all(np.isfinite(xyz)):
        raise SaxsimInputError("atom coordinates contain NaN or infinite values")
    n_kinds = len(names)
    span = float(np.linalg.norm(xyz.max(axis=0) - xyz.min(axis=0)))
    n_bins = int(span / bin_width) + 2
    if _KERNEL is None:
        _KERNEL = _pair_kernel()
    import numba
    threads = int(numba.get_num_threads())
    pairs, sums = _KERNEL(xyz, weights, kinds, n_kinds, 1.0 / bin_width, n_bins, threads)
    with np.errstate(invalid="ignore", divide="ignore"):
        distance = np.where(pairs > 0, sums / np.where(pairs > 0, pairs, 1.0), 0.0)
    counts = np.bincount(kinds, weights, minlength=n_kinds).astype(float)
    return PairHistogram(tuple(names), counts, pairs, distance)


def debye_direct(xyz: np.ndarray, form_factors: np.ndarray, q: np.ndarray,
                 occupancy: np.ndarray | None = None) -> np.ndarray:
    """The Debye sum over every atom pair without binning (the reference; O(N²·n_q)):
    ``form_factors`` (N, n_q) per atom, q in 1/Å, ``occupancy`` as in
    :func:`pair_histogram`. For a few thousand atoms."""
    import torch
    x = torch.from_numpy(np.asarray(xyz, float))
    occ = np.ones(len(x)) if occupancy is None else np.asarray(occupancy, float)
    f = torch.from_numpy(np.asarray(form_factors, float) * occ[:, None])
    q = torch.from_numpy(np.asarray(q, float))
    total = (f ** 2 / torch.from_numpy(occ)[:, None]).sum(0)
    n = x.shape[0]
    for i in range(0, n, 256):
        r = torch.cdist(x[i:i + 256], x)                         # (b, N)
        mask = torch.arange(n)[None, :] > torch.arange(i, min(i + 256, n))[:, None]
        rows = torch.nonzero(mask)
        d = r[rows[:, 0], rows[:, 1]]
        fi, fj = f[i + rows[:, 0]], f[rows[:, 1]]                 # (pairs, n_q)
        total += 2 * (fi * fj * torch.sinc(d[:, None] * q[None, :] / np.pi)).sum(0)
    return total.numpy()
