"""What the package's SasView perspectives share: SasView's Perspective contract (closing,
no project state of their own), messages to the perspective + SasView's log + status bar,
and opening a seeded fit page in the Fitting perspective."""

from __future__ import annotations

import logging

from PySide6 import QtCore
from sas.qtgui.Perspectives.perspective import Perspective

from ..errors import SaxsimInputError

logger = logging.getLogger("sasview_saxsim_plugin.gui")

_COLOURS = {logging.ERROR: "#b00020", logging.WARNING: "#8a5a00"}


class SaxsimPerspective(Perspective):
    """Mixin for a QWidget perspective; call ``init_perspective(parent)`` in ``__init__``.

    Subclasses provide ``status`` (a QLabel) and optionally ``job`` (a running worker.Job).
    """

    def init_perspective(self, parent) -> None:
        self._manager = parent
        self._allow_close = False
        self.communicate = parent.communicator() if parent is not None else None
        if self.communicate is not None:
            self.communicate.dataDeletedSignal.connect(self.removeData)

    # SasView's Perspective contract -------------------------------------------------
    def communicator(self):
        return self.communicate

    def setClosable(self, value: bool = True) -> None:
        self._allow_close = bool(value)

    def isClosable(self) -> bool:
        return self._allow_close

    def isSerializable(self) -> bool:
        # nothing of ours goes into a project file: saving a project with this view open
        # writes the other perspectives' state as usual
        return False

    def updateFromParameters(self, params: dict) -> None:
        """Projects carry no state for this perspective: nothing to restore."""

    def closeEvent(self, event) -> None:
        if self._allow_close:
            self._allow_close = False
            for job in self.running_jobs():  # a computation must not outlive the view
                job.cancel()
                job.wait(10_000)
            if self.parentWidget():
                self.parentWidget().close()
            event.accept()
        else:
            event.ignore()
            self.setWindowState(QtCore.Qt.WindowMinimized)

    def running_jobs(self) -> list:
        """The worker jobs of this view that are running (``job`` and its pages' jobs)."""
        pages = [self, *(getattr(self, name) for name in ("build_page",) if hasattr(self, name))]
        return [p.job for p in pages if getattr(p, "job", None) is not None]

    # messages --------------------------------------------------------------------------
    def report(self, message: str, level: int = logging.INFO) -> None:
        """Show ``message`` in the perspective, SasView's log and its status bar."""
        logger.log(level, message)
        label = getattr(self, "status", None)
        if label is not None:
            colour = _COLOURS.get(level)
            label.setText(message if colour is None else
                          f"<span style='color:{colour}'>{message}</span>")
        if self.communicate is not None:
            self.communicate.statusBarUpdateSignal.emit(message)

    # fitting ---------------------------------------------------------------------------
    def reload_plugin_models(self) -> None:
        """Make SasView's fit pages list a plugin model written just now, without a restart:
        SasView's own reload slot (``FittingWidget.onCustomModelChange``, what its model
        editors trigger through ``customModelDirectoryChanged``) on every fit page. A page
        showing a plugin model with a structure factor only gets the new lists: SasView 6.1's
        in-place refresh of such a page fails ("Model does not contain parameter
        hardsphere")."""
        fitting = getattr(self._manager, "loadedPerspectives", {}).get("Fitting")
        for page in getattr(fitting, "tabs", []):
            if not hasattr(page, "onCustomModelChange"):
                continue                        # a constraint or batch tab
            structure = page.cbStructureFactor.currentText()
            if page.cbCategory.currentText() == "Plugin Models" and structure not in (
                    "", "None"):
                page.custom_models = page.customModels()
                page.readCustomCategoryInfo()
                page.onCategoriesChanged()
            else:
                page.onCustomModelChange()

    def send_to_fitting(self, item, line_dict: dict[str, list[str]], label: str = "") -> bool:
        """Open a new fit page (for data ``item``, or a model-only page when None) with the
        model and parameters of ``line_dict`` (see fit_seeding). Reports and returns False
        when SasView's fitting perspective lacks the model."""
        manager = self._manager
        fitting = getattr(manager, "loadedPerspectives", {}).get("Fitting")
        if fitting is None:
            self.report("SasView's Fitting perspective is not loaded", level=logging.ERROR)
            return False
        try:
            self._switch_to_fitting(manager)
            fitting.addFit(item)
            page = fitting.currentTab
            self._choose_model(page, line_dict)
            page.createPageForParameters(line_dict)
        except SaxsimInputError as exc:
            self.report(str(exc), level=logging.ERROR)
            return False
        name = line_dict["fitpage_model"][0]
        structure = line_dict["fitpage_structure"][0]
        model = name if structure == "None" else f"{name}@{structure}"
        self.report(f"{label or 'model'}: fit page {fitting.tabText(fitting.currentIndex())} "
                    f"opened with {model}; press Fit")
        return True

    @staticmethod
    def _switch_to_fitting(manager) -> None:
        explorer = getattr(manager, "filesWidget", None)
        if explorer is not None:
            index = explorer.cbFitting.findText("Fitting")
            if index >= 0 and explorer.cbFitting.currentIndex() != index:
                explorer.cbFitting.setCurrentIndex(index)  # SasView's own switch path
                return
        if manager.perspective() is None or manager.perspective().name != "Fitting":
            manager.perspectiveChanged("Fitting")

    @staticmethod
    def _choose_model(page, line_dict: dict[str, list[str]]) -> None:
        """Select category / model / structure factor, refusing what the page does not list
        (a missing plugin model would otherwise open SasView's modal 'not the same model')."""
        category = line_dict["fitpage_category"][0]
        model = line_dict["fitpage_model"][0]
        structure = line_dict["fitpage_structure"][0]
        index = page.cbCategory.findText(category)
        if index < 0:
            raise SaxsimInputError(f"SasView's fit page has no category {category!r}")
        page.cbCategory.setCurrentIndex(index)
        if page.cbModel.findText(model) < 0:
            hint = (" Install the plugin model (saxsim install-model, or start SasView with "
                    "sasview-saxsim) and restart SasView." if category == "Plugin Models"
                    else "")
            raise SaxsimInputError(f"SasView's fit page does not list the model {model!r}.{hint}")
        page.cbModel.setCurrentIndex(page.cbModel.findText(model))
        if structure != "None" and (not page.cbStructureFactor.isEnabled()
                                    or page.cbStructureFactor.findText(structure) < 0):
            raise SaxsimInputError(f"the model {model!r} cannot take the structure factor "
                                   f"{structure!r} in SasView")
