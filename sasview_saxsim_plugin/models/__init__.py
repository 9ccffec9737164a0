"""sasmodels plugin models: one per registered shape (``numerical_<shape>``), models bound to
a user's density file (``saxsim make-model``), and their installation into SasView.

``load_numerical_model("cylinder")`` gives the sasmodels model of a registered shape;
``plugin_path("cylinder")`` the shipped plugin file (for ``sasmodels.core.load_model`` or
SasView's plugin folder).
"""

from __future__ import annotations

from ..geometry.registry import SHAPES
from .files import PLUGIN_DIR, load_numerical_model, plugin_path, stub_text
from .shape_models import PREFIX, model_name, shape_of

__all__ = ["PLUGIN_DIR", "PREFIX", "SHAPES", "load_numerical_model", "model_name",
           "plugin_path", "shape_of", "stub_text"]
