#!/usr/bin/env python
"""Hard-sphere builder: sphere counts, insertion tries, Monte Carlo acceptance and build time
per volume fraction, next to thesis Table 4.1 (box 100 nm, 243³ voxels, r = 3.4 nm).

    python benchmarks/hardsphere_table.py
    python benchmarks/hardsphere_table.py --fractions 0.01 0.1 0.3

Prints the table (markdown, with the machine and the command) and writes nothing else unless
--json FILE is given (the builder's statistics per volume fraction).
"""

import argparse
import time

from common import machine_description, publish  # benchmarks/ is on sys.path

from sasview_saxsim_plugin.geometry import VoxelGrid, hard_spheres

THESIS = {0.01: (59, 3), 0.05: (300, 84), 0.075: (462, 210), 0.1: (627, 517),
          0.15: (965, 1629), 0.25: (1771, 19237), 0.3: (2641, 114980)}
FRACTIONS = (0.01, 0.05, 0.075, 0.1, 0.15, 0.25, 0.3, 0.4, 0.45)


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--fractions", type=float, nargs="+", default=list(FRACTIONS),
                   help="volume fractions (default: %(default)s)")
    p.add_argument("--json", metavar="FILE", help="also save the statistics as JSON")
    a = p.parse_args()
    grid = VoxelGrid.from_box(1000.0, 243)
    lines = ["| φ | spheres | insertion tries | rejected | % accepted | build s (insert + 50 MC "
             "sweeps) | MC acceptance | thesis accepted / declined |",
             "|---|---|---|---|---|---|---|---|"]
    raw = []
    for phi in a.fractions:
        t = time.perf_counter()
        e = hard_spheres(grid, 34.0, phi, seed=1)
        s = e.stats
        dt = time.perf_counter() - t
        th = THESIS.get(phi)
        acc = 100 * s["particles"] / s["insertion_tries"]
        lines.append(f"| {phi} | {s['particles']} | {s['insertion_tries']} | "
                     f"{s['insertion_rejected']} | {acc:.1f} % | {dt:.2f} | "
                     f"{s['mc_acceptance']:.2f} | "
                     f"{f'{th[0]} / {th[1]}' if th else '– (' + s['start'] + ')'} |")
        raw.append({"volume_fraction": phi, "seconds": dt, **s})
    publish("Hard-sphere builder (thesis Table 4.1)", "\n".join(lines), machine_description(),
            raw, a.json)


if __name__ == "__main__":
    main()
