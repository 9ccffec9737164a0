"""``estimate(q, I, dI)``: shape class, parameter posterior and a sasmodels-ready seed.

The class probabilities are averaged over the curve and copies of it with q scaled by a few
per cent (``features.CLASS_DILATIONS``): a size change maps every catalogue shape onto itself,
so the copies are curves of the same class, and the average is less sensitive to where the
curve falls on the network's fixed q bins (docs: Methods, "Class averaged over q-dilated
copies").

Confidence is judged four times: the curve must carry a signal a constant cannot explain
(``flat_misfit``), the classifier must be sure (top probability ≥ 0.9), the
estimated model, with a least-squares scale and background, must reproduce the data
(reduced χ² below the 99th percentile of in-distribution curves, stored with the weights), and
the curve's encoding must lie where training curves lie: Mahalanobis distance of the encoder
code to the nearest class mean (class means, shared covariance; Lee et al. 2018, "A simple
unified framework for detecting out-of-distribution samples") below its in-distribution 99th
percentile. A shape the network does not know usually fails the second or the third test even
when the classifier is sure.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

from ..errors import WeightsError
from .catalogue import PARAMETER_NAMES, SHAPE_NAMES, entry
from .checkpoint import read_weights
from .features import (
    CLASS_DILATIONS,
    N_BINS,
    check_range,
    clean_curve,
    dilated_features,
    featurize,
    has_uncertainties,
    inside_training_range,
)
from .model_curves import fit_scale_background, model_intensity, noise_estimate
from .networks import ShapePosteriorNet
from .parameters import from_standard

DEFAULT_WEIGHTS = Path(__file__).parent / "weights" / "shipped.pt"
PROBABILITY_THRESHOLD = 0.9
#: relative model tolerance added in quadrature to σ when judging the estimate: the network's
#: median parameters are a few % off, which high-statistics data would otherwise punish
MODEL_TOLERANCE = 0.05
CHECK_POINTS = 100
ALTERNATIVE_PROBABILITY = 0.05


@dataclass
class Estimate:
    """Result of ``estimate``. Lengths in Å; q in 1/Å; intensities in the data's units."""

    shape: str
    probabilities: dict
    parameters: dict                      # name -> (median, p16, p84)
    model_name: str
    sasmodels_parameters: dict
    confident: bool
    reduced_chi2: float
    #: Mahalanobis distance² of the curve's code to the nearest training class (NaN: weights
    #: without the code density)
    code_distance: float = float("nan")
    notes: list = field(default_factory=list)
    seconds: float = 0.0
    samples: np.ndarray | None = field(default=None, repr=False)
    #: other shapes with probability >= ALTERNATIVE_PROBABILITY: shape -> parameter summary
    alternatives: dict = field(default_factory=dict)
    #: posterior samples (n, len(PARAMETER_NAMES)) of each alternative shape
    alternative_samples: dict = field(default_factory=dict, repr=False)
    #: the encoder code (1, code size) of the curve itself (the flow's condition; for
    #: ``evidence``)
    code: torch.Tensor | None = field(default=None, repr=False)
    #: the weight file of the network that made the estimate (None: the shipped one); the
    #: refinement's evidence must use the same network as ``code``
    weights: str | None = None

    def to_dict(self) -> dict:
        """JSON-ready summary (what ``saxsim infer --json`` prints)."""
        return {"shape": self.shape, "probabilities": self.probabilities,
                "parameters": {k: list(v) for k, v in self.parameters.items()},
                "model_name": self.model_name,
                "sasmodels_parameters": self.sasmodels_parameters,
                "confident": self.confident, "reduced_chi2": self.reduced_chi2,
                "code_distance": self.code_distance,
                "notes": self.notes, "seconds": self.seconds,
                "alternatives": {k: {n: list(v) for n, v in a.items()}
                                 for k, a in self.alternatives.items()}}


class InverseModel:
    """The shipped network loaded from a weight file, ready for batched inference."""

    def __init__(self, path: Path = DEFAULT_WEIGHTS):
        path = Path(path)
        blob = read_weights(path)
        try:
            self.net = ShapePosteriorNet(**blob["config"])
            self.net.load_state_dict(blob["state"])
        except Exception as exc:  # corrupt file or another architecture
            raise WeightsError(f"weight file {path} cannot be used by this version: {exc}"
                               ) from exc
        self.net.eval()
        self.channels = int(blob["config"].get("channels", 2))
        self.temperature = float(blob.get("temperature", 1.0))
        self.chi2_threshold = float(blob.get("chi2_threshold", 5.0))
        self.z_scale = float(blob.get("z_scale", 1.0))
        density = blob.get("code_density")
        self.code_means = None if density is None else np.asarray(density["means"])
        self.code_precision = None if density is None else np.asarray(density["precision"])
        self.code_threshold = float("inf") if density is None else float(density["threshold"])
        #: per-regime interval corrections (``calibrate.interval_calibration``); None: off
        self.interval_calibration = _interval_arrays(blob.get("interval_calibration"),
                                                     self.net, path)
        self.path = path

    def inputs(self, features: np.ndarray) -> torch.Tensor:
        """The part of ``featurize`` rows this network reads (weights of format 2: no dI/I)."""
        x = np.atleast_2d(features)[:, :self.channels * N_BINS]
        return torch.as_tensor(x, dtype=torch.float32)

    @torch.no_grad()
    def encode(self, features: np.ndarray) -> torch.Tensor:
        """Encoder output (rows, code size) of ``featurize`` rows."""
        return self.net.encode(self.inputs(features))

    def codes(self, features: np.ndarray) -> np.ndarray:
        """Encoder output as float64 numpy (rows, code size)."""
        return self.encode(features).numpy().astype(np.float64)

    def code_distance(self, features: np.ndarray | None = None,
                      code: torch.Tensor | None = None) -> np.ndarray:
        """Squared Mahalanobis distance of each row's code to the nearest class mean (NaN when
        the weight file has no code density). Pass ``code`` (from ``encode``) to skip encoding."""
        code = self.encode(features) if code is None else code
        if self.code_means is None:
            return np.full(code.shape[0], np.nan)
        return mahalanobis_to_nearest(code.numpy().astype(np.float64), self.code_means,
                                      self.code_precision)

    @torch.no_grad()
    def class_probabilities(self, code: torch.Tensor) -> torch.Tensor:
        """Calibrated (temperature-scaled) softmax class probabilities (rows, shapes) of
        encoder codes."""
        return torch.softmax(self.net.classifier(code) / self.temperature, dim=1)

    def copy_probabilities(self, dilated: np.ndarray) -> np.ndarray:
        """Class probabilities (curves, copies, shapes) of each row of ``dilated`` (curves,
        copies, FEATURES; ``features.dilated_features`` of each curve)."""
        curves, k = dilated.shape[:2]
        probs = self.class_probabilities(self.encode(dilated.reshape(curves * k, -1)))
        return probs.numpy().reshape(curves, k, -1)

    def dilation_averaged_probabilities(self, dilated: np.ndarray) -> np.ndarray:
        """Class probabilities (curves, shapes) averaged over the copies of ``dilated``
        (``copy_probabilities``), as ``estimate`` returns them."""
        return self.copy_probabilities(dilated).mean(axis=1)

    @torch.no_grad()
    def predict(self, features: np.ndarray | None, n_samples: int = 500, seed: int = 0,
                shapes: np.ndarray | None = None, code: torch.Tensor | None = None,
                with_uncertainties: np.ndarray | bool | None = None
                ) -> tuple[np.ndarray, np.ndarray]:
        """Class probabilities (rows, shapes) and physical posterior samples (rows, n, 5) for the
        most probable shape of each row (or the given ``shapes``). Pass ``code`` (from
        ``encode``) instead of ``features`` to skip encoding, and then ``with_uncertainties``
        (whether the curve had dI; read from the features' dI/I channel otherwise)."""
        code = self.encode(features) if code is None else code
        probs = self.class_probabilities(code)
        chosen = probs.argmax(1) if shapes is None else torch.as_tensor(shapes)
        gen = torch.Generator().manual_seed(seed)
        samples = self.net.sample(self.net.condition(code, chosen), n_samples, gen,
                                  self.z_scale).numpy()
        if self.interval_calibration is not None:
            if with_uncertainties is None:
                with_uncertainties = True if features is None else has_uncertainties(features)
            with_d = np.broadcast_to(with_uncertainties, (samples.shape[0],))
            samples = self.corrected_spread(samples, code, chosen.numpy(), with_d)
        return probs.numpy(), from_standard(samples)

    def thesis_regime(self, code: torch.Tensor) -> np.ndarray:
        """Probability that each row's curve comes from the thesis' regime (Table 3.3 priors,
        DFT grid, 10 % noise) rather than the broad one: linear discriminant of the codes."""
        regime = self.interval_calibration["regime"]
        logit = code.numpy().astype(np.float64) @ regime["weights"] + regime["bias"]
        return 1.0 / (1.0 + np.exp(-np.clip(logit, -50.0, 50.0)))

    def corrected_spread(self, samples: np.ndarray, code: torch.Tensor, shapes: np.ndarray,
                         with_uncertainties: np.ndarray) -> np.ndarray:
        """Standardised samples (rows, n, 5) spread around their median by the calibrated
        factor of each row's shape and parameter (tables for curves with and without dI),
        mixed between the two regimes by ``thesis_regime``: the 16-84 % intervals then cover
        68 % in each (the median stays)."""
        factors = self.interval_calibration["factors"]  # arrays since load
        with_d = np.asarray(with_uncertainties, bool)[:, None]
        broad = np.where(with_d, factors["broad"][shapes], factors["broad-no-dI"][shapes])
        thesis = np.where(with_d, factors["thesis"][shapes], factors["thesis-no-dI"][shapes])
        p = self.thesis_regime(code)[:, None]
        scale = (1.0 - p) * broad + p * thesis
        median = np.median(samples, axis=1, keepdims=True)
        return median + scale[:, None, :] * (samples - median)


INTERVAL_REGIMES = ("broad", "broad-no-dI", "thesis", "thesis-no-dI")


def _interval_arrays(calibration: dict | None, net: ShapePosteriorNet, path: Path
                     ) -> dict | None:
    """The stored interval correction as arrays (converted once, not on every estimate),
    checked against the network; a malformed one is a ``WeightsError`` at load time."""
    if calibration is None:
        return None
    try:
        factors = {r: np.asarray(calibration["factors"][r], dtype=float)
                   for r in INTERVAL_REGIMES}
        weights = np.asarray(calibration["regime"]["weights"], dtype=float)
        bias = float(calibration["regime"]["bias"])
        code_size = net.classifier.in_features
        if (any(f.shape != (len(SHAPE_NAMES), len(PARAMETER_NAMES)) for f in factors.values())
                or weights.shape != (code_size,)):
            raise ValueError("tables or discriminant of the wrong size")
    except (KeyError, TypeError, ValueError) as exc:
        raise WeightsError(f"weight file {path}: its interval correction cannot be used "
                           f"({exc}); recalibrate with calibrate.calibrate_intervals") from exc
    return {"factors": factors, "regime": {"weights": weights, "bias": bias}}


def mahalanobis_to_nearest(codes: np.ndarray, means: np.ndarray, precision: np.ndarray
                           ) -> np.ndarray:
    """min over classes k of (c - μ_k)ᵀ P (c - μ_k), per row of ``codes``."""
    out = []
    for mu in means:
        d = codes - mu
        out.append(np.einsum("ij,jk,ik->i", d, precision, d))
    return np.min(out, axis=0)


@lru_cache(maxsize=4)
def load_model(path: str | None = None) -> InverseModel:
    """Cached ``InverseModel`` (key: weight path)."""
    return InverseModel(Path(path) if path else DEFAULT_WEIGHTS)


def summarise(shape: str, samples: np.ndarray) -> dict:
    """name -> (median, 16th, 84th percentile) for the parameters the shape has."""
    out = {}
    for j, name in enumerate(PARAMETER_NAMES):
        if name in entry(shape).parameters:
            p16, med, p84 = np.percentile(samples[:, j], [16, 50, 84])
            out[name] = (float(med), float(p16), float(p84))
    return out


def _check_points(q: np.ndarray, intensity: np.ndarray, sigma: np.ndarray):
    """(q, I, σ widened by MODEL_TOLERANCE·I) at the at most CHECK_POINTS evenly picked points
    the confidence tests judge: they need the shape of the curve, not every point."""
    pick = np.unique(np.linspace(0, q.size - 1, min(q.size, CHECK_POINTS)).round().astype(int))
    intensity = intensity[pick]
    return q[pick], intensity, np.hypot(sigma[pick], MODEL_TOLERANCE * intensity)


def estimate_misfit(shape: str, values: dict, q: np.ndarray, intensity: np.ndarray,
                    sigma: np.ndarray) -> tuple[float, float, float]:
    """Scale, background and reduced χ² of the catalogue ``shape`` at ``values`` (Å) against
    the data, on at most CHECK_POINTS of its points, with σ widened by MODEL_TOLERANCE·I (the
    confidence test; see the module docstring)."""
    q, intensity, widened = _check_points(q, intensity, sigma)
    curve = model_intensity(shape, q, values)
    scale, background = fit_scale_background(intensity, curve, widened)
    chi2 = float(np.mean(((intensity - scale * curve - background) / widened) ** 2))
    return scale, background, chi2


def flat_misfit(q: np.ndarray, intensity: np.ndarray, sigma: np.ndarray) -> float:
    """Reduced χ² of the best constant (a flat background and no particle) against the data,
    judged like ``estimate_misfit`` (same points, σ widened by MODEL_TOLERANCE·I). Where a
    constant reproduces the data as well as a model may, the curve holds no shape
    information and no estimate of it can be confident."""
    _, intensity, widened = _check_points(q, intensity, sigma)
    w = 1.0 / widened ** 2
    level = float(np.sum(w * intensity) / np.sum(w))
    return float(np.sum(w * (intensity - level) ** 2) / max(intensity.size - 1, 1))


def estimate(q, intensity, d_intensity=None, *, q_unit: str = "1/A", n_samples: int = 500,
             seed: int = 0, weights: str | Path | None = None,
             average_dilations: bool = True) -> Estimate:
    """Shape and parameters of a measured 1D SAXS curve.

    q in 1/Å (or ``q_unit="1/nm"``), I in any scale, dI optional (same units as I).
    The class probabilities are the network's, averaged over the curve and its copies with q
    scaled by ``features.CLASS_DILATIONS`` (same shape, lengths scaled; ``average_dilations``
    False: the curve alone); the parameter posterior is the network's for the curve itself.
    Raises ``SaxsimInputError`` for unusable curves (too few points, q in the wrong unit,
    no overlap with 0.002-0.6 1/Å); softer problems land in ``notes``.
    """
    start = time.perf_counter()
    q, intensity, d_intensity, notes = clean_curve(q, intensity, d_intensity, q_unit)
    usable_d = d_intensity is not None and bool(np.all(d_intensity > 0))
    features, n_valid = featurize(q, intensity, d_intensity if usable_d else None)
    notes += check_range(q, n_valid)
    model = load_model(str(weights) if weights else None)
    rows = features[None]
    if average_dilations:
        rows = np.concatenate([rows, dilated_features(q, intensity, d_intensity if usable_d
                                                      else None,
                                                      CLASS_DILATIONS[CLASS_DILATIONS != 1.0])])
    codes = model.encode(rows)  # once: classifier, posterior, alternatives, distance
    code = codes[:1]  # the curve itself
    probs = model.class_probabilities(codes).numpy().mean(axis=0, keepdims=True)
    k = int(np.argmax(probs[0]))
    _, samples = model.predict(None, n_samples, seed, shapes=np.array([k]), code=code,
                               with_uncertainties=usable_d)
    shape = SHAPE_NAMES[k]
    summary = summarise(shape, samples[0])
    medians = {name: v[0] for name, v in summary.items()}
    sigma = d_intensity if usable_d else None
    if sigma is None:
        sigma = noise_estimate(q, intensity)
        notes.append("no usable dI: noise estimated from point-to-point scatter")
    scale, background, chi2 = estimate_misfit(shape, medians, q, intensity, sigma)
    distance = float(model.code_distance(code=code)[0])
    familiar = not distance > model.code_threshold  # NaN (no density stored) counts as familiar
    # a q range no training instrument had is out of distribution whatever the code says
    # (cyl_400_20.txt, q from 0.025: 4x off in length at a familiar code; docs: Validation)
    # a constant that fits as well as the model allows: nothing in the curve tells a shape
    featureless = flat_misfit(q, intensity, sigma) <= model.chi2_threshold
    confident = bool(probs[0, k] >= PROBABILITY_THRESHOLD and chi2 <= model.chi2_threshold
                     and familiar and inside_training_range(q) and not featureless)
    if featureless:
        notes.append("a flat background reproduces the data as well as any model: the curve "
                     "holds no shape information (no particle signal above the noise?)")
    if not familiar:
        notes.append(f"the curve is unlike the training curves (code distance {distance:.3g} > "
                     f"{model.code_threshold:.3g}): probably a shape, structure or instrument "
                     "the network does not know")
    if probs[0, k] < PROBABILITY_THRESHOLD:
        notes.append(f"shape uncertain: top probability {probs[0, k]:.2f}")
    if chi2 > model.chi2_threshold:
        notes.append(f"the estimated {shape} model does not reproduce the data (reduced chi2 "
                     f"{chi2:.3g} > {model.chi2_threshold:.3g}): probably a shape or structure "
                     "the network does not know")
    alternatives, alternative_samples = {}, {}
    for j in np.flatnonzero(probs[0] >= ALTERNATIVE_PROBABILITY):
        if j != k:
            _, alt = model.predict(None, n_samples, seed, shapes=np.array([j]), code=code,
                                   with_uncertainties=usable_d)
            alternatives[SHAPE_NAMES[j]] = summarise(SHAPE_NAMES[j], alt[0])
            alternative_samples[SHAPE_NAMES[j]] = alt[0]
    e = entry(shape)
    pars = e.seed_parameters(medians, q_max=float(q.max()))
    pars.update({"scale": scale, "background": background})
    for name in e.parameters:
        if name.endswith("_pd"):
            pars[name + "_type"] = "gaussian"
    return Estimate(shape=shape,
                    probabilities={s: float(p) for s, p in zip(SHAPE_NAMES, probs[0], strict=True)},
                    parameters=summary, model_name=e.model_name, sasmodels_parameters=pars,
                    confident=confident, reduced_chi2=chi2, code_distance=distance, notes=notes,
                    seconds=time.perf_counter() - start, samples=samples[0],
                    alternatives=alternatives, alternative_samples=alternative_samples,
                    code=code, weights=str(weights) if weights else None)
