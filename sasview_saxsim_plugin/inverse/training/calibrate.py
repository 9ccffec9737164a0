"""Post-training calibration stored with the weights, from held-out sets the network did not
train on ("val" and "calib"; never the test sets):

- a softmax temperature minimising the validation cross-entropy (Guo et al. 2017), so class
  probabilities mean what they say;
- a latent scale (posterior temperature) so that the 16–84 % intervals on "val" cover 68 % of
  the true parameters (a flow trained by maximum likelihood on finite data comes out slightly
  over-confident: v2 covered 0.57–0.65 on "val" at scale 1);
- the reduced-χ² threshold of the confidence flag: the 99th percentile of the χ² of the
  estimate (σ widened by the 5 % model tolerance) on in-distribution "calib" curves;
- interval corrections per prior regime: one latent scale cannot serve both priors (thesis-like
  intervals came out 1.1-2.7x too wide at the broad prior's scale), so the spread of the
  samples around their median is multiplied by a factor per regime, shape and parameter (the
  68th percentile of |truth - median| / half-width on "val" and "val-thesis", each also with
  its dI/I channel blanked), the regime recognised by a linear discriminant of the encoder
  codes (``interval_calibration``);
- the code density of the flag's third test: class means and shared covariance of the encoder
  codes of 30 000 curves of the training mix, threshold = the larger 99th percentile of the
  Mahalanobis distance on "calib" (broad) and "val-thesis" (thesis-like), so neither prior's
  curves are called unfamiliar more than 1 % of the time.
"""

from __future__ import annotations

import numpy as np
import torch

from ..catalogue import SHAPE_NAMES
from ..checkpoint import read_weights, write_weights
from ..estimate import InverseModel, estimate_misfit, mahalanobis_to_nearest, summarise
from ..features import clean_curve, without_uncertainties
from ..parameters import to_standard
from .dataset import load_joined, load_set


def _temperature(model: InverseModel, features: np.ndarray, shapes: np.ndarray) -> float:
    with torch.no_grad():
        logits = model.net.classifier(model.encode(features))
    target = torch.as_tensor(shapes)
    grid = np.exp(np.linspace(np.log(0.3), np.log(5.0), 60))
    losses = [float(torch.nn.functional.cross_entropy(logits / t, target)) for t in grid]
    return float(grid[int(np.argmin(losses))])


def _z_scale(model: InverseModel, data: dict, target: float = 0.68) -> tuple[float, float]:
    """Latent scale on a grid whose mean 68 % coverage (over shapes and parameters, curves
    classified right) on ``data`` is closest to ``target``; returns (scale, coverage)."""
    from .evaluate import evaluate_predictions

    best = (1.0, -1.0)
    for scale in np.round(np.arange(1.0, 1.31, 0.05), 2):
        model.z_scale = float(scale)
        probs, samples = model.predict(data["features"], 300)
        m = evaluate_predictions(data["shape"], data["parameters"], probs, samples)
        coverage = float(np.mean([v["coverage_68"] for stats in m["per_shape"].values()
                                  for v in stats.values()]))
        if abs(coverage - target) < abs(best[1] - target):
            best = (float(scale), coverage)
    model.z_scale = best[0]
    return best


def regime_sets(broad: dict, thesis: dict) -> dict:
    """The four calibration regimes: each held-out set as measured and with its dI/I channel
    blanked (a file without uncertainties), which changes how wide the posterior comes out."""
    def blanked(data):
        return {**data, "features": without_uncertainties(data["features"])}

    return {"broad": broad, "broad-no-dI": blanked(broad), "thesis": thesis,
            "thesis-no-dI": blanked(thesis)}


def interval_calibration(model: InverseModel, sets: dict, n_samples: int = 300) -> dict:
    """Interval factors per regime (name -> set: ``regime_sets(val, val_thesis)``) and the
    broad / thesis-like discriminant of the codes, with ``model``'s correction switched off
    while measuring."""
    saved, model.interval_calibration = model.interval_calibration, None
    try:
        codes, factors = [], {}
        for regime, data in sets.items():
            code = model.encode(data["features"])
            codes.append(code.numpy().astype(np.float64))
            probs, samples = model.predict(None, n_samples, code=code)
            predicted = probs.argmax(1)
            standard = to_standard(samples)
            truth = to_standard(data["parameters"])
            median = np.median(standard, axis=1)
            p16, p84 = np.percentile(standard, [16, 84], axis=1)
            with np.errstate(divide="ignore", invalid="ignore"):
                z = np.where(truth > median, (truth - median) / (p84 - median),
                             (median - truth) / (median - p16))
            table = np.ones((len(SHAPE_NAMES), truth.shape[1]))
            for k in range(len(SHAPE_NAMES)):
                rows = (data["shape"] == k) & (predicted == k)
                for j in range(truth.shape[1]):
                    values = z[rows, j][np.isfinite(z[rows, j])]
                    if values.size >= 20:  # parameters the shape has
                        table[k, j] = float(np.quantile(values, 0.68))
            factors[regime] = table.tolist()
    finally:
        model.interval_calibration = saved
    thesis_like = ["thesis" in name for name in sets]
    broad_codes = np.concatenate([c for c, t in zip(codes, thesis_like, strict=True) if not t])
    thesis_codes = np.concatenate([c for c, t in zip(codes, thesis_like, strict=True) if t])
    mean_broad, mean_thesis = broad_codes.mean(0), thesis_codes.mean(0)
    residual = np.concatenate([broad_codes - mean_broad, thesis_codes - mean_thesis])
    cov = residual.T @ residual / len(residual) + 1e-6 * np.eye(residual.shape[1])
    weights = np.linalg.solve(cov, mean_thesis - mean_broad)
    bias = float(-0.5 * (mean_thesis + mean_broad) @ weights)
    return {"factors": factors, "regime": {"weights": weights.tolist(), "bias": bias}}


def calibrate_intervals(path) -> dict:
    """Compute and store only the interval correction in the weight file ``path``."""
    model = InverseModel(path)
    result = interval_calibration(model, regime_sets(load_set("val"), load_set("val-thesis")))
    blob = read_weights(path)
    blob["interval_calibration"] = result
    write_weights(blob, path)
    return result


def code_density(model: InverseModel, train: dict, held_out: list[dict], rows: int = 30000,
                 seed: int = 0) -> dict:
    """Class means and shared precision matrix of the encoder codes of ``train`` (Lee et al.
    2018); threshold: the largest 99th percentile of the squared Mahalanobis distance over the
    ``held_out`` sets."""
    pick = np.random.default_rng(seed).choice(len(train["shape"]),
                                              min(rows, len(train["shape"])), replace=False)
    codes, shapes = model.codes(train["features"][pick]), train["shape"][pick]
    means = np.stack([codes[shapes == k].mean(0) for k in range(len(SHAPE_NAMES))])
    residual = codes - means[shapes]
    cov = residual.T @ residual / len(residual) + 1e-6 * np.eye(codes.shape[1])
    precision = np.linalg.inv(cov)
    p99 = [float(np.percentile(mahalanobis_to_nearest(model.codes(d["features"]), means,
                                                       precision), 99)) for d in held_out]
    return {"means": means.tolist(), "precision": precision.tolist(),
            "threshold": max(p99), "held_out_p99": p99}


def estimate_chi2(model: InverseModel, curves: np.ndarray, features: np.ndarray) -> np.ndarray:
    """Reduced χ² of the estimate (median parameters, fitted scale + background) per curve."""
    probs, samples = model.predict(features, 200)
    out = np.empty(len(curves))
    for i, (q, intensity, sigma, _) in enumerate(curves):
        ok = np.isfinite(q)
        q, intensity, sigma = q[ok], intensity[ok], sigma[ok]
        qc, ic, sc, _ = clean_curve(q, intensity, sigma)
        shape = SHAPE_NAMES[int(np.argmax(probs[i]))]
        medians = {k: v[0] for k, v in summarise(shape, samples[i]).items()}
        out[i] = estimate_misfit(shape, medians, qc, ic, sc)[2]
    return out


def calibrate(path) -> dict:
    """Compute and store temperature, latent scale, interval correction, χ² threshold and code
    density in the weight file ``path``."""
    model = InverseModel(path)
    model.interval_calibration = None  # the latent scale is chosen before the correction
    val = load_set("val")
    temperature = _temperature(model, val["features"], val["shape"])
    model.temperature = temperature
    z_scale, coverage = _z_scale(model, val)
    intervals = interval_calibration(model, regime_sets(val, load_set("val-thesis")))
    calib = load_set("calib")
    chi2 = estimate_chi2(model, calib["curves"].astype(float), calib["features"])
    threshold = float(np.percentile(chi2, 99))
    from .train import SHIPPED_TRAIN_SETS

    density = code_density(model, load_joined(SHIPPED_TRAIN_SETS),
                           [calib, load_set("val-thesis")])
    blob = read_weights(path)
    blob.update(temperature=temperature, z_scale=z_scale, val_coverage_68=coverage,
                interval_calibration=intervals,
                chi2_threshold=threshold, code_density=density,
                chi2_calibration={"median": float(np.median(chi2)),
                                  "p90": float(np.percentile(chi2, 90)), "p99": threshold})
    write_weights(blob, path)
    return {"temperature": temperature, "z_scale": z_scale, "chi2_threshold": threshold,
            "code_threshold": density["threshold"]}
