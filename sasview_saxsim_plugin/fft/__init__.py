"""The split 3D FFT (thesis chapter 3): the in-memory engine (``engine``), the reductions fused
into its second pass (``reductions``), the streamed engine for densities beyond memory
(``streaming``), the same passes as Dask tasks (``distributed``), and the benchmark against
``torch.fft`` / ``scipy.fft`` behind ``saxsim bench`` (``bench``)."""

from .engine import (
           SplitFFTPlan,
           SplitFFTResult,
           default_device,
           spectrum_view,
           split_fft,
)
from .reductions import DetectorSlice, FullIntensity, Reduction, ShellSums, fft_indices, k2_counts

__all__ = ["DetectorSlice", "FullIntensity", "Reduction", "ShellSums", "SplitFFTPlan",
           "SplitFFTResult", "default_device", "fft_indices", "k2_counts",
           "split_fft", "spectrum_view"]
