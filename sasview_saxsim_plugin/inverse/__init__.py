"""Inverse problem: the sasmodels families and parameters of a measured 1D SAXS/SANS curve
(FrEIA networks).

``from sasview_saxsim_plugin.inverse import estimate``; see ``estimate.estimate``.
"""

from .estimate import Estimate, WeightsError, estimate

__all__ = ["Estimate", "WeightsError", "estimate"]
