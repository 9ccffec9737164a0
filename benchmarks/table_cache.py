#!/usr/bin/env python
"""What the on-disk table cache saves: the first call of a built model in a new session.

    python benchmarks/table_cache.py
    python benchmarks/table_cache.py --shapes helix barbell --pd 0.1

For each shipped definition, two fresh Python processes (as two SasView sessions) share one
empty cache folder (``SAXSIM_TABLE_CACHE``): each loads the plugin model with sasmodels and
times its first call (200 q in 0.005–0.5 1/Å, the definition's check parameters, optionally
a Gaussian polydispersity of ``--pd`` with 35 points on the scale length), then a warm call.
The first session builds and writes the tables, the second reads them. Prints a markdown
table; writes nothing else unless --json FILE is given.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile

from common import fresh_process_json, machine_description, publish  # benchmarks/ is on sys.path

SESSION = """
import json, sys, time
import numpy as np
from sasmodels.core import load_model
from sasmodels.direct_model import call_kernel
from sasview_saxsim_plugin.models.definition_model import make_definition_model
from sasview_saxsim_plugin.models.engine import MODEL
from sasview_saxsim_plugin.shapes import load_definition
shape, folder, pd = sys.argv[1], sys.argv[2], float(sys.argv[3])
spec = load_definition(shape)
plugin = folder + f"/numerical_{shape}.py"
import os
if not os.path.exists(plugin):
    make_definition_model(shape, out_dir=folder)
MODEL.builds = MODEL.loads = 0
pars = {**spec.defaults(), **(spec.checks[0] if spec.checks else {}), "scale": 1.0,
        "background": 0.0}
if pd:
    pars.update({f"{spec.lengths[0]}_pd": pd, f"{spec.lengths[0]}_pd_n": 35})
kernel = load_model(plugin).make_kernel([np.geomspace(0.005, 0.5, 200)])
t = time.perf_counter()
call_kernel(kernel, pars)
first = time.perf_counter() - t
t = time.perf_counter()
call_kernel(kernel, pars)
warm = time.perf_counter() - t
print(json.dumps({"first_s": first, "warm_ms": 1e3 * warm, "built": MODEL.builds,
                  "read": MODEL.loads}))
"""


def session(shape: str, folder: str, cache: str, pd: float) -> dict:
    env = {**os.environ, "SAXSIM_TABLE_CACHE": cache}
    return fresh_process_json(SESSION, shape, folder, pd, env=env)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--shapes", nargs="+", default=["torus", "helix", "barbell",
                                                   "capped_cylinder"])
    p.add_argument("--pd", type=float, default=0.0)
    p.add_argument("--json", help="also write the rows as JSON to this file")
    a = p.parse_args(argv)
    rows = []
    for shape in a.shapes:
        with tempfile.TemporaryDirectory() as folder:
            cache = os.path.join(folder, "tables")
            first = session(shape, folder, cache, a.pd)
            second = session(shape, folder, cache, a.pd)
            rows.append({"shape": shape, "pd": a.pd, "first": first, "second": second})
            print(f"{shape}: new cache {first['first_s']:.2f} s ({first['built']} tables "
                  f"built), next session {second['first_s']:.2f} s ({second['read']} read)",
                  file=sys.stderr, flush=True)
    table = ["| built model | pd (35 pts) | first call, empty cache s | tables built | "
             "first call, next session s | tables read | warm ms |",
             "|---|---|---|---|---|---|---|"]
    for r in rows:
        f, s = r["first"], r["second"]
        table.append(f"| numerical_{r['shape']} | {r['pd']:g} | {f['first_s']:.2f} | "
                     f"{f['built']} | {s['first_s']:.2f} | {s['read']} | "
                     f"{s['warm_ms']:.2f} |")
    publish("Table cache on disk: first call in a new session", "\n".join(table),
            machine_description(), raw={"rows": rows}, json_out=a.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
