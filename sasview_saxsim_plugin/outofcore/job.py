"""A density source -> isotropic I(q) through the streamed split FFT (one machine) or Dask:
the library side of ``saxsim simulate --density / --crystal / --memory-budget / --scheduler``."""

from __future__ import annotations

import numpy as np

from ..fft import ShellSums
from ..progress import ProgressArg
from ..scattering import Curve1D, bin_edges, native_edges, shell_curve, trusted_q_max
from .sources import DensitySource
from .streaming import StreamResult, streamed_fft


def shell_edges(box_length: float, spacing: float, q_min: float | None = None,
                q_max: float | None = None, bins: int | None = None,
                bin_spacing: str = "linear") -> np.ndarray:
    """Shell edges (1/Å): one DFT step (2π/L) wide up to ``q_max`` (default π/(2d)), or
    ``bins`` linear/log bins."""
    qmax = q_max if q_max is not None else trusted_q_max(spacing)
    if bins is None:
        edges = native_edges(box_length, qmax)
        if q_min is not None:
            edges = edges[edges >= q_min - np.pi / box_length]
        return edges
    return bin_edges(q_min if q_min is not None else np.pi / box_length, qmax, bins,
                     bin_spacing)


def stream_curve(source: DensitySource, *, memory_budget=None, scheduler: str | None = None,
                 workers: int = 2, workdir=None, correction: str = "deconvolve",
                 q_min: float | None = None, q_max: float | None = None,
                 bins: int | None = None, bin_spacing: str = "linear", resume: bool = True,
                 progress: ProgressArg = False, block_bytes=None
                 ) -> tuple[Curve1D, StreamResult]:
    """Shell-averaged I(q) (1/cm for SLD contrast in 1e-6/Å², per box volume) of ``source``.

    ``scheduler``: None (this machine, intermediate in RAM or on disk from
    ``memory_budget``), 'local' (a Dask LocalCluster of ``workers``) or 'tcp://HOST:PORT'.
    """
    if scheduler is None:
        res = streamed_fft(source, {"shells": ShellSums()}, voxel_correction=correction,
                           memory_budget=memory_budget, workdir=workdir, resume=resume,
                           progress=progress, block_bytes=block_bytes)
    else:
        from .distributed import dask_fft
        res = dask_fft(source, {"shells": ShellSums}, scheduler=scheduler, n_workers=workers,
                       storage_dir=workdir, voxel_correction=correction, progress=progress,
                       block_bytes=block_bytes)
    grid = source.grid
    edges = shell_edges(grid.box_length, grid.spacing, q_min, q_max, bins, bin_spacing)
    curve = shell_curve(res.results["shells"], grid.box_length, grid.spacing, edges)
    curve.meta.update(n=grid.n, spacing_A=grid.spacing, box_A=grid.box_length,
                      voxel_correction=correction, source=source.describe(),
                      route="streamed split FFT" if scheduler is None else
                      f"split FFT on Dask ({scheduler})",
                      storage=res.plan.storage if scheduler is None else "zarr",
                      fft_seconds=res.seconds, bytes_written=res.bytes_written,
                      bytes_read=res.bytes_read)
    return curve, res


def bragg_positions(cell: np.ndarray, cell_values: np.ndarray | None = None, *,
                    q_max: float,
                    min_relative: float = 1e-9) -> list[tuple]:
    """(q in 1/Å, (h, k, l)) of the lattice reflections up to ``q_max`` for cell rows a, b, c
    (Å), one per distinct |q|. With the cell's density ``cell_values`` only reflections whose
    structure factor |F(hkl)|² (the cell grid's DFT) exceeds ``min_relative`` of the largest
    are kept: the extinctions of the structure (e.g. fcc) follow from the density itself."""
    recip = 2 * np.pi * np.linalg.inv(cell).T
    hmax = int(np.ceil(q_max / np.min(np.linalg.norm(recip, axis=1)))) + 1
    f2 = None
    if cell_values is not None:
        f2 = np.abs(np.fft.fftn(np.asarray(cell_values, dtype=np.float64))) ** 2
        f2[0, 0, 0] = 0.0
        f2 /= f2.max() if f2.max() > 0 else 1.0
    found: dict = {}
    rng = range(-hmax, hmax + 1)
    for h in rng:
        for k in rng:
            for l_ in rng:
                if (h, k, l_) == (0, 0, 0):
                    continue
                if f2 is not None:
                    shape = f2.shape
                    if max(abs(h) * 2, abs(k) * 2, abs(l_) * 2) >= min(shape) or \
                            f2[h % shape[0], k % shape[1], l_ % shape[2]] < min_relative:
                        continue
                q = float(np.linalg.norm(np.array([h, k, l_]) @ recip))
                if q <= q_max:
                    hkl = tuple(sorted((abs(h), abs(k), abs(l_)), reverse=True))
                    found.setdefault(round(q, 6), hkl)
    return sorted(found.items())


def plot_curve(curve: Curve1D, path: str, title: str = "", peaks: list | None = None) -> str:
    """Log-log PNG of a curve (error bars where known), optional dashed lines at ``peaks``
    (list of (q, label))."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7.5, 4.8))
    ok = curve.intensity > 0
    ax.errorbar(curve.q[ok], curve.intensity[ok],
                yerr=None if curve.sigma is None else curve.sigma[ok], fmt=".-", ms=2, lw=0.7,
                elinewidth=0.5, label="numerical (shell average)")
    for q, label in peaks or []:
        ax.axvline(q, color="C3", ls="--", lw=0.6, alpha=0.7)
        ax.text(q, 0.98, label, rotation=90, transform=ax.get_xaxis_transform(), fontsize=7,
                ha="right", va="top", color="C3")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("q (1/Å)")
    ax.set_ylabel("I(q) (1/cm per box volume)")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=8, loc="lower left")
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)
    return path
