"""Adding a shape is one registry entry: every layer picks it up."""

import numpy as np
import pytest

from sasview_saxsim_plugin.geometry import registry
from sasview_saxsim_plugin.geometry.registry import ShapeSpec, length, register, solid_slds
from sasview_saxsim_plugin.geometry.shapes import Sphere


@pytest.fixture
def ball(tmp_path, monkeypatch):
    """A shape the registry lacks: 'ball', a sphere under another name (so sasmodels'
    sphere is its analytical counterpart), registered for one test."""
    monkeypatch.setenv("SAXSIM_CACHE", str(tmp_path))
    spec = register(ShapeSpec(
        name="ball", title="Ball (voxelised)", description="A ball of radius *radius*.",
        parameters=solid_slds(1.0, 6.0) + (length("radius", 50.0, "ball radius"),),
        parts=lambda d, theta, phi, c: [Sphere(d["radius"], center=c)],
        contrasts=lambda s: [s["sld"] - s["sld_solvent"]], sasmodels_name="sphere",
        outer_radius=lambda d: d["radius"]))
    yield spec
    del registry.SHAPES["ball"]


def test_a_new_registry_entry_reaches_every_layer(ball, capsys, tmp_path):
    import json

    from sasmodels.core import load_model
    from sasmodels.direct_model import call_kernel

    from sasview_saxsim_plugin.cli import main
    from sasview_saxsim_plugin.geometry import make_body
    from sasview_saxsim_plugin.gui.comparison_view import particle_shapes, shape_fields
    from sasview_saxsim_plugin.models import load_numerical_model
    from sasview_saxsim_plugin.models.install import install_models

    # rasteriser
    assert make_body("ball", radius=10.0).volume == pytest.approx(4 / 3 * np.pi * 1e3)
    # CLI and the comparison with its sasmodels counterpart
    assert main(["compare", "--shape", "ball", "--radius", "30", "--sld-solvent", "0",
                 "--points", "40", "--json", "--plot", "/dev/null"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["sasmodels_model"] == "sphere" and out["median_rel_error"] < 2e-3
    # the sasmodels plugin model, against the analytical sphere
    q = np.geomspace(0.005, 0.3, 60)
    num = call_kernel(load_numerical_model("ball").make_kernel([q]), {"radius": 30.0})
    ref = call_kernel(load_model("sphere").make_kernel([q]), {"radius": 30.0})
    assert np.median(np.abs(num / ref - 1)) < 2e-3
    # install-model and the GUI
    written = install_models(tmp_path / "sasview_plugins")
    assert tmp_path / "sasview_plugins" / "numerical_ball.py" in written
    assert "ball" in particle_shapes() and "radius" in shape_fields()


def test_a_name_is_registered_once():
    with pytest.raises(ValueError, match="registered already"):
        register(registry.SHAPES["sphere"])


def test_a_shape_with_off_centre_parts_is_refused_by_the_plugin_engine(tmp_path, monkeypatch):
    """The engine mirrors one octant; a dumbbell of off-centre spheres would come out wrong,
    so it says so instead, while the CLI's whole-body route computes it."""
    import numpy as np

    from sasview_saxsim_plugin.errors import SaxsimInputError
    from sasview_saxsim_plugin.models.engine import MODEL

    monkeypatch.setenv("SAXSIM_CACHE", str(tmp_path))
    register(ShapeSpec(
        name="snowman", title="Snowman", description="Two touching spheres.",
        parameters=solid_slds(1.0, 0.0) + (length("radius", 30.0, "big radius"),),
        parts=lambda d, theta, phi, c: [
            Sphere(d["radius"], center=c + np.array([0.0, 0.0, -d["radius"] / 2])),
            Sphere(d["radius"] / 2, center=c + np.array([0.0, 0.0, d["radius"]]))],
        contrasts=lambda s: [s["sld"] - s["sld_solvent"]] * 2))
    try:
        with pytest.raises(SaxsimInputError, match="off-centre"):
            MODEL.iq(np.geomspace(0.01, 0.2, 10), "snowman", {"radius": 30.0}, {})
    finally:
        del registry.SHAPES["snowman"]


def test_a_new_shape_gets_its_counterparts_values_as_plugin_tests(ball):
    from sasview_saxsim_plugin.models.shape_models import model_namespace
    ball_checks = ShapeSpec(**{**ball.__dict__, "name": "ball2",
                               "checks": ({"radius": 40.0}, (0.01, 0.05))})
    register(ball_checks)
    try:
        tests = model_namespace("ball2")["tests"]
        assert len(tests) == 1 and len(tests[0][2]) == 2 and tests[0][2][0] > tests[0][2][1]
    finally:
        del registry.SHAPES["ball2"]
