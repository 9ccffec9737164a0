"""ln p(data | family) under its priors by importance sampling from the network's posterior.

Bayes' rule picks the family with the largest evidence Z_c = ∫ L(data | θ, c) p(θ | c) dθ (equal
prior odds: the training catalogue draws every family equally often). The flow of the shipped
cINN is an invertible map with an exact density q(θ | curve, c), so it is a ready proposal for
importance sampling (neural importance sampling; Müller et al. 2019, Dax et al. 2023 for
gravitational waves): Z_c ≈ mean_i L(θ_i) p(θ_i) / q(θ_i), θ_i ~ q. The estimate is unbiased
whatever the proposal; a poor proposal only costs variance, which the effective sample size
reports. Unlike the BIC or a Laplace approximation at a least-squares optimum it needs no fit,
respects the prior box (a sample outside it has weight 0) and sees banana-shaped or bimodal
posteriors as they are.

Coordinates are the network's standardised ones (``families.to_standard``), where every prior
is uniform on a box (its accept rule, which cuts corners off the box, is left out: the same
approximation for every sample of a family). The flow always has ``MAX_PARAMETERS`` outputs; a
family's unused slots are trained as N(0, 1) noise, so the target is extended by that same
N(0, 1) on them, which leaves Z unchanged and makes the weights exact however well the flow
learnt the noise.

Scale and flat background enter the model linearly and are integrated analytically at each
sample (Gaussian in (ln scale, background) about their weighted least-squares values, flat
priors whose constant is the same for every family and cancels between families). The likelihood
is Gaussian with the data's σ; constants common to all families are dropped, so only differences
of ``log_evidence`` between families mean anything.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from scipy.special import gammaln

from .families import (
    CENTER,
    FAMILY_NAMES,
    MAX_PARAMETERS,
    WIDTH,
    family,
    from_standard,
)
from .model_curves import SmearedCurve

#: the proposal: the flow with its latent drawn from N(0, s²) for each s, mixed equally (the
#: wider component keeps the weights bounded where the flow is over-confident)
Z_SCALES = (1.0, 2.0)
#: the local proposal: Student-t with T_DOF degrees of freedom, its Gauss-Newton covariance
#: widened by FIT_WIDENING
T_DOF = 4.0
FIT_WIDENING = 1.5
#: widths of the scale (in ln s: 10⁻⁴-10⁴ as the training acquisitions) and background priors
#: (in units of the data's level at the highest q, which a flat background cannot exceed)
#: that cap the scale-background volume of a curve-less model
SCALE_PRIOR_WIDTH = float(np.log(1e8))
BACKGROUND_PRIOR_WIDTH = 2.0
#: largest eigenvalue of the fit proposal's information (standardised units): sd ≥ 1e-6
MAX_INFORMATION = 1e12


@dataclass
class Evidence:
    """ln Z of one family (up to a constant shared by all families), its Monte-Carlo standard
    error, the effective sample size of the importance weights and the samples drawn."""

    model_name: str
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


def _standard_box(k: int) -> tuple[np.ndarray, np.ndarray]:
    """The prior box of family index k in standardised coordinates (its used slots)."""
    n = FAMILIES_N_FREE[k]
    ranges = np.array([p.standard_range() for p in family(FAMILY_NAMES[k]).parameters])
    return ((ranges[:, 0] - CENTER[k, :n]) / WIDTH[k, :n],
            (ranges[:, 1] - CENTER[k, :n]) / WIDTH[k, :n])


FAMILIES_N_FREE = [family(n).n_free for n in FAMILY_NAMES]


def log_prior(standard: np.ndarray, name: str) -> np.ndarray:
    """ln p(θ | family) (rows,) of standardised rows (rows, MAX_PARAMETERS), extended by
    N(0, 1) on the slots the family does not use: uniform on the prior box, −inf outside."""
    k = FAMILY_NAMES.index(name)
    n = FAMILIES_N_FREE[k]
    low, high = _standard_box(k)
    inside = np.all((standard[:, :n] >= low) & (standard[:, :n] <= high), axis=1)
    out = -np.sum(np.log(high - low)) - 0.5 * np.sum(
        standard[:, n:] ** 2 + np.log(2 * np.pi), axis=1)
    return np.where(inside, out, -np.inf)


def fit_proposal(name: str, fit) -> tuple[np.ndarray, np.ndarray] | None:
    """Centre (k,) and covariance (k, k) in standardised coordinates of the family's k
    parameters for a Student-t proposal at a least-squares optimum (``refine.FitResult`` with
    its Gauss-Newton ``information``), widened by ``FIT_WIDENING``; the prior's unit variance
    is added to the information, so a direction the data leave free stays within the prior's
    size. None when the fit has no information."""
    if fit is None or fit.information is None:
        return None
    k = FAMILY_NAMES.index(name)
    spec = family(name)
    n = spec.n_free
    x = np.array([np.log(fit.parameters[p.name]) if p.log else fit.parameters[p.name]
                  for p in spec.parameters])
    centre = (x - CENTER[k, :n]) / WIDTH[k, :n]
    width = WIDTH[k, :n]
    information = np.asarray(fit.information, dtype=float) * np.outer(width, width)
    information = 0.5 * (information + information.T) + np.eye(n)
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
def proposal_samples(model, code: torch.Tensor, name: str, n: int, seed: int,
                     fit=None) -> tuple[np.ndarray, np.ndarray]:
    """n standardised samples (n, MAX_PARAMETERS) and ln q of each under the proposal
    mixture: the flow of ``model`` (an ``estimate.FamilyNetwork``) given the curve's ``code``
    (1, code size) with its latent at each of ``Z_SCALES``, and, with a least-squares ``fit``
    of the family, a Student-t at its optimum (``fit_proposal``; half the samples) times
    N(0, 1) on the unused slots."""
    rng = np.random.default_rng(seed)
    d = MAX_PARAMETERS
    k = FAMILY_NAMES.index(name)
    cond = model.net.condition(code, torch.tensor([k]))
    local = fit_proposal(name, fit)
    n_local = n // 2 if local is not None else 0
    n_flow = n - n_local
    which = np.arange(n_flow) % len(Z_SCALES)
    z = rng.standard_normal((n_flow, d)) * np.asarray(Z_SCALES)[which, None]
    theta, _ = model.net.flow(torch.as_tensor(z, dtype=torch.float32),
                              c=[cond.repeat(n_flow, 1)], rev=True)
    theta = theta.double().numpy()
    present = np.arange(d) < FAMILIES_N_FREE[k]
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


def family_log_evidence(model, code: torch.Tensor, name: str, q: np.ndarray,
                        intensity: np.ndarray, sigma: np.ndarray, dq: np.ndarray | None = None,
                        n_samples: int = 64, seed: int = 0,
                        curves: SmearedCurve | None = None, fit=None) -> Evidence:
    """``Evidence`` of family ``name`` for the data (q 1/Å, I, σ, optional dq 1/Å) from
    ``n_samples`` draws of the proposal (``proposal_samples``: ``model``'s flow given the
    curve's encoder ``code``, and a Student-t at the least-squares ``fit`` when given)."""
    curves = curves or SmearedCurve(q, dq)
    theta, log_q = proposal_samples(model, code, name, n_samples, seed, fit)
    log_w = log_prior(theta, name) - log_q
    k = FAMILY_NAMES.index(name)
    physical = from_standard(theta, np.full(len(theta), k))
    names = family(name).parameter_names
    for i in np.flatnonzero(np.isfinite(log_w)):
        values = {n: physical[i, j] for j, n in enumerate(names)}
        curve = curves(name, values)
        if np.all(np.isfinite(curve)):
            log_w[i] += profiled_log_likelihood(intensity, sigma, curve)
        else:
            log_w[i] = -np.inf
    finite = np.isfinite(log_w)
    if not finite.any():
        return Evidence(name, -np.inf, np.inf, 0.0, n_samples)
    top = np.max(log_w[finite])
    w = np.where(finite, np.exp(log_w - top), 0.0)
    mean = w.mean()
    log_z = float(top + np.log(mean))
    # delta method: se(ln Z) = se(mean w) / mean w
    se = float(w.std(ddof=1) / np.sqrt(n_samples) / mean)
    ess = float(w.sum() ** 2 / np.sum(w**2))
    return Evidence(name, log_z, se, ess, n_samples)
