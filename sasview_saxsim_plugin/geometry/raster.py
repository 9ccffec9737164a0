"""Anti-aliased rasterisation: voxel value = (fraction of the voxel inside) × contrast.

Voxels whose centre lies farther than half a voxel diagonal (√3/2·d) from the surface are
classified from the centre alone; only the voxels the surface cuts are supersampled with
``supersample``³ sub-voxels, each counted as a linear ramp of the signed distance across its
width (an anti-aliased sub-sample), so partial volumes are smooth in the shape's parameters.
"""

from __future__ import annotations

import numpy as np

from ..errors import SaxsimInputError
from .grid import Density
from .shapes import Body, Shape


def voxel_fractions(shape: Shape, grid_coords: np.ndarray, spacing: float, origin_index,
                    shape_counts, supersample: int = 3) -> np.ndarray:
    """Fraction inside ``shape`` of each voxel of an axis-aligned block.

    The block starts at integer voxel index ``origin_index`` (3 ints, may lie outside the grid)
    and has ``shape_counts`` voxels per axis; ``grid_coords(i)`` maps indices to Å.
    Returns float64 fractions in [0, 1].
    """
    if int(supersample) != supersample or supersample < 1:
        raise SaxsimInputError(f"supersample must be an integer >= 1, got {supersample!r}")
    axes = [grid_coords(origin_index[a] + np.arange(shape_counts[a])) - shape.center[a]
            for a in range(3)]
    x, y, z = np.ix_(*axes)
    f = shape.distance_bound(x, y, z)
    frac = (f <= 0).astype(np.float64)
    cut = np.abs(f) < 0.8660254037844387 * spacing
    if supersample > 1 and cut.any():
        idx = np.nonzero(cut)
        s = supersample
        off = ((np.arange(s) + 0.5) / s - 0.5) * spacing
        ox, oy, oz = np.meshgrid(off, off, off, indexing="ij")
        px = axes[0][idx[0]][:, None] + ox.ravel()[None, :]
        py = axes[1][idx[1]][:, None] + oy.ravel()[None, :]
        pz = axes[2][idx[2]][:, None] + oz.ravel()[None, :]
        # each sub-voxel contributes a linear ramp of the distance over its width h = d/s
        # (exact for a face-parallel plane), so the fraction is not quantised to 1/s³
        h = spacing / s
        sub = np.clip(0.5 - shape.distance_estimate(px, py, pz) / h, 0.0, 1.0)
        frac[idx] = sub.mean(axis=1)
    return frac


def add_shape(density: Density, shape: Shape, contrast: float = 1.0, *, supersample: int = 3,
              periodic: bool = False) -> None:
    """Add ``contrast`` × (voxel fraction inside ``shape``) to ``density`` in place.

    With ``periodic`` the shape wraps around the box faces (the FFT sees a periodic box);
    otherwise a shape that crosses the box boundary is an error.
    """
    grid = density.grid
    d, n = grid.spacing, grid.n
    he = shape.half_extent()
    if periodic and np.any(2 * he + 2 * d >= grid.box_length):
        raise SaxsimInputError(
            f"shape ({2 * he.max():.4g} Å across) is larger than the box ({grid.box_length:.4g} Å)")
    lo_idx = np.floor(grid.index_of(shape.center - he)).astype(int) - 1
    hi_idx = np.ceil(grid.index_of(shape.center + he)).astype(int) + 1
    if not periodic:
        lo_idx = np.maximum(lo_idx, 0)
        hi_idx = np.minimum(hi_idx, n - 1)
        inside_box = np.all(np.abs(shape.center) + he <= grid.box_length / 2 + 1e-9 * d)
        if not inside_box:
            raise SaxsimInputError(
                f"shape at {np.round(shape.center, 3).tolist()} Å with half-extent "
                f"{np.round(he, 3).tolist()} Å does not fit the box of {grid.box_length:.4g} Å "
                f"(make the box larger or move the shape)")
    counts = hi_idx - lo_idx + 1

    def coords(i):
        return (i - (n - 1) / 2.0) * d

    frac = voxel_fractions(shape, coords, d, lo_idx, counts, supersample)
    ix, iy, iz = [(lo_idx[a] + np.arange(counts[a])) % n for a in range(3)]
    block = density.values[np.ix_(ix, iy, iz)]
    block += (contrast * frac).astype(density.dtype)
    density.values[np.ix_(ix, iy, iz)] = block


def add_body(density: Density, body: Body, *, supersample: int = 3, periodic: bool = False) -> None:
    """Rasterise every part of ``body`` (shape, contrast) into ``density``."""
    for shape, contrast in body.parts:
        add_shape(density, shape, contrast, supersample=supersample, periodic=periodic)


def check_resolution(body: Body, spacing: float, min_voxels: float = 3.0) -> None:
    """Raise if the smallest dimension of ``body`` spans fewer than ``min_voxels`` voxels."""
    smallest = body.min_feature()
    if smallest < min_voxels * spacing:
        raise SaxsimInputError(
            f"the grid spacing {spacing:.4g} Å does not resolve a feature of {smallest:.4g} Å "
            f"(needs at least {min_voxels:g} voxels across): use more grid points or a smaller box")
