#!/usr/bin/env python
"""The numerical_density plugin model: agreement with its analytical counterpart, cost per
call (cold = new geometry, warm = cached) next to the analytical model, and a bumps fit of
noisy synthetic sphere data. Prints markdown.

    python benchmarks/plugin_model.py
"""

import os
import time

import numpy as np
from sasmodels.core import load_model
from sasmodels.direct_model import call_kernel

HERE = os.path.dirname(os.path.abspath(__file__))
MODEL_FILE = os.path.join(HERE, "..", "plugin_models", "numerical_density.py")
Q = np.geomspace(0.005, 0.5, 200)

CASES = [
    ("sphere", 0, {"radius": 60.0, "sld": 1.0, "sld_solvent": 0.0}, "radius"),
    ("cylinder", 1, {"radius": 20.0, "length": 200.0, "sld": 1.0, "sld_solvent": 0.0}, "radius"),
    ("ellipsoid", 2, {"radius_polar": 30.0, "radius_equatorial": 60.0, "sld": 1.0,
                      "sld_solvent": 0.0}, "radius_polar"),
    ("core_shell_sphere", 3, {"radius": 40.0, "thickness": 15.0, "sld_core": 1.0,
                              "sld_shell": 2.0, "sld_solvent": 0.5}, "radius"),
]


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


def agreement_and_cost():
    print("| shape | pd (35 pts) | median \\|ΔI\\|/I | p95 | cold s | warm ms | analytic ms "
          "| warm / analytic |")
    print("|---|---|---|---|---|---|---|---|")
    for shape, code, pars, pd_name in CASES:
        for pd in (0.0, 0.1):
            # a fresh model per row so "cold" really builds the geometry tables
            from sasview_saxsim_plugin import numerical_model
            numerical_model.MODEL.cache.clear()
            num_k = load_model(MODEL_FILE).make_kernel([Q])
            ref_k = load_model(shape).make_kernel([Q])
            extra = {f"{pd_name}_pd": pd, f"{pd_name}_pd_n": 35} if pd else {}
            num, cold, warm = timed(num_k, dict(shape=code, **pars, **extra))
            ref, _, ref_t = timed(ref_k, dict(**pars, **extra))
            r = np.abs(num / ref - 1)
            print(f"| {shape} | {pd:g} on {pd_name} | {100 * np.median(r):.3g} % | "
                  f"{100 * np.percentile(r, 95):.3g} % | {cold:.2f} | {1e3 * warm:.2f} | "
                  f"{1e3 * ref_t:.2f} | {warm / ref_t:.1f} |", flush=True)


FIGURES = os.path.join(HERE, "..", "docs", "figures")


def figures(folder=FIGURES):
    """Side-by-side plots (numerical vs analytical, residuals) for the four shapes in 1D with
    radius pd 0.1 and the cylinder in 2D at two orientations."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sasmodels.data import empty_data2D

    from sasview_saxsim_plugin.scattering import Curve1D, compare_curves, plot_comparison
    os.makedirs(folder, exist_ok=True)
    num_k = load_model(MODEL_FILE).make_kernel([Q])
    for shape, code, pars, pd_name in CASES:
        extra = {f"{pd_name}_pd": 0.1, f"{pd_name}_pd_n": 35}
        num = call_kernel(num_k, dict(shape=code, **pars, **extra))
        ref = call_kernel(load_model(shape).make_kernel([Q]), dict(**pars, **extra))
        curve = Curve1D(Q, num)
        plot_comparison(curve, ref, compare_curves(curve, ref),
                        os.path.join(folder, f"numerical_density_{shape}.png"),
                        f"numerical_density vs {shape} {pars}, {pd_name}_pd 0.1",
                        ref_label=f"sasmodels {shape}")
    q1 = np.linspace(-0.3, 0.3, 101)
    data = empty_data2D(q1, q1)
    qx, qy = data.qx_data, data.qy_data
    num_k = load_model(MODEL_FILE).make_kernel([qx, qy])
    ref_k = load_model("cylinder").make_kernel([qx, qy])
    fig, axes = plt.subplots(2, 3, figsize=(11, 7))
    for row, (theta, phi) in enumerate(((90.0, 0.0), (60.0, 30.0))):
        pars = dict(radius=20.0, length=200.0, sld=1.0, sld_solvent=0.0, radius_pd=0.1,
                    radius_pd_n=35)
        num = call_kernel(num_k, dict(pars, shape=1, axis_theta=theta, axis_phi=phi))
        ref = call_kernel(ref_k, dict(pars, theta=theta, phi=phi))
        ext = [q1[0], q1[-1], q1[0], q1[-1]]
        for ax, img, title in ((axes[row, 0], num, "numerical_density"),
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
    fig.savefig(os.path.join(folder, "numerical_density_cylinder_2d.png"), dpi=90)
    plt.close(fig)


def two_length_pd():
    """Cylinder with radius and length polydispersity (0.1 each, 35 × 35 points)."""
    from sasview_saxsim_plugin import numerical_model
    numerical_model.MODEL.cache.clear()
    num_k = load_model(MODEL_FILE).make_kernel([Q])
    ref_k = load_model("cylinder").make_kernel([Q])
    pars = dict(radius=20.0, length=200.0, sld=1.0, sld_solvent=0.0, radius_pd=0.1,
                radius_pd_n=35, length_pd=0.1, length_pd_n=35)
    num, cold, warm = timed(num_k, dict(pars, shape=1), repeats=3)
    ref, _, ref_t = timed(ref_k, pars, repeats=3)
    r = np.abs(num / ref - 1)
    print(f"\ncylinder, radius_pd = length_pd = 0.1 (35×35): cold {cold:.1f} s, warm "
          f"{1e3 * warm:.0f} ms, analytical {1e3 * ref_t:.0f} ms; median "
          f"{100 * np.median(r):.3g} %, p95 {100 * np.percentile(r, 95):.3g} %", flush=True)


def oriented_2d():
    """Cylinder R = 20 Å, L = 200 Å, radius_pd 0.1 on a 101×101 detector (|q| ≤ 0.3 1/Å, the
    beam stop |q| < 0.006 excluded) at two orientations vs sasmodels' 2D cylinder."""
    from sasmodels.data import empty_data2D
    q1 = np.linspace(-0.3, 0.3, 101)
    data = empty_data2D(q1, q1)
    qx, qy = data.qx_data, data.qy_data
    print("\n| cylinder 2D (θ, φ) | pd | median \\|ΔI\\|/I | p95 | cold s | warm ms | "
          "analytic ms |")
    print("|---|---|---|---|---|---|---|")
    from sasview_saxsim_plugin import numerical_model
    for theta, phi in ((90.0, 0.0), (60.0, 30.0)):
        for pd in (0.0, 0.1):
            numerical_model.MODEL.cache.clear()
            num_k = load_model(MODEL_FILE).make_kernel([qx, qy])
            ref_k = load_model("cylinder").make_kernel([qx, qy])
            pars = dict(radius=20.0, length=200.0, sld=1.0, sld_solvent=0.0, radius_pd=pd,
                        radius_pd_n=35)
            num, cold, warm = timed(num_k, dict(pars, shape=1, axis_theta=theta, axis_phi=phi))
            ref, _, ref_t = timed(ref_k, dict(pars, theta=theta, phi=phi))
            ok = np.hypot(qx, qy) > 0.006
            r = np.abs(num[ok] / ref[ok] - 1)
            print(f"| ({theta:g}°, {phi:g}°) | {pd:g} | {100 * np.median(r):.3g} % | "
                  f"{100 * np.percentile(r, 95):.3g} % | {cold:.2f} | {1e3 * warm:.1f} | "
                  f"{1e3 * ref_t:.1f} |", flush=True)


def bumps_fit():
    """Noisy sphere data (sasmodels sphere R=60 Å, pd 0.1, scale 0.01, bkg 0.001), fitted with
    the numerical model and with the analytical one: radius, scale, background free."""
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
    print("\n| model | radius (true 60 Å) | error | scale | background | χ² | wall s |")
    print("|---|---|---|---|---|---|---|")
    for label, model_name, extra in (("numerical_density", MODEL_FILE, {"shape": 0}),
                                     ("sphere (analytical)", "sphere", {})):
        model = Model(load_model(model_name), radius=45.0, radius_pd=0.1, radius_pd_n=35,
                      scale=0.02, background=0.0, sld=1.0, sld_solvent=0.0, **extra)
        model.radius.range(10, 200)
        model.scale.range(0, 1)
        model.background.range(0, 0.1)
        problem = FitProblem(Experiment(data=data, model=model))
        t = time.perf_counter()
        result = fit(problem, method="lm", steps=200, verbose=False)
        wall = time.perf_counter() - t
        vals = dict(zip(problem.labels(), result.x, strict=True))
        radius = vals["radius"]
        print(f"| {label} | {radius:.3f} | {100 * (radius / 60 - 1):+.3f} % | "
              f"{vals['scale']:.5f} | {vals['background']:.5f} | {problem.chisq():.3f} | "
              f"{wall:.2f} |", flush=True)


if __name__ == "__main__":
    agreement_and_cost()
    figures()
    two_length_pd()
    oriented_2d()
    bumps_fit()
