"""Every plot the package writes (PNG, matplotlib Agg): numerical vs analytical curves
(``saxsim compare``), a computed curve with Bragg marks (``saxsim simulate``) and a measured
curve with its shape estimate (``saxsim infer``)."""

from __future__ import annotations

import numpy as np

from ..scattering.curve import Curve1D


def plot_estimate(q, intensity, d_intensity, result, path: str, title: str = "",
                  models: dict | None = None) -> str:
    """Write a PNG: data with error bars, model curves (``models``: label -> (q, I) in data
    units, e.g. the estimate's top three families and the refined fit, smeared with the
    data's resolution), and the top family's parameters as text. q in 1/Å."""
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
    for i, (label, (q_model, i_model)) in enumerate((models or {}).items()):
        ax.plot(q_model, i_model, f"C{i}-" if i == 0 else f"C{i}--", lw=1.5 if i == 0 else 1.0,
                label=label)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("q (1/Å)")
    ax.set_ylabel("I(q) (data units)")
    lines = [f"{result.model_name}:"]
    lines += [f"  {k} = {m:.3g} [{lo:.3g}, {hi:.3g}]"
              for k, (m, lo, hi) in result.parameters.items()]
    lines.append("confident" if result.confident else "NOT confident")
    ax.text(0.02, 0.02, "\n".join(lines), transform=ax.transAxes, fontsize=8, va="bottom",
            family="monospace", bbox={"facecolor": "white", "alpha": 0.8, "edgecolor": "0.8"})
    ax.set_title(title or "model estimate")
    ax.legend(fontsize=8, loc="upper right")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def plot_comparison(numerical: Curve1D, reference: np.ndarray, metrics: dict, path: str,
                    title: str = "", ref_label: str = "sasmodels") -> str:
    """Overlay (log-log, with the numerical σ as error bars) and relative residuals; PNG."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ref = np.asarray(reference) * metrics.get("fitted_scale", 1.0)
    fig, (ax, axr) = plt.subplots(2, 1, figsize=(6.4, 6.4), sharex=True,
                                  gridspec_kw={"height_ratios": [3, 1.3]})
    ax.loglog(numerical.q, ref, "-", color="C3", lw=1.5, label=ref_label, zorder=3)
    if numerical.sigma is not None:
        ax.errorbar(numerical.q, numerical.intensity, yerr=numerical.sigma, fmt=".", ms=3,
                    color="C0", elinewidth=0.6, label="numerical (split FFT)")
    else:
        ax.loglog(numerical.q, numerical.intensity, ".", ms=3, color="C0",
                  label="numerical (lattice Debye)")
    ax.set_ylabel("I(q) (1/cm)")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=8)
    text = (f"χ² = {metrics['chi2']:.3g}\nmedian |ΔI|/I = {100 * metrics['median_rel_error']:.3g} %"
            f"\n95th pct = {100 * metrics['p95_rel_error']:.3g} %")
    ax.text(0.03, 0.05, text, transform=ax.transAxes, fontsize=8, va="bottom")
    rel = (numerical.intensity - ref) / ref * 100
    axr.semilogx(numerical.q, rel, ".", ms=3, color="C0")
    axr.axhline(0, color="k", lw=0.6)
    from matplotlib.ticker import NullFormatter
    for a in (ax, axr):
        a.xaxis.set_minor_formatter(NullFormatter())
    axr.set_xlabel("q (1/Å)")
    axr.set_ylabel("ΔI/I (%)")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def plot_curve(curve: Curve1D, path: str, title: str = "", peaks: list | None = None) -> str:
    """Log-log PNG of a curve (error bars where known), optional dashed lines at ``peaks``
    (list of (q, label))."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7.5, 4.8))
    ok = curve.intensity > 0
    ax.errorbar(curve.q[ok], curve.intensity[ok],
                yerr=None if curve.sigma is None else curve.sigma[ok], fmt=".-", ms=2, lw=0.7,
                elinewidth=0.5, label="numerical (shell average)")
    for q, label in peaks or []:
        ax.axvline(q, color="C3", ls="--", lw=0.6, alpha=0.7)
        ax.text(q, 0.98, label, rotation=90, transform=ax.get_xaxis_transform(), fontsize=7,
                ha="right", va="top", color="C3")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("q (1/Å)")
    ax.set_ylabel("I(q) (1/cm per box volume)")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=8, loc="lower left")
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)
    return path
