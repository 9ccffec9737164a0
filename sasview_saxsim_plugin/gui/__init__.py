"""SasView integration (SasView 6.1): two perspectives and their registration.

* ``ShapeEstimate``: the ranked sasmodels families and parameters of loaded 1D data from the
  trained network; "Send to Fitting" seeds a fit page with the family the user picks (docs:
  SasView walk-through);
* ``NumericalModel``: a voxelised shape computed numerically next to its sasmodels model.

``register()`` adds both to SasView's perspective table and Analysis menu (idempotent); the
``sasview-saxsim`` command (``saxsim gui``) does that and starts SasView.
"""

from ..errors import SasViewCompatibilityError
from .compat import check_sasview
from .registration import register

__all__ = ["SasViewCompatibilityError", "check_sasview", "register"]
