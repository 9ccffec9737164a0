#!/usr/bin/env python
"""Split FFT vs torch.fft.fftn / rfftn and scipy.fft.rfftn, each followed by the same |A|²
shell reduction; every (method, n) in a fresh process. Prints a table and appends it, with the
machine, to docs/benchmarks.md.

    python benchmarks/fft_bench.py --sizes 128 256 384 512 768 1024 --repeats 3
    python benchmarks/fft_bench.py --sizes 1280 1536 --methods split    # beyond fftn
"""

import argparse
import os
import sys

from _report import publish

from sasview_saxsim_plugin.bench import METHODS, format_table, machine_description, run_benchmark

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--sizes", type=int, nargs="+", default=[128, 256, 384, 512, 768, 1024])
    p.add_argument("--methods", nargs="+", default=list(METHODS))
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--no-append", action="store_true", help="do not write docs/benchmarks.md")
    p.add_argument("--json-out", help="also save the raw rows as JSON")
    a = p.parse_args()
    rows = run_benchmark(a.sizes, a.methods, a.repeats,
                         progress=lambda m: print(m, file=sys.stderr, flush=True))
    machine = machine_description()
    publish("FFT benchmark", format_table(rows), machine,
            {"machine": machine, "results": rows}, a.json_out, not a.no_append,
            f"; median of {a.repeats} runs, each (method, n) in a fresh process, "
            "dense random float32 density, complex64, 1D shell reduction included. "
            "Peak RSS is the process high-water mark (interpreter + torch ≈ 250 MiB "
            "included).")

if __name__ == "__main__":
    main()
