"""ln p(data | shape) under the broad priors by importance sampling from the network's posterior.

Bayes' rule picks the shape with the largest evidence Z_c = ∫ L(data | θ, c) p(θ | c) dθ (equal
prior odds: the training catalogue draws every shape equally often). The flow of the shipped
cINN is an invertible map with an exact density q(θ | curve, c), so it is a ready proposal for
importance sampling (neural importance sampling; Müller et al. 2019, Dax et al. 2023 for
gravitational waves): Z_c ≈ mean_i L(θ_i) p(θ_i) / q(θ_i), θ_i ~ q. The estimate is unbiased
whatever the proposal; a poor proposal only costs variance, which the effective sample size
reports. Unlike the BIC or a Laplace approximation at a least-squares optimum it needs no fit,
respects the prior box (a sample outside it has weight 0) and sees banana-shaped or bimodal
posteriors as they are.

Coordinates are the network's standardised ones (``parameters.to_standard``), where every broad
prior is uniform on [−√3, √3]. The flow always has 5 outputs; a shape's absent parameters are
trained as N(0, 1) noise, so the target is extended by that same N(0, 1) on them, which leaves
Z unchanged and makes the weights exact however well the flow learnt the noise.

Scale and flat background enter the model linearly and are integrated analytically at each
sample (Gaussian in (ln scale, background) about their weighted least-squares values, flat
priors whose constant is the same for every shape and cancels between shapes). The likelihood
is Gaussian with the data's σ; constants common to all shapes are dropped, so only differences
of ``log_evidence`` between shapes mean anything.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from scipy.special import gammaln

from .catalogue import PARAMETER_NAMES, SHAPE_NAMES, entry
from .model_curves import SmearedCurve
from .parameters import WIDTH, from_standard, to_standard

#: half-width of the broad priors in standardised coordinates (uniform, unit variance)
HALF_WIDTH = float(np.sqrt(3.0))
#: the proposal: the flow with its latent drawn from N(0, s²) for each s, mixed equally (the
#: wider component keeps the weights bounded where the flow is over-confident)
Z_SCALES = (1.0, 2.0)
#: the local proposal: Student-t with T_DOF degrees of freedom, its Gauss-Newton covariance
#: widened by FIT_WIDENING
T_DOF = 4.0
FIT_WIDENING = 1.5
#: widths of the scale (in ln s: 10⁻³-10³ as the training sets) and background priors (in
#: units of the data's level at the highest q: the training backgrounds reach 10× the
#: particle signal there) that cap the scale-background volume of a curve-less model
SCALE_PRIOR_WIDTH = float(np.log(1e6))
BACKGROUND_PRIOR_WIDTH = 2.0
#: largest eigenvalue of the fit proposal's information (standardised units): sd ≥ 1e-6
MAX_INFORMATION = 1e12


@dataclass
class Evidence:
    """ln Z of one shape (up to a constant shared by all shapes), its Monte-Carlo standard
    error, the effective sample size of the importance weights and the samples drawn."""

    shape: str
    log_evidence: float
    standard_error: float
    effective_samples: float
    samples: int


def profiled_log_likelihood(intensity: np.ndarray, sigma: np.ndarray, curve: np.ndarray
                            ) -> float:
    """ln ∫∫ L ds db over scale s (flat in ln s) and background b (flat), Gaussian likelihood
    with σ, up to constants independent of the curve's shape: −χ²_min/2 − ½ ln det H, H the
    Gauss-Newton curvature in (ln s, b).

    The priors' own widths (``SCALE_PRIOR_WIDTH`` in ln s, ``BACKGROUND_PRIOR_WIDTH`` times
    the data's level at high q in b) enter as the curvature 2π/width² of a Gaussian of the
    same volume, so a model curve as flat as the background, whose scale and background then
    trade freely, gets at most the prior's volume instead of an infinite one. −inf when the
    best scale is not positive."""
    w = 1.0 / sigma
    a = np.stack([curve * w, w], axis=1)
    (scale, background), *_ = np.linalg.lstsq(a, intensity * w, rcond=None)
    if not scale > 0:
        return -np.inf
    chi2 = float(np.sum((intensity * w - a @ np.array([scale, background])) ** 2))
    a[:, 0] *= scale  # ∂(model/σ)/∂ ln s
    level = BACKGROUND_PRIOR_WIDTH * max(float(np.median(np.abs(intensity[-5:]))), 1e-300)
    a[:, 1] *= level  # background in units of the prior's width
    curvature = a.T @ a + 2.0 * np.pi * np.diag([1.0 / SCALE_PRIOR_WIDTH**2, 1.0])
    sign, log_det = np.linalg.slogdet(curvature)
    if sign <= 0:
        return -np.inf
    return -0.5 * chi2 - 0.5 * log_det


def log_prior(standard: np.ndarray, shape: str) -> np.ndarray:
    """ln p(θ | shape) (rows,) of standardised rows (rows, 5), extended by N(0, 1) on the
    parameters the shape does not have: uniform on the prior box, −inf outside it."""
    present = np.array([p in entry(shape).parameters for p in PARAMETER_NAMES])
    inside = np.all(np.abs(standard[:, present]) <= HALF_WIDTH, axis=1)
    out = -present.sum() * np.log(2 * HALF_WIDTH) - 0.5 * np.sum(
        standard[:, ~present] ** 2 + np.log(2 * np.pi), axis=1)
    return np.where(inside, out, -np.inf)


def fit_proposal(shape: str, fit) -> tuple[np.ndarray, np.ndarray] | None:
    """Centre (k,) and covariance (k, k) in standardised coordinates of the shape's k
    parameters for a Student-t proposal at a least-squares optimum (``refine.FitResult`` with
    its Gauss-Newton ``information``), widened by ``FIT_WIDENING``; the prior's unit variance
    is added to the information, so a direction the data leave free stays within the prior's
    size. None when the fit has no information."""
    if fit is None or fit.information is None:
        return None
    names = entry(shape).parameters
    index = [PARAMETER_NAMES.index(n) for n in names]
    row = np.full(len(PARAMETER_NAMES), np.nan)
    row[index] = [fit.parameters[n] for n in names]
    centre = to_standard(row)[index]
    width = WIDTH[index]
    information = np.asarray(fit.information, dtype=float) * np.outer(width, width)
    information = 0.5 * (information + information.T) + np.eye(len(index))
    # the prior term keeps the eigenvalues ≥ 1; clip what round-off left below, and cap them
    # at MAX_INFORMATION: a fit whose Jacobian pins a direction far below the prior's width
    # would leave a covariance Cholesky cannot factor
    values, vectors = np.linalg.eigh(information)
    if not np.all(np.isfinite(values)) or not np.all(np.isfinite(centre)):
        return None
    covariance = (vectors / np.clip(values, 1.0, MAX_INFORMATION)) @ vectors.T
    return centre, FIT_WIDENING**2 * 0.5 * (covariance + covariance.T)


def _student_t_log_pdf(x: np.ndarray, centre: np.ndarray, covariance: np.ndarray,
                       dof: float) -> np.ndarray:
    k = centre.size
    chol = np.linalg.cholesky(covariance)
    y = np.linalg.solve(chol, (x - centre).T)
    maha = np.sum(y**2, axis=0)
    return (gammaln((dof + k) / 2) - gammaln(dof / 2) - 0.5 * k * np.log(dof * np.pi)
            - np.sum(np.log(np.diag(chol))) - 0.5 * (dof + k) * np.log1p(maha / dof))


@torch.no_grad()
def proposal_samples(model, code: torch.Tensor, shape: str, n: int, seed: int,
                     fit=None) -> tuple[np.ndarray, np.ndarray]:
    """n standardised samples (n, 5) and ln q of each under the proposal mixture: the flow of
    ``model`` (an ``InverseModel``) given the curve's ``code`` (1, code size) with its latent
    at each of ``Z_SCALES``, and, with a least-squares ``fit`` of the shape, a Student-t at
    its optimum (``fit_proposal``; half the samples) times N(0, 1) on the absent
    parameters."""
    rng = np.random.default_rng(seed)
    d = len(PARAMETER_NAMES)
    cond = model.net.condition(code, torch.tensor([SHAPE_NAMES.index(shape)]))
    local = fit_proposal(shape, fit)
    n_local = n // 2 if local is not None else 0
    n_flow = n - n_local
    which = np.arange(n_flow) % len(Z_SCALES)
    z = rng.standard_normal((n_flow, d)) * np.asarray(Z_SCALES)[which, None]
    theta, _ = model.net.flow(torch.as_tensor(z, dtype=torch.float32),
                              c=[cond.repeat(n_flow, 1)], rev=True)
    theta = theta.double().numpy()
    present = np.array([p in entry(shape).parameters for p in PARAMETER_NAMES])
    if local is not None:
        centre, covariance = local
        extra = rng.standard_normal((n_local, d))
        chi = np.sqrt(rng.chisquare(T_DOF, n_local) / T_DOF)
        extra[:, present] = centre + (extra[:, present] @ np.linalg.cholesky(covariance).T
                                      ) / chi[:, None]
        theta = np.concatenate([theta, extra])
    # every sample's density under every component (the flow's through its forward pass)
    z_all, log_jac = model.net.flow(torch.as_tensor(theta, dtype=torch.float32),
                                    c=[cond.repeat(theta.shape[0], 1)])
    z_all = z_all.double().numpy()
    flow_share = n_flow / n
    parts = [np.log(flow_share / len(Z_SCALES)) - 0.5 * np.sum(z_all**2, axis=1) / s**2
             - d * np.log(s) - 0.5 * d * np.log(2 * np.pi) + log_jac.double().numpy()
             for s in Z_SCALES]
    if local is not None:
        absent = -0.5 * np.sum(theta[:, ~present] ** 2 + np.log(2 * np.pi), axis=1)
        parts.append(np.log(n_local / n) + absent
                     + _student_t_log_pdf(theta[:, present], centre, covariance, T_DOF))
    return theta, np.logaddexp.reduce(np.stack(parts), axis=0)


def shape_log_evidence(model, code: torch.Tensor, shape: str, q: np.ndarray,
                       intensity: np.ndarray, sigma: np.ndarray, dq: np.ndarray | None = None,
                       n_samples: int = 64, seed: int = 0,
                       curves: SmearedCurve | None = None, fit=None) -> Evidence:
    """``Evidence`` of catalogue ``shape`` for the data (q 1/Å, I, σ, optional dq 1/Å) from
    ``n_samples`` draws of the proposal (``proposal_samples``: ``model``'s flow given the
    curve's encoder ``code``, and a Student-t at the least-squares ``fit`` when given)."""
    curves = curves or SmearedCurve(q, dq)
    theta, log_q = proposal_samples(model, code, shape, n_samples, seed, fit)
    log_w = log_prior(theta, shape) - log_q
    physical = from_standard(theta)
    names = entry(shape).parameters
    for i in np.flatnonzero(np.isfinite(log_w)):
        values = {n: physical[i, PARAMETER_NAMES.index(n)] for n in names}
        log_w[i] += profiled_log_likelihood(intensity, sigma, curves(shape, values))
    finite = np.isfinite(log_w)
    if not finite.any():
        return Evidence(shape, -np.inf, np.inf, 0.0, n_samples)
    top = np.max(log_w[finite])
    w = np.where(finite, np.exp(log_w - top), 0.0)
    mean = w.mean()
    log_z = float(top + np.log(mean))
    # delta method: se(ln Z) = se(mean w) / mean w
    se = float(w.std(ddof=1) / np.sqrt(n_samples) / mean)
    ess = float(w.sum() ** 2 / np.sum(w**2))
    return Evidence(shape, log_z, se, ess, n_samples)
