"""One measured curve through the whole inverse path: estimate, optional least-squares
refinement, model curve for plots, and a flat summary row (CLI tables, GUI, CSV export)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..scattering.curve import Curve1D
from .catalogue import PARAMETER_NAMES, SHAPE_NAMES, entry
from .estimate import Estimate, estimate
from .model_curves import model_intensity, noise_estimate
from .refine import FitResult, refine_estimate

#: units of the summary columns (lengths in Å; pd and volume fraction dimensionless)
UNITS = {"radius": "A", "length": "A", "radius_pd": "", "length_pd": "", "volfraction": ""}


@dataclass
class CurveAnalysis:
    """The curve (q in 1/Å), the network's estimate and, when asked, the refined fit."""

    curve: Curve1D
    estimate: Estimate
    refined: FitResult | None = None

    @property
    def model_name(self) -> str:
        """sasmodels name of the best model (refined shape when refined)."""
        shape = self.refined.shape if self.refined else self.estimate.shape
        return entry(shape).model_name

    @property
    def sasmodels_parameters(self) -> dict:
        """sasmodels parameters (Å, data units) of the best model: refined, else estimated."""
        if self.refined is not None:
            pars = self.refined.sasmodels_parameters()
            for name in entry(self.refined.shape).parameters:
                if name.endswith("_pd"):
                    pars[name + "_type"] = "gaussian"
            return pars
        return dict(self.estimate.sasmodels_parameters)

    def model_curves(self, q: np.ndarray) -> dict:
        """label -> I(q) in data units for the estimate (posterior medians, fitted scale and
        background) and, when present, the refined fit; q in 1/Å."""
        e = self.estimate
        pars = e.sasmodels_parameters
        medians = {k: v[0] for k, v in e.parameters.items()}
        out = {f"estimate: {e.model_name}":
               pars["scale"] * model_intensity(e.shape, q, medians) + pars["background"]}
        if self.refined is not None:
            r = self.refined
            out[f"refined: {entry(r.shape).model_name} (χ²_r {r.reduced_chi2:.3g})"] = (
                r.scale * model_intensity(r.shape, q, r.parameters) + r.background)
        return out

    def summary_row(self) -> dict:
        """Flat dict: one row of the results table / CSV (column names carry units)."""
        e, c = self.estimate, self.curve
        row = {"dataset": c.title, "points": int(c.q.size),
               "q_min_1/A": float(np.nanmin(c.q)), "q_max_1/A": float(np.nanmax(c.q)),
               "shape": e.shape, "model": e.model_name, "confident": e.confident,
               "reduced_chi2": e.reduced_chi2, "code_distance": e.code_distance}
        for s in SHAPE_NAMES:
            row[f"P({s})"] = e.probabilities.get(s, 0.0)
        for name in PARAMETER_NAMES:
            unit = f"_{UNITS[name]}" if UNITS[name] else ""
            med, lo, hi = e.parameters.get(name, (np.nan, np.nan, np.nan))
            row[f"{name}{unit}"], row[f"{name}{unit}_p16"], row[f"{name}{unit}_p84"] = \
                med, lo, hi
        row["scale"] = e.sasmodels_parameters["scale"]
        row["background"] = e.sasmodels_parameters["background"]
        if self.refined is not None:
            r = self.refined
            row["refined_model"] = entry(r.shape).model_name
            for name in PARAMETER_NAMES:
                unit = f"_{UNITS[name]}" if UNITS[name] else ""
                row[f"refined_{name}{unit}"] = r.parameters.get(name, np.nan)
            row["refined_scale"], row["refined_background"] = r.scale, r.background
            row["refined_reduced_chi2"] = r.reduced_chi2
        row["notes"] = "; ".join(e.notes)
        return row


def analyse_curve(curve: Curve1D, *, refine: bool = False,
                  weights: str | None = None) -> CurveAnalysis:
    """Estimate shape and parameters of ``curve`` (q in 1/Å); with ``refine`` also run the
    short least-squares fit of ``refine_estimate`` (σ from dI, else from the scatter; the
    data's dq smears the model). Raises SaxsimInputError for unusable curves."""
    result = estimate(curve.q, curve.intensity, curve.d_intensity, weights=weights)
    result.notes[:0] = curve.notes
    refined = None
    if refine:
        q, i = curve.q, curve.intensity
        keep = np.isfinite(i) & (i > 0) & (q > 0)
        if curve.d_intensity is not None:
            keep &= np.isfinite(curve.d_intensity) & (curve.d_intensity > 0)
        qq, ii = q[keep], i[keep]
        sigma = (curve.d_intensity[keep] if curve.d_intensity is not None
                 else noise_estimate(qq, ii))
        dq = None if curve.dq is None else curve.dq[keep]
        refined = refine_estimate(result, qq, ii, sigma, dq)
    return CurveAnalysis(curve, result, refined)
