"""A box of particles: seeded ensembles through the split 3D FFT (in memory, streamed or on
Dask), shell-averaged with thesis Table 3.1 uncertainties, realisations combined."""

from __future__ import annotations

import numpy as np

from ..errors import SaxsimInputError, require_positive
from ..fft import DetectorSlice, ShellSums, split_fft
from ..geometry import (
    Ensemble,
    VoxelGrid,
    dilute_cylinders,
    dilute_spheres,
    hard_spheres,
)
from ..memory import available_memory_bytes, parse_bytes
from ..progress import ProgressArg
from ..scattering import (
    Curve1D,
    shell_curve,
    shell_edges,
)
from ..scattering.detector import detector_from_slice


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
    (``fft.streaming``; intermediate on disk in ``workdir`` when needed).
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
        from ..density.sources import EnsembleSource
        from .stream import stream_curve
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
        from ..fft.streaming import plan_stream
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
