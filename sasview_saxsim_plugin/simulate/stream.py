"""A density source -> isotropic I(q) through the streamed split FFT (one machine) or Dask:
the library side of ``saxsim simulate --density / --crystal / --memory-budget / --scheduler``."""

from __future__ import annotations

from ..density.sources import DensitySource
from ..fft import ShellSums
from ..fft.streaming import StreamResult, streamed_fft
from ..progress import ProgressArg
from ..scattering import Curve1D, shell_curve, shell_edges


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
        from ..fft.distributed import dask_fft
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
