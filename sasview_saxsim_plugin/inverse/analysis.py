"""One measured curve through the whole inverse path: estimate, optional least-squares
refinement, model curves for plots, and a flat summary row (CLI tables, GUI, CSV export)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..scattering.curve import Curve1D
from .estimate import Estimate, FamilyEstimate, estimate
from .families import family
from .model_curves import SmearedCurve, noise_estimate
from .refine import FitResult, refine_estimate

#: families written to a summary row (CSV, GUI table), most probable first
SUMMARY_RANKS = 3


def format_parameters(name: str, parameters: dict, digits: int = 3) -> str:
    """'radius = 52.1 [48.0, 57.3] Å; radius_pd = 0.12 [0.08, 0.15]' for a parameter summary
    (name -> (median, p16, p84)) of family ``name``."""
    units = {p.name: p.unit for p in family(name).parameters}
    parts = []
    for p, (med, lo, hi) in parameters.items():
        unit = units.get(p, "")
        unit = f" {unit}" if unit in ("Å",) else ""
        parts.append(f"{p} = {med:.{digits}g} [{lo:.{digits}g}, {hi:.{digits}g}]{unit}")
    return "; ".join(parts)


@dataclass
class CurveAnalysis:
    """The curve (q in 1/Å), the network's estimate and, when asked, the refined fit."""

    curve: Curve1D
    estimate: Estimate
    refined: FitResult | None = None

    @property
    def model_name(self) -> str:
        """sasmodels name of the best model (the refined family when refined)."""
        return self.refined.model_name if self.refined else self.estimate.model_name

    @property
    def sasmodels_parameters(self) -> dict:
        """sasmodels parameters (Å, data units) of the best model: refined, else estimated."""
        if self.refined is not None:
            return self.refined.sasmodels_parameters()
        return dict(self.estimate.sasmodels_parameters)

    def family_seed(self, model_name: str) -> dict:
        """sasmodels parameters to seed a fit of any listed family: the refined fit's when it
        is that family, else the estimate's for it."""
        if self.refined is not None and self.refined.model_name == model_name:
            return self.refined.sasmodels_parameters()
        for r in self.estimate.ranked:
            if r.model_name == model_name:
                return dict(r.sasmodels_parameters)
        raise KeyError(f"{model_name} is not among the estimate's families")

    def _points(self, points: np.ndarray) -> SmearedCurve:
        """Model curves at the curve's points selected by ``points`` (a boolean mask or
        indices), smeared with the data's resolution as the refinement smears them."""
        c = self.curve
        slit = c.columns.get("slit_length")
        return SmearedCurve(c.q[points], None if c.dq is None else c.dq[points],
                            None if slit is None else np.asarray(slit, dtype=float)[points])

    def model_curves(self, points: np.ndarray) -> dict:
        """label -> I in data units at the curve's points selected by ``points`` (boolean mask
        or indices) for the estimate's top family (posterior medians, fitted scale and
        background) and, when present, the refined fit, smeared with the data's resolution."""
        curves = self._points(points)
        top = self.estimate.ranked[0]
        out = {f"estimate: {top.model_name}": _curve(top, curves)}
        if self.refined is not None:
            r = self.refined
            out[f"refined: {r.model_name} (χ²_r {r.reduced_chi2:.3g})"] = (
                r.scale * curves(r.model_name, r.parameters) + r.background)
        return out

    def family_curve(self, model_name: str, points: np.ndarray) -> dict:
        """{label: I} of listed family ``model_name`` at its posterior medians (fitted scale and
        background), data units, at the curve's points selected by ``points``, smeared."""
        for r in self.estimate.ranked:
            if r.model_name == model_name:
                return {f"{model_name} (P {r.probability:.2f})": _curve(r, self._points(points))}
        raise KeyError(f"{model_name} is not among the estimate's families")

    def plot_curves(self, points: int = 300, families: int = 3) -> tuple[np.ndarray, dict]:
        """(q, {label: I}) on ``points`` log-spaced q over the data's range for a plot: the
        top ``families`` of the estimate and the refined fit, each smeared with the data's
        resolution interpolated to those q (data units, q in 1/Å)."""
        c = self.curve
        ok = np.isfinite(c.q) & (c.q > 0)
        q_data = c.q[ok]
        order = np.argsort(q_data)
        q = np.geomspace(q_data.min(), q_data.max(), points)

        def on_grid(values):
            if values is None:
                return None
            values = np.broadcast_to(np.asarray(values, dtype=float), c.q.shape)[ok][order]
            return np.interp(q, q_data[order], values)

        curves = SmearedCurve(q, on_grid(c.dq), on_grid(c.columns.get("slit_length")))
        out = {}
        for i, entry in enumerate(self.estimate.ranked[:families]):
            label = (f"estimate: {entry.model_name}" if i == 0
                     else f"{entry.model_name} (P {entry.probability:.2f})")
            out[label] = _curve(entry, curves)
        if self.refined is not None:
            r = self.refined
            out[f"refined: {r.model_name} (χ²_r {r.reduced_chi2:.3g})"] = (
                r.scale * curves(r.model_name, r.parameters) + r.background)
        return q, out

    def summary_row(self) -> dict:
        """Flat dict: one row of the results table / CSV (column names carry units): the
        top ``SUMMARY_RANKS`` families with probability and parameters (median [16 %, 84 %]),
        the top family's parameters as numbers, and the refined fit when there is one."""
        e, c = self.estimate, self.curve
        row = {"dataset": c.title, "points": int(c.q.size),
               "q_min_1/A": float(np.nanmin(c.q)), "q_max_1/A": float(np.nanmax(c.q)),
               "model": e.model_name, "P": e.probabilities[e.model_name],
               "confident": e.confident, "reduced_chi2": e.reduced_chi2,
               "code_distance": e.code_distance}
        for i, r in enumerate(e.ranked[:SUMMARY_RANKS], start=1):
            row[f"family_{i}"] = r.model_name
            row[f"P_{i}"] = r.probability
            row[f"parameters_{i}"] = format_parameters(r.model_name, r.parameters)
        units = {p.name: p.unit for p in family(e.model_name).parameters}
        for name, (med, lo, hi) in e.parameters.items():
            unit = "_A" if units.get(name) == "Å" else ""
            row[f"{name}{unit}"], row[f"{name}{unit}_p16"], row[f"{name}{unit}_p84"] = \
                med, lo, hi
        row["scale"] = e.sasmodels_parameters["scale"]
        row["background"] = e.sasmodels_parameters["background"]
        if self.refined is not None:
            r = self.refined
            row["refined_model"] = r.model_name
            units = {p.name: p.unit for p in family(r.model_name).parameters}
            for name, value in r.parameters.items():
                unit = "_A" if units.get(name) == "Å" else ""
                row[f"refined_{name}{unit}"] = value
            row["refined_scale"], row["refined_background"] = r.scale, r.background
            row["refined_reduced_chi2"] = r.reduced_chi2
        row["notes"] = "; ".join(e.notes)
        return row


def _curve(entry: FamilyEstimate, curves: SmearedCurve) -> np.ndarray:
    pars = entry.sasmodels_parameters
    medians = {k: v[0] for k, v in entry.parameters.items()}
    return pars["scale"] * curves(entry.model_name, medians) + pars["background"]


def analyse_curve(curve: Curve1D, *, refine: bool = False,
                  weights: str | None = None) -> CurveAnalysis:
    """Estimate the families and parameters of ``curve`` (q in 1/Å); with ``refine`` also
    run the short least-squares fits of ``refine_estimate`` (σ from dI, else from the
    scatter; the data's dq, or its slit length, smears the model). Raises SaxsimInputError for
    unusable curves."""
    slit = curve.columns.get("slit_length")
    result = estimate(curve.q, curve.intensity, curve.d_intensity, weights=weights, dq=curve.dq,
                      slit_length=slit)
    result.notes[:0] = curve.notes
    refined = None
    if refine:
        qq, ii, sigma, res = fit_inputs(curve)
        refined = refine_estimate(result, qq, ii, sigma, **res)
    return CurveAnalysis(curve, result, refined)


def fit_inputs(curve: Curve1D) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict]:
    """(q 1/Å, I, σ, {"dq": …, "slit_length": …}) of ``curve`` as the refinement fits it: the
    points with finite q > 0, I > 0 and (where given) dI > 0; σ from dI, else from the
    point-to-point scatter; the resolution columns on the same points (None where absent)."""
    q, i = curve.q, curve.intensity
    keep = np.isfinite(i) & (i > 0) & (q > 0)
    if curve.d_intensity is not None:
        keep &= np.isfinite(curve.d_intensity) & (curve.d_intensity > 0)
    qq, ii = q[keep], i[keep]
    sigma = curve.d_intensity[keep] if curve.d_intensity is not None else noise_estimate(qq, ii)
    slit = curve.columns.get("slit_length")
    return qq, ii, sigma, {"dq": None if curve.dq is None else curve.dq[keep],
                           "slit_length": None if slit is None
                           else np.asarray(slit, dtype=float)[keep]}
