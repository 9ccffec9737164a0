"""Small example density files, written on demand (``saxsim example-data DIR``), so that
every example in the docs runs on a fresh clone without files from elsewhere.

* ``dumbbell.npy`` and ``dumbbell.mrc``: two overlapping spheres of radius 30 Å and 20 Å,
  centres 40 Å apart (a shape without a closed form), SLD contrast 1e-6/Å², 64³ voxels of
  2 Å (the MRC header carries the voxel size);
* ``SiC.cif``: the unit cell of cubic silicon carbide (zinc blende, a = 4.3596 Å), for
  ``saxsim simulate --crystal``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import SaxsimInputError, require_extra
from ..geometry import Sphere, VoxelGrid, add_shape

DUMBBELL_VOXEL_SIZE = 2.0     # Å
SIC_LATTICE_CONSTANT = 4.3596  # Å


def dumbbell_density(n: int = 64, spacing: float = DUMBBELL_VOXEL_SIZE) -> np.ndarray:
    """The dumbbell as an (n, n, n) float32 array of SLD contrast (1e-6/Å²): the union of
    the two spheres (their overlap counted once)."""
    grid = VoxelGrid(n, spacing)
    big, small = grid.allocate(np.float64), grid.allocate(np.float64)
    add_shape(big, Sphere(30.0, center=np.array([-16.0, 0.0, 0.0])), 1.0)
    add_shape(small, Sphere(20.0, center=np.array([24.0, 0.0, 0.0])), 1.0)
    union = big.values + small.values - big.values * small.values
    return np.ascontiguousarray(union, dtype=np.float32)


def write_examples(folder: str | Path, overwrite: bool = False) -> list[Path]:
    """Write the example files into ``folder``; returns their paths. Existing files are an
    error unless ``overwrite``. The MRC and CIF files need the ``formats`` extra."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / "dumbbell.npy", folder / "dumbbell.mrc", folder / "SiC.cif"]
    existing = [p.name for p in paths if p.exists()]
    if existing and not overwrite:
        raise SaxsimInputError(f"{folder}: {', '.join(existing)} exist(s); pass --overwrite")
    density = dumbbell_density()
    np.save(paths[0], density)
    mrcfile = require_extra("mrcfile", "formats", "the MRC example")
    require_extra("ase", "formats", "the CIF example")
    from ase.build import bulk
    from ase.io import write
    with mrcfile.new(paths[1], overwrite=True) as mrc:
        mrc.set_data(density)
        mrc.voxel_size = DUMBBELL_VOXEL_SIZE
    write(paths[2], bulk("SiC", "zincblende", a=SIC_LATTICE_CONSTANT, cubic=True))
    return paths
