"""Route 1 to isotropic I(q): the shell average of the 3D spectrum, with thesis Table 3.1
uncertainty estimates.

The engine returns, per integer k² = kx²+ky²+kz², the full-spectrum count n, ΣI and ΣI². A bin
collects all k² whose |q| = 2π√k²/L falls inside it. For a bin with n points (Table 3.1, with its
copy errors mended):

* I_mu = ΣI/n, I_std = sqrt((ΣI² - n·I_mu²)/(n-1)), I_sem = I_std/√n_ind,
* I_error = sqrt(Σσᵢ²)/n, propagated per-point uncertainties (here: ``point_rel_error``·I),
* I_sigma = max(I_sem, I_error, I_emin·I_mu); the same four for Q.

n_ind = n/2 (at least 1): Friedel mates A(-q) = A(q)* carry no independent information, so the
standard error is taken over the independent half.
"""

from __future__ import annotations

import numpy as np

from ..errors import SaxsimInputError
from .curve import Curve1D
from .qgrid import intensity_factor, trusted_q_max


def bin_edges(q_min: float, q_max: float, bins: int, spacing: str = "linear") -> np.ndarray:
    """Bin edges (1/Å): ``bins`` linear or log bins between q_min and q_max."""
    if not (q_max > q_min > 0) and spacing == "log":
        raise SaxsimInputError(f"log bins need 0 < q_min < q_max, got {q_min}, {q_max}")
    if bins < 1:
        raise SaxsimInputError(f"number of bins must be >= 1, got {bins}")
    if spacing == "log":
        return np.geomspace(q_min, q_max, bins + 1)
    if spacing == "linear":
        return np.linspace(q_min, q_max, bins + 1)
    raise SaxsimInputError(f"bin spacing must be 'linear' or 'log', got {spacing!r}")


def native_edges(box_length: float, q_max: float) -> np.ndarray:
    """Edges of shells one DFT step (2π/L) wide, centred on 2π·k/L, k = 1 … (1/Å)."""
    dq = 2 * np.pi / box_length
    kmax = int(np.floor(q_max / dq))
    return (np.arange(1, kmax + 2) - 0.5) * dq


def shell_curve(sums: dict, box_length: float, spacing: float, edges: np.ndarray,
                volume: float | None = None, scale: float = 1.0, i_emin: float = 0.01,
                q_emin: float = 0.01, point_rel_error: float = 0.0,
                min_count: int = 2) -> Curve1D:
    """Bin per-k² sums (``fft.ShellSums`` result) into a :class:`Curve1D` in 1/cm.

    ``volume`` (Å³) normalises |A|² (default: the box volume, i.e. intensity of the whole box);
    ``scale`` multiplies (e.g. a volume fraction). Bins with fewer than ``min_count`` points
    are dropped. The returned ``columns`` hold every Table 3.1 estimate for I and Q.
    """
    k2 = sums["k2"]
    count = np.asarray(sums["count"], float)
    present = count > 0
    k2, count = k2[present], count[present]
    sum_i, sum_i2 = sums["sum_i"][present], sums["sum_i2"][present]
    q = 2 * np.pi * np.sqrt(k2) / box_length
    b = np.digitize(q, edges) - 1
    ok = (b >= 0) & (b < len(edges) - 1)
    nb = len(edges) - 1

    def acc(w):
        return np.bincount(b[ok], w[ok], minlength=nb)

    n = acc(count)
    keep = n >= min_count
    with np.errstate(invalid="ignore", divide="ignore"):
        s_i, s_i2 = acc(sum_i), acc(sum_i2)
        s_q, s_q2 = acc(count * q), acc(count * q * q)
        i_mu = s_i / n
        i_std = np.sqrt(np.maximum(s_i2 - n * i_mu ** 2, 0) / (n - 1))
        n_ind = np.maximum(n / 2, 1)
        i_sem = i_std / np.sqrt(n_ind)
        i_err = point_rel_error * np.sqrt(s_i2) / n
        q_mu = s_q / n
        q_std = np.sqrt(np.maximum(s_q2 - n * q_mu ** 2, 0) / (n - 1))
        q_sem = q_std / np.sqrt(n_ind)
    q_err = np.zeros_like(q_mu)
    i_sigma = np.maximum.reduce([i_sem, i_err, i_emin * i_mu])
    q_sigma = np.maximum.reduce([q_sem, q_err, q_emin * q_mu])
    factor = intensity_factor(spacing, volume or box_length ** 3) * scale
    cols = {"I_mu": i_mu * factor, "I_std": i_std * factor, "I_sem": i_sem * factor,
            "I_error": i_err * factor, "I_sigma": i_sigma * factor, "Q_mu": q_mu,
            "Q_std": q_std, "Q_sem": q_sem, "Q_error": q_err, "Q_sigma": q_sigma, "count": n}
    cols = {k: v[keep] for k, v in cols.items()}
    # which |q| values (with how many points) make up each kept bin, for binning a reference
    # exactly like the data (see bin_like)
    new_index = np.cumsum(keep) - 1
    sel = ok & keep[np.clip(b, 0, nb - 1)]
    binning = {"q": q[sel], "count": count[sel], "bin": new_index[b[sel]]}
    return Curve1D(cols["Q_mu"], cols["I_mu"], cols["I_sigma"], cols["Q_sigma"], cols,
                   {"route": "shell average", "units": {"q": "1/A", "I": "1/cm"},
                    "binning": binning})


def bin_like(curve: Curve1D, model) -> np.ndarray:
    """Average ``model(q)`` (a function of q in 1/Å) over the same shells and points as the
    shell-averaged ``curve``: the exact counterpart of each bin, with no smearing error."""
    binning = curve.meta["binning"]
    values = np.asarray(model(binning["q"]), float)
    num = np.bincount(binning["bin"], binning["count"] * values, minlength=len(curve))
    den = np.bincount(binning["bin"], binning["count"], minlength=len(curve))
    return num / den


def shell_edges(box_length: float, spacing: float, q_min: float | None = None,
                q_max: float | None = None, bins: int | None = None,
                bin_spacing: str = "linear") -> np.ndarray:
    """Shell edges (1/Å): one DFT step (2π/L) wide up to ``q_max`` (default π/(2d)), or
    ``bins`` linear/log bins."""
    qmax = q_max if q_max is not None else trusted_q_max(spacing)
    if bins is None:
        edges = native_edges(box_length, qmax)
        if q_min is not None:
            edges = edges[edges >= q_min - np.pi / box_length]
        return edges
    return bin_edges(q_min if q_min is not None else np.pi / box_length, qmax, bins,
                     bin_spacing)
