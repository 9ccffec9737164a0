#!/usr/bin/env python
"""Plugin models built from shape definitions (``saxsim make-model --shape``): agreement
with an independent reference, and cost per call.

    python benchmarks/built_models.py                      # every shipped definition
    python benchmarks/built_models.py --shapes barbell torus --mc-points 20000

* Definitions with a sasmodels closed form (barbell, capped_cylinder, superball,
  hollow_rectangular_prism, truncated_octahedron, tetrahedron, core_shell_bicelle,
  linear_pearls): the built plugin model through sasmodels' kernel against the analytical
  model in absolute units (scale 1, same parameters), 200 log-spaced q in 0.005–0.5 1/Å,
  without and with Gaussian polydispersity 0.1 (35 points) on the scale length (where the
  sasmodels model allows one there).
* Definitions without one (torus, helix): against a Monte Carlo Debye sum written here,
  independently of the package (its own inside tests, uniform random points, the pair
  sum over all pairs i ≠ j, normalised to P(0) = 1, times the model's own forward
  intensity), with its standard error from independent repeats: the table gives the
  median |ΔI|/I where the Monte Carlo error is below 1 % and the share of points within
  2 standard errors.
* Cost: the first call on an empty cache (cold) and the median of 5 cached calls (warm).

Prints the tables (markdown, with the machine and the command; rows also on stderr as they
are done) and writes nothing else unless --json FILE is given.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time

import numpy as np
from common import machine_description, publish  # benchmarks/ is on sys.path
from sasmodels.core import load_model
from sasmodels.direct_model import call_kernel

from sasview_saxsim_plugin.models.definition_model import make_definition_model
from sasview_saxsim_plugin.models.engine import MODEL
from sasview_saxsim_plugin.shapes import library_names, load_definition

Q = np.geomspace(0.005, 0.5, 200)


def progress(line: str) -> str:
    print(line, file=sys.stderr, flush=True)
    return line


def timed_call(kernel, pars: dict) -> tuple[np.ndarray, float]:
    t = time.perf_counter()
    out = np.asarray(call_kernel(kernel, pars))
    return out, time.perf_counter() - t


def closed_form_rows(shape: str, folder: str, pd_n: int) -> list[dict]:
    spec = load_definition(shape)
    model = load_model(str(make_definition_model(shape, out_dir=folder, overwrite=True)))
    reference = load_model(spec.sasmodels_name)
    pars = {**spec.defaults(), **spec.checks[0], "scale": 1.0, "background": 0.0}
    rows = []
    ref_pars = reference.info.parameters
    can_pd = (spec.lengths[0] in {p.name for p in ref_pars.kernel_parameters}
              and ref_pars[spec.lengths[0]].polydisperse)
    for pd in ((0.0, 0.1) if can_pd else (0.0,)):
        p = dict(pars)
        if pd:
            p.update({f"{spec.lengths[0]}_pd": pd, f"{spec.lengths[0]}_pd_n": pd_n})
        kernel = model.make_kernel([Q])
        ref_kernel = reference.make_kernel([Q])
        MODEL.cache.clear()
        numerical, cold = timed_call(kernel, p)
        warm = float(np.median([timed_call(kernel, p)[1] for _ in range(5)]))
        analytic, _ = timed_call(ref_kernel, p)
        analytic_s = float(np.median([timed_call(ref_kernel, p)[1] for _ in range(3)]))
        rel = np.abs(numerical / analytic - 1)
        row = dict(shape=shape, counterpart=spec.sasmodels_name, pd=pd,
                   pd_on=spec.lengths[0], median=float(np.median(rel)),
                   p95=float(np.percentile(rel, 95)), max=float(rel.max()), cold_s=cold,
                   warm_ms=1e3 * warm, analytic_ms=1e3 * analytic_s,
                   parameters={k: v for k, v in spec.checks[0].items()})
        progress(f"{shape} pd {pd}: median {100 * row['median']:.3g} %, p95 "
                 f"{100 * row['p95']:.3g} %, cold {cold:.1f} s, warm {1e3 * warm:.2f} ms")
        rows.append(row)
        kernel.release()
        ref_kernel.release()
    return rows


# --- independent Monte Carlo Debye reference -----------------------------------------------

def inside_torus(p: np.ndarray, radius_ring: float, radius_tube: float) -> np.ndarray:
    rho = np.hypot(p[:, 0], p[:, 1])
    return (rho - radius_ring) ** 2 + p[:, 2] ** 2 <= radius_tube ** 2


def inside_helix(p: np.ndarray, radius: float, pitch: float, radius_tube: float,
                 turns: float) -> np.ndarray:
    # brute force: distance to 4000 points per turn of the centre line (independent of the
    # package's Newton iteration), ends closed by the hemispheres of the first/last point
    t = np.linspace(-np.pi * turns, np.pi * turns, int(4000 * turns) + 1)
    line = np.stack([radius * np.cos(t), radius * np.sin(t), pitch * t / (2 * np.pi)], 1)
    from scipy.spatial import cKDTree
    dist, _ = cKDTree(line).query(p)
    return dist <= radius_tube


MC_SHAPES = {
    "torus": (inside_torus, {"radius_ring": 100.0, "radius_tube": 25.0},
              lambda v: np.array([v["radius_ring"] + v["radius_tube"]] * 2
                                 + [v["radius_tube"]])),
    "helix": (inside_helix, {"radius": 50.0, "pitch": 120.0, "radius_tube": 12.0,
                             "turns": 3.0},
              lambda v: np.array([v["radius"] + v["radius_tube"]] * 2
                                 + [v["pitch"] * v["turns"] / 2 + v["radius_tube"]])),
}


def mc_form_factor(inside, values: dict, half: np.ndarray, q: np.ndarray, points: int,
                   rng) -> np.ndarray:
    """P(q) (P(0) = 1) from ``points`` uniform random points inside the shape: the Debye
    sum over the pairs i ≠ j, by a histogram of pair distances (bins of 0.02 Å)."""
    found = []
    while sum(len(f) for f in found) < points:
        p = rng.uniform(-half, half, size=(4 * points, 3))
        found.append(p[inside(p, **values)])
    p = np.concatenate(found)[:points]
    r_max = 2 * np.linalg.norm(half)
    bins = np.arange(0.0, r_max + 0.04, 0.02)
    hist = np.zeros(len(bins) - 1)
    for i in range(0, points - 1, 500):
        block = p[i:i + 500]
        rest = p[i + 1:]
        d = np.sqrt(((block[:, None, :] - rest[None, :, :]) ** 2).sum(-1))
        # keep pairs (i, j) with j > i only
        mask = np.arange(len(rest))[None, :] >= np.arange(len(block))[:, None]
        hist += np.histogram(d[mask], bins)[0]
    r = 0.5 * (bins[1:] + bins[:-1])
    return (np.sinc(np.outer(q, r) / np.pi) @ hist) / hist.sum()


def monte_carlo_rows(shape: str, folder: str, points: int, repeats: int, seed: int) -> dict:
    spec = load_definition(shape)
    inside, values, half_of = MC_SHAPES[shape]
    model = load_model(str(make_definition_model(shape, out_dir=folder, overwrite=True)))
    pars = {**spec.defaults(), **values, "scale": 1.0, "background": 0.0}
    kernel = model.make_kernel([Q])
    MODEL.cache.clear()
    numerical, cold = timed_call(kernel, pars)
    warm = float(np.median([timed_call(kernel, pars)[1] for _ in range(5)]))
    kernel.release()
    rng = np.random.default_rng(seed)
    t = time.perf_counter()
    runs = np.array([mc_form_factor(inside, values, half_of(values), Q, points, rng)
                     for _ in range(repeats)])
    mc_s = time.perf_counter() - t
    form = runs.mean(0)
    error = runs.std(0, ddof=1) / np.sqrt(repeats)
    # the numerical model's own I(0) sets the scale: the MC reference checks the shape of I(q)
    i0 = float(numerical[0] / form[0])
    reference, sigma = i0 * form, i0 * error
    rel_err = sigma / np.abs(reference)
    good = rel_err < 0.01
    rel = np.abs(numerical / reference - 1)
    z = np.abs(numerical - reference) / sigma
    row = dict(shape=shape, parameters=values, points=points, repeats=repeats,
               q_max_mc_1pct=float(Q[good].max()) if good.any() else 0.0,
               median_where_mc_1pct=float(np.median(rel[good])) if good.any() else None,
               within_2sigma=float(np.mean(z <= 2)), cold_s=cold, warm_ms=1e3 * warm,
               mc_seconds=mc_s)
    progress(f"{shape}: MC error < 1 % up to q = {row['q_max_mc_1pct']:.3g} 1/Å, median "
             f"{100 * (row['median_where_mc_1pct'] or 0):.3g} % there, within 2σ "
             f"{100 * row['within_2sigma']:.0f} %, cold {cold:.1f} s, warm {1e3 * warm:.2f} ms")
    return row


def tables(closed: list[dict], mc: list[dict]) -> str:
    out = ["| built model | vs sasmodels | pd (35 pts) | median \\|ΔI\\|/I | p95 | max | cold s "
           "| warm ms | analytic ms |", "|---|---|---|---|---|---|---|---|---|"]
    for r in closed:
        out.append(f"| numerical_{r['shape']} | {r['counterpart']} | "
                   f"{r['pd']:g} on {r['pd_on']} | {100 * r['median']:.3g} % | "
                   f"{100 * r['p95']:.3g} % | {100 * r['max']:.3g} % | {r['cold_s']:.1f} | "
                   f"{r['warm_ms']:.2f} | {r['analytic_ms']:.2f} |")
    if mc:
        out += ["", "| built model | parameters | MC points × repeats | q where MC error < 1 % "
                "| median \\|ΔI\\|/I there | within 2 σ (all q) | cold s | warm ms |",
                "|---|---|---|---|---|---|---|---|"]
        for r in mc:
            pars = ", ".join(f"{k} {v:g}" for k, v in r["parameters"].items())
            out.append(f"| numerical_{r['shape']} | {pars} | {r['points']} × {r['repeats']} | "
                       f"≤ {r['q_max_mc_1pct']:.3g} | "
                       f"{100 * (r['median_where_mc_1pct'] or 0):.3g} %"
                       f" | {100 * r['within_2sigma']:.0f} % | {r['cold_s']:.1f} | "
                       f"{r['warm_ms']:.2f} |")
    return "\n".join(out)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shapes", nargs="+", help="definitions to measure (default: all shipped "
                                                "ones with a reference)")
    ap.add_argument("--pd-n", type=int, default=35)
    ap.add_argument("--mc-points", type=int, default=20000)
    ap.add_argument("--mc-repeats", type=int, default=6)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json")
    a = ap.parse_args(argv)
    shapes = a.shapes or [s for s in library_names()
                          if load_definition(s).sasmodels_name or s in MC_SHAPES]
    closed, mc = [], []
    with tempfile.TemporaryDirectory() as folder:
        for shape in shapes:
            spec = load_definition(shape)
            if spec.sasmodels_name:
                closed += closed_form_rows(shape, folder, a.pd_n)
            elif shape in MC_SHAPES:
                mc.append(monte_carlo_rows(shape, folder, a.mc_points, a.mc_repeats, a.seed))
            else:
                progress(f"{shape}: no reference (neither a closed form nor a Monte Carlo "
                         "inside test here); skipped")
    publish("Models built from shape definitions", tables(closed, mc), machine_description(),
            {"closed_form": closed, "monte_carlo": mc}, a.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
