#!/usr/bin/env python
"""Hard-sphere builder: counts and times next to thesis Table 4.1 (box 100 nm, r = 3.4 nm).

    python benchmarks/hardsphere_table.py
"""

import time

from sasview_saxsim_plugin.geometry import VoxelGrid, hard_spheres

THESIS = {0.01: (59, 3), 0.05: (300, 84), 0.075: (462, 210), 0.1: (627, 517),
          0.15: (965, 1629), 0.25: (1771, 19237), 0.3: (2641, 114980)}


def main():
    grid = VoxelGrid.from_box(1000.0, 243)
    print("| φ | spheres | insertion tries | rejected | % accepted | build s (insert + 50 MC "
          "sweeps) | MC acceptance | thesis accepted / declined |")
    print("|---|---|---|---|---|---|---|---|")
    for phi in (0.01, 0.05, 0.075, 0.1, 0.15, 0.25, 0.3, 0.4, 0.45):
        t = time.perf_counter()
        e = hard_spheres(grid, 34.0, phi, seed=1)
        s = e.stats
        dt = time.perf_counter() - t
        th = THESIS.get(phi)
        acc = 100 * s["particles"] / s["insertion_tries"]
        print(f"| {phi} | {s['particles']} | {s['insertion_tries']} | {s['insertion_rejected']} "
              f"| {acc:.1f} % | {dt:.2f} | {s['mc_acceptance']:.2f} | "
              f"{f'{th[0]} / {th[1]}' if th else '– (' + s['start'] + ')'} |")


if __name__ == "__main__":
    main()
