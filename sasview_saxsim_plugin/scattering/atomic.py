"""I(q) of atomic structures by the Debye equation over binned pair distances.

    I(q) = Σ_i F_i(q)² + 2 Σ_{i<j} F_i(q) F_j(q) sin(q r_ij)/(q r_ij)

Atoms of one kind share a form factor F_t(q), so the pair sum only needs, per pair of kinds
(a, b), the histogram h_ab(r) of pair distances: S_ab(q) = Σ_r h_ab(r)·sinc(q r), and then
I(q) = Σ_t N_t F_t² + 2 Σ_{a≤b} F_a F_b S_ab(q) for *any* form factors — the solvent density,
the excluded-volume scale and the hydration contrast change F_t, not the histograms, so they
are fit parameters that cost nothing to change (the scheme of CRYSOL, Svergun et al. 1995,
and AUSAXS). Each pair distance is shared linearly between the two nearest nodes of a grid
of step ``BIN_WIDTH`` (the first moment is kept, so the error is second order: about
(q·w)²/8 of the local curvature of sinc, 3e-6 at q = 0.5 1/Å, w = 0.01 Å).

X-ray form factors in vacuum are Waasmaier & Kirfel (1995) (``periodictable.cromermann``), in
electrons; q in 1/Å; lengths in Å. The pair loop is compiled with numba (the 'atoms' extra)
and runs on every core.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

import numpy as np

from ..errors import SaxsimInputError, require_extra

#: distance bin (Å); the bin's centre stands for its pairs
BIN_WIDTH = 0.01


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
    # numba's own thread pool, not OpenMP: OpenMP threads keep spinning after the loop and
    # slowed torch in the same process 3.7× (a training test: 47 s alone, 172 s after it)
    if numba.config.THREADING_LAYER == "default":
        numba.config.THREADING_LAYER = "workqueue"

    @numba.njit(parallel=True, fastmath=True, cache=True)
    def histogram(xyz, weights, kind_of, starts, inv_width, n_bins, n_threads):
        # atoms sorted by kind: for a row i, the columns j > i run through the kinds in
        # order, so each inner loop adds into one (kind_i, kind_j) slice of the histogram,
        # small enough to stay in the core's cache
        n_kinds = starts.shape[0] - 1
        counts = np.zeros((n_threads, n_kinds, n_kinds, n_bins))
        n = xyz.shape[0]
        for t in numba.prange(n_threads):
            for i in range(t, n, n_threads):
                xi, yi, zi = xyz[i, 0], xyz[i, 1], xyz[i, 2]
                wi = weights[i]
                ki = kind_of[i]
                for kj in range(ki, n_kinds):
                    row = counts[t, ki, kj]
                    for j in range(max(i + 1, starts[kj]), starts[kj + 1]):
                        dx = xyz[j, 0] - xi
                        dy = xyz[j, 1] - yi
                        dz = xyz[j, 2] - zi
                        # linear deposit onto the nodes k·w either side (keeps the
                        # first moment: bonded pairs sit at fixed distances inside a bin)
                        x = np.sqrt(dx * dx + dy * dy + dz * dz) * inv_width
                        k = min(int(x), n_bins - 2)
                        f = x - k
                        w = wi * weights[j]
                        row[k] += w * (1.0 - f)
                        row[k + 1] += w * f
        return counts.sum(axis=0)

    return histogram


_KERNEL = None


@dataclass
class PairHistogram:
    """Distance histograms of a structure's atoms by pair of kinds.

    ``kinds``: names of the kinds (elements, hydration sites, ...); ``counts[a]``: atoms of
    kind a (summed occupancies); ``pairs[a, b]`` (a ≤ b, the rest zero): unordered pairs of
    distinct atoms per distance node, each weighted by the product of the two occupancies and
    shared linearly between the two nodes around its distance; ``distance``: the nodes
    (Å, k·bin width), shared by every pair of kinds."""

    kinds: tuple[str, ...]
    counts: np.ndarray
    pairs: np.ndarray
    distance: np.ndarray

    def sinc_sums(self, q: np.ndarray) -> np.ndarray:
        """S_ab(q) = Σ_bins pairs_ab·sinc(q·r) for every pair of kinds: (kinds, kinds, q).

        Every pair of kinds shares the same distance nodes, so sinc(q·r) is computed once
        over the nodes any pair uses and the sums are one matrix product (a loop per pair
        of kinds recomputed it K²/2 times: 18 s instead of 0.3 s for 14 united-atom kinds
        and 50 000 nodes)."""
        import torch
        q = np.asarray(q, float)
        n = len(self.kinds)
        out = np.zeros((n, n, q.size))
        flat = self.pairs.reshape(n * n, -1)
        used = np.flatnonzero(flat.any(axis=0))
        if used.size == 0:
            return out
        r = torch.from_numpy(np.asarray(self.distance, float)[used])
        w = torch.from_numpy(np.ascontiguousarray(flat[:, used]))      # (K², nodes)
        qt = torch.from_numpy(q)
        chunk = max(1, 8_000_000 // used.size)
        result = np.empty((n * n, q.size))
        for i in range(0, q.size, chunk):
            x = torch.outer(qt[i:i + chunk], r)                          # (q, nodes)
            result[:, i:i + chunk] = (w @ torch.sinc(x / np.pi).T).numpy()
        return result.reshape(n, n, q.size)

    def intensity(self, q: np.ndarray, form_factors: np.ndarray,
                  sums: np.ndarray | None = None) -> np.ndarray:
        """The orientation-averaged squared amplitude (electrons²) for per-kind form
        factors ``form_factors`` (kinds, q); ``sums``: precomputed :meth:`sinc_sums` at the
        same q."""
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
    xyz = np.asarray(xyz, dtype=np.float64)
    kinds = np.asarray(kinds, dtype=np.int64)
    if xyz.ndim != 2 or xyz.shape[1] != 3 or len(kinds) != len(xyz):
        raise SaxsimInputError("atom coordinates must be an (N, 3) array with one kind each")
    if len(xyz) == 0:
        raise SaxsimInputError("the structure has no atoms")
    if not np.all(np.isfinite(xyz)):
        raise SaxsimInputError("atom coordinates contain NaN or infinite values")
    weights = np.ones(len(xyz)) if occupancy is None else np.asarray(occupancy, float)
    n_kinds = len(names)
    # sorted by kind, then along x (neighbours in memory are neighbours in space)
    order = np.lexsort((xyz[:, 0], kinds))
    centred = xyz - xyz.mean(axis=0)
    sorted_xyz = np.ascontiguousarray(centred[order], dtype=np.float64)
    sorted_kinds = np.ascontiguousarray(kinds[order])
    starts = np.searchsorted(sorted_kinds, np.arange(n_kinds + 1)).astype(np.int64)
    span = float(np.linalg.norm(xyz.max(axis=0) - xyz.min(axis=0)))
    n_bins = int(span / bin_width) + 3
    if _KERNEL is None:
        _KERNEL = _pair_kernel()
    import numba
    threads = int(numba.get_num_threads())
    pairs = _KERNEL(sorted_xyz, np.ascontiguousarray(weights[order], dtype=np.float32),
                    sorted_kinds, starts, 1.0 / bin_width, n_bins, threads)
    counts = np.bincount(kinds, weights, minlength=n_kinds).astype(float)
    return PairHistogram(tuple(names), counts, pairs, np.arange(n_bins) * bin_width)


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


# --- solvent: displaced volume and hydration shell ----------------------------------------

#: volume of solvent an atom displaces (Å³): Fraser, MacRae & Suzuki (1978), as in CRYSOL
FRASER_VOLUMES = {"H": 5.15, "C": 16.44, "N": 2.49, "O": 9.13, "S": 19.86, "P": 5.73}
#: van der Waals radii (Å, Bondi 1964; Alvarez 2013 for the metals) for the other elements:
#: they displace the sphere of that radius
VDW_RADII = {"F": 1.47, "Cl": 1.75, "Br": 1.85, "I": 1.98, "Se": 1.90, "Na": 2.27,
             "Mg": 1.73, "K": 2.75, "Ca": 2.31, "Mn": 2.05, "Fe": 2.04, "Co": 2.00,
             "Ni": 1.97, "Cu": 1.96, "Zn": 2.01, "Cd": 2.18, "Hg": 2.23, "Pt": 2.29,
             "Au": 2.32, "Si": 2.10, "B": 1.92}
#: electrons per Å³ of water at 20 °C
WATER_DENSITY = 0.334
#: hydration sites: grid spacing (Å) and the shell they fill, from the nearest atom centre
HYDRATION_SPACING = 3.0
HYDRATION_SHELL = (3.0, 6.0)
#: the hydration sites' kind (not an element symbol: "W" would be tungsten)
HYDRATION = "hydration"


def group_name(element: str, hydrogens: int) -> str:
    """Kind name of an atom with implicit hydrogens: "C", "CH", "CH2", "NH3", "OH", …"""
    if hydrogens <= 0:
        return element
    return f"{element}H{hydrogens if hydrogens > 1 else ''}"


def split_group(kind: str) -> tuple[str, int]:
    """(element, implicit hydrogens) of a kind name from :func:`group_name` (an element
    symbol never ends in a capital H)."""
    match = re.fullmatch(r"([A-Z][a-z]?)H(\d*)", kind)
    if match is None:
        return kind, 0
    return match.group(1), int(match.group(2) or 1)


def group_form_factor(kind: str, q: np.ndarray) -> np.ndarray:
    """X-ray form factor (electrons) of an atom with its implicit hydrogens (a united atom:
    f_X(q) + n·f_H(q), the hydrogens at the atom's centre as in CRYSOL), q in 1/Å."""
    element, hydrogens = split_group(kind)
    f = xray_form_factor(element, q)
    return f + hydrogens * xray_form_factor("H", q) if hydrogens else f


def displaced_volume(symbol: str) -> float:
    """Solvent volume (Å³) displaced by an atom of element ``symbol``, or by a united atom
    "CH2" etc. (its element's volume plus Fraser's 5.15 Å³ per hydrogen)."""
    element, hydrogens = split_group(symbol)
    if hydrogens:
        return displaced_volume(element) + hydrogens * FRASER_VOLUMES["H"]
    if symbol in FRASER_VOLUMES:
        return FRASER_VOLUMES[symbol]
    if symbol in VDW_RADII:
        return 4.0 / 3.0 * np.pi * VDW_RADII[symbol] ** 3
    return 4.0 / 3.0 * np.pi * 1.8 ** 3      # a generic heavy atom


#: elements whose hydrogens exchange with the solvent's (labile: on N, O, S)
EXCHANGING = frozenset({"N", "O", "S"})


@cache
def solvent_neutron_slds() -> tuple[float, float]:
    """Neutron SLDs (1e-6/Å²) of H2O (0.9982 g/cm³) and D2O (1.1056 g/cm³) at 20 °C
    (periodictable)."""
    from periodictable import nsf
    return (float(nsf.neutron_sld("H2O", density=0.9982)[0]),
            float(nsf.neutron_sld("D2O", density=1.1056)[0]))


def neutron_length(symbol: str) -> float:
    """Coherent neutron scattering length of an element (or "D") in 1e-6 Å (fm × 10), from
    periodictable; an element without one is a :class:`SaxsimInputError`."""
    import periodictable
    try:
        atom = periodictable.D if symbol == "D" else periodictable.elements.symbol(symbol)
    except ValueError:
        raise SaxsimInputError(f"unknown element {symbol!r}") from None
    b = atom.neutron.b_c
    if b is None:
        raise SaxsimInputError(f"periodictable has no neutron scattering length for {symbol}")
    return 10.0 * float(b)


def neutron_group(kind: str) -> tuple[float, float]:
    """(scattering length in H2O, its change per unit D2O fraction), 1e-6 Å, of a united
    atom: the element plus its hydrogens; hydrogens on N, O and S exchange with the
    solvent, so in a D2O fraction x they scatter as x·D + (1 − x)·H."""
    element, hydrogens = split_group(kind)
    base = neutron_length(element) + hydrogens * neutron_length("H")
    exchange = (hydrogens * (neutron_length("D") - neutron_length("H"))
                if element in EXCHANGING else 0.0)
    return base, exchange


def gaussian_sphere(volume: float, q: np.ndarray) -> np.ndarray:
    """Form factor of a Gaussian sphere of ``volume`` (Å³) and unit density:
    v·exp(−q²·v^(2/3)/(4π)) (Fraser et al. 1978), q in 1/Å."""
    return volume * np.exp(-np.asarray(q, float) ** 2 * volume ** (2 / 3) / (4 * np.pi))


def hydration_sites(xyz: np.ndarray, spacing: float = HYDRATION_SPACING,
                    shell: tuple[float, float] = HYDRATION_SHELL) -> np.ndarray:
    """Positions (Å) of the hydration shell's sites: the points of a cubic grid of
    ``spacing`` (aligned with the coordinate origin, so the result is deterministic) whose
    distance to the nearest atom centre lies in ``shell``; each stands for spacing³ of
    bound water."""
    from scipy.spatial import cKDTree
    lo = np.floor((xyz.min(axis=0) - shell[1]) / spacing) * spacing
    hi = xyz.max(axis=0) + shell[1]
    axes = [np.arange(lo[a], hi[a] + spacing, spacing) for a in range(3)]
    grid = np.stack(np.meshgrid(*axes, indexing="ij"), -1).reshape(-1, 3)
    dist = cKDTree(xyz).query(grid, distance_upper_bound=shell[1])[0]
    return grid[(dist >= shell[0]) & (dist < shell[1])]


@dataclass
class SolvatedStructure:
    """An atomic structure in solvent, ready for the Debye sum with fittable solvent terms:
    the pair histogram of its atoms and hydration sites (kind ``"hydration"``), each element's
    displaced volume, and the volume each hydration site stands for."""

    histogram: PairHistogram
    volumes: dict
    site_volume: float
    #: "xray" (form factors in electrons, solvent in e/Å³) or "neutron" (scattering lengths
    #: in 1e-6 Å; the first solvent parameter is the solvent's D2O fraction)
    radiation: str = "xray"
    _cache: tuple | None = None

    @property
    def excluded_volume(self) -> float:
        """Solvent volume the atoms displace (Å³, occupancies counted)."""
        return float(sum(n * self.volumes[k] for k, n in zip(self.histogram.kinds,
                                                              self.histogram.counts,
                                                              strict=True)
                         if k != HYDRATION))

    def _q_terms(self, q: np.ndarray) -> tuple:
        """What depends on q only, kept for the last q (a fit asks for the same q again and
        again): the pair sums, each kind's vacuum form factor and the Gaussian sphere of its
        displaced (or, for the hydration sites, represented) volume."""
        key = (q.shape, q.tobytes())
        if self._cache is None or self._cache[0] != key:
            kinds = self.histogram.kinds
            exchange = np.zeros((len(kinds), q.size))
            if self.radiation == "neutron":
                lengths = [(0.0, 0.0) if k == HYDRATION else neutron_group(k) for k in kinds]
                vacuum = np.array([np.full(q.shape, b) for b, _ in lengths])
                exchange = np.array([np.full(q.shape, e) for _, e in lengths])
            else:
                vacuum = np.array([np.zeros_like(q) if k == HYDRATION
                                   else group_form_factor(k, q) for k in kinds])
            spheres = np.array([gaussian_sphere(self.site_volume if k == HYDRATION
                                                else self.volumes[k], q) for k in kinds])
            self._cache = (key, self.histogram.sinc_sums(q), vacuum, spheres, exchange)
        return self._cache[1:]

    def form_factors(self, q: np.ndarray, solvent_density: float = WATER_DENSITY,
                     excluded_scale: float = 1.0,
                     hydration_contrast: float = 0.03) -> np.ndarray:
        """Per-kind effective form factors (electrons) at q (1/Å): the atom in vacuum minus
        the displaced solvent (``solvent_density`` e/Å³, volumes scaled by
        ``excluded_scale``³ with CRYSOL's width correction), and the hydration sites'
        excess ``hydration_contrast`` (e/Å³) over bulk solvent. For neutrons: scattering
        lengths (1e-6 Å), ``solvent_density`` the D2O fraction of an H2O/D2O solvent (its
        SLD, and the exchange of labile hydrogens), ``hydration_contrast`` in 1e-6/Å²."""
        q = np.asarray(q, float)
        _, vacuum, spheres, exchange = self._q_terms(q)
        if self.radiation == "neutron":           # solvent_density is the D2O fraction
            h2o, d2o = solvent_neutron_slds()
            vacuum = vacuum + solvent_density * exchange
            solvent_density = solvent_density * d2o + (1 - solvent_density) * h2o
        atoms = [k for k in self.histogram.kinds if k != HYDRATION]
        mean_volume = np.mean([self.volumes[k] for k in atoms])
        r0 = (3 * mean_volume / (4 * np.pi)) ** (1 / 3)
        # Svergun et al. 1995, eq. 7: the displaced volume expanded by c1, widths kept
        expand = excluded_scale ** 3 * np.exp(-(4 * np.pi / 3) ** (2 / 3) * q ** 2 * r0 ** 2
                                              * (excluded_scale ** 2 - 1) / (4 * np.pi))
        hydration = np.array([k == HYDRATION for k in self.histogram.kinds])[:, None]
        return np.where(hydration, hydration_contrast * spheres,
                        vacuum - solvent_density * expand * spheres)

    def intensity(self, q: np.ndarray, solvent_density: float = WATER_DENSITY,
                  excluded_scale: float = 1.0, hydration_contrast: float = 0.03) -> np.ndarray:
        """The orientation-averaged squared amplitude (electrons²) at q (1/Å); what depends
        on q only is kept for the last q."""
        q = np.asarray(q, float)
        sums = self._q_terms(q)[0]
        return self.histogram.intensity(
            q, self.form_factors(q, solvent_density, excluded_scale, hydration_contrast), sums)


def solvated_structure(xyz: np.ndarray, elements: np.ndarray,
                       occupancy: np.ndarray | None = None, hydration: bool = True,
                       bin_width: float = BIN_WIDTH,
                       hydrogens: np.ndarray | None = None,
                       radiation: str = "xray") -> SolvatedStructure:
    """A :class:`SolvatedStructure` of atoms (``xyz`` (N, 3) Å, element symbols, implicit
    ``hydrogens`` per atom: united atoms "CH2" etc.), with a hydration shell of
    :func:`hydration_sites` unless ``hydration`` is False; ``radiation`` "xray" or
    "neutron" (see :meth:`SolvatedStructure.form_factors`)."""
    if radiation not in ("xray", "neutron"):
        raise SaxsimInputError(f"radiation must be 'xray' or 'neutron', got {radiation!r}")
    elements = np.asarray(elements)
    for symbol in np.unique(elements):       # unknown elements: one clear message now
        if radiation == "xray":
            _cromer_mann(str(symbol))
        else:
            neutron_length(str(symbol))
    if hydrogens is not None:
        elements = np.array([group_name(str(e), int(n))
                             for e, n in zip(elements, hydrogens, strict=True)])
    names = [str(n) for n in np.unique(elements)]
    kinds = np.searchsorted(names, elements)
    occ = np.ones(len(xyz)) if occupancy is None else np.asarray(occupancy, float)
    if hydration:
        sites = hydration_sites(np.asarray(xyz, float))
        xyz = np.concatenate([xyz, sites])
        kinds = np.concatenate([kinds, np.full(len(sites), len(names))])
        occ = np.concatenate([occ, np.ones(len(sites))])
        names.append(HYDRATION)
    hist = pair_histogram(xyz, kinds, tuple(names), occ, bin_width)
    volumes = {n: displaced_volume(n) for n in names if n != HYDRATION}
    return SolvatedStructure(hist, volumes, HYDRATION_SPACING ** 3, radiation)
