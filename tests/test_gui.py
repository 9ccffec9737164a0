"""SasView integration, offscreen (pytest-qt): SasView's real main window with the plugin
registered, data loaded through its Data Explorer, our perspectives, its fit pages and fits.

The session's HOME is a temporary folder (tests/conftest.py), so SasView's config, plugin
and log folders are throw-away. SasView's Shape2SAS calculator builds a Qt3D scatter plot that
crashes without a GPU context offscreen; the fixture replaces that one widget by a stub.
"""

import csv
import json
import logging
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("sas.qtgui", reason="SasView (the gui extra) is not installed")

from PySide6 import QtCore, QtGui, QtWidgets  # noqa: E402

pytestmark = pytest.mark.gui

import sas  # noqa: E402

EXAMPLES = Path(sas.__file__).parent / "example_data"
WAIT_MS = 120_000


class _StubViewer:
    """Stand-in for Shape2SAS' Qt3D ViewerModel (offscreen has no OpenGL context)."""

    def __init__(self, *args, **kwargs):
        self.Viewmodel_modul = QtWidgets.QWidget()

    def __getattr__(self, name):
        return lambda *args, **kwargs: None


@pytest.fixture(scope="module")
def window(qapp):
    from sas.system import config

    config.override_with_defaults()            # never write the user's config
    config.LAST_WHATS_NEW_HIDDEN_VERSION = "999.999.999"
    patch = pytest.MonkeyPatch()
    import sas.qtgui.Calculators.Shape2SAS.DesignWindow as design

    patch.setattr(design, "ViewerModel", _StubViewer)
    from sasview_saxsim_plugin.gui import register
    from sasview_saxsim_plugin.gui.launcher import ensure_plugin_models

    ensure_plugin_models()                       # what sasview-saxsim does on first start
    register()
    from sas.qtgui.MainWindow.MainWindow import MainSasViewWindow

    main = MainSasViewWindow()
    yield main
    patch.undo()


def _load(manager, relative: str):
    """Load an example file through the Data Explorer; return its top-level item."""
    explorer = manager.filesWidget
    before = explorer.model.rowCount()
    explorer.loadComplete(explorer.readData([str(EXAMPLES / relative)]))
    assert explorer.model.rowCount() == before + 1, f"SasView did not load {relative}"
    return explorer.model.item(explorer.model.rowCount() - 1)


def _check_only(manager, items) -> None:
    model = manager.filesWidget.model
    for row in range(model.rowCount()):
        it = model.item(row)
        it.setCheckState(QtCore.Qt.Checked if it in items else QtCore.Qt.Unchecked)


def _action(window, name):
    return next(a for a in window.menuAnalysis.actions()
                if a.objectName() == f"actionSaxsim{name}")


def _wait_idle(qtbot, view) -> None:
    qtbot.waitUntil(lambda: view.job is None and not getattr(view, "_queue", []),
                    timeout=WAIT_MS)


def _item_for(data, name):
    from sas.qtgui.Utilities import GuiUtils

    item = QtGui.QStandardItem(name)
    GuiUtils.updateModelItem(item, data, name)
    return item


def test_registration_is_idempotent(window):
    import sas.qtgui.Perspectives as perspectives
    from sas.qtgui.MainWindow.GuiManager import GuiManager

    from sasview_saxsim_plugin.gui import register
    from sasview_saxsim_plugin.gui.registration import ensure_menu_entries

    wrapped = GuiManager.loadAllPerspectives
    assert register() == ["ShapeEstimate", "NumericalModel"]
    assert GuiManager.loadAllPerspectives is wrapped       # not wrapped twice
    assert {"ShapeEstimate", "NumericalModel"} <= set(perspectives.PERSPECTIVES)
    ensure_menu_entries(window.guiManager)
    names = [a.objectName() for a in window.menuAnalysis.actions()]
    assert names.count("actionSaxsimShapeEstimate") == 1
    assert names.count("actionSaxsimNumericalModel") == 1
    explorer = window.guiManager.filesWidget
    assert explorer.cbFitting.findText("ShapeEstimate") >= 0


def test_estimate_seed_fit_page_and_fit(window, qtbot):
    """Load a sphere dataset, send it to the perspective, estimate, send to fitting, fit."""
    manager = window.guiManager
    _action(window, "ShapeEstimate").trigger()
    assert manager.perspective().name == "ShapeEstimate"
    assert _action(window, "ShapeEstimate").isChecked()
    item = _load(manager, "1d_data/PolySpheres.txt")
    _check_only(manager, [item])
    manager.filesWidget.sendData()
    view = manager.perspective()
    _wait_idle(qtbot, view)
    row = view.rows[-1]
    assert row.item is item and not row.problem and not row.error
    est = row.analysis.estimate
    # v5 ranks sphere first (P 0.76, core-shell sphere and ellipsoid next): not confident
    assert est.model_name == "sphere"
    radius = est.parameters["radius"]
    assert radius[1] < radius[0] < radius[2]
    table_text = [view.table.item(len(view.rows) - 1, c).text()
                  for c in range(view.table.columnCount())]
    assert "sphere" in table_text and ("yes" if est.confident else "NO") in table_text

    view.table.selectRow(len(view.rows) - 1)
    view.on_send_to_fitting()
    assert manager.perspective().name == "Fitting"
    page = manager.loadedPerspectives["Fitting"].currentTab
    assert page.cbModel.currentText() == "sphere"
    assert page.cbStructureFactor.currentText() in ("None", "")
    assert page.logic.data.name == row.item.text() or page.logic.data.filename
    assert page.chkPolydispersity.isChecked()
    seeded = page.getParameterDict()
    pars = est.sasmodels_parameters
    assert float(seeded["radius"][1]) == pytest.approx(pars["radius"], rel=1e-4)
    assert float(seeded["radius.width"][1]) == pytest.approx(pars["radius_pd"], rel=1e-4)
    assert float(seeded["scale"][1]) == pytest.approx(pars["scale"], rel=1e-4)
    assert seeded["radius"][0] == "True" and seeded["sld"][0] == "False"

    # the label already shows the seed's χ² (SasView recomputes it when parameters change):
    # wait for the fit's own completion signal; SasView's fitComplete slot, connected first,
    # has run when the blocker returns
    with qtbot.waitSignal(page.fittingFinishedSignal, timeout=WAIT_MS) as blocker:
        page.onFit()
    qtbot.waitUntil(lambda: not page.fit_started, timeout=WAIT_MS)
    fitness = blocker.args[0][0][0][0].fitness            # the optimiser's reduced χ²
    qtbot.waitUntil(lambda: page.lblChi2Value.text() not in ("", "---"), timeout=WAIT_MS)
    chi2 = float(page.lblChi2Value.text())                # what the page reports
    for value in (fitness, chi2):
        assert np.isfinite(value) and 0.2 < value < 3.0
    fitted = page.getParameterDict()
    # the seed was close: the fit moves the radius by less than 15 %
    assert float(fitted["radius"][1]) == pytest.approx(pars["radius"], rel=0.15)


def test_unusable_datasets_get_a_message_not_a_traceback(window, qtbot, caplog):
    from sasdata.dataloader.data_info import Data1D

    from sasview_saxsim_plugin.gui.registration import show_perspective

    manager = window.guiManager
    show_perspective(manager, "ShapeEstimate")
    view = manager.perspective()
    two_d = _load(manager, "2d_data/P123_D2O_10_percent.dat")
    sesans = _load(manager, "sesans_data/sphere_isis.ses")
    q = np.geomspace(0.01, 0.2, 10)
    short = _item_for(Data1D(x=q, y=1 / q, dy=0.1 / q), "ten points")
    q = np.geomspace(0.005, 0.3, 80)
    nans = _item_for(Data1D(x=q, y=np.full_like(q, np.nan), dy=np.ones_like(q)), "all NaN")
    # readable, but nothing to estimate from (fails in the worker, not at reading)
    negative = _item_for(Data1D(x=q, y=-1 / q, dy=np.ones_like(q)), "all negative")
    start = len(view.rows)
    with caplog.at_level(logging.INFO):
        view.setData([two_d, sesans, short, nans, negative])
        _wait_idle(qtbot, view)
    rows = view.rows[start:]
    assert "2D data" in rows[0].problem
    assert "SESANS" in rows[1].problem
    assert "at least 20" in rows[2].problem
    assert "no numeric q, I values" in rows[3].problem     # caught when the curve is read
    assert all(r.analysis is None for r in rows)
    logged = caplog.text
    assert "2D data" in logged and "SESANS" in logged and "all NaN" in logged
    assert "usable points" in rows[4].error and rows[4].analysis is None
    statuses = [view.table.item(start + k, 2).text() for k in range(5)]
    assert statuses[0].startswith("not usable") and statuses[3].startswith("not usable")
    assert statuses[4].startswith("failed")
    assert manager.perspective() is view                      # SasView still running


@pytest.mark.parametrize("broken", ["missing", "corrupt"])
def test_missing_or_broken_weight_file_is_reported(window, qtbot, monkeypatch, tmp_path,
                                                   broken):
    import importlib

    from sasview_saxsim_plugin.gui.registration import show_perspective
    from sasview_saxsim_plugin.io.loading import load_curve

    estimate_module = importlib.import_module("sasview_saxsim_plugin.inverse.estimate")

    manager = window.guiManager
    show_perspective(manager, "ShapeEstimate")
    view = manager.perspective()
    weights = tmp_path / "shipped.pt"
    if broken == "corrupt":
        weights.write_bytes(b"not a torch file")
    monkeypatch.setattr(estimate_module, "DEFAULT_WEIGHTS", weights)
    estimate_module.load_network.cache_clear()
    try:
        index = view.add_curve(load_curve(EXAMPLES / "1d_data/PolySpheres.txt"), "no weights")
        view.start_estimates([index])
        _wait_idle(qtbot, view)
    finally:
        estimate_module.load_network.cache_clear()
    assert "weight file" in view.rows[index].error
    assert "weight file" in view.status.text()


def test_batch_estimates_and_csv_export(window, qtbot, tmp_path):
    from sasview_saxsim_plugin.gui.registration import show_perspective

    manager = window.guiManager
    show_perspective(manager, "ShapeEstimate")
    view = manager.perspective()
    items = [_load(manager, "1d_data/PolySpheres.txt"), _load(manager, "1d_data/cyl_400_40.txt")]
    _check_only(manager, items)
    assert manager.filesWidget.chkBatch.isEnabled()           # allowBatch()
    start = len(view.rows)
    manager.filesWidget.sendData()
    _wait_idle(qtbot, view)
    new = view.rows[start:]
    assert [r.analysis is not None for r in new] == [True, True]
    assert new[1].analysis.estimate.model_name == "cylinder"
    path = tmp_path / "estimates.csv"
    n = view.write_csv(str(path))
    with open(path, newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert n == len(rows) == sum(r.analysis is not None for r in view.rows)
    by_name = {r["dataset"]: r for r in rows}
    cyl = new[1].analysis.estimate
    written = by_name[new[1].analysis.curve.title]
    assert written["model"] == written["family_1"] == "cylinder"
    assert float(written["length_A"]) == pytest.approx(cyl.parameters["length"][0], rel=1e-9)
    assert {"radius_A_p16", "radius_A_p84", "P_1", "P_3", "family_3", "parameters_2",
            "confident"} <= set(written)
    assert written["family_2"] == cyl.ranked[1].model_name


def test_any_listed_family_goes_to_the_fit_page(window, qtbot):
    """The user picks the second-ranked family in the families table: the fit page opens with
    that model and the estimate's parameters for it, not the top family's."""
    from sasview_saxsim_plugin.gui.registration import show_perspective

    manager = window.guiManager
    show_perspective(manager, "ShapeEstimate")
    view = manager.perspective()
    item = _load(manager, "1d_data/cyl_400_40.txt")
    _check_only(manager, [item])
    manager.filesWidget.sendData()
    _wait_idle(qtbot, view)
    index = len(view.rows) - 1
    view.table.selectRow(index)
    second = view.rows[index].analysis.estimate.ranked[1]
    assert view.families.rowCount() >= 3
    view.select_family(second.model_name)
    assert view.selected_family() == second.model_name
    view.on_send_to_fitting()
    page = manager.loadedPerspectives["Fitting"].currentTab
    form, _, structure = second.model_name.partition("@")
    assert page.cbModel.currentText() == form
    seeded = page.getParameterDict()
    for name, (median, _, _) in second.parameters.items():
        key = f"{name[:-3]}.width" if name.endswith("_pd") else name
        assert float(seeded[key][1]) == pytest.approx(median, rel=1e-3), name


def test_closed_dataset_leaves_the_perspective(window, qtbot):
    from sasview_saxsim_plugin.gui.registration import show_perspective

    manager = window.guiManager
    show_perspective(manager, "ShapeEstimate")
    view = manager.perspective()
    item = _load(manager, "1d_data/sphere_80.txt")
    view.setData([item])
    _wait_idle(qtbot, view)
    assert any(r.item is item for r in view.rows)
    manager.communicate.dataDeletedSignal.emit([item])
    assert not any(r.item is item for r in view.rows)


def test_numerical_vs_analytical_view(window, qtbot):
    from sasview_saxsim_plugin.gui.registration import show_perspective

    manager = window.guiManager
    _action(window, "NumericalModel").trigger()
    view = manager.perspective()
    assert view.name == "NumericalModel"
    stages = []
    view.apply_settings("particle", "cylinder", radius=20.0, length=120.0, radius_pd=0.1,
                        q_min=0.005, q_max=0.3, points=120)
    view.on_compute()
    view.job.progressed.connect(lambda s, d, t: stages.append((d, t)))
    _wait_idle(qtbot, view)
    assert view.result is not None and view.result.model == "cylinder"
    m = view.result.metrics
    # the numerical cylinder agrees with sasmodels' analytical one (independent reference)
    assert m["median_rel_error"] < 0.005 and m["n_points"] == 120
    assert stages and stages[-1][0] == stages[-1][1] == 35       # one step per pd point
    assert "χ²" in view.metrics.text()

    for which, model in (("numerical", "numerical_cylinder"), ("analytical", "cylinder")):
        show_perspective(manager, "NumericalModel")
        view.on_send(which)
        page = manager.loadedPerspectives["Fitting"].currentTab
        assert manager.perspective().name == "Fitting"
        assert page.cbModel.currentText() == model
        pars = page.getParameterDict()
        assert float(pars["radius"][1]) == pytest.approx(20.0)
        assert float(pars["length"][1]) == pytest.approx(120.0)

    # hard spheres in a box (split FFT): both models carry the hard-sphere S(q)
    show_perspective(manager, "NumericalModel")
    view.apply_settings("box", "hardspheres", radius=40.0, volume_fraction=0.2, n=96,
                        box=800.0, realisations=1, q_min=0.005, q_max=0.2, radius_pd=0.0)
    view.on_compute()
    _wait_idle(qtbot, view)
    assert view.result.model == "sphere@hardsphere"
    for which, model in (("numerical", "numerical_sphere"), ("analytical", "sphere")):
        show_perspective(manager, "NumericalModel")
        view.on_send(which)
        page = manager.loadedPerspectives["Fitting"].currentTab
        assert page.cbModel.currentText() == model
        assert page.cbStructureFactor.currentText() == "hardsphere"
        phi = view.result.extra["volume_fraction_realised"]
        assert float(page.getParameterDict()["volfraction"][1]) == pytest.approx(phi, rel=1e-4)


def test_build_model_page_installs_a_mesh_model_that_fits_a_shipped_dataset(window, qtbot,
                                                                          tmp_path):
    """Build model: a cylinder mesh 10 % smaller than SasView's cyl_400_20 data, previewed,
    installed (SasView's plugin reload on its fit pages), sent to a fit page with the data, and
    fitted: size_scale goes to 1/0.9."""
    trimesh = pytest.importorskip("trimesh")
    from sasview_saxsim_plugin.gui.registration import show_perspective

    manager = window.guiManager
    path = tmp_path / "cylinder.stl"
    trimesh.creation.cylinder(18.0, 360.0, sections=128).export(path)
    item = _load(manager, "1d_data/cyl_400_20.txt")
    _check_only(manager, [item])
    show_perspective(manager, "NumericalModel")
    view = manager.perspective()
    manager.filesWidget.sendData()
    assert view.data_item is item
    page = view.build_page
    view.tabs.setCurrentWidget(page)
    page.set_source(str(path), "test_mesh_cylinder")
    page.cb_unit.setCurrentText("Å")
    page.voxels.setValue(120)
    page.on_preview()
    qtbot.waitUntil(lambda: page.job is None, timeout=WAIT_MS)
    # the object at its real dimensions: 36 × 36 × 360 Å in some order, to one preview
    # voxel (40 across the box: 9.5 Å)
    assert sorted(_extent(page.status.text())) == pytest.approx([36, 36, 360], abs=9.5)
    assert page.ax3d.collections and page.ax_iq.lines            # the object and its I(q)

    page.chk_replace.setChecked(True)
    page.on_install()
    qtbot.waitUntil(lambda: page.job is None, timeout=WAIT_MS)
    assert page.installed is not None, page.status.text()
    from sasview_saxsim_plugin.models.install import sasview_plugin_dir
    assert (sasview_plugin_dir() / "test_mesh_cylinder.py").is_file()

    page.on_send()
    assert manager.perspective().name == "Fitting"
    fit_page = manager.loadedPerspectives["Fitting"].currentTab
    assert fit_page.cbModel.currentText() == "test_mesh_cylinder"   # listed without restart
    pars = fit_page.getParameterDict()
    assert pars["size_scale"][0] == "True" and pars["sld"][0] == "False"
    with qtbot.waitSignal(fit_page.fittingFinishedSignal, timeout=WAIT_MS):
        fit_page.onFit()
    qtbot.waitUntil(lambda: not fit_page.fit_started, timeout=WAIT_MS)
    fitted = fit_page.getParameterDict()
    assert float(fitted["size_scale"][1]) == pytest.approx(1 / 0.9, rel=0.03)
    qtbot.waitUntil(lambda: fit_page.lblChi2Value.text() not in ("", "---"), timeout=WAIT_MS)
    assert np.isfinite(float(fit_page.lblChi2Value.text()))


def test_build_model_page_reports_bad_input(window, qtbot, tmp_path):
    from sasview_saxsim_plugin.gui.registration import show_perspective

    manager = window.guiManager
    show_perspective(manager, "NumericalModel")
    page = manager.perspective().build_page
    page.set_source("")
    page.on_preview()
    assert "choose a shipped shape or a file" in page.status.text()
    broken = tmp_path / "broken.pdb"
    broken.write_text("REMARK nothing\nEND\n")
    page.set_source(str(broken), "test_broken")
    page.on_install()
    qtbot.waitUntil(lambda: page.job is None, timeout=WAIT_MS)
    assert "broken.pdb" in page.status.text() and page.installed is None
    page.set_source("torus", "test_torus_preview")
    page.on_preview()
    qtbot.waitUntil(lambda: page.job is None, timeout=WAIT_MS)
    assert "Torus" in page.status.text()
    assert sorted(_extent(page.status.text())) == pytest.approx([50, 250, 250], abs=6.6)
    from sasview_saxsim_plugin.models.install import sasview_plugin_dir
    (sasview_plugin_dir() / "test_torus_taken.py").write_text("# a user's own model\n")
    page.set_source("torus", "test_torus_taken")
    page.chk_replace.setChecked(False)
    page.on_install()
    qtbot.waitUntil(lambda: page.job is None, timeout=WAIT_MS)
    assert "tick 'replace an existing model'" in page.status.text()     # the page's words
    assert "--overwrite" not in page.status.text()
    assert (sasview_plugin_dir() / "test_torus_taken.py").read_text() == "# a user's own model\n"


def _extent(text: str) -> list[float]:
    """The 'a × b × c Å' extent a preview reports."""
    import re
    match = re.search(r"([\d.]+) × ([\d.]+) × ([\d.]+) Å", text)
    assert match, text
    return [float(x) for x in match.groups()]


def test_numerical_computation_can_be_cancelled(window, qtbot):
    from sasview_saxsim_plugin.gui.registration import show_perspective

    manager = window.guiManager
    show_perspective(manager, "NumericalModel")
    view = manager.perspective()
    before = view.result
    view.apply_settings("box", "spheres", radius=20.0, volume_fraction=0.1, n=320,
                        box=3000.0, realisations=5)
    view.on_compute()
    qtbot.waitUntil(lambda: view.progress.value() > 0, timeout=WAIT_MS)
    view.on_cancel()
    _wait_idle(qtbot, view)
    assert "cancelled" in view.status.text()
    assert view.result is before                      # nothing half-done replaces a result
    assert view.btn_compute.isEnabled()


def test_project_save_and_reopen_with_the_perspective_open(window, qtbot, tmp_path,
                                                           monkeypatch):
    from sasview_saxsim_plugin.gui.registration import show_perspective

    manager = window.guiManager
    show_perspective(manager, "ShapeEstimate")
    item = _load(manager, "1d_data/PolySpheres.txt")
    manager.perspective().setData([item])
    _wait_idle(qtbot, manager.perspective())
    path = tmp_path / "project.json"
    monkeypatch.setattr(manager.filesWidget, "saveProject", lambda: str(path))
    manager.actionSave_Project()
    saved = json.loads(path.read_text())
    assert saved["visible_perspective"] == "ShapeEstimate"
    # what "Open Project" does after its dialogs: rebuild perspectives, read the file
    explorer = manager.filesWidget
    explorer.deleteAllItems()
    explorer.cbFitting.blockSignals(True)
    manager.loadAllPerspectives()
    explorer.cbFitting.blockSignals(False)
    explorer.initPerspectives()
    explorer.readProject(str(path))
    assert manager.perspective().name == "ShapeEstimate"
    assert explorer.model.rowCount() >= 1
    names = [a.objectName() for a in window.menuAnalysis.actions()]
    assert names.count("actionSaxsimShapeEstimate") == 1


def test_launcher_registers_installs_model_and_starts_sasview(monkeypatch, capsys):
    import sys

    import sas.cli
    import sas.qtgui.Perspectives as perspectives

    from sasview_saxsim_plugin.gui import launcher
    from sasview_saxsim_plugin.models.install import sasview_plugin_dir

    started = []
    monkeypatch.setattr(sas.cli, "main", lambda: started.append(list(sys.argv)) or 0)
    monkeypatch.setattr(sys, "argv", list(sys.argv))
    assert launcher.main(["-l", "debug"]) == 0
    assert started == [["sasview", "-l", "debug"]]
    from sasview_saxsim_plugin.cli import main as saxsim_main
    assert saxsim_main(["gui", "-l", "info"]) == 0                # saxsim gui = sasview-saxsim
    assert started[-1] == ["sasview", "-l", "info"]
    assert "ShapeEstimate" in perspectives.PERSPECTIVES
    assert (sasview_plugin_dir() / "numerical_sphere.py").exists()
    assert "plugin model" in capsys.readouterr().out


def test_launcher_refuses_an_untested_sasview(monkeypatch, capsys):
    import sas.cli

    from sasview_saxsim_plugin.gui import compat, launcher

    monkeypatch.setattr(compat, "sasview_version", lambda: "6.3.0")
    monkeypatch.setattr(sas.cli, "main", lambda: pytest.fail("SasView must not start"))
    assert launcher.main([]) == 2
    err = capsys.readouterr().err
    assert "SasView 6.3.0 is not supported" in err and "6.1.x" in err


def test_register_works_in_a_fresh_process_before_any_qt_import():
    """sasview-saxsim registers before SasView has imported Qt; SasView's perspectives import
    matplotlib's Qt backend, which fails unless PySide6 is already loaded."""
    import subprocess
    import sys

    code = ("import sys; from sasview_saxsim_plugin.gui import register; "
            "print(register()); print('PyQt5' in sys.modules)")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       timeout=120)
    assert p.returncode == 0, p.stderr[-2000:]
    assert "['ShapeEstimate', 'NumericalModel']" in p.stdout
