#!/usr/bin/env python
"""The per-shape numerical plugin models (numerical_sphere, numerical_cylinder, ...):
agreement with their analytical sasmodels counterparts, cost per call (cold = new geometry,
warm = cached) next to the analytical model, the oriented cylinder in 2D, and a bumps fit of
noisy synthetic sphere data with numerical_sphere and with sasmodels' sphere.

    python benchmarks/plugin_model.py
    python benchmarks/plugin_model.py --shapes sphere cylinder --no-fit
    python benchmarks/plugin_model.py --voxels 48 --figures FOLDER

Every registered shape with a sasmodels counterpart is measured (``--shapes`` picks some);
the cylinder also with radius and length polydispersity and on a 2D detector, the sphere in
the bumps fit. The grid is the models' automatic one unless ``--voxels N`` fixes it
(``sasview_saxsim_plugin.models.engine.MODEL.voxels``). Prints the tables (markdown, with the
machine and the command; each row also on stderr as it is done) and writes nothing else
unless --json FILE (the rows) or --figures FOLDER (PNG comparisons) is given.
"""

import argparse
import os
import sys
import time

import numpy as np
from common import machine_description, publish  # benchmarks/ is on sys.path
from sasmodels.core import load_model
from sasmodels.direct_model import call_kernel

from sasview_saxsim_plugin.geometry.registry import SHAPES
from sasview_saxsim_plugin.models import load_numerical_model, model_name
from sasview_saxsim_plugin.models.engine import MODEL

Q = np.geomspace(0.005, 0.5, 200)

#: shape -> (parameters, the length that gets polydispersity); shapes registered later are
#: measured at their registry defaults with polydispersity on their first length
CASES = {
    "sphere": ({"radius": 60.0, "sld": 1.0, "sld_solvent": 0.0}, "radius"),
    "cylinder": ({"radius": 20.0, "length": 200.0, "sld": 1.0, "sld_solvent": 0.0}, "radius"),
    "ellipsoid": ({"radius_polar": 30.0, "radius_equatorial": 60.0, "sld": 1.0,
                   "sld_solvent": 0.0}, "radius_polar"),
    "core_shell_sphere": ({"radius": 40.0, "thickness": 15.0, "sld_core": 1.0,
                           "sld_shell": 2.0, "sld_solvent": 0.5}, "radius"),
    "core_shell_cylinder": ({"radius": 20.0, "thickness": 10.0, "length": 200.0,
                             "sld_core": 1.0, "sld_shell": 2.0, "sld_solvent": 0.5}, "radius"),
}
CYLINDER = dict(radius=20.0, length=200.0, sld=1.0, sld_solvent=0.0)


def case(shape: str) -> tuple[dict, str]:
    """(parameters, polydisperse length) of a shape."""
    if shape in CASES:
        return CASES[shape]
    spec = SHAPES[shape]
    return spec.defaults(), spec.lengths[0]


def progress(line: str) -> str:
    print(line, file=sys.stderr, flush=True)
    return line


def timed(kernel, pars, repeats=5):
    t = time.perf_counter()
    out = call_kernel(kernel, pars)
    cold = time.perf_counter() - t
    warm = []
    for _ in range(repeats):
        t = time.perf_counter()
        call_kernel(kernel, pars)
        warm.append(time.perf_counter() - t)
    return out, cold, float(np.median(warm))


def agreement_and_cost(shapes) -> tuple[list[str], list[dict]]:
    """Each shape in 1D without and with 10 % polydispersity (35 points) on one length."""
    lines = ["| model | pd (35 pts) | median \\|ΔI\\|/I | p95 | cold s | warm ms | analytic ms "
             "| warm / analytic |", "|---|---|---|---|---|---|---|---|"]
    raw = []
    for shape in shapes:
        pars, pd_name = case(shape)
        for pd in (0.0, 0.1):
            # a fresh model per row so "cold" really builds the geometry tables
            MODEL.cache.clear()
            num_k = load_numerical_model(shape).make_kernel([Q])
            ref_k = load_model(SHAPES[shape].sasmodels_name).make_kernel([Q])
            extra = {f"{pd_name}_pd": pd, f"{pd_name}_pd_n": 35} if pd else {}
            num, cold, warm = timed(num_k, dict(**pars, **extra))
            ref, _, ref_t = timed(ref_k, dict(**pars, **extra))
            r = np.abs(num / ref - 1)
            raw.append({"model": model_name(shape), "parameters": pars, "pd": pd,
                        "pd_on": pd_name, **agreement(r, cold, warm, ref_t)})
            lines.append(progress(
                f"| {model_name(shape)} | {pd:g} on {pd_name} | {100 * np.median(r):.3g} % | "
                f"{100 * np.percentile(r, 95):.3g} % | {cold:.2f} | {1e3 * warm:.2f} | "
                f"{1e3 * ref_t:.2f} | {warm / ref_t:.1f} |"))
    return lines, raw


def agreement(rel: np.ndarray, cold: float, warm: float, analytic: float) -> dict:
    """Median and 95th percentile of the relative errors ``rel`` with the three times (s)."""
    return {"median_rel_error": float(np.median(rel)),
            "p95_rel_error": float(np.percentile(rel, 95)), "cold_s": cold, "warm_s": warm,
            "analytic_s": analytic}


def two_length_pd() -> tuple[list[str], dict]:
    """numerical_cylinder with radius and length polydispersity (0.1 each, 35 × 35 points)."""
    MODEL.cache.clear()
    num_k = load_numerical_model("cylinder").make_kernel([Q])
    ref_k = load_model("cylinder").make_kernel([Q])
    pars = dict(CYLINDER, radius_pd=0.1, radius_pd_n=35, length_pd=0.1, length_pd_n=35)
    num, cold, warm = timed(num_k, pars, repeats=3)
    ref, _, ref_t = timed(ref_k, pars, repeats=3)
    r = np.abs(num / ref - 1)
    line = progress(
        f"numerical_cylinder, radius_pd = length_pd = 0.1 (35×35): cold {cold:.1f} s, warm "
        f"{1e3 * warm:.0f} ms, analytical {1e3 * ref_t:.0f} ms; median "
        f"{100 * np.median(r):.3g} %, p95 {100 * np.percentile(r, 95):.3g} %")
    return [line], {"parameters": pars, **agreement(r, cold, warm, ref_t)}


def detector():
    from sasmodels.data import empty_data2D
    q1 = np.linspace(-0.3, 0.3, 101)
    data = empty_data2D(q1, q1)
    return q1, data.qx_data, data.qy_data


def oriented_2d() -> tuple[list[str], list[dict]]:
    """numerical_cylinder R = 20 Å, L = 200 Å on a 101×101 detector (|q| ≤ 0.3 1/Å, the beam
    stop |q| < 0.006 excluded) at two orientations, radius_pd 0 and 0.1, vs sasmodels' 2D
    cylinder."""
    _, qx, qy = detector()
    lines = ["| numerical_cylinder 2D (θ, φ) | radius pd | median \\|ΔI\\|/I | p95 | cold s | "
             "warm ms | analytic ms |", "|---|---|---|---|---|---|---|"]
    raw = []
    for theta, phi in ((90.0, 0.0), (60.0, 30.0)):
        for pd in (0.0, 0.1):
            MODEL.cache.clear()
            num_k = load_numerical_model("cylinder").make_kernel([qx, qy])
            ref_k = load_model("cylinder").make_kernel([qx, qy])
            pars = dict(CYLINDER, radius_pd=pd, radius_pd_n=35)
            num, cold, warm = timed(num_k, dict(pars, axis_theta=theta, axis_phi=phi))
            ref, _, ref_t = timed(ref_k, dict(pars, theta=theta, phi=phi))
            ok = np.hypot(qx, qy) > 0.006
            r = np.abs(num[ok] / ref[ok] - 1)
            raw.append({"theta": theta, "phi": phi, "radius_pd": pd,
                        **agreement(r, cold, warm, ref_t)})
            lines.append(progress(
                f"| ({theta:g}°, {phi:g}°) | {pd:g} | {100 * np.median(r):.3g} % | "
                f"{100 * np.percentile(r, 95):.3g} % | {cold:.2f} | {1e3 * warm:.1f} | "
                f"{1e3 * ref_t:.1f} |"))
    return lines, raw


def bumps_fit() -> tuple[list[str], list[dict]]:
    """Noisy sphere data (sasmodels sphere R=60 Å, pd 0.1, scale 0.01, bkg 0.001), fitted with
    numerical_sphere and with the analytical sphere: radius, scale, background free."""
    from bumps.fitters import fit
    from bumps.names import FitProblem
    from sasmodels.bumps_model import Experiment, Model
    from sasmodels.data import empty_data1D

    rng = np.random.default_rng(7)
    q = np.geomspace(0.005, 0.4, 150)
    truth = dict(radius=60.0, radius_pd=0.1, radius_pd_n=35, scale=0.01, background=0.001,
                 sld=1.0, sld_solvent=0.0)
    k = load_model("sphere").make_kernel([q])
    clean = call_kernel(k, truth)
    sigma = 0.03 * clean + 0.0002
    data = empty_data1D(q)
    data.y = clean + rng.normal(0, sigma)
    data.dy = sigma
    lines = ["| model | radius (true 60 Å) | error | scale | background | χ² | wall s |",
             "|---|---|---|---|---|---|---|"]
    raw = []
    for label, sas_model in ((model_name("sphere"), load_numerical_model("sphere")),
                             ("sphere (analytical)", load_model("sphere"))):
        model = Model(sas_model, radius=45.0, radius_pd=0.1, radius_pd_n=35, scale=0.02,
                      background=0.0, sld=1.0, sld_solvent=0.0)
        model.radius.range(10, 200)
        model.scale.range(0, 1)
        model.background.range(0, 0.1)
        problem = FitProblem(Experiment(data=data, model=model))
        t = time.perf_counter()
        result = fit(problem, method="lm", steps=200, verbose=False)
        wall = time.perf_counter() - t
        vals = dict(zip(problem.labels(), result.x, strict=True))
        radius = vals["radius"]
        raw.append({"model": label, **{k: float(v) for k, v in vals.items()},
                    "chisq": float(problem.chisq()), "seconds": wall})
        lines.append(progress(
            f"| {label} | {radius:.3f} | {100 * (radius / 60 - 1):+.3f} % | "
            f"{vals['scale']:.5f} | {vals['background']:.5f} | {problem.chisq():.3f} | "
            f"{wall:.2f} |"))
    return lines, raw


def figures(folder: str, shapes) -> None:
    """Side-by-side plots (numerical vs analytical, residuals) of each shape in 1D with 10 %
    polydispersity on one length, and of numerical_cylinder in 2D at two orientations."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from sasview_saxsim_plugin.io.plotting import plot_comparison
    from sasview_saxsim_plugin.scattering import Curve1D, compare_curves

    os.makedirs(folder, exist_ok=True)
    for shape in shapes:
        pars, pd_name = case(shape)
        extra = {f"{pd_name}_pd": 0.1, f"{pd_name}_pd_n": 35}
        num = call_kernel(load_numerical_model(shape).make_kernel([Q]), dict(**pars, **extra))
        reference = SHAPES[shape].sasmodels_name
        ref = call_kernel(load_model(reference).make_kernel([Q]), dict(**pars, **extra))
        curve = Curve1D(Q, num)
        path = plot_comparison(curve, ref, compare_curves(curve, ref),
                               os.path.join(folder, f"{model_name(shape)}.png"),
                               f"{model_name(shape)} vs {reference} {pars}, {pd_name}_pd 0.1",
                               ref_label=f"sasmodels {reference}")
        progress(f"wrote {path}")
    if "cylinder" not in shapes:
        return
    q1, qx, qy = detector()
    num_k = load_numerical_model("cylinder").make_kernel([qx, qy])
    ref_k = load_model("cylinder").make_kernel([qx, qy])
    fig, axes = plt.subplots(2, 3, figsize=(11, 7))
    for row, (theta, phi) in enumerate(((90.0, 0.0), (60.0, 30.0))):
        pars = dict(CYLINDER, radius_pd=0.1, radius_pd_n=35)
        num = call_kernel(num_k, dict(pars, axis_theta=theta, axis_phi=phi))
        ref = call_kernel(ref_k, dict(pars, theta=theta, phi=phi))
        ext = [q1[0], q1[-1], q1[0], q1[-1]]
        for ax, img, title in ((axes[row, 0], num, "numerical_cylinder"),
                               (axes[row, 1], ref, "sasmodels cylinder")):
            im = ax.imshow(np.log10(img.reshape(101, 101)), origin="lower", extent=ext)
            ax.set_title(f"{title} (θ={theta:g}°, φ={phi:g}°)", fontsize=9)
            ax.set_xlabel("qx (1/Å)")
            ax.set_ylabel("qy (1/Å)")
            fig.colorbar(im, ax=ax, label="log10 I (1/cm)")
        rel = 100 * (num / ref - 1)
        im = axes[row, 2].imshow(rel.reshape(101, 101), origin="lower", extent=ext,
                                 cmap="coolwarm", vmin=-2, vmax=2)
        axes[row, 2].set_title("ΔI/I (%)", fontsize=9)
        fig.colorbar(im, ax=axes[row, 2], label="%")
    fig.tight_layout()
    path = os.path.join(folder, "numerical_cylinder_2d.png")
    fig.savefig(path, dpi=90)
    plt.close(fig)
    progress(f"wrote {path}")


def main() -> int:
    measurable = [s for s, spec in SHAPES.items() if spec.sasmodels_name]
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shapes", nargs="+", choices=measurable, default=measurable,
                    help="registered shapes to measure (default: all with a sasmodels "
                         "counterpart)")
    ap.add_argument("--voxels", type=int, default=0,
                    help="voxels across the smallest feature (default 0: the models' "
                         "automatic grid)")
    ap.add_argument("--no-fit", action="store_true", help="skip the bumps fit")
    ap.add_argument("--figures", metavar="FOLDER",
                    help="also write the comparison plots (PNG) into FOLDER")
    ap.add_argument("--json", metavar="FILE", help="also save the rows as JSON")
    a = ap.parse_args()
    MODEL.voxels = a.voxels
    lines, rows = agreement_and_cost(a.shapes)
    raw = {"voxels": a.voxels, "agreement": rows}
    if "cylinder" in a.shapes:
        more, raw["cylinder_two_pd"] = two_length_pd()
        lines += [""] + more
        more, raw["cylinder_2d"] = oriented_2d()
        lines += [""] + more
    if "sphere" in a.shapes and not a.no_fit:
        more, raw["bumps_fit"] = bumps_fit()
        lines += [""] + more
    if a.figures:
        figures(a.figures, a.shapes)
    grid = f"{a.voxels} voxels across the smallest feature" if a.voxels else "automatic grid"
    publish("Numerical plugin models vs sasmodels", "\n".join(lines), machine_description(),
            raw, a.json, f"; {grid}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
