#!/usr/bin/env python
"""Error of one voxelised particle against sasmodels in absolute units (scale 1), q =
0.005-0.5 1/Å, 200 log points, and the time it takes: both 1D routes (lattice Debye, shells
of the split FFT), the three voxel corrections, several voxel sizes.

    python benchmarks/single_particle.py

Prints the table (markdown, with the machine and the command; each row also on stderr as it
is done) and writes nothing else unless --json FILE is given (the rows).
"""

import argparse
import sys
import time

import numpy as np
from common import machine_description, publish  # benchmarks/ is on sys.path

from sasview_saxsim_plugin.fft import ShellSums, split_fft
from sasview_saxsim_plugin.geometry import VoxelGrid, add_body, make_body
from sasview_saxsim_plugin.scattering import compare_curves, sasmodels_iq, shell_curve
from sasview_saxsim_plugin.scattering.reference import reference_parameters
from sasview_saxsim_plugin.scattering.shells import bin_like, native_edges
from sasview_saxsim_plugin.simulate.compare import compare_particle

LINES: list[str] = []
ROWS: list[dict] = []


def row(label, m, t):
    """One row of the table (kept, and shown on stderr at once)."""
    LINES.append(f"| {label} | {100 * m['median_rel_error']:.2g} % | "
                 f"{100 * m['p95_rel_error']:.2g} % | {100 * m['max_rel_error']:.2g} % | "
                 f"{t:.2f} |")
    ROWS.append({"case": label, "seconds": t, **{k: m[k] for k in
                                                 ("median_rel_error", "p95_rel_error",
                                                  "max_rel_error")}})
    print(LINES[-1], file=sys.stderr, flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--json", metavar="FILE", help="also save the rows as JSON")
    a = ap.parse_args()
    for d in (1.0, 2.0, None):
        for corr in ("deconvolve", "none", "sinc"):
            if d is None and corr != "deconvolve":
                continue
            t = time.perf_counter()
            c = compare_particle("sphere", {"radius": 50.0}, pd={"radius": 0.1}, spacing=d,
                                 correction=corr)
            label = (f"Debye, sphere R=50 Å pd 0.1, d={c.parameters['spacing_A']:.3g} Å"
                     f"{' (auto)' if d is None else ''}, {corr}")
            row(label, c.metrics, time.perf_counter() - t)
    for shape, dims, pd in (
            ("cylinder", {"radius": 20.0, "length": 400.0}, {}),
            ("cylinder", {"radius": 20.0, "length": 100.0}, {"radius": 0.1, "pd_n": 15}),
            ("ellipsoid", {"radius_polar": 30.0, "radius_equatorial": 60.0}, {}),
            ("core_shell_sphere", {"radius": 40.0, "thickness": 10.0, "sld_core": 1.0,
                                   "sld_shell": 2.0}, {})):
        t = time.perf_counter()
        sld, solvent = (1.0, 0.0) if shape != "core_shell_sphere" else (0.0, 0.5)
        c = compare_particle(shape, dims, pd=pd, sld=sld, sld_solvent=solvent)
        row(f"Debye, {shape} {dims} pd {pd}, d={c.parameters['spacing_A']:.3g} Å (auto)",
            c.metrics, time.perf_counter() - t)
    # shell route: one monodisperse sphere in a periodic box, normalised by its volume
    for n, box in ((256, 512.0), (384, 512.0)):
        t = time.perf_counter()
        grid = VoxelGrid.from_box(box, n)
        dens = grid.allocate(np.float64)
        add_body(dens, make_body("sphere", radius=50.0, sld=1.0, sld_solvent=0.0))
        res = split_fft(dens, {"s": ShellSums()}, voxel_correction="deconvolve")
        vp = 4 / 3 * np.pi * 50.0 ** 3
        curve = shell_curve(res.results["s"], box, grid.spacing, native_edges(box, 0.5),
                            volume=vp)
        model, pars = reference_parameters("sphere", {"radius": 50.0}, {}, 1.0, 0.0)
        ref = bin_like(curve, lambda q, m=model, p=pars: sasmodels_iq(m, q, p))
        keep = (curve.q >= 0.005) & (curve.q <= 0.5)
        m = compare_curves(curve.select(keep), ref[keep])
        row(f"shells (split FFT), sphere R=50 Å monodisperse, box {box:g} Å, n={n}, "
            f"d={grid.spacing:.3g} Å", m, time.perf_counter() - t)
    table = ["| case | median \\|ΔI\\|/I | p95 | max | seconds |", "|---|---|---|---|---|"]
    publish("One particle vs sasmodels", "\n".join(table + LINES), machine_description(),
            ROWS, a.json)


if __name__ == "__main__":
    main()
