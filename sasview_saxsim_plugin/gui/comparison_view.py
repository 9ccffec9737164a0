"""SasView perspective "NumericalModel": a voxelised shape computed numerically (one particle
by the lattice Debye sum, or a box of particles by the split 3D FFT) next to its sasmodels
model: overlay, relative error, χ², and "Send to Fitting" for either model. Its second tab,
"Build model" (``build_view``), makes a plugin model from any shape definition or file.

The computation runs in a worker thread with a progress bar and a Cancel button; a dataset
sent here from the Data Explorer sets the q range and becomes the fit page's data.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
from PySide6 import QtCore, QtWidgets

from ..errors import SaxsimInputError
from ..geometry.registry import SHAPES, get_shape
from ..models import model_name
from .fit_seeding import fit_page_parameters
from .perspective_base import SaxsimPerspective
from .plot_canvas import CurveCanvas
from .worker import Job

logger = logging.getLogger(__name__)

BOX_KINDS = ("spheres", "cylinders", "hardspheres")
#: the registered shape of each box's particles
BOX_SHAPE = {"spheres": "sphere", "cylinders": "cylinder", "hardspheres": "sphere"}
ROUTES = {"particle": "one particle (lattice Debye sum)",
          "box": "box of particles (split 3D FFT)"}
#: (label, unit, default, minimum, maximum, decimals) of the settings that are not shape
#: parameters (those come from the shape registry: ``shape_fields``)
SETTINGS_FIELDS = {
    "radius_pd": ("radius polydispersity", "σ/R", 0.1, 0.0, 0.5, 3),
    "length_pd": ("length polydispersity", "σ/L", 0.0, 0.0, 0.5, 3),
    "volume_fraction": ("volume fraction", "", 0.1, 0.001, 0.45, 3),
    "box": ("box edge", "Å", 1000.0, 10.0, 1e5, 0),
    "n": ("grid points per edge", "", 128, 16, 1024, 0),
    "realisations": ("realisations", "", 2, 1, 20, 0),
    "spacing": ("voxel size (0 = automatic)", "Å", 0.0, 0.0, 100.0, 2),
    "q_min": ("q min", "1/Å", 0.005, 1e-4, 1.0, 4),
    "q_max": ("q max", "1/Å", 0.3, 1e-3, 3.0, 3),
    "points": ("q points", "", 150, 10, 2000, 0),
}


def particle_shapes() -> tuple[str, ...]:
    """The shapes offered for one particle: every registered shape."""
    return tuple(SHAPES)


def shape_of(shape_or_box: str) -> str:
    """The registered shape of a particle shape or of a box kind."""
    return BOX_SHAPE.get(shape_or_box, shape_or_box)


def shape_fields() -> dict:
    """Form rows (label, unit, default, min, max, decimals) of every registered shape
    parameter (union over the shapes; the default is that of the first shape with it)."""
    out = {}
    for spec in SHAPES.values():
        for par in spec.parameters:
            if par.name in out:
                continue
            if par.kind == "volume":
                out[par.name] = (par.name.replace("_", " "), "Å", par.default, 0.5, 1e5, 1)
            else:
                out[par.name] = (par.name.replace("_", " "), "1e-6/Å²", par.default, -1e3,
                                 1e3, 3)
    return out


def fields() -> dict:
    """Every form field: the shape parameters, then the settings."""
    return {**shape_fields(), **SETTINGS_FIELDS}


PARTICLE_ONLY = ("spacing", "points")
BOX_ONLY = ("volume_fraction", "box", "n", "realisations")


@dataclass
class ComparisonSettings:
    """Everything one comparison needs; lengths in Å, q in 1/Å."""

    route: str
    shape: str
    values: dict

    def pd(self) -> dict:
        lengths = get_shape(shape_of(self.shape)).lengths
        pd = {}
        for name in ("radius", "length"):
            width = float(self.values.get(f"{name}_pd", 0.0))
            if width > 0 and name in lengths:
                pd[name] = width
        return pd

    def parameters(self) -> dict:
        """The shape's own parameters (lengths Å, SLDs 1e-6/Å²)."""
        spec = get_shape(shape_of(self.shape))
        return {p.name: float(self.values[p.name]) for p in spec.parameters}

    def dims(self) -> dict:
        """The shape's parameters except ``sld`` and ``sld_solvent`` (given separately)."""
        return {k: v for k, v in self.parameters().items() if k not in ("sld", "sld_solvent")}

    def slds(self) -> tuple[float, float]:
        """(sld, sld_solvent) where the shape has them (defaults 1, 0 otherwise)."""
        p = self.parameters()
        return p.get("sld", 1.0), p.get("sld_solvent", 0.0)


def run_comparison(settings: ComparisonSettings, progress=False):
    """The numerical curve and its sasmodels reference (``comparison.Comparison``)."""
    from ..simulate.compare import compare_ensemble, compare_particle

    v = settings.values
    if not 0 < v["q_min"] < v["q_max"]:
        raise SaxsimInputError(f"need 0 < q min < q max, got {v['q_min']} and {v['q_max']} 1/Å")
    sld, sld_solvent = settings.slds()
    if settings.route == "particle":
        return compare_particle(settings.shape, settings.dims(), pd=settings.pd(),
                                q_min=v["q_min"], q_max=v["q_max"], points=int(v["points"]),
                                spacing=float(v["spacing"]) or None, sld=sld,
                                sld_solvent=sld_solvent, progress=progress)
    return compare_ensemble(settings.shape, box=float(v["box"]), n=int(v["n"]), sld=sld,
                            sld_solvent=sld_solvent,
                            radius=float(v["radius"]), volume_fraction=float(v["volume_fraction"]),
                            radius_pd=settings.pd().get("radius", 0.0),
                            length=float(v["length"]) if settings.shape == "cylinders" else None,
                            length_pd=settings.pd().get("length", 0.0),
                            realisations=int(v["realisations"]), q_min=v["q_min"],
                            q_max=v["q_max"], progress=progress)


def realised_volume_fraction(settings: ComparisonSettings, comparison) -> float | None:
    """The volume fraction the box actually holds (None for the one-particle route)."""
    if settings.route != "box":
        return None
    return float(comparison.extra.get("volume_fraction_realised",
                                      comparison.parameters["volume_fraction"]))


def numerical_fit_values(settings: ComparisonSettings, comparison) -> tuple[str, dict]:
    """(model name, sasmodels values) of the plugin model ``numerical_<shape>`` of the
    computed shape, scaled like the analytical reference (scale = volume fraction for a
    box, 1 for one particle)."""
    phi = realised_volume_fraction(settings, comparison)
    values = {"scale": phi or 1.0, "background": 0.0, **settings.parameters()}
    for name, width in settings.pd().items():
        values.update({f"{name}_pd": width, f"{name}_pd_n": 35, f"{name}_pd_type": "gaussian"})
    model = model_name(shape_of(settings.shape))
    if settings.shape == "hardspheres":
        model += "@hardsphere"
        # P@S applies the volume fraction once (see scattering.reference_parameters)
        values.update(scale=1.0, volfraction=phi, radius_effective_mode=0,
                      radius_effective=float(settings.values["radius"]))
    return model, values


class NumericalComparisonWindow(QtWidgets.QWidget, SaxsimPerspective):
    """The numerical-vs-analytical perspective (see module docstring)."""

    name = "NumericalModel"
    ext = "snum"
    menu_text = "Numerical vs Analytical (saxsim)"

    @property
    def title(self) -> str:
        return "Numerical 3D density vs sasmodels"

    def __init__(self, parent=None):
        super().__init__()
        self.init_perspective(parent)
        self.job: Job | None = None
        self.result = None
        self.result_settings: ComparisonSettings | None = None
        self.data_item = None
        self._build()
        self.setWindowTitle(self.title)

    # ------------------------------------------------------------------ layout
    def _build(self) -> None:
        self.cb_route = QtWidgets.QComboBox()
        for key, text in ROUTES.items():
            self.cb_route.addItem(text, key)
        self.cb_shape = QtWidgets.QComboBox()
        self.cb_route.currentIndexChanged.connect(self._route_changed)
        self.cb_shape.currentIndexChanged.connect(self._enable_fields)
        form = QtWidgets.QFormLayout()
        form.addRow("route", self.cb_route)
        form.addRow("shape", self.cb_shape)
        self.fields: dict[str, QtWidgets.QDoubleSpinBox] = {}
        self.labels: dict[str, QtWidgets.QLabel] = {}
        for key, (label, unit, default, lo, hi, decimals) in fields().items():
            box = QtWidgets.QDoubleSpinBox()
            box.setRange(lo, hi)
            box.setDecimals(decimals)
            box.setValue(default)
            box.setSingleStep(10 ** -decimals if decimals else 1)
            box.setObjectName(f"field_{key}")
            text = QtWidgets.QLabel(f"{label} ({unit})" if unit else label)
            self.fields[key], self.labels[key] = box, text
            form.addRow(text, box)
        self.data_label = QtWidgets.QLabel("no data sent (fit pages open with the model only)")
        self.data_label.setWordWrap(True)
        form.addRow("data", self.data_label)

        self.btn_compute = QtWidgets.QPushButton("Compute")
        self.btn_cancel = QtWidgets.QPushButton("Cancel")
        self.btn_send_numerical = QtWidgets.QPushButton("Numerical → Fitting")
        self.btn_send_analytical = QtWidgets.QPushButton("Analytical → Fitting")
        self.btn_compute.clicked.connect(self.on_compute)
        self.btn_cancel.clicked.connect(self.on_cancel)
        self.btn_send_numerical.clicked.connect(lambda: self.on_send("numerical"))
        self.btn_send_analytical.clicked.connect(lambda: self.on_send("analytical"))
        self.progress = QtWidgets.QProgressBar()
        self.progress.setFormat("%p %")
        self.stage = QtWidgets.QLabel("")
        self.status = QtWidgets.QLabel("Choose a shape and press Compute.")
        self.status.setWordWrap(True)
        self.metrics = QtWidgets.QLabel("")
        self.metrics.setWordWrap(True)
        self.metrics.setTextInteractionFlags(QtCore.Qt.TextSelectableByMouse)
        self.canvas = CurveCanvas(self, residual_label="relative error")
        self.canvas.setMinimumSize(460, 380)

        left = QtWidgets.QVBoxLayout()
        left.addLayout(form)
        row = QtWidgets.QHBoxLayout()
        row.addWidget(self.btn_compute)
        row.addWidget(self.btn_cancel)
        left.addLayout(row)
        left.addWidget(self.progress)
        left.addWidget(self.stage)
        row = QtWidgets.QHBoxLayout()
        row.addWidget(self.btn_send_numerical)
        row.addWidget(self.btn_send_analytical)
        left.addLayout(row)
        left.addWidget(self.status)
        left.addStretch(1)
        right = QtWidgets.QVBoxLayout()
        right.addWidget(self.canvas, 1)
        right.addWidget(self.metrics)
        panel = QtWidgets.QWidget()
        panel.setLayout(left)
        scroll = QtWidgets.QScrollArea()       # the form stays usable in a small window
        scroll.setWidget(panel)
        scroll.setWidgetResizable(True)
        scroll.setMinimumWidth(panel.sizeHint().width() + 20)
        self.metrics.setMinimumHeight(48)
        compare = QtWidgets.QWidget()
        layout = QtWidgets.QHBoxLayout(compare)
        layout.addWidget(scroll, 0)
        layout.addLayout(right, 1)
        from .build_view import BuildModelPage
        self.build_page = BuildModelPage(self)
        self.tabs = QtWidgets.QTabWidget()
        self.tabs.addTab(compare, "Numerical vs analytical")
        self.tabs.addTab(self.build_page, "Build model")
        QtWidgets.QVBoxLayout(self).addWidget(self.tabs)
        self._route_changed()
        self._update_buttons()

    def sizeHint(self) -> QtCore.QSize:
        return QtCore.QSize(1000, 720)

    def _route_changed(self, *_) -> None:
        route = self.cb_route.currentData()
        self.cb_shape.blockSignals(True)
        self.cb_shape.clear()
        self.cb_shape.addItems(particle_shapes() if route == "particle" else BOX_KINDS)
        self.cb_shape.blockSignals(False)
        self._enable_fields()

    def _enable_fields(self, *_) -> None:
        """Enable the fields of the chosen shape (set to its defaults, as a SasView fit page
        does on a model change) and of the route."""
        route, shape = self.cb_route.currentData(), self.cb_shape.currentText()
        if not shape:
            return
        spec = get_shape(shape_of(shape))
        own = {p.name: p.default for p in spec.parameters}
        parameters = shape_fields()
        for key in self.fields:
            if key in parameters:
                on = key in own
                if on:
                    self.fields[key].setValue(own[key])
            elif key in ("radius_pd", "length_pd"):
                on = key[:-3] in spec.lengths
            elif key in PARTICLE_ONLY:
                on = route == "particle"
            elif key in BOX_ONLY:
                on = route == "box"
            else:
                on = True
            self.fields[key].setEnabled(on)
            self.labels[key].setEnabled(on)

    # ------------------------------------------------------------------ settings
    def settings(self) -> ComparisonSettings:
        return ComparisonSettings(self.cb_route.currentData(), self.cb_shape.currentText(),
                                  {k: box.value() for k, box in self.fields.items()})

    def apply_settings(self, route: str, shape: str, **values) -> None:
        """Set the form (scripting and tests): route 'particle' or 'box', a shape of that
        route, and any ``fields()`` values (Å, 1e-6/Å², 1/Å)."""
        index = self.cb_route.findData(route)
        if index < 0:
            raise SaxsimInputError(f"unknown route {route!r}; use {list(ROUTES)}")
        self.cb_route.setCurrentIndex(index)
        if self.cb_shape.findText(shape) < 0:
            raise SaxsimInputError(f"shape {shape!r} is not offered for route {route!r}")
        self.cb_shape.setCurrentIndex(self.cb_shape.findText(shape))
        for key, value in values.items():
            if key not in self.fields:
                raise SaxsimInputError(f"unknown setting {key!r}")
            self.fields[key].setValue(value)

    # ------------------------------------------------------------------ SasView interface
    def setData(self, data_item=None, is_batch: bool = False) -> None:
        """Use the first 1D dataset for the q range and as the data of "Send to Fitting"."""
        from ..io.loading import curve_from_dataset

        item = data_item[0] if isinstance(data_item, list) and data_item else data_item
        name = getattr(item, "text", lambda: "dataset")()
        try:
            from sas.qtgui.Utilities import GuiUtils
            curve = curve_from_dataset(GuiUtils.dataFromItem(item), name)
        except SaxsimInputError as exc:
            self.report(str(exc), level=logging.WARNING)
            return
        except Exception as exc:
            self.report(f"{name}: cannot read the dataset ({exc})", level=logging.WARNING)
            return
        q = curve.q[np.isfinite(curve.q) & (curve.q > 0)]
        self.data_item = item
        self.fields["q_min"].setValue(float(q.min()))
        self.fields["q_max"].setValue(float(q.max()))
        self.data_label.setText(f"{name}: {q.size} points, q {q.min():.4g}–{q.max():.4g} 1/Å")
        self.report(f"{name}: q range taken from the data; fit pages will use it")

    def removeData(self, data_list=None) -> None:
        doomed = data_list if isinstance(data_list, list) else [data_list]
        if self.data_item is not None and self.data_item in doomed:
            self.data_item = None
            self.data_label.setText("no data sent (the dataset was closed)")

    # ------------------------------------------------------------------ computation
    def on_compute(self) -> None:
        if self.job is not None:
            return
        settings = self.settings()
        self.progress.setValue(0)
        self.stage.setText("starting…")
        self.job = Job(lambda progress: run_comparison(settings, progress), self)
        self.job.progressed.connect(self._progressed)
        self.job.succeeded.connect(lambda result: self._done(settings, result))
        self.job.failed.connect(self._failed)
        self.job.cancelled.connect(
            lambda: self.report("computation cancelled; nothing was changed",
                                level=logging.INFO))
        self.job.finished.connect(self._finished)
        self.report(f"computing {settings.shape} ({ROUTES[settings.route]})…")
        self._update_buttons()
        self.job.start()

    def on_cancel(self) -> None:
        if self.job is not None:
            self.job.cancel()
            self.stage.setText("cancelling…")

    def _progressed(self, stage: str, done: int, total: int) -> None:
        self.progress.setMaximum(max(total, 1))
        self.progress.setValue(done)
        self.stage.setText(f"{stage}: {done}/{total}")

    def _done(self, settings: ComparisonSettings, comparison) -> None:
        self.result, self.result_settings = comparison, settings
        m = comparison.metrics
        self.metrics.setText(
            f"numerical vs sasmodels '{comparison.model}' on {m['n_points']} points, "
            f"q {m['q_min']:.4g}–{m['q_max']:.4g} 1/Å: χ² = {m['chi2']:.3g}, relative error "
            f"median {100 * m['median_rel_error']:.3g} %, 95th percentile "
            f"{100 * m['p95_rel_error']:.3g} %, max {100 * m['max_rel_error']:.3g} %. "
            f"Voxel size {comparison.curve.meta.get('spacing_A', float('nan')):.3g} Å. "
            "Intensities in 1/cm (SLD contrast 1e-6/Å²).")
        self._plot()
        self.report(f"{settings.shape}: χ² {m['chi2']:.3g}, median relative error "
                    f"{100 * m['median_rel_error']:.3g} %")

    def _failed(self, message: str, details: str) -> None:
        if details:
            logger.error("numerical computation failed:\n%s", details)
        self.report(message, level=logging.ERROR)

    def _finished(self) -> None:
        self.job = None
        self.stage.setText("")
        self._update_buttons()

    def _plot(self) -> None:
        c, ref = self.result.curve, np.asarray(self.result.reference)
        curves = [{"q": c.q, "i": c.intensity, "di": c.sigma, "style": "points",
                   "label": f"numerical ({c.meta.get('route', '')})", "color": "C0"},
                  {"q": c.q, "i": ref, "label": f"sasmodels {self.result.model}",
                   "color": "C1"}]
        ok = np.isfinite(ref) & (ref != 0)
        residual = {"q": c.q[ok], "r": (c.intensity[ok] - ref[ok]) / ref[ok],
                    "label": "(num - ref)/ref"}
        self.canvas.show_curves(curves, residual, title=self.result_settings.shape,
                                y_label="I(q) (1/cm)")

    def _update_buttons(self) -> None:
        busy = self.job is not None
        self.btn_compute.setEnabled(not busy)
        self.btn_cancel.setEnabled(busy)
        self.btn_send_numerical.setEnabled(self.result is not None and not busy)
        self.btn_send_analytical.setEnabled(self.result is not None and not busy)

    # ------------------------------------------------------------------ fitting
    def fit_page_dict(self, which: str) -> dict[str, list[str]]:
        """Fit-page dictionary for the 'numerical' or 'analytical' model of the last result."""
        if self.result is None:
            raise SaxsimInputError("compute a comparison first")
        if which == "analytical":
            values = dict(self.result_reference_parameters())
            return fit_page_parameters(self.result.model, values)
        model, values = numerical_fit_values(self.result_settings, self.result)
        return fit_page_parameters(model, values)

    def result_reference_parameters(self) -> dict:
        from ..scattering import reference_parameters

        s, comp = self.result_settings, self.result
        shape = "hardsphere" if s.shape == "hardspheres" else shape_of(s.shape)
        phi = realised_volume_fraction(s, comp)
        _, pars = reference_parameters(shape, s.dims(), s.pd(), *s.slds(), scale=phi or 1.0,
                                       volume_fraction=phi)
        return pars

    def on_send(self, which: str) -> None:
        try:
            line = self.fit_page_dict(which)
        except SaxsimInputError as exc:
            self.report(str(exc), level=logging.ERROR)
            return
        self.send_to_fitting(self.data_item, line, f"{which} model")
