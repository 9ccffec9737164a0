#!/usr/bin/env python
"""What a plugin model of an atomic structure costs to build and to call, by size.

    python benchmarks/atomic_build.py                       # 1n04 × 1, 5, 10, 20 copies
    python benchmarks/atomic_build.py --copies 1 20

Assemblies of translated copies of SasView's example 1n04.pdb (5 253 atoms each, on an 80 Å
square grid, written as clean PDB files as in ``atomic_peers.py``). For each: the wall time of
``make_atomic_model`` (read, hydration sites, pair histograms, tables written, trial load in
sasmodels), then, in a fresh Python process as SasView would start, the plugin's first call
(import, tables read and checked, kernel built, 200 q) and the median of 20 warm calls.
Prints a markdown table; writes nothing else unless --json FILE is given.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from atomic_peers import clean_pdb, example_dir  # benchmarks/ is on sys.path
from common import fresh_process_json, machine_description, publish

from sasview_saxsim_plugin.models.atomic_model import make_atomic_model

CALLS = """
import json, sys, time
import numpy as np
t = time.perf_counter()
from sasmodels.core import load_model
from sasmodels.direct_model import call_kernel
q = np.geomspace(0.005, 0.5, 200)
kernel = load_model(sys.argv[1]).make_kernel([q])
call_kernel(kernel, {})
first = time.perf_counter() - t
warm = []
for k in range(20):
    t = time.perf_counter()
    call_kernel(kernel, {"solvent_density": 0.334 + 1e-4 * k})
    warm.append(time.perf_counter() - t)
print(json.dumps({"first_s": first, "warm_ms": 1e3 * float(np.median(warm))}))
"""


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--copies", type=int, nargs="+", default=[1, 5, 10, 20])
    p.add_argument("--json", help="also write the rows as JSON to this file")
    a = p.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for copies in a.copies:
            pdb = Path(tmp) / f"1n04_x{copies}.pdb"
            atoms = len(clean_pdb(example_dir() / "1n04.pdb", pdb, copies))
            t = time.perf_counter()
            plugin = make_atomic_model(pdb, f"assembly_{copies}", tmp, overwrite=True)
            build = time.perf_counter() - t
            calls = fresh_process_json(CALLS, plugin)
            rows.append({"copies": copies, "atoms": atoms, "build_s": build, **calls})
            print(f"{atoms} atoms: make-model {build:.1f} s, first call "
                  f"{calls['first_s']:.2f} s, warm {calls['warm_ms']:.2f} ms",
                  file=sys.stderr, flush=True)
    table = ["| structure | atoms | make-model s | first call in a new process s | warm ms |",
             "|---|---|---|---|---|"]
    for r in rows:
        table.append(f"| 1n04 × {r['copies']} | {r['atoms']} | {r['build_s']:.1f} | "
                     f"{r['first_s']:.2f} | {r['warm_ms']:.2f} |")
    publish("Atomic plugin models: build and call cost", "\n".join(table),
            machine_description(), raw={"rows": rows}, json_out=a.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
