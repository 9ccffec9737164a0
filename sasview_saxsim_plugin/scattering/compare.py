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
