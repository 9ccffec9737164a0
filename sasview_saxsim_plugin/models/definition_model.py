"""Plugin models built from shape definitions (``saxsim make-model --shape FILE.py``).

The written plugin file carries the definition's source text, so it does not depend on the
definition file staying where it was: loading the plugin registers the shape
(``geometry.definitions``) and takes its sasmodels attributes from ``shape_models``, whose
engine tabulates the voxelised geometry. Before anything is written into the target folder
the plugin is loaded and evaluated from a temporary copy (a model that does not load never
reaches SasView's plugin folder).
"""

from __future__ import annotations

import hashlib
import keyword
import re
from pathlib import Path

from ..errors import SaxsimInputError
from ..geometry.definitions import definition_source, spec_from_source
from ..shapes import definition_file
from .density_model import check_model_name, write_checked
from .shape_models import model_name, model_namespace

TEMPLATE = '''"""Plugin model {model!r}: the shape definition {origin} (SHA-256 {sha}) computed
numerically by sasview_saxsim_plugin. Written by ``saxsim make-model --shape``; needs the
sasview_saxsim_plugin package in SasView's Python. The help page is the model's own.
"""

from sasview_saxsim_plugin.models.definition_model import definition_namespace as _namespace

_SOURCE = {source!r}

globals().update(_namespace(_SOURCE, {shape!r}, {model!r}))
'''


def definition_namespace(source: str, shape: str, model: str) -> dict:
    """The sasmodels attributes of plugin ``model`` for a definition's ``source``
    (registered as shape ``shape``)."""
    spec = spec_from_source(source, f"<{model} plugin>", name=shape)
    return model_namespace(spec.name, model=model)


def plugin_text(source: str, shape: str, model: str, origin: str) -> str:
    """Text of the plugin file of a definition."""
    sha = hashlib.sha256(source.encode()).hexdigest()[:16]
    return TEMPLATE.format(model=model, origin=origin, sha=sha, source=source, shape=shape)


def make_definition_model(definition: str | Path, name: str | None = None,
                          out_dir: str | Path | None = None, overwrite: bool = False,
                          check_q: tuple[float, ...] = (0.005, 0.05, 0.2)) -> Path:
    """Write the plugin model of a shape definition (a .py file or a shipped name) into
    ``out_dir`` (default: SasView's plugin folder) and return its path. ``name``: the model
    name (default ``numerical_<definition name>``). The model is loaded with sasmodels and
    evaluated at ``check_q`` (1/Å) with its default parameters first; only a model that
    loads and gives finite, positive I(q) is written."""
    source, filename = definition_source(definition_file(definition))
    if name is not None and not (re.fullmatch(r"[a-z][a-z0-9_]*", name)
                                 and not keyword.iskeyword(name)):
        raise SaxsimInputError(f"--name {name!r}: a model name starts with a lower-case "
                               "letter, followed by lower-case letters, digits or '_'")
    spec = spec_from_source(source, filename, name=name)
    model = name or model_name(spec.name)
    out = check_model_name(model, out_dir, overwrite)
    text = plugin_text(source, spec.name, model, Path(filename).name)
    write_checked(out, text, filename, check_q)
    return out
