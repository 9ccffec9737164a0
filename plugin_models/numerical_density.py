"""SasView plugin model "numerical_density" (defined in sasview_saxsim_plugin.plugin_model).

Install it into SasView's plugin folder with ``saxsim install-model``; load it in scripts with
``sasmodels.core.load_model("plugin_models/numerical_density.py")``.
"""

from sasview_saxsim_plugin import plugin_model as _definition
from sasview_saxsim_plugin.plugin_model import *  # noqa: F401,F403  (name, parameters, Iq, ...)

__doc__ = _definition.__doc__
