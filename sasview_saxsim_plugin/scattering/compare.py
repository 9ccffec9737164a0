"""Numerical vs analytical: chi², relative errors, optional scale fit, and the plot."""

from __future__ import annotations

import numpy as np

from .curve import Curve1D


def compare_curves(numerical: Curve1D, reference: np.ndarray, fit_scale: bool = False) -> dict:
    """Compare ``numerical`` with ``reference`` (same q, 1/cm).

    chi2 = Σ((I_ref·s - I_num)/σ)²/(n-1) (thesis 3.1.11) with σ the curve's uncertainty
    (I_sigma), or 1 % of I_ref when the curve has none; ``s`` is 1 unless ``fit_scale``
    (weighted least squares). Relative error = |I_num - s·I_ref|/(s·I_ref).
    """
    i_num = numerical.intensity
    ref = np.asarray(reference, float)
    sigma = numerical.sigma if numerical.sigma is not None else 0.01 * np.abs(ref)
    ok = np.isfinite(i_num) & np.isfinite(ref) & (sigma > 0) & (ref != 0)
    i_num, ref, sigma, q = i_num[ok], ref[ok], sigma[ok], numerical.q[ok]
    scale = 1.0
    if fit_scale:
        w = 1 / sigma ** 2
        scale = float(np.sum(w * ref * i_num) / np.sum(w * ref * ref))
    ref = scale * ref
    n = ref.size
    chi2 = float(np.sum(((ref - i_num) / sigma) ** 2) / max(n - 1, 1))
    rel = np.abs(i_num - ref) / np.abs(ref)
    sym = np.abs(i_num - ref) / (0.5 * (np.abs(i_num) + np.abs(ref)))
    return {"chi2": chi2, "median_rel_error": float(np.median(rel)),
            "p95_rel_error": float(np.percentile(rel, 95)), "max_rel_error": float(rel.max()),
            "mean_sym_rel_error": float(np.mean(sym)), "q_min": float(q.min()),
            "q_max": float(q.max()), "n_points": int(n), "fitted_scale": scale}


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
