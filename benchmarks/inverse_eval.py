"""Held-out evaluation of the inverse networks: shape accuracy, parameter errors, interval
coverage, confidence flag and time (docs/validation.md).

    python benchmarks/inverse_eval.py [--unknown 30] [--json FILE]
    python benchmarks/inverse_eval.py --weights FILE [--json FILE]   # another weight file

"estimate" rows: what ``estimate`` returns (class probabilities averaged over the curve and its
q-dilated copies); "shipped cINN" rows: the network's single pass on the stored features.
Test sets "test-thesis" (thesis Table 3.3 priors, section 3.2.1 grid and noise) and
"test-broad" (the broad priors and instruments) are generated with their own seeds and never used
for training, model selection or calibration. Prints (with the machine and the command)
confusion matrices, parameter errors and 68 % interval coverage for the shipped cINN and the
thesis INN, inference time, weight sizes, and the confidence flag on curves of shapes the
network does not know; writes nothing else unless --json FILE is given (every figure printed).
With ``--weights`` (a retrained network, e.g. a check of ``saxsim train``) only that network's
rows are measured (one pass and the ``estimate`` class averaging, with and without dI), not
the parts that go through ``estimate()`` with the shipped weights.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch
from common import header, save_json  # benchmarks/ is on sys.path

from sasview_saxsim_plugin.inverse.catalogue import SHAPE_NAMES
from sasview_saxsim_plugin.inverse.estimate import DEFAULT_WEIGHTS, InverseModel, estimate
from sasview_saxsim_plugin.inverse.features import (
    CLASS_DILATIONS,
    dilated_features,
    without_uncertainties,
)
from sasview_saxsim_plugin.inverse.parameters import as_dict
from sasview_saxsim_plugin.inverse.training.dataset import load_set
from sasview_saxsim_plugin.inverse.training.evaluate import ThesisPredictor, evaluate_predictions
from sasview_saxsim_plugin.inverse.training.measurement import CALC_Q, draw_instrument, measure
from sasview_saxsim_plugin.inverse.training.train import THESIS_WEIGHTS


def _print(name: str, m: dict) -> None:
    print(f"\n{name}: accuracy {100 * m['accuracy']:.2f} % of {m['n']}")
    print("confusion (rows true, columns predicted):", SHAPE_NAMES)
    for row in m["confusion"]:
        print("   ", row)
    for shape, stats in m["per_shape"].items():
        for p, s in stats.items():
            if "median_relative_error" in s:
                print(f"  {shape:10s} {p:11s} median rel {100 * s['median_relative_error']:6.2f} %"
                      f"  p90 {100 * s['p90_relative_error']:6.1f} %  RMSE {s['rmse_A']:8.2f} Å"
                      f"  MSE {s['mse_nm2']:9.4f} nm²  cov68 {s['coverage_68']:.2f}")
            else:
                print(f"  {shape:10s} {p:11s} median |err| {s['median_abs_error']:.4f}"
                      f"  RMSE {s['rmse']:.4f}  MSE {s['mse']:.5f}  cov68 {s['coverage_68']:.2f}")


def dilated_rows(data: dict, with_uncertainties: bool = True,
                 factors: np.ndarray = CLASS_DILATIONS) -> np.ndarray:
    """``features.dilated_features`` (curves, len(factors), FEATURES) of every stored curve of
    a set (its usable points: finite q, I > 0)."""
    rows = []
    for q, intensity, sigma, _ in data["curves"].astype(float):
        keep = np.isfinite(q) & (intensity > 0)
        rows.append(dilated_features(q[keep], intensity[keep],
                                     sigma[keep] if with_uncertainties else None, factors))
    return np.asarray(rows)


def dilation_predictions(model: InverseModel, data: dict, with_uncertainties: bool = True,
                         n_samples: int = 500) -> tuple[np.ndarray, np.ndarray]:
    """What ``estimate`` returns for each stored curve, batched: class probabilities averaged
    over the curve and its q-dilated copies (``features.CLASS_DILATIONS``), posterior samples
    of the chosen shape from the curve itself."""
    dilated = dilated_rows(data, with_uncertainties)
    features = data["features"] if with_uncertainties else without_uncertainties(data["features"])
    centre = int(np.argmin(np.abs(CLASS_DILATIONS - 1.0)))
    assert np.allclose(dilated[:, centre], features, atol=1e-5), "stored features differ"
    probs = np.concatenate([model.dilation_averaged_probabilities(dilated[i:i + 500])
                            for i in range(0, len(dilated), 500)])
    _, samples = model.predict(features, n_samples, shapes=probs.argmax(1))
    return probs, samples


def unknown_shapes(model: InverseModel, n: int = 30, seed: int = 5) -> dict:
    """Curves of sasmodels shapes outside the catalogue, measured like the broad set: how
    often is the estimate flagged not confident? (and in-distribution for comparison)"""
    from sasview_saxsim_plugin.inverse.catalogue import sasmodels_intensity

    rng = np.random.default_rng(seed)
    cases = {
        "core_shell_sphere": lambda: {"radius": rng.uniform(30, 200), "thickness":
                                      rng.uniform(10, 60), "sld_core": 1.0, "sld_shell": 4.0,
                                      "sld_solvent": 0.0},
        "ellipsoid": lambda: {"radius_polar": rng.uniform(20, 60), "radius_equatorial":
                              rng.uniform(150, 400), "sld": 1.0, "sld_solvent": 0.0},
        "lamellar": lambda: {"thickness": rng.uniform(20, 100), "sld": 1.0, "sld_solvent": 0.0},
        "power_law": lambda: {"power": rng.uniform(1.5, 3.5)},
        "gauss_lorentz_gel": lambda: {},
    }
    out = {}
    for name, draw in cases.items():
        flags, shapes = [], []
        for _ in range(n):
            i_calc = sasmodels_intensity(name, CALC_Q, {"scale": 1.0, "background": 0.0,
                                                         **draw()})
            q, intensity, sigma = measure(i_calc, draw_instrument(rng), rng)
            try:
                r = estimate(q, intensity, sigma)
            except Exception as exc:  # noqa: BLE001 - a refusal counts as flagged
                flags.append(False)
                shapes.append(f"refused: {exc}")
                continue
            flags.append(r.confident)
            shapes.append(r.shape)
        out[name] = {"confident_fraction": float(np.mean(flags)),
                     "shapes": {s: shapes.count(s) for s in set(shapes)}}
    return out


def ambiguity_of_errors(model: InverseModel, data: dict, limit: int = 60) -> dict:
    """For misclassified curves: fit the true model from the truth and the predicted model from
    the network's estimate (same least-squares engine). If the wrong model fits at least as well
    (BIC no worse), the curve cannot tell the classes apart: no method could classify it."""
    from sasview_saxsim_plugin.inverse.estimate import summarise
    from sasview_saxsim_plugin.inverse.refine import fit_model

    probs, samples = model.predict(data["features"], 200)
    wrong = np.flatnonzero(probs.argmax(1) != data["shape"])[:limit]
    indistinguishable = 0
    for i in wrong:
        q, intensity, sigma, dq = data["curves"][i].astype(float)
        ok = np.isfinite(q) & (intensity > 0)
        q, intensity, sigma, dq = q[ok], intensity[ok], sigma[ok], dq[ok]
        true_shape = SHAPE_NAMES[data["shape"][i]]
        truth = as_dict(data["parameters"][i])
        pred_shape = SHAPE_NAMES[int(probs[i].argmax())]
        start = {k: v[0] for k, v in summarise(pred_shape, samples[i]).items()}
        fit_true = fit_model(true_shape, q, intensity, sigma, truth, dq)
        fit_pred = fit_model(pred_shape, q, intensity, sigma, start, dq)
        indistinguishable += fit_pred.bic <= fit_true.bic
    return {"misclassified": int((probs.argmax(1) != data["shape"]).sum()),
            "checked": int(len(wrong)), "indistinguishable": int(indistinguishable)}


def in_distribution_confidence(curves: np.ndarray, shapes: np.ndarray, n: int = 300) -> dict:
    flags, right, seconds = [], [], []
    for (q, intensity, sigma, _), s in zip(curves[:n], shapes[:n], strict=True):
        ok = np.isfinite(q)
        r = estimate(q[ok], intensity[ok], sigma[ok])
        flags.append(r.confident)
        right.append(r.shape == SHAPE_NAMES[s])
        seconds.append(r.seconds)
    flags, right = np.array(flags), np.array(right)
    return {"confident_fraction": float(flags.mean()),
            "accuracy_when_confident": float(right[flags].mean()) if flags.any() else None,
            "accuracy_when_not_confident": float(right[~flags].mean()) if (~flags).any()
            else None,
            "estimate_seconds_median": float(np.median(seconds)),
            "estimate_seconds_p95": float(np.percentile(seconds, 95))}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--json", metavar="FILE", help="also save every figure as JSON")
    ap.add_argument("--unknown", type=int, default=30, help="curves per unknown shape")
    ap.add_argument("--weights", help="measure this weight file's network instead of the "
                    "shipped one (network rows only)")
    a = ap.parse_args(argv)
    network_only = a.weights is not None
    weights = Path(a.weights) if a.weights else DEFAULT_WEIGHTS
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    shipped = InverseModel(weights)
    thesis = (ThesisPredictor(THESIS_WEIGHTS) if THESIS_WEIGHTS.exists() and not network_only
              else None)
    report = {"machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
                         f"torch {torch.__version__}", "weights": str(weights),
              "weights_bytes": {"shipped": weights.stat().st_size,
                                "thesis": THESIS_WEIGHTS.stat().st_size if thesis else None}}
    print(header("Held-out evaluation of the inverse networks", report["machine"],
                 f" (weights {weights})"))
    for set_name in ("test-thesis", "test-broad"):
        data = load_set(set_name)
        x, s, p = data["features"], data["shape"], data["parameters"]
        t = time.perf_counter()
        probs, samples = shipped.predict(x, 500)
        per_curve = (time.perf_counter() - t) / len(x)
        m = evaluate_predictions(s, p, probs, samples)
        m["network_seconds_per_curve_batched"] = per_curve
        report[f"shipped/{set_name}"] = m
        _print(f"shipped cINN on {set_name}", m)
        if shipped.channels > 2:  # the same curves given without dI (channel blanked)
            m = evaluate_predictions(s, p, *shipped.predict(without_uncertainties(x), 500))
            report[f"shipped-without-dI/{set_name}"] = m
            _print(f"shipped cINN on {set_name}, dI not given", m)
        # what estimate() returns: class probabilities averaged over q-dilated copies
        for with_d in (True, False) if shipped.channels > 2 else (True,):
            m = evaluate_predictions(s, p, *dilation_predictions(shipped, data, with_d))
            key = "estimate" if with_d else "estimate-without-dI"
            report[f"{key}/{set_name}"] = m
            _print(f"estimate() (network averaged over {len(CLASS_DILATIONS)} q dilations) on "
                   f"{set_name}{'' if with_d else ', dI not given'}", m)
        if thesis:
            probs, samples = thesis.predict(x, 200)
            m = evaluate_predictions(s, p, probs, samples)
            report[f"thesis/{set_name}"] = m
            _print(f"thesis INN on {set_name}", m)
        if network_only:
            continue
        rng = np.random.default_rng(0)
        order = rng.permutation(len(x))
        conf = in_distribution_confidence(data["curves"][order].astype(float), s[order])
        report[f"confidence/{set_name}"] = conf
        amb = ambiguity_of_errors(shipped, data)
        report[f"ambiguity/{set_name}"] = amb
        print(f"{set_name}: of {amb['checked']} misclassified curves checked, "
              f"{amb['indistinguishable']} are fitted at least as well (BIC) by the predicted "
              "class as by the true one")
        print(f"\n{set_name}: estimate() flags {100 * conf['confident_fraction']:.1f} % "
              f"confident; accuracy when confident {conf['accuracy_when_confident']}; "
              f"time per curve median {1e3 * conf['estimate_seconds_median']:.1f} ms, "
              f"p95 {1e3 * conf['estimate_seconds_p95']:.1f} ms")
    if not network_only:
        report["unknown_shapes"] = unknown_shapes(shipped, a.unknown)
        print("\nshapes the network does not know (fraction flagged confident):")
        for name, v in report["unknown_shapes"].items():
            print(f"  {name:20s} {v['confident_fraction']:.2f}  {v['shapes']}")
    save_json(report, a.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
