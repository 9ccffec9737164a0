#!/usr/bin/env python
"""Split FFT vs torch.fft.fftn / rfftn and scipy.fft.rfftn: time, peak RSS and error, each
followed by the same |A|² shell reduction; every (method, n) in a fresh process.

    python benchmarks/fft_bench.py --sizes 128 256 384 512 768 1024 --repeats 3
    python benchmarks/fft_bench.py --sizes 1280 1536 --methods split    # beyond fftn

Prints the table (markdown, with the machine and the command) and writes nothing else unless
--json FILE is given (the raw rows).
"""

import argparse
import sys

from common import publish

from sasview_saxsim_plugin.fft.bench import (
    METHODS,
    format_table,
    machine_description,
    run_benchmark,
)


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", type=int, nargs="+", default=[128, 256, 384, 512, 768, 1024])
    p.add_argument("--methods", nargs="+", choices=list(METHODS), default=list(METHODS))
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--json", "--json-out", dest="json", metavar="FILE",
                   help="also save the raw rows as JSON")
    a = p.parse_args()
    rows = run_benchmark(a.sizes, a.methods, a.repeats,
                         progress=lambda m: print(m, file=sys.stderr, flush=True))
    machine = machine_description()
    publish("FFT benchmark", format_table(rows), machine,
            {"machine": machine, "results": rows}, a.json,
            f"; median of {a.repeats} runs, each (method, n) in a fresh process, "
            "dense random float32 density, complex64, 1D shell reduction included. "
            "Peak RSS is the process high-water mark (interpreter + torch ≈ 250 MiB "
            "included).")


if __name__ == "__main__":
    main()
