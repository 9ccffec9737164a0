"""Put the plugin models where SasView looks for them (``saxsim install-model``)."""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import SaxsimInputError
from ..geometry.registry import builtin_shape_names
from . import model_name, stub_text

LEGACY_STUB = '''"""numerical_density: replaced by one plugin model per shape (see its help).

Written by `saxsim install-model`; needs the sasview_saxsim_plugin package in SasView's Python.
"""

from sasview_saxsim_plugin.models import legacy as _definition
from sasview_saxsim_plugin.models.legacy import *  # noqa: F401,F403

__doc__ = _definition.__doc__
'''


def sasview_plugin_dir() -> Path:
    """SasView's plugin-model folder (``sas.system.user.get_plugin_dir()``)."""
    try:
        from sas.system.user import get_plugin_dir
    except ImportError as exc:
        raise SaxsimInputError(
            f"SasView is not importable ({exc}); install it (pip install -e '.[gui]') or "
            f"pass --dir") from None
    return Path(get_plugin_dir())


def install_models(target_dir: str | os.PathLike | None = None) -> list[Path]:
    """Write ``numerical_<shape>.py`` for every registered shape into ``target_dir``
    (default: SasView's plugin folder). Each file is a three-line import of
    :mod:`sasview_saxsim_plugin.models.shape_models`, so upgrading the package upgrades the
    models. An older ``numerical_density.py`` there is replaced by a model that names its
    successors (so saved fits open with a clear message). Returns the paths written."""
    folder = Path(target_dir) if target_dir is not None else sasview_plugin_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SaxsimInputError(f"cannot create the plugin folder {folder}: {exc}") from None
    written = []
    # built-in shapes only: a definition's plugin carries its source (saxsim make-model --shape)
    for shape in builtin_shape_names():
        path = folder / f"{model_name(shape)}.py"
        path.write_text(stub_text(shape))
        written.append(path)
    old = folder / "numerical_density.py"
    if old.exists():
        old.write_text(LEGACY_STUB)
        written.append(old)
    return written
