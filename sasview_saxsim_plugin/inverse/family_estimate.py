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

# the confidence tests' point picking, the flat-line test and the code distance are the
# three-shape estimate's (shared until that estimate is retired)
from .estimate import _check_points, flat_misfit, mahalanobis_to_nearest
from .families import FAMILY_NAMES, family, from_standard
from .features import (
    CLASS_DILATIONS,
    N_BINS,
    check_range,
    clean_curve,
    dilated_features,
    featurize,
)
from .model_curves import fit_scale_background, noise_estimate
from .networks import ShapePosteriorNet

DEFAULT_FAMILY_WEIGHTS = Path(__file__).parent / "weights" / "families.pt"
#: families listed with their parameters: at least the top RANKED, and any above LISTED_P
RANKED = 3
LISTED_P = 0.05
#: every training acquisition reaches at least this low and this high in q (1/Å)
TRAINING_Q_MIN_UP_TO = 0.03
TRAINING_Q_MAX_FROM = 0.1


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

    def __init__(self, path: Path = DEFAULT_FAMILY_WEIGHTS):
        path = Path(path)
        blob = read_weights(path)
        families = list(blob.get("metadata", {}).get("families", []))
        if families != list(FAMILY_NAMES):
            raise WeightsError(f"weight file {path} was trained on the families {families}, "
                               f"this version knows {list(FAMILY_NAMES)}: retrain "
                               "(saxsim make-training-set, saxsim train)")
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
        return mahalanobis_to_nearest(code.numpy().astype(np.float64), self.code_means,
                                      self.code_precision)

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
    return FamilyNetwork(Path(path) if path else DEFAULT_FAMILY_WEIGHTS)


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


def estimate_misfit(name: str, values: dict, q: np.ndarray, intensity: np.ndarray,
                    sigma: np.ndarray) -> tuple[float, float, float]:
    """Scale, background and reduced χ² of family ``name`` at ``values`` against the data on
    at most CHECK_POINTS points, σ widened by MODEL_TOLERANCE·I (the confidence test)."""
    q, intensity, widened = _check_points(q, intensity, sigma)
    with np.errstate(all="ignore"):
        curve = family(name).intensity(q, values)
    if not np.all(np.isfinite(curve)):
        return 1.0, 0.0, float("inf")
    scale, background = fit_scale_background(intensity, curve, widened)
    chi2 = float(np.mean(((intensity - scale * curve - background) / widened) ** 2))
    return scale, background, chi2


def inside_training_range(q: np.ndarray) -> bool:
    """Whether sorted q (1/Å) reaches as low and as high as every training acquisition did."""
    return bool(q[0] <= TRAINING_Q_MIN_UP_TO and q[-1] >= TRAINING_Q_MAX_FROM)


def estimate(q, intensity, d_intensity=None, *, q_unit: str = "1/A", n_samples: int = 500,
             seed: int = 0, weights: str | Path | None = None,
             average_dilations: bool = True) -> Estimate:
    """Ranked sasmodels families and their parameters for a measured 1D SAXS/SANS curve.

    q in 1/Å (or ``q_unit="1/nm"``), I in any scale, dI optional (same units as I; without
    it the noise is estimated from the point-to-point scatter). Non-positive and non-finite
    points are dropped with a note (log-scale input). Raises ``SaxsimInputError`` for
    unusable curves (too few points, q in the wrong unit, no overlap with 0.002-0.6 1/Å);
    softer problems land in ``notes``.
    """
    start = time.perf_counter()
    q, intensity, d_intensity, notes = clean_curve(q, intensity, d_intensity, q_unit)
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
    listed = [int(k) for i, k in enumerate(order) if i < RANKED or probs[k] >= LISTED_P]
    samples = network.posterior(code.repeat(len(listed), 1), np.array(listed), n_samples, seed,
                                with_uncertainties=usable_d)
    sigma = d_intensity if usable_d else None
    if sigma is None:
        sigma = noise_estimate(q, intensity)
        notes.append("no usable dI: noise estimated from the point-to-point scatter")
    ranked = []
    for i, k in enumerate(listed):
        name = FAMILY_NAMES[k]
        summary = summarise(name, samples[i])
        medians = {p: v[0] for p, v in summary.items()}
        scale, background, chi2 = estimate_misfit(name, medians, q, intensity, sigma)
        if i == 0:
            top_chi2 = chi2
        ranked.append(FamilyEstimate(name, float(probs[k]), summary,
                                     seed_parameters(name, medians, float(q[-1]), scale,
                                                     background),
                                     samples[i][:, :family(name).n_free]))
    distance = float(network.code_distance(code)[0])
    familiar = not distance > network.code_threshold  # NaN (no density stored): familiar
    featureless = flat_misfit(q, intensity, sigma) <= network.chi2_threshold
    top_p = float(probs[order[0]])
    confident = bool(top_p >= network.probability_threshold
                     and top_chi2 <= network.chi2_threshold and familiar
                     and inside_training_range(q) and not featureless)
    if featureless:
        notes.append("a flat background reproduces the data as well as any model: the curve "
                     "holds no shape information (no particle signal above the noise?)")
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
