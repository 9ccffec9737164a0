"""I(q) against closed forms and sasmodels' analytical models (independent references)."""

import numpy as np
import pytest

from sasview_saxsim_plugin import SaxsimInputError
from sasview_saxsim_plugin.fft import ShellSums, split_fft
from sasview_saxsim_plugin.geometry import Density, Sphere, VoxelGrid, add_shape
from sasview_saxsim_plugin.scattering import (
    box_response_average,
    compare_curves,
    dft_q,
    lattice_debye,
    reference_parameters,
    sasmodels_iq,
    shell_curve,
)
from sasview_saxsim_plugin.scattering.shells import bin_like, native_edges
from sasview_saxsim_plugin.simulate import particle_curve


def test_dft_q_grid():
    q = dft_q(8, 2.0)
    assert np.allclose(q, 2 * np.pi * np.fft.fftfreq(8, 2.0))
    assert q[1] == pytest.approx(2 * np.pi / 16.0)


def test_debye_of_one_and_two_points_closed_form():
    d = 2.5
    x = np.zeros((5, 5, 5))
    x[2, 2, 2] = 1.0
    q = np.linspace(0.01, 1.0, 50)
    assert np.allclose(lattice_debye(x, d).amplitude2(q), d ** 6)
    x[2, 2, 4] = 3.0            # second point two voxels away: |A|² = d⁶(1 + 9 + 6 sinc(q·2d))
    expect = d ** 6 * (10 + 6 * np.sin(q * 2 * d) / (q * 2 * d))
    assert np.allclose(lattice_debye(x, d).amplitude2(q), expect, rtol=1e-10)


def test_debye_equals_direct_orientation_average(rng):
    x = rng.random((4, 3, 5))
    d = 1.7
    q = np.array([0.05, 0.3, 0.9])
    idx = np.argwhere(np.ones_like(x, bool))
    r = idx * d
    w = x.ravel()
    dist = np.linalg.norm(r[:, None] - r[None], axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        direct = [np.sum(w[:, None] * w[None] * np.where(dist > 0, np.sin(qq * dist) /
                                                         (qq * dist), 1.0)) for qq in q]
    assert np.allclose(lattice_debye(x, d).amplitude2(q), np.array(direct) * d ** 6, rtol=1e-10)


def test_box_response_small_q_expansion():
    # <Π sinc²(q n_α d/2)> = 1 - (qd)²/12 + O((qd)⁴)
    x = np.array([1e-3, 0.05, 0.1])
    assert np.allclose(box_response_average(x), 1 - x ** 2 / 12, atol=1e-6)
    with pytest.raises(SaxsimInputError):
        box_response_average(np.array([7.0]))


def test_table_3_1_estimates_on_a_synthetic_spectrum():
    # two k² values in one bin: values 1,3 (k²=1, count 2) and 5 (k²=2, count 1)
    sums = {"k2": np.array([0, 1, 2]), "count": np.array([1.0, 2.0, 1.0]),
            "sum_i": np.array([100.0, 4.0, 5.0]), "sum_i2": np.array([1e4, 10.0, 25.0])}
    L = 2 * np.pi            # so q = √k²
    c = shell_curve(sums, L, 1.0, np.array([0.5, 1.5]), volume=1e4, i_emin=0.0, q_emin=0.0,
                    min_count=1)
    vals = np.array([1.0, 3.0, 5.0])
    qs = np.array([1.0, 1.0, np.sqrt(2)])
    assert c.columns["I_mu"][0] == pytest.approx(vals.mean() * 1e-8)    # d⁶/V·1e-4 = 1e-8
    assert c.columns["I_std"][0] == pytest.approx(vals.std(ddof=1) * 1e-8)
    assert c.columns["I_sem"][0] == pytest.approx(vals.std(ddof=1) / np.sqrt(1.5) * 1e-8)
    assert c.columns["Q_mu"][0] == pytest.approx(qs.mean())
    assert c.columns["Q_std"][0] == pytest.approx(qs.std(ddof=1))
    assert c.sigma[0] == pytest.approx(c.columns["I_sem"][0])


def test_shell_route_absolute_units_for_a_sphere_in_a_box():
    """One sphere in a box through the split FFT; I normalised by the particle volume must
    equal sasmodels' sphere (scale 1) averaged over the same shells."""
    R, n, box = 20.0, 96, 240.0
    grid = VoxelGrid.from_box(box, n)
    d = grid.allocate(np.float64)
    add_shape(d, Sphere(R), 2.0)          # contrast 2 (1e-6/Å²)
    res = split_fft(d, {"s": ShellSums()}, voxel_correction="deconvolve")
    vp = 4 / 3 * np.pi * R ** 3
    c = shell_curve(res.results["s"], box, grid.spacing, native_edges(box, 0.6), volume=vp)
    ref = bin_like(c, lambda q: sasmodels_iq("sphere", q, dict(radius=R, sld=2.0, sld_solvent=0,
                                                                scale=1, background=0)))
    m = compare_curves(c, ref)
    assert m["median_rel_error"] < 0.01
    # absolute units from the closed form: I = Δρ²·V·(3(sin x - x cos x)/x³)²·1e-4 (1/cm)

    def closed(q):
        x = q * R
        return 4.0 * vp * (3 * (np.sin(x) - x * np.cos(x)) / x ** 3) ** 2 * 1e-4
    assert np.median(np.abs(c.intensity / bin_like(c, closed) - 1)) < 0.01


@pytest.mark.parametrize("shape,dims,pd,median,p95", [
    ("sphere", {"radius": 50.0}, {"radius": 0.1}, 1e-3, 0.02),
    ("cylinder", {"radius": 20.0, "length": 120.0, "theta": 30.0}, {}, 5e-3, 0.03),
    ("ellipsoid", {"radius_polar": 30.0, "radius_equatorial": 60.0}, {}, 5e-3, 0.03),
    ("core_shell_sphere", {"radius": 40.0, "thickness": 15.0, "sld_core": 1.0,
                           "sld_shell": 2.0}, {}, 5e-3, 0.03),
])
def test_lattice_debye_matches_sasmodels(shape, dims, pd, median, p95):
    q = np.geomspace(0.005, 0.5, 120)
    sld, solvent = (1.0, 0.0) if shape != "core_shell_sphere" else (0.0, 0.5)
    curve = particle_curve(shape, dims, q, pd=pd, sld=sld, sld_solvent=solvent)
    model, pars = reference_parameters(shape, {k: v for k, v in dims.items()}, pd, sld, solvent)
    m = compare_curves(curve, sasmodels_iq(model, q, pars))
    assert m["median_rel_error"] < median
    assert m["p95_rel_error"] < p95


def test_deconvolution_beats_point_lattice_reading():
    """The measured reason for the default voxel correction (docs: Validation)."""
    q = np.geomspace(0.005, 0.5, 100)
    ref = sasmodels_iq("sphere", q, dict(radius=40.0, sld=1, sld_solvent=0, scale=1,
                                         background=0))
    err = {}
    for corr in ("deconvolve", "none", "sinc"):
        c = particle_curve("sphere", {"radius": 40.0}, q, spacing=2.0, correction=corr)
        err[corr] = compare_curves(c, ref)["p95_rel_error"]
    assert err["deconvolve"] < err["none"] < err["sinc"]


def test_particle_curve_input_errors():
    with pytest.raises(SaxsimInputError, match="q must be"):
        particle_curve("sphere", {"radius": 10.0}, np.array([-0.1, 0.2]))
    with pytest.raises(SaxsimInputError, match="resolve"):
        particle_curve("sphere", {"radius": 10.0}, np.array([0.1]), spacing=8.0)
    with pytest.raises(SaxsimInputError, match="polydispersity"):
        particle_curve("sphere", {"radius": 10.0}, np.array([0.1]), pd={"length": 0.1})
    with pytest.warns(UserWarning, match="1/nm"):
        particle_curve("sphere", {"radius": 10.0}, np.array([0.1, 2.5]), spacing=0.5)


def test_density_from_array_checks():
    with pytest.raises(SaxsimInputError, match="cubic"):
        Density.from_array(np.zeros((4, 5, 4)), 1.0)
