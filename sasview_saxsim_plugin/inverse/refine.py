"""A short least-squares fit of a catalogue family to a measured curve, from a starting point
(the network's estimate, sasmodels' defaults or a grid pre-scan). Residuals (I - model)/σ;
lengths and scale fitted in log space, the other parameters linearly within their physical
bounds (``families.Parameter.fit_bounds``: pd in [0, 0.5], volume fraction in [0.001, 0.6],
sasmodels' sphere@hardsphere being zero at 0)."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from scipy.optimize import least_squares

from .families import ACCEPTANCE, FAMILY_NAMES, family
from .model_curves import SmearedCurve, fit_scale_background

_STEP = float(np.sqrt(np.finfo(float).eps))  # scipy's relative step for "2-point" differences
#: extra starts (posterior samples) after a poor fit; chosen on the calib set (CHANGELOG)
RETRIES = 8
#: weight of ln p(family) from the network in ``choose_fit``, per criterion (chosen for the
#: three-shape v4 network on its select set: git show ec577ee:benchmarks/class_rule.py)
PRIOR_WEIGHTS = {"bic": 0.5, "laplace": 1.0, "sampled": 0.5}
#: how ``refine_estimate`` picks the shape (``choose_fit``); chosen on the select set
#: ("bic" until 2026-12-02)
CLASS_CRITERION = "sampled"
#: the least probability of a listed family that ``refine_fits`` fits, and restarts
REFINE_P = 0.05
RETRY_P = 0.2
#: proposal draws per family for ``add_sampled_evidence``
EVIDENCE_SAMPLES = 64


@dataclass
class FitResult:
    """Best parameters (Å), scale, background, reduced χ², function evaluations, seconds."""

    model_name: str
    parameters: dict
    scale: float
    background: float
    reduced_chi2: float
    evaluations: int
    seconds: float
    success: bool
    bic: float  # χ² + k ln n (k fitted parameters incl. scale and background, n points)
    #: Laplace approximation of ln p(data | shape) under the broad priors (``laplace_terms``);
    #: NaN where not computed
    log_evidence: float = float("nan")
    #: Gauss-Newton information (inverse covariance) of the shape parameters at the optimum, in
    #: the fit's coordinates (ln Å for radius and length; scale and background profiled out:
    #: ``profiled_information``); None where not computed. A direction the data leave free has
    #: information ≈ 0 here (infinite variance), which an inverted covariance could not say
    information: np.ndarray | None = None
    #: ln p(data | shape) by importance sampling from the network's posterior
    #: (``add_sampled_evidence``; up to a constant shared by all shapes); NaN where not computed
    sampled_log_evidence: float = float("nan")
    #: the largest q of the fitted data (1/Å): sets the polydispersity points of the seed
    q_max: float | None = None

    def sasmodels_parameters(self) -> dict:
        """sasmodels parameter dict of the fit, a seed for SasView (Gaussian polydispersity
        with the points the data's q range needs)."""
        pars = family(self.model_name).sasmodels_parameters(self.parameters, q_max=self.q_max)
        pars.update(scale=self.scale, background=self.background)
        return pars


def fit_model(name: str, q: np.ndarray, intensity: np.ndarray, sigma: np.ndarray,
              start: dict, dq: np.ndarray | None = None, max_evaluations: int = 200,
              average: np.ndarray | None = None, box: dict | None = None,
              slit_length: np.ndarray | float | None = None) -> FitResult:
    """Fit family ``name`` (sasmodels name) to (q 1/Å, I, σ) from ``start`` (parameter dict,
    Å).

    ``box``: name -> (low, high), bounds narrower than the physical ones for some parameters
    (a fit kept inside the region the network's posterior covers). ``dq``: the data's 1-σ
    pinhole resolution, ``slit_length``: its slit length (both 1/Å; SasView's dx, dxl).

    ``average``: a (bins, points) matrix; the fit is then to the bin means ``average @ I``
    (σ propagated) with the model averaged the same way, as the network's input sees a curve
    (git show ec577ee:benchmarks/binning_information.py)."""
    t0 = time.perf_counter()
    if average is not None:
        intensity, sigma = average @ intensity, np.sqrt((average**2) @ sigma**2)

    curves = SmearedCurve(q, dq, slit_length)  # the smearing matrix once for the whole fit

    def model(values: dict) -> np.ndarray:
        curve = curves(name, values)
        return curve if average is None else average @ curve

    spec = family(name)
    names = list(spec.parameter_names)
    physical = {p.name: p.fit_bounds() for p in spec.parameters}
    bounds = {n: physical[n] if box is None or n not in box else
              (max(physical[n][0], box[n][0]), min(physical[n][1], box[n][1])) for n in names}
    lo = np.array([_to(name, n, bounds[n][0]) for n in names])
    hi = np.array([_to(name, n, bounds[n][1]) for n in names])
    x0 = np.clip([_to(name, n, start[n]) for n in names], lo + 1e-9, hi - 1e-9)
    curve0 = model(start)
    scale0, bg0 = fit_scale_background(intensity, curve0, sigma)
    span = max(float(np.max(np.abs(intensity))), 1e-30)
    x0 = np.concatenate([x0, [np.log(scale0), bg0 / span]])
    lo = np.concatenate([lo, [-np.inf, -np.inf]])
    hi = np.concatenate([hi, [np.inf, np.inf]])
    evaluations = 0
    n_shape = len(names)
    last = {}  # the model curve at the last x: the Jacobian reuses the residual call's curve

    def values_at(x):
        return {n: _from(name, n, v) for n, v in zip(names, x[:n_shape], strict=True)}

    def curve_at(x):
        nonlocal evaluations
        key = x.tobytes()
        if last.get("key") != key:
            evaluations += 1
            last.update(key=key, curve=model(values_at(x)))
        return last["curve"]

    def scale_at(x):
        # a trial step may ask for e^800: huge but finite residuals reject it as inf would,
        # without an overflow warning (identical below e^700)
        return np.exp(min(x[-2], 700.0))

    def residuals(x):
        return (intensity - scale_at(x) * curve_at(x) - x[-1] * span) / sigma

    def jacobian(x):
        # scale and background enter linearly: their columns are exact and cost no model
        # evaluation; the shape parameters by forward differences (scipy's "2-point" steps)
        nonlocal evaluations
        curve, scale = curve_at(x), scale_at(x)
        jac = np.empty((intensity.size, x.size))
        jac[:, -2] = -scale * curve / sigma
        jac[:, -1] = -span / sigma
        for j in range(n_shape):
            step = _STEP * max(1.0, abs(x[j]))
            if x[j] + step > hi[j]:
                step = -step
            shifted = x.copy()
            shifted[j] += step
            step = shifted[j] - x[j]  # the step actually taken in floating point
            evaluations += 1
            moved = model(values_at(shifted))
            jac[:, j] = -scale * (moved - curve) / (step * sigma)
        return jac

    # the same iteration budget as with scipy's finite-difference Jacobian of all parameters
    budget = max(5, max_evaluations // (len(x0) + 1))
    # a rejected trial step's cost may overflow to inf inside scipy (which then shrinks the
    # step, as intended): no RuntimeWarning for the user
    with np.errstate(over="ignore"):
        res = least_squares(residuals, x0, jac=jacobian, bounds=(lo, hi), x_scale="jac",
                            max_nfev=budget, method="trf", ftol=1e-6, xtol=1e-6)
    values = values_at(res.x)
    chi2_sum = float(np.sum(res.fun**2))
    chi2 = chi2_sum / max(intensity.size - len(res.x), 1)
    bic = chi2_sum + len(res.x) * np.log(intensity.size)
    at_bound = (res.x[:n_shape] - lo[:n_shape] < 1e-7) | (hi[:n_shape] - res.x[:n_shape] < 1e-7)
    log_evidence = -0.5 * chi2_sum + laplace_terms(name, res.x[:n_shape], res.jac, at_bound)
    return FitResult(name, values, float(np.exp(res.x[-2])), float(res.x[-1] * span), chi2,
                     evaluations, time.perf_counter() - t0, bool(res.success), bic,
                     log_evidence, profiled_information(res.jac, n_shape),
                     q_max=float(np.max(q)))


def profiled_information(jacobian: np.ndarray, n_shape: int) -> np.ndarray:
    """Gauss-Newton information (n_shape, n_shape) of the first ``n_shape`` columns of a
    residual ``jacobian`` (points, n_shape + nuisance) with the remaining (nuisance) columns
    profiled out: SᵀS − SᵀN (NᵀN)⁻¹ NᵀS, the inverse of the shape block of (JᵀJ)⁻¹, computed
    as SᵀS of S projected orthogonally to N (QR), so it stays accurate however collinear the
    columns are.

    The inverse of the whole JᵀJ is not accurate: for a hard sphere the volume fraction
    multiplies the intensity as the scale does (sasmodels' product model), so JᵀJ has a
    condition number of ~1e17, and ``pinv`` sets the variance along the nearly free direction
    to zero instead of infinity (a φ free between 0.0015 and 0.01 came out as ±9e-5;
    docs: Methods and Validation, "Gauss-Newton covariance")."""
    return _profiled(jacobian, n_shape)[0]


def _profiled(jacobian: np.ndarray, n_shape: int) -> tuple[np.ndarray, float]:
    """``profiled_information`` and ln det(NᵀN) of the nuisance columns N (−inf when one is
    zero or they are collinear)."""
    shape_columns = jacobian[:, :n_shape]
    nuisance = jacobian[:, n_shape:]
    log_det = 0.0
    if nuisance.shape[1]:
        # columns of very different size (the background's is ~1e6 times the scale's)
        norms = np.linalg.norm(nuisance, axis=0)
        basis, triangle = np.linalg.qr(nuisance / np.where(norms > 0, norms, 1.0))
        shape_columns = shape_columns - basis @ (basis.T @ shape_columns)
        diagonal = np.abs(np.diag(triangle))
        log_det = (2.0 * float(np.sum(np.log(diagonal)) + np.sum(np.log(norms)))
                   if np.all(diagonal > 0) and np.all(norms > 0) else float("-inf"))
    information = shape_columns.T @ shape_columns
    return 0.5 * (information + information.T), log_det


def prior_box(name: str) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper ends of the priors of family ``name``'s parameters in the fit's
    coordinates (ln Å for lengths, else linear), where the priors are uniform (their accept
    rules, which cut corners of the box, are left out)."""
    ranges = [p.standard_range() for p in family(name).parameters]
    return np.array([r[0] for r in ranges]), np.array([r[1] for r in ranges])


def laplace_terms(name: str, x: np.ndarray, jacobian: np.ndarray,
                  at_bound: np.ndarray | None = None) -> float:
    """ln p(data | shape) + χ²_min/2 in the Laplace approximation (MacKay 2003, ch. 28): the
    Occam factor (2π)^(k/2) det(H)^(-1/2) · prior density at the optimum ``x`` (the shape
    parameters in fit coordinates), with H = JᵀJ the Gauss-Newton Hessian of χ²/2 (J: the
    residual Jacobian over the shape parameters, then ln scale and background, as in
    ``fit_model``).

    The shape parameters carry their uniform broad priors (density 1/width); a direction the
    data do not constrain is capped at the prior's own volume (Occam factor 1) by adding
    2π/width² to H, the curvature of a Gaussian of the same volume. Scale and background have
    the same prior for every shape, so their prior density is left out (it cancels between
    shapes) but their curvature is kept. An optimum outside the prior box (a hard-sphere fit
    at φ < 0.02, say) is charged the quadratic drop of the likelihood to the box's edge,
    d²/(2 σ²) with σ the marginal posterior width; one on the box's edge or on a fit bound
    (pd = 0) keeps half its Gaussian (−ln 2)."""
    low, high = prior_box(name)
    widths = high - low
    k = jacobian.shape[1]
    # det H = det(NᵀN) · det(profiled shape information + prior caps), N the scale and
    # background columns: each factor accurate where JᵀJ itself is near-singular
    # (``profiled_information``)
    information, nuisance_log_det = _profiled(jacobian, widths.size)
    information = information + np.diag(2.0 * np.pi / widths**2)
    sign, log_det = np.linalg.slogdet(information)
    if sign <= 0 or not np.isfinite(nuisance_log_det):
        return float("-inf")
    log_det += nuisance_log_det
    marginal_variance = np.diag(np.linalg.inv(information))
    outside = np.maximum(low - x, 0.0) + np.maximum(x - high, 0.0)
    edge = outside > 0 if at_bound is None else (outside > 0) | at_bound
    accepted = ACCEPTANCE[FAMILY_NAMES.index(name)]  # the prior's density on its kept region
    return float(0.5 * k * np.log(2.0 * np.pi) - 0.5 * log_det - np.sum(np.log(widths))
                 - np.log(accepted)
                 - 0.5 * np.sum(outside**2 / marginal_variance) - np.sum(edge) * np.log(2.0))


def _is_log(name: str, parameter: str) -> bool:
    return next(p.log for p in family(name).parameters if p.name == parameter)


def _to(name: str, parameter: str, value: float) -> float:
    """Fit coordinate of ``parameter`` of family ``name``: ln for lengths."""
    return float(np.log(value)) if _is_log(name, parameter) else float(value)


def _from(name: str, parameter: str, value: float) -> float:
    return float(np.exp(value)) if _is_log(name, parameter) else float(value)


def refine_estimate(result, q: np.ndarray, intensity: np.ndarray, sigma: np.ndarray,
                    dq: np.ndarray | None = None, retries: int = RETRIES,
                    criterion: str = CLASS_CRITERION,
                    slit_length: np.ndarray | float | None = None) -> FitResult:
    """``--refine``: local fits of every family ``result`` (an ``Estimate``) lists
    (``refine_fits``: the top ones and any with ≥ 5 % probability); ``choose_refined`` picks
    one by ``criterion`` (``CLASS_CRITERION`` unless told), with the network's class
    probabilities as weighted prior odds. Nested families (a sphere inside a core-shell
    sphere) fit equally well; the evidence's Occam factor then keeps the simpler one."""
    fits = refine_fits(result, q, intensity, sigma, dq, retries, slit_length)
    return choose_refined(fits, result, q, intensity, sigma, dq, criterion, slit_length)


def choose_refined(fits: list[FitResult], result, q: np.ndarray, intensity: np.ndarray,
                   sigma: np.ndarray, dq: np.ndarray | None = None,
                   criterion: str = CLASS_CRITERION,
                   slit_length: np.ndarray | float | None = None) -> FitResult:
    """``choose_fit`` among the refined fits of an ``Estimate`` (``result``) by ``criterion``,
    computing the sampled evidence first where the criterion needs it (and falling back to
    the BIC where it could not be computed for every fit)."""
    if criterion == "sampled":
        add_sampled_evidence(fits, result, q, intensity, sigma, dq,  # nothing for one fit
                             slit_length=slit_length)
        if not all(np.isfinite(f.sampled_log_evidence) for f in fits):
            criterion = "bic"
    return choose_fit(fits, result.probabilities, criterion=criterion)


def refine_fits(result, q: np.ndarray, intensity: np.ndarray, sigma: np.ndarray,
                dq: np.ndarray | None = None, retries: int = RETRIES,
                slit_length: np.ndarray | float | None = None) -> list[FitResult]:
    """One refined fit (``refine_family``) per family of ``result.ranked`` that the network
    gives at least ``REFINE_P`` (the top one always); posterior restarts for the families
    given at least ``RETRY_P`` (and the top one), the others fitted once from their medians
    (bounded time when the network is unsure)."""
    chosen = [r for i, r in enumerate(result.ranked) if i == 0 or r.probability >= REFINE_P]
    return [refine_family(r.model_name, r.parameters, r.samples, q, intensity, sigma, dq,
                          retries if i == 0 or r.probability >= RETRY_P else 0, slit_length)
            for i, r in enumerate(chosen)]


def refine_family(name: str, summary: dict, samples: np.ndarray | None, q: np.ndarray,
                  intensity: np.ndarray, sigma: np.ndarray, dq: np.ndarray | None = None,
                  retries: int = RETRIES,
                  slit_length: np.ndarray | float | None = None) -> FitResult:
    """A local fit of family ``name`` from its posterior median (``summary``: parameter ->
    (median, p16, p84)).

    A fit whose reduced χ² stays above what noise allows (``chi2_is_poor``: a local minimum,
    e.g. a multimodal posterior whose median lies between the modes) is repeated from up to
    ``retries`` posterior ``samples`` (rows in the family's parameter order; independent
    draws, so random starts where the network puts the probability), keeping the lowest BIC
    and stopping once the fit is no longer poor."""
    median = {n: summary[n][0] for n in family(name).parameter_names}
    best = fit_model(name, q, intensity, sigma, median, dq, slit_length=slit_length)
    if samples is not None:
        for start in posterior_starts(name, samples[:retries]):
            if not chi2_is_poor(best, q.size):
                break
            again = fit_model(name, q, intensity, sigma, start, dq, slit_length=slit_length)
            if again.bic < best.bic:
                best = again
    return best


def sampled_log_evidence(fit: FitResult, result, q: np.ndarray, intensity: np.ndarray,
                         sigma: np.ndarray, dq: np.ndarray | None = None,
                         n_samples: int = EVIDENCE_SAMPLES, seed: int = 0,
                         curves=None) -> float:
    """ln p(data | family of ``fit``) (``evidence.family_log_evidence``: importance sampling
    from the network's flow for the curve of ``result``, an ``Estimate``, and from a
    Student-t at the fit's optimum), up to a constant shared by all families. ``curves``: a
    ``model_curves.SmearedCurve`` of the data's q and dq to reuse."""
    from .estimate import load_network
    from .evidence import family_log_evidence

    curves = curves if curves is not None else SmearedCurve(q, dq)
    # the network that encoded the curve (``result.code``), not necessarily the shipped one
    network = load_network(getattr(result, "weights", None))
    return family_log_evidence(network, result.code, fit.model_name, q, intensity, sigma, dq,
                               n_samples, seed, curves, fit).log_evidence


def add_sampled_evidence(fits: list[FitResult], result, q: np.ndarray, intensity: np.ndarray,
                         sigma: np.ndarray, dq: np.ndarray | None = None,
                         slit_length: np.ndarray | float | None = None) -> list[FitResult]:
    """Set ``sampled_log_evidence`` (``sampled_log_evidence``) of each fit where there is a
    choice to make (two fits or more) and ``result`` carries its encoder code."""
    if len(fits) < 2 or getattr(result, "code", None) is None:
        return fits
    curves = SmearedCurve(q, dq, slit_length)
    for fit in fits:
        fit.sampled_log_evidence = sampled_log_evidence(fit, result, q, intensity, sigma, dq,
                                                        curves=curves)
    return fits


def choose_fit(fits: list[FitResult], probabilities: dict | None = None,
               prior_weight: float | None = None, criterion: str = "bic") -> FitResult:
    """The fit with the highest ``prior_weight``·ln p(family) + ln Z(family), with p the
    network's class probability (none: left out) and ln Z the log evidence of the family:
    −BIC/2 (``criterion="bic"``; BIC = χ² + k ln n), the Laplace approximation with the
    priors (``"laplace"``, ``FitResult.log_evidence``) or the importance-sampled evidence
    (``"sampled"``, ``FitResult.sampled_log_evidence``, from ``add_sampled_evidence``).

    The network's p adds the prior knowledge it learnt (where in parameter space each family
    lives); ``prior_weight`` (None: ``PRIOR_WEIGHTS[criterion]``) is below 1 because p was
    computed from the same data. Every criterion charges a family for its extra parameters
    (k ln n, or the Occam factor of the evidence), so where nested families fit equally well
    the simpler one wins."""
    if criterion not in ("bic", "laplace", "sampled"):
        raise ValueError(f"criterion must be 'bic', 'laplace' or 'sampled', not {criterion!r}")
    if prior_weight is None:
        prior_weight = PRIOR_WEIGHTS[criterion]
    if len(fits) == 1:
        return fits[0]

    def score(fit: FitResult) -> float:
        p = 1.0 if probabilities is None else max(probabilities.get(fit.model_name, 0.0),
                                                   1e-12)
        evidence = {"bic": -0.5 * fit.bic, "laplace": fit.log_evidence,
                    "sampled": fit.sampled_log_evidence}[criterion]
        return prior_weight * float(np.log(p)) + evidence

    return max(fits, key=score)


def posterior_starts(name: str, samples: np.ndarray) -> list[dict]:
    """Parameter dicts of family ``name`` from posterior sample rows (its parameter order),
    clipped to the fit bounds."""
    spec = family(name)
    return [{p.name: float(np.clip(row[j], *p.fit_bounds()))
             for j, p in enumerate(spec.parameters)} for row in samples]


def chi2_is_poor(fit: FitResult, n_points: int) -> bool:
    """Reduced χ² more than three standard deviations above 1 for the fit's degrees of
    freedom (σ correct, model right): the fit is probably in a local minimum."""
    dof = max(n_points - len(fit.parameters) - 2, 1)
    return fit.reduced_chi2 > 1.0 + 3.0 * np.sqrt(2.0 / dof)
