"""Numerical vs analytical comparisons (library side of ``saxsim compare`` and docs tables)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from ..errors import SaxsimInputError
from ..geometry import VoxelGrid
from ..progress import ProgressArg, prefixed
from ..scattering import Curve1D, compare_curves, reference_parameters, sasmodels_iq
from ..scattering.detector import Detector2D
from ..scattering.reference import realised_ensemble_iq, sasmodels_iqxy
from ..scattering.shells import bin_like
from .ensemble import (
    build_ensemble,
    combine_realisations,
    ensemble_curve,
    fft_route,
    fft_seconds_estimate,
)
from .particle import particle_curve


@dataclass
class Comparison:
    """A numerical curve, its analytical reference (same points, 1/cm) and the metrics."""

    curve: Curve1D
    reference: np.ndarray
    metrics: dict
    parameters: dict
    model: str
    extra: dict = field(default_factory=dict)

    def as_json(self) -> dict:
        out = dict(self.metrics)
        out["parameters"] = self.parameters
        out["sasmodels_model"] = self.model
        out.update({k: v for k, v in self.extra.items() if not isinstance(v, np.ndarray)})
        return out


def compare_particle(shape: str, dims: dict, *, pd: dict | None = None, q_min: float = 0.005,
                     q_max: float = 0.5, points: int = 200, sld: float = 1.0,
                     sld_solvent: float = 0.0, spacing: float | None = None,
                     supersample: int = 3, correction: str = "deconvolve",
                     fit_scale: bool = False, progress: ProgressArg = False) -> Comparison:
    """One voxelised particle (lattice Debye) vs its sasmodels model in absolute units
    (scale 1) on ``points`` log-spaced q in [q_min, q_max] (1/Å).
    ``progress``: see :mod:`sasview_saxsim_plugin.progress`."""
    if not (0 < q_min < q_max):
        raise SaxsimInputError(f"need 0 < q_min < q_max (1/Å), got {q_min}, {q_max}")
    q = np.geomspace(q_min, q_max, points)
    pd = dict(pd or {})
    curve = particle_curve(shape, dims, q, pd=pd, sld=sld, sld_solvent=sld_solvent,
                           spacing=spacing, supersample=supersample, correction=correction,
                           progress=progress)
    model, pars = reference_parameters(shape, dims, pd, sld, sld_solvent)
    ref = sasmodels_iq(model, q, pars)
    metrics = compare_curves(curve, ref, fit_scale=fit_scale)
    params = {"shape": shape, **dims, **{f"{k}_pd": v for k, v in pd.items() if k != "pd_n"},
              "pd_n": pd.get("pd_n", 35), "sld": sld, "sld_solvent": sld_solvent,
              "spacing_A": curve.meta["spacing_A"], "route": "lattice Debye",
              "voxel_correction": correction, "supersample": supersample}
    return Comparison(curve, ref, metrics, params, model)


def compare_ensemble(kind: str, *, box: float, n: int, radius: float, volume_fraction: float,
                     radius_pd: float = 0.0, length: float | None = None, length_pd: float = 0.0,
                     sld: float = 1.0, sld_solvent: float = 0.0, realisations: int = 3,
                     seed: int = 0, dtype=np.float32, q_min: float | None = None,
                     q_max: float | None = None, correction: str = "deconvolve",
                     supersample: int = 3, memory_budget=None, fit_scale: bool = False,
                     size_sampling: str = "stratified", scheduler: str | None = None,
                     workers: int = 2, workdir=None, progress: ProgressArg = False,
                     announce=None) -> Comparison:
    """A box of particles (split FFT, shell average, ``realisations`` seeds averaged) vs the
    sasmodels population model: ``spheres`` -> sphere, ``cylinders`` (random orientations) ->
    cylinder, ``hardspheres`` -> sphere@hardsphere (Percus-Yevick). Also reports the error
    against the realised particles (``realised_*`` keys) where that reference exists.
    ``memory_budget``, ``scheduler``, ``workers``, ``workdir``: see
    ``simulate.ensemble_curve`` (streamed / Dask FFT when the box does not fit).
    ``announce(text)``: told the plan up front (realisations, passes, route, a rough time) and
    the measured time of each realisation with what is left (the CLI prints it)."""
    if realisations < 1:
        raise SaxsimInputError(f"realisations must be >= 1, got {realisations}")
    grid = VoxelGrid.from_box(box, n)
    if announce is not None:
        route = fft_route(n, memory_budget, scheduler, dtype)
        timing = "seconds each"
        if n >= 256:     # below, timing a small box would cost more than it says
            timing = (f"the FFT alone roughly {_minutes(fft_seconds_estimate(n))} each at "
                      f"in-memory speed here ({'plus the disk time; ' if 'disk' in route else ''}"
                      f"timed on a 64³ box now)")
        hint = "; --realisations 1 for a single box" if realisations > 1 else ""
        announce(f"plan: {realisations} realisation(s) of a {n}³ box of {kind}, each "
                 f"placing and rasterising the particles, then 2 split-FFT passes {route}: "
                 f"{timing}{hint}")
    started = time.perf_counter()
    curves, realised = [], []
    for k in range(realisations):
        if announce is not None and k:
            spent = time.perf_counter() - started
            announce(f"realisation {k}/{realisations} done after {_minutes(spent)}; about "
                     f"{_minutes(spent / k * (realisations - k))} left")
        step = prefixed(progress, f"realisation {k + 1}/{realisations}: ")
        ens = build_ensemble(kind, grid, radius=radius, volume_fraction=volume_fraction,
                             radius_pd=radius_pd, length=length, length_pd=length_pd, sld=sld,
                             sld_solvent=sld_solvent, seed=seed + k, isotropic=True,
                             progress=step, size_sampling=size_sampling)
        curve, _ = ensemble_curve(ens, dtype=dtype, q_min=q_min, q_max=q_max,
                                  correction=correction, supersample=supersample,
                                  memory_budget=memory_budget, scheduler=scheduler,
                                  workers=workers, workdir=workdir, progress=step)
        curves.append(curve)
        if kind in ("spheres", "cylinders"):
            realised.append(bin_like(curve, lambda q, e=ens: realised_ensemble_iq(
                e.shapes, grid.volume, q, contrast=sld - sld_solvent)))
    curve = combine_realisations(curves)
    phi = float(np.mean([c.meta["volume_fraction"] for c in curves]))
    pd = {}
    if radius_pd > 0:
        pd["radius"] = radius_pd
    if length_pd > 0:
        pd["length"] = length_pd
    dims = {"radius": radius}
    shape = {"spheres": "sphere", "cylinders": "cylinder", "hardspheres": "hardsphere"}[kind]
    if kind == "cylinders":
        dims["length"] = length
    model, pars = reference_parameters(shape, dims, pd, sld, sld_solvent, scale=phi,
                                       volume_fraction=phi)
    ref = bin_like(curve, lambda q: sasmodels_iq(model, q, pars))
    metrics = compare_curves(curve, ref, fit_scale=fit_scale)
    extra = {"volume_fraction_realised": phi, "realisations": realisations,
             "particles": [c.meta["ensemble"].get("particles") for c in curves],
             "ensemble_stats": [c.meta["ensemble"] for c in curves]}
    if realised:
        rm = compare_curves(curve, np.mean(realised, axis=0))
        extra.update(realised_median_rel_error=rm["median_rel_error"],
                     realised_p95_rel_error=rm["p95_rel_error"])
    params = {"ensemble": kind, "box_A": box, "n": n, "spacing_A": grid.spacing,
              "radius": radius, "radius_pd": radius_pd, "length": length,
              "length_pd": length_pd, "volume_fraction": volume_fraction, "sld": sld,
              "sld_solvent": sld_solvent, "seed": seed, "precision": np.dtype(dtype).name,
              "size_sampling": size_sampling, "realisations": realisations,
              "route": "shell average (split FFT)", "voxel_correction": correction}
    return Comparison(curve, ref, metrics, params, model, extra)


def _minutes(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.1f} min"


def compare_aligned_cylinders_2d(*, box: float, n: int, radius: float, length: float,
                                 volume_fraction: float, theta: float, phi: float,
                                 radius_pd: float = 0.0, length_pd: float = 0.0,
                                 sld: float = 1.0, sld_solvent: float = 0.0, seed: int = 0,
                                 realisations: int = 1, rebin: int = 4, dtype=np.float32,
                                 correction: str = "deconvolve",
                                 ) -> tuple[Detector2D, np.ndarray, dict]:
    """Aligned cylinders (all at θ, φ) on the kz = 0 detector slice vs sasmodels' 2D cylinder
    at the same orientation (beam along z in both; the reference is evaluated on every fine
    pixel and rebinned like the data). Returns (pattern, reference, metrics)."""
    from ..scattering.detector import fine_q, rebin2d
    grid = VoxelGrid.from_box(box, n)
    dets, fractions = [], []
    for k in range(realisations):
        ens = build_ensemble("cylinders", grid, radius=radius, length=length,
                             volume_fraction=volume_fraction, radius_pd=radius_pd,
                             length_pd=length_pd, theta=theta, phi=phi, sld=sld,
                             sld_solvent=sld_solvent, seed=seed + k)
        _, det = ensemble_curve(ens, dtype=dtype, correction=correction, detector=True,
                                detector_rebin=rebin)
        dets.append(det)
        fractions.append(ens.volume_fraction)
    det = dets[0]
    if realisations > 1:
        stack = np.array([d.intensity for d in dets])
        det.intensity = stack.mean(0)
        within = np.sqrt(np.mean([d.sigma ** 2 for d in dets], 0) / realisations)
        det.sigma = np.maximum.reduce([stack.std(0, ddof=1) / np.sqrt(realisations), within,
                                      0.01 * det.intensity])
    phi_v = float(np.mean(fractions))
    pars = {"scale": phi_v, "background": 0.0, "sld": sld, "sld_solvent": sld_solvent,
            "radius": radius, "length": length, "theta": theta, "phi": phi}
    for name, w in (("radius", radius_pd), ("length", length_pd)):
        if w > 0:
            pars.update({f"{name}_pd": w, f"{name}_pd_n": 35, f"{name}_pd_type": "gaussian"})
    qx, qy = fine_q(n, grid.spacing)
    ref = rebin2d(sasmodels_iqxy("cylinder", qx, qy, pars), rebin)
    m = det.mask & (ref > 0)
    flat = Curve1D(det.q[m], det.intensity[m], det.sigma[m])
    metrics = compare_curves(flat, ref[m])
    metrics.update(rebin=rebin, realisations=realisations, volume_fraction_realised=phi_v)
    return det, ref, metrics
