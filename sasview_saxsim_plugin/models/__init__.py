"""sasmodels plugin models: one per registered shape (``numerical_<shape>``: its definition in
``shape_models``, the tabulating engine behind it in ``engine``, its files in ``files``, its
tests' runner in ``checks``), models bound to a user's density file (``density_model``,
``saxsim make-model``), their installation into SasView (``install``) and the stub that
replaces the former ``numerical_density`` (``legacy``).

``load_numerical_model("cylinder")`` gives the sasmodels model of a registered shape;
``plugin_path("cylinder")`` its plugin file (for ``sasmodels.core.load_model`` or SasView's
plugin folder).
"""

from __future__ import annotations

from ..geometry.registry import SHAPES
from .files import PLUGIN_DIR, load_numerical_model, plugin_path, stub_text
from .shape_models import PREFIX, model_name, shape_of

__all__ = ["PLUGIN_DIR", "PREFIX", "SHAPES", "load_numerical_model", "model_name",
           "plugin_path", "shape_of", "stub_text"]
