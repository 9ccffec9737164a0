#!/usr/bin/env python
"""Streamed (out-of-core) split FFT: time, peak RSS and disk bytes per grid size, next to
torch.fft.fftn (the reference of benchmarks/fft_bench.py: the transform and the same shell
reduction); and the same job on a Dask LocalCluster of 1 and 2 workers. Each run in a fresh
process (its own peak RSS). The density is dense random float32 per x-plane (no empty
slabs to skip, no rasterisation cost), output: the isotropic shell sums (complex64).

    python benchmarks/outofcore_bench.py local --sizes 512 1024 1536 2048 --budget 4GiB
    python benchmarks/outofcore_bench.py dask --sizes 512 --workers 1 2
    python benchmarks/outofcore_bench.py local --sizes 1024 --repeats 3

Prints the table (markdown, with the machine and the command) and writes nothing else unless
--json FILE is given (the raw rows); the streamed runs' intermediate files go to a folder under
--workdir that is removed after each run.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time

from common import machine_description, publish  # benchmarks/ is on sys.path


def _worker(mode: str, n: int, budget: str, workers: int, workdir: str) -> dict:
    from sasview_saxsim_plugin.density import RandomSource
    from sasview_saxsim_plugin.fft import ShellSums
    from sasview_saxsim_plugin.fft.streaming import streamed_fft

    src = RandomSource(n, 1.0, seed=0)
    t0 = time.perf_counter()
    if mode == "local":
        res = streamed_fft(src, {"s": ShellSums()}, memory_budget=budget, workdir=workdir,
                           resume=False)
        extra = {"storage": res.plan.storage, "slab_block": res.plan.slab_block,
                 "pencil_block": res.plan.pencil_block}
    else:
        from sasview_saxsim_plugin.fft.distributed import connect, dask_fft
        client = connect("local", n_workers=workers, memory_limit=budget)
        t0 = time.perf_counter()
        try:
            res = dask_fft(src, {"s": ShellSums}, client=client, storage_dir=workdir)
            worker_rss = client.run(lambda: resource.getrusage(
                resource.RUSAGE_SELF).ru_maxrss / 2**20)
        finally:
            cluster = client.cluster
            client.close()
            cluster.close()
        extra = {"storage": "zarr", "workers": workers,
                 "worker_peak_rss_gib": max(worker_rss.values()),
                 "tasks": [res.tasks["tasks_pass1"], res.tasks["tasks_pass2"]],
                 "bytes_returned": res.tasks["bytes_returned"]}
    wall = time.perf_counter() - t0
    total = float(res.results["s"]["sum_i"].sum())
    return {"mode": mode, "n": n, "seconds": wall, "pass_seconds": res.seconds,
            "peak_rss_gib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20,
            "disk_bytes": res.plan.intermediate_bytes if extra["storage"] != "ram" else 0,
            "bytes_written": res.bytes_written, "bytes_read": res.bytes_read,
            "checksum": total, **extra}


def _fftn_worker(n: int) -> dict:
    # the reference of benchmarks/fft_bench.py: torch.fft.fftn of the same kind of density,
    # then the same shell reduction (sasview_saxsim_plugin.fft.bench.run_once)
    from sasview_saxsim_plugin.fft.bench import run_once
    seconds, sums = run_once("torch_fftn", n)
    return {"mode": "torch.fft.fftn", "n": n, "seconds": seconds,
            "peak_rss_gib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20,
            "disk_bytes": 0, "checksum": float(sums["sum_i"].sum()), "storage": "ram"}


def run(args: list[str], timeout: float) -> dict:
    p = subprocess.run([sys.executable, __file__, "--worker", *args], capture_output=True,
                       text=True, timeout=timeout)
    if p.returncode != 0:
        tail = (p.stderr or "").strip().splitlines()[-1:] or ["killed"]
        return {"failed": f"exit {p.returncode}: {tail[0][:160]}"}
    return json.loads(p.stdout.strip().splitlines()[-1])


def table(rows: list[dict]) -> str:
    lines = ["| run | n | storage | time (s) | pass 1 / pass 2 / source (s) | peak RSS (GiB) | "
             "disk (GiB) | written / read (GiB) |", "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        if "failed" in r:
            lines.append(f"| {r['label']} | {r['n']} | | failed: {r['failed']} | | | | |")
            continue
        ps = r.get("pass_seconds", {})
        passes = (f"{ps.get('slab_pass', float('nan')):.0f} / "
                  f"{ps.get('pencil_pass', float('nan')):.0f} / "
                  f"{ps.get('source', float('nan')):.0f}" if ps else "")
        io = (f"{r.get('bytes_written', 0) / 2**30:.1f} / {r.get('bytes_read', 0) / 2**30:.1f}"
              if "bytes_written" in r else "")
        rss = f"{r['peak_rss_gib']:.2f}"
        if "worker_peak_rss_gib" in r:
            rss += f" (client), {r['worker_peak_rss_gib']:.2f} (worker)"
            io += f"; {r['bytes_returned'] / 2**20:.0f} MiB returned"
        lines.append(f"| {r['label']} | {r['n']} | {r['storage']} | {r['seconds']:.1f} | "
                     f"{passes} | {rss} | {r['disk_bytes'] / 2**30:.1f} | {io} |")
    return "\n".join(lines)


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        kind, n = sys.argv[2], int(sys.argv[3])
        out = (_fftn_worker(n) if kind == "fftn" else
               _worker(kind, n, sys.argv[4], int(sys.argv[5]), sys.argv[6]))
        print(json.dumps(out))
        return 0
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("mode", choices=("local", "dask"))
    p.add_argument("--sizes", type=int, nargs="+", default=[512, 1024])
    p.add_argument("--budget", default="4GiB", help="memory budget (local: whole run; dask: "
                                                    "per worker)")
    p.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    p.add_argument("--fftn-max", type=int, default=1024, help="largest n tried with fftn")
    p.add_argument("--repeats", type=int, default=1)
    p.add_argument("--workdir", default=os.environ.get("SAXSIM_WORKDIR",
                                                       tempfile.gettempdir()))
    p.add_argument("--timeout", type=float, default=3600)
    p.add_argument("--json", "--json-out", dest="json", metavar="FILE",
                   help="also save the raw rows as JSON")
    a = p.parse_args()
    rows = []
    for n in a.sizes:
        configs = ([("split (streamed)", ["local", str(n), a.budget, "1"])] if a.mode == "local"
                   else [(f"Dask {w} worker(s)", ["dask", str(n), a.budget, str(w)])
                         for w in a.workers])
        if a.mode == "local" and n <= a.fftn_max:
            configs.append(("torch.fft.fftn", ["fftn", str(n)]))
        for label, args in configs:
            for rep in range(a.repeats):
                work = os.path.join(a.workdir, f"saxsim-bench-{os.getpid()}-{n}-{rep}")
                full = args + [work] if args[0] != "fftn" else args
                print(f"{label} n={n} run {rep + 1} …", file=sys.stderr, flush=True)
                r = run(full, a.timeout)
                shutil.rmtree(work, ignore_errors=True)
                r.update(label=label, n=n)
                rows.append(r)
                print(json.dumps(r), file=sys.stderr, flush=True)
    head = machine_description()
    publish(f"Out-of-core split FFT ({a.mode})", table(rows), head,
            {"machine": head, "rows": rows}, a.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
