"""``sasview-saxsim`` / ``saxsim gui``: SasView with this package's perspectives.

Checks the SasView version, installs the numerical_density plugin model into SasView's
plugin folder on first start (an existing file is left alone), registers the perspectives
and hands over to SasView's own entry point (``sas.cli.main``), so SasView's logging,
configuration and command-line flags behave as with ``sasview``.
"""

from __future__ import annotations

import logging
import sys

from ..errors import SaxsimInputError
from .compat import SasViewCompatibilityError, check_sasview

logger = logging.getLogger(__name__)


def ensure_plugin_model() -> str:
    """Install numerical_density.py into SasView's plugin folder unless it is there; returns
    a one-line description of what happened."""
    from ..install import install_model, sasview_plugin_dir

    target = sasview_plugin_dir() / "numerical_density.py"
    if target.exists():
        return f"plugin model present: {target}"
    install_model(overwrite=False)
    return f"plugin model installed: {target}"


def main(argv: list[str] | None = None) -> int:
    """Start SasView with the perspectives registered; ``argv`` as for ``sasview``."""
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        version = check_sasview()
        message = ensure_plugin_model()
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
