"""The "Build model" page of the Numerical perspective: a shape definition or a file (density,
atomic structure, mesh, SasView .sld/.omf) becomes a SasView plugin model.

Preview shows the object at its real dimensions (voxels, or the atoms of a structure) and
the I(q) of the model built in a scratch folder. Install writes the model into SasView's
plugin folder and runs SasView's own plugin reload on its fit pages
(``SaxsimPerspective.reload_plugin_models``), so they list it without a restart; Send to
Fitting then opens a fit page with it. The work runs in a worker thread; every user
mistake is a message.
"""

from __future__ import annotations

import logging
import re
import tempfile
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg
from matplotlib.figure import Figure
from PySide6 import QtWidgets

from ..errors import SaxsimInputError
from .worker import Job

#: unit choices for meshes: label -> Å per file unit (a mesh file has none: the user says)
MESH_UNITS = {"(choose)": None, "Å": 1.0, "nm": 10.0, "µm": 1e4}
#: the q grid of the previewed I(q) (1/Å)
PREVIEW_Q = np.geomspace(1e-3, 0.5, 200)
#: parameters a fit page opened with a built model ticks, per kind (besides its lengths)
FITTED_BY_KIND = {
    "mesh": {"size_scale"},
    "density": {"voxel_size"},
    "sasview": {"size_scale", "voxel_size"},
    "structure": {"solvent_density", "hydration_contrast"},   # a D2O fraction is known
}


def default_model_name(source: str) -> str:
    """A model name from a source: numerical_<shape> for a shape, else the file's stem as
    a lower-case identifier."""
    from ..models.build import source_kind
    stem = Path(source).name.split(".")[0]
    if source_kind(source) == "shape":
        return f"numerical_{stem}"
    name = re.sub(r"[^a-z0-9_]", "_", stem.lower()).strip("_") or "model"
    return name if name[0].isalpha() else f"m_{name}"


#: the library's messages name command-line options; on this page they are its fields
GUI_WORDS = {
    "pass --overwrite to replace it": "tick 'replace an existing model' to replace it",
    "needs a name (--name)": "needs a model name",
    "name one with --dataset": "name one in 'HDF5 dataset'",
    "pass --voxel-size (Å)": "set 'density voxel size'",
    "or pass --voxel-size": "or set 'density voxel size'",
}


def gui_wording(message: str) -> str:
    """A library message with its command-line hints in this page's words."""
    for cli, gui in GUI_WORDS.items():
        message = message.replace(cli, gui)
    return message


def evaluate_plugin(path: Path, q: np.ndarray) -> np.ndarray:
    """I(q) (1/cm) of a plugin model file at its default parameters (sasmodels)."""
    from sasmodels.core import load_model
    from sasmodels.direct_model import call_kernel
    kernel = load_model(str(path)).make_kernel([q])
    try:
        return np.asarray(call_kernel(kernel, {}))
    finally:
        kernel.release()


class BuildModelPage(QtWidgets.QWidget):
    """The page; ``owner`` is the perspective (messages, fit pages, SasView's signals)."""

    def __init__(self, owner, parent=None):
        super().__init__(parent)
        self.owner = owner
        self.job: Job | None = None
        self.installed = None            # BuiltModel in SasView's plugin folder
        self._installed_source = None
        self._scratch: tempfile.TemporaryDirectory | None = None
        self._build()

    # ------------------------------------------------------------------ layout
    def _build(self) -> None:
        from ..shapes import library_names
        self.cb_library = QtWidgets.QComboBox()
        self.cb_library.addItem("(shipped shapes)")
        self.cb_library.addItems(library_names())
        self.cb_library.activated.connect(self._library_chosen)
        self.source_edit = QtWidgets.QLineEdit()
        self.source_edit.setPlaceholderText("a shipped shape, a definition .py or a file")
        self.source_edit.editingFinished.connect(self._source_changed)
        self.btn_browse = QtWidgets.QPushButton("Browse…")
        self.btn_browse.clicked.connect(self._browse)
        self.name_edit = QtWidgets.QLineEdit()
        self.cb_unit = QtWidgets.QComboBox()
        self.cb_unit.addItems(list(MESH_UNITS))
        self.voxels = QtWidgets.QSpinBox()
        self.voxels.setRange(15, 800)
        self.voxels.setSpecialValueText("automatic")      # the minimum, 15, means automatic
        self.voxels.setValue(15)
        self.voxel_size = QtWidgets.QDoubleSpinBox()
        self.voxel_size.setRange(0.0, 1000.0)
        self.voxel_size.setDecimals(3)
        self.voxel_size.setSpecialValueText("from the file")
        self.dataset_edit = QtWidgets.QLineEdit()
        self.dataset_edit.setPlaceholderText("the only 3D dataset")
        self.cb_radiation = QtWidgets.QComboBox()
        self.cb_radiation.addItem("X-rays", "xray")
        self.cb_radiation.addItem("neutrons (H2O/D2O)", "neutron")
        self.chk_replace = QtWidgets.QCheckBox("replace an existing model")
        self.kind_label = QtWidgets.QLabel("")
        self.kind_label.setWordWrap(True)

        form = QtWidgets.QFormLayout()
        row = QtWidgets.QHBoxLayout()
        row.addWidget(self.source_edit, 1)
        row.addWidget(self.btn_browse)
        form.addRow("shape", self.cb_library)
        form.addRow("or file", row)
        form.addRow("", self.kind_label)
        form.addRow("model name", self.name_edit)
        form.addRow("mesh unit", self.cb_unit)
        form.addRow("mesh voxels (longest extent)", self.voxels)
        form.addRow("density voxel size (Å)", self.voxel_size)
        form.addRow("HDF5 dataset", self.dataset_edit)
        form.addRow("structure radiation", self.cb_radiation)
        form.addRow("", self.chk_replace)

        self.btn_preview = QtWidgets.QPushButton("Preview")
        self.btn_install = QtWidgets.QPushButton("Install in SasView")
        self.btn_send = QtWidgets.QPushButton("Send to Fitting")
        self.btn_preview.clicked.connect(self.on_preview)
        self.btn_install.clicked.connect(self.on_install)
        self.btn_send.clicked.connect(self.on_send)
        self.progress = QtWidgets.QProgressBar()
        self.progress.setRange(0, 1)
        self.status = QtWidgets.QLabel("Choose a shape or a file, then Preview or Install.")
        self.status.setWordWrap(True)

        left = QtWidgets.QVBoxLayout()
        left.addLayout(form)
        row = QtWidgets.QHBoxLayout()
        for b in (self.btn_preview, self.btn_install, self.btn_send):
            row.addWidget(b)
        left.addLayout(row)
        left.addWidget(self.progress)
        left.addWidget(self.status)
        left.addStretch(1)
        self.figure = Figure(figsize=(5.5, 7))
        self.canvas = FigureCanvasQTAgg(self.figure)
        self.canvas.setMinimumSize(420, 520)
        grid = self.figure.add_gridspec(2, 1, height_ratios=(3, 2), hspace=0.25,
                                        left=0.14, right=0.95, top=0.95, bottom=0.08)
        self.ax3d = self.figure.add_subplot(grid[0], projection="3d")
        self.ax_iq = self.figure.add_subplot(grid[1])
        layout = QtWidgets.QHBoxLayout(self)
        panel = QtWidgets.QWidget()
        panel.setLayout(left)
        panel.setMaximumWidth(420)
        layout.addWidget(panel, 0)
        layout.addWidget(self.canvas, 1)
        self._source_changed()

    # ------------------------------------------------------------------ inputs
    def _library_chosen(self, index: int) -> None:
        if index > 0:
            self.set_source(self.cb_library.itemText(index))

    def _browse(self) -> None:
        path, _ = QtWidgets.QFileDialog.getOpenFileName(
            self, "Shape definition or file", "",
            "All supported (*.py *.pdb *.cif *.mmcif *.gz *.stl *.obj *.ply *.off *.npy *.h5 "
            "*.hdf5 *.mrc *.map *.cube *.sld *.omf CHGCAR*);;All files (*)")
        if path:
            self.set_source(path)

    def set_source(self, source: str, name: str | None = None) -> None:
        """Set the source (a shipped shape name or a path) and the model name (default:
        derived from the source)."""
        self.source_edit.setText(str(source))
        index = self.cb_library.findText(str(source))
        self.cb_library.setCurrentIndex(max(index, 0))
        self._source_changed()
        if name is not None:
            self.name_edit.setText(name)

    def _source_changed(self) -> None:
        from ..models.build import source_kind
        source = self.source_edit.text().strip()
        if self.installed is not None and source != self._installed_source:
            self.installed = None            # Send to Fitting sends what the form shows
        kind = None
        if source:
            try:
                kind = source_kind(source)
                self.name_edit.setText(default_model_name(source))
            except SaxsimInputError as exc:
                self.kind_label.setText(str(exc))
        texts = {"shape": "shape definition", "structure": "atomic structure (X-ray form "
                 "factors, solvent and hydration fittable)", "mesh": "triangle mesh "
                 "(voxelised with partial volumes)", "sasview": "SasView Generic Scattering "
                 "Calculator file", "density": "3D density (SLD contrast per voxel)"}
        if kind is not None:
            self.kind_label.setText(texts[kind])
        self.cb_unit.setEnabled(kind == "mesh")
        self.voxels.setEnabled(kind == "mesh")
        self.voxel_size.setEnabled(kind == "density")
        self.dataset_edit.setEnabled(kind == "density")
        self.cb_radiation.setEnabled(kind == "structure")
        self._update_buttons()

    def options(self) -> dict:
        """The source, model name and per-kind options for ``models.build``."""
        source = self.source_edit.text().strip()
        if not source:
            raise SaxsimInputError("choose a shipped shape or a file first")
        name = self.name_edit.text().strip() or None
        from ..models.build import source_kind
        unit = MESH_UNITS[self.cb_unit.currentText()]
        if unit is None and source_kind(source) == "mesh":
            raise SaxsimInputError("a mesh file has no units: choose the mesh unit (Å, nm "
                                   "or µm per file unit)")
        return dict(source=source, name=name, unit=unit,
                    voxels=(None if self.voxels.value() == self.voxels.minimum()
                            else int(self.voxels.value())),
                    voxel_size=self.voxel_size.value() or None,
                    dataset=self.dataset_edit.text().strip() or None,
                    radiation=self.cb_radiation.currentData())

    # ------------------------------------------------------------------ actions
    def _checked_options(self) -> dict | None:
        """:meth:`options`, or None after reporting what is wrong with the form."""
        try:
            return self.options()
        except SaxsimInputError as exc:
            self.report(str(exc), logging.ERROR)
            return None

    @staticmethod
    def _build_model(opts: dict, folder, overwrite: bool):
        """``models.build.build_model`` with the form's options."""
        from ..models.build import build_model
        return build_model(opts["source"], opts["name"], folder, overwrite=overwrite,
                           voxel_size=opts["voxel_size"], unit=opts["unit"],
                           voxels=opts["voxels"], radiation=opts["radiation"],
                           dataset=opts["dataset"])

    def on_preview(self) -> None:
        opts = self._checked_options()
        if opts is None:
            return
        if self._scratch is not None:
            self._scratch.cleanup()
        self._scratch = tempfile.TemporaryDirectory(prefix="saxsim_preview_")
        folder = self._scratch.name

        def work(progress):
            from ..models.build import preview
            progress("drawing the object", 0, 3)
            shown = preview(opts["source"], voxel_size=opts["voxel_size"], unit=opts["unit"],
                            dataset=opts["dataset"])
            progress("building the model", 1, 3)
            built = self._build_model(opts, folder, overwrite=True)
            progress("computing I(q)", 2, 3)
            return shown, built, evaluate_plugin(built.path, PREVIEW_Q)

        self._start(work, self._previewed, "preview")

    def on_install(self) -> None:
        opts = self._checked_options()
        if opts is None:
            return
        replace = self.chk_replace.isChecked()
        self._pending_source = opts["source"]

        def work(progress):
            progress("building the model", 0, 1)
            return self._build_model(opts, None, overwrite=replace)

        self._start(work, self._installed, "install")

    def on_send(self) -> None:
        if self.installed is None:
            self.report("install a model first", logging.ERROR)
            return
        try:
            line = self.fit_page_dict()
        except SaxsimInputError as exc:
            self.report(str(exc), logging.ERROR)
            return
        self.owner.send_to_fitting(getattr(self.owner, "data_item", None), line,
                                   f"built model {self.installed.name}")

    def fit_page_dict(self) -> dict[str, list[str]]:
        """Fit page of the installed model at its default parameters; scale, background and
        its size (lengths, size_scale or voxel_size) ticked for fitting."""
        from sasmodels.core import load_model_info

        from .fit_seeding import fit_page_parameters
        info = load_model_info(str(self.installed.path))
        values = {"scale": 1.0, "background": 0.0}
        values.update({p.name: p.default for p in info.parameters.kernel_parameters})
        lengths = {p.name for p in info.parameters.kernel_parameters if p.type == "volume"}
        fitted = frozenset({"scale", "background"} | lengths
                           | FITTED_BY_KIND.get(self.installed.kind, set()))
        line = fit_page_parameters(self.installed.name, values, fitted)
        line["fitpage_category"] = ["Plugin Models"]
        return line

    # ------------------------------------------------------------------ worker
    def _start(self, work, done, what: str) -> None:
        if self.job is not None:
            return
        self.job = Job(work, self)
        self.job.succeeded.connect(done)
        self.job.failed.connect(self._failed)
        self.job.progressed.connect(self._progressed)
        self.job.finished.connect(self._finished)
        self.progress.setRange(0, 0)
        self.report(f"{what}: working…")
        self._update_buttons()
        self.job.start()

    def _progressed(self, stage: str, done: int, total: int) -> None:
        self.progress.setRange(0, total)
        self.progress.setValue(done)
        self.status.setText(stage)

    def _failed(self, message: str, details: str) -> None:
        self.report(gui_wording(message), logging.ERROR)
        if details:
            logging.getLogger(__name__).error(details)

    def _finished(self) -> None:
        job, self.job = self.job, None
        if job is not None:
            # 'finished' comes as run() returns: let the thread end before its object goes
            # (a QThread collected while running aborts the process)
            job.wait()
            job.deleteLater()
        self.progress.setRange(0, 1)
        self.progress.setValue(1)
        self._update_buttons()

    def _previewed(self, result) -> None:
        shown, built, intensity = result
        try:
            self.draw(shown, built, intensity)
            extent = " × ".join(f"{x:.4g}" for x in shown.extent)
        except ValueError as exc:       # nothing to draw: never leave the page hanging
            self.report(f"{shown.title}: cannot draw the object ({exc})", logging.ERROR)
            return
        notes = "; ".join(built.notes)
        self.report(f"{shown.title}; {extent} Å. Model {built.name}: fit parameters scale, "
                    f"background, {built.parameters}" + (f". {notes}" if notes else ""))

    def _installed(self, built) -> None:
        self.installed, self._installed_source = built, self._pending_source
        self.owner.reload_plugin_models()
        self.report(f"installed {built.name} in {built.path.parent}; the fit page lists it "
                    "under Plugin Models")
        self._update_buttons()

    def _update_buttons(self) -> None:
        busy = self.job is not None
        has_source = bool(self.source_edit.text().strip())
        self.btn_preview.setEnabled(not busy and has_source)
        self.btn_install.setEnabled(not busy and has_source)
        self.btn_send.setEnabled(not busy and self.installed is not None)

    def report(self, message: str, level: int = logging.INFO) -> None:
        self.owner.report(message, level)
        if getattr(self.owner, "status", None) is not self.status:
            self.status.setText(message)

    # ------------------------------------------------------------------ drawing
    def draw(self, shown, built, intensity: np.ndarray) -> None:
        """The object at its real dimensions (Å) and the model's I(q)."""
        ax = self.ax3d
        ax.cla()
        if shown.atoms is not None:
            elements = np.asarray(shown.elements)
            for i, element in enumerate(np.unique(elements)):
                xyz = shown.atoms[elements == element]
                ax.scatter(*xyz.T, s=4, color=f"C{i % 10}", label=str(element))
            ax.legend(fontsize=7, loc="upper left")
            lo, hi = shown.atoms.min(axis=0), shown.atoms.max(axis=0)
        else:
            n = np.array(shown.occupied.shape)
            edges = [shown.origin[k] + np.arange(n[k] + 1) * shown.spacing for k in range(3)]
            x, y, z = np.meshgrid(*edges, indexing="ij")
            ax.voxels(x, y, z, shown.occupied, facecolors="#4c8bd6", edgecolor="#2a5a99",
                      linewidth=0.2)
            idx = np.argwhere(shown.occupied)
            lo = shown.origin + idx.min(axis=0) * shown.spacing
            hi = shown.origin + (idx.max(axis=0) + 1) * shown.spacing
        span = float(np.max(hi - lo)) / 2
        for setter, c in zip((ax.set_xlim, ax.set_ylim, ax.set_zlim), (lo + hi) / 2,
                             strict=True):
            setter(c - span, c + span)     # equal scales: the object at its real proportions
        ax.set_box_aspect((1, 1, 1))
        ax.set_xlabel("x (Å)")
        ax.set_ylabel("y (Å)")
        ax.set_zlabel("z (Å)")
        ax.set_title(shown.title, fontsize=9)
        self.ax_iq.cla()
        keep = np.isfinite(intensity) & (intensity > 0)
        self.ax_iq.loglog(PREVIEW_Q[keep], intensity[keep], color="C0")
        self.ax_iq.set_xlabel("q (1/Å)")
        self.ax_iq.set_ylabel("I(q) (1/cm), scale 1")
        self.ax_iq.set_title(f"{built.name} at its defaults", fontsize=9)
        self.canvas.draw_idle()

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt)
        if self._scratch is not None:
            self._scratch.cleanup()
            self._scratch = None
        super().closeEvent(event)


__all__ = ["BuildModelPage", "default_model_name", "evaluate_plugin"]
