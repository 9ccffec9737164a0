"""saxsim make-model: a plugin model bound to a user density file."""

import numpy as np
import pytest
from sasmodels.core import load_model
from sasmodels.direct_model import call_kernel

from sasview_saxsim_plugin.cli import main
from sasview_saxsim_plugin.geometry import Sphere, VoxelGrid, add_shape


@pytest.fixture
def sphere_npy(tmp_path):
    grid = VoxelGrid(48, 2.0)
    d = grid.allocate(np.float64)
    add_shape(d, Sphere(40.0), 1.0)
    path = tmp_path / "sphere.npy"
    np.save(path, np.array(d.values))
    return path


def test_make_model_matches_sasmodels_sphere(tmp_path, sphere_npy, capsys):
    assert main(["make-model", str(sphere_npy), "--voxel-size", "2.0", "--name", "my_sphere",
                 "--dir", str(tmp_path)]) == 0
    model = load_model(str(tmp_path / "my_sphere.py"))
    q = np.geomspace(0.005, 0.3, 80)
    k = model.make_kernel([q])
    # voxel_size 2.5 rescales the sphere to R = 50 Å
    num = call_kernel(k, dict(voxel_size=2.5, sld_scale=2.0, scale=1.0, background=0.0))
    ref = call_kernel(load_model("sphere").make_kernel([q]),
                      dict(radius=50.0, sld=2.0, sld_solvent=0.0, scale=1.0, background=0.0))
    r = np.abs(num / ref - 1)
    assert np.median(r) < 2e-3 and np.percentile(r, 95) < 0.02


def test_changed_or_missing_density_is_refused(tmp_path, sphere_npy):
    from sasview_saxsim_plugin.models.density_model import make_density_model
    path = make_density_model(sphere_npy, 2.0, "bound", tmp_path)
    model = load_model(str(path))
    k = model.make_kernel([np.array([0.01, 0.1])])
    assert np.all(np.isfinite(call_kernel(k, {})))
    arr = np.load(sphere_npy)
    arr[0, 0, 0] = 5.0
    np.save(sphere_npy, arr)
    with pytest.raises(ValueError, match="changed"):
        call_kernel(k, {})
    sphere_npy.unlink()
    with pytest.raises(ValueError, match="gone"):
        call_kernel(k, {})


@pytest.mark.parametrize("content,message", [
    (np.zeros((4, 4)), "3D"),
    (np.zeros((4, 4, 4)), "zero everywhere"),
    (np.full((4, 4, 4), np.nan), "NaN"),
])
def test_bad_density_files(tmp_path, capsys, content, message):
    p = tmp_path / "bad.npy"
    np.save(p, content)
    assert main(["make-model", str(p), "--voxel-size", "1", "--name", "bad",
                 "--dir", str(tmp_path)]) == 2
    assert message in capsys.readouterr().err


def test_missing_file_and_bad_voxel_size(tmp_path, capsys, sphere_npy):
    assert main(["make-model", str(tmp_path / "nope.npy"), "--voxel-size", "1", "--name", "x",
                 "--dir", str(tmp_path)]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["make-model", str(sphere_npy), "--voxel-size", "-1", "--name", "x",
                 "--dir", str(tmp_path)]) == 2
    assert "voxel size" in capsys.readouterr().err


def test_tabulated_profile_is_the_direct_sum_and_safe_across_threads():
    """SasView evaluates models from worker threads: the table grows under a lock, and its
    spline equals the direct Debye sum over the lags."""
    import threading

    from sasview_saxsim_plugin.models.density_model import TabulatedProfile
    from sasview_saxsim_plugin.scattering.debye import lattice_debye
    x = np.indices((20, 20, 20)).astype(float) - 9.5
    profile = lattice_debye((np.sqrt((x ** 2).sum(0)) < 8).astype(float), 2.0)
    table = TabulatedProfile(profile)
    errors = []

    def call(k):
        try:
            q = np.linspace(0.0, 0.1 * (k + 1), 50)
            table.amplitude2(q, 1.0 + 0.01 * k)
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=call, args=(k,)) for k in range(8) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    q = np.geomspace(0.005, 0.8, 60)
    direct = profile.amplitude2(q, 1.1)
    # the spline's error is a few 1e-6 of the amplitude: relative 1e-5 except in the
    # deepest minima, where it is measured against the forward value
    assert np.allclose(table.amplitude2(q, 1.1), direct, rtol=1e-5, atol=1e-7 * direct[0])
