"""Reductions fused into the pencil pass: they see each block of the full-x spectrum once.

The spectrum arrives as blocks G[kx, ky-block, kz] of the half spectrum (kz = 0 … n//2) in FFT
order. Every reduction accumulates what it needs and is finished with ``result()``; nothing of
size n³ is kept unless :class:`FullIntensity` is asked for.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import scipy.fft
import torch


def fft_indices(n: int) -> np.ndarray:
    """Integer frequency indices k in FFT order (0, 1, …, -1), like ``fftfreq(n) * n``."""
    return np.fft.fftfreq(n, 1.0 / n).round().astype(np.int64)


def half_weights(n: int) -> np.ndarray:
    """How many points of the full spectrum each kz plane of the half spectrum stands for:
    1 for kz = 0 (and kz = n/2 for even n), 2 for the others (their Friedel mates)."""
    w = np.full(n // 2 + 1, 2.0)
    w[0] = 1.0
    if n % 2 == 0:
        w[-1] = 1.0
    return w


def sinc(x: np.ndarray) -> np.ndarray:
    """sin(x)/x with sinc(0) = 1 (note: not numpy's normalised sinc)."""
    return np.sinc(np.asarray(x) / np.pi)


class Reduction:
    """Interface of a fused reduction."""

    def start(self, n: int, spacing: float, device: torch.device, real_dtype: torch.dtype):
        self.n, self.spacing, self.device, self.real_dtype = n, spacing, device, real_dtype

    def add_block(self, intensity: torch.Tensor, spectrum: torch.Tensor, ky: slice) -> None:
        """``intensity`` = |G|² (voxel correction applied) of shape (n, len(ky), n//2+1)."""
        raise NotImplementedError

    def result(self):
        raise NotImplementedError

    def state(self) -> dict:
        """The accumulated sums as numpy arrays (checkpoints, partial results of tasks)."""
        raise NotImplementedError(f"{type(self).__name__} cannot be checkpointed")

    def add_state(self, state: dict) -> None:
        """Add partial sums from ``state()`` of the same reduction (resume, merge tasks)."""
        raise NotImplementedError(f"{type(self).__name__} cannot be checkpointed")


class ShellSums(Reduction):
    """Sums of I and I² (full-spectrum weights) for every integer k² = kx² + ky² + kz².

    All points with the same k² have the same |q| = 2π·√k²/L, so any 1D binning (linear or log,
    any q range) is derived exactly from these per-k² sums afterwards (scattering.shells).
    """

    def start(self, n, spacing, device, real_dtype):
        super().start(n, spacing, device, real_dtype)
        k = torch.from_numpy(fft_indices(n)).to(device)
        self.k2x = (k * k).to(torch.int32)
        self.k2z = torch.arange(n // 2 + 1, device=device, dtype=torch.int32) ** 2
        self.w = torch.from_numpy(half_weights(n)).to(device=device, dtype=real_dtype)
        self.nbins = 3 * (n // 2) ** 2 + 1
        self.sum_i = torch.zeros(self.nbins, dtype=torch.float64, device=device)
        self.sum_i2 = torch.zeros(self.nbins, dtype=torch.float64, device=device)

    def add_block(self, intensity, spectrum, ky):
        k2 = (self.k2x.view(-1, 1, 1) + self.k2x[ky].view(1, -1, 1)
              + self.k2z.view(1, 1, -1)).reshape(-1)
        wi = intensity * self.w
        self.sum_i += torch.bincount(k2, wi.reshape(-1), minlength=self.nbins).double()
        wi.mul_(intensity)
        self.sum_i2 += torch.bincount(k2, wi.reshape(-1), minlength=self.nbins).double()

    def state(self) -> dict:
        return {"sum_i": self.sum_i.cpu().numpy(), "sum_i2": self.sum_i2.cpu().numpy()}

    def add_state(self, state: dict) -> None:
        self.sum_i += torch.from_numpy(np.asarray(state["sum_i"])).to(self.sum_i.device)
        self.sum_i2 += torch.from_numpy(np.asarray(state["sum_i2"])).to(self.sum_i2.device)

    def result(self) -> dict:
        counts = k2_counts(self.n)
        return {"k2": np.arange(self.nbins), "count": counts,
                "sum_i": self.sum_i.cpu().numpy(), "sum_i2": self.sum_i2.cpu().numpy()}


@lru_cache(maxsize=8)
def k2_counts(n: int) -> np.ndarray:
    """Number of full-spectrum points with each k² (cached per n; data independent).

    The count of k² = kx²+ky²+kz² is the 3-fold convolution of the per-axis histograms of k²
    (kz over the half axis with Friedel weights), done by FFT and rounded to integers.
    """
    kmax2 = (n // 2) ** 2
    hx = np.bincount(fft_indices(n) ** 2, minlength=kmax2 + 1).astype(float)
    hz = np.bincount(np.arange(n // 2 + 1) ** 2, half_weights(n), minlength=kmax2 + 1)
    size = scipy.fft.next_fast_len(3 * kmax2 + 1, real=True)
    spec = scipy.fft.rfft(hx, size) ** 2 * scipy.fft.rfft(hz, size)
    counts = np.rint(scipy.fft.irfft(spec, size)[: 3 * kmax2 + 1])
    counts = np.maximum(counts, 0)
    counts.setflags(write=False)
    return counts


class DetectorSlice(Reduction):
    """The central slice kz = 0 (beam along z, detector in the x-y plane, as sasmodels):
    I[kx, ky] in FFT order, shape (n, n)."""

    def start(self, n, spacing, device, real_dtype):
        super().start(n, spacing, device, real_dtype)
        self.slice = torch.zeros((n, n), dtype=real_dtype)

    def add_block(self, intensity, spectrum, ky):
        self.slice[:, ky] = intensity[:, :, 0].cpu()

    def state(self) -> dict:
        return {"slice": self.slice.numpy().copy()}

    def add_state(self, state: dict) -> None:   # blocks cover disjoint ky: adding is merging
        self.slice += torch.from_numpy(np.asarray(state["slice"]))

    def result(self) -> np.ndarray:
        return self.slice.numpy()


class FullIntensity(Reduction):
    """The whole half-spectrum intensity |G|² (n, n, n//2+1), for small grids and tests."""

    def start(self, n, spacing, device, real_dtype):
        super().start(n, spacing, device, real_dtype)
        self.full = torch.zeros((n, n, n // 2 + 1), dtype=real_dtype)

    def add_block(self, intensity, spectrum, ky):
        self.full[:, ky, :] = intensity.cpu()

    def result(self) -> np.ndarray:
        return self.full.numpy()
