"""``sasview-saxsim`` / ``saxsim gui``: SasView with this package's perspectives.

Checks the SasView version, installs the numerical_<shape> plugin models into SasView's
plugin folder when one is missing, registers the perspectives
and hands over to SasView's own entry point (``sas.cli.main``), so SasView's logging,
configuration and command-line flags behave as with ``sasview``.
"""

from __future__ import annotations

import logging
import sys

from ..errors import SasViewCompatibilityError, SaxsimInputError
from .compat import check_sasview

logger = logging.getLogger(__name__)


def ensure_plugin_models() -> str:
    """Install the numerical_<shape> plugin models into SasView's plugin folder where one is
    missing (an older numerical_density.py is replaced by one naming its successors);
    returns a one-line description of what happened."""
    from ..geometry.registry import builtin_shape_names
    from ..models import model_name
    from ..models.install import install_models, sasview_plugin_dir

    folder = sasview_plugin_dir()
    missing = [s for s in builtin_shape_names() if not (folder / f"{model_name(s)}.py").exists()]
    if not missing:
        return f"plugin models present in {folder}"
    install_models(folder)
    return f"plugin models installed in {folder}: {', '.join(model_name(s) for s in missing)}"


def main(argv: list[str] | None = None) -> int:
    """Start SasView with the perspectives registered; ``argv`` as for ``sasview``."""
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        version = check_sasview()
        message = ensure_plugin_models()
        from .registration import register
        names = register()
    except (SasViewCompatibilityError, SaxsimInputError, OSError) as exc:
        print(f"sasview-saxsim: {exc}", file=sys.stderr)
        return 2
    print(f"SasView {version} with perspectives {', '.join(names)}; {message}")
    from sas.cli import main as sasview_main

    sys.argv = ["sasview", *args]
    return int(sasview_main() or 0)


if __name__ == "__main__":
    sys.exit(main())
