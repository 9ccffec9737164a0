"""Small example density files, written on demand (``saxsim example-data DIR``), so that
every example in the docs runs on a fresh clone without files from elsewhere.

* ``dumbbell.npy`` and ``dumbbell.mrc``: two overlapping spheres of radius 30 Å and 20 Å,
  centres 40 Å apart (a shape without a closed form), SLD contrast 1e-6/Å², 64³ voxels of
  2 Å (the MRC header carries the voxel size);
* ``SiC.cif``: the unit cell of cubic silicon carbide (zinc blende, a = 4.3596 Å), for
  ``saxsim simulate --crystal``;
* ``polyala_helix.pdb``: an idealised α-helix of 40 alanines (backbone and Cβ atoms placed
  from helical parameters — 1.5 Å rise, 100° per residue — not a refined structure), for
  ``saxsim make-model STRUCTURE``.
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


#: cylindrical coordinates (radius Å, phase degrees, rise Å) of the atoms of one residue of
#: an ideal α-helix, relative to its Cα (Pauling-Corey geometry, rounded)
HELIX_ATOMS = (("N", "N", 1.55, -28.0, -0.96), ("CA", "C", 2.30, 0.0, 0.0),
               ("C", "C", 1.61, 28.0, 0.96), ("O", "O", 1.99, 36.0, 2.14),
               ("CB", "C", 3.31, -6.0, -0.82))


def helix_pdb_text(residues: int = 40) -> str:
    """PDB text of an idealised poly-alanine α-helix along z (see the module doc)."""
    lines, serial = [], 0
    for k in range(residues):
        for name, element, radius, phase, rise in HELIX_ATOMS:
            serial += 1
            angle = np.radians(100.0 * k + phase)
            x, y, z = radius * np.cos(angle), radius * np.sin(angle), 1.5 * k + rise
            lines.append(f"ATOM  {serial:5d}  {name:<3} ALA A{k + 1:4d}    {x:8.3f}{y:8.3f}"
                         f"{z:8.3f}  1.00  0.00           {element}")
    return "\n".join(lines + ["END", ""])


def write_examples(folder: str | Path, overwrite: bool = False) -> list[Path]:
    """Write the example files into ``folder``; returns their paths. Existing files are an
    error unless ``overwrite``. The MRC and CIF files need the ``formats`` extra."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / "dumbbell.npy", folder / "dumbbell.mrc", folder / "SiC.cif",
             folder / "polyala_helix.pdb"]
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
    paths[3].write_text(helix_pdb_text())
    return paths
