"""The numerical_density sasmodels plugin model, through sasmodels' own machinery."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from sasmodels.core import load_model
from sasmodels.direct_model import call_kernel

ROOT = Path(__file__).resolve().parents[1]
MODEL_FILE = str(ROOT / "plugin_models" / "numerical_density.py")
Q = np.geomspace(0.005, 0.5, 150)


@pytest.fixture(scope="module")
def kernel():
    k = load_model(MODEL_FILE).make_kernel([Q])
    yield k
    k.release()


def analytic(name, pars):
    k = load_model(name).make_kernel([Q])
    try:
        return call_kernel(k, pars)
    finally:
        k.release()


def rel_errors(a, b):
    r = np.abs(a / b - 1)
    return np.median(r), np.percentile(r, 95)


@pytest.mark.parametrize("code,shape,pars,pd,median,p95", [
    (0, "sphere", {"radius": 60.0}, {"radius_pd": 0.1, "radius_pd_n": 35}, 1e-3, 0.02),
    (1, "cylinder", {"radius": 20.0, "length": 200.0}, {}, 5e-3, 0.03),
    (1, "cylinder", {"radius": 20.0, "length": 120.0}, {"radius_pd": 0.1, "radius_pd_n": 15},
     5e-3, 0.03),
    (2, "ellipsoid", {"radius_polar": 30.0, "radius_equatorial": 60.0}, {}, 5e-3, 0.03),
    (3, "core_shell_sphere", {"radius": 40.0, "thickness": 15.0, "sld_core": 1.0,
                              "sld_shell": 2.0, "sld_solvent": 0.5}, {}, 5e-3, 0.03),
])
# the sphere's pd tail (R = 78 Å at 3σ) reaches q·d just past π, where the model warns once
@pytest.mark.filterwarnings("ignore:numerical_density")
def test_equals_analytical_model_in_absolute_units(kernel, code, shape, pars, pd, median, p95):
    common = {"sld": 1.0, "sld_solvent": 0.0} if code != 3 else {}
    num = call_kernel(kernel, dict(shape=code, **common, **pars, **pd))
    ref = analytic(shape, dict(**common, **pars, **pd))
    med, p = rel_errors(num, ref)
    assert med < median and p < p95


def test_deterministic_and_continuous(kernel):
    base = dict(shape=1, radius=20.0, length=150.0, sld=1.0, sld_solvent=0.0)
    a = call_kernel(kernel, base)
    assert np.array_equal(a, call_kernel(kernel, base))
    # crossing grid points of the aspect-ratio cache must not make steps
    lengths = 150.0 * np.exp(np.linspace(-0.03, 0.03, 13))
    curves = np.array([call_kernel(kernel, dict(base, length=ln)) for ln in lengths])
    jumps = np.abs(np.diff(np.log(curves[:, :40]), axis=0)).max(axis=1)
    assert jumps.max() < 3 * np.median(jumps) + 1e-6


def test_sasmodels_model_test_passes():
    p = subprocess.run([sys.executable, "-m", "sasmodels.model_test", MODEL_FILE],
                       capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "OK" in (p.stdout + p.stderr)


def test_bad_shape_code_is_a_clear_error(kernel):
    with pytest.raises(ValueError, match="shape must be"):
        call_kernel(kernel, dict(shape=7))


def test_install_model_into_a_temporary_sasview_home(tmp_path):
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
    assert "numerical_density" in p.stdout, p.stdout + p.stderr


def test_install_model_to_a_folder(tmp_path):
    from sasview_saxsim_plugin.install import install_model
    path = install_model(tmp_path / "plugins")
    info = load_model(str(path)).info
    assert info.name == "numerical_density"
    assert [p.name for p in info.parameters.kernel_parameters][:2] == ["shape", "sld"]
    assert info.parameters["shape"].choices[:2] == ["sphere", "cylinder"]


@pytest.mark.parametrize("theta,phi", [(90.0, 0.0), (60.0, 30.0)])
def test_oriented_2d_equals_sasmodels_cylinder(theta, phi):
    from sasmodels.data import empty_data2D
    q1 = np.linspace(-0.25, 0.25, 61)
    data = empty_data2D(q1, q1)
    qx, qy = data.qx_data, data.qy_data
    num_k = load_model(MODEL_FILE).make_kernel([qx, qy])
    ref_k = load_model("cylinder").make_kernel([qx, qy])
    pars = dict(radius=20.0, length=150.0, sld=1.0, sld_solvent=0.0, radius_pd=0.1,
                radius_pd_n=15)
    num = call_kernel(num_k, dict(pars, shape=1, axis_theta=theta, axis_phi=phi))
    ref = call_kernel(ref_k, dict(pars, theta=theta, phi=phi))
    ok = np.hypot(qx, qy) > 0.006
    med, p = rel_errors(num[ok], ref[ok])
    assert med < 5e-3 and p < 0.03
    # the orientation matters: a wrong axis would fail this
    other = call_kernel(ref_k, dict(pars, theta=theta, phi=phi + 90))
    assert rel_errors(num[ok], other[ok])[0] > 0.2
