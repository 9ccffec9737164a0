#!/usr/bin/env python
"""Plugin models built from triangle meshes (``saxsim make-model FILE.stl``): agreement with
sasmodels' closed forms, cost, and a fit of a curve made by sasmodels.

    python benchmarks/mesh_models.py
    python benchmarks/mesh_models.py --voxels 60 100 160

* Meshes made with trimesh for shapes sasmodels has in closed form, each turned by a fixed
  random rotation: a box (parallelepiped 40 × 60 × 100 Å), a cylinder with 256 facets
  (radius 30, length 120 Å), an ellipsoid (icosphere of 5 subdivisions scaled to 25 × 25 ×
  60 Å) and a sphere (icosphere, radius 50 Å); and a rod as CAD exports make them, axis
  along z (256 facets, radius 20, length 400 Å). ``--voxels 0``: the automatic grid (24
  voxels across the thinnest extent, at least 100 along the longest). The plugin
  model through sasmodels' kernel against the analytical model in absolute units (scale 1,
  sld 2, sld_solvent 1), 200 log-spaced q in 0.005–0.5 1/Å, with and without Gaussian
  polydispersity 0.1 (35 points) of the overall size (size_scale for the mesh; for the
  closed form the sum of sasmodels' I(q) over the same Gaussian points of every
  length scaled together, weighted by sasmodels' rule Σw·F²/Σw·V). A faceted mesh is not
  the smooth shape: the polyhedron's own volume error (trimesh, exact) is listed beside it.
* Cost: make-model (voxelise, trial load), the first call, and the median of 5 warm calls.
* Fit: the box model fitted with bumps (size_scale, scale, background; the SLDs known:
  scale and contrast are one factor) to
  sasmodels' parallelepiped of 44 × 66 × 110 Å with 2 % noise and resolution-free q.

Prints markdown tables (rows on stderr as they are done); writes nothing else unless
--json FILE is given.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time

import numpy as np
import trimesh
from common import machine_description, publish  # benchmarks/ is on sys.path
from sasmodels.core import load_model
from sasmodels.direct_model import call_kernel

from sasview_saxsim_plugin.models.file_models import make_mesh_model

Q = np.geomspace(0.005, 0.5, 200)
SLDS = {"sld": 2.0, "sld_solvent": 1.0}


def meshes() -> list[tuple[str, trimesh.Trimesh, str, dict, float]]:
    """(name, mesh in Å, sasmodels model, its parameters, exact volume of the smooth
    shape in Å³)."""
    rotation = trimesh.transformations.random_rotation_matrix(
        np.random.default_rng(27).random(3))
    ellipsoid = trimesh.creation.icosphere(5, 1.0)
    ellipsoid.apply_scale((25.0, 25.0, 60.0))
    aligned = trimesh.creation.cylinder(20.0, 400.0, sections=256)
    out = [
        ("box", trimesh.creation.box((40.0, 60.0, 100.0)), "parallelepiped",
         {"length_a": 40.0, "length_b": 60.0, "length_c": 100.0}, 40.0 * 60 * 100),
        ("cylinder", trimesh.creation.cylinder(30.0, 120.0, sections=256), "cylinder",
         {"radius": 30.0, "length": 120.0}, np.pi * 30 ** 2 * 120),
        ("ellipsoid", ellipsoid, "ellipsoid",
         {"radius_polar": 60.0, "radius_equatorial": 25.0}, 4 / 3 * np.pi * 25 * 25 * 60),
        ("sphere", trimesh.creation.icosphere(5, 50.0), "sphere", {"radius": 50.0},
         4 / 3 * np.pi * 50 ** 3),
    ]
    for _, mesh, _, _, _ in out:
        mesh.apply_transform(rotation)
    # as CAD exports and trimesh make them: the axis along z, faces on the grid's planes
    out.append(("aligned rod", aligned, "cylinder", {"radius": 20.0, "length": 400.0},
                np.pi * 20 ** 2 * 400))
    return out


def progress(line: str) -> str:
    print(line, file=sys.stderr, flush=True)
    return line


def call(kernel, pars):
    t = time.perf_counter()
    out = np.asarray(call_kernel(kernel, pars))
    return out, time.perf_counter() - t


def size_averaged(ref, pars: dict, volume: float, pd: float, pd_n: int) -> np.ndarray:
    """sasmodels' I(q) of the smooth shape averaged over a Gaussian spread ``pd`` of its
    overall size (every length × s), weighted as sasmodels weights polydispersity:
    Σ w·F²(s) / Σ w·V(s), with sasmodels' own Gaussian points and weights."""
    from sasmodels.weights import get_weights
    kernel = ref.make_kernel([Q])
    if not pd:
        out = np.asarray(call_kernel(kernel, {"scale": 1.0, "background": 0.0, **pars}))
        kernel.release()
        return out
    sizes, weights = get_weights("gaussian", pd_n, pd, 3.0, 1.0, (0.0, np.inf), True)
    lengths = {k for k in pars if not k.startswith("sld")}
    f2 = np.zeros_like(Q)
    norm = 0.0
    for s, w in zip(sizes, weights, strict=True):
        scaled = {k: (v * s if k in lengths else v) for k, v in pars.items()}
        i = np.asarray(call_kernel(kernel, {"scale": 1.0, "background": 0.0, **scaled}))
        f2 += w * i * volume * s ** 3          # sasmodels' I is F²/V at scale 1
        norm += w * volume * s ** 3
    kernel.release()
    return f2 / norm


def rows_for(name, mesh, reference, ref_pars, smooth_volume, voxels, folder, pd_n):
    path = f"{folder}/{name.replace(' ', '_')}.stl"
    mesh.export(path)
    t = time.perf_counter()
    plugin, _ = make_mesh_model(path, 1.0, f"mesh_{name.replace(' ', '_')}_{voxels}", folder,
                                overwrite=True, voxels=voxels or None)
    shape = np.load(str(plugin).replace(".py", "_density.npy"), mmap_mode="r").shape
    make_s = time.perf_counter() - t
    model, ref = load_model(str(plugin)), load_model(reference)
    rows = []
    for pd in (0.0, 0.1):
        pars = {"scale": 1.0, "background": 0.0, **SLDS}
        if pd:
            pars.update(size_scale_pd=pd, size_scale_pd_n=pd_n)
        kernel = model.make_kernel([Q])
        values, cold = call(kernel, pars)
        warm = float(np.median([call(kernel, pars)[1] for _ in range(5)]))
        kernel.release()
        expected = size_averaged(ref, {**SLDS, **ref_pars}, smooth_volume, pd, pd_n)
        rel = np.abs(values / expected - 1)
        row = dict(mesh=name, faces=len(mesh.faces), reference=reference,
                   voxels="×".join(map(str, shape)),
                   pd=pd, median=float(np.median(rel)), p95=float(np.percentile(rel, 95)),
                   max=float(rel.max()), make_s=make_s, cold_s=cold, warm_ms=1e3 * warm,
                   facet_volume=float(mesh.volume / smooth_volume - 1))
        rows.append(row)
        progress(f"{name} voxels {voxels} pd {pd}: median {100 * row['median']:.3g} %, "
                 f"p95 {100 * row['p95']:.3g} %, make {make_s:.1f} s, cold {cold:.2f} s, "
                 f"warm {1e3 * warm:.1f} ms")
    return rows


def fit_row(folder: str, voxels: int) -> dict:
    from bumps.fitters import fit
    from bumps.names import FitProblem
    from sasmodels.bumps_model import Experiment, Model
    from sasmodels.data import empty_data1D

    path = f"{folder}/fitbox.stl"
    trimesh.creation.box((40.0, 60.0, 100.0)).apply_transform(
        trimesh.transformations.random_rotation_matrix(
            np.random.default_rng(3).random(3))).export(path)
    plugin, _ = make_mesh_model(path, 1.0, "mesh_fit_box", folder, overwrite=True,
                                voxels=voxels or None)
    q = np.geomspace(0.005, 0.3, 120)
    truth = {"scale": 0.02, "background": 0.01, "sld": 2.5, "sld_solvent": 1.0}
    ref = load_model("parallelepiped")
    k = ref.make_kernel([q])
    clean = np.asarray(call_kernel(k, {**truth, "length_a": 44.0, "length_b": 66.0,
                                       "length_c": 110.0}))
    k.release()
    rng = np.random.default_rng(11)
    data = empty_data1D(q)
    data.dy = 0.02 * clean
    data.y = clean + rng.normal(0, data.dy)
    model = Model(load_model(str(plugin)), scale=0.01, background=0.0, sld=truth["sld"],
                  sld_solvent=1.0, size_scale=1.0)
    model.size_scale.range(0.5, 2.0)
    model.scale.range(1e-4, 1.0)
    model.background.range(0.0, 0.1)
    problem = FitProblem(Experiment(data=data, model=model))
    t = time.perf_counter()
    result = fit(problem, method="lm", steps=200, verbose=False)
    seconds = time.perf_counter() - t
    names = problem.labels()
    values = dict(zip(names, result.x, strict=True))
    errors = dict(zip(names, result.dx, strict=True))
    expected = {"size_scale": 1.1, "scale": truth["scale"],
                "background": truth["background"]}
    out = {"chi2": float(problem.chisq()), "seconds": seconds}
    for n, v in expected.items():
        out[n] = (float(values[n]), float(errors[n]), v)
    progress(f"fit: {out}")
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--voxels", type=int, nargs="+", default=[0],
                   help="voxels along the longest extent (0: automatic)")
    p.add_argument("--pd-n", type=int, default=35)
    p.add_argument("--no-fit", action="store_true")
    p.add_argument("--json", help="also write the rows as JSON to this file")
    a = p.parse_args(argv)
    rows, fit = [], None
    with tempfile.TemporaryDirectory() as folder:
        for voxels in a.voxels:
            for item in meshes():
                rows += rows_for(*item, voxels, folder, a.pd_n)
        if not a.no_fit:
            fit = fit_row(folder, a.voxels[0])
    out = ["| mesh (faces) | vs sasmodels | grid | pd (35 pts) | median \\|ΔI\\|/I | p95 | "
           "max | facets' volume error | make-model s | cold s | warm ms |",
           "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        out.append(f"| {r['mesh']} ({r['faces']}) | {r['reference']} | {r['voxels']} | "
                   f"{r['pd']:g} | {100 * r['median']:.3g} % | {100 * r['p95']:.3g} % | "
                   f"{100 * r['max']:.3g} % | {100 * r['facet_volume']:.3g} % | "
                   f"{r['make_s']:.1f} | {r['cold_s']:.2f} | {r['warm_ms']:.1f} |")
    if fit is not None:
        out += ["", "| fit of a box mesh to sasmodels' parallelepiped (2 % noise) | fitted ± σ "
                "| true | deviation |", "|---|---|---|---|"]
        for n in ("size_scale", "scale", "background"):
            v, e, t = fit[n]
            out.append(f"| {n} | {v:.5g} ± {e:.2g} | {t:g} | {(v - t) / e:+.2f} σ |")
        out.append(f"| χ²_r | {fit['chi2']:.3g} | | {fit['seconds']:.1f} s |")
    publish("Models from meshes", "\n".join(out), machine_description(),
            raw={"rows": rows, "fit": fit}, json_out=a.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
