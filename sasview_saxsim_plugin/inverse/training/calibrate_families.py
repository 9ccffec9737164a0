"""Post-training calibration of the family network, stored with its weights, from held-out
family sets it did not train on ("val" and "calib"; never "test", never the independent
generator's curves):

- a softmax temperature minimising the validation cross-entropy (Guo et al. 2017);
- interval factors per family and parameter, for curves with and without dI: the 68th
  percentile of |truth − median| / half-width of the 16-84 % interval on "val" (rows whose
  top family is right), so the intervals cover 68 % of held-out truths;
- the code density of the familiarity test: family means and shared covariance of the encoder
  codes of 40 000 training rows (Lee et al. 2018), threshold the 99th percentile on "calib";
- the reduced-χ² threshold: the 99th percentile of the top family's misfit on "calib";
- the probability threshold of ``confident``: the lowest top probability above which at
  least ``TARGET_PRECISION`` of the "calib" curves that pass the other tests are right.
"""

from __future__ import annotations

import numpy as np

from ..checkpoint import read_weights, write_weights
from ..families import FAMILIES, FAMILY_NAMES, to_standard
from ..family_estimate import FamilyNetwork, estimate_misfit, flat_misfit, summarise
from ..features import clean_curve, without_uncertainties
from .calibrate import _temperature as temperature
from .family_dataset import load_set

#: precision asked of ``confident`` on "calib" (above the 99 % promised, for the margin a
#: foreign generator needs)
TARGET_PRECISION = 0.995


def interval_factors(network: FamilyNetwork, data: dict, n_samples: int = 300) -> dict:
    """{"dI": table, "no-dI": table} (families, slots): the factor that makes the 16-84 %
    intervals cover 68 % of the truths of ``data`` (1 where a family has < 20 right rows)."""
    out = {}
    for regime, feats in (("dI", data["features"]),
                          ("no-dI", without_uncertainties(data["features"]))):
        code = network.encode(feats)
        predicted = network.class_probabilities(code).argmax(1)
        table = np.ones((len(FAMILIES), data["parameters"].shape[1]))
        for k in range(len(FAMILIES)):
            rows = np.flatnonzero((data["family"] == k) & (predicted == k))
            if rows.size < 20:
                continue
            samples = network.posterior(code[rows], np.full(rows.size, k), n_samples,
                                        calibrated=False)
            standard = to_standard(samples, np.full((rows.size, 1), k))
            truth = to_standard(data["parameters"][rows], np.full(rows.size, k))
            median = np.median(standard, axis=1)
            p16, p84 = np.percentile(standard, [16, 84], axis=1)
            with np.errstate(divide="ignore", invalid="ignore"):
                z = np.where(truth > median, (truth - median) / (p84 - median),
                             (median - truth) / (median - p16))
            for j in range(FAMILIES[k].n_free):
                values = z[:, j][np.isfinite(z[:, j])]
                if values.size >= 20:
                    table[k, j] = float(np.quantile(values, 0.68))
        out[regime] = table
    return out


def code_density(network: FamilyNetwork, train: dict, held_out: dict, rows: int = 40000,
                 seed: int = 0) -> dict:
    pick = np.random.default_rng(seed).choice(len(train["family"]),
                                              min(rows, len(train["family"])), replace=False)
    codes = network.encode(train["features"][pick]).numpy().astype(np.float64)
    fams = train["family"][pick]
    means = np.stack([codes[fams == k].mean(0) for k in range(len(FAMILIES))])
    residual = codes - means[fams]
    cov = residual.T @ residual / len(residual) + 1e-6 * np.eye(codes.shape[1])
    network.code_means, network.code_precision = means, np.linalg.inv(cov)
    distance = network.code_distance(network.encode(held_out["features"]))
    return {"means": means.tolist(), "precision": network.code_precision.tolist(),
            "threshold": float(np.percentile(distance, 99))}


def curve_checks(network: FamilyNetwork, data: dict) -> dict:
    """Per "calib" curve: top family, its probability, the misfit of its median parameters,
    the flat misfit (arrays)."""
    code = network.encode(data["features"])
    probs = network.class_probabilities(code)
    top = probs.argmax(1)
    samples = network.posterior(code, top, 200)
    chi2, flat = np.empty(len(top)), np.empty(len(top))
    for i, (q, intensity, sigma, _) in enumerate(data["curves"].astype(float)):
        ok = np.isfinite(q) & np.isfinite(intensity)
        qc, ic, sc, _ = clean_curve(q[ok], intensity[ok], sigma[ok])
        name = FAMILY_NAMES[top[i]]
        medians = {k: v[0] for k, v in summarise(name, samples[i]).items()}
        chi2[i] = estimate_misfit(name, medians, qc, ic, sc)[2]
        flat[i] = flat_misfit(qc, ic, sc)
    return {"top": top, "p": probs.max(1), "chi2": chi2, "flat": flat,
            "distance": network.code_distance(code)}


def probability_threshold(checks: dict, truth: np.ndarray, chi2_threshold: float,
                          code_threshold: float, target: float = TARGET_PRECISION) -> float:
    """The lowest top probability t such that the curves passing every test with p ≥ t are
    right at least ``target`` of the time (0.999 when none qualifies)."""
    passes = ((checks["chi2"] <= chi2_threshold) & (checks["distance"] <= code_threshold)
              & (checks["flat"] > chi2_threshold))
    right = checks["top"] == truth
    for t in np.round(np.arange(0.5, 0.999, 0.01), 3):
        chosen = passes & (checks["p"] >= t)
        if chosen.sum() >= 50 and right[chosen].mean() >= target:
            return float(t)
    return 0.999


def calibrate_families(path) -> dict:
    """Compute and store the calibration (module docstring) in the weight file ``path``."""
    network = FamilyNetwork(path)
    val, calib = load_set("val"), load_set("calib")
    network.temperature = temperature(network, val["features"], val["family"])
    network.interval_factors = interval_factors(network, val)
    density = code_density(network, load_set("train"), calib)
    network.code_threshold = density["threshold"]
    checks = curve_checks(network, calib)
    chi2_threshold = float(np.percentile(checks["chi2"], 99))
    p_threshold = probability_threshold(checks, calib["family"], chi2_threshold,
                                        density["threshold"])
    blob = read_weights(path)
    blob.update(temperature=network.temperature,
                interval_factors={k: v.tolist() for k, v in network.interval_factors.items()},
                code_density=density, chi2_threshold=chi2_threshold,
                probability_threshold=p_threshold)
    write_weights(blob, path)
    return {"temperature": network.temperature, "chi2_threshold": chi2_threshold,
            "code_threshold": density["threshold"], "probability_threshold": p_threshold}
