"""Put the numerical_density plugin model where SasView looks for plugin models."""

from __future__ import annotations

import os
from pathlib import Path

from .errors import SaxsimInputError

STUB = '''"""SasView plugin model "numerical_density" (see sasview_saxsim_plugin.plugin_model).

Written by `saxsim install-model`; needs the sasview_saxsim_plugin package in SasView's Python.
"""

from sasview_saxsim_plugin import plugin_model as _definition
from sasview_saxsim_plugin.plugin_model import *  # noqa: F401,F403

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


def install_model(target_dir: str | os.PathLike | None = None, overwrite: bool = True) -> Path:
    """Write ``numerical_density.py`` into ``target_dir`` (default: SasView's plugin folder).

    The file is a thin import of :mod:`sasview_saxsim_plugin.plugin_model`, so upgrading the
    package upgrades the model. Returns the path written.
    """
    folder = Path(target_dir) if target_dir is not None else sasview_plugin_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "numerical_density.py"
    if path.exists() and not overwrite:
        raise SaxsimInputError(f"{path} exists (use overwrite)")
    path.write_text(STUB)
    return path
