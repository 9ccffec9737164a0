"""Training and test sets of the family catalogue, in two cached stages.

1. **Model curves** (``ModelSpec``): parameters drawn from each family's priors and I(q) on
   ``acquisition.CALC_Q`` from sasmodels (or a family's tested fast kernel). The expensive part,
   computed once.
2. **Measurements** (``SetSpec``): each model curve measured ``measurements`` times by random
   acquisitions (``acquisition.draw_acquisition``) and turned into network features. Cheap, so a
   changed acquisition prior re-measures the stored model curves instead of recomputing them.

Both stages are seeded, parallel over chunks, and cached under ``cache_dir()/families`` with a
hash of their spec, of the family table and of the data-format version in the file name: a
changed spec or catalogue never reads a stale file.
"""

from __future__ import annotations

import hashlib
import json
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from ..families import FAMILIES, MAX_PARAMETERS, catalogue_key, to_vector
from ..features import FEATURES, MIN_BINS, MIN_POINTS, clean_curve, featurize
from .acquisition import CALC_Q, NOISE_MODELS, RESOLUTIONS, draw_acquisition, measure

FORMAT_VERSION = 5
CHUNK = 250
#: stored measured curves (keep_curves sets): rows q, I, dI, dq (1-σ, 1/Å; 0 without pinhole)
MAX_POINTS = 1000
#: columns of the per-row acquisition summary stored with every set (for per-condition figures)
ACQUISITION_COLUMNS = ("q_min", "q_max", "n_points", "log_spacing", "resolution", "dq_over_q",
                       "slit_length", "background", "subtracted", "residual", "noise",
                       "error_scale", "negative_points")


def cache_dir() -> Path:
    """``$SAXSIM_CACHE`` or ``~/.cache/saxsim``: generated data never goes into the repository."""
    return Path(os.environ.get("SAXSIM_CACHE", Path.home() / ".cache" / "saxsim"))


@dataclass(frozen=True)
class ModelSpec:
    """``n_per_family`` model curves of every family, drawn with ``seed``."""

    n_per_family: int
    seed: int

    def key(self) -> str:
        text = json.dumps({**asdict(self), "format": FORMAT_VERSION,
                           "catalogue": catalogue_key(),
                           "calc_q": [float(CALC_Q[0]), float(CALC_Q[-1]), CALC_Q.size]},
                          sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:12]


@dataclass(frozen=True)
class SetSpec:
    """The model curves of ``models``, each measured ``measurements`` times with ``seed``;
    ``keep_curves`` stores the measured (q, I, dI, dq) too (test sets)."""

    models: ModelSpec
    measurements: int = 1
    seed: int = 0
    keep_curves: bool = False

    def key(self) -> str:
        text = json.dumps({**asdict(self), "models": self.models.key(),
                           "format": FORMAT_VERSION}, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:12]


#: the named sets of ``saxsim make-training-set`` / ``train`` / the evaluation (seeds differ)
MODEL_SETS = {
    "train": ModelSpec(16000, seed=501),
    "val": ModelSpec(400, seed=502),
    "calib": ModelSpec(400, seed=504),
    "test": ModelSpec(500, seed=503),
}
STANDARD_SETS = {
    "train": SetSpec(MODEL_SETS["train"], measurements=3, seed=511),
    "val": SetSpec(MODEL_SETS["val"], measurements=1, seed=512),
    "calib": SetSpec(MODEL_SETS["calib"], measurements=1, seed=514, keep_curves=True),
    "test": SetSpec(MODEL_SETS["test"], measurements=1, seed=513, keep_curves=True),
}


def _model_chunk(args) -> dict:
    spec, k, chunk_index, n = args
    fam = FAMILIES[k]
    rng = np.random.default_rng([spec.seed, k, chunk_index])
    curves = np.zeros((n, CALC_Q.size), np.float32)
    params = np.full((n, MAX_PARAMETERS), np.nan)
    row = 0
    while row < n:
        values = fam.sample(rng, n - row)
        for i in range(n - row):
            one = {p: float(values[p][i]) for p in fam.parameter_names}
            with np.errstate(all="ignore"):
                i_calc = fam.intensity(CALC_Q, one)
            if not (np.all(np.isfinite(i_calc)) and np.all(i_calc > 0)):
                continue  # e.g. an exact zero of a monodisperse form factor: draw again
            curves[row], params[row] = i_calc, to_vector(fam.name, one)
            row += 1
    return {"curves": curves, "parameters": params, "family": np.full(n, k, np.int64)}


def _jobs(n_per_family: int, payload) -> list:
    return [(payload, k, c, min(CHUNK, n_per_family - start))
            for k in range(len(FAMILIES))
            for c, start in enumerate(range(0, n_per_family, CHUNK))]


def _run(function, jobs: list, workers: int | None, progress: bool, desc: str) -> list:
    from tqdm import tqdm

    workers = workers or min(len(jobs), os.cpu_count() or 1)
    if workers == 1:
        return [function(j) for j in tqdm(jobs, disable=not progress, desc=desc, unit="chunk")]
    with ProcessPoolExecutor(workers) as pool:
        return list(tqdm(pool.map(function, jobs), total=len(jobs), disable=not progress,
                         desc=desc, unit="chunk"))


def _cached(path: Path, make) -> dict:
    if path.exists():
        with np.load(path) as f:
            return {k: f[k] for k in f.files}
    data = make()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npz")
    np.savez(tmp, **data)
    os.replace(tmp, path)
    return data


def load_model_curves(name_or_spec: str | ModelSpec, workers: int | None = None,
                      progress: bool = True) -> dict:
    """Model curves (curves on CALC_Q, parameters, family), generated on first use, cached."""
    spec = MODEL_SETS[name_or_spec] if isinstance(name_or_spec, str) else name_or_spec
    label = name_or_spec if isinstance(name_or_spec, str) else "custom"
    path = cache_dir() / "families" / f"models-{label}-{spec.key()}.npz"

    def make():
        parts = _run(_model_chunk, _jobs(spec.n_per_family, spec), workers, progress,
                     f"model curves ({label})")
        return {k: np.concatenate([p[k] for p in parts])
                for k in ("curves", "parameters", "family")}

    return _cached(path, make)


def acquisition_row(acq, negative_points: int) -> list:
    return [acq.q_min, acq.q_max, acq.n_points, acq.log_spacing,
            RESOLUTIONS.index(acq.resolution), acq.dq_over_q, acq.slit_length,
            acq.background, acq.subtracted, acq.residual, NOISE_MODELS.index(acq.noise),
            acq.error_scale, negative_points]


def _measure_chunk(args) -> dict:
    spec, curves, params, family, chunk_index = args
    rng = np.random.default_rng([spec.seed, chunk_index])
    n, m = len(curves), spec.measurements
    feats = np.zeros((n * m, FEATURES), np.float32)
    meta = np.zeros((n * m, len(ACQUISITION_COLUMNS)))
    kept = np.full((n * m, 4, MAX_POINTS), np.nan, np.float32) if spec.keep_curves else None
    row = 0
    for i in range(n):
        for _ in range(m):
            for _attempt in range(1000):
                acq = draw_acquisition(rng)
                q, intensity, sigma = measure(curves[i].astype(float), acq, rng)
                if np.sum(intensity > 0) < MIN_POINTS:
                    continue
                qc, ic, sc, _ = clean_curve(q, intensity, sigma)
                x, n_valid = featurize(qc, ic, sc)
                if n_valid >= MIN_BINS:
                    break
            else:  # never seen: a curve no acquisition can record usefully
                raise RuntimeError(f"no usable acquisition of model curve {i} in 1000 draws")
            feats[row] = x
            meta[row] = acquisition_row(acq, int(np.sum(intensity <= 0)))
            if kept is not None:
                kept[row, :, :q.size] = (q, intensity, sigma, acq.dq_over_q * q)
            row += 1
    out = {"features": feats, "acquisition": meta,
           "parameters": np.repeat(params, m, axis=0), "family": np.repeat(family, m)}
    if kept is not None:
        out["curves"] = kept
    return out


def load_set(name_or_spec: str | SetSpec, workers: int | None = None, progress: bool = True
             ) -> dict:
    """Measured set (features, parameters, family, acquisition[, curves]) by name or spec,
    generated on first use (model curves first, if not cached) and cached."""
    spec = STANDARD_SETS[name_or_spec] if isinstance(name_or_spec, str) else name_or_spec
    label = name_or_spec if isinstance(name_or_spec, str) else "custom"
    path = cache_dir() / "families" / f"set-{label}-{spec.key()}.npz"

    def make():
        models = load_model_curves(label if isinstance(name_or_spec, str) else spec.models,
                                   workers, progress)
        jobs = [(spec, models["curves"][s:s + CHUNK], models["parameters"][s:s + CHUNK],
                 models["family"][s:s + CHUNK], c)
                for c, s in enumerate(range(0, len(models["curves"]), CHUNK))]
        parts = _run(_measure_chunk, jobs, workers, progress, f"measurements ({label})")
        keys = ["features", "parameters", "family", "acquisition"]
        keys += ["curves"] if spec.keep_curves else []
        return {k: np.concatenate([p[k] for p in parts]) for k in keys}

    return _cached(path, make)
