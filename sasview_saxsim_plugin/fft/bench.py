"""FFT benchmark: split engine vs in-memory transforms, each followed by the same |A|² shell
reduction, every (method, n) in a fresh process so peak RSS is its own.

Methods: ``split`` (this package, in place, torch backend), ``torch_fftn`` (complex64, what
the thesis compared with), ``torch_rfftn``, ``scipy_rfftn`` (pocketfft, all cores).
The density is dense random float32 (no empty slabs to skip: the fair, worst case).
"""

from __future__ import annotations

import json
import os
import platform
import resource
import subprocess
import sys
import time

import numpy as np

METHODS = ("split", "torch_fftn", "torch_rfftn", "scipy_rfftn")


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _current_rss_mb() -> float:
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:
        return float("nan")


def _reduce_half(spectrum, n: int):
    """The shared reduction: ShellSums over ky blocks of a half spectrum (n, n, n//2+1)."""
    import torch

    from .reductions import ShellSums
    red = ShellSums()
    real_t = torch.float32 if spectrum.dtype in (torch.complex64,) else torch.float64
    red.start(n, 1.0, torch.device("cpu"), real_t)
    m = n // 2 + 1
    block = max(1, (32 * 2**20) // (n * m * 40))
    for k0 in range(0, n, block):
        g = spectrum[:, k0:k0 + block, :]
        inten = torch.view_as_real(g).square().sum(-1)
        red.add_block(inten, g, slice(k0, k0 + block))
    return red.result()


def _density(n: int, padded: bool):
    rng = np.random.default_rng(0)
    if padded:
        from ..geometry import VoxelGrid
        d = VoxelGrid(n, 1.0).allocate(np.float32)
        for x in range(n):                      # fill slab by slab: no n³ temporary
            d.values[x] = rng.random((n, n), dtype=np.float32)
        return d
    out = np.empty((n, n, n), np.float32)
    for x in range(n):
        out[x] = rng.random((n, n), dtype=np.float32)
    return out


def run_once(method: str, n: int):
    """One timed transform + reduction; returns (seconds, shell sums)."""
    import torch
    if method == "split":
        from . import ShellSums, split_fft
        d = _density(n, True)
        t0 = time.perf_counter()
        res = split_fft(d, {"s": ShellSums()})
        return time.perf_counter() - t0, res.results["s"]
    x = _density(n, False)
    t0 = time.perf_counter()
    if method == "torch_fftn":
        spec = torch.fft.fftn(torch.from_numpy(x))[:, :, : n // 2 + 1]
    elif method == "torch_rfftn":
        spec = torch.fft.rfftn(torch.from_numpy(x))
    elif method == "scipy_rfftn":
        import scipy.fft
        spec = torch.from_numpy(scipy.fft.rfftn(x, workers=-1))
    else:
        raise ValueError(f"unknown method {method!r}; choose from {METHODS}")
    del x
    sums = _reduce_half(spec, n)
    return time.perf_counter() - t0, sums


def worker(method: str, n: int, repeats: int, verify: bool) -> dict:
    """Time ``repeats`` runs, read the peak RSS, then (optionally) check against fftn."""
    import scipy.fft  # noqa: F401  (import everything before the baseline is read)
    import torch

    from . import ShellSums, split_fft  # noqa: F401
    from .reductions import k2_counts
    k2_counts(n)
    base = _current_rss_mb()
    times = []
    sums = None
    for _ in range(repeats):
        t, sums = run_once(method, n)
        times.append(t)
    peak = _rss_mb()
    out = {"method": method, "n": n, "seconds": float(np.median(times)), "runs": times,
           "peak_rss_mb": peak, "baseline_rss_mb": base, "threads": torch.get_num_threads()}
    if verify:
        # relative L2 of the complex spectrum against torch.fft.fftn (complex64), and of the
        # per-k² intensity sums (the 1D output) against the fftn route
        x = _density(n, False)
        ref = torch.fft.fftn(torch.from_numpy(x))[:, :, : n // 2 + 1].numpy()
        if method == "split":
            from . import spectrum_view, split_fft
            d = _density(n, True)
            split_fft(d, keep_spectrum=True)
            spec = spectrum_view(d)
        elif method == "torch_fftn":
            spec = ref
        elif method == "torch_rfftn":
            spec = torch.fft.rfftn(torch.from_numpy(x)).numpy()
        else:
            import scipy.fft
            spec = scipy.fft.rfftn(x, workers=-1)
        out["rel_l2_vs_fftn"] = float(np.linalg.norm(spec - ref) / np.linalg.norm(ref))
        del spec
        ref_sums = _reduce_half(torch.from_numpy(ref), n)
        a, b = sums["sum_i"], ref_sums["sum_i"]
        out["rel_l2_shells_vs_fftn"] = float(np.linalg.norm(a - b) / np.linalg.norm(b))
    return out


#: measured peak bytes per voxel (net of the interpreter) at n = 384, used to skip runs that
#: cannot fit rather than push the machine into the OOM killer
BYTES_PER_VOXEL = {"split": 4.4, "torch_fftn": 19.5, "torch_rfftn": 12.5, "scipy_rfftn": 12.5}


def run_benchmark(sizes, methods=METHODS, repeats: int = 3, verify_max_n: int = 512,
                  timeout: float = 1800, progress=None) -> list[dict]:
    """Run every (method, n) in a fresh ``python -m sasview_saxsim_plugin.bench`` process.
    A process that fails or is killed (out of memory) is recorded with ``error``; one whose
    predicted peak exceeds 95 % of the available memory is recorded as skipped."""
    from ..memory import available_memory_bytes
    rows = []
    for n in sizes:
        for method in methods:
            need = BYTES_PER_VOXEL.get(method, 20) * n ** 3 + 400 * 2**20
            avail = available_memory_bytes()
            if avail is not None and need > 0.95 * avail:
                rows.append({"method": method, "n": n,
                             "error": f"skipped: needs ~{need / 2**30:.1f} GiB, "
                                      f"{avail / 2**30:.1f} GiB available"})
                continue
            cmd = [sys.executable, "-m", "sasview_saxsim_plugin.fft.bench", method, str(n),
                   str(repeats), "1" if n <= verify_max_n else "0"]
            if progress:
                progress(f"{method} n={n} …")
            t0 = time.perf_counter()
            try:
                p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
            except subprocess.TimeoutExpired:
                rows.append({"method": method, "n": n, "error": f"timeout after {timeout} s"})
                continue
            if p.returncode == 0:
                row = json.loads(p.stdout.strip().splitlines()[-1])
            else:
                err = p.stderr.strip().splitlines()[-1:] or [f"exit {p.returncode}"]
                if p.returncode in (-9, 137):
                    err = ["killed (out of memory?)"]
                row = {"method": method, "n": n, "error": err[0][:200]}
            row["wall_s"] = time.perf_counter() - t0
            rows.append(row)
    return rows


def machine_description() -> str:
    """CPU model, cores and RAM of this machine, one line."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = ""
    try:
        with open("/proc/meminfo") as fh:
            mem = f", {int(fh.readline().split()[1]) / 2**20:.0f} GiB RAM"
    except OSError:
        pass
    import torch
    gpu = f", GPU {torch.cuda.get_device_name(0)}" if torch.cuda.is_available() else ", no GPU"
    return f"{cpu}, {os.cpu_count()} cores{mem}{gpu}, torch {torch.__version__}"


def format_table(rows: list[dict]) -> str:
    """Markdown table with time ratios to the fastest in-memory rfftn of the same n."""
    lines = ["| n | method | median s | peak RSS MiB | × fastest rfftn | RSS × fftn | "
             "rel L2 vs fftn |", "|---|---|---|---|---|---|---|"]
    by_n: dict = {}
    for r in rows:
        by_n.setdefault(r["n"], []).append(r)
    for n, group in by_n.items():
        ok = {r["method"]: r for r in group if "error" not in r}
        rffts = [ok[m]["seconds"] for m in ("torch_rfftn", "scipy_rfftn") if m in ok]
        fastest = min(rffts) if rffts else None
        fftn_rss = ok["torch_fftn"]["peak_rss_mb"] if "torch_fftn" in ok else None
        for r in group:
            if "error" in r:
                lines.append(f"| {n} | {r['method']} | – | – | – | – | failed: {r['error']} |")
                continue
            ratio = f"{r['seconds'] / fastest:.2f}" if fastest else "–"
            rss = f"{r['peak_rss_mb'] / fftn_rss:.2f}" if fftn_rss else "–"
            l2 = f"{r['rel_l2_vs_fftn']:.1e}" if "rel_l2_vs_fftn" in r else "–"
            lines.append(f"| {n} | {r['method']} | {r['seconds']:.3f} | {r['peak_rss_mb']:.0f} | "
                         f"{ratio} | {rss} | {l2} |")
    return "\n".join(lines)


if __name__ == "__main__":   # worker entry: method n repeats verify
    m, n_, rep, ver = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4] == "1"
    print(json.dumps(worker(m, n_, rep, ver)))
