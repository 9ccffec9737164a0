"""Plugin models from files (models.file_models, geometry.mesh, density formats): voxel
fractions of meshes against exact enclosed volumes, a mesh box against sasmodels'
parallelepiped, a crystallite's Bragg peak against its lattice constant, SasView's own
.sld/.omf files, every density format against the same array as .npy, and one clear
message for each bad file."""

from __future__ import annotations

import numpy as np
import pytest

from sasview_saxsim_plugin.errors import SaxsimInputError

trimesh = pytest.importorskip("trimesh")


def evaluate(plugin, q, **pars):
    from sasmodels.core import load_model
    from sasmodels.direct_model import call_kernel
    kernel = load_model(str(plugin)).make_kernel([np.asarray(q, float)])
    try:
        return np.asarray(call_kernel(kernel, {"scale": 1.0, "background": 0.0, **pars}))
    finally:
        kernel.release()


def rotated(mesh, seed):
    m = mesh.copy()
    m.apply_transform(trimesh.transformations.random_rotation_matrix(
        np.random.default_rng(seed).random(3)))
    return m


@pytest.mark.parametrize("mesh", [
    rotated(trimesh.creation.box((40.0, 60.0, 100.0)), 1),
    trimesh.creation.icosphere(4, 50.0),
    rotated(trimesh.creation.torus(60.0, 20.0), 2),
    trimesh.creation.cylinder(20.0, 100.0, sections=128),
], ids=["rotated box", "icosphere", "rotated torus", "axis-aligned cylinder"])
def test_mesh_fractions_hold_the_enclosed_volume_and_stay_in_zero_one(mesh):
    from sasview_saxsim_plugin.geometry.mesh import mesh_fractions
    values, _ = mesh_fractions(mesh.vertices, mesh.faces, 2.0)
    # the polyhedron's exact volume (divergence theorem, trimesh) against the voxel sum; the
    # sampling lines are jittered, so the error is a small random one, not a bias
    assert values.sum() * 8.0 == pytest.approx(mesh.volume, rel=5e-4)
    assert values.min() > -1e-9 and values.max() < 1 + 1e-9
    assert np.sum((values > 1e-6) & (values < 1 - 1e-6)) > 0      # partial volumes


def test_mesh_model_of_a_box_matches_sasmodels_parallelepiped(tmp_path):
    from sasview_saxsim_plugin.models.file_models import make_mesh_model
    path = tmp_path / "box.stl"
    rotated(trimesh.creation.box((4.0, 6.0, 10.0)), 3).export(path)      # in nm
    plugin, notes = make_mesh_model(path, 10.0, "test_mesh_box", tmp_path)
    q = np.geomspace(0.003, 0.4, 50)
    numerical = evaluate(plugin, q, sld=2.0, sld_solvent=1.0)
    exact = evaluate("parallelepiped", q, length_a=40.0, length_b=60.0, length_c=100.0,
                     sld=2.0, sld_solvent=1.0)
    error = np.abs(numerical / exact - 1)
    assert np.median(error) < 5e-3 and np.percentile(error, 95) < 3e-2
    # size_scale scales every length: I(q) of the box at half size
    half = evaluate(plugin, q, sld=2.0, sld_solvent=1.0, size_scale=0.5)
    exact_half = evaluate("parallelepiped", q, length_a=20.0, length_b=30.0, length_c=50.0,
                          sld=2.0, sld_solvent=1.0)
    assert np.median(np.abs(half / exact_half - 1)) < 5e-3


def test_an_axis_aligned_rod_mesh_matches_sasmodels_cylinder(tmp_path):
    """The mesh as CAD exports it, axis along z and round cross-section lined up with the
    grid (a fixed grid of sampling lines was 0.75 % off in volume here), on the automatic
    grid (24 voxels across its diameter)."""
    from sasview_saxsim_plugin.models.file_models import make_mesh_model
    path = tmp_path / "rod.stl"
    trimesh.creation.cylinder(20.0, 400.0, sections=256).export(path)
    plugin, _ = make_mesh_model(path, 1.0, "test_rod", tmp_path)
    q = np.geomspace(0.003, 0.3, 40)
    numerical = evaluate(plugin, q)
    exact = evaluate("cylinder", q, radius=20.0, length=400.0, sld=1.0, sld_solvent=0.0)
    error = np.abs(numerical / exact - 1)
    assert error[0] < 2e-3 and np.median(error) < 2e-3 and error.max() < 0.03


def test_overlapping_shells_are_merged_and_a_self_intersection_is_refused(tmp_path):
    from sasview_saxsim_plugin.geometry.mesh import read_mesh, voxelise_mesh
    a = trimesh.creation.box((40.0, 40.0, 40.0))
    b = trimesh.creation.box((40.0, 40.0, 40.0))
    b.apply_translation((20.0, 0.0, 0.0))
    overlapping = tmp_path / "two.ply"
    trimesh.util.concatenate([a, b]).export(overlapping)
    values, d, notes = voxelise_mesh(read_mesh(overlapping, 1.0), 60)
    assert any("overlapping shells" in n for n in notes)
    assert values.sum() * d ** 3 == pytest.approx(60.0 * 40 * 40, rel=1e-3)   # the union
    inverted = trimesh.creation.box((20.0, 20.0, 20.0))
    inverted.apply_translation((25.0, 0.0, 0.0))      # half inside a, half outside
    inverted.invert()
    crossing = tmp_path / "crossing.ply"
    trimesh.util.concatenate([a, inverted]).export(crossing)
    with pytest.raises(SaxsimInputError, match="intersects itself"):
        voxelise_mesh(read_mesh(crossing, 1.0), 60)


def test_bad_meshes_get_one_clear_message(tmp_path):
    from sasview_saxsim_plugin.geometry.mesh import read_mesh
    sphere = trimesh.creation.icosphere(3, 10.0)
    open_one = tmp_path / "open.stl"
    trimesh.Trimesh(sphere.vertices, sphere.faces[sphere.triangles_center[:, 2] < 3.0]
                    ).export(open_one)
    with pytest.raises(SaxsimInputError, match="not a closed surface: .* edges"):
        read_mesh(open_one, 1.0)
    broken = tmp_path / "broken.stl"
    broken.write_bytes(b"solid x\nfacet normal 0 0 1\nouter loop\nvertex 0 0\n")
    with pytest.raises(SaxsimInputError, match="broken.stl"):
        read_mesh(broken, 1.0)
    with pytest.raises(SaxsimInputError, match="unit"):
        read_mesh(open_one, -1.0)
    inside_out = tmp_path / "inside_out.stl"
    flipped = sphere.copy()
    flipped.invert()
    flipped.export(inside_out)
    mesh = read_mesh(inside_out, 1.0)
    assert mesh.volume > 0 and any("inside-out" in n for n in mesh.notes)


def test_crystallite_model_puts_the_bragg_peak_where_the_lattice_says(tmp_path):
    from sasview_saxsim_plugin.density.examples import write_examples
    from sasview_saxsim_plugin.models.file_models import make_crystallite_model
    pytest.importorskip("ase")
    write_examples(tmp_path)
    plugin = make_crystallite_model(tmp_path / "SiC.cif", 20.0, 0.5, "test_sic", tmp_path,
                                    cell_voxels=32)
    q = np.linspace(2.2, 2.8, 121)
    peak = q[np.argmax(evaluate(plugin, q))]
    a = 4.3596                                     # SiC (zincblende) lattice constant, Å
    assert peak == pytest.approx(2 * np.pi * np.sqrt(3) / a, rel=0.01)   # (111)


def sasview_example(name):
    sas = pytest.importorskip("sas")
    from pathlib import Path
    path = Path(sas.__file__).parent / "example_data" / "coordinate_data" / name
    if not path.is_file():
        pytest.skip(f"SasView's example {name} is not installed")
    return path


def test_sasview_sld_file_with_nuclear_slds_matches_its_lattice_sum(tmp_path):
    from sasview_saxsim_plugin.models.file_models import make_points_model
    from sasview_saxsim_plugin.scattering.atomic import debye_direct
    sasview_example("sld_file.sld")
    rng = np.random.default_rng(4)
    idx = np.argwhere(rng.random((5, 6, 7)) < 0.6).astype(float)
    values = rng.uniform(1.0, 3.0, len(idx))
    path = tmp_path / "points.sld"
    with open(path, "w") as fh:
        fh.write("X Y Z SLDN\n")
        np.savetxt(fh, np.column_stack([idx * 5.0, values * 1e-6]))
    plugin, what = make_points_model(path, "test_points", tmp_path)
    assert "nuclear SLDs of" in what
    q = np.array([0.01, 0.1, 0.3])
    # each point fills a 5 Å cube: the point Debye sum with weights v·ρ times the
    # orientation average of one cube's |box filter|² (here by quadrature over directions)
    weights = np.repeat((values * 125.0)[:, None], len(q), axis=1)
    expected = debye_direct(idx * 5.0, weights, q) * 1e-4 * cube_average(q * 5.0)
    assert np.allclose(evaluate(plugin, q) * _volume(plugin), expected, rtol=1e-3)


def cube_average(qd):
    """⟨Π_k sinc²(q_k·d/2)⟩ over directions (Fibonacci sphere, 20 000 directions)."""
    n = 20000
    z = 1 - (2 * np.arange(n) + 1) / n
    phi = np.pi * (3 - np.sqrt(5)) * np.arange(n)
    r = np.sqrt(1 - z * z)
    u = np.stack([r * np.cos(phi), r * np.sin(phi), z])          # (3, n)
    x = np.asarray(qd)[:, None, None] * u[None] / 2
    return np.prod(np.sinc(x / np.pi) ** 2, axis=1).mean(axis=1)


def _volume(plugin):
    from sasmodels.core import load_model_info
    info = load_model_info(str(plugin))
    return info.form_volume(info.parameters.defaults["voxel_size"])


@pytest.mark.parametrize("name, shape", [("sld_file.sld", "552 points"),
                                         ("A_Raw_Example-1.omf", "8192 magnetised points")])
def test_sasviews_magnetic_examples_become_the_shape_of_their_points(tmp_path, name, shape):
    from sasview_saxsim_plugin.models.file_models import make_points_model
    plugin, what = make_points_model(sasview_example(name), "test_sv", tmp_path)
    assert shape in what and "magnetic scattering is not modelled" in what
    assert np.all(evaluate(plugin, [0.01, 0.05]) > 0)


def test_points_off_a_lattice_are_refused(tmp_path):
    from sasview_saxsim_plugin.models.file_models import make_points_model
    sasview_example("sld_file.sld")
    path = tmp_path / "random.sld"
    path.write_text("X Y Z SLDN\n" + "".join(f"{x} {y} {z} 1e-6\n" for x, y, z in
                                             np.random.default_rng(5).random((20, 3)) * 30))
    with pytest.raises(SaxsimInputError, match="not lie on a lattice"):
        make_points_model(path, "test_random", tmp_path)
    assert not (tmp_path / "test_random.py").exists()


def test_every_density_format_gives_the_model_of_the_same_array(tmp_path):
    """HDF5, MRC and cube files holding one array give the I(q) of the .npy model."""
    pytest.importorskip("h5py")
    mrcfile = pytest.importorskip("mrcfile")
    pytest.importorskip("ase")
    import h5py
    from ase import Atoms
    from ase.io.cube import write_cube

    from sasview_saxsim_plugin.models.density_model import make_density_model
    x = np.indices((24, 24, 24)).astype(float) - 11.5
    arr = ((np.sqrt((x ** 2).sum(0)) < 8.0) * (1 + 0.01 * x[0])).astype(np.float32)
    np.save(tmp_path / "d.npy", arr)
    with h5py.File(tmp_path / "d.h5", "w") as fh:
        fh.create_dataset("entry/density", data=arr).attrs["voxel_size"] = 2.0
    with mrcfile.new(tmp_path / "d.mrc") as m:
        m.set_data(arr)
        m.voxel_size = 2.0
    with open(tmp_path / "d.cube", "w") as fh:
        write_cube(fh, Atoms("H", cell=np.eye(3) * 48.0, positions=[[0, 0, 0]]), arr)
    q = np.array([0.01, 0.1, 0.3])
    ref = evaluate(make_density_model(tmp_path / "d.npy", 2.0, "test_npy", tmp_path), q)
    for name in ("d.h5", "d.mrc", "d.cube"):
        plugin = make_density_model(tmp_path / name, None, f"test_{name[2:]}", tmp_path)
        assert np.allclose(evaluate(plugin, q), ref, rtol=1e-5), name


def test_make_model_cli_routes_each_file_kind(tmp_path, capsys):
    from sasview_saxsim_plugin.cli import main
    path = tmp_path / "cube.obj"
    trimesh.creation.box((3.0, 3.0, 3.0)).export(path)
    assert main(["make-model", str(path), "--name", "test_cli_mesh", "--dir",
                 str(tmp_path)]) == 2
    assert "has no units" in capsys.readouterr().err
    assert main(["make-model", str(path), "--name", "test_cli_mesh", "--unit", "nm",
                 "--voxels", "30", "--dir", str(tmp_path)]) == 0
    assert "size_scale" in capsys.readouterr().out
    assert (tmp_path / "test_cli_mesh_density.npy").is_file()


def test_sources_are_told_apart_and_previewed_at_their_real_dimensions(tmp_path):
    from sasview_saxsim_plugin.density.examples import write_examples
    from sasview_saxsim_plugin.models.build import preview, source_kind
    write_examples(tmp_path)
    box = tmp_path / "box.stl"
    trimesh.creation.box((4.0, 6.0, 10.0)).export(box)
    kinds = {"torus": "shape", str(box): "mesh", str(tmp_path / "dumbbell.mrc"): "density",
             str(tmp_path / "polyala_helix.pdb"): "structure", "x.omf": "sasview"}
    assert {s: source_kind(s) for s in kinds} == kinds
    with pytest.raises(SaxsimInputError, match="unknown density format"):
        source_kind("notes.txt")
    # the box in nm, previewed on 40 cells: its extent in Å to one preview voxel
    shown = preview(box, unit=10.0)
    assert sorted(shown.extent) == pytest.approx([40.0, 60.0, 100.0], abs=100 / 38)
    torus = preview("torus")                       # radius_ring 100, radius_tube 25 Å
    assert sorted(torus.extent) == pytest.approx([50.0, 250.0, 250.0], abs=250 / 38)
    atoms = preview(tmp_path / "polyala_helix.pdb")
    assert atoms.atoms.shape[0] == len(atoms.elements) > 0


def test_crystallite_intensity_is_in_absolute_units():
    """A .cif crystallite's values are X-ray SLDs and its volume the sphere's: I(q → 0) is
    Δρ²·V·1e-4 1/cm with Δρ = SiC's mean electron density × r_e (4 SiC per cubic cell)."""
    pytest.importorskip("ase")
    import tempfile

    from sasview_saxsim_plugin.density.examples import write_examples
    from sasview_saxsim_plugin.models.file_models import make_crystallite_model
    with tempfile.TemporaryDirectory() as tmp:
        write_examples(tmp)
        plugin = make_crystallite_model(f"{tmp}/SiC.cif", 30.0, 0.5, "test_sic_abs", tmp,
                                        cell_voxels=32)
        forward = evaluate(plugin, [1e-3])[0]
    sld = 4 * (14 + 6) / 4.3596 ** 3 * 2.8179403262e-5 * 1e6
    assert forward == pytest.approx(sld ** 2 * 4 / 3 * np.pi * 30.0 ** 3 * 1e-4, rel=0.02)


def test_a_thin_plate_is_previewed(tmp_path):
    """A plate thinner than a preview voxel still shows (the GUI used to hang on it)."""
    from sasview_saxsim_plugin.models.build import preview
    path = tmp_path / "plate.stl"
    trimesh.creation.box((400.0, 400.0, 5.0)).export(path)
    shown = preview(path, unit=1.0)
    assert shown.occupied.any()
    assert sorted(shown.extent) == pytest.approx([5.0, 400.0, 400.0], abs=400 / 38)


def test_the_streamed_route_writes_nothing_until_the_model_works(tmp_path):
    """A density too large for the memory budget: its profile is computed by the streamed
    split FFT, checked with the model at q it covers (π/d), and bound by checksum."""
    from sasview_saxsim_plugin.density.examples import write_examples
    from sasview_saxsim_plugin.models.density_model import make_density_model
    write_examples(tmp_path)
    out = tmp_path / "plugins"
    plugin = make_density_model(tmp_path / "dumbbell.npy", 20.0, "test_streamed", out,
                                memory_budget="1MB")
    profile = out / "test_streamed_profile.npz"
    assert profile.is_file()
    assert np.all(evaluate(plugin, [0.005, 0.05]) > 0)
    profile.write_bytes(profile.read_bytes() + b"x")
    from sasmodels.core import load_model
    from sasmodels.direct_model import call_kernel

    from sasview_saxsim_plugin.models import density_model
    density_model._BOUND.clear()              # a new session reads the profile again
    kernel = load_model(str(plugin)).make_kernel([np.array([0.01])])
    with pytest.raises(ValueError, match="profile file .* changed"):
        call_kernel(kernel, {})


def test_make_model_refuses_options_of_another_kind(tmp_path, capsys):
    from sasview_saxsim_plugin.cli import main
    from sasview_saxsim_plugin.density.examples import write_examples
    write_examples(tmp_path)
    assert main(["make-model", str(tmp_path / "dumbbell.mrc"), "--name", "test_opt",
                 "--unit", "nm", "--dir", str(tmp_path / "p")]) == 2
    assert "--unit applies to mesh files" in capsys.readouterr().err
    assert not (tmp_path / "p").exists()


def test_a_file_model_warns_when_q_looks_like_inverse_nanometres(tmp_path):
    """q reaching 5 (data in 1/nm given as 1/Å) gets a warning naming the model, once."""
    import warnings

    from sasview_saxsim_plugin.models.file_models import make_mesh_model
    path = tmp_path / "box.stl"
    trimesh.creation.box((40.0, 60.0, 100.0)).export(path)
    plugin, _ = make_mesh_model(path, 1.0, "test_units_box", tmp_path)
    with pytest.warns(UserWarning, match="box.npy|1/nm"):
        evaluate(plugin, [0.01, 5.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        evaluate(plugin, [0.01, 0.3])
