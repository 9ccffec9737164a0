"""Time one training step of the shipped network (docs/inverse.md, "Measured on a CPU
without native bfloat16").

    python benchmarks/train_step_speed.py [--widths 24 48] [--steps 30] [--no-append]

One step = encoder + classifier + flow forward, NLL + cross-entropy, backward, AdamW update, on a
batch of 512 random rows of the shipped feature width (timing does not depend on the values).
For each encoder width: eager float32, eager with the encoder in bfloat16 autocast (fast only
with AMX / AVX512-BF16), and ``torch.compile`` of the loss
(``train.make_losses(compile=True)``), each the median of ``--steps`` steps after warm-up, plus
the split encoder / flow of an eager step.
Prints a table and appends it to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

import torch
from _report import publish

from sasview_saxsim_plugin.inverse.features import N_BINS
from sasview_saxsim_plugin.inverse.networks import N_PARAMS, N_SHAPES, ShapePosteriorNet
from sasview_saxsim_plugin.inverse.train import bf16_is_fast, make_losses


def _batch(n: int = 512, channels: int = 3):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(n, channels * N_BINS, generator=g)
    s = torch.randint(0, N_SHAPES, (n,), generator=g)
    theta = torch.randn(n, N_PARAMS, generator=g)
    noise = torch.randn(n, N_PARAMS, generator=g)
    return x, s, theta, noise


def time_steps(width: int, bf16: bool, compiled: bool, steps: int, warmup: int = 5) -> float:
    """Median seconds per training step (batch 512)."""
    torch.manual_seed(0)
    net = ShapePosteriorNet(encoder="conv", channels=3, encoder_width=width)
    opt = torch.optim.AdamW(net.parameters(), lr=1e-4)
    losses = make_losses(net, torch.device("cpu"), compile=compiled)
    x, s, theta, noise = _batch()
    times = []
    for i in range(warmup + steps):
        t0 = time.perf_counter()
        nll, ce, _ = losses(x, s, theta, noise, bf16)
        opt.zero_grad()
        (nll + ce).backward()
        opt.step()
        if i >= warmup:
            times.append(time.perf_counter() - t0)
    return statistics.median(times)


def split_encoder_flow(width: int, steps: int) -> tuple[float, float]:
    """Median seconds of forward + backward of the encoder alone and of the flow alone."""
    net = ShapePosteriorNet(encoder="conv", channels=3, encoder_width=width)
    x, s, theta, _ = _batch()
    enc, flow = [], []
    code = net.encode(x).detach()
    for _ in range(steps + 3):
        t0 = time.perf_counter()
        net.encode(x).sum().backward()
        t1 = time.perf_counter()
        z, lj = net.log_likelihood_terms(theta, net.condition(code, s))
        (z.pow(2).sum() - lj.sum()).backward()
        t2 = time.perf_counter()
        enc.append(t1 - t0)
        flow.append(t2 - t1)
    return statistics.median(enc[3:]), statistics.median(flow[3:])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--widths", type=int, nargs="+", default=[24, 48])
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--no-append", action="store_true")
    a = ap.parse_args(argv)
    rows = ["| encoder width | eager fp32 ms | eager bf16 encoder ms | compiled fp32 ms | "
            "compiled bf16 encoder ms | eager split encoder / flow ms | epoch of 435 000 rows, "
            "best variant |", "|---|---|---|---|---|---|---|"]
    raw = {}
    for w in a.widths:
        r = {(bf16, comp): time_steps(w, bf16, comp, a.steps)
             for bf16 in (False, True) for comp in (False, True)}
        enc, flow = split_encoder_flow(w, a.steps)
        best = min(r.values())
        raw[w] = {f"{'bf16' if k[0] else 'fp32'}_{'compiled' if k[1] else 'eager'}": v
                  for k, v in r.items()} | {"encoder": enc, "flow": flow}
        rows.append(f"| {w} | {1e3 * r[False, False]:.0f} | {1e3 * r[True, False]:.0f} | "
                    f"{1e3 * r[False, True]:.0f} | {1e3 * r[True, True]:.0f} | "
                    f"{1e3 * enc:.0f} / {1e3 * flow:.0f} | "
                    f"{best * 435_000 / 512 / 60:.2f} min |")
    machine = (f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
               f"torch {torch.__version__}, {torch.get_num_threads()} threads, native bf16 "
               f"{bf16_is_fast(torch.device('cpu'))}")
    publish("training step of the shipped network (batch 512)", "\n".join(rows), machine,
            raw, None, not a.no_append)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
