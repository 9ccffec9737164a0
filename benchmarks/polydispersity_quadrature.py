"""Polydispersity quadrature of the catalogue curves against dense references (docs/inverse.md,
"Polydispersity quadrature").

    python benchmarks/polydispersity_quadrature.py [--no-append]

Large polydisperse spheres (sasmodels ``sphere``) up to q = 0.6 1/Å: largest relative deviation
from 1 201 Gaussian points of the catalogue's curve (``catalogue.polydispersity_points``) and
of sasmodels' default 35 points; then 30 broad-prior cylinders on 100 points up to 0.4 1/Å
against 801 points for both distributions, with the time per curve on one core.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time

import numpy as np

from sasview_saxsim_plugin.inverse.catalogue import MIN_PD_POINTS, entry, sasmodels_intensity
from sasview_saxsim_plugin.inverse.cylinder_table import cylinder_iq

SPHERES = ((450.0, 0.25), (300.0, 0.25), (100.0, 0.3), (500.0, 0.3))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--no-append", action="store_true")
    a = ap.parse_args(argv)
    lines = ["| curve | points | catalogue: max deviation | 35 points: max deviation |",
             "|---|---|---|---|"]
    q = np.geomspace(0.005, 0.6, 300)
    sphere = entry("sphere")
    for radius, pd in SPHERES:
        values = {"radius": radius, "radius_pd": pd}
        dense = sasmodels_intensity("sphere", q, sphere.sasmodels_parameters(values, pd_n=1201))
        ours = sphere.intensity(q, values)
        default = sasmodels_intensity("sphere", q, sphere.sasmodels_parameters(
            values, pd_n=MIN_PD_POINTS))
        n = sphere.sasmodels_parameters(values, q_max=float(q.max()))["radius_pd_n"]
        lines.append(f"| sphere R {radius:g} Å, pd {pd:g}, q ≤ 0.6 | {n} | "
                     f"{100 * np.max(np.abs(ours / dense - 1)):.2f} % | "
                     f"{100 * np.max(np.abs(default / dense - 1)):.0f} % |")
    rng = np.random.default_rng(0)
    q = np.geomspace(0.005, 0.4, 100)
    ours_t, default_t, errors = [], [], []
    for _ in range(30):
        radius = float(np.exp(rng.uniform(np.log(10), np.log(500))))
        length = float(np.exp(rng.uniform(np.log(40), np.log(4000))))
        radius_pd, length_pd = rng.uniform(0, 0.3, 2)
        t = time.perf_counter()
        ours = cylinder_iq(q, radius, length, radius_pd, length_pd)
        ours_t.append(time.perf_counter() - t)
        t = time.perf_counter()
        default = cylinder_iq(q, radius, length, radius_pd, length_pd, pd_n=MIN_PD_POINTS)
        default_t.append(time.perf_counter() - t)
        dense = cylinder_iq(q, radius, length, radius_pd, length_pd, pd_n=801)
        errors.append((np.max(np.abs(ours / dense - 1)), np.max(np.abs(default / dense - 1))))
    errors = 100 * np.array(errors)
    lines.append(f"| 30 broad-prior cylinders, q ≤ 0.4 (median / largest) | radius as above, "
                 f"length closed form | {np.median(errors[:, 0]):.2f} / {errors[:, 0].max():.2f} % "
                 f"| {np.median(errors[:, 1]):.2f} / {errors[:, 1].max():.0f} % |")
    def ms(times):
        return f"{1e3 * np.median(times):.0f} / {1e3 * np.percentile(times, 90):.0f} ms"

    lines.append(f"| cylinder time per curve, median / p90 | | {ms(ours_t)} | {ms(default_t)} |")
    table = "\n".join(lines)
    machine = f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores"
    print(machine)
    print(table)
    if not a.no_append:
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        from _report import append_section

        append_section("Polydispersity quadrature of the catalogue curves", table, machine)
    return 0


if __name__ == "__main__":
    sys.exit(main())
