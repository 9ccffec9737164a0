"""Densities delivered slab by slab: the streamed split FFT never holds a whole density.

A source is a cubic grid of n³ voxels of edge ``spacing`` (Å) holding SLD contrast
(1e-6/Å²). ``slab(x0, x1)`` returns the float32 values of x-planes x0 … x1-1, shape
(x1-x0, n, n); ``fingerprint()`` identifies the content (for resuming a run). Three kinds:

* :class:`ArraySource` — any array that slices lazily (np.memmap of a .npy, an h5py dataset,
  an mrcfile memory map), zero-padded into the cube;
* :class:`EnsembleSource` — particles of ``geometry`` rasterised only where a slab needs them;
* :class:`CrystalliteSource` — a unit-cell density tiled into a particle (a spherical
  crystallite, thesis Fig. 5.1) computed per slab, never materialised.
"""

from __future__ import annotations

import hashlib
import json

import numpy as np

from ..errors import SaxsimInputError, require_positive
from ..geometry.grid import VoxelGrid


class DensitySource:
    """Interface: ``n``, ``spacing`` (Å), ``slab(x0, x1)``, ``fingerprint()``, ``describe()``."""

    n: int
    spacing: float

    @property
    def grid(self) -> VoxelGrid:
        return VoxelGrid(self.n, self.spacing)

    def slab(self, x0: int, x1: int) -> np.ndarray:
        raise NotImplementedError

    def fingerprint(self) -> str:
        raise NotImplementedError

    def describe(self) -> str:
        return f"{type(self).__name__}: {self.n}³ voxels of {self.spacing:g} Å"


def digest(*parts) -> str:
    """Hex SHA-256 of JSON-able parts and bytes (fingerprints and job keys)."""
    h = hashlib.sha256()
    for p in parts:
        h.update(p if isinstance(p, bytes) else json.dumps(p, sort_keys=True,
                                                            default=str).encode())
    return h.hexdigest()[:24]


class ArraySource(DensitySource):
    """A 3D array (any shape up to n per axis) placed at the cube's corner, zeros elsewhere.

    ``array`` only needs numpy-style slicing, so memory maps and HDF5 datasets are read one
    slab at a time. ``label`` names it in messages; ``identity`` (e.g. path, size and mtime)
    makes the fingerprint cheap for large files.
    """

    def __init__(self, array, spacing: float, n: int | None = None, label: str = "array",
                 identity=None):
        shape = tuple(int(s) for s in array.shape)
        if len(shape) != 3 or min(shape) < 1:
            raise SaxsimInputError(f"{label}: a density must be a 3D array, got shape {shape}")
        self.array, self.shape, self.label = array, shape, label
        self.spacing = check_voxel_size(spacing, label)
        self.n = int(n) if n is not None else max(shape)
        if self.n < max(shape):
            raise SaxsimInputError(f"{label}: n = {self.n} is smaller than the array {shape}")
        self._identity = identity
        #: (function, arguments) that reopen a file source (set by ``readers``)
        self.reopen: tuple | None = None

    def __reduce_ex__(self, protocol):
        # file sources travel to Dask workers as "open this file", never as the data
        if self.reopen is not None:
            return self.reopen
        return super().__reduce_ex__(protocol)

    def slab(self, x0: int, x1: int) -> np.ndarray:
        out = np.zeros((x1 - x0, self.n, self.n), dtype=np.float32)
        hi = min(x1, self.shape[0])
        if hi > x0:
            part = np.asarray(self.array[x0:hi], dtype=np.float32)
            if not np.all(np.isfinite(part)):
                raise SaxsimInputError(f"{self.label}: NaN or infinite values in x-planes "
                                       f"{x0}-{hi - 1}")
            out[: hi - x0, : self.shape[1], : self.shape[2]] = part
        return out

    def fingerprint(self) -> str:
        if self._identity is not None:
            return digest("array", self._identity, self.shape, self.n, self.spacing)
        h = hashlib.sha256()
        for x0 in range(0, self.shape[0], 16):
            h.update(np.ascontiguousarray(self.array[x0:x0 + 16], dtype=np.float32).tobytes())
        return digest("array", h.hexdigest(), self.shape, self.n, self.spacing)

    def describe(self) -> str:
        return (f"{self.label}: {'×'.join(map(str, self.shape))} voxels of {self.spacing:g} Å "
                f"in a {self.n}³ grid")


def check_voxel_size(spacing, label: str = "density") -> float:
    """A voxel edge in Å that a SAXS density can have (0.01-1000 Å), else a clear error."""
    if spacing is None:
        raise SaxsimInputError(f"{label}: the file gives no voxel size; pass --voxel-size (Å)")
    d = require_positive("voxel size", spacing, "Å")
    if not 0.01 <= d <= 1000:
        raise SaxsimInputError(f"{label}: voxel size {d:g} Å is absurd for SAXS (expected "
                               "0.01-1000 Å): check the file's units or pass --voxel-size")
    return d


class RandomSource(DensitySource):
    """Dense uniform random values in [0, 1), reproducible per x-plane: the worst case for
    the FFT (no empty slabs) and free of rasterisation cost, for benchmarks."""

    def __init__(self, n: int, spacing: float = 1.0, seed: int = 0):
        self.n, self.spacing, self.seed = int(n), float(spacing), int(seed)

    def slab(self, x0: int, x1: int) -> np.ndarray:
        out = np.empty((x1 - x0, self.n, self.n), dtype=np.float32)
        for k, x in enumerate(range(x0, x1)):
            out[k] = np.random.default_rng((self.seed, x)).random((self.n, self.n),
                                                                 dtype=np.float32)
        return out

    def fingerprint(self) -> str:
        return digest("random", self.n, self.spacing, self.seed)


class EnsembleSource(DensitySource):
    """The particles of a ``geometry.Ensemble`` rasterised per slab (periodic box, the same
    anti-aliased partial volumes as ``Ensemble.rasterise``, without the n³ array)."""

    def __init__(self, ensemble, supersample: int = 3):
        self.ensemble = ensemble
        self.n, self.spacing = ensemble.grid.n, ensemble.grid.spacing
        self.supersample = supersample
        grid = ensemble.grid
        self._lo = np.empty(len(ensemble.shapes), dtype=np.int64)
        self._hi = np.empty(len(ensemble.shapes), dtype=np.int64)
        for i, s in enumerate(ensemble.shapes):
            he = s.half_extent()
            self._lo[i] = int(np.floor(grid.index_of(s.center[0] - he[0]))) - 1
            self._hi[i] = int(np.ceil(grid.index_of(s.center[0] + he[0]))) + 1

    def slab(self, x0: int, x1: int) -> np.ndarray:
        from ..geometry.raster import voxel_fractions

        n, d = self.n, self.spacing
        out = np.zeros((x1 - x0, n, n), dtype=np.float32)
        contrast = self.ensemble.contrast

        def coords(i):
            return (i - (n - 1) / 2.0) * d

        for shift in (-n, 0, n):   # periodic images of particles crossing the x faces
            lo = np.maximum(self._lo, x0 + shift)
            hi = np.minimum(self._hi, x1 - 1 + shift)
            for i in np.flatnonzero(hi >= lo):
                s = self.ensemble.shapes[i]
                he = s.half_extent()
                lo_idx = np.floor(self.ensemble.grid.index_of(s.center - he)).astype(int) - 1
                hi_idx = np.ceil(self.ensemble.grid.index_of(s.center + he)).astype(int) + 1
                lo_idx[0], hi_idx[0] = lo[i], hi[i]
                counts = hi_idx - lo_idx + 1
                frac = voxel_fractions(s, coords, d, lo_idx, counts, self.supersample)
                ix = lo_idx[0] + np.arange(counts[0]) - shift - x0
                iy = (lo_idx[1] + np.arange(counts[1])) % n
                iz = (lo_idx[2] + np.arange(counts[2])) % n
                out[np.ix_(ix, iy, iz)] += (contrast * frac).astype(np.float32)
        return out

    def fingerprint(self) -> str:
        shapes = [(type(s).__name__, np.round(s.center, 9).tolist(),
                   np.round(s.half_extent(), 9).tolist(), repr(s)) for s in self.ensemble.shapes]
        return digest("ensemble", shapes, self.n, self.spacing, self.supersample,
                       self.ensemble.contrast)

    def describe(self) -> str:
        return (f"{len(self.ensemble.shapes)} particles in a {self.n}³ box of "
                f"{self.n * self.spacing:g} Å")


class CrystalliteSource(DensitySource):
    """A unit-cell density (values on an (a, b, c) grid of the cell) repeated through space
    and cut to a particle at the box centre: a sphere of ``radius`` (Å) or any
    ``geometry.shapes.Shape`` centred at the origin (``outline``: cylinder, ellipsoid, …).
    Nearest-voxel sampling of the cell grid at each box voxel (triclinic cells allowed
    through fractional coordinates). Lengths in Å; ``cell`` rows are the lattice vectors.
    """

    def __init__(self, cell_values: np.ndarray, cell: np.ndarray, radius: float | None = None,
                 n: int = 256, spacing: float = 1.0, label: str = "unit cell", outline=None):
        from ..geometry.shapes import Sphere

        self.values = np.asarray(cell_values, dtype=np.float32)
        if self.values.ndim != 3:
            raise SaxsimInputError(f"{label}: the cell density must be 3D")
        if not np.all(np.isfinite(self.values)):
            raise SaxsimInputError(f"{label}: the cell density has NaN or infinite values")
        self.cell = np.asarray(cell, dtype=float)
        if self.cell.shape != (3, 3) or abs(np.linalg.det(self.cell)) < 1e-6:
            raise SaxsimInputError(f"{label}: the cell must be three independent vectors (Å)")
        self.inverse = np.linalg.inv(self.cell)
        self.n, self.spacing = int(n), check_voxel_size(spacing, label)
        if outline is None:
            if radius is None:
                raise SaxsimInputError("a crystallite needs a radius (Å) or an outline shape")
            outline = Sphere(require_positive("crystallite radius", radius, "Å"))
        self.outline = outline
        extent = 2 * float(np.max(outline.half_extent()))
        if extent > (self.n - 2) * self.spacing:
            raise SaxsimInputError(
                f"a crystallite {extent:g} Å across does not fit a box of {self.n} × "
                f"{self.spacing:g} Å = {self.n * self.spacing:g} Å: use more voxels, larger "
                "voxels or a smaller particle")
        self.label = label

    def slab(self, x0: int, x1: int) -> np.ndarray:
        n, d = self.n, self.spacing
        axis = (np.arange(n) - (n - 1) / 2.0) * d
        out = np.zeros((x1 - x0, n, n), dtype=np.float32)
        yy, zz = np.meshgrid(axis, axis, indexing="ij")
        shape = np.array(self.values.shape)
        for k, x in enumerate(axis[x0:x1]):
            inside = self.outline.distance_bound(np.full_like(yy, x), yy, zz) <= 0
            if not inside.any():
                continue
            pts = np.stack([np.full(int(inside.sum()), x), yy[inside], zz[inside]], axis=1)
            frac = pts @ self.inverse          # fractional coordinates in the cell
            idx = np.floor((frac - np.floor(frac)) * shape).astype(np.int64) % shape
            out[k][inside] = self.values[idx[:, 0], idx[:, 1], idx[:, 2]]
        return out

    def fingerprint(self) -> str:
        return digest("crystallite", hashlib.sha256(self.values.tobytes()).hexdigest(),
                       self.values.shape, self.cell.round(9).tolist(), repr(self.outline),
                       np.round(self.outline.half_extent(), 9).tolist(), self.n, self.spacing)

    def describe(self) -> str:
        a, b, c = np.linalg.norm(self.cell, axis=1)
        kind = type(self.outline).__name__.lower()
        across = 2 * float(np.max(self.outline.half_extent()))
        return (f"{self.label} (a, b, c = {a:.4g}, {b:.4g}, {c:.4g} Å) tiled into a {kind} "
                f"{across:.4g} Å across, {self.n}³ voxels of {self.spacing:g} Å")
