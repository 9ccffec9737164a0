"""Post-training calibration of the family network, stored with its weights, from held-out
family sets it did not train on ("val" and "calib"; never "test", never the independent
generator's curves):

- a softmax temperature minimising the cross-entropy (Guo et al. 2017) of the probabilities
  ``estimate`` reports: the softmax averaged over each "calib" curve's q-dilated copies
  (averaging flattens them, so a temperature fitted to single passes leaves the reported
  probabilities under-confident);
- interval factors per family and parameter, for curves with and without dI: the 68th
  percentile of |truth − median| / half-width of the 16-84 % interval on "val" (rows whose
  top family is right), so the intervals cover 68 % of held-out truths;
- the code density of the familiarity test: family means and shared covariance of the encoder
  codes of 40 000 training rows (Lee et al. 2018), threshold the 99th percentile on "calib";
- the reduced-χ² threshold: the 99th percentile of the top family's misfit on "calib";
- the probability threshold of ``confident``: the lowest top probability above which at
  least ``TARGET_PRECISION`` of the "calib" curves that pass the other tests are right, each
  curve judged as ``estimate`` judges it (class probabilities averaged over its q-dilated
  copies, the model smeared with its resolution).
"""

from __future__ import annotations

import numpy as np
import torch

from ..checkpoint import read_weights, write_weights
from ..estimate import (
    FamilyNetwork,
    check_curves,
    estimate_misfit,
    flat_misfit,
    power_law_misfit,
    summarise,
)
from ..families import FAMILIES, FAMILY_NAMES, to_standard
from ..features import (
    CLASS_DILATIONS,
    clean_curve,
    dilated_features,
    featurize,
    without_uncertainties,
)
from .dataset import ACQUISITION_COLUMNS, load_set

#: precision asked of ``confident`` on "calib" (above the 99 % promised, for the margin a
#: foreign generator needs)
TARGET_PRECISION = 0.995


def dilated_logits(network: FamilyNetwork, data: dict) -> torch.Tensor:
    """Class logits (curves, dilations, families) of the stored curves of ``data`` and their
    q-dilated copies, as ``estimate`` computes them."""
    out = []
    for q, intensity, sigma, _ in data["curves"].astype(float):
        ok = np.isfinite(q) & np.isfinite(intensity)
        qc, ic, sc, _ = clean_curve(q[ok], intensity[ok], sigma[ok])
        x, _ = featurize(qc, ic, sc)
        rows = np.concatenate([x[None], dilated_features(
            qc, ic, sc, CLASS_DILATIONS[CLASS_DILATIONS != 1.0])])
        with torch.no_grad():
            out.append(network.net.classifier(network.encode(rows)))
    return torch.stack(out)


def temperature(logits: torch.Tensor, families: np.ndarray) -> float:
    """The temperature minimising the cross-entropy of the dilation-averaged softmax of
    ``logits`` (curves, dilations, families) against the true ``families``."""
    target = torch.as_tensor(families, dtype=torch.long)
    grid = np.exp(np.linspace(np.log(0.3), np.log(5.0), 60))
    losses = []
    for t in grid:
        p = torch.softmax(logits / t, dim=2).mean(dim=1)
        losses.append(float(-torch.log(p[torch.arange(len(target)), target] + 1e-12).mean()))
    return float(grid[int(np.argmin(losses))])


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
    """Per "calib" curve, as ``estimate`` sees it: the top family of the class probabilities
    averaged over the q-dilated copies, that probability, the misfit of the family's
    posterior medians (the model smeared with the curve's resolution) and the flat misfit."""
    slit_column = ACQUISITION_COLUMNS.index("slit_length")
    top, p_top = [], []
    chi2, flat = np.empty(len(data["curves"])), np.empty(len(data["curves"]))
    power = np.empty(len(data["curves"]))
    codes = []
    for i, (q, intensity, sigma, dq) in enumerate(data["curves"].astype(float)):
        ok = np.isfinite(q) & np.isfinite(intensity)
        q, intensity, sigma, dq = q[ok], intensity[ok], sigma[ok], dq[ok]
        slit = float(data["acquisition"][i, slit_column])
        qc, ic, sc, _ = clean_curve(q, intensity, sigma)
        keep = np.isin(q, qc)
        x, _ = featurize(qc, ic, sc)
        rows = np.concatenate([x[None], dilated_features(
            qc, ic, sc, CLASS_DILATIONS[CLASS_DILATIONS != 1.0])])
        code = network.encode(rows)
        probs = network.class_probabilities(code).mean(axis=0)
        k = int(np.argmax(probs))
        top.append(k)
        p_top.append(float(probs[k]))
        codes.append(code[:1])
        name = FAMILY_NAMES[k]
        samples = network.posterior(code[:1], np.array([k]), 200)[0]
        medians = {n: v[0] for n, v in summarise(name, samples).items()}
        curves = check_curves(qc, ic, dq[keep] if dq[keep].max() > 0 else None,
                              np.full(qc.shape, slit) if slit > 0 else None)
        chi2[i] = estimate_misfit(name, medians, qc, ic, sc, curves)[2]
        flat[i] = flat_misfit(qc, ic, sc)
        power[i] = power_law_misfit(qc, ic, sc)[0]
    return {"top": np.array(top), "p": np.array(p_top), "chi2": chi2, "flat": flat,
            "power": power,
            "distance": network.code_distance(torch.cat(codes))}


def probability_threshold(checks: dict, truth: np.ndarray, chi2_threshold: float,
                          code_threshold: float, target: float = TARGET_PRECISION) -> float:
    """The lowest top probability t such that the curves passing every test with p ≥ t are
    right at least ``target`` of the time (0.999 when none qualifies)."""
    passes = ((checks["chi2"] <= chi2_threshold) & (checks["distance"] <= code_threshold)
              & (checks["flat"] > checks["chi2"]) & (checks["power"] > checks["chi2"]))
    right = checks["top"] == truth
    for t in np.round(np.arange(0.5, 0.999, 0.01), 3):
        chosen = passes & (checks["p"] >= t)
        if chosen.sum() >= 50 and right[chosen].mean() >= target:
            return float(t)
    return 0.999


def calibrate(path) -> dict:
    """Compute and store the calibration (module docstring) in the weight file ``path``."""
    network = FamilyNetwork(path)
    val, calib = load_set("val"), load_set("calib")
    network.temperature = temperature(dilated_logits(network, calib), calib["family"])
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
