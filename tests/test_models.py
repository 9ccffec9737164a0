"""The sasmodels plugin models numerical_<shape>, through sasmodels' own machinery, against
the analytical sasmodels models (an independent reference)."""

import os
import subprocess
import sys

import numpy as np
import pytest
from sasmodels.core import load_model
from sasmodels.direct_model import call_kernel

from sasview_saxsim_plugin.geometry.registry import builtin_shape_names, get_shape
from sasview_saxsim_plugin.models import (
    PLUGIN_DIR,
    load_numerical_model,
    model_name,
    plugin_path,
    stub_text,
)
from sasview_saxsim_plugin.models.checks import check_model
from sasview_saxsim_plugin.models.shape_models import CHECK_VALUES, analytical_values

Q = np.geomspace(0.005, 0.5, 150)
#: the shapes registered by the package itself (definitions loaded at run time have their own
#: tests in test_definitions.py)
BUILTIN = list(builtin_shape_names())


def evaluate(model, pars, q=Q):
    kernel = model.make_kernel([q])
    try:
        return call_kernel(kernel, pars)
    finally:
        kernel.release()


def rel_errors(a, b):
    r = np.abs(a / b - 1)
    return np.median(r), np.percentile(r, 95)


CASES = [
    ("sphere", {"radius": 60.0}, {"radius_pd": 0.1, "radius_pd_n": 35}),
    ("cylinder", {"radius": 20.0, "length": 200.0}, {}),
    ("cylinder", {"radius": 20.0, "length": 120.0}, {"radius_pd": 0.1, "radius_pd_n": 15}),
    ("ellipsoid", {"radius_polar": 30.0, "radius_equatorial": 60.0}, {}),
    ("core_shell_sphere", {"radius": 40.0, "thickness": 15.0, "sld_core": 1.0,
                           "sld_shell": 2.0, "sld_solvent": 0.5}, {}),
    pytest.param("core_shell_cylinder", {"radius": 20.0, "thickness": 8.0, "length": 100.0,
                                         "sld_core": 1.0, "sld_shell": 3.0, "sld_solvent": 0.0},
                 {}, marks=pytest.mark.slow),
]


# the sphere's pd tail (R = 78 Å at 3σ) reaches q·d just past π, where the model warns once
@pytest.mark.filterwarnings("ignore:numerical_")
@pytest.mark.parametrize("shape,pars,pd", CASES)
def test_equals_the_analytical_model_in_absolute_units(shape, pars, pd):
    num = evaluate(load_numerical_model(shape), {**pars, **pd})
    ref = evaluate(load_model(get_shape(shape).sasmodels_name), {**pars, **pd})
    med, p95 = rel_errors(num, ref)
    assert med < 5e-3 and p95 < 0.03, (med, p95)


@pytest.mark.parametrize("shape", BUILTIN)
def test_defaults_units_and_limits_are_those_of_the_sasmodels_counterpart(shape):
    spec = get_shape(shape)
    ref = {p.name: p for p in load_model(spec.sasmodels_name).info.parameters.kernel_parameters}
    for par in spec.parameters:
        assert par.default == ref[par.name].default, par.name
        assert par.units == ref[par.name].units, par.name
        assert tuple(par.limits) == tuple(ref[par.name].limits), par.name


def test_every_registered_shape_has_a_case_above():
    tested = {c.values[0] if hasattr(c, "values") else c[0] for c in CASES}
    assert tested == set(BUILTIN)


@pytest.mark.parametrize("shape", BUILTIN)
def test_stored_check_values_are_sasmodels_values(shape):
    """The ``tests`` of each plugin hold the analytical model's values, not our own."""
    assert np.allclose(CHECK_VALUES[shape], analytical_values(get_shape(shape)), rtol=1e-5)


@pytest.mark.parametrize("shape", [s for s in BUILTIN if s != "core_shell_cylinder"] + [
    pytest.param("core_shell_cylinder", marks=pytest.mark.slow)])
def test_plugin_tests_pass_at_their_tolerance(shape):
    assert check_model(shape) == []


@pytest.mark.parametrize("shape", BUILTIN)
def test_only_its_own_parameters_and_polydispersity_only_on_lengths(shape):
    spec = get_shape(shape)
    info = load_numerical_model(shape).info
    names = [p.name for p in info.parameters.kernel_parameters]
    axis = ["axis_theta", "axis_phi"] if spec.oriented else []
    assert names == [p.name for p in spec.parameters] + axis
    assert {p.name for p in info.parameters.kernel_parameters if p.polydisperse} == set(
        spec.lengths)
    assert not {"voxels", "supersample", "shape"} & set(names)
    assert info.name == model_name(shape)
    assert spec.description.split()[0] in info.docs       # the help page is the docstring


def test_shipped_plugin_files_are_the_registry():
    shipped = {p.stem for p in PLUGIN_DIR.glob("numerical_*.py")}
    assert shipped == {model_name(s) for s in BUILTIN}, (
        "regenerate: python -c 'from sasview_saxsim_plugin.models import *; "
        "[plugin_path(s).write_text(stub_text(s, \"shipped\")) for s in SHAPES]'")
    for shape in BUILTIN:
        assert plugin_path(shape).read_text() == stub_text(shape, "shipped")


def test_deterministic_and_continuous():
    model = load_numerical_model("cylinder")
    base = dict(radius=20.0, length=150.0, sld=1.0, sld_solvent=0.0)
    a = evaluate(model, base)
    assert np.array_equal(a, evaluate(model, base))
    # crossing grid points of the aspect-ratio cache must not make steps
    lengths = 150.0 * np.exp(np.linspace(-0.03, 0.03, 13))
    curves = np.array([evaluate(model, dict(base, length=ln)) for ln in lengths])
    jumps = np.abs(np.diff(np.log(curves[:, :40]), axis=0)).max(axis=1)
    assert jumps.max() < 3 * np.median(jumps) + 1e-6


@pytest.mark.parametrize("theta,phi", [(90.0, 0.0), (60.0, 30.0)])
def test_oriented_2d_equals_sasmodels_cylinder(theta, phi):
    from sasmodels.data import empty_data2D
    q1 = np.linspace(-0.25, 0.25, 61)
    data = empty_data2D(q1, q1)
    qx, qy = data.qx_data, data.qy_data
    num_k = load_numerical_model("cylinder").make_kernel([qx, qy])
    ref_k = load_model("cylinder").make_kernel([qx, qy])
    pars = dict(radius=20.0, length=150.0, sld=1.0, sld_solvent=0.0, radius_pd=0.1,
                radius_pd_n=15)
    num = call_kernel(num_k, dict(pars, axis_theta=theta, axis_phi=phi))
    ref = call_kernel(ref_k, dict(pars, theta=theta, phi=phi))
    ok = np.hypot(qx, qy) > 0.006
    med, p = rel_errors(num[ok], ref[ok])
    assert med < 5e-3 and p < 0.03
    # the orientation matters: a wrong axis would fail this
    other = call_kernel(ref_k, dict(pars, theta=theta, phi=phi + 90))
    assert rel_errors(num[ok], other[ok])[0] > 0.2


def test_effective_radius_for_a_structure_factor():
    """numerical_sphere@hardsphere equals sphere@hardsphere (radius_effective from the model)."""
    pars = dict(radius=40.0, sld=2.0, sld_solvent=0.0, volfraction=0.2,
                radius_effective_mode=1)
    num = evaluate(load_model(f"{plugin_path('sphere')}@hardsphere"), pars)
    ref = evaluate(load_model("sphere@hardsphere"), pars)
    assert rel_errors(num, ref)[0] < 5e-3


def test_install_into_a_temporary_sasview_home(tmp_path):
    env = dict(os.environ, HOME=str(tmp_path), XDG_DATA_HOME=str(tmp_path / "data"),
               XDG_CONFIG_HOME=str(tmp_path / "config"))
    p = subprocess.run([sys.executable, "-m", "sasview_saxsim_plugin.cli", "install-model"],
                       capture_output=True, text=True, env=env, timeout=300)
    assert p.returncode == 0, p.stderr
    assert str(tmp_path) in p.stdout
    check = ("from sas.sascalc.fit.models import find_plugin_models; "
             "print(sorted(find_plugin_models()))")
    p = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, env=env,
                       timeout=300)
    for shape in BUILTIN:
        assert model_name(shape) in p.stdout, p.stdout + p.stderr


def test_an_old_numerical_density_fit_gets_a_message_naming_the_new_models(tmp_path):
    from sasview_saxsim_plugin.models.install import install_models
    (tmp_path / "numerical_density.py").write_text("# the model of an earlier version\n")
    paths = install_models(tmp_path)
    assert tmp_path / "numerical_density.py" in paths
    old = load_model(str(tmp_path / "numerical_density.py"))
    assert [p.name for p in old.info.parameters.kernel_parameters][:3] == [
        "shape", "sld", "sld_solvent"]        # a saved page's parameters still exist
    with pytest.raises(ValueError, match="numerical_cylinder"):
        evaluate(old, dict(shape=1, radius=20.0, length=100.0))
