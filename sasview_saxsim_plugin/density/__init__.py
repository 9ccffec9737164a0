"""3D densities from anywhere: sources that hand the streamed FFT a box slab by slab
(arrays, seeded ensembles, crystallites, random test data) and readers of density files
(.npy, HDF5, MRC, cube, CHGCAR, CIF unit cells)."""

from .readers import open_density, read_unit_cell
from .sources import ArraySource, CrystalliteSource, DensitySource, EnsembleSource, RandomSource

__all__ = ["ArraySource", "CrystalliteSource", "DensitySource", "EnsembleSource",
           "RandomSource", "open_density", "read_unit_cell"]
