"""From a spectrum to I(q): q grid, voxel corrections, absolute units, 1D routes, comparison."""

from .compare import compare_curves
from .curve import Curve1D
from .debye import DebyeProfile, lattice_debye
from .qgrid import ABSOLUTE_UNITS, dft_q, intensity_factor, q_step, trusted_q_max
from .reference import reference_parameters, sasmodels_iq, sasmodels_iqxy
from .shells import bin_edges, native_edges, shell_curve, shell_edges
from .voxel import box_response_average, isotropic_correction

__all__ = ["ABSOLUTE_UNITS", "Curve1D", "DebyeProfile", "bin_edges", "box_response_average",
           "compare_curves", "dft_q", "intensity_factor", "isotropic_correction", "lattice_debye",
           "native_edges", "q_step", "reference_parameters", "sasmodels_iq",
           "sasmodels_iqxy", "shell_curve", "shell_edges", "trusted_q_max"]
