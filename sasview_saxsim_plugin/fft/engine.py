"""The split 3D FFT (thesis 3.1.3), in place in the padded density buffer.

Pass 1 (slabs): for each block of x-slabs, ``rfft2`` over (y, z) and write the block back into
the same memory as complex numbers (the padded layout of geometry.grid makes room), skipping
slabs that hold no density. Pass 2 (pencils): for each block of ky, ``fft`` along x and hand the
block to the fused reductions (shell sums, detector slice, …). Memory: the buffer
(≈ 4·n³ bytes in single precision) plus one block, sized from ``memory_budget``.

Backends: ``torch`` (CUDA when available, else CPU threads) and ``scipy`` (pocketfft, CPU).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import torch

from ..errors import SaxsimInputError
from ..geometry.grid import Density
from ..memory import parse_bytes
from ..progress import Progress, ProgressArg
from ..scattering.voxel import check_correction
from .reductions import Reduction, sinc

#: working memory for blocks when none is given: small blocks stay in the CPU caches
#: (measured: 32 MiB is fastest at n = 512 on 2 cores); a GPU wants large blocks.
DEFAULT_BUDGET = {"cpu": 32 * 2**20, "cuda": 2 * 2**30}


def default_device() -> torch.device:
    """CUDA device 0 when torch sees one, else the CPU."""
    return torch.device("cuda") if torch.cuda.is_available() else torch.device("cpu")


@dataclass
class SplitFFTPlan:
    """Block sizes and device for one grid; ``describe()`` explains the memory use."""

    n: int
    itemsize: int           # bytes per real number (4 or 8)
    device: torch.device
    backend: str
    slab_block: int
    pencil_block: int
    budget: int

    @classmethod
    def make(cls, n: int, dtype, memory_budget=None, device=None, backend: str = "auto"):
        dev = torch.device(device) if device is not None else default_device()
        if backend == "auto":
            backend = "torch"   # measured faster than scipy's pocketfft on slabs, see docs
        if backend not in ("torch", "scipy"):
            raise SaxsimInputError(f"unknown FFT backend {backend!r}; use torch or scipy")
        if backend == "scipy" and dev.type != "cpu":
            raise SaxsimInputError("the scipy backend runs on the CPU only")
        budget = (DEFAULT_BUDGET.get(dev.type, DEFAULT_BUDGET["cpu"]) if memory_budget is None
                  else parse_bytes(memory_budget))
        r = np.dtype(dtype).itemsize
        m = n // 2 + 1
        per_slab = n * n * r + 2 * n * m * 2 * r          # real slab in, complex out + scratch
        per_pencil = n * m * (3 * 2 * r + 3 * r + 4)       # complex in/out/scratch, I, I², k²
        if memory_budget is None:
            # the default is a cache-friendly size; large grids get at least a few rows
            budget = max(budget, 4 * max(per_slab, per_pencil))
        if per_slab > budget or per_pencil > budget:
            need = max(per_slab, per_pencil)
            raise SaxsimInputError(
                f"memory budget of {budget / 2**20:.1f} MiB is below one block of the split FFT "
                f"for n = {n} ({need / 2**20:.1f} MiB): raise --memory-budget to at least "
                f"{need / 2**30:.3f} GiB or use fewer grid points")
        return cls(n, r, dev, backend, max(1, min(n, budget // per_slab)),
                   max(1, min(n, budget // per_pencil)), budget)

    def describe(self) -> str:
        buf = self.n * self.n * 2 * (self.n // 2 + 1) * self.itemsize
        return (f"split FFT n={self.n}: buffer {buf / 2**30:.2f} GiB in RAM, blocks of "
                f"{self.slab_block} slabs / {self.pencil_block} pencil rows within "
                f"{self.budget / 2**20:.0f} MiB on {self.device} ({self.backend})")


@dataclass
class SplitFFTResult:
    """What the engine did: reductions' results by name, times (s) and skipped slabs."""

    results: dict = field(default_factory=dict)
    seconds: dict = field(default_factory=dict)
    empty_slabs: int = 0


def _complex_view(buffer: np.ndarray) -> np.ndarray:
    cdtype = np.complex64 if buffer.dtype == np.float32 else np.complex128
    return buffer.view(cdtype)


def voxel_correction_factors(n: int, correction: str, device, real_dtype):
    """Per-axis factors (x/y, z) of the voxel correction for the half spectrum, or None."""
    check_correction(correction)
    if correction == "none":
        return None
    from .reductions import fft_indices
    power = 2 if correction == "sinc" else -2
    sx = torch.from_numpy(sinc(np.pi * fft_indices(n) / n) ** power).to(device, real_dtype)
    sz = torch.from_numpy(sinc(np.pi * np.arange(n // 2 + 1) / n) ** power).to(device,
                                                                                 real_dtype)
    return sx, sz


def reduce_pencils(g: torch.Tensor, corr, reductions: dict, ky: slice) -> None:
    """Hand one block of full-x pencils G[kx, ky, kz] to the reductions as |G|² with the voxel
    correction ``corr`` (from :func:`voxel_correction_factors`) applied."""
    if not reductions:
        return
    inten = torch.view_as_real(g).square().sum(-1)
    if corr is not None:
        inten.mul_(corr[0].view(-1, 1, 1)).mul_(corr[0][ky].view(1, -1, 1))
        inten.mul_(corr[1].view(1, 1, -1))
    for red in reductions.values():
        red.add_block(inten, g, ky)


def split_fft(density: Density, reductions: dict[str, Reduction] | None = None, *,
              voxel_correction: str = "none", memory_budget=None, device=None,
              backend: str = "auto", keep_spectrum: bool = False,
              progress: ProgressArg = False) -> SplitFFTResult:
    """Run the two passes over ``density`` **in place** and the fused ``reductions``.

    After the call ``density.buffer`` holds the half spectrum: after pass 1 only (default) or,
    with ``keep_spectrum``, the full 3D transform, which then equals ``numpy.fft.rfftn`` of the
    density (view it with :func:`spectrum_view`). ``voxel_correction`` (scattering.voxel):
    ``"none"``, ``"deconvolve"`` (divide ``|G|²`` by Π sinc²(q_α·d/2), undoing the box filter of
    partial-volume voxels) or ``"sinc"`` (multiply by it, thesis 3.1.8).
    Intensities passed to reductions are raw ``|DFT|²`` (no d³, no contrast units).
    """
    reductions = dict(reductions or {})
    grid = density.grid
    n = grid.n
    check_correction(voxel_correction)
    plan = SplitFFTPlan.make(n, density.dtype, memory_budget, device, backend)
    dev = plan.device
    real_t = torch.float32 if density.dtype == np.float32 else torch.float64
    for red in reductions.values():
        red.start(n, grid.spacing, dev, real_t)
    spectrum = _complex_view(density.buffer)        # (n, n, m) complex, shares memory
    host_spec = torch.from_numpy(spectrum)
    out = SplitFFTResult()
    bar = None
    if progress:
        steps = -(-n // plan.slab_block) + -(-n // plan.pencil_block)
        bar = Progress(progress, steps, f"split FFT {n}³", "block")

    # pass 1: slabs
    t0 = time.perf_counter()
    for x0 in range(0, n, plan.slab_block):
        x1 = min(n, x0 + plan.slab_block)
        real = density.buffer[x0:x1, :, :n]
        lo, hi = real.min(axis=(1, 2)), real.max(axis=(1, 2))
        if not (np.all(np.isfinite(lo)) and np.all(np.isfinite(hi))):
            raise SaxsimInputError(
                f"density contains NaN or infinite voxel values (in x-slabs {x0}-{x1 - 1}); "
                f"the buffer is partly transformed now, rebuild the density")
        filled = np.nonzero((lo != 0) | (hi != 0))[0]
        if filled.size == 0:
            out.empty_slabs += x1 - x0   # zeros transform to zeros: the buffer is already right
        else:
            # transform only the filled range of the block; empty slabs outside it stay zero
            a, b = x0 + int(filled[0]), x0 + int(filled[-1]) + 1
            out.empty_slabs += (x1 - x0) - (b - a)
            real = density.buffer[a:b, :, :n]
            if plan.backend == "scipy":
                import scipy.fft
                spectrum[a:b] = scipy.fft.rfft2(real, axes=(1, 2), workers=-1)
            else:
                block = torch.fft.rfft2(torch.from_numpy(real).to(dev), dim=(1, 2))
                host_spec[a:b] = block.cpu() if dev.type != "cpu" else block
        if bar is not None:
            bar.update()
    out.seconds["slab_pass"] = time.perf_counter() - t0

    # pass 2: pencils along x, reductions fused
    t0 = time.perf_counter()
    corr = voxel_correction_factors(n, voxel_correction, dev, real_t)
    for k0 in range(0, n, plan.pencil_block):
        k1 = min(n, k0 + plan.pencil_block)
        ky = slice(k0, k1)
        if plan.backend == "scipy":
            import scipy.fft
            g_np = scipy.fft.fft(spectrum[:, k0:k1, :], axis=0, workers=-1)
            g = torch.from_numpy(g_np)
            if keep_spectrum:
                spectrum[:, k0:k1, :] = g_np
        else:
            g = torch.fft.fft(host_spec[:, k0:k1, :].to(dev), dim=0)
            if keep_spectrum:
                host_spec[:, k0:k1, :] = g.cpu() if dev.type != "cpu" else g
        reduce_pencils(g, corr, reductions, ky)
        if bar is not None:
            bar.update()
    out.seconds["pencil_pass"] = time.perf_counter() - t0
    if bar is not None:
        bar.close()
    out.results = {name: red.result() for name, red in reductions.items()}
    return out


def spectrum_view(density: Density) -> np.ndarray:
    """The complex (n, n, n//2+1) view of a buffer that :func:`split_fft` transformed."""
    return _complex_view(density.buffer)
