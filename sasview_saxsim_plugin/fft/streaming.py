"""The split 3D FFT for densities larger than memory, on one machine.

Pass 1 asks the source for a block of x-slabs, ``rfft2``s it over (y, z) and stores the block
of the half spectrum (n, n, n//2+1 complex64) in the *intermediate*: a numpy array when it
fits the memory budget, else a raw file in ``workdir`` (np.memmap layout, written and read
with positioned I/O so its pages never count as the process' memory). Pass 2 reads blocks
of pencils G[:, ky-block, :], ``fft``s them along x and feeds the fused reductions (shell
sums: the isotropic 1D curve). Only blocks are ever in memory.

A run on disk keeps ``state.json`` and the reductions' partial sums next to the intermediate
after every ``checkpoint_seconds``; killed (even with kill -9) and started again with the same
job, it resumes after the last completed block and gives the identical result. Its own folder
inside ``workdir`` (never the folder the user named) is removed on success.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from ..density.sources import DensitySource, digest
from ..errors import SaxsimInputError
from ..memory import available_memory_bytes, parse_bytes
from ..progress import Progress, ProgressArg
from .engine import reduce_pencils, voxel_correction_factors
from .reductions import Reduction

COMPLEX = np.dtype(np.complex64)
#: bytes per pencil-pass element: complex in + FFT out + |G|² + k² index + bincount scratch
PENCIL_BYTES = 8 + 8 + 4 + 4 + 8
#: bytes per slab-pass element (real in, complex out + rfft scratch) per real voxel
SLAB_BYTES = 4 + 8 + 8
STATE_VERSION = 1


@dataclass
class StreamPlan:
    """Where the intermediate lives and how large the blocks are."""

    n: int
    storage: str                 # "ram" or "disk"
    slab_block: int
    pencil_block: int
    budget: int                  # bytes the run may use (blocks + intermediate in RAM)
    intermediate_bytes: int

    @property
    def block_bytes(self) -> int:
        m = self.n // 2 + 1
        return max(self.slab_block * self.n * self.n * SLAB_BYTES,
                   self.pencil_block * self.n * m * PENCIL_BYTES)

    def describe(self) -> str:
        where = "RAM" if self.storage == "ram" else "disk"
        return (f"streamed split FFT n={self.n}: intermediate {self.intermediate_bytes / 2**30:.2f}"
                f" GiB on {where}, blocks of {self.slab_block} slabs / {self.pencil_block} pencil "
                f"rows ({self.block_bytes / 2**20:.0f} MiB) within {self.budget / 2**30:.2f} GiB")


def slab_spectrum(real: np.ndarray) -> np.ndarray:
    """``rfft2`` over (y, z) of a block of x-slabs (complex64); zeros for an empty block."""
    if not real.any():
        return np.zeros(real.shape[:2] + (real.shape[2] // 2 + 1,), dtype=COMPLEX)
    return torch.fft.rfft2(torch.from_numpy(real), dim=(1, 2)).numpy()


def intermediate_bytes(n: int) -> int:
    """Bytes of the complex64 half spectrum (n, n, n//2+1)."""
    return n * n * (n // 2 + 1) * COMPLEX.itemsize


def plan_stream(n: int, memory_budget=None, block_bytes=None, storage: str = "auto"
                ) -> StreamPlan:
    """Choose RAM or disk for the intermediate and the block sizes.

    ``memory_budget`` (bytes or '8GiB'): what the run may hold; default: half the available
    RAM. ``block_bytes``: size of one block (default: an eighth of the budget, at most
    512 MiB). The intermediate goes to RAM when it and one block fit the budget.
    """
    if n < 8:
        raise SaxsimInputError(f"grid of {n}³ is too small for the streamed FFT (n ≥ 8)")
    avail = available_memory_bytes()
    budget = parse_bytes(memory_budget) if memory_budget is not None else (
        (avail or 8 * 2**30) // 2)
    m = n // 2 + 1
    per_slab, per_pencil = n * n * SLAB_BYTES, n * m * PENCIL_BYTES
    block = parse_bytes(block_bytes) if block_bytes is not None else min(budget // 8, 512 * 2**20)
    block = max(block, per_slab, per_pencil)
    if block > budget:
        raise SaxsimInputError(
            f"memory budget {budget / 2**20:.0f} MiB is below one block of the streamed FFT for "
            f"n = {n} ({block / 2**20:.0f} MiB): raise --memory-budget")
    inter = intermediate_bytes(n)
    if storage == "auto":
        storage = "ram" if inter + block <= budget else "disk"
    if storage not in ("ram", "disk"):
        raise SaxsimInputError(f"storage must be ram, disk or auto, got {storage!r}")
    return StreamPlan(n, storage, max(1, min(n, block // per_slab)),
                      max(1, min(n, block // per_pencil)), budget, inter)


def check_disk(need: int, folder: Path) -> None:
    """Refuse, with the numbers, ``need`` bytes of intermediate in ``folder`` (which may not
    exist yet: the nearest existing parent is asked, so a refused run creates nothing)."""
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    free = shutil.disk_usage(existing).free
    if need > free:
        raise SaxsimInputError(
            f"the intermediate spectrum needs {need / 2**30:.2f} GiB in {folder}, only "
            f"{free / 2**30:.2f} GiB are free: pass --workdir on a larger disk, or use fewer "
            "grid points")


def check_resources(plan: StreamPlan, workdir: Path) -> None:
    """Refuse up front, with the numbers, a run the machine cannot hold."""
    avail = available_memory_bytes()
    need_ram = plan.block_bytes + (plan.intermediate_bytes if plan.storage == "ram" else 0)
    if avail is not None and need_ram > avail:
        raise SaxsimInputError(
            f"the run needs {need_ram / 2**30:.2f} GiB of RAM, {avail / 2**30:.2f} GiB are "
            f"available: lower --memory-budget (the intermediate then goes to disk)")
    if plan.storage == "disk":
        check_disk(plan.intermediate_bytes - _existing_bytes(workdir), workdir)


def _existing_bytes(workdir: Path) -> int:
    f = workdir / "spectrum.c64"
    return f.stat().st_size if f.exists() else 0


@dataclass
class StreamResult:
    """Reductions' results by name, seconds per pass, plan and I/O counts."""

    results: dict = field(default_factory=dict)
    seconds: dict = field(default_factory=dict)
    plan: StreamPlan | None = None
    bytes_written: int = 0
    bytes_read: int = 0
    resumed_from: dict = field(default_factory=dict)   # blocks already done per pass
    empty_slabs: int = 0
    tasks: dict = field(default_factory=dict)          # Dask: workers, tasks, bytes returned


class _Intermediate:
    """The half spectrum in RAM or in a raw file, accessed by slab blocks and pencil blocks."""

    def __init__(self, n: int, storage: str, path: Path | None):
        self.n, self.m = n, n // 2 + 1
        self.row = self.n * self.m * COMPLEX.itemsize          # bytes of one x-plane
        self.storage = storage
        self.array = None
        self.fd = None
        if storage == "ram":
            self.array = np.empty((n, n, self.m), dtype=COMPLEX)
        else:
            flags = os.O_RDWR | os.O_CREAT
            self.fd = os.open(path, flags, 0o600)
            size = n * self.row
            if os.fstat(self.fd).st_size != size:
                os.ftruncate(self.fd, size)

    def write_slabs(self, x0: int, block: np.ndarray) -> int:
        if self.array is not None:
            self.array[x0:x0 + block.shape[0]] = block
            return 0
        data = np.ascontiguousarray(block, dtype=COMPLEX)
        view = memoryview(data).cast("B")
        offset, done = x0 * self.row, 0
        while done < len(view):
            done += os.pwrite(self.fd, view[done:], offset + done)
        return len(view)

    def read_pencils(self, y0: int, y1: int, out: np.ndarray) -> int:
        if self.array is not None:
            out[...] = self.array[:, y0:y1, :]
            return 0
        chunk = (y1 - y0) * self.m * COMPLEX.itemsize
        buf = memoryview(out.reshape(self.n, -1)).cast("B")
        for x in range(self.n):
            target = buf[x * chunk:(x + 1) * chunk]
            offset, got = x * self.row + y0 * self.m * COMPLEX.itemsize, 0
            while got < chunk:
                r = os.preadv(self.fd, [target[got:]], offset + got)
                if r <= 0:
                    raise SaxsimInputError("the intermediate file is shorter than expected "
                                           "(truncated on disk?); delete the work folder")
                got += r
        return self.n * chunk

    def sync(self) -> None:
        if self.fd is not None:
            os.fsync(self.fd)

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None
        self.array = None


def _job_key(source: DensitySource, plan: StreamPlan, correction: str, reductions: dict) -> str:
    return digest(source.fingerprint(), plan.n, plan.slab_block, plan.pencil_block,
                  correction, sorted(reductions), STATE_VERSION)[:20]


def job_folder(key: str, root: str | os.PathLike | None = None) -> Path:
    """The job's own folder inside ``root`` (default $SAXSIM_WORKDIR or the system temp dir).
    Only this folder is ever deleted, never the folder the user named."""
    base = Path(root) if root is not None else Path(
        os.environ.get("SAXSIM_WORKDIR", tempfile.gettempdir()))
    return base / f"saxsim-stream-{key}"


def _save_state(workdir: Path, state: dict, reductions: dict) -> None:
    arrays = {f"{name}.{k}": v for name, red in reductions.items()
              for k, v in red.state().items()}
    tmp = workdir / "reductions.tmp.npz"
    np.savez(tmp, **arrays)
    os.replace(tmp, workdir / "reductions.npz")
    tmp = workdir / "state.tmp.json"
    tmp.write_text(json.dumps(state))
    os.replace(tmp, workdir / "state.json")


def _load_state(workdir: Path, key: str, reductions: dict) -> dict:
    path = workdir / "state.json"
    if not path.exists():
        return {}
    try:
        state = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    if state.get("key") != key:
        return {}
    if state.get("pass2_done", 0) > 0:
        with np.load(workdir / "reductions.npz") as z:
            for name, red in reductions.items():
                prefix = f"{name}."
                red.add_state({k[len(prefix):]: z[k] for k in z.files if k.startswith(prefix)})
    return state


def streamed_fft(source: DensitySource, reductions: dict[str, Reduction], *,
                 voxel_correction: str = "deconvolve", memory_budget=None, block_bytes=None,
                 storage: str = "auto", workdir: str | os.PathLike | None = None,
                 resume: bool = True, keep_workdir: bool = False,
                 checkpoint_seconds: float = 30.0, progress: ProgressArg = False,
                 stop_after_blocks: int | None = None) -> StreamResult:
    """Run both passes of the split FFT over ``source`` with the fused ``reductions``.

    Intensities given to the reductions are raw ``|DFT|²`` with the voxel correction, as in
    ``fft.split_fft``. The on-disk intermediate lives in a folder of its own inside
    ``workdir``, removed on success. ``stop_after_blocks`` ends the run after that many
    blocks (both passes counted) as if it had been killed, for tests of the resume logic.
    """
    n = source.n
    plan = plan_stream(n, memory_budget, block_bytes, storage)
    key = _job_key(source, plan, voxel_correction, reductions)
    work = job_folder(key, workdir)
    check_resources(plan, work)
    dev = torch.device("cpu")
    for red in reductions.values():
        red.start(n, source.spacing, dev, torch.float32)
    state = _load_state(work, key, reductions) if (resume and plan.storage == "disk") else {}
    out = StreamResult(plan=plan, resumed_from={k: state.get(k, 0)
                                                for k in ("pass1_done", "pass2_done")})
    if plan.storage == "disk":
        work.mkdir(parents=True, exist_ok=True)
    inter = _Intermediate(n, plan.storage, work / "spectrum.c64")
    state = {"key": key, "pass1_done": state.get("pass1_done", 0),
             "pass2_done": state.get("pass2_done", 0), "n": n,
             "source": source.describe()}
    blocks_run = 0
    last_checkpoint = time.monotonic()

    def checkpoint(force: bool = False) -> None:
        nonlocal last_checkpoint
        if plan.storage != "disk":
            return
        if force or time.monotonic() - last_checkpoint >= checkpoint_seconds:
            inter.sync()
            _save_state(work, state, reductions)
            last_checkpoint = time.monotonic()

    def run_pass(done_key: str, size: int, label: str, do_block) -> bool:
        """``do_block(lo, hi)`` for every block not done yet (state[done_key] counts them),
        with progress and checkpoints; False when stopped by ``stop_after_blocks``."""
        nonlocal blocks_run
        starts = range(0, n, size)
        with Progress(progress, len(starts), label, "block") as bar:
            bar.update(state[done_key])
            for b in range(state[done_key], len(starts)):
                if stop_after_blocks is not None and blocks_run >= stop_after_blocks:
                    checkpoint(force=True)
                    return False
                do_block(starts[b], min(n, starts[b] + size))
                state[done_key] = b + 1
                blocks_run += 1
                checkpoint(force=b + 1 == len(starts))
                bar.update()
        return True

    def slabs(x0: int, x1: int) -> None:
        t_source = time.perf_counter()
        real = source.slab(x0, x1)
        out.seconds["source"] = out.seconds.get("source", 0.0) + time.perf_counter() - t_source
        if not real.any():
            out.empty_slabs += x1 - x0
        out.bytes_written += inter.write_slabs(x0, slab_spectrum(real))

    corr = voxel_correction_factors(n, voxel_correction, dev, torch.float32)

    def pencils(y0: int, y1: int) -> None:
        block = np.empty((n, y1 - y0, n // 2 + 1), dtype=COMPLEX)
        out.bytes_read += inter.read_pencils(y0, y1, block)
        reduce_pencils(torch.fft.fft(torch.from_numpy(block), dim=0), corr, reductions,
                       slice(y0, y1))

    try:
        for done_key, size, label, do_block, timer in (
                ("pass1_done", plan.slab_block, f"pass 1: slabs of {n}³", slabs, "slab_pass"),
                ("pass2_done", plan.pencil_block, f"pass 2: pencils of {n}³", pencils,
                 "pencil_pass")):
            t0 = time.perf_counter()
            if not run_pass(done_key, size, label, do_block):
                return out
            out.seconds[timer] = time.perf_counter() - t0
    finally:
        inter.close()
    out.results = {name: red.result() for name, red in reductions.items()}
    if plan.storage == "disk" and not keep_workdir:
        shutil.rmtree(work, ignore_errors=True)
    return out
