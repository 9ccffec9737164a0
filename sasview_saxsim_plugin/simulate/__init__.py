"""Forward simulations: a registered shape or an ensemble in, a curve in 1/cm out.

``particle``: one particle by the lattice Debye sum; ``ensemble``: a box of particles
through the split FFT; ``stream``: any density source through the streamed or Dask FFT;
``compare``: each of them next to its sasmodels model."""

from .compare import Comparison, compare_aligned_cylinders_2d, compare_ensemble, compare_particle
from .ensemble import build_ensemble, combine_realisations, ensemble_curve, fft_route
from .particle import auto_spacing, particle_curve
from .stream import stream_curve

__all__ = ["Comparison", "auto_spacing", "build_ensemble", "combine_realisations",
           "compare_aligned_cylinders_2d", "compare_ensemble", "compare_particle",
           "ensemble_curve", "fft_route", "particle_curve", "stream_curve"]
