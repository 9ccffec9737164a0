"""The thesis baseline's sets: thesis Table 3.3 priors, the section 3.2.1 grid and noise,
features as the product computes them. Parallel, seeded, cached outside git.

A set is fully determined by its ``SetSpec``; the cache file name carries a hash of the spec and
of the data-format version, so a changed spec never reads a stale file.
"""

from __future__ import annotations

import hashlib
import json
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass

import numpy as np

from ..features import FEATURES, clean_curve, featurize
from ..training.dataset import cache_dir
from .catalogue import CATALOGUE, PARAMETER_NAMES
from .measurement import CALC_Q, measure, thesis_instrument

FORMAT_VERSION = 4  # 3: dI/I channel in the features; 4: radius pd points that do not alias
#: layout of the stored measured curves (keep_curves sets only): rows q, I, dI, dq (1-σ, 1/Å)
CURVES_VERSION = 3
CHUNK = 250
MAX_POINTS = 400


@dataclass(frozen=True)
class SetSpec:
    """n_per_shape model curves per catalogue shape, each measured ``measurements`` times.

    prior and instrument: "thesis" (Table 3.3 priors; section 3.2.1 grid and noise; the
    fields stay so the cache keys of existing sets do not change); keep_curves stores the
    measured (q, I, dI) too."""

    n_per_shape: int
    prior: str = "broad"
    instrument: str = "broad"
    measurements: int = 1
    seed: int = 0
    keep_curves: bool = False

    def key(self) -> str:
        extra = {"curves": CURVES_VERSION} if self.keep_curves else {}
        text = json.dumps({**asdict(self), **extra, "format": FORMAT_VERSION,
                           "shapes": [e.model_name for e in CATALOGUE]}, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:12]


#: the thesis baseline's sets (seeds differ: never overlap); the names and specs are those of
#: the sets the shipped thesis_inn.pt was trained and tested on
STANDARD_SETS = {
    "train-thesis": SetSpec(5000, prior="thesis", instrument="thesis", seed=201),
    "val-thesis": SetSpec(500, prior="thesis", instrument="thesis", seed=202),
    "test-thesis": SetSpec(1000, prior="thesis", instrument="thesis", seed=203,
                           keep_curves=True),
}


def _chunk(args) -> dict:
    spec, shape_index, chunk_index, n = args
    shape = CATALOGUE[shape_index]
    rng = np.random.default_rng([spec.seed, shape_index, chunk_index])
    values = shape.sample(rng, n, spec.prior)
    m = spec.measurements
    feats = np.zeros((n * m, FEATURES), np.float32)
    params = np.full((n * m, len(PARAMETER_NAMES)), np.nan)
    curves = np.full((n * m, 4, MAX_POINTS), np.nan, np.float32) if spec.keep_curves else None
    row = 0
    for i in range(n):
        one = {p: values[p][i] for p in shape.parameters}
        i_calc = shape.intensity(CALC_Q, one)
        for _ in range(m):
            inst = thesis_instrument()
            q, intensity, sigma = measure(i_calc, inst, rng)
            qc, ic, sc, _ = clean_curve(q, intensity, sigma)
            feats[row], _ = featurize(qc, ic, sc)
            params[row] = [one.get(p, np.nan) for p in PARAMETER_NAMES]
            if curves is not None:
                curves[row, :, :q.size] = (q, intensity, sigma, inst.dq_over_q * q)
            row += 1
    return {"features": feats, "parameters": params, "curves": curves,
            "shape": np.full(n * m, shape_index, np.int64)}


def make_set(spec: SetSpec, workers: int | None = None, progress: bool = True) -> dict:
    """Generate a set (dict of arrays: features, parameters, shape[, curves])."""
    from tqdm import tqdm

    jobs = []
    for s in range(len(CATALOGUE)):
        for c, start in enumerate(range(0, spec.n_per_shape, CHUNK)):
            jobs.append((spec, s, c, min(CHUNK, spec.n_per_shape - start)))
    workers = workers or min(len(jobs), os.cpu_count() or 1)
    parts = []
    with ProcessPoolExecutor(workers) as pool:
        for part in tqdm(pool.map(_chunk, jobs), total=len(jobs), disable=not progress,
                         desc="model curves", unit="chunk"):
            parts.append(part)
    out = {k: np.concatenate([p[k] for p in parts]) for k in ("features", "parameters", "shape")}
    if spec.keep_curves:
        out["curves"] = np.concatenate([p["curves"] for p in parts])
    return out


def load_set(name_or_spec: str | SetSpec, workers: int | None = None, progress: bool = True
             ) -> dict:
    """A standard set by name (or any SetSpec), generated on first use and cached."""
    spec = STANDARD_SETS[name_or_spec] if isinstance(name_or_spec, str) else name_or_spec
    label = name_or_spec if isinstance(name_or_spec, str) else "custom"
    path = cache_dir() / "inverse" / f"{label}-{spec.key()}.npz"
    if path.exists():
        with np.load(path) as f:
            return {k: f[k] for k in f.files}
    data = make_set(spec, workers, progress)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npz")
    np.savez(tmp, **data)
    os.replace(tmp, path)
    return data
