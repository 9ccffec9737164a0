"""Atomic structures from PDB and mmCIF files (gemmi, the 'atoms' extra).

:func:`read_structure` returns the atoms of the first model: element symbols, coordinates
(Å) and occupancies. Alternate locations count with their occupancy, waters (HOH, WAT, DOD)
are left out unless asked for (the hydration is the model's own), hydrogens are kept when
the file has them. A file without atoms, or with atoms whose element gemmi cannot tell, is
refused with the file name, the residues and the atom names concerned.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import SaxsimInputError, require_extra

WATERS = {"HOH", "WAT", "DOD", "H2O", "SOL"}
SUFFIXES = (".pdb", ".ent", ".cif", ".mmcif", ".pdb.gz", ".ent.gz", ".cif.gz", ".mmcif.gz")


@dataclass
class Structure:
    """Atoms of a structure: ``elements`` (N symbols), ``xyz`` ((N, 3) Å), ``occupancy``
    (N), and where they came from."""

    elements: np.ndarray
    xyz: np.ndarray
    occupancy: np.ndarray
    source: str

    def __len__(self) -> int:
        return len(self.elements)

    def kinds(self) -> tuple[tuple[str, ...], np.ndarray]:
        """(the distinct elements, the index of each atom's element among them)."""
        names, index = np.unique(self.elements, return_inverse=True)
        return tuple(str(n) for n in names), index

    def translated_copies(self, offsets) -> Structure:
        """A larger structure: copies of this one shifted by each of ``offsets`` (Å)."""
        offsets = np.asarray(offsets, float).reshape(-1, 3)
        return Structure(np.tile(self.elements, len(offsets)),
                         np.concatenate([self.xyz + o for o in offsets]),
                         np.tile(self.occupancy, len(offsets)),
                         f"{self.source} × {len(offsets)} copies")


def read_structure(path: str | Path, include_waters: bool = False) -> Structure:
    """The atoms of the first model of a PDB or mmCIF file (also gzipped)."""
    gemmi = require_extra("gemmi", "atoms", "reading PDB/mmCIF files")
    path = Path(path)
    if not path.is_file():
        raise SaxsimInputError(f"structure file {str(path)!r} does not exist")
    if not str(path).lower().endswith(SUFFIXES):
        raise SaxsimInputError(f"{path.name}: not a structure file (expected one of "
                               f"{', '.join(SUFFIXES)})")
    try:
        st = gemmi.read_structure(str(path))
    except (RuntimeError, ValueError, OSError) as exc:
        raise SaxsimInputError(f"cannot read {path.name} as PDB/mmCIF: {exc}") from None
    if len(st) == 0:
        if _is_small_molecule_cif(gemmi, path):
            raise SaxsimInputError(
                f"{path.name} is a crystal's unit cell (a small-molecule CIF), not a "
                "structure of one particle: tile it into a crystallite with 'saxsim "
                f"make-model --crystal {path.name} --crystallite-radius R --spacing D --name N'")
        raise SaxsimInputError(f"{path.name} holds no model (no ATOM/HETATM records)")
    elements, xyz, occupancy, unknown = [], [], [], []
    for chain in st[0]:
        for residue in chain:
            if residue.name.upper() in WATERS and not include_waters:
                continue
            for atom in residue:
                symbol = atom.element.name
                if symbol in ("X", ""):
                    unknown.append(f"{residue.name}{residue.seqid.num}:{atom.name}")
                    continue
                elements.append(symbol.capitalize() if len(symbol) > 1 else symbol)
                xyz.append((atom.pos.x, atom.pos.y, atom.pos.z))
                occupancy.append(atom.occ)
    if unknown:
        shown = ", ".join(unknown[:8]) + (f" and {len(unknown) - 8} more" if len(unknown) > 8
                                          else "")
        raise SaxsimInputError(f"{path.name}: the element of {len(unknown)} atom(s) is "
                               f"unknown ({shown}); fix the element column (77-78 in PDB)")
    if not elements:
        raise SaxsimInputError(f"{path.name} holds no atoms" + (
            "" if include_waters else " (waters are left out)"))
    occ = np.asarray(occupancy, float)
    if np.all(occ <= 0):
        occ = np.ones_like(occ)                 # an all-zero column means "not given"
    return Structure(np.asarray(elements), np.asarray(xyz, float), occ, path.name)


def _is_small_molecule_cif(gemmi, path: Path) -> bool:
    """Whether a CIF holds a crystal's cell with fractional atom sites (not a model)."""
    if not str(path).lower().endswith((".cif", ".cif.gz")):
        return False
    try:
        block = gemmi.cif.read(str(path)).sole_block()
    except (RuntimeError, ValueError, OSError):
        return False
    return bool(block.find_value("_cell_length_a")) and bool(
        block.find_values("_atom_site_fract_x"))
