"""Voxelisation against closed-form volumes, ensembles against their definitions."""

import numpy as np
import pytest

from sasview_saxsim_plugin import SaxsimInputError
from sasview_saxsim_plugin.geometry import (
    Cylinder,
    Ellipsoid,
    Sphere,
    VoxelGrid,
    add_body,
    add_shape,
    dilute_cylinders,
    dilute_spheres,
    hard_spheres,
    make_body,
)


def voxel_volume(shape, n=64, spacing=1.0, periodic=False, supersample=4):
    grid = VoxelGrid(n, spacing)
    d = grid.allocate(np.float64)
    add_shape(d, shape, 1.0, supersample=supersample, periodic=periodic)
    return d.values.sum() * spacing ** 3, d


@pytest.mark.parametrize("shape", [
    Sphere(12.3),
    Sphere(7.7, center=np.array([3.3, -2.1, 0.4])),
    Cylinder(6.0, 30.0, theta=37.0, phi=21.0),
    Cylinder(5.0, 20.0),
    Ellipsoid(15.0, 7.0, theta=50.0, phi=110.0),
])
def test_partial_volumes_sum_to_exact_volume(shape):
    vol, d = voxel_volume(shape)
    assert vol == pytest.approx(shape.volume, rel=2e-3)
    assert d.values.min() >= 0 and d.values.max() <= 1 + 1e-12


def test_values_are_fractions_inside(rng):
    # a voxel's value is the fraction of its cube inside the sphere: compare with Monte Carlo
    s = Sphere(5.3, center=np.array([0.2, 0.1, -0.3]))
    _, d = voxel_volume(s, n=16)
    grid = d.grid
    x = grid.coordinates()
    cut = np.argwhere((d.values > 0.2) & (d.values < 0.8))[:20]
    for i, j, k in cut:
        pts = np.array([x[i], x[j], x[k]]) + rng.uniform(-0.5, 0.5, (40000, 3))
        frac = np.mean(np.linalg.norm(pts - s.center, axis=1) <= s.radius)
        assert d.values[i, j, k] == pytest.approx(frac, abs=0.03)


def test_periodic_wrap_keeps_volume():
    s = Sphere(6.0, center=np.array([15.5, -15.2, 15.9]))   # box is [-16, 16]
    vol, _ = voxel_volume(s, n=32, periodic=True)
    assert vol == pytest.approx(s.volume, rel=3e-3)


def test_shape_outside_box_is_an_error():
    with pytest.raises(SaxsimInputError, match="does not fit the box"):
        voxel_volume(Sphere(6.0, center=np.array([14.0, 0, 0])), n=32)


def test_core_shell_superposition():
    body = make_body("core_shell_sphere", radius=10.0, thickness=4.0, sld_core=3.0, sld_shell=1.0,
                     sld_solvent=0.5)
    d = VoxelGrid(48, 1.0).allocate(np.float64)
    add_body(d, body)
    total = d.values.sum()
    ball = 4 / 3 * np.pi
    expect = (3.0 - 0.5) * ball * 10 ** 3 + (1.0 - 0.5) * ball * (14 ** 3 - 10 ** 3)
    assert total == pytest.approx(expect, rel=2e-3)
    assert d.values[24, 24, 24] == pytest.approx(2.5)


@pytest.mark.parametrize("bad", [dict(radius=-1), dict(radius=float("nan")), dict(radius=0)])
def test_bad_sizes_are_clear_errors(bad):
    with pytest.raises(SaxsimInputError, match="radius"):
        make_body("sphere", **bad)


def test_unknown_shape_and_missing_parameter():
    with pytest.raises(SaxsimInputError, match="unknown shape"):
        make_body("cube", radius=3)
    with pytest.raises(SaxsimInputError, match="length"):
        make_body("cylinder", radius=3)


def test_grid_validation():
    with pytest.raises(SaxsimInputError):
        VoxelGrid(1, 1.0)
    with pytest.raises(SaxsimInputError):
        VoxelGrid(16, -2.0)
    with pytest.raises(SaxsimInputError, match="GiB"):
        VoxelGrid(100000, 1.0).allocate()


def test_dilute_spheres_reach_volume_fraction_with_seed():
    grid = VoxelGrid.from_box(400.0, 64)
    a = dilute_spheres(grid, 20.0, 0.05, radius_pd=0.1, seed=3)
    b = dilute_spheres(grid, 20.0, 0.05, radius_pd=0.1, seed=3)
    assert [s.radius for s in a.shapes] == [s.radius for s in b.shapes]
    assert 0.05 <= a.volume_fraction < 0.05 + 4 / 3 * np.pi * 26 ** 3 / grid.volume
    radii = np.array([s.radius for s in a.shapes])
    assert np.all(np.abs(radii - 20) <= 3 * 0.1 * 20 + 1e-12)


def test_dilute_cylinders_orientations():
    grid = VoxelGrid.from_box(1000.0, 64)
    e = dilute_cylinders(grid, 10.0, 100.0, 0.02, theta=10.0, theta_spread=0.0, phi=None, seed=1)
    axes = np.array([s.axis for s in e.shapes])
    assert np.allclose(axes[:, 2], np.cos(np.radians(10.0)))
    iso = dilute_cylinders(grid, 10.0, 100.0, 0.05, isotropic=True, seed=2)
    cz = np.array([s.axis[2] for s in iso.shapes])
    assert abs(cz.mean()) < 0.3   # uniform on the sphere: <cos θ> = 0


def _min_pair_gap(e):
    pos = np.array([s.center for s in e.shapes])
    r = np.array([s.radius for s in e.shapes])
    box = e.grid.box_length
    gaps = []
    for i in range(len(pos)):
        diff = pos[i + 1:] - pos[i]
        diff -= box * np.round(diff / box)
        gaps.append(np.linalg.norm(diff, axis=1) - r[i + 1:] - r[i])
    return np.concatenate(gaps).min()


@pytest.mark.parametrize("phi", [0.1, 0.3, 0.45])
def test_hard_spheres_do_not_overlap(phi):
    grid = VoxelGrid.from_box(300.0, 64)
    e = hard_spheres(grid, 15.0, phi, seed=4, sweeps=10)
    assert _min_pair_gap(e) >= -1e-9
    assert e.volume_fraction == pytest.approx(phi, rel=1e-9)
    st = e.stats
    assert st["insertion_tries"] >= st["particles"]
    assert 0.05 < st["mc_acceptance"] < 0.9


def test_hard_sphere_limits():
    grid = VoxelGrid.from_box(300.0, 64)
    with pytest.raises(SaxsimInputError, match="0.494"):
        hard_spheres(grid, 15.0, 0.52)
    with pytest.raises(SaxsimInputError, match="volume fraction"):
        hard_spheres(grid, 15.0, -0.1)


@pytest.mark.slow
def test_hard_sphere_structure_matches_percus_yevick():
    """S(q) of the sphere centres (direct sum over DFT vectors) against sasmodels' PY
    `hardsphere`: the MC-relaxed fluid matches; an independent reference."""
    from sasview_saxsim_plugin.scattering import sasmodels_iq
    radius, phi = 10.0, 0.3
    grid = VoxelGrid.from_box(200.0, 32)
    pos = []
    for seed in range(3):
        e = hard_spheres(grid, radius, phi, seed=seed, sweeps=60)
        pos.append(np.array([s.center for s in e.shapes]))
    box = grid.box_length
    k = np.arange(-12, 13)
    kx, ky, kz = np.meshgrid(k, k, k, indexing="ij")
    kvec = np.stack([kx.ravel(), ky.ravel(), kz.ravel()], 1)
    kvec = kvec[np.any(kvec != 0, axis=1)]
    kn = np.linalg.norm(kvec, axis=1)
    keep = kn <= 12
    kvec, kn = kvec[keep], kn[keep]
    q = 2 * np.pi * kn / box
    s_q = np.zeros(len(q))
    for p in pos:
        phase = (2 * np.pi / box) * p @ kvec.T
        s_q += (np.cos(phase).sum(0) ** 2 + np.sin(phase).sum(0) ** 2) / len(p)
    s_q /= len(pos)
    shells = np.round(kn).astype(int)
    qs, ss = [], []
    for sh in range(2, 13):
        sel = shells == sh
        qs.append(q[sel].mean())
        ss.append(s_q[sel].mean())
    py = sasmodels_iq("hardsphere", np.array(qs), dict(scale=1, background=0,
                                                       radius_effective=radius, volfraction=phi))
    assert np.max(np.abs(np.array(ss) - py)) < 0.12
    assert np.mean(np.abs(np.array(ss) - py)) < 0.05
