"""Register the package's perspectives with SasView 6.1 without touching SasView's files.

SasView builds its perspectives from ``sas.qtgui.Perspectives.PERSPECTIVES`` (name -> class)
when the main window is created, and again on "Open Project" (``loadAllPerspectives``). The
Data Explorer's perspective box lists that table too. The Analysis menu, however, is fixed in
SasView's .ui file, so :func:`register` wraps ``GuiManager.loadAllPerspectives`` to add one
menu entry per perspective after every (re)build; the entries are found by object name, so
adding them is idempotent.
"""

from __future__ import annotations

import functools
import logging

from .compat import check_sasview

logger = logging.getLogger(__name__)

_WRAPPED_FLAG = "_saxsim_wrapped"


def perspective_classes() -> dict:
    """name -> perspective class, for every perspective this package provides."""
    from .comparison_view import NumericalComparisonWindow
    from .estimation_view import ShapeEstimationWindow

    return {cls.name: cls for cls in (ShapeEstimationWindow, NumericalComparisonWindow)}


def register() -> list[str]:
    """Add the perspectives to SasView's table and the Analysis menu hook (idempotent).

    Call before SasView's main window is built. Returns the perspective names. Raises
    ``compat.SasViewCompatibilityError`` for a SasView this package was not tested with.
    """
    check_sasview()
    # SasView loads PySide6 before its perspectives, whose matplotlib Qt backends pick the
    # Qt binding already imported (else they look for PyQt5/PySide2 and fail)
    import PySide6.QtWidgets  # noqa: F401
    import sas.qtgui.Perspectives as perspectives
    from sas.qtgui.MainWindow.GuiManager import GuiManager

    classes = perspective_classes()
    for name, cls in classes.items():
        perspectives.PERSPECTIVES.setdefault(name, cls)
    original = GuiManager.loadAllPerspectives
    if not getattr(original, _WRAPPED_FLAG, False):
        @functools.wraps(original)
        def load_all_perspectives(manager, *args, **kwargs):
            result = original(manager, *args, **kwargs)
            try:
                ensure_menu_entries(manager)
            except Exception:  # a menu problem must never stop SasView from starting
                logger.exception("could not add the saxsim entries to the Analysis menu")
            return result

        setattr(load_all_perspectives, _WRAPPED_FLAG, True)
        GuiManager.loadAllPerspectives = load_all_perspectives
    return list(classes)


def ensure_menu_entries(manager) -> list:
    """One checkable Analysis-menu action per registered perspective of this package; returns
    the actions (existing ones are reused, so calling this again adds nothing)."""
    from PySide6.QtGui import QAction

    menu = manager._workspace.menuAnalysis
    existing = {a.objectName(): a for a in menu.actions()}
    actions = []
    for name, cls in perspective_classes().items():
        object_name = f"actionSaxsim{name}"
        action = existing.get(object_name)
        if action is None:
            action = QAction(cls.menu_text, menu)
            action.setObjectName(object_name)
            action.setCheckable(True)
            action.triggered.connect(functools.partial(show_perspective, manager, name))
            menu.addAction(action)
        actions.append(action)
    if not getattr(manager, "_saxsim_menu_sync", False):
        manager.communicate.perspectiveChangedSignal.connect(
            functools.partial(_sync_menu_check, manager))
        manager._saxsim_menu_sync = True
    return actions


def show_perspective(manager, name: str, *_) -> None:
    """Switch SasView to perspective ``name`` the way the Data Explorer's box does."""
    explorer = getattr(manager, "filesWidget", None)
    if explorer is not None and explorer.cbFitting.findText(name) >= 0:
        explorer.cbFitting.setCurrentIndex(explorer.cbFitting.findText(name))
    else:
        manager.perspectiveChanged(name)
    _sync_menu_check(manager, name)


def _sync_menu_check(manager, name: str) -> None:
    """SasView only ticks its own perspectives in the Analysis menu; tick ours."""
    action = next((a for a in manager._workspace.menuAnalysis.actions()
                   if a.objectName() == f"actionSaxsim{name}"), None)
    if action is not None:
        manager.checkAnalysisOption(action)
