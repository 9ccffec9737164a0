"""Beyond memory (issue 6): densities streamed slab by slab through the split FFT, with the
intermediate spectrum in RAM or on disk (``streaming``), any density file (``readers``),
and the same two passes as Dask tasks (``distributed``)."""

from .sources import (
    ArraySource,
    CrystalliteSource,
    DensitySource,
    EnsembleSource,
    RandomSource,
)
from .streaming import StreamPlan, StreamResult, plan_stream, streamed_fft

__all__ = ["ArraySource", "CrystalliteSource", "DensitySource", "EnsembleSource", "RandomSource",
           "StreamPlan", "StreamResult", "plan_stream", "streamed_fft"]
