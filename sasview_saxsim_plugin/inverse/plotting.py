"""Data + estimated curve plot (log-log, error bars) for ``saxsim infer``."""

from __future__ import annotations

import numpy as np


def plot_estimate(q, intensity, d_intensity, result, path: str, title: str = "",
                  refined=None, model_fn=None) -> str:
    """Write a PNG: data with error bars, the estimated model (scale + background fitted), the
    refined fit if given, and the class probabilities / parameters as text. q in 1/Å."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    q = np.asarray(q, float)
    intensity = np.asarray(intensity, float)
    ok = np.isfinite(q) & np.isfinite(intensity) & (intensity > 0) & (q > 0)
    fig, ax = plt.subplots(figsize=(7, 5))
    yerr = None if d_intensity is None else np.asarray(d_intensity, float)[ok]
    ax.errorbar(q[ok], intensity[ok], yerr=yerr, fmt=".", ms=3, color="0.3", ecolor="0.7",
                label="data")
    qq = np.geomspace(q[ok].min(), q[ok].max(), 300)
    pars = result.sasmodels_parameters
    medians = {k: v[0] for k, v in result.parameters.items()}
    est = pars["scale"] * model_fn(result.shape, qq, medians) + pars["background"]
    ax.plot(qq, est, "C1-", label=f"estimate: {result.model_name}")
    if refined is not None:
        fit = refined.scale * model_fn(refined.shape, qq, refined.parameters) + refined.background
        ax.plot(qq, fit, "C2--", label=f"refined fit (χ²_r {refined.reduced_chi2:.3g})")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("q (1/Å)")
    ax.set_ylabel("I(q) (data units)")
    lines = [f"{k}: {v:.2f}" for k, v in result.probabilities.items()]
    lines += [f"{k} = {m:.3g} [{lo:.3g}, {hi:.3g}]{' Å' if k in ('radius', 'length') else ''}"
              for k, (m, lo, hi) in result.parameters.items()]
    lines.append("confident" if result.confident else "NOT confident")
    ax.text(0.02, 0.02, "\n".join(lines), transform=ax.transAxes, fontsize=8, va="bottom",
            family="monospace", bbox={"facecolor": "white", "alpha": 0.8, "edgecolor": "0.8"})
    ax.set_title(title or "shape estimate")
    ax.legend(fontsize=8, loc="upper right")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
