"""Beyond memory: the streamed split FFT (RAM / disk, resume after kill -9), density readers,
crystallites, and the Dask engine — checked against the in-memory split FFT."""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from sasview_saxsim_plugin.density import (
    ArraySource,
    CrystalliteSource,
    EnsembleSource,
)
from sasview_saxsim_plugin.density.readers import open_density, read_unit_cell
from sasview_saxsim_plugin.errors import SaxsimInputError
from sasview_saxsim_plugin.fft import ShellSums, split_fft
from sasview_saxsim_plugin.fft import streaming as streaming_module
from sasview_saxsim_plugin.fft.streaming import plan_stream, streamed_fft
from sasview_saxsim_plugin.geometry import VoxelGrid
from sasview_saxsim_plugin.geometry.grid import Density
from sasview_saxsim_plugin.scattering.bragg import bragg_positions
from sasview_saxsim_plugin.simulate.ensemble import build_ensemble, ensemble_curve
from sasview_saxsim_plugin.simulate.stream import stream_curve


def _rel(a, b):
    return float(np.linalg.norm(np.asarray(a) - np.asarray(b)) / np.linalg.norm(b))


def _jobs(root):
    """The job folders a streamed run keeps inside its work folder."""
    return sorted(root.glob("saxsim-stream-*")) if root.exists() else []


@pytest.fixture(scope="module")
def ensemble():
    grid = VoxelGrid.from_box(640.0, 80)
    # overlapping dilute spheres near the box faces exercise the periodic slab raster
    return build_ensemble("spheres", grid, radius=35.0, volume_fraction=0.08, radius_pd=0.1,
                          seed=3)


@pytest.fixture(scope="module")
def in_memory(ensemble):
    dens = ensemble.rasterise(np.float32, 3, clamp=False)
    values = dens.values.copy()
    sums = split_fft(dens, {"s": ShellSums()}, voxel_correction="deconvolve").results["s"]
    return values, sums["sum_i"]


def test_slab_raster_equals_whole_raster(ensemble, in_memory):
    src = EnsembleSource(ensemble)
    slabs = np.concatenate([src.slab(x0, min(80, x0 + 7)) for x0 in range(0, 80, 7)])
    np.testing.assert_array_equal(slabs, in_memory[0])


@pytest.mark.parametrize("storage", ["ram", "disk"])
def test_streamed_equals_in_memory_split_fft(ensemble, in_memory, storage, tmp_path):
    (tmp_path / "w").mkdir()
    (tmp_path / "w" / "mine.txt").write_text("the user's file")
    res = streamed_fft(EnsembleSource(ensemble), {"s": ShellSums()}, storage=storage,
                       block_bytes=2**20, memory_budget="1GiB", workdir=tmp_path / "w")
    assert res.plan.storage == storage
    assert _rel(res.results["s"]["sum_i"], in_memory[1]) < 1e-6
    assert not _jobs(tmp_path / "w")              # temporary files removed on success
    assert (tmp_path / "w" / "mine.txt").read_text() == "the user's file"   # and only them
    if storage == "disk":
        assert res.bytes_written == res.bytes_read == 80 * 80 * 41 * 8


def test_budget_chooses_disk_and_refuses_what_cannot_fit(tmp_path, monkeypatch):
    assert plan_stream(512, "8GiB").storage == "ram"
    assert plan_stream(512, "300MiB").storage == "disk"
    with pytest.raises(SaxsimInputError, match="memory budget"):
        plan_stream(512, "1MiB")
    src = ArraySource(np.ones((64, 64, 64), np.float32), 2.0)

    class Tiny:
        free = 1000
    monkeypatch.setattr(streaming_module.shutil, "disk_usage", lambda p: Tiny)
    with pytest.raises(SaxsimInputError, match="only 0.00 GiB are free"):
        streamed_fft(src, {"s": ShellSums()}, storage="disk", workdir=tmp_path / "w")


def test_resume_after_an_interruption_gives_the_identical_result(ensemble, tmp_path):
    kw = dict(storage="disk", block_bytes=2**19, workdir=tmp_path / "w", checkpoint_seconds=0)
    full = streamed_fft(EnsembleSource(ensemble), {"s": ShellSums()}, **kw)
    for stop in (3, 19):                 # in pass 1, then in pass 2
        part = streamed_fft(EnsembleSource(ensemble), {"s": ShellSums()},
                            stop_after_blocks=stop, keep_workdir=True, **kw)
        assert not part.results
        state = json.loads((_jobs(tmp_path / "w")[0] / "state.json").read_text())
        assert state["pass1_done"] + state["pass2_done"] == stop
        again = streamed_fft(EnsembleSource(ensemble), {"s": ShellSums()}, **kw)
        assert sum(again.resumed_from.values()) == stop
        np.testing.assert_array_equal(again.results["s"]["sum_i"], full.results["s"]["sum_i"])
        np.testing.assert_array_equal(again.results["s"]["sum_i2"], full.results["s"]["sum_i2"])
        assert not _jobs(tmp_path / "w")


KILL_SCRIPT = """
import sys, time, numpy as np
from sasview_saxsim_plugin.fft import ShellSums
from sasview_saxsim_plugin.density import ArraySource
from sasview_saxsim_plugin.fft.streaming import streamed_fft

class Slow(ArraySource):
    def slab(self, x0, x1):
        time.sleep(0.15)
        return super().slab(x0, x1)

values = np.load(sys.argv[1])
src = Slow(values, 4.0, identity="kill-test")
streamed_fft(src, {"s": ShellSums()}, storage="disk", block_bytes=2**18,
             workdir=sys.argv[2], checkpoint_seconds=0)
"""


def test_kill_9_and_run_again(in_memory, tmp_path):
    values = in_memory[0]
    np.save(tmp_path / "d.npy", values)
    work = tmp_path / "w"
    proc = subprocess.Popen([sys.executable, "-c", KILL_SCRIPT, str(tmp_path / "d.npy"),
                             str(work)])
    deadline = time.time() + 120

    def state():
        files = [j / "state.json" for j in _jobs(work) if (j / "state.json").exists()]
        return json.loads(files[0].read_text()) if files else {}
    while time.time() < deadline and state().get("pass1_done", 0) < 4:
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    done = state()["pass1_done"]
    assert 4 <= done < 80

    class Slow(ArraySource):            # the same job (same fingerprint) in this process
        pass
    src = Slow(values, 4.0, identity="kill-test")
    res = streamed_fft(src, {"s": ShellSums()}, storage="disk", block_bytes=2**18,
                       workdir=work, checkpoint_seconds=0)
    assert res.resumed_from["pass1_done"] >= done
    # the same job never interrupted (same blocks, so the same floating-point sums)
    ref = streamed_fft(ArraySource(values, 4.0), {"s": ShellSums()}, storage="disk",
                       block_bytes=2**18, workdir=tmp_path / "ref")
    np.testing.assert_array_equal(res.results["s"]["sum_i"], ref.results["s"]["sum_i"])
    np.testing.assert_array_equal(res.results["s"]["sum_i2"], ref.results["s"]["sum_i2"])
    assert not _jobs(work)


def test_ensemble_curve_streams_when_the_budget_is_small(ensemble, tmp_path):
    small, _ = ensemble_curve(ensemble, memory_budget="1MiB", workdir=tmp_path / "w")
    big, _ = ensemble_curve(ensemble)
    assert small.meta["route"] == "streamed split FFT" and small.meta["storage"] == "disk"
    assert big.meta["route"] == "split FFT in memory"
    np.testing.assert_allclose(small.intensity, big.intensity, rtol=1e-5)
    with pytest.raises(SaxsimInputError, match="detector"):
        ensemble_curve(ensemble, memory_budget="1MiB", detector=True)


# ----------------------------------------------------------------------------- readers
def _curve(source):
    return stream_curve(source)[0].intensity


def test_readers_give_the_same_curve_as_the_array(tmp_path):
    import h5py
    import mrcfile
    rng = np.random.default_rng(0)
    values = np.zeros((40, 40, 40), np.float32)
    values[8:30, 10:25, 5:33] = 1.0
    values += 0.05 * rng.random(values.shape, dtype=np.float32)
    ref = _curve(ArraySource(values, 3.0))
    np.save(tmp_path / "d.npy", values)
    with h5py.File(tmp_path / "d.h5", "w") as fh:
        fh.create_dataset("entry/density", data=values).attrs["voxel_size"] = 3.0
    with mrcfile.new(tmp_path / "d.mrc") as mrc:
        mrc.set_data(np.ascontiguousarray(values.transpose(2, 1, 0)))   # MRC is (z, y, x)
        mrc.voxel_size = 3.0
    for name, kw in (("d.npy", {"voxel_size": 3.0}), ("d.h5", {}), ("d.mrc", {})):
        src = open_density(tmp_path / name, **kw)
        assert src.spacing == 3.0
        np.testing.assert_allclose(_curve(src), ref, rtol=1e-5, err_msg=name)


def test_cube_and_chgcar_cells(tmp_path):
    from ase import Atoms
    from ase.calculators.vasp import VaspChargeDensity
    from ase.io.cube import write_cube
    rng = np.random.default_rng(1)
    cell_values = rng.random((24, 24, 24)).astype(np.float64)
    atoms = Atoms("C", positions=[[0, 0, 0]], cell=np.eye(3) * 12.0, pbc=True)
    with open(tmp_path / "c.cube", "w") as fh:
        write_cube(fh, atoms, data=cell_values)
    values, cell = read_unit_cell(tmp_path / "c.cube")
    np.testing.assert_allclose(values, cell_values, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(cell, np.eye(3) * 12.0, atol=1e-4)
    src = open_density(tmp_path / "c.cube")
    assert src.spacing == pytest.approx(0.5, rel=1e-4)
    chg = VaspChargeDensity(None)
    chg.atoms, chg.chg = [atoms], [cell_values]
    chg.write(str(tmp_path / "CHGCAR"), format="chgcar")
    values, cell = read_unit_cell(tmp_path / "CHGCAR")
    np.testing.assert_allclose(values, cell_values, rtol=1e-3, atol=1e-5)


def test_bad_density_files_get_clear_messages(tmp_path):
    values = np.ones((16, 16, 16), np.float32)
    np.save(tmp_path / "ok.npy", values)
    raw = (tmp_path / "ok.npy").read_bytes()
    (tmp_path / "cut.npy").write_bytes(raw[: len(raw) // 2])
    (tmp_path / "bad.h5").write_bytes(b"not hdf5 at all")
    (tmp_path / "bad.mrc").write_bytes(b"\x00" * 300)
    (tmp_path / "bad.cube").write_text("garbage\n1 2 3\n")
    cases = [("cut.npy", {"voxel_size": 1.0}, "truncated or corrupt"),
             ("bad.h5", {}, "not a readable HDF5"),
             ("bad.mrc", {}, "not a readable MRC"),
             ("bad.cube", {}, "cannot read it"),
             ("ok.npy", {}, "no voxel size"),
             ("ok.npy", {"voxel_size": 1e5}, "absurd"),
             ("missing.npy", {"voxel_size": 1.0}, "no such file"),
             ("x.txt", {}, "unknown density format")]
    for name, kw, message in cases:
        if name == "x.txt":
            (tmp_path / name).write_text("1")
        with pytest.raises(SaxsimInputError, match=message):
            open_density(tmp_path / name, **kw)
    nan = values.copy()
    nan[3, 4, 5] = np.nan
    np.save(tmp_path / "nan.npy", nan)
    with pytest.raises(SaxsimInputError, match="NaN"):
        stream_curve(open_density(tmp_path / "nan.npy", voxel_size=1.0))


def test_crystallite_bragg_peaks_at_the_lattice_positions():
    """SiC (zincblende, a from the CIF shipped with ase) tiled into a sphere: the two
    strongest maxima above the SAXS part sit at (111) and (200) = 2π√3/a and 4π/a."""
    import ase
    import ase.io

    from sasview_saxsim_plugin.density.readers import unit_cell_from_atoms
    path = os.path.join(os.path.dirname(ase.__file__), "test", "testdata", "minerals",
                        "cod_1010995.cif")      # shipped with ase (COD 1010995)
    if not os.path.exists(path):
        pytest.skip("this ase build does not ship its test data")
    atoms = ase.io.read(path)
    a = atoms.cell.cellpar()[0]
    values, cell = unit_cell_from_atoms(atoms, 32)
    src = CrystalliteSource(values, cell, radius=28.0, n=144, spacing=0.4)
    curve, _ = stream_curve(src, q_min=1.5)
    q, i = curve.q, curve.intensity
    expected = [2 * np.pi * np.sqrt(3) / a, 4 * np.pi / a]
    peaks = [q_ for q_, _ in bragg_positions(cell, values, q_max=3.0)]
    np.testing.assert_allclose(peaks, expected, rtol=1e-6)      # extinctions from the density
    step = 2 * np.pi / (144 * 0.4)
    for q0 in expected:
        window = np.abs(q - q0) < 0.25
        assert abs(q[window][np.argmax(i[window])] - q0) <= step
    between = (q > expected[0] + 0.12) & (q < expected[1] - 0.12)
    assert i[between].min() < 0.2 * i[np.abs(q - expected[0]) <= step].max()


# ----------------------------------------------------------------------------- Dask
class FailingOnce(EnsembleSource):
    """Kills the worker process the first time it is asked for slab 0 (a worker dying
    mid-run); the marker file makes the retry succeed."""

    def __init__(self, ensemble, marker):
        super().__init__(ensemble)
        self.marker = str(marker)

    def slab(self, x0, x1):
        if x0 == 0 and not os.path.exists(self.marker):
            open(self.marker, "w").close()
            os._exit(1)
        return super().slab(x0, x1)


@pytest.fixture(scope="module")
def client():
    from sasview_saxsim_plugin.fft.distributed import connect
    c = connect("local", n_workers=2)
    yield c
    cluster = c.cluster
    c.close()
    cluster.close()


@pytest.mark.slow
def test_dask_two_workers_equal_the_local_engine(ensemble, in_memory, client, tmp_path):
    from sasview_saxsim_plugin.fft.distributed import dask_fft
    res = dask_fft(EnsembleSource(ensemble), {"s": ShellSums}, client=client,
                   storage_dir=tmp_path, block_bytes=2**20)
    assert res.tasks["workers"] == 2
    assert _rel(res.results["s"]["sum_i"], in_memory[1]) < 1e-6
    assert not list(tmp_path.glob("*.zarr"))
    np.save(tmp_path / "d.npy", in_memory[0])
    src = open_density(tmp_path / "d.npy", voxel_size=ensemble.grid.spacing)
    res = dask_fft(src, {"s": ShellSums}, client=client, storage_dir=tmp_path,
                   block_bytes=2**20)                   # file sources re-open on the workers
    assert _rel(res.results["s"]["sum_i"], in_memory[1]) < 1e-6


@pytest.mark.slow
def test_dask_retries_the_blocks_of_a_dead_worker(ensemble, in_memory, client, tmp_path):
    from sasview_saxsim_plugin.fft.distributed import dask_fft
    src = FailingOnce(ensemble, tmp_path / "killed-once")
    res = dask_fft(src, {"s": ShellSums}, client=client, storage_dir=tmp_path,
                   block_bytes=2**20)
    assert (tmp_path / "killed-once").exists()
    assert _rel(res.results["s"]["sum_i"], in_memory[1]) < 1e-6


@pytest.mark.slow
def test_unreachable_scheduler_is_a_clear_error():
    from sasview_saxsim_plugin.fft.distributed import connect
    t0 = time.time()
    with pytest.raises(SaxsimInputError, match="cannot reach the Dask scheduler"):
        connect("tcp://127.0.0.1:9")
    assert time.time() - t0 < 30
    with pytest.raises(SaxsimInputError, match="tcp://HOST:PORT"):
        connect("somewhere")


def test_cli_density_and_crystal(tmp_path, in_memory):
    np.save(tmp_path / "d.npy", in_memory[0])
    out = tmp_path / "d.dat"
    p = subprocess.run([sys.executable, "-m", "sasview_saxsim_plugin.cli", "simulate",
                        "--density", str(tmp_path / "d.npy"), "--voxel-size", "8",
                        "--memory-budget", "2MiB", "--workdir", str(tmp_path / "w"),
                        "-o", str(out), "--json"], capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    info = json.loads(p.stdout)
    assert info["storage"] == "disk" and info["bytes_written"] > 0
    q, i = np.loadtxt(out, comments="#", usecols=(0, 1), unpack=True)
    ref = stream_curve(ArraySource(in_memory[0], 8.0))[0]
    np.testing.assert_allclose(i, ref.intensity, rtol=1e-5)
    bad = subprocess.run([sys.executable, "-m", "sasview_saxsim_plugin.cli", "simulate",
                          "--density", str(tmp_path / "d.npy"), "-o", str(tmp_path / "x.dat")],
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "voxel size" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_density_from_array_matches(in_memory):
    """ArraySource pads a smaller array into the cube; |F|² does not depend on where."""
    values = in_memory[0][:, :60, :70]
    padded = np.zeros((80, 80, 80), np.float32)
    padded[:, :60, :70] = values
    a = streamed_fft(ArraySource(values, 8.0, n=80), {"s": ShellSums()}, storage="ram")
    b = split_fft(Density.from_array(padded, 8.0), {"s": ShellSums()},
                  voxel_correction="deconvolve")
    assert _rel(a.results["s"]["sum_i"], b.results["s"]["sum_i"]) < 1e-6


def test_make_model_streams_a_density_too_large_for_the_debye_route(tmp_path):
    from sasmodels.core import load_model
    from sasmodels.direct_model import call_kernel

    from sasview_saxsim_plugin.geometry import VoxelGrid, make_body
    from sasview_saxsim_plugin.geometry.raster import add_body
    from sasview_saxsim_plugin.models.density_model import make_density_model
    grid = VoxelGrid(40, 2.0)
    dens = grid.allocate(np.float32)
    add_body(dens, make_body("sphere", radius=30.0, sld=1.0, sld_solvent=0.0), supersample=3)
    np.save(tmp_path / "sphere.npy", dens.values)
    debye = make_density_model(tmp_path / "sphere.npy", 2.0, "sph_debye", tmp_path)
    shells = make_density_model(tmp_path / "sphere.npy", 2.0, "sph_shells", tmp_path,
                                memory_budget="2MiB", workdir=tmp_path / "w")
    assert (tmp_path / "sph_shells_profile.npz").exists()
    assert not (tmp_path / "sph_debye_profile.npz").exists()
    q = np.geomspace(0.01, 0.25, 60)
    pars = {"scale": 1.0, "background": 0.0}
    out = [call_kernel(load_model(str(m)).make_kernel([q]), pars) for m in (debye, shells)]
    analytic = call_kernel(load_model("sphere").make_kernel([q]),
                           dict(pars, radius=30.0, sld=1.0, sld_solvent=0.0))
    rel = np.abs(out[1] - out[0]) / out[0]
    away_from_minima = out[0] > 0.05 * analytic.max() * (q[0] / q) ** 4
    assert np.median(rel[away_from_minima]) < 0.02      # shells vs exact Debye sum
    assert np.median(np.abs(out[1] / analytic - 1)[away_from_minima]) < 0.05


def test_crystallite_outline_of_any_shape():
    from sasview_saxsim_plugin.geometry.shapes import Cylinder
    cell = np.eye(3) * 3.0
    values = np.ones((6, 6, 6), np.float32)
    rod = Cylinder(12.0, 40.0, 90.0, 0.0)            # axis along x (θ = 90°, φ = 0)
    src = CrystalliteSource(values, cell, n=64, spacing=1.0, outline=rod)
    dens = np.concatenate([src.slab(x0, x0 + 16) for x0 in range(0, 64, 16)])
    volume = np.pi * 12.0 ** 2 * 40.0
    assert abs(np.count_nonzero(dens) - volume) / volume < 0.03
    extent = np.flatnonzero(dens.any(axis=(1, 2)))
    assert 39 <= extent.size <= 41                   # 40 Å along x at 1 Å voxels
    with pytest.raises(SaxsimInputError, match="does not fit"):
        CrystalliteSource(values, cell, radius=40.0, n=64, spacing=1.0)


def test_dask_needs_workers():
    from sasview_saxsim_plugin.fft.distributed import connect
    with pytest.raises(SaxsimInputError, match="at least 1"):
        connect("local", n_workers=0)
