"""The voxel grid: N points per axis, spacing d (Å), box L = N·d, centred on the origin.

Densities live in a *padded* buffer of shape (N, N, 2·(N//2+1)) so that the split FFT can
replace each x-slab by its 2D real-to-complex transform in place (the FFTW in-place layout):
the density is the view ``buffer[:, :, :N]`` and the spectrum is ``buffer.view(complex)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import SaxsimInputError, require_positive
from ..memory import available_memory_bytes


@dataclass(frozen=True)
class VoxelGrid:
    """A cubic grid of ``n`` points per axis with spacing ``spacing`` (Å).

    Voxel centres are at x_i = (i - (n-1)/2)·d for i = 0 … n-1, so the box [-L/2, L/2]³ is
    centred on the origin (L = n·d).
    """

    n: int
    spacing: float

    def __post_init__(self):
        if isinstance(self.n, bool) or int(self.n) != self.n or self.n < 2:
            raise SaxsimInputError(
                f"grid points per axis n must be an integer >= 2, got {self.n!r}")
        object.__setattr__(self, "n", int(self.n))
        object.__setattr__(self, "spacing", require_positive("voxel spacing", self.spacing, "Å"))

    @classmethod
    def from_box(cls, box_length: float, n: int) -> VoxelGrid:
        """Grid of ``n`` points spanning a box of edge ``box_length`` (Å)."""
        box_length = require_positive("box length", box_length, "Å")
        if isinstance(n, bool) or int(n) != n or n < 2:
            raise SaxsimInputError(f"grid points per axis n must be an integer >= 2, got {n!r}")
        return cls(int(n), box_length / n)

    @property
    def box_length(self) -> float:
        """Edge of the periodic box L = n·d (Å)."""
        return self.n * self.spacing

    @property
    def volume(self) -> float:
        """Box volume L³ (Å³)."""
        return self.box_length ** 3

    @property
    def n_half(self) -> int:
        """Length of the last axis of a real-to-complex spectrum, n//2 + 1."""
        return self.n // 2 + 1

    def coordinates(self) -> np.ndarray:
        """Voxel-centre coordinates along one axis (Å), float64, length n."""
        return (np.arange(self.n) - (self.n - 1) / 2.0) * self.spacing

    def index_of(self, x: np.ndarray | float) -> np.ndarray:
        """Fractional index of coordinate(s) ``x`` (Å) along an axis."""
        return np.asarray(x) / self.spacing + (self.n - 1) / 2.0

    def buffer_bytes(self, dtype=np.float32) -> int:
        """Bytes of the padded density/spectrum buffer for real ``dtype``."""
        return self.n * self.n * 2 * self.n_half * np.dtype(dtype).itemsize

    def allocate(self, dtype=np.float32) -> Density:
        """A zero density in the padded in-place layout (checks free memory first)."""
        dtype = np.dtype(dtype)
        if dtype not in (np.float32, np.float64):
            raise SaxsimInputError(f"density dtype must be float32 or float64, got {dtype}")
        need = self.buffer_bytes(dtype)
        avail = available_memory_bytes()
        if avail is not None and need > 0.9 * avail:
            single = ", use single precision" if dtype == np.float64 else ""
            raise SaxsimInputError(
                f"a {self.n}³ grid in {dtype.name} needs {need / 2**30:.2f} GiB but only "
                f"{avail / 2**30:.2f} GiB of memory is available: lower the number of grid points "
                f"(n){single}, or make the box smaller")
        buf = np.zeros((self.n, self.n, 2 * self.n_half), dtype=dtype)
        return Density(self, buf)


@dataclass
class Density:
    """A density (SLD contrast, 1e-6/Å², per voxel) on a :class:`VoxelGrid`, in padded layout."""

    grid: VoxelGrid
    buffer: np.ndarray

    @property
    def values(self) -> np.ndarray:
        """The (n, n, n) view of the density; writing to it writes the buffer."""
        return self.buffer[:, :, : self.grid.n]

    @property
    def dtype(self) -> np.dtype:
        return self.buffer.dtype

    @classmethod
    def from_array(cls, values: np.ndarray, spacing: float, dtype=None) -> Density:
        """Copy a cubic (n, n, n) array of SLD contrast (1e-6/Å²), voxel size ``spacing`` (Å)."""
        values = np.asarray(values)
        if values.ndim != 3 or len(set(values.shape)) != 1:
            raise SaxsimInputError(f"density must be a cubic 3D array, got shape {values.shape}")
        if not np.all(np.isfinite(values)):
            bad = int(np.size(values) - np.count_nonzero(np.isfinite(values)))
            raise SaxsimInputError(f"density contains {bad} NaN or infinite voxel values")
        dtype = np.dtype(dtype or (np.float64 if values.dtype == np.float64 else np.float32))
        d = VoxelGrid(values.shape[0], spacing).allocate(dtype)
        d.values[...] = values
        return d
