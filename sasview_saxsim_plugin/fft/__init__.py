"""The memory-saving split 3D FFT and the reductions fused into its pencil pass."""

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
