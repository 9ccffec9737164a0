"""Atomic structures from PDB and mmCIF files (gemmi, the 'atoms' extra).

:func:`read_structure` returns the atoms of the first model: element symbols, coordinates
(Å), occupancies and the implicit hydrogens of each heavy atom. Alternate locations count
with their occupancy, waters (HOH, WAT, DOD) are left out unless asked for (the hydration
is the model's own), hydrogens are kept when the file has them. A file without atoms, or
with atoms whose element gemmi cannot tell, is refused with the file name, the residues and
the atom names concerned.

Implicit hydrogens (most crystal structures have none, about 8 % of a protein's electrons):
for each residue without hydrogens in the file, each C, N, O and S atom gets the hydrogens
its valence leaves after its bonds to heavy atoms (bonds found by distance; bond lengths
tell double and aromatic bonds), and the residue's total is then matched to the hydrogen
count gemmi tabulates for that residue (less the two a polymer link removes), like the
united atoms of CRYSOL (Svergun et al. 1995).
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
    #: implicit hydrogens of each atom (0 where the file has its hydrogens); None: none
    hydrogens: np.ndarray | None = None

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
                         f"{self.source} × {len(offsets)} copies",
                         None if self.hydrogens is None
                         else np.tile(self.hydrogens, len(offsets)))


def read_structure(path: str | Path, include_waters: bool = False,
                   implicit_hydrogens: bool = True) -> Structure:
    """The atoms of the first model of a PDB or mmCIF file (also gzipped), with the implicit
    hydrogens of residues that have none in the file (see the module doc) unless
    ``implicit_hydrogens`` is False."""
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
    elements, xyz, occupancy, unknown, residue_of, residues = [], [], [], [], [], []
    for chain in st[0]:
        for residue in chain:
            if residue.name.upper() in WATERS and not include_waters:
                continue
            residues.append((residue.name, any(a.is_hydrogen() for a in residue)))
            for atom in residue:
                symbol = atom.element.name
                if symbol in ("X", ""):
                    unknown.append(f"{residue.name}{residue.seqid.num}:{atom.name}")
                    continue
                elements.append(symbol.capitalize() if len(symbol) > 1 else symbol)
                xyz.append((atom.pos.x, atom.pos.y, atom.pos.z))
                occupancy.append(atom.occ)
                residue_of.append(len(residues) - 1)
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
    elements, xyz = np.asarray(elements), np.asarray(xyz, float)
    hydrogens = None
    if implicit_hydrogens:
        hydrogens = implicit_hydrogen_counts(gemmi, elements, xyz, np.asarray(residue_of),
                                             residues)
    return Structure(elements, xyz, occ, path.name, hydrogens)


#: valence of the elements that carry implicit hydrogens
VALENCE = {"C": 4, "N": 3, "O": 2, "S": 2}
#: covalent radii (Å, Cordero et al. 2008) of the elements bonds are looked for between
COVALENT_RADII = {"C": 0.76, "N": 0.71, "O": 0.66, "S": 1.05, "P": 1.07, "Se": 1.20,
                  "H": 0.31}


def _bond_order(a: str, b: str, d: float) -> float:
    """Bond order from length: C=O below 1.30 Å, C=C below 1.36 Å, aromatic C–C and partial
    double C–N (peptide, amide, guanidinium, rings) below 1.45 / 1.38 Å."""
    pair = {a, b}
    if pair == {"C", "O"} and d < 1.30:
        return 2.0
    if pair == {"C"}:
        return 2.0 if d < 1.36 else 1.5 if d < 1.45 else 1.0
    if pair == {"C", "N"} and d < 1.38:
        return 1.5
    return 1.0


def implicit_hydrogen_counts(gemmi, elements: np.ndarray, xyz: np.ndarray,
                             residue_of: np.ndarray, residues: list) -> np.ndarray:
    """Implicit hydrogens per atom (see the module doc): 0 for residues with hydrogens in
    the file and for atoms other than C, N, O, S."""
    from scipy.spatial import cKDTree
    count = np.zeros(len(elements), int)
    bonded = np.array([e in COVALENT_RADII for e in elements])
    index = np.flatnonzero(bonded)
    if len(index) == 0:
        return count
    radii = np.array([COVALENT_RADII[e] for e in elements[index]])
    pairs = cKDTree(xyz[index]).query_pairs(2 * 1.2 * radii.max(), output_type="ndarray")
    i, j = index[pairs[:, 0]], index[pairs[:, 1]]
    d = np.linalg.norm(xyz[i] - xyz[j], axis=1)
    limit = 1.2 * (radii[pairs[:, 0]] + radii[pairs[:, 1]])
    keep = (d < limit) & (d > 0.4)
    i, j, d = i[keep], j[keep], d[keep]
    bond = np.array([_bond_order(elements[a], elements[b], dist)
                     for a, b, dist in zip(i, j, d, strict=True)])
    ends = np.concatenate([i, j])
    orders = np.bincount(ends, np.tile(bond, 2), minlength=len(elements))
    sigma = np.bincount(ends, minlength=len(elements)).astype(float)
    double = np.bincount(ends, np.tile(bond == 2.0, 2), minlength=len(elements)) > 0
    deficit = np.zeros(len(elements))
    for k, e in enumerate(elements):
        if e == "N":          # an amide or ring N keeps its H: σ-bonds count, not orders
            deficit[k] = 3 - sigma[k] - (1 if double[k] else 0)
        elif e in VALENCE:
            deficit[k] = VALENCE[e] - orders[k]
    count = np.clip(np.floor(deficit + 0.5), 0, 3).astype(int)
    # each residue's atoms, from one sort (a scan of every atom per residue was O(N·R))
    order = np.argsort(residue_of, kind="stable")
    bounds = np.searchsorted(residue_of[order], np.arange(len(residues) + 1))
    for r, (name, explicit) in enumerate(residues):
        atoms = order[bounds[r]:bounds[r + 1]]
        if explicit:
            count[atoms] = 0
            continue
        info = gemmi.find_tabulated_residue(name)
        if info is None or not info.found():
            # a residue gemmi does not know (a ligand, SasView's "???" files): the valence
            # guess, but none on atoms without a bond to another heavy atom (ions, or
            # points of a lattice that are not bonded, like SasView's diamond.pdb)
            count[atoms[sigma[atoms] == 0]] = 0
            continue
        if info.hydrogen_count <= 0:            # tabulated without hydrogens: SO4, ZN, CL
            count[atoms] = 0
            continue
        target = info.hydrogen_count - (2 if info.is_amino_acid() or info.is_nucleic_acid()
                                        else 0)
        carriers = [a for a in atoms if elements[a] in VALENCE]
        for _ in range(abs(target - int(count[atoms].sum()))):
            residual = {a: deficit[a] - count[a] for a in carriers}
            if target > count[atoms].sum():
                pick = max((a for a in carriers if count[a] < 3), default=None,
                           key=lambda a: residual[a])
                if pick is None:
                    break
                count[pick] += 1
            else:
                pick = min((a for a in carriers if count[a] > 0), default=None,
                           key=lambda a: residual[a])
                if pick is None:
                    break
                count[pick] -= 1
    return count


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


def absorb_hydrogens(structure: Structure) -> Structure:
    """The structure with the hydrogens of the file merged into their heavy atoms (the
    nearest, within 1.6 Å) as implicit hydrogens: united atoms throughout, so that
    exchangeable hydrogens (on N, O, S) are told by their heavy atom."""
    from scipy.spatial import cKDTree
    is_h = structure.elements == "H"
    if not np.any(is_h):
        return structure
    heavy = np.flatnonzero(~is_h)
    distance, nearest = cKDTree(structure.xyz[heavy]).query(structure.xyz[is_h])
    if np.any(distance > 1.6):            # the longest X–H bonds: S–H 1.34, Se–H 1.47 Å
        raise SaxsimInputError(f"{structure.source}: {int(np.sum(distance > 1.6))} "
                               "hydrogens are not bonded to a heavy atom (over 1.6 Å away)")
    counts = np.zeros(len(heavy), int) if structure.hydrogens is None else \
        structure.hydrogens[heavy].copy()
    np.add.at(counts, nearest, 1)
    return Structure(structure.elements[heavy], structure.xyz[heavy],
                     structure.occupancy[heavy], structure.source, counts)
