"""One particle of a registered shape: orientation-averaged I(q) by the lattice Debye sum of
its voxelised autocorrelation, normalised like sasmodels (``particle_curve``)."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from ..errors import SaxsimInputError, require_fraction
from ..geometry import (
    Body,
    VoxelGrid,
    add_body,
    check_resolution,
    get_shape,
    make_body,
)
from ..progress import ProgressArg, track
from ..scattering import (
    Curve1D,
    isotropic_correction,
    lattice_debye,
    trusted_q_max,
)


@dataclass
class GridChoice:
    """Automatic grid for one particle: spacing d (Å) and why."""

    spacing: float
    reason: str


def auto_spacing(body: Body, q_max: float, voxels_across: int = 24,
                 max_extent_voxels: int = 160) -> GridChoice:
    """Voxel size for one particle: ``voxels_across`` voxels over its smallest feature, fine
    enough that q_max ≤ π/(2d), but at most ``max_extent_voxels`` over its largest extent."""
    feature = body.min_feature()
    extent = max(2 * s.half_extent().max() for s, _ in body.parts)
    d = min(feature / voxels_across, np.pi / (2 * q_max))
    reason = f"{voxels_across} voxels across {feature:.4g} Å"
    if extent / d > max_extent_voxels:
        d = extent / max_extent_voxels
        reason = f"capped at {max_extent_voxels} voxels over the {extent:.4g} Å extent"
    return GridChoice(d, reason)


def _particle_profile(body: Body, spacing: float, supersample: int):
    extent = max(2 * (np.abs(s.center) + s.half_extent()).max() for s, _ in body.parts)
    n = int(np.ceil(extent / spacing)) + 4
    grid = VoxelGrid(n, spacing)
    density = grid.allocate(np.float64)
    add_body(density, body, supersample=supersample)
    return lattice_debye(density.values, spacing)


def _pd_points(value: float, width: float, n_points: int):
    from sasmodels.weights import get_weights
    if width <= 0:
        return np.array([value]), np.array([1.0])
    vals, w = get_weights("gaussian", n_points, width, 3.0, value, (0.0, np.inf), True)
    return np.asarray(vals), np.asarray(w)


def particle_curve(shape: str, dims: dict, q: np.ndarray, *, pd: dict | None = None,
                   sld: float = 1.0, sld_solvent: float = 0.0, scale: float = 1.0,
                   background: float = 0.0, spacing: float | None = None, supersample: int = 3,
                   correction: str = "deconvolve", voxels_across: int = 24,
                   progress: ProgressArg = False) -> Curve1D:
    """Orientation-averaged I(q) (1/cm) of one voxelised particle by the lattice Debye route,
    normalised like sasmodels: ``scale/⟨V⟩·⟨|A|²⟩·1e-4 + background``.

    ``shape``: a registered shape (``geometry.registry``); ``dims``: its parameters by
    sasmodels name (lengths in Å, SLDs such as sld_core in 1e-6/Å²; ``sld``/``sld_solvent``
    may also be given as arguments); ``pd``: {length name: relative
    Gaussian width, 'pd_n': points (35)} averaged with sasmodels' own weights. Geometries that
    differ only by an overall scale share one voxelisation (``|A_s(q)|² = s⁶|A_1(qs)|²``).
    ``progress``: see :mod:`sasview_saxsim_plugin.progress` (one step per pd point).
    """
    q = np.asarray(q, float)
    if q.ndim != 1 or q.size == 0 or not np.all(np.isfinite(q)) or np.any(q <= 0):
        raise SaxsimInputError("q must be a non-empty 1D array of finite values > 0 (1/Å)")
    if q.max() > 2.0:
        warnings.warn(f"q_max = {q.max():.3g} 1/Å is unusually large for SAS: is q in 1/nm? "
                      f"(this package uses 1/Å)", stacklevel=2)
    pd = dict(pd or {})
    n_pts = int(pd.pop("pd_n", 35))
    lengths = get_shape(shape).lengths
    for name, width in pd.items():
        if name not in lengths:
            raise SaxsimInputError(f"polydispersity on {name!r}: {shape} has the lengths "
                                   f"{', '.join(lengths)}")
        require_fraction(f"{name}_pd", width, upper=1.0)
    ref_body = make_body(shape, sld=sld, sld_solvent=sld_solvent, **dims)
    grid = auto_spacing(ref_body, q.max(), voxels_across) if spacing is None else None
    d = spacing if spacing is not None else grid.spacing
    check_resolution(ref_body, d)
    if q.max() * d > np.pi / 2 * 1.0001:
        warnings.warn(f"q above {trusted_q_max(d):.3g} 1/Å = π/(2d) is less accurate for "
                      f"d = {d:.3g} Å", stacklevel=2)
    # polydispersity grid (outer product of the 1D distributions, as sasmodels)
    names = list(pd)
    axes = [_pd_points(dims[nm], pd[nm], n_pts) for nm in names]
    combos = [((), 1.0)]
    for vals, w in axes:
        combos = [(c + (v,), cw * wi) for c, cw in combos
                  for v, wi in zip(vals, w, strict=True)]
    cache: dict = {}
    total = np.zeros_like(q)
    vol = 0.0
    for values, weight in track(combos, progress, "particle (lattice Debye)",
                                unit="size"):
        geo = dict(dims)
        geo.update(zip(names, values, strict=True))
        first = geo[lengths[0]]
        key = tuple(round(geo[k] / first, 9) for k in lengths)
        body = make_body(shape, sld=sld, sld_solvent=sld_solvent, **geo)
        if key not in cache:
            # grid spacing relative to the geometry, so scaled copies are exact
            cache[key] = (_particle_profile(body, d * first / dims[lengths[0]], supersample),
                          first)
        prof, first0 = cache[key]
        s = first / first0
        corr = isotropic_correction(correction, q * prof.spacing * s)
        total += weight * prof.amplitude2(q, s) * corr
        vol += weight * body.volume
    inten = scale * total / vol * 1e-4 + background
    meta = {"route": "lattice Debye", "shape": shape, "dims": dict(dims), "pd": dict(pd),
            "pd_n": n_pts, "spacing_A": d, "grid": grid.reason if grid else "given",
            "voxel_correction": correction, "supersample": supersample,
            "voxelisations": len(cache), "units": {"q": "1/A", "I": "1/cm"}}
    return Curve1D(q, inten, None, None, {}, meta)
