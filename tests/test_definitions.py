"""Shapes from definitions (geometry.solids, geometry.definitions) and the plugin models built
from them (models.definition_model): geometry against closed forms and brute force, I(q)
against sasmodels' analytical models, and one clear message per bad definition."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sasview_saxsim_plugin.errors import SaxsimInputError
from sasview_saxsim_plugin.geometry.definitions import SolidShape, spec_from_source, union_volume
from sasview_saxsim_plugin.geometry.registry import SHAPES
from sasview_saxsim_plugin.geometry.solids import (
    Ball,
    Box,
    Cylinder,
    HalfSpace,
    Helix,
    Polyhedron,
    RoundedBox,
    Superellipsoid,
    Torus,
)
from sasview_saxsim_plugin.models.engine import MODEL
from sasview_saxsim_plugin.shapes import library_names, load_definition


@pytest.fixture(autouse=True)
def _forget_user_shapes():
    """Shapes registered by a test leave the registry afterwards (library shapes stay: they
    are the same everywhere)."""
    before = set(SHAPES)
    yield
    for name in set(SHAPES) - before:
        if name.startswith("test_"):
            del SHAPES[name]


def exact_distance_samples(solid, points):
    return solid.distance(points[:, 0], points[:, 1], points[:, 2])


RNG = np.random.default_rng(3)
POINTS = RNG.uniform(-120, 120, size=(4000, 3))


@pytest.mark.parametrize("solid, exact", [
    (Ball(50.0), lambda p: np.linalg.norm(p, axis=1) - 50.0),
    (Torus(80.0, 20.0),
     lambda p: np.hypot(np.hypot(p[:, 0], p[:, 1]) - 80.0, p[:, 2]) - 20.0),
])
def test_exact_distances(solid, exact):
    assert np.allclose(exact_distance_samples(solid, POINTS), exact(POINTS), atol=1e-9)


@pytest.mark.parametrize("solid", [
    Box(60.0, 80.0, 100.0), RoundedBox(60.0, 80.0, 100.0, 10.0), Cylinder(30.0, 90.0),
    Superellipsoid(50.0, 40.0, 30.0, 2.0), Superellipsoid(50.0, 50.0, 50.0, 0.6),
    Polyhedron([(40, 40, 40), (40, -40, -40), (-40, 40, -40), (-40, -40, 40)]),
    Ball(40.0) - Ball(30.0).translated(20, 0, 0), Ball(40.0) & HalfSpace((1, 1, 0), 5.0),
    Box(60, 20, 20).rotated((1, 2, 3), 40.0) | Ball(25.0).translated(0, 0, 30),
])
def test_distance_is_a_bound_that_never_exceeds_the_true_distance(solid):
    """The rasteriser trusts |d| ≤ the true distance: for pairs of points with opposite
    signs, the segment between them crosses the surface, so |d(a)| + |d(b)| ≤ |a − b|."""
    d = exact_distance_samples(solid, POINTS)
    inside, outside = POINTS[d < 0], POINTS[d > 0]
    assert len(inside) > 20 and len(outside) > 20
    a, b = inside[:200], outside[:200]
    gap = np.linalg.norm(a[:, None, :] - b[None, :, :], axis=-1)
    da = -exact_distance_samples(solid, a)[:, None]
    db = exact_distance_samples(solid, b)[None, :]
    assert np.all(da + db <= gap + 1e-6)


@pytest.mark.parametrize("solid, volume", [
    (Torus(80.0, 20.0), 2 * math.pi ** 2 * 80.0 * 20.0 ** 2),
    (Cylinder(30.0, 90.0), math.pi * 30.0 ** 2 * 90.0),
    # box minus rounding: 6 slabs, 12 quarter-cylinders, 8 eighth-spheres
    (RoundedBox(60.0, 80.0, 100.0, 10.0),
     40 * 60 * 80 + 2 * 10 * (40 * 60 + 60 * 80 + 40 * 80)
     + math.pi * 10 ** 2 * (40 + 60 + 80) + 4 / 3 * math.pi * 10 ** 3),
    (Polyhedron([(40, 40, 40), (40, -40, -40), (-40, 40, -40), (-40, -40, 40)]),
     (80 * math.sqrt(2)) ** 3 / (6 * math.sqrt(2))),
    (Ball(40.0) | Ball(30.0).translated(0, 0, 50.0),     # two overlapping spheres
     4 / 3 * math.pi * (40 ** 3 + 30 ** 3)
     - math.pi * (40 + 30 - 50) ** 2 * (50 ** 2 + 2 * 50 * 70 - 3 * 10 ** 2) / (12 * 50)),
])
def test_union_volume_equals_the_closed_form(solid, volume):
    assert union_volume([SolidShape(solid)]) == pytest.approx(volume, rel=2e-3)


def test_helix_distance_equals_brute_force_distance_to_its_centre_line():
    from scipy.spatial import cKDTree
    helix = Helix(50.0, 120.0, 12.0, 3.0)
    t = np.linspace(-3 * np.pi, 3 * np.pi, 400001)
    line = np.stack([50 * np.cos(t), 50 * np.sin(t), 120 * t / (2 * np.pi)], 1)
    pts = RNG.uniform([-70, -70, -200], [70, 70, 200], size=(3000, 3))
    brute = cKDTree(line).query(pts)[0] - 12.0
    assert np.allclose(exact_distance_samples(helix, pts), brute, atol=0.02)


SHIPPED_WITH_COUNTERPART = [n for n in library_names()
                            if load_definition(n, register_it=False).sasmodels_name]


def test_the_library_holds_the_shapes_of_the_issue():
    assert {"torus", "helix", "superellipsoid", "rounded_cube", "janus_sphere",
            "dimer"} <= set(library_names())
    assert {"barbell", "capped_cylinder", "superball", "hollow_rectangular_prism",
            "truncated_octahedron", "tetrahedron", "core_shell_bicelle",
            "linear_pearls"} <= set(SHIPPED_WITH_COUNTERPART)


def _numerical_and_analytical(name: str, q: np.ndarray, pd: float = 0.0):
    import tempfile

    from sasmodels.core import load_model
    from sasmodels.direct_model import call_kernel

    from sasview_saxsim_plugin.models.definition_model import make_definition_model
    spec = load_definition(name)
    pars = {**spec.defaults(), **spec.checks[0], "scale": 1.0, "background": 0.0}
    if pd:
        pars.update({f"{spec.lengths[0]}_pd": pd, f"{spec.lengths[0]}_pd_n": 15})
    with tempfile.TemporaryDirectory() as folder:
        numerical = load_model(str(make_definition_model(name, out_dir=folder)))
        kernel = numerical.make_kernel([q])
        ours = np.asarray(call_kernel(kernel, pars))
    ref = load_model(spec.sasmodels_name).make_kernel([q])
    return ours, np.asarray(call_kernel(ref, pars))


@pytest.mark.parametrize("name", ["tetrahedron", "capped_cylinder", "hollow_rectangular_prism",
                                  "linear_pearls", "core_shell_bicelle"])
def test_built_model_equals_the_sasmodels_closed_form(name):
    q = np.geomspace(0.005, 0.3, 60)
    ours, theirs = _numerical_and_analytical(name, q)
    rel = np.abs(ours / theirs - 1)
    assert np.median(rel) < 0.005 and np.percentile(rel, 95) < 0.03, (
        f"{name}: median {np.median(rel):.3g}, p95 {np.percentile(rel, 95):.3g}")


@pytest.mark.slow
# (the bicelle with polydispersity is left to benchmarks/built_models.py: its three ratios
# make a radius distribution build tens of tables, minutes)
@pytest.mark.parametrize("name", ["barbell", "superball", "truncated_octahedron"])
def test_built_model_with_polydispersity_equals_the_closed_form(name):
    q = np.geomspace(0.005, 0.3, 60)
    ours, theirs = _numerical_and_analytical(name, q, pd=0.1)
    rel = np.abs(ours / theirs - 1)
    assert np.median(rel) < 0.005 and np.percentile(rel, 95) < 0.03, (
        f"{name}: median {np.median(rel):.3g}, p95 {np.percentile(rel, 95):.3g}")


def test_deterministic_and_continuous_in_a_shape_number_and_a_length():
    spec = load_definition("superellipsoid")
    q = np.geomspace(0.005, 0.2, 40)
    base = spec.defaults()
    dims, slds = spec.split(base)

    def curve(**change):
        d = {**dims, **change}
        return MODEL.iq(q, "superellipsoid", d, slds) / MODEL.volume("superellipsoid", d)

    first = curve()
    assert np.array_equal(first, curve())                  # same call, same numbers
    for change in ({"exponent": dims["exponent"] + 1e-4},
                   {"radius_b": dims["radius_b"] * (1 + 1e-4)}):
        step = np.max(np.abs(curve(**change) / first - 1))
        assert step < 1e-3, (change, step)                  # no jump between grid points


def test_parts_with_their_own_slds_add_as_amplitudes():
    """A Janus sphere with equal halves is a sphere; with opposite contrasts it has no
    forward scattering."""
    spec = load_definition("janus_sphere")
    q = np.array([1e-3, 0.02, 0.05])
    dims = {"radius": 40.0}
    same = MODEL.iq(q, "janus_sphere", dims, {"sld_a": 3.0, "sld_b": 3.0, "sld_solvent": 1.0})
    sphere = MODEL.iq(q, "sphere", dims, {"sld": 3.0, "sld_solvent": 1.0})
    assert np.allclose(same, sphere, rtol=3e-3)
    opposite = MODEL.iq(q, "janus_sphere", dims, {"sld_a": 2.0, "sld_b": 0.0,
                                                   "sld_solvent": 1.0})
    assert opposite[0] < 1e-4 * same[0]
    assert spec.sld_names == ("sld_a", "sld_b", "sld_solvent")


GOOD = '''
from sasview_saxsim_plugin.shapes import Ball, length, sld
name = "test_blob"
parameters = [sld("sld", 1.0, "x"), sld("sld_solvent", 0.0, "y"), length("radius", 30.0, "r")]
def shape(radius):
    return Ball(radius)
'''


@pytest.mark.parametrize("change, message", [
    (("return Ball(radius)", "return Ball(radius +"), "syntax error"),
    (("return Ball(radius)", "return 1 / 0"), "ZeroDivisionError"),
    (("return Ball(radius)", "return radius"), "returned float"),
    (("return Ball(radius)", "return Ball(radius + 5.0)"), "does not scale"),
    (("return Ball(radius)", "return Ball(radius) - Ball(5.0)"), "does not scale"),
    (("return Ball(radius)", "return Ball(radius) - Ball(2 * radius)"), "empty"),
    (("return Ball(radius)", "return HalfSpace((0, 0, 1))"), "unbounded"),
    (("return Ball(radius)", "return Ball(radius) & Ball(radius).translated(0, 0, 3 * radius)"),
     "empty"),
    (("return Ball(radius)", "return [(Ball(radius), 'sld_core')]"), "'sld_core' is not one"),
    (('sld("sld_solvent", 0.0, "y"), ', ""), "sld_solvent"),
    (('name = "test_blob"', 'name = "Test Blob"'), "lower-case identifier"),
    (('length("radius", 30.0, "r")', 'sld("radius", 30.0, "r")'), "length parameter"),
    (("def shape(radius):", "def shapes(radius):"), "define a function shape"),
])
def test_bad_definitions_get_one_clear_message(change, message):
    source = GOOD.replace("import Ball,", "import Ball, HalfSpace,").replace(*change)
    with pytest.raises(SaxsimInputError, match=message):
        spec_from_source(source, "bad.py")
    assert "test_blob" not in SHAPES


def test_another_shape_under_a_loaded_name_is_refused():
    spec_from_source(GOOD, "one.py")
    assert spec_from_source(GOOD, "again.py") is SHAPES["test_blob"]
    with pytest.raises(SaxsimInputError, match="different shape named 'test_blob'"):
        spec_from_source(GOOD.replace("30.0", "31.0"), "two.py")


def test_an_edited_definition_reloaded_from_its_file_replaces_the_old_one():
    """SasView's plugin reload and a notebook load the same file again after an edit: the
    new geometry is used, not the old tables (the engine keys them by checksum)."""
    old = spec_from_source(GOOD, "blob.py")
    q = np.array([1e-3])
    i_old = MODEL.iq(q, old, {"radius": 30.0}, {"sld": 1.0, "sld_solvent": 0.0})
    new = spec_from_source(GOOD.replace("Ball(radius)", "Ball(radius) - Ball(radius / 2)"),
                           "blob.py")
    assert SHAPES["test_blob"] is new and new.key != old.key
    i_new = MODEL.iq(q, new, {"radius": 30.0}, {"sld": 1.0, "sld_solvent": 0.0})
    # forward scattering goes with the volume squared: (1 - 1/8)² of the full ball
    assert i_new[0] / i_old[0] == pytest.approx((7 / 8) ** 2, rel=2e-3)


def test_a_model_name_that_is_not_a_shape_name_is_refused_as_the_name():
    from sasview_saxsim_plugin.models.definition_model import make_definition_model
    with pytest.raises(SaxsimInputError, match="--name '_x'"):
        make_definition_model("torus", name="_x", out_dir=".")


def test_make_model_writes_only_a_model_that_loads_and_evaluates(tmp_path):
    from sasmodels.core import load_model
    from sasmodels.direct_model import call_kernel

    from sasview_saxsim_plugin.models.definition_model import make_definition_model
    good = tmp_path / "blob.py"
    good.write_text(GOOD)
    out = make_definition_model(good, name="test_blob_model", out_dir=tmp_path / "plugins")
    model = load_model(str(out))
    assert [p.name for p in model.info.parameters.kernel_parameters] == [
        "sld", "sld_solvent", "radius"]
    assert model.info.parameters["radius"].polydisperse
    q = np.array([0.01, 0.05])
    i = call_kernel(model.make_kernel([q]), {"radius": 30.0, "sld": 1.0, "sld_solvent": 0.0})
    assert np.all(np.isfinite(i) & (i > 0))
    with pytest.raises(SaxsimInputError, match="exists"):
        make_definition_model(good, name="test_blob_model", out_dir=tmp_path / "plugins")
    good.unlink()                                 # the plugin carries its definition
    assert load_model(str(out)).info.name == "test_blob_model"
    with pytest.raises(SaxsimInputError, match="sasmodels' own models"):
        make_definition_model("barbell", name="barbell", out_dir=tmp_path / "other")
    bad = tmp_path / "bad.py"
    bad.write_text(GOOD.replace("return Ball(radius)", "return 1 / 0").replace(
        "test_blob", "test_bad"))
    with pytest.raises(SaxsimInputError, match="ZeroDivisionError"):
        make_definition_model(bad, out_dir=tmp_path / "never")
    assert not (tmp_path / "never").exists()


def test_tables_are_kept_on_disk_for_the_next_session(tmp_path, monkeypatch):
    """A new evaluator (a new SasView session) reads the tables another one wrote, gives the
    same I(q), and ignores a damaged file; SAXSIM_TABLE_CACHE=off writes nothing."""
    from sasview_saxsim_plugin.models.engine import NumericalShapeModel, table_cache_dir
    monkeypatch.setenv("SAXSIM_TABLE_CACHE", str(tmp_path / "tables"))
    spec = spec_from_source(GOOD, "blob.py")
    q = np.geomspace(0.005, 0.3, 40)
    args = (spec, {"radius": 30.0}, {"sld": 1.0, "sld_solvent": 0.0})
    first = NumericalShapeModel()
    expected = first.iq(q, *args)
    files = sorted(table_cache_dir().glob("test_blob_*.npz"))
    assert first.builds >= 1 and files
    second = NumericalShapeModel()
    assert np.array_equal(second.iq(q, *args), expected)
    assert second.builds == 0 and second.loads >= 1
    for f in files:                    # truncated, as by a full disk: zipfile.BadZipFile
        f.write_bytes(f.read_bytes()[:200])
    third = NumericalShapeModel()
    assert np.allclose(third.iq(q, *args), expected, rtol=1e-12) and third.builds >= 1
    monkeypatch.setenv("SAXSIM_TABLE_CACHE", "off")
    assert table_cache_dir() is None
