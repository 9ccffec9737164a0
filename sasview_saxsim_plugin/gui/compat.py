"""Which SasView this integration was built against, checked before anything touches its GUI.

SasView 6.1 has no perspective plug-in mechanism, so :mod:`.registration` relies on its
internals (``sas.qtgui.Perspectives.PERSPECTIVES``, ``GuiManager.loadAllPerspectives``,
the Analysis menu, ``FittingWindow.addFit`` and the fit page's parameter dictionaries). Those
are tested here with the versions below; other versions are refused with a clear message.
"""

from __future__ import annotations

import importlib.util

from ..errors import SasViewCompatibilityError

#: SasView release series tested with this package (major.minor)
TESTED_SASVIEW_SERIES = ("6.1",)


def sasview_version() -> str | None:
    """The installed SasView version, or None when SasView is not importable."""
    try:
        from sas.system.version import __version__
    except ImportError:
        return None
    return str(__version__)


def check_sasview() -> str:
    """Return the SasView version, or raise SasViewCompatibilityError saying what to do."""
    version = sasview_version()
    if version is None:
        raise SasViewCompatibilityError(
            "SasView is not installed in this Python: pip install -e '.[gui]' "
            f"(tested with SasView {', '.join(s + '.x' for s in TESTED_SASVIEW_SERIES)})")
    series = ".".join(version.split(".")[:2])
    if series not in TESTED_SASVIEW_SERIES:
        raise SasViewCompatibilityError(
            f"SasView {version} is not supported by this plugin (tested with "
            f"{', '.join(s + '.x' for s in TESTED_SASVIEW_SERIES)}): its perspective "
            "registration relies on SasView internals that change between releases. Install "
            "a tested SasView (pip install 'sasview>=6.1,<6.2') or use the CLI (saxsim).")
    # SasView 6.1's main window imports pkg_resources, which setuptools >= 81 no longer ships
    if importlib.util.find_spec("pkg_resources") is None:
        raise SasViewCompatibilityError(
            f"SasView {version} needs pkg_resources, which setuptools 81 and newer no longer "
            "ship: pip install 'setuptools<81'")
    return version
