"""The plugin files of the numerical shape models: the shipped ones, their text, and files for
shapes registered at run time."""

from __future__ import annotations

import os
from pathlib import Path

from ..geometry.registry import get_shape
from .shape_models import model_name

#: the shipped plugin files, one per registered shape
PLUGIN_DIR = Path(__file__).parent / "plugins"

STUB_TEMPLATE = '''"""SasView plugin model "{name}" (sasview_saxsim_plugin.models.shape_models).

Needs the sasview_saxsim_plugin package in SasView's Python; upgrading the package upgrades
the model. Written by sasview_saxsim_plugin ({how}).
"""

from sasview_saxsim_plugin.models.shape_models import model_namespace as _namespace

globals().update(_namespace({shape!r}))
'''


def stub_text(shape: str, how: str = "saxsim install-model") -> str:
    """Text of the plugin file of the registered ``shape``."""
    spec = get_shape(shape)
    return STUB_TEMPLATE.format(name=model_name(spec.name), shape=spec.name, how=how)


def plugin_path(shape: str) -> Path:
    """The plugin file ``numerical_<shape>.py`` of the registered ``shape``: the shipped one,
    or, for a shape registered at run time, one written into ``$SAXSIM_CACHE/plugins``
    (default ``~/.cache/saxsim/plugins``)."""
    name = model_name(get_shape(shape).name)
    shipped = PLUGIN_DIR / f"{name}.py"
    if shipped.exists():
        return shipped
    folder = Path(os.environ.get("SAXSIM_CACHE", Path.home() / ".cache" / "saxsim")) / "plugins"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.py"
    text = stub_text(shape, "written for a shape registered at run time")
    if not path.exists() or path.read_text() != text:
        path.write_text(text)
    return path


def load_numerical_model(shape: str):
    """The sasmodels model (``sasmodels.core.load_model``) of ``numerical_<shape>``."""
    from sasmodels.core import load_model
    return load_model(str(plugin_path(shape)))
