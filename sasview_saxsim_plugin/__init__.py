"""Numerical 3D-density small-angle scattering for SasView.

Forward problem: voxelised shapes -> split 3D FFT -> I(q) in absolute units (1/cm).
Units everywhere: lengths in Å, q in 1/Å, SLD in 1e-6/Å², intensity in 1/cm.
"""

__version__ = "0.1.0"

from .errors import SaxsimInputError

__all__ = ["SaxsimInputError", "__version__"]
