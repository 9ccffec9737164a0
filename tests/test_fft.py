"""The split FFT against torch.fft.fftn (independent reference) and its reductions."""

import numpy as np
import pytest
import torch

from sasview_saxsim_plugin import SaxsimInputError
from sasview_saxsim_plugin.fft import (
    DetectorSlice,
    FullIntensity,
    ShellSums,
    SplitFFTPlan,
    fft_indices,
    k2_counts,
    spectrum_view,
    split_fft,
)
from sasview_saxsim_plugin.geometry import Density, Sphere, VoxelGrid, add_shape


def rel_l2(a, b):
    return np.linalg.norm(a - b) / np.linalg.norm(b)


@pytest.mark.parametrize("n", [17, 32, 45])
@pytest.mark.parametrize("dtype,tol", [(np.float32, 1e-5), (np.float64, 1e-12)])
@pytest.mark.parametrize("backend", ["torch", "scipy"])
def test_split_equals_fftn(n, dtype, tol, backend, rng):
    x = rng.standard_normal((n, n, n)).astype(dtype)
    x[: n // 3] = 0      # empty slabs are skipped and must still transform correctly
    d = Density.from_array(x, 2.0)
    res = split_fft(d, keep_spectrum=True, backend=backend, memory_budget=n * n * 200)
    assert res.empty_slabs == n // 3
    ref = torch.fft.fftn(torch.from_numpy(x)).numpy()[:, :, : n // 2 + 1]
    assert rel_l2(spectrum_view(d), ref) < tol


def test_many_block_sizes_give_the_same_result(rng):
    n = 24
    x = rng.random((n, n, n)).astype(np.float64)
    sums = []
    for budget in (n * n * 100, 2**20, 2**30):
        d = Density.from_array(x, 1.0)
        sums.append(split_fft(d, {"s": ShellSums()}, memory_budget=budget).results["s"]["sum_i"])
    assert np.allclose(sums[0], sums[1], rtol=1e-12) and np.allclose(sums[0], sums[2], rtol=1e-12)


def test_shell_sums_are_exact_histograms_of_the_full_spectrum(rng):
    n = 20
    x = rng.random((n, n, n))
    d = Density.from_array(x, 1.0, dtype=np.float64)
    res = split_fft(d, {"s": ShellSums(), "full": FullIntensity(), "slice": DetectorSlice()})
    full = np.abs(np.fft.fftn(x)) ** 2
    k = fft_indices(n)
    k2 = (k[:, None, None] ** 2 + k[None, :, None] ** 2 + k[None, None, :] ** 2).ravel()
    s = res.results["s"]
    assert np.allclose(s["sum_i"], np.bincount(k2, full.ravel(), minlength=s["sum_i"].size),
                       rtol=1e-10)
    assert np.allclose(s["sum_i2"], np.bincount(k2, full.ravel() ** 2,
                                                minlength=s["sum_i"].size), rtol=1e-10)
    assert np.array_equal(s["count"], np.bincount(k2, minlength=s["count"].size))
    # Parseval: Σ|F|² = n³ Σ x²
    assert s["sum_i"].sum() == pytest.approx(n ** 3 * np.sum(x * x), rel=1e-10)
    assert np.allclose(res.results["slice"], full[:, :, 0], rtol=1e-10)
    assert np.allclose(res.results["full"], full[:, :, : n // 2 + 1], rtol=1e-10)


@pytest.mark.parametrize("n", [7, 8, 31])
def test_k2_counts_cover_the_full_spectrum(n):
    assert k2_counts(n).sum() == n ** 3


def test_voxel_corrections(rng):
    n = 16
    x = rng.random((n, n, n))
    full = np.abs(np.fft.fftn(x)) ** 2
    q = np.pi * fft_indices(n) / n     # q·d/2
    box = (np.sinc(q / np.pi)[:, None, None] * np.sinc(q / np.pi)[None, :, None]
           * np.sinc(q / np.pi)[None, None, :]) ** 2
    for name, expect in (("sinc", full * box), ("deconvolve", full / box)):
        d = Density.from_array(x, 1.0, dtype=np.float64)
        out = split_fft(d, {"f": FullIntensity()}, voxel_correction=name).results["f"]
        assert np.allclose(out, expect[:, :, : n // 2 + 1], rtol=1e-10)


def test_nan_density_and_budget_errors():
    x = np.zeros((16, 16, 16), np.float32)
    d = VoxelGrid(16, 1.0).allocate()
    d.values[3, 4, 5] = np.nan
    with pytest.raises(SaxsimInputError, match="NaN"):
        split_fft(d)
    with pytest.raises(SaxsimInputError, match="NaN"):
        Density.from_array(np.full((4, 4, 4), np.inf), 1.0)
    with pytest.raises(SaxsimInputError, match="memory budget"):
        split_fft(Density.from_array(x, 1.0), memory_budget=1000)
    with pytest.raises(SaxsimInputError, match="GiB"):
        SplitFFTPlan.make(4096, np.float32, memory_budget="1MiB")


def test_parse_bytes():
    from sasview_saxsim_plugin.memory import parse_bytes
    assert parse_bytes("2GiB") == 2 * 2**30
    assert parse_bytes("512MB") == 512 * 10**6
    assert parse_bytes(1000) == 1000
    for bad in ("lots", "-1GiB", 0):
        with pytest.raises(SaxsimInputError):
            parse_bytes(bad)


def test_single_precision_sphere_matches_double():
    grid = VoxelGrid(40, 1.0)
    out = []
    for dtype in (np.float32, np.float64):
        d = grid.allocate(dtype)
        add_shape(d, Sphere(9.0), 1.0)
        out.append(split_fft(d, {"s": ShellSums()}).results["s"]["sum_i"])
    assert rel_l2(out[0], out[1]) < 1e-5


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_path_equals_fftn(rng):
    for dtype, tol in ((np.float32, 1e-5), (np.float64, 1e-12)):
        x = rng.random((64, 64, 64)).astype(dtype)
        d = Density.from_array(x, 1.0)
        res = split_fft(d, {"s": ShellSums()}, keep_spectrum=True, device="cuda")
        ref = torch.fft.fftn(torch.from_numpy(x)).numpy()[:, :, :33]
        assert rel_l2(spectrum_view(d), ref) < tol
        full = np.abs(np.fft.fftn(x.astype(np.float64))) ** 2
        assert res.results["s"]["sum_i"].sum() == pytest.approx(full.sum(), rel=1e-5)
