"""SasView plugin model "numerical_cylinder" (sasview_saxsim_plugin.models.shape_models).

Needs the sasview_saxsim_plugin package in SasView's Python; upgrading the package upgrades
the model. Written by sasview_saxsim_plugin (shipped).
"""

from sasview_saxsim_plugin.models.shape_models import model_namespace as _namespace

globals().update(_namespace('cylinder'))
