#!/usr/bin/env python
"""A bumps fit with an atomic plugin model (``saxsim make-model STRUCTURE``) recovers the
solvent parameters of curves made by other calculators.

    python benchmarks/atomic_fit.py [--structure 2w0o.pdb] [--noise 0.01]

Two synthetic curves of the same clean structure (``atomic_peers.clean_pdb``), with Gaussian
noise of ``--noise`` × I:

* **direct**: written here without the package's histograms — every atom's Waasmaier-Kirfel
  form factor with its implicit hydrogens (the structure reader's counts, united atoms)
  minus its displaced solvent (Gaussian sphere of its Fraser volume times ρ0),
  hydration sites placed by this script's own grid search (3 Å grid, 3–6 Å from the nearest
  atom) with contrast δρ, and the Debye sum over every pair of scatterers
  (``debye_direct``). Truth: ρ0 = 0.340 e/Å³, δρ = 0.050 e/Å³.
* **DENSS**: ``denss`` PDB2MRC (``run_all``) with rho0 = 0.334 e/Å³ and shell_contrast =
  0.030 e/Å³ and its own implicit hydrogens — its own excluded-volume map (atomic radii on
  a grid) and hydration shell, so the fit can only recover what the two models share.

Each is fitted with the plugin model (solvent_density, hydration_contrast and scale free,
excluded_volume_scale fixed at 1 — and, for DENSS, once free too —, no background), started
at 0.30 / 0.0 with the scale that matches the data's median level; bumps
Levenberg-Marquardt. Prints truth, fit ± σ and the deviation in σ.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from atomic_peers import clean_pdb, example_dir, quiet
from common import machine_description, publish  # benchmarks/ is on sys.path

from sasview_saxsim_plugin.scattering.atomic import (
    FRASER_VOLUMES,
    debye_direct,
    displaced_volume,
    group_form_factor,
    group_name,
)

Q = np.geomspace(0.01, 0.5, 80)


def own_sites(xyz: np.ndarray) -> np.ndarray:
    """Hydration sites by brute force (independent of the package's KD-tree version)."""
    lo = np.floor((xyz.min(0) - 6.0) / 3.0) * 3.0
    hi = xyz.max(0) + 6.0
    grid = np.stack(np.meshgrid(*[np.arange(lo[a], hi[a] + 3.0, 3.0) for a in range(3)],
                                indexing="ij"), -1).reshape(-1, 3)
    nearest = np.full(len(grid), np.inf)
    for i in range(0, len(xyz), 256):
        d = np.sqrt(((grid[:, None, :] - xyz[None, i:i + 256, :]) ** 2).sum(-1))
        nearest = np.minimum(nearest, d.min(1))
    return grid[(nearest >= 3.0) & (nearest < 6.0)]


def direct_curve(s, rho0: float, delta: float) -> np.ndarray:
    def sphere(v):
        return v * np.exp(-Q ** 2 * v ** (2 / 3) / (4 * np.pi))

    kinds = [group_name(str(e), int(n)) for e, n in zip(s.elements, s.hydrogens, strict=True)]
    atoms = np.array([group_form_factor(k, Q) - rho0 * sphere(displaced_volume(k))
                      for k in kinds])
    sites = own_sites(s.xyz)
    waters = np.tile(delta * sphere(27.0), (len(sites), 1))
    return debye_direct(np.concatenate([s.xyz, sites]), np.concatenate([atoms, waters]), Q)


def denss_curve(path: Path, rho0: float, shell: float) -> np.ndarray:
    import denss
    with quiet():
        pdb = denss.PDB(str(path))
        m = denss.PDB2MRC(pdb, explicitH=False, ignore_waters=True, rho0=rho0,
                          shell_contrast=shell, fit_all=False, quiet=True,
                          ignore_warnings=True, logger=logging.getLogger("denss"))
        m.run_all()
        out = denss.regrid_Iq(m.Iq_calc, qc=Q, use_sasrec=False, D=m.D)
    return out[:, 1]


def fit(plugin: Path, intensity: np.ndarray, sigma: np.ndarray,
        free_volume: bool = False) -> tuple[dict, float, float]:
    from bumps.fitters import fit as bumps_fit
    from bumps.names import FitProblem
    from sasmodels.bumps_model import Experiment, Model
    from sasmodels.core import load_model
    from sasmodels.data import Data1D
    from sasmodels.direct_model import call_kernel
    kernel = load_model(str(plugin))
    start = {"solvent_density": 0.30, "hydration_contrast": 0.0, "excluded_volume_scale": 1.0}
    # the scale at the start: the data's own level (electrons² here, 1/cm in the model), as a
    # user matches I(0) before fitting
    first = call_kernel(kernel.make_kernel([Q]), {**start, "scale": 1.0, "background": 0.0})
    scale = float(np.median(intensity / first))
    model = Model(kernel, scale=scale, background=0.0, **start)
    model.solvent_density.range(0.0, 0.6)
    model.hydration_contrast.range(-0.3, 0.3)
    model.scale.range(scale / 100, scale * 100)
    if free_volume:
        model.excluded_volume_scale.range(0.8, 1.2)
    problem = FitProblem(Experiment(data=Data1D(Q, intensity, dy=sigma), model=model))
    t = time.perf_counter()
    result = bumps_fit(problem, method="lm", steps=200, verbose=False)
    seconds = time.perf_counter() - t
    return ({n: (float(v), float(e)) for n, v, e in zip(problem.labels(), result.x, result.dx,
                                                        strict=True)},
            float(problem.chisq()), seconds)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--structure", default="2w0o.pdb")
    ap.add_argument("--noise", type=float, default=0.01, help="relative noise of I")
    ap.add_argument("--seed", type=int, default=5)
    ap.add_argument("--json")
    a = ap.parse_args(argv)
    from sasview_saxsim_plugin.models.atomic_model import make_atomic_model

    rng = np.random.default_rng(a.seed)
    rows, raw = [], {}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "clean.pdb"
        s = clean_pdb(example_dir() / a.structure, path)
        plugin = make_atomic_model(path, "fit_structure", Path(tmp) / "plugins")
        denss_truth = {"solvent_density": 0.334, "hydration_contrast": 0.030}
        cases = [("direct pair sum", {"solvent_density": 0.340, "hydration_contrast": 0.050},
                  lambda: direct_curve(s, 0.340, 0.050), False),
                 ("DENSS PDB2MRC", denss_truth, lambda: denss_curve(path, 0.334, 0.030),
                  False),
                 ("DENSS PDB2MRC, excluded_volume_scale free", denss_truth,
                  lambda: denss_curve(path, 0.334, 0.030), True)]
        for label, truth, make, free_volume in cases:
            t = time.perf_counter()
            try:
                clean = make()
            except Exception as exc:  # noqa: BLE001 (a peer failing is a result)
                rows.append(f"| {label} | failed: {type(exc).__name__}: {exc} | | | |")
                continue
            made = time.perf_counter() - t
            sigma = a.noise * np.abs(clean)
            values, chi2, seconds = fit(plugin, clean + rng.normal(0, sigma), sigma, free_volume)
            raw[label] = {"truth": truth, "fit": values, "chi2": chi2, "fit_s": seconds,
                          "curve_s": made}
            for name in ("solvent_density", "hydration_contrast", "excluded_volume_scale"):
                if name not in values:
                    continue
                v, e = values[name]
                true = truth.get(name)
                rows.append(f"| {label} | {name} | {'–' if true is None else f'{true:g}'} | "
                            f"{v:.4f} ± {e:.2g} | "
                            f"{'–' if true is None else f'{(v - true) / e:+.1f}'} | "
                            f"{chi2:.2f} |")
    head = ["| curve made by | parameter (e/Å³; scale: none) | truth | fit ± σ | deviation / σ "
            "| χ²_r |",
            "|---|---|---|---|---|---|"]
    publish("The atomic model recovers the solvent of other calculators' curves",
            "\n".join(head + rows), machine_description(), raw, a.json,
            note=f" ({len(s)} atoms, {a.noise:.0%} noise, 80 q in 0.01–0.5 1/Å; Fraser volumes "
                 f"for {', '.join(sorted(FRASER_VOLUMES))})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
