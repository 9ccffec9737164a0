"""``estimate(q, I, dI)`` over the family catalogue: ranked sasmodels families, each with its
parameter posterior and a sasmodels-ready seed.

The class probabilities are averaged over the curve and copies of it with q scaled by a few
per cent (``features.CLASS_DILATIONS``): a size change maps every family onto itself (the
fractal dimension, contrast ratios and polydispersities are scale-free), so the copies are
curves of the same family, and the average is less sensitive to where the curve falls on the
network's fixed q bins.

``confident`` is reserved for answers that are right at least 99 % of the time (measured on
held-out curves of the training simulator and of an independent one; docs: Validation): the
curve must carry a signal a constant cannot explain (``flat_misfit``), the classifier must be
sure (top probability ≥ the calibrated threshold), the estimated model with a least-squares
scale and background must reproduce the data (reduced χ² below its calibrated threshold), the
curve's encoding must lie where training curves lie (Mahalanobis distance of the encoder code
to the nearest family mean, Lee et al. 2018), and the q range must be one the training
acquisitions had.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

from ..errors import WeightsError
from .checkpoint import read_weights
from .families import FAMILY_NAMES, catalogue_key, family, from_standard
from .features import (
    CLASS_DILATIONS,
    N_BINS,
    check_range,
    clean_curve,
    dilated_features,
    featurize,
    inside_training_range,
)
from .model_curves import SmearedCurve, fit_scale_background, noise_estimate
from .networks import ShapePosteriorNet

DEFAULT_WEIGHTS = Path(__file__).parent / "weights" / "shipped.pt"
#: relative model tolerance added in quadrature to σ when judging the estimate
MODEL_TOLERANCE = 0.05
CHECK_POINTS = 100
#: families listed with their parameters: at least the top RANKED, and any above LISTED_P,
#: at most LISTED_MAX (an unsure network spreads its probability over many families; each
#: listed family costs a posterior, a misfit and, with --refine, a fit)
RANKED = 3
LISTED_P = 0.05
LISTED_MAX = 5


@dataclass
class FamilyEstimate:
    """One family of the ranking: sasmodels model name, probability, parameter summary
    (name -> (median, 16th, 84th percentile); Å, relative, fraction), sasmodels seed."""

    model_name: str
    probability: float
    parameters: dict
    sasmodels_parameters: dict
    samples: np.ndarray | None = field(default=None, repr=False)

    def to_dict(self) -> dict:
        return {"model_name": self.model_name, "probability": self.probability,
                "parameters": {k: list(v) for k, v in self.parameters.items()},
                "sasmodels_parameters": self.sasmodels_parameters}


@dataclass
class Estimate:
    """Result of ``estimate``: the ranked families (``ranked[0]`` the most probable) and the
    confidence judgement. Lengths in Å, q in 1/Å, intensities in the data's units."""

    ranked: list
    probabilities: dict          # sasmodels name -> probability, every family, descending
    confident: bool
    reduced_chi2: float          # of the top family at its median parameters
    code_distance: float = float("nan")
    notes: list = field(default_factory=list)
    seconds: float = 0.0
    code: torch.Tensor | None = field(default=None, repr=False)
    weights: str | None = None

    @property
    def model_name(self) -> str:
        return self.ranked[0].model_name

    @property
    def parameters(self) -> dict:
        return self.ranked[0].parameters

    @property
    def sasmodels_parameters(self) -> dict:
        return self.ranked[0].sasmodels_parameters

    @property
    def samples(self) -> np.ndarray | None:
        return self.ranked[0].samples

    @property
    def alternatives(self) -> list:
        """The families after the top one (``FamilyEstimate``), most probable first."""
        return self.ranked[1:]

    def to_dict(self) -> dict:
        """JSON-ready summary (what ``saxsim infer --json`` prints)."""
        return {"model_name": self.model_name, "probabilities": self.probabilities,
                "parameters": {k: list(v) for k, v in self.parameters.items()},
                "sasmodels_parameters": self.sasmodels_parameters,
                "confident": self.confident, "reduced_chi2": self.reduced_chi2,
                "code_distance": self.code_distance, "notes": self.notes,
                "seconds": self.seconds,
                "ranked": [r.to_dict() for r in self.ranked]}


class FamilyNetwork:
    """A trained family network from a weight file, with its stored calibration."""

    def __init__(self, path: Path = DEFAULT_WEIGHTS):
        path = Path(path)
        blob = read_weights(path)
        metadata = blob.get("metadata", {})
        families = list(metadata.get("families", []))
        if families != list(FAMILY_NAMES):
            raise WeightsError(f"weight file {path} was trained on the families {families}, "
                               f"this version knows {list(FAMILY_NAMES)}: retrain "
                               "(saxsim make-training-set, saxsim train)")
        if metadata.get("catalogue", catalogue_key()) != catalogue_key():
            raise WeightsError(f"weight file {path} was trained on family catalogue "
                               f"{metadata['catalogue']}, this version's catalogue is "
                               f"{catalogue_key()} (other priors: the parameter coordinates "
                               "differ): retrain (saxsim make-training-set, saxsim train)")
        try:
            self.net = ShapePosteriorNet(**blob["config"])
            self.net.load_state_dict(blob["state"])
        except Exception as exc:  # corrupt file or another architecture
            raise WeightsError(f"weight file {path} cannot be used by this version: {exc}"
                               ) from exc
        self.net.eval()
        self.channels = int(blob["config"].get("channels", 3))
        self.temperature = float(blob.get("temperature", 1.0))
        self.probability_threshold = float(blob.get("probability_threshold", 0.9))
        self.chi2_threshold = float(blob.get("chi2_threshold", 5.0))
        density = blob.get("code_density")
        self.code_means = None if density is None else np.asarray(density["means"])
        self.code_precision = None if density is None else np.asarray(density["precision"])
        self.code_threshold = float("inf") if density is None else float(density["threshold"])
        factors = blob.get("interval_factors")
        self.interval_factors = None if factors is None else {
            k: np.asarray(v, dtype=float) for k, v in factors.items()}
        self.path = path

    def inputs(self, features: np.ndarray) -> torch.Tensor:
        x = np.atleast_2d(features)[:, :self.channels * N_BINS]
        return torch.as_tensor(x, dtype=torch.float32)

    @torch.no_grad()
    def encode(self, features: np.ndarray) -> torch.Tensor:
        return self.net.encode(self.inputs(features))

    @torch.no_grad()
    def class_probabilities(self, code: torch.Tensor) -> np.ndarray:
        """Temperature-scaled softmax (rows, families) of encoder codes."""
        return torch.softmax(self.net.classifier(code) / self.temperature, dim=1).numpy()

    def code_distance(self, code: torch.Tensor) -> np.ndarray:
        """Squared Mahalanobis distance of each code to the nearest family mean (NaN: no
        density stored)."""
        if self.code_means is None:
            return np.full(code.shape[0], np.nan)
        codes = code.numpy().astype(np.float64)
        return np.min([np.einsum("ij,jk,ik->i", codes - mu, self.code_precision, codes - mu)
                       for mu in self.code_means], axis=0)

    @torch.no_grad()
    def posterior(self, code: torch.Tensor, families: np.ndarray, n_samples: int = 500,
                  seed: int = 0, with_uncertainties: np.ndarray | bool = True,
                  calibrated: bool = True) -> np.ndarray:
        """Physical posterior samples (rows, n_samples, MAX_PARAMETERS) of each code row for
        the given family indices (unused slots NaN). With ``calibrated``, the spread around
        the median is multiplied by the stored per-family, per-parameter factors (curves with
        and without dI apart) so that 16-84 % intervals cover 68 % on held-out curves."""
        families = np.asarray(families)
        gen = torch.Generator().manual_seed(seed)
        cond = self.net.condition(code, torch.as_tensor(families))
        samples = self.net.sample(cond, n_samples, gen).numpy().astype(np.float64)
        if calibrated and self.interval_factors is not None:
            with_d = np.broadcast_to(np.asarray(with_uncertainties, bool), families.shape)
            factor = np.where(with_d[:, None], self.interval_factors["dI"][families],
                              self.interval_factors["no-dI"][families])
            median = np.median(samples, axis=1, keepdims=True)
            samples = median + factor[:, None, :] * (samples - median)
        return from_standard(samples, families[:, None])


@lru_cache(maxsize=4)
def load_network(path: str | None = None) -> FamilyNetwork:
    """Cached ``FamilyNetwork`` (key: weight path)."""
    return FamilyNetwork(Path(path) if path else DEFAULT_WEIGHTS)


def summarise(name: str, samples: np.ndarray) -> dict:
    """parameter name -> (median, 16th, 84th percentile) of one family's samples."""
    out = {}
    for j, p in enumerate(family(name).parameter_names):
        p16, med, p84 = np.percentile(samples[:, j], [16, 50, 84])
        out[p] = (float(med), float(p16), float(p84))
    return out


def seed_parameters(name: str, medians: dict, q_max: float, scale: float = 1.0,
                    background: float = 0.0) -> dict:
    """sasmodels parameters to start a SasView fit of ``name`` from (Gaussian
    polydispersity with the points a curve up to ``q_max`` needs)."""
    pars = family(name).sasmodels_parameters(medians, q_max=q_max)
    pars.update(scale=scale, background=background)
    return pars


def _check_points(q, intensity, sigma):
    """Indices of the at most CHECK_POINTS evenly picked points the confidence tests judge
    (they need the shape of the curve, not every point), and σ widened by
    MODEL_TOLERANCE·I there."""
    pick = np.unique(np.linspace(0, q.size - 1, min(q.size, CHECK_POINTS)).round().astype(int))
    return pick, np.hypot(sigma[pick], MODEL_TOLERANCE * intensity[pick])


def check_curves(q: np.ndarray, intensity: np.ndarray, dq: np.ndarray | None = None,
                 slit_length: np.ndarray | None = None) -> SmearedCurve:
    """Family curves at the confidence tests' points, smeared with the data's resolution
    (``dq``: 1-σ pinhole width, ``slit_length``: slit length, 1/Å, at each data point)."""
    pick = _check_points(q, intensity, np.ones_like(q))[0]
    # 300 model points: the misfit of a whole curve, not a fit's precision
    return SmearedCurve(q[pick], None if dq is None else dq[pick],
                        None if slit_length is None else slit_length[pick], points=300)


def estimate_misfit(name: str, values: dict, q: np.ndarray, intensity: np.ndarray,
                    sigma: np.ndarray, curves: SmearedCurve | None = None
                    ) -> tuple[float, float, float]:
    """Scale, background and reduced χ² of family ``name`` at ``values`` against the data on
    at most CHECK_POINTS points, σ widened by MODEL_TOLERANCE·I (the confidence test);
    ``curves``: ``check_curves`` of the data (its resolution; none: unsmeared)."""
    pick, widened = _check_points(q, intensity, sigma)
    curves = curves if curves is not None else SmearedCurve(q[pick])
    curve = curves(name, values)
    if not np.all(np.isfinite(curve)):
        return 1.0, 0.0, float("inf")
    data = intensity[pick]
    scale, background = fit_scale_background(data, curve, widened)
    chi2 = float(np.mean(((data - scale * curve - background) / widened) ** 2))
    return scale, background, chi2


def flat_misfit(q: np.ndarray, intensity: np.ndarray, sigma: np.ndarray) -> float:
    """Reduced χ² of the best constant against the data, judged like ``estimate_misfit``:
    where a constant reproduces the data as well as the estimated family does, the curve
    holds no shape information and no estimate of it can be confident."""
    pick, widened = _check_points(q, intensity, sigma)
    intensity = intensity[pick]
    w = 1.0 / widened ** 2
    level = float(np.sum(w * intensity) / np.sum(w))
    return float(np.sum(w * (intensity - level) ** 2) / max(intensity.size - 1, 1))


#: exponents the power-law test tries (I = A q^-p + B)
POWER_LAW_EXPONENTS = np.linspace(0.0, 6.0, 301)


def power_law_misfit(q: np.ndarray, intensity: np.ndarray, sigma: np.ndarray
                     ) -> tuple[float, float]:
    """(reduced χ², exponent p) of the best single power law plus a flat background,
    A·q^-p + B, judged like ``estimate_misfit`` (the same points, σ widened by
    MODEL_TOLERANCE·I). A curve that a power law reproduces as well as the estimated family
    shows one slope and no size: its family is not identifiable from it (a power law is a
    mass fractal whose building block and cutoff lie outside the q window, a Porod tail, a
    Gaussian coil's q^-2 ...)."""
    pick, widened = _check_points(q, intensity, sigma)
    y, w = intensity[pick], widened ** -2.0
    # weighted least squares of (A, B) for every exponent at once (2×2 normal equations),
    # q scaled by its first point so that q^-p stays O(1)
    x = (q[pick] / q[pick][0])[None, :] ** -POWER_LAW_EXPONENTS[:, None]
    sxx, sx, s1 = (w * x * x).sum(1), (w * x).sum(1), w.sum()
    sxy, sy = (w * x * y).sum(1), (w * y).sum()
    det = sxx * s1 - sx * sx
    with np.errstate(divide="ignore", invalid="ignore"):
        a = (sxy * s1 - sx * sy) / det
        b = (sxx * sy - sx * sxy) / det
    chi2 = (w * (y - a[:, None] * x - b[:, None]) ** 2).sum(1) / max(y.size - 3, 1)
    chi2 = np.where(np.isfinite(chi2), chi2, np.inf)
    k = int(np.argmin(chi2))
    return float(chi2[k]), float(POWER_LAW_EXPONENTS[k])


def _on_clean_q(q_raw, values, q_clean: np.ndarray, factor: float) -> np.ndarray | None:
    """A per-point resolution column (dq or slit length, in q's unit) on the cleaned,
    sorted q (1/Å): interpolated in q (it varies smoothly), converted like q."""
    if values is None:
        return None
    q_raw = np.asarray(q_raw, dtype=float).ravel() * factor
    values = np.broadcast_to(np.asarray(values, dtype=float), q_raw.shape) * factor
    ok = np.isfinite(q_raw) & np.isfinite(values)
    if ok.sum() < 2:
        return None
    order = np.argsort(q_raw[ok])
    return np.interp(q_clean, q_raw[ok][order], values[ok][order])


def estimate(q, intensity, d_intensity=None, *, q_unit: str = "1/A", n_samples: int = 500,
             seed: int = 0, weights: str | Path | None = None,
             average_dilations: bool = True, dq=None, slit_length=None) -> Estimate:
    """Ranked sasmodels families and their parameters for a measured 1D SAXS/SANS curve.

    q in 1/Å (or ``q_unit="1/nm"``), I in any scale, dI optional (same units as I; without
    it the noise is estimated from the point-to-point scatter). ``dq`` (1-σ pinhole
    resolution) or ``slit_length`` (in q's unit, per point or one value) smear the model
    curves the confidence test compares with the data (the network itself learnt smeared
    curves). Non-positive and non-finite points are dropped with a note (log-scale input).
    Raises ``SaxsimInputError`` for unusable curves (too few points, q in the wrong unit, no
    overlap with 0.002-0.6 1/Å); softer problems land in ``notes``.
    """
    start = time.perf_counter()
    q_raw = q
    q, intensity, d_intensity, notes = clean_curve(q, intensity, d_intensity, q_unit)
    factor = 0.1 if q_unit in ("1/nm", "nm^-1") else 1.0
    dq = _on_clean_q(q_raw, dq, q, factor)
    slit_length = _on_clean_q(q_raw, slit_length, q, factor)
    usable_d = d_intensity is not None and bool(np.all(d_intensity > 0))
    d_used = d_intensity if usable_d else None
    features, n_valid = featurize(q, intensity, d_used)
    notes += check_range(q, n_valid)
    network = load_network(str(weights) if weights else None)
    rows = features[None]
    if average_dilations:
        rows = np.concatenate([rows, dilated_features(
            q, intensity, d_used, CLASS_DILATIONS[CLASS_DILATIONS != 1.0])])
    codes = network.encode(rows)
    code = codes[:1]
    probs = network.class_probabilities(codes).mean(axis=0)
    order = np.argsort(probs)[::-1]
    listed = [int(k) for i, k in enumerate(order)
              if i < RANKED or (probs[k] >= LISTED_P and i < LISTED_MAX)]
    samples = network.posterior(code.repeat(len(listed), 1), np.array(listed), n_samples, seed,
                                with_uncertainties=usable_d)
    sigma = d_intensity if usable_d else None
    if sigma is None:
        sigma = noise_estimate(q, intensity)
        notes.append("no usable dI: noise estimated from the point-to-point scatter")
    curves = check_curves(q, intensity, dq, slit_length)
    ranked = []
    for i, k in enumerate(listed):
        name = FAMILY_NAMES[k]
        summary = summarise(name, samples[i])
        medians = {p: v[0] for p, v in summary.items()}
        scale, background, chi2 = estimate_misfit(name, medians, q, intensity, sigma, curves)
        if i == 0:
            top_chi2 = chi2
        ranked.append(FamilyEstimate(name, float(probs[k]), summary,
                                     seed_parameters(name, medians, float(q[-1]), scale,
                                                     background),
                                     samples[i][:, :family(name).n_free]))
    distance = float(network.code_distance(code)[0])
    familiar = not distance > network.code_threshold  # NaN (no density stored): familiar
    # a constant, or one power law, that reproduces the data as well as the top family
    # leaves nothing only that family explains (compared with the family's own misfit, not
    # with the calibrated threshold: a curve with a short Guinier region on a long flat
    # background sits below that threshold yet is no flat line)
    featureless = flat_misfit(q, intensity, sigma) <= top_chi2
    power_chi2, power = power_law_misfit(q, intensity, sigma)
    only_a_slope = not featureless and power_chi2 <= top_chi2
    top_p = float(probs[order[0]])
    confident = bool(top_p >= network.probability_threshold
                     and top_chi2 <= network.chi2_threshold and familiar
                     and inside_training_range(q) and not featureless and not only_a_slope)
    if featureless:
        notes.append("a flat background reproduces the data as well as the estimated family: "
                     "the curve holds no shape information (no particle signal above the "
                     "noise?)")
    if only_a_slope:
        notes.append(f"a single power law q^-{power:.2f} (+ background) reproduces the data as "
                     f"well as the estimated {ranked[0].model_name}: the curve shows one slope "
                     "and no size, so its family cannot be told from these data")
    if not familiar:
        notes.append(f"the curve is unlike the training curves (code distance {distance:.3g} > "
                     f"{network.code_threshold:.3g}): probably a model or instrument the "
                     "network does not know")
    if top_p < network.probability_threshold:
        notes.append(f"family uncertain: top probability {top_p:.2f}")
    if top_chi2 > network.chi2_threshold:
        notes.append(f"the estimated {ranked[0].model_name} does not reproduce the data "
                     f"(reduced chi2 {top_chi2:.3g} > {network.chi2_threshold:.3g}): probably a "
                     "model the network does not know")
    return Estimate(ranked=ranked,
                    probabilities={FAMILY_NAMES[k]: float(probs[k]) for k in order},
                    confident=confident, reduced_chi2=top_chi2, code_distance=distance,
                    notes=notes, seconds=time.perf_counter() - start, code=code,
                    weights=str(weights) if weights else None)


__all__ = ["Estimate", "FamilyEstimate", "FamilyNetwork", "estimate", "load_network"]
