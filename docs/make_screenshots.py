"""Screenshots of the SasView perspectives with SasView's example data (docs/figures/gui_*.png).

Run on a virtual screen, with a throw-away HOME so no real SasView config is touched:

    HOME=$(mktemp -d) xvfb-run -s "-screen 0 1600x1000x24" python docs/make_screenshots.py

It drives SasView's real main window the way a user would: load files in the Data Explorer,
send them to "ShapeEstimate", estimate, "Send to Fitting", Fit; then compute a numerical
model in "NumericalModel" and preview a shipped shape on its "Build model" tab. Prints what
each step gave (the figures quoted in docs/sasview.md).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from PySide6 import QtCore, QtWidgets

OUT = Path(__file__).parent / "figures"


def spin(app, seconds: float) -> None:
    end = time.time() + seconds
    while time.time() < end:
        app.processEvents()
        time.sleep(0.02)


def wait(app, condition, timeout: float = 300.0) -> None:
    end = time.time() + timeout
    while not condition():
        if time.time() > end:
            raise TimeoutError("the GUI did not finish in time")
        app.processEvents()
        time.sleep(0.02)


def main() -> int:
    app = QtWidgets.QApplication(sys.argv[:1])
    app.setStyleSheet("* {font-size: 10pt;}")
    from sas.system import config

    config.override_with_defaults()
    config.LAST_WHATS_NEW_HIDDEN_VERSION = "999.999.999"
    if os.environ.get("QT_QPA_PLATFORM") == "offscreen":   # no GL context: stub Shape2SAS 3D
        import sas.qtgui.Calculators.Shape2SAS.DesignWindow as design

        class Stub:
            def __init__(self, *a, **k):
                self.Viewmodel_modul = QtWidgets.QWidget()

            def __getattr__(self, name):
                return lambda *a, **k: None
        design.ViewerModel = Stub
    import sas

    from sasview_saxsim_plugin.gui import register
    from sasview_saxsim_plugin.gui.launcher import ensure_plugin_models
    from sasview_saxsim_plugin.gui.registration import show_perspective

    ensure_plugin_models()
    register()
    from sas.qtgui.MainWindow.MainWindow import MainSasViewWindow

    window = MainSasViewWindow()
    window.resize(1560, 960)
    window.show()
    spin(app, 1.0)
    window.showNormal()
    window.resize(1560, 960)
    manager = window.guiManager
    manager.logDockWidget.setVisible(True)
    window.resizeDocks([manager.logDockWidget], [90], QtCore.Qt.Vertical)
    explorer = manager.filesWidget
    examples = Path(sas.__file__).parent / "example_data"
    files = ["1d_data/PolySpheres.txt", "1d_data/cyl_400_40.txt", "1d_data/apoferritin.txt",
             "2d_data/P123_D2O_10_percent.dat"]
    explorer.loadComplete(explorer.readData([str(examples / f) for f in files]))
    model = explorer.model
    for row in range(model.rowCount()):
        model.item(row).setCheckState(QtCore.Qt.Checked)
    show_perspective(manager, "ShapeEstimate")
    view = manager.perspective()
    explorer.sendData()
    wait(app, lambda: view.job is None and not view._queue)
    for row in view.rows:
        e = row.analysis.estimate if row.analysis else None
        print(f"{row.name}: " + (row.problem or row.error or
                                 f"{e.model_name} P={e.probabilities[e.model_name]:.2f} "
                                 f"confident={e.confident} "
                                 + ", ".join(f"{k}={v[0]:.4g}" for k, v in e.parameters.items())))
    view.table.selectRow(0)
    subwindow = manager.subwindow
    subwindow.showMaximized()
    spin(app, 1.0)
    OUT.mkdir(exist_ok=True)
    window.grab().save(str(OUT / "gui_shape_estimate.png"))

    view.on_send_to_fitting()
    page = manager.loadedPerspectives["Fitting"].currentTab
    spin(app, 2.0)
    page.onFit()
    wait(app, lambda: page.lblChi2Value.text() not in ("", "---", "0"))
    spin(app, 2.0)
    manager.workspace().tileSubWindows()
    spin(app, 1.0)
    pars = page.getParameterDict()
    print(f"fit page: {page.cbModel.currentText()}, reduced chi2 {page.lblChi2Value.text()}, "
          f"radius {pars['radius'][1]} Å, pd {pars['radius.width'][1]}")
    window.grab().save(str(OUT / "gui_fit_page.png"))

    show_perspective(manager, "NumericalModel")
    view = manager.perspective()
    manager.subwindow.showMaximized()
    for row in range(model.rowCount()):      # send PolySpheres: its q range, its fit pages
        model.item(row).setCheckState(QtCore.Qt.Checked if row == 0 else QtCore.Qt.Unchecked)
    explorer.sendData()
    def compute(*args, **settings) -> None:
        view.apply_settings(*args, **settings)
        t0 = time.perf_counter()
        view.on_compute()
        wait(app, lambda: view.job is None)
        print(f"numerical view ({time.perf_counter() - t0:.1f} s): {view.metrics.text()}")

    compute("particle", "cylinder", radius=20.0, length=100.0, radius_pd=0.1, q_min=0.005,
            q_max=0.3, points=150)
    view.setData([model.item(0)])             # back to the data's q range
    compute("box", "hardspheres", radius=40.0, volume_fraction=0.2, n=160, box=1200.0,
            realisations=2, radius_pd=0.05)
    spin(app, 1.0)
    window.grab().save(str(OUT / "gui_numerical_vs_analytical.png"))

    build = view.build_page                   # the Build model tab: a shipped shape
    view.tabs.setCurrentWidget(build)
    build.set_source("torus")
    t0 = time.perf_counter()
    build.on_preview()
    wait(app, lambda: build.job is None)
    spin(app, 1.0)
    print(f"build model preview ({time.perf_counter() - t0:.1f} s): {build.status.text()}")
    window.grab().save(str(OUT / "gui_build_model.png"))
    print("written:", *sorted(p.name for p in OUT.glob("gui_*.png")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
