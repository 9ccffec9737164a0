"""Numerical small-angle scattering for SasView.

Forward: voxelised shapes and densities -> split 3D FFT or lattice Debye sum -> I(q) in
absolute units (1/cm), as sasmodels plugin models (``models``) and commands (``cli``).
Inverse: a trained network that estimates a 1D curve's sasmodels model (``inverse``).
Units everywhere: lengths in Å, q in 1/Å, SLD in 1e-6/Å², intensity in 1/cm.
"""

__version__ = "0.1.0"

from .errors import SaxsimInputError

__all__ = ["SaxsimInputError", "__version__"]
