"""Atomic structures: the PDB/mmCIF reader (gemmi) and the binned Debye sum against the
direct sum over every atom pair."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sasview_saxsim_plugin.errors import SaxsimInputError

gemmi = pytest.importorskip("gemmi")
pytest.importorskip("numba")

from sasview_saxsim_plugin.density.structures import read_structure  # noqa: E402
from sasview_saxsim_plugin.scattering.atomic import (  # noqa: E402
    debye_direct,
    pair_histogram,
    solvated_structure,
    xray_form_factor,
)


def sasview_pdb(name: str) -> Path:
    import sas
    path = Path(sas.__file__).parent / "example_data" / "coordinate_data" / name
    if not path.exists():
        pytest.skip(f"SasView's example {name} is not installed")
    return path


def test_form_factor_is_the_electron_count_at_q_zero():
    for symbol, electrons in (("C", 6), ("O", 8), ("Fe", 26)):
        assert xray_form_factor(symbol, np.array([0.0]))[0] == pytest.approx(electrons,
                                                                               abs=0.01)
    with pytest.raises(SaxsimInputError, match="'Xx'"):
        xray_form_factor("Xx", np.array([0.1]))


@pytest.mark.parametrize("name", ["dna.pdb", "2w0o.pdb"])
def test_binned_debye_equals_the_direct_pair_sum(name):
    s = read_structure(sasview_pdb(name))
    names, kinds = s.kinds()
    q = np.linspace(0.0, 0.5, 26)
    ff = np.array([xray_form_factor(n, q) for n in names])
    binned = pair_histogram(s.xyz, kinds, names, s.occupancy).intensity(q, ff)
    direct = debye_direct(s.xyz, ff[kinds], q, s.occupancy)
    assert np.max(np.abs(binned / direct - 1)) < 1e-4


def test_reader_keeps_occupancies_and_leaves_out_waters(tmp_path):
    s = read_structure(sasview_pdb("2w0o.pdb"))
    assert len(s) == 1393 and set(s.kinds()[0]) == {"C", "Cd", "N", "O", "S"}
    assert np.any(s.occupancy < 1)


def _pdb_line(serial, name, residue, element, x):
    return (f"ATOM  {serial:5d} {name:<4} {residue:>3} A{1:4d}    {x:8.3f}{0.0:8.3f}{0.0:8.3f}"
            f"{1.0:6.2f}{0.0:6.2f}          {element:>2}\n")


def test_bad_structures_get_one_clear_message(tmp_path):
    empty = tmp_path / "empty.pdb"
    empty.write_text("REMARK nothing here\nEND\n")
    with pytest.raises(SaxsimInputError, match="no"):
        read_structure(empty)
    waters = tmp_path / "waters.pdb"
    waters.write_text(_pdb_line(1, "O", "HOH", "O", 0.0) + "END\n")
    with pytest.raises(SaxsimInputError, match="waters are left out"):
        read_structure(waters)
    unknown = tmp_path / "unknown.pdb"
    unknown.write_text(_pdb_line(1, "CA", "ALA", "C", 0.0) + _pdb_line(2, "QQ", "ALA", "Qq", 1.5)
                       + "END\n")
    with pytest.raises(SaxsimInputError, match="element of 1 atom"):
        read_structure(unknown)
    crystal = tmp_path / "SiC.cif"
    from sasview_saxsim_plugin.density.examples import write_examples
    write_examples(tmp_path)
    with pytest.raises(SaxsimInputError, match="crystal's unit cell.*--crystal"):
        read_structure(crystal)
    with pytest.raises(SaxsimInputError, match="not a structure file"):
        read_structure(tmp_path / "empty.txt" if (tmp_path / "empty.txt").write_text("x")
                       else None)


def test_solvent_terms_change_the_forward_amplitude_as_their_volumes_say():
    """I(0) = (Σ f_i(0) − ρ0·Σ v_i + δρ·V_shell)² with the displaced volumes and the shell
    volume counted independently of the histograms."""
    from sasview_saxsim_plugin.scattering.atomic import (
        HYDRATION_SPACING,
        displaced_volume,
        hydration_sites,
        solvated_structure,
    )
    s = read_structure(sasview_pdb("dna.pdb"))
    model = solvated_structure(s.xyz, s.elements, s.occupancy)
    q0 = np.array([0.0])
    electrons = sum(xray_form_factor(e, q0)[0] for e in s.elements)
    displaced = sum(displaced_volume(e) for e in s.elements)
    shell = len(hydration_sites(s.xyz)) * HYDRATION_SPACING ** 3
    for rho0, delta in ((0.0, 0.0), (0.334, 0.0), (0.334, 0.05)):
        expected = (electrons - rho0 * displaced + delta * shell) ** 2
        assert model.intensity(q0, rho0, 1.0, delta)[0] == pytest.approx(expected, rel=1e-9)
    vacuum = model.intensity(np.linspace(0, 0.5, 11), 0.0, 1.0, 0.0)
    names, kinds = s.kinds()
    q = np.linspace(0, 0.5, 11)
    ff = np.array([xray_form_factor(n, q) for n in names])
    assert np.allclose(vacuum, debye_direct(s.xyz, ff[kinds], q), rtol=1e-4)


def test_atomic_plugin_model_loads_fits_its_parameters_and_guards_its_tables(tmp_path):
    from sasmodels.core import load_model
    from sasmodels.direct_model import call_kernel

    from sasview_saxsim_plugin.models.atomic_model import make_atomic_model
    out = make_atomic_model(sasview_pdb("dna.pdb"), "test_dna", tmp_path)
    model = load_model(str(out))
    names = [p.name for p in model.info.parameters.kernel_parameters]
    assert names == ["solvent_density", "excluded_volume_scale", "hydration_contrast"]
    q = np.array([0.01, 0.1, 0.3])
    kernel = model.make_kernel([q])
    water = call_kernel(kernel, {"solvent_density": 0.334})
    matched = call_kernel(kernel, {"solvent_density": 0.45})
    assert np.all(np.isfinite(water)) and not np.allclose(water, matched)
    with pytest.raises(SaxsimInputError, match="exists"):
        make_atomic_model(sasview_pdb("dna.pdb"), "test_dna", tmp_path)
    tables = tmp_path / "test_dna_atoms.npz"
    tables.write_bytes(tables.read_bytes() + b"x")
    with pytest.raises(ValueError, match="changed since the model was made"):
        call_kernel(kernel, {})
    tables.unlink()
    with pytest.raises(ValueError, match="gone"):
        call_kernel(kernel, {})


def test_a_bad_structure_writes_nothing(tmp_path):
    from sasview_saxsim_plugin.models.atomic_model import make_atomic_model
    bad = tmp_path / "bad.pdb"
    bad.write_text("REMARK no atoms\nEND\n")
    with pytest.raises(SaxsimInputError):
        make_atomic_model(bad, "test_bad", tmp_path / "plugins")
    assert not (tmp_path / "plugins").exists()


DATA = Path(__file__).parent / "data"


def test_implicit_hydrogens_match_an_nmr_structures_own(tmp_path):
    """Trp-cage (PDB 1L2Y, model 1) has all its hydrogens: with them removed, the implicit
    hydrogens sit on the same heavy atoms (97 %) and give the same X-ray curve in vacuum as
    the explicit ones (direct pair sums; the hydrogens' own positions vs the united atoms)."""
    from sasview_saxsim_plugin.scattering.atomic import group_form_factor, group_name
    explicit = read_structure(DATA / "1l2y_model1.pdb")
    assert int(np.sum(explicit.elements == "H")) == 150 and explicit.hydrogens.sum() == 0
    st = gemmi.read_structure(str(DATA / "1l2y_model1.pdb"))
    st.remove_hydrogens()
    st.write_pdb(str(tmp_path / "noh.pdb"))
    implicit = read_structure(tmp_path / "noh.pdb")
    heavy = explicit.elements != "H"
    from scipy.spatial import cKDTree
    _, nearest = cKDTree(explicit.xyz[heavy]).query(explicit.xyz[~heavy])
    attached = np.bincount(nearest, minlength=int(heavy.sum()))
    assert np.mean(attached == implicit.hydrogens) > 0.95
    assert abs(int(implicit.hydrogens.sum()) - 150) <= 2         # the charged termini
    q = np.linspace(0.0, 0.5, 26)
    names, kinds = explicit.kinds()
    reference = debye_direct(explicit.xyz, np.array([xray_form_factor(n, q)
                                                     for n in names])[kinds], q)
    groups = [group_name(e, n) for e, n in zip(implicit.elements, implicit.hydrogens,
                                               strict=True)]
    united = debye_direct(implicit.xyz, np.array([group_form_factor(g, q) for g in groups]), q)
    without = debye_direct(implicit.xyz, np.array([xray_form_factor(e, q)
                                                   for e in implicit.elements]), q)
    error = np.abs(united / reference - 1)
    # hydrogens at their heavy atom's centre: the electron count to 0.2 % (q = 0), within
    # 1 % up to q = 0.2, 1.7 % at 0.3 and 3.3 % at 0.5 1/Å, where 1 Å bonds start to show
    assert error[q <= 0.2].max() < 0.01 and error.max() < 0.04
    assert np.abs(without / reference - 1).max() > 0.1     # the hydrogens matter


def test_read_structure_can_leave_out_implicit_hydrogens():
    s = read_structure(sasview_pdb("2w0o.pdb"), implicit_hydrogens=False)
    assert s.hydrogens is None
    with_h = read_structure(sasview_pdb("2w0o.pdb"))
    # a protein's hydrogens: about one per heavy atom
    assert 0.7 < with_h.hydrogens.sum() / len(with_h) < 1.2


@pytest.mark.parametrize("name, low, high", [("1n04.pdb", 0.40, 0.46), ("dna.pdb", 0.60, 0.68)])
def test_neutron_contrast_match_points_are_those_of_proteins_and_dna(name, low, high):
    """Neutron I(0) vanishes where the solvent's SLD matches the molecule's: about 42 % D2O
    for proteins and 63-65 % for DNA (Jacrot 1976; Perkins 1988), with the labile hydrogens
    exchanged; the model's own D2O fraction of minimal I(0) must fall there."""
    s = read_structure(sasview_pdb(name))
    model = solvated_structure(s.xyz, s.elements, s.occupancy, hydration=False,
                               hydrogens=s.hydrogens, radiation="neutron")
    fractions = np.linspace(0.0, 1.0, 201)
    forward = [model.intensity(np.array([0.0]), x, 1.0, 0.0)[0] for x in fractions]
    assert low <= fractions[int(np.argmin(forward))] <= high


def test_neutron_histograms_equal_the_direct_sum_and_the_plugin_fits_d2o(tmp_path):
    from sasmodels.core import load_model
    from sasmodels.direct_model import call_kernel

    from sasview_saxsim_plugin.models.atomic_model import make_atomic_model
    from sasview_saxsim_plugin.scattering.atomic import (
        group_name,
        neutron_group,
        solvent_neutron_slds,
    )
    s = read_structure(sasview_pdb("dna.pdb"))
    model = solvated_structure(s.xyz, s.elements, s.occupancy, hydration=False,
                               hydrogens=s.hydrogens, radiation="neutron")
    q = np.linspace(0.0, 0.5, 11)
    # at the D2O fraction where the solvent's SLD is zero only the molecule scatters: its
    # scattering lengths with the labile hydrogens exchanged to that fraction
    h2o, d2o = solvent_neutron_slds()
    x = -h2o / (d2o - h2o)
    lengths = np.array([base + x * exchange for base, exchange in
                        (neutron_group(group_name(e, n))
                         for e, n in zip(s.elements, s.hydrogens, strict=True))])
    direct = debye_direct(s.xyz, np.repeat(lengths[:, None], len(q), axis=1), q)
    assert np.allclose(model.intensity(q, x, 1.0, 0.0), direct, rtol=1e-4)
    plugin = make_atomic_model(sasview_pdb("dna.pdb"), "test_dna_neutron", tmp_path,
                               hydration=False, radiation="neutron")
    kernel = load_model(str(plugin)).make_kernel([np.array([0.005, 0.1])])
    names = [p.name for p in load_model(str(plugin)).info.parameters.kernel_parameters]
    assert names == ["d2o_fraction", "excluded_volume_scale", "hydration_contrast"]
    matched = call_kernel(kernel, {"d2o_fraction": 0.64})
    contrast = call_kernel(kernel, {"d2o_fraction": 1.0})
    assert contrast[0] > 20 * matched[0]


def test_ions_unknown_lone_atoms_and_sulfate_get_no_implicit_hydrogens(tmp_path):
    lines = [_pdb_line(1, "S", "SO4", "S", 0.0),
             _pdb_line(2, "O1", "SO4", "O", 1.48), _pdb_line(3, "O2", "SO4", "O", -1.48),
             _pdb_line(4, "ZN", "ZN", "Zn", 10.0), _pdb_line(5, "C1", "XYZ", "C", 20.0),
             _pdb_line(6, "CA", "ALA", "C", 30.0), _pdb_line(7, "CB", "ALA", "C", 31.53)]
    path = tmp_path / "mixed.pdb"
    path.write_text("".join(lines) + "END\n")
    s = read_structure(path)
    assert s.hydrogens[:5].tolist() == [0, 0, 0, 0, 0]
    assert read_structure(sasview_pdb("diamond.pdb")).hydrogens.sum() == 0


def test_neutron_models_keep_explicit_s_h_bonds(tmp_path):
    from sasview_saxsim_plugin.density.structures import absorb_hydrogens
    path = tmp_path / "cys.pdb"
    path.write_text(_pdb_line(1, "SG", "CYS", "S", 0.0) + _pdb_line(2, "HG", "CYS", "H", 1.34)
                    + "END\n")
    merged = absorb_hydrogens(read_structure(path))
    assert merged.elements.tolist() == ["S"] and merged.hydrogens.tolist() == [1]
