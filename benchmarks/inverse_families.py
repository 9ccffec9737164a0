"""The family estimate on two generators: the held-out "test" set of the training simulator and
curves of the independent generator (``foreign_curves.py``: sasmodels' DirectModel, its
resolution classes, Poisson counts with an imperfect background subtraction, other priors),
plus curves of models outside the catalogue. Everything goes through ``estimate(q, I, dI)``
exactly as a user calls it.

Figures per generator: top-1 accuracy, top-3 accuracy, recall per family, expected calibration
error of the top probability (15 bins) and its reliability by probability band, median error
(relative for lengths, |Δ| for polydispersities, contrasts, dimensions and volume fractions)
and 68 % interval coverage per family and parameter (curves whose top family is right),
confident rate and precision, unknown models called confident (by kind).

    python benchmarks/inverse_families.py --foreign 50 --own 200 --unknown 100 --seed 7 8 9 10
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np
from common import machine_description, publish

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def _foreign_job(args):
    import foreign_curves as fc

    seed, family, n = args
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        curve = fc.draw_curve(rng, family) if family else fc.draw_unknown(rng)
        out.append(curve)
    return out


def foreign_set(per_family: int, unknown: int, seed: int, workers: int) -> list:
    """The independent generator's curves, made once per (size, seed) and kept in the cache
    folder (``SAXSIM_CACHE`` or ~/.cache/saxsim; sasmodels' cylinder with two polydispersities
    takes seconds per curve)."""
    import hashlib
    import pickle
    from pathlib import Path

    import foreign_curves as fc

    source = Path(fc.__file__).read_bytes()
    tag = hashlib.sha256(source + repr((per_family, unknown, seed)).encode()).hexdigest()[:12]
    path = Path(os.environ.get("SAXSIM_CACHE", Path.home() / ".cache" / "saxsim")) / (
        f"foreign/curves-{tag}.pkl")
    if path.exists():
        return pickle.loads(path.read_bytes())
    jobs = [(seed * 1000 + i, f, per_family) for i, f in enumerate(fc.FAMILY_DRAWS)]
    jobs += [(seed * 1000 + 999, None, unknown)] if unknown else []
    with ProcessPoolExecutor(workers) as pool:
        curves = [c for part in pool.map(_foreign_job, jobs) for c in part]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pickle.dumps(curves))
    return curves


def own_set(per_family: int) -> list:
    from sasview_saxsim_plugin.inverse.families import FAMILY_NAMES, as_dict
    from sasview_saxsim_plugin.inverse.training.dataset import ACQUISITION_COLUMNS, load_set

    data = load_set("test")
    slit_column = ACQUISITION_COLUMNS.index("slit_length")
    out = []
    for k, name in enumerate(FAMILY_NAMES):
        for i in np.flatnonzero(data["family"] == k)[:per_family]:
            q, intensity, sigma, dq = data["curves"][i].astype(float)
            ok = np.isfinite(q)
            slit = float(data["acquisition"][i, slit_column])
            out.append({"q": q[ok], "I": intensity[ok], "dI": sigma[ok], "q_unit": "1/A",
                        "dq": dq[ok] if np.any(dq[ok] > 0) else None,
                        "slit_length": slit if slit > 0 else None,
                        "family": name, "truth": as_dict(name, data["parameters"][i]),
                        "instrument": "own"})
    return out


def _estimate_job(args):
    from sasview_saxsim_plugin.errors import SaxsimInputError
    from sasview_saxsim_plugin.inverse.estimate import estimate

    curves, weights = args
    rows = []
    for c in curves:
        try:
            r = estimate(c["q"], c["I"], c["dI"], q_unit=c.get("q_unit", "1/A"),
                         weights=weights, dq=c.get("dq"), slit_length=c.get("slit_length"))
        except SaxsimInputError as exc:
            rows.append({"error": str(exc)})
            continue
        rows.append({"top": r.model_name, "p": r.probabilities[r.model_name],
                     "ranked": [x.model_name for x in r.ranked],
                     "probabilities": r.probabilities, "confident": r.confident,
                     "parameters": r.parameters, "seconds": r.seconds})
    return rows


def run_estimates(curves: list, weights: str | None, workers: int) -> list:
    chunks = [curves[i::workers] for i in range(workers)]
    with ProcessPoolExecutor(workers) as pool:
        parts = list(pool.map(_estimate_job, [(c, weights) for c in chunks]))
    out = [None] * len(curves)
    for w, part in enumerate(parts):
        for j, row in enumerate(part):
            out[w + j * workers] = row
    return out


def ece(p: np.ndarray, right: np.ndarray, bins: int = 15) -> float:
    edges = np.linspace(0, 1, bins + 1)
    total = 0.0
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        sel = (p > lo) & (p <= hi)
        if sel.any():
            total += sel.mean() * abs(p[sel].mean() - right[sel].mean())
    return float(total)


def figures(curves: list, rows: list) -> dict:
    import foreign_curves as fc

    known = [(c, r) for c, r in zip(curves, rows, strict=True)
             if c["family"] is not None and "error" not in r]
    refused = sum("error" in r for r in rows)
    truth = np.array([c["family"] for c, _ in known])
    top = np.array([r["top"] for _, r in known])
    p = np.array([r["p"] for _, r in known])
    right = truth == top
    top3 = np.array([c["family"] in r["ranked"][:3] for c, r in known])
    confident = np.array([r["confident"] for _, r in known])
    recall = {f: float(right[truth == f].mean()) for f in dict.fromkeys(truth)}
    from sasview_saxsim_plugin.inverse.families import family

    coverage, errors = {}, {}
    for c, r in known:
        if c["family"] != r["top"]:
            continue
        t = fc.truth_in_catalogue_terms(c["family"], c["truth"])
        log = {p.name: p.log for p in family(c["family"]).parameters}
        for name, (median, lo, hi) in r["parameters"].items():
            if name in t:
                coverage.setdefault((c["family"], name), []).append(lo <= t[name] <= hi)
                errors.setdefault((c["family"], name), []).append(
                    abs(median / t[name] - 1) if log.get(name) else abs(median - t[name]))
    by_instrument = {}
    for (c, _), ok in zip(known, right, strict=True):
        by_instrument.setdefault(c.get("instrument", "own"), []).append(ok)
    by_background = {}
    for (c, _), ok in zip(known, right, strict=True):
        level = c.get("incoherent")
        if level is None:
            continue
        label = ("< 1e-3" if level < 1e-3 else "1e-3 – 1e-2" if level < 1e-2
                 else "1e-2 – 1e-1" if level < 0.1 else "≥ 0.1")
        by_background.setdefault(label, []).append(ok)
    unknown = [r for c, r in zip(curves, rows, strict=True)
               if c["family"] is None and "error" not in r]
    reliability = {}
    for lo, hi in ((0.0, 0.5), (0.5, 0.7), (0.7, 0.9), (0.9, 0.99), (0.99, 1.01)):
        sel = (p >= lo) & (p < hi)
        if sel.any():
            reliability[f"{lo:g}-{min(hi, 1):g}"] = (float(p[sel].mean()),
                                                    float(right[sel].mean()), int(sel.sum()))
    return {"n": len(known), "refused": refused, "accuracy": float(right.mean()),
            "reliability": reliability,
            "top3": float(top3.mean()), "ece": ece(p, right),
            "confident_rate": float(confident.mean()),
            "confident_precision": float(right[confident].mean()) if confident.any() else None,
            "recall": recall,
            "coverage": {f"{k[0]}:{k[1]}": (float(np.mean(v)), len(v))
                         for k, v in coverage.items()},
            "median_error": {f"{k[0]}:{k[1]}": float(np.median(v)) for k, v in errors.items()},
            "accuracy_by_instrument": {k: (float(np.mean(v)), len(v))
                                       for k, v in by_instrument.items()},
            "accuracy_by_background": {k: (float(np.mean(v)), len(v))
                                       for k, v in by_background.items()},
            "unknown_n": len(unknown),
            "unknown_confident_by_kind": {
                kind: [sum(r["confident"] for c, r in zip(curves, rows, strict=True)
                           if c.get("unknown") == kind and "error" not in r),
                       sum(c.get("unknown") == kind for c in curves)]
                for kind in sorted({c["unknown"] for c in curves if c.get("unknown")})},
            "unknown_confident": float(np.mean([r["confident"] for r in unknown]))
            if unknown else None}


def _error_text(key: str, value: float) -> str:
    from sasview_saxsim_plugin.inverse.families import family

    name, parameter = key.split(":")
    log = {p.name: p.log for p in family(name).parameters}[parameter]
    return f"{100 * value:.1f} %" if log else f"|Δ| {value:.3f}"


def table(results: dict) -> str:
    names = list(results)
    lines = ["| figure | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]

    def row(label, fmt):
        lines.append(f"| {label} | " + " | ".join(fmt(results[n]) for n in names) + " |")

    row("curves (refused)", lambda r: f"{r['n']} ({r['refused']})")
    row("top-1 accuracy", lambda r: f"{100 * r['accuracy']:.1f} %")
    row("top-3 accuracy", lambda r: f"{100 * r['top3']:.1f} %")
    row("ECE of the top probability", lambda r: f"{r['ece']:.3f}")
    row("confident: rate / right", lambda r: f"{100 * r['confident_rate']:.1f} % / " + (
        "–" if r["confident_precision"] is None else f"{100 * r['confident_precision']:.1f} %"))
    row("unknown models called confident", lambda r: "–" if r["unknown_confident"] is None
        else f"{100 * r['unknown_confident']:.1f} % of {r['unknown_n']}")
    kinds = sorted({k for r in results.values() for k in r.get("unknown_confident_by_kind", {})})
    for k in kinds:
        row(f"unknown {k}: confident / curves", lambda r, k=k: "–" if k not in r.get(
            "unknown_confident_by_kind", {}) else "{} / {}".format(
            *r["unknown_confident_by_kind"][k]))
    bins = sorted({b for r in results.values() for b in r["reliability"]}, key=lambda b: float(
        b.split("-")[0]))
    for b in bins:
        row(f"top probability {b}: mean P / right (curves)", lambda r, b=b: "–" if b not in
            r["reliability"] else "{:.2f} / {:.2f} ({})".format(*r["reliability"][b]))
    families = sorted({f for r in results.values() for f in r["recall"]})
    for f in families:
        row(f"recall {f}", lambda r, f=f: f"{100 * r['recall'].get(f, float('nan')):.0f} %")
    for key, label in (("accuracy_by_instrument", "accuracy, instrument"),
                       ("accuracy_by_background", "accuracy, flat background / I(q_min)")):
        groups = sorted({g for r in results.values() for g in r[key]})
        for g in groups:
            row(f"{label} {g}", lambda r, g=g, key=key: "–" if g not in r[key] else
                f"{100 * r[key][g][0]:.0f} % ({r[key][g][1]})")
    keys = sorted({k for r in results.values() for k in r["coverage"]})
    for k in keys:
        row(f"{k}: median error / 68 % coverage (curves)", lambda r, k=k: "–" if k not in
            r["coverage"] else f"{_error_text(k, r['median_error'][k])} / "
            f"{r['coverage'][k][0]:.2f} ({r['coverage'][k][1]})")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--foreign", type=int, default=50, help="independent curves per family")
    ap.add_argument("--own", type=int, default=50, help="own test-set curves per family")
    ap.add_argument("--unknown", type=int, default=100, help="curves of unknown models")
    ap.add_argument("--seed", type=int, nargs="+", default=[7],
                    help="seeds of the independent curves (each adds --foreign per family and "
                         "--unknown curves; one cache file per seed)")
    ap.add_argument("--weights", default=None)
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--json", default=None)
    a = ap.parse_args()
    start = time.time()
    foreign = [c for seed in a.seed for c in foreign_set(a.foreign, a.unknown, seed, a.workers)]
    print(f"independent curves made in {time.time() - start:.0f} s", file=sys.stderr)
    own = own_set(a.own)
    results = {}
    for label, curves in (("own simulator (test)", own), ("independent generator", foreign)):
        rows = run_estimates(curves, a.weights, a.workers)
        results[label] = figures(curves, rows)
    publish("Family estimate on two generators", table(results), machine_description(),
            raw=results, json_out=a.json)


if __name__ == "__main__":
    main()
