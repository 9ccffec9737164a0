"""High-level forward simulations: a shape or an ensemble in, a :class:`Curve1D` out.

Pure library functions; the CLI and later the sasmodels plugin are thin layers over these.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from .errors import SaxsimInputError, require_fraction, require_positive
from .fft import DetectorSlice, ShellSums, parse_bytes, split_fft
from .geometry import (
    Body,
    Ensemble,
    VoxelGrid,
    add_body,
    check_resolution,
    dilute_cylinders,
    dilute_spheres,
    get_shape,
    hard_spheres,
    make_body,
)
from .geometry.grid import available_memory_bytes
from .progress import ProgressArg, track
from .scattering import (
    Curve1D,
    isotropic_correction,
    lattice_debye,
    shell_curve,
    trusted_q_max,
)
from .scattering.detector import detector_from_slice


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
    normalised like sasmodels: scale/⟨V⟩·⟨|A|²⟩·1e-4 + background.

    ``shape``: a registered shape (``geometry.registry``); ``dims``: its parameters by
    sasmodels name (lengths in Å, SLDs such as sld_core in 1e-6/Å²; ``sld``/``sld_solvent``
    may also be given as arguments); ``pd``: {length name: relative
    Gaussian width, 'pd_n': points (35)} averaged with sasmodels' own weights. Geometries that
    differ only by an overall scale share one voxelisation (|A_s(q)|² = s⁶|A_1(qs)|²).
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


def build_ensemble(kind: str, grid: VoxelGrid, *, radius: float, volume_fraction: float,
                   radius_pd: float = 0.0, length: float | None = None, length_pd: float = 0.0,
                   theta: float = 0.0, theta_spread: float = 0.0, phi: float | None = 0.0,
                   sld: float = 1.0, sld_solvent: float = 0.0, seed: int = 0,
                   sweeps: int = 50, isotropic: bool = False, progress: ProgressArg = False,
                   size_sampling: str = "stratified") -> Ensemble:
    """``kind``: 'spheres' (dilute), 'cylinders' (dilute, oriented θ, φ; φ=None uniform;
    ``isotropic`` for random orientations) or 'hardspheres' (non-overlapping, equilibrated).
    ``size_sampling``: 'stratified' (default) or 'random' (thesis), see geometry.draw_sizes."""
    contrast = sld - sld_solvent
    radius = require_positive("radius", radius, "Å")
    smallest = 2 * radius if length is None or kind != "cylinders" else min(2 * radius, length)
    if smallest < 3 * grid.spacing:
        raise SaxsimInputError(
            f"the grid spacing {grid.spacing:.4g} Å (box {grid.box_length:.4g} Å / n {grid.n}) "
            f"does not resolve particles of {smallest:.4g} Å (needs at least 3 voxels across): "
            f"use more grid points (n) or a smaller box")
    if kind == "spheres":
        return dilute_spheres(grid, radius, volume_fraction, radius_pd, contrast, seed,
                              size_sampling)
    if kind == "cylinders":
        if length is None:
            raise SaxsimInputError("cylinder ensembles need a length (Å)")
        return dilute_cylinders(grid, radius, length, volume_fraction, radius_pd, length_pd,
                                theta, theta_spread, phi, 0.0, contrast, seed, isotropic,
                                size_sampling)
    if kind == "hardspheres":
        return hard_spheres(grid, radius, volume_fraction, radius_pd, contrast, seed, sweeps,
                            progress=progress, size_sampling=size_sampling)
    raise SaxsimInputError(f"unknown ensemble {kind!r}; use spheres, cylinders or hardspheres")


def ensemble_curve(ensemble: Ensemble, *, dtype=np.float32, bins: int | None = None,
                   bin_spacing: str = "linear", q_min: float | None = None,
                   q_max: float | None = None, correction: str = "deconvolve",
                   supersample: int = 3, memory_budget=None, device=None, detector: bool = False,
                   clamp: bool = False, detector_rebin: int = 1, scheduler: str | None = None,
                   workers: int = 2, workdir=None,
                   progress: ProgressArg = False) -> tuple[Curve1D, object]:
    """Shell-averaged I(q) (1/cm, intensity of the box per box volume) of an ensemble through
    the split FFT, with thesis Table 3.1 uncertainties; optionally the kz = 0 detector slice.

    Default bins: one DFT step (2π/L) wide up to π/(2d). ``clamp``: limit overlapping
    particles to the contrast (thesis) instead of adding them (independent scatterers, what
    sasmodels describes; hard spheres never overlap).

    ``memory_budget`` (bytes or '2GiB'): what the FFT may hold. When the density does not fit
    it (or 80 % of the available RAM), or a Dask ``scheduler`` is given ('local' or
    'tcp://HOST:PORT'), the particles are rasterised slab by slab into the streamed split FFT
    (outofcore; intermediate on disk in ``workdir`` when needed).
    """
    grid = ensemble.grid
    need = grid.buffer_bytes(dtype)
    budget = parse_bytes(memory_budget) if memory_budget is not None else None
    if fft_route(grid.n, memory_budget, scheduler, dtype) != "in memory":
        if detector or clamp or np.dtype(dtype) != np.float32:
            raise SaxsimInputError(
                f"a {grid.n}³ box needs {need / 2**30:.2f} GiB in memory; the streamed "
                "(out-of-core / Dask) path computes single-precision 1D curves without the "
                "detector slice or clamping: drop those options or raise --memory-budget")
        from .outofcore.job import stream_curve
        from .outofcore.sources import EnsembleSource
        curve, res = stream_curve(EnsembleSource(ensemble, supersample),
                                  memory_budget=memory_budget, scheduler=scheduler,
                                  workers=workers, workdir=workdir, correction=correction,
                                  q_min=q_min, q_max=q_max, bins=bins, bin_spacing=bin_spacing,
                                  progress=progress)
        curve.meta.update(volume_fraction=ensemble.volume_fraction,
                          ensemble=dict(ensemble.stats), precision="float32")
        return curve, None
    density = ensemble.rasterise(dtype, supersample, clamp=clamp, progress=progress)
    reds = {"shells": ShellSums()}
    if detector:
        reds["slice"] = DetectorSlice()
    # what the buffer leaves of the budget sizes the blocks
    res = split_fft(density, reds, voxel_correction=correction,
                    memory_budget=None if budget is None else budget - need,
                    device=device, progress=progress)
    from .outofcore.job import shell_edges
    edges = shell_edges(grid.box_length, grid.spacing, q_min, q_max, bins, bin_spacing)
    curve = shell_curve(res.results["shells"], grid.box_length, grid.spacing, edges)
    curve.meta.update(n=grid.n, spacing_A=grid.spacing, box_A=grid.box_length,
                      volume_fraction=ensemble.volume_fraction, voxel_correction=correction,
                      fft_seconds=res.seconds, ensemble=dict(ensemble.stats),
                      precision=np.dtype(dtype).name, route="split FFT in memory")
    det = None
    if detector:
        det = detector_from_slice(res.results["slice"], grid.box_length, grid.spacing,
                                  rebin=detector_rebin)
    return curve, det


def fft_route(n: int, memory_budget=None, scheduler: str | None = None,
              dtype=np.float32) -> str:
    """How ``ensemble_curve`` transforms an n³ box: "in memory", "streamed (intermediate in
    RAM)", "streamed (intermediate on disk)" or "on Dask" (see ``ensemble_curve``)."""
    if scheduler is not None:
        return "on Dask"
    need = VoxelGrid(n, 1.0).buffer_bytes(dtype)
    budget = parse_bytes(memory_budget) if memory_budget is not None else None
    avail = available_memory_bytes()
    if (budget is not None and need > budget) or (avail is not None and need > 0.8 * avail):
        from .outofcore.streaming import plan_stream
        where = "in RAM" if plan_stream(n, memory_budget).storage == "ram" else "on disk"
        return f"streamed (intermediate {where})"
    return "in memory"


def fft_seconds_estimate(n: int, calibration_n: int = 64) -> float:
    """Rough wall time (s) of the two split-FFT passes over an n³ box in memory on this
    machine: a ``calibration_n``³ transform timed now, scaled by n³·log n. Streaming through
    disk adds the disk's time on top; rasterising the particles is not included."""
    import time
    grid = VoxelGrid(calibration_n, 1.0)
    density = grid.allocate(np.float32)
    values = np.random.default_rng(0).random(density.values.shape, dtype=np.float32)
    times = []
    for _ in range(3):                       # the first call also pays for warming up
        density.values[...] = values
        start = time.perf_counter()
        split_fft(density, {"shells": ShellSums()})
        times.append(time.perf_counter() - start)
    seconds = min(times)
    return seconds * (n / calibration_n) ** 3 * np.log(n) / np.log(calibration_n)


def combine_realisations(curves: list[Curve1D], i_emin: float = 0.01,
                         pool_bins: int = 7) -> Curve1D:
    """Average shell curves of independent realisations (same grid and bins).

    σ = max(SEM across realisations, within-shell SEM/√k, i_emin·I): the scatter between
    realisations carries what one box cannot show (the finite draw of particle sizes and the
    shell-averaged interference between particles, ~1/(q·L) per realisation).

    The between-realisation variance from k boxes has only k-1 degrees of freedom, which
    makes χ² = Σ(Δ/σ)² biased high by (k-1)/(k-3) (2 for k = 5). The *relative* variance is
    a smooth function of q, so it is pooled over ``pool_bins`` neighbouring bins (a moving
    average, ≈ pool_bins·(k-1) degrees of freedom) before it sets σ.
    """
    if len(curves) == 1:
        return curves[0]
    k = len(curves)
    inten = np.array([c.intensity for c in curves])
    mean = inten.mean(0)
    rel_var = inten.var(0, ddof=1) / mean ** 2
    if pool_bins > 1 and rel_var.size >= pool_bins:
        kernel = np.ones(pool_bins)
        norm = np.convolve(np.ones_like(rel_var), kernel, mode="same")
        rel_var = np.convolve(rel_var, kernel, mode="same") / norm
    sem_between = mean * np.sqrt(rel_var / k)
    sem_within = np.sqrt(np.mean([c.columns["I_sem"] ** 2 for c in curves], 0) / k)
    sigma = np.maximum.reduce([sem_between, sem_within, i_emin * mean])
    cols = dict(curves[0].columns)
    cols.update(I_mu=mean, I_sem_between=sem_between, I_sem=sem_within, I_sigma=sigma)
    meta = dict(curves[0].meta)
    meta["realisations"] = k
    meta["ensembles"] = [c.meta.get("ensemble") for c in curves]
    return Curve1D(curves[0].q, mean, sigma, curves[0].dq, cols, meta)
