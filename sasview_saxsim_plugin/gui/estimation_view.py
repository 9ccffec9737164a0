"""SasView perspective "ShapeEstimate": the sasmodels families most likely to describe loaded
1D data and their parameters, from the trained network, shown ranked with probabilities and
16-84 % intervals, plotted, exported, and sent to a fit page (any listed family).

Data arrive from the Data Explorer ("Send data to", ``setData``); each dataset becomes a row.
Estimates run in a worker thread (one dataset after the other); a dataset the network cannot
use (2D, SESANS, too few points, NaNs, 1/nm q, ...) is listed with the reason, logged, and
skipped: SasView keeps running and no traceback dialog appears.
"""

from __future__ import annotations

import csv
import logging
from dataclasses import dataclass

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets

from ..errors import SaxsimInputError
from ..inverse.analysis import format_parameters
from .fit_seeding import fit_page_parameters, fitted_for_family
from .perspective_base import SaxsimPerspective
from .plot_canvas import CurveCanvas
from .worker import Job

logger = logging.getLogger(__name__)

COLUMNS = ["dataset", "points", "status", "model", "P", "2nd (P)", "3rd (P)", "confident",
           "χ²_r"]
FAMILY_COLUMNS = ["family", "P", "parameters: median [16 %, 84 %]"]


@dataclass
class DatasetRow:
    """One dataset in the perspective: the SasView item, its curve or why it is unusable,
    and its analysis once estimated."""

    name: str
    item: QtGui.QStandardItem | None
    curve: object = None          # scattering.curve.Curve1D
    problem: str = ""
    analysis: object = None       # inverse.analysis.CurveAnalysis
    error: str = ""
    family: str | None = None     # the family the user picked in the families list


class ShapeEstimationWindow(QtWidgets.QWidget, SaxsimPerspective):
    """The shape-estimation perspective (see module docstring)."""

    name = "ShapeEstimate"
    ext = "sest"
    menu_text = "Shape Estimation (saxsim)"

    @property
    def title(self) -> str:
        return "Shape estimation (saxsim inverse network)"

    def __init__(self, parent=None):
        super().__init__()
        self.init_perspective(parent)
        self.rows: list[DatasetRow] = []
        self.job: Job | None = None
        self._queue: list[int] = []
        self._running_row: int | None = None
        self._build()
        self.setWindowTitle(self.title)

    # ------------------------------------------------------------------ layout
    def _build(self) -> None:
        self.table = QtWidgets.QTableWidget(0, len(COLUMNS), self)
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectRows)
        self.table.setEditTriggers(QtWidgets.QAbstractItemView.NoEditTriggers)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QtWidgets.QHeaderView.ResizeToContents)
        # long messages stay readable in the tooltip and the details pane
        header.setSectionResizeMode(COLUMNS.index("status"), QtWidgets.QHeaderView.Interactive)
        self.table.setColumnWidth(COLUMNS.index("status"), 200)
        self.table.setWordWrap(False)
        self.table.setTextElideMode(QtCore.Qt.ElideRight)
        self.table.itemSelectionChanged.connect(self._show_selected)

        self.chk_refine = QtWidgets.QCheckBox(
            "refine by least squares (median 0.1 s, up to a few s per curve)")
        self.chk_refine.setToolTip("after the network, run a short sasmodels least-squares fit "
                                   "of the estimated shape (and of any alternative ≥ 5 %)")
        self.btn_estimate = QtWidgets.QPushButton("Estimate")
        self.btn_estimate.setToolTip("estimate the selected datasets (all when none selected)")
        self.btn_cancel = QtWidgets.QPushButton("Cancel")
        self.btn_send = QtWidgets.QPushButton("Send to Fitting")
        self.btn_send.setToolTip("open a fit page for the selected dataset with the family "
                                 "selected in the lower table (the top one unless you pick "
                                 "another) and its estimated parameters filled in")
        self.btn_csv = QtWidgets.QPushButton("Export CSV…")
        self.btn_remove = QtWidgets.QPushButton("Remove")
        self.btn_estimate.clicked.connect(self.on_estimate)
        self.btn_cancel.clicked.connect(self.on_cancel)
        self.btn_send.clicked.connect(self.on_send_to_fitting)
        self.btn_csv.clicked.connect(self.on_export_csv)
        self.btn_remove.clicked.connect(self.on_remove)

        self.busy = QtWidgets.QProgressBar(self)
        self.busy.setRange(0, 0)          # indeterminate: the network gives no steps
        self.busy.setVisible(False)
        self.busy.setMaximumHeight(14)
        self.status = QtWidgets.QLabel("Send 1D data here from the Data Explorer.")
        self.status.setWordWrap(True)

        self.families = QtWidgets.QTableWidget(0, len(FAMILY_COLUMNS), self)
        self.families.setHorizontalHeaderLabels(FAMILY_COLUMNS)
        self.families.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectRows)
        self.families.setSelectionMode(QtWidgets.QAbstractItemView.SingleSelection)
        self.families.setEditTriggers(QtWidgets.QAbstractItemView.NoEditTriggers)
        self.families.horizontalHeader().setSectionResizeMode(
            QtWidgets.QHeaderView.ResizeToContents)
        self.families.horizontalHeader().setStretchLastSection(True)
        self.families.setToolTip("the families the network finds likely; select one to plot it "
                                 "and to send it to a fit page")
        self.families.itemSelectionChanged.connect(self._family_selected)
        self.details = QtWidgets.QTextBrowser(self)
        self.details.setMinimumWidth(260)
        self.canvas = CurveCanvas(self, residual_label="(I - model)/σ")
        self.canvas.setMinimumSize(420, 340)

        buttons = QtWidgets.QHBoxLayout()
        for w in (self.btn_estimate, self.btn_cancel, self.chk_refine):
            buttons.addWidget(w)
        buttons.addStretch(1)
        for w in (self.btn_send, self.btn_csv, self.btn_remove):
            buttons.addWidget(w)
        left = QtWidgets.QSplitter(QtCore.Qt.Vertical, self)
        left.addWidget(self.families)
        left.addWidget(self.details)
        lower = QtWidgets.QSplitter(QtCore.Qt.Horizontal, self)
        lower.addWidget(left)
        lower.addWidget(self.canvas)
        lower.setStretchFactor(1, 2)
        splitter = QtWidgets.QSplitter(QtCore.Qt.Vertical, self)
        splitter.addWidget(self.table)
        splitter.addWidget(lower)
        splitter.setStretchFactor(1, 3)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addLayout(buttons)
        layout.addWidget(self.busy)
        layout.addWidget(self.status)
        layout.addWidget(splitter)
        self.resize(980, 760)
        self._update_buttons()

    def sizeHint(self) -> QtCore.QSize:
        return QtCore.QSize(980, 760)

    # ------------------------------------------------------------------ SasView interface
    def allowBatch(self) -> bool:
        return True

    def setData(self, data_item=None, is_batch: bool = False) -> None:
        """Add the Data Explorer's items (QStandardItems) as rows and estimate them."""
        items = data_item if isinstance(data_item, list) else [data_item]
        new_rows = []
        for item in items:
            row = self._row_from_item(item)
            self.rows.append(row)
            new_rows.append(len(self.rows) - 1)
            if row.problem:
                self.report(f"{row.name}: {row.problem}", level=logging.WARNING)
        self._refresh_table()
        usable = [i for i in new_rows if not self.rows[i].problem]
        if usable:
            self.table.selectRow(usable[0])
            self.start_estimates(usable)

    def removeData(self, data_list=None) -> None:
        """The Data Explorer deleted items: drop their rows (a running estimate is discarded)."""
        if not data_list:
            return
        doomed = data_list if isinstance(data_list, list) else [data_list]
        keep = [r for r in self.rows if r.item is None or r.item not in doomed]
        if len(keep) != len(self.rows):
            self._drop_rows(keep)

    # ------------------------------------------------------------------ data
    def _row_from_item(self, item) -> DatasetRow:
        from ..io.loading import curve_from_dataset

        name = item.text() if isinstance(item, QtGui.QStandardItem) else str(item)
        try:
            from sas.qtgui.Utilities import GuiUtils
            data = GuiUtils.dataFromItem(item)
            curve = curve_from_dataset(data, name)
            if curve.q.size < 20:
                raise SaxsimInputError(f"{name}: {curve.q.size} points; the estimate needs at "
                                       "least 20")
        except SaxsimInputError as exc:
            return DatasetRow(name, item, problem=str(exc).removeprefix(f"{name}: "))
        except Exception as exc:  # an item without data (closed, a theory, ...)
            return DatasetRow(name, item, problem=f"cannot read the dataset ({exc})")
        return DatasetRow(curve.title if name == "" else name, item, curve=curve)

    def add_curve(self, curve, name: str | None = None) -> int:
        """Add a ``Curve1D`` directly (scripting, tests); returns its row index."""
        self.rows.append(DatasetRow(name or curve.title, None, curve=curve))
        self._refresh_table()
        return len(self.rows) - 1

    # ------------------------------------------------------------------ estimates
    def start_estimates(self, indices: list[int]) -> None:
        """Queue rows for estimation; runs them one after the other in a worker thread."""
        todo = [i for i in indices if not self.rows[i].problem]
        skipped = [self.rows[i].name for i in indices if self.rows[i].problem]
        if skipped:
            self.report(f"skipped (not usable): {', '.join(skipped)}", level=logging.INFO)
        self._queue.extend(i for i in todo if i not in self._queue)
        if self.job is None:
            self._next()

    def _next(self) -> None:
        if not self._queue:
            self._running_row = None
            self.busy.setVisible(False)
            self._update_buttons()
            return
        index = self._queue.pop(0)
        row = self.rows[index]
        refine = self.chk_refine.isChecked()
        self._running_row = index
        self.busy.setVisible(True)
        self.status.setText(f"estimating {row.name}…")
        from ..errors import WeightsError
        from ..inverse.analysis import analyse_curve

        curve = row.curve
        self.job = Job(lambda progress: analyse_curve(curve, refine=refine), self,
                       user_errors=(WeightsError,))
        self.job.succeeded.connect(lambda result, r=row: self._done(r, result))
        self.job.failed.connect(lambda msg, details, r=row: self._failed(r, msg, details))
        self.job.cancelled.connect(self._cancelled)
        self.job.finished.connect(self._job_finished)
        self._update_buttons()
        self.job.start()

    def _done(self, row: DatasetRow, analysis) -> None:
        row.analysis, row.error = analysis, ""
        e = analysis.estimate
        self.report(f"{row.name}: {e.model_name} (P = {e.probabilities[e.model_name]:.2f}, "
                    f"{'confident' if e.confident else 'NOT confident'}) in {e.seconds:.2f} s")

    def _failed(self, row: DatasetRow, message: str, details: str) -> None:
        row.error = message
        if details:
            logger.error("shape estimate of %s failed:\n%s", row.name, details)
        self.report(f"{row.name}: {message}", level=logging.ERROR)

    def _cancelled(self) -> None:
        self._queue.clear()
        self.report("estimation cancelled", level=logging.INFO)

    def _job_finished(self) -> None:
        self.job = None
        self._refresh_table()
        self._show_selected()
        self._next()

    def on_estimate(self) -> None:
        selected = self.selected_indices() or list(range(len(self.rows)))
        if not selected:
            self.report("no datasets: send 1D data here from the Data Explorer",
                        level=logging.INFO)
            return
        self.start_estimates(selected)

    def on_cancel(self) -> None:
        self._queue.clear()
        if self.job is not None:
            self.job.cancel()

    # ------------------------------------------------------------------ table / details
    def selected_indices(self) -> list[int]:
        return sorted({i.row() for i in self.table.selectionModel().selectedRows()})

    def _refresh_table(self) -> None:
        self.table.setRowCount(len(self.rows))
        for r, row in enumerate(self.rows):
            a = row.analysis
            e = a.estimate if a is not None else None
            if row.problem:
                status = f"not usable: {row.problem}"
            elif row.error:
                status = f"failed: {row.error}"
            elif e is None:
                status = "waiting" if r != self._running_row else "running"
            else:
                status = "refined" if a.refined is not None else "estimated"
            cells = {"dataset": row.name,
                     "points": "" if row.curve is None else str(row.curve.q.size),
                     "status": status}
            if e is not None:
                cells.update({"model": e.model_name,
                              "P": f"{e.probabilities[e.model_name]:.3f}",
                              "confident": "yes" if e.confident else "NO",
                              "χ²_r": f"{e.reduced_chi2:.3g}"})
                for col, other in zip(("2nd (P)", "3rd (P)"), e.ranked[1:3], strict=False):
                    cells[col] = f"{other.model_name} ({other.probability:.2f})"
            for c, col in enumerate(COLUMNS):
                item = QtWidgets.QTableWidgetItem(cells.get(col, ""))
                if col == "status":
                    item.setToolTip(status)
                    if row.problem or row.error:
                        item.setForeground(QtGui.QBrush(QtGui.QColor("#b00020")))
                if col == "confident" and e is not None and not e.confident:
                    item.setForeground(QtGui.QBrush(QtGui.QColor("#b00020")))
                self.table.setItem(r, c, item)
        self._update_buttons()

    def _show_selected(self) -> None:
        sel = self.selected_indices()
        if not sel:
            return
        row = self.rows[sel[0]]
        self._fill_families(row)
        self.details.setHtml(self._details_html(row))
        self._plot(row)
        self._update_buttons()

    def _fill_families(self, row: DatasetRow) -> None:
        ranked = [] if row.analysis is None else row.analysis.estimate.ranked
        self.families.blockSignals(True)
        self.families.setRowCount(len(ranked))
        for r, entry in enumerate(ranked):
            cells = [entry.model_name, f"{entry.probability:.3f}",
                     format_parameters(entry.model_name, entry.parameters)]
            for c, text in enumerate(cells):
                item = QtWidgets.QTableWidgetItem(text)
                item.setToolTip(text)
                self.families.setItem(r, c, item)
        if ranked:
            # the user's earlier pick, else the refined family, else the top one
            wanted = row.family or row.analysis.model_name
            names = [entry.model_name for entry in ranked]
            self.families.selectRow(names.index(wanted) if wanted in names else 0)
        self.families.blockSignals(False)

    def selected_family(self) -> str | None:
        """sasmodels name of the family selected in the lower table (None: nothing listed)."""
        rows = self.families.selectionModel().selectedRows()
        r = rows[0].row() if rows else 0
        item = self.families.item(r, 0)
        return None if item is None else item.text()

    def select_family(self, model_name: str) -> None:
        """Select the listed family ``model_name`` (as a user clicking its row)."""
        for r in range(self.families.rowCount()):
            if self.families.item(r, 0).text() == model_name:
                self.families.selectRow(r)
                return
        raise SaxsimInputError(f"{model_name} is not among the listed families")

    def _family_selected(self) -> None:
        sel = self.selected_indices()
        if sel:
            self.rows[sel[0]].family = self.selected_family()
            self._plot(self.rows[sel[0]])

    def _details_html(self, row: DatasetRow) -> str:
        if row.problem:
            return f"<h3>{row.name}</h3><p style='color:#b00020'>Not usable: {row.problem}</p>"
        if row.error:
            return f"<h3>{row.name}</h3><p style='color:#b00020'>Failed: {row.error}</p>"
        a = row.analysis
        c = row.curve
        head = (f"<h3>{row.name}</h3><p>{c.q.size} points, q {np.nanmin(c.q):.4g}–"
                f"{np.nanmax(c.q):.4g} 1/Å (read as {c.q_unit})</p>")
        if a is None:
            return head + "<p>not estimated yet</p>"
        e = a.estimate
        flag = ("<b style='color:#1b5e20'>confident</b>" if e.confident else
                "<b style='color:#b00020'>NOT confident</b>: check the notes; fit with care")
        others = ", ".join(f"{k} {v:.3f}" for k, v in list(e.probabilities.items())[1:6])
        html = (head + f"<p>Model: <b>{e.model_name}</b> (P = "
                f"{e.probabilities[e.model_name]:.3f}) — {flag}; reduced χ² of the estimate "
                f"{e.reduced_chi2:.3g}</p><p>Other families: {others}</p>"
                f"<p>scale {e.sasmodels_parameters['scale']:.4g}, background "
                f"{e.sasmodels_parameters['background']:.4g} (data units)</p>")
        if a.refined is not None:
            r = a.refined
            html += (f"<p><b>Refined</b> ({r.evaluations} evaluations, {r.seconds:.2f} s): "
                     f"{a.model_name}, χ²_r {r.reduced_chi2:.3g}<br>"
                     + ", ".join(f"{k} {v:.4g}" for k, v in r.parameters.items()) + "</p>")
        if e.notes:
            html += "<p><b>Notes</b><br>" + "<br>".join(e.notes) + "</p>"
        return html

    def _plot(self, row: DatasetRow) -> None:
        c = row.curve
        if c is None:
            self.canvas.clear(row.problem)
            return
        curves = [{"q": c.q, "i": c.intensity, "di": c.d_intensity, "label": row.name,
                   "style": "points"}]
        residual = None
        if row.analysis is not None:
            ok = np.isfinite(c.intensity) & (c.intensity > 0) & (c.q > 0)
            q = c.q[ok]
            models = row.analysis.model_curves(ok)
            chosen = self.selected_family() if self.families.rowCount() else None
            if chosen and chosen != row.analysis.estimate.model_name:
                models.update(row.analysis.family_curve(chosen, ok))
            for k, (label, i_model) in enumerate(models.items()):
                curves.append({"q": q, "i": i_model, "label": label, "color": f"C{k + 1}",
                               "ls": "-" if k == 0 else "--"})
            best = list(models.values())[-1]
            sigma = (c.d_intensity[ok] if c.d_intensity is not None
                     else np.abs(c.intensity[ok]) * 0.05)
            sigma = np.where(sigma > 0, sigma, np.nan)
            residual = {"q": q, "r": (c.intensity[ok] - best) / sigma,
                        "label": "(I - model)/σ"}
        self.canvas.show_curves(curves, residual, title=row.name,
                                y_label="I(q) (data units)")

    def _update_buttons(self) -> None:
        busy = self.job is not None
        sel = self.selected_indices() if hasattr(self, "table") else []
        estimated = any(self.rows[i].analysis is not None for i in sel)
        self.btn_cancel.setEnabled(busy)
        self.btn_estimate.setEnabled(bool(self.rows))
        self.btn_send.setEnabled(estimated and not busy)
        self.btn_csv.setEnabled(any(r.analysis is not None for r in self.rows))
        self.btn_remove.setEnabled(bool(sel) and not busy)

    def _drop_rows(self, keep: list[DatasetRow]) -> None:
        if self.job is not None:
            self.on_cancel()
        self.rows = keep
        self._queue.clear()
        self._refresh_table()
        self.details.clear()
        self.canvas.clear()

    def on_remove(self) -> None:
        doomed = set(self.selected_indices())
        self._drop_rows([r for i, r in enumerate(self.rows) if i not in doomed])

    # ------------------------------------------------------------------ export / fitting
    def write_csv(self, path: str) -> int:
        """Write one row per estimated dataset (columns carry units); returns rows written."""
        rows = [r.analysis.summary_row() for r in self.rows if r.analysis is not None]
        if not rows:
            raise SaxsimInputError("nothing estimated yet")
        fields = list(dict.fromkeys(k for row in rows for k in row))
        with open(path, "w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, fieldnames=fields)
            writer.writeheader()
            writer.writerows(rows)
        return len(rows)

    def on_export_csv(self) -> None:
        path, _ = QtWidgets.QFileDialog.getSaveFileName(
            self, "Export shape estimates", "shape_estimates.csv", "CSV (*.csv)")
        if not path:
            return
        try:
            n = self.write_csv(path)
        except (OSError, SaxsimInputError) as exc:
            self.report(f"CSV export failed: {exc}", level=logging.ERROR)
            return
        self.report(f"{n} estimate(s) written to {path}")

    def fit_page_dict(self, index: int, model_name: str | None = None
                      ) -> dict[str, list[str]]:
        """The fit-page parameter dictionary for dataset row ``index`` and family
        ``model_name`` (None: the refined family when refined, else the top one); the
        family's own parameters, scale and background are ticked for fitting."""
        a = self.rows[index].analysis
        if a is None:
            raise SaxsimInputError(f"{self.rows[index].name}: not estimated yet")
        name = model_name or a.model_name
        return fit_page_parameters(name, a.family_seed(name), fitted_for_family(name))

    def on_send_to_fitting(self) -> None:
        sel = self.selected_indices()
        if not sel:
            self.report("select an estimated dataset first", level=logging.INFO)
            return
        chosen = self.selected_family() if len(sel) == 1 else None
        for index in sel:
            row = self.rows[index]
            if row.analysis is None:
                continue
            if not row.analysis.estimate.confident:
                self.report(f"{row.name}: the estimate is NOT confident; the fit page is "
                            "seeded anyway, check the fit", level=logging.WARNING)
            self.send_to_fitting(row.item, self.fit_page_dict(index, chosen), row.name)
