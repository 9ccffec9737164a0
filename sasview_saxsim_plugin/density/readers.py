"""Density files -> DensitySource, through maintained readers (numpy, h5py, mrcfile, ase).

Formats (by extension): ``.npy`` (memory-mapped), ``.h5``/``.hdf5``/``.nxs`` (an HDF5
dataset, read per slab), ``.mrc``/``.map``/``.ccp4`` (mrcfile memory map; voxel size from the
header), ``.cube`` (Gaussian cube via ase; voxel from the cube axes), ``CHGCAR``/``CHG``/
``.vasp`` (VASP charge density via ase; the unit cell). A cube or CHGCAR describes a unit
cell: :func:`open_density` reads it as one cell, :func:`read_unit_cell` returns it for tiling
into a crystallite. Values are taken as SLD contrast (1e-6/Å²) or electron density — SAXS
intensity then comes out in relative units (the shape of I(q) is what matters there).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..errors import SaxsimInputError, require_extra
from .sources import ArraySource, check_voxel_size

BOHR = 0.529177210903  # Å


def _identity(path: Path):
    st = path.stat()
    return [str(path.resolve()), st.st_size, st.st_mtime_ns]


def _kind(path: Path) -> str:
    name = path.name.lower()
    suffix = path.suffix.lower()
    if suffix == ".npy":
        return "npy"
    if suffix in (".h5", ".hdf5", ".nxs", ".hdf"):
        return "hdf5"
    if suffix in (".mrc", ".map", ".ccp4", ".mrcs"):
        return "mrc"
    if suffix == ".cube":
        return "cube"
    if suffix == ".cif":
        return "cif"
    if name.startswith(("chgcar", "chg", "aeccar", "locpot")) or suffix == ".vasp":
        return "vasp"
    raise SaxsimInputError(f"{path}: unknown density format; use .npy, .h5, .mrc/.map, .cube "
                           "or a VASP CHGCAR")


def open_density(path: str | os.PathLike, voxel_size: float | None = None,
                 dataset: str | None = None, n: int | None = None) -> ArraySource:
    """A slab-wise source for a density file; ``voxel_size`` (Å) overrides the file's.

    Raises SaxsimInputError for missing, truncated or corrupt files, missing or absurd voxel
    sizes and non-3D data, naming the file and the fix.
    """
    source = _open(Path(path), voxel_size, dataset, n)
    source.reopen = (open_density, (str(Path(path).resolve()), voxel_size, dataset, n))
    return source


def _open(path: Path, voxel_size, dataset, n) -> ArraySource:
    if not path.exists():
        raise SaxsimInputError(f"{path}: no such file")
    kind = _kind(path)
    label = path.name
    if kind == "npy":
        try:
            array = np.load(path, mmap_mode="r")
        except (ValueError, OSError, EOFError) as exc:
            raise SaxsimInputError(f"{path}: not a readable .npy array ({exc}); truncated or "
                                   "corrupt?") from None
        return ArraySource(array, check_voxel_size(voxel_size, label), n, label,
                           _identity(path))
    if kind == "hdf5":
        return _open_hdf5(path, voxel_size, dataset, n)
    if kind == "mrc":
        return _open_mrc(path, voxel_size, n)
    values, cell = read_unit_cell(path)
    spacing = voxel_size
    if spacing is None:
        steps = np.linalg.norm(cell, axis=1) / np.array(values.shape)
        if not np.allclose(cell - np.diag(np.diag(cell)), 0, atol=1e-6) or \
                not np.allclose(steps, steps[0], rtol=1e-3):
            raise SaxsimInputError(
                f"{path}: the cell is not cubic with cubic voxels ({np.round(steps, 4)} Å): "
                "tile it into a crystallite instead (saxsim simulate --crystal), which "
                "resamples it")
        spacing = float(steps[0])
    return ArraySource(values, check_voxel_size(spacing, label), n, label, _identity(path))


def _open_hdf5(path: Path, voxel_size, dataset, n) -> ArraySource:
    import h5py
    try:
        fh = h5py.File(path, "r")
    except OSError as exc:
        raise SaxsimInputError(f"{path}: not a readable HDF5 file ({exc})") from None
    if dataset is None:
        found = []
        fh.visititems(lambda name, obj: found.append(name)
                      if isinstance(obj, h5py.Dataset) and obj.ndim == 3 else None)
        if len(found) != 1:
            raise SaxsimInputError(f"{path}: {len(found)} 3D datasets ({found[:5]}); name one "
                                   "with --dataset")
        dataset = found[0]
    if dataset not in fh:
        raise SaxsimInputError(f"{path}: no dataset {dataset!r}")
    ds = fh[dataset]
    spacing = voxel_size if voxel_size is not None else ds.attrs.get(
        "voxel_size", fh.attrs.get("voxel_size"))
    if spacing is not None:
        spacing = float(np.ravel(spacing)[0])
    return ArraySource(ds, check_voxel_size(spacing, f"{path.name}:{dataset}"), n,
                       f"{path.name}:{dataset}", _identity(path) + [dataset])


def _open_mrc(path: Path, voxel_size, n) -> ArraySource:
    mrcfile = require_extra("mrcfile", "formats", f"reading the MRC map {path.name}")
    try:
        mrc = mrcfile.mmap(path, mode="r", permissive=False)
    except (ValueError, OSError, EOFError) as exc:
        raise SaxsimInputError(f"{path}: not a readable MRC map ({exc}); truncated or "
                               "corrupt?") from None
    if mrc.data is None or mrc.data.ndim != 3:
        raise SaxsimInputError(f"{path}: the MRC file holds no 3D map")
    spacing = voxel_size
    if spacing is None:
        v = mrc.voxel_size
        steps = np.array([float(v.x), float(v.y), float(v.z)])
        if np.all(steps > 0):
            if not np.allclose(steps, steps[0], rtol=1e-3):
                raise SaxsimInputError(f"{path}: voxels are not cubic ({steps} Å)")
            spacing = float(steps[0])
    # MRC data are (z, y, x); any axis order gives the same isotropic I(q)
    return ArraySource(mrc.data, check_voxel_size(spacing, path.name), n, path.name,
                       _identity(path))


def read_unit_cell(path: str | os.PathLike, cell_voxels: int = 64
                   ) -> tuple[np.ndarray, np.ndarray]:
    """(values on the cell grid, cell vectors as rows in Å) from a Gaussian cube, a VASP
    CHGCAR or a CIF (all read with ase; a CIF's atoms become a Gaussian-atom electron density
    on ``cell_voxels`` per axis, see :func:`unit_cell_from_atoms`)."""
    path = Path(path)
    kind = _kind(path)
    require_extra("ase", "formats", f"reading the unit cell {path.name}")
    try:
        if kind == "cif":
            import ase.io
            return unit_cell_from_atoms(ase.io.read(str(path)), cell_voxels)
        if kind == "cube":
            from ase.io.cube import read_cube_data
            values, atoms = read_cube_data(str(path))
        elif kind == "vasp":
            from ase.calculators.vasp import VaspChargeDensity
            chg = VaspChargeDensity(str(path))
            if not chg.chg:
                raise ValueError("no charge density block")
            values, atoms = chg.chg[-1], chg.atoms[-1]
        else:
            raise SaxsimInputError(f"{path}: a unit cell comes from a .cube, CHGCAR or .cif "
                                   "file")
    except SaxsimInputError:
        raise
    except Exception as exc:  # ase raises many kinds for broken files
        raise SaxsimInputError(f"{path}: cannot read it as {kind} ({type(exc).__name__}: "
                               f"{exc}); truncated or corrupt?") from None
    values = np.asarray(values, dtype=np.float32)
    cell = np.asarray(atoms.cell[:], dtype=float)
    if values.ndim != 3 or values.size == 0 or abs(np.linalg.det(cell)) < 1e-6:
        raise SaxsimInputError(f"{path}: no 3D density with a valid cell")
    if not np.all(np.isfinite(values)):
        raise SaxsimInputError(f"{path}: NaN or infinite density values")
    return values, cell


def unit_cell_from_atoms(atoms, voxels_per_axis: int = 64, width: float = 0.6
                         ) -> tuple[np.ndarray, np.ndarray]:
    """Electron density of an ase ``Atoms`` cell on a grid: each atom a Gaussian of
    ``width`` (Å, 1σ) holding Z electrons, periodic. For crystals known from a CIF when no
    computed density is at hand. Returns (values in e/Å³, cell rows in Å)."""
    cell = np.asarray(atoms.cell[:], dtype=float)
    g = voxels_per_axis
    frac = (np.stack(np.meshgrid(*[np.arange(g) / g] * 3, indexing="ij"), -1)
            .reshape(-1, 3))
    rho = np.zeros(frac.shape[0])
    norm = (2 * np.pi * width ** 2) ** -1.5
    for z, pos in zip(atoms.numbers, atoms.get_scaled_positions(), strict=True):
        d = frac - pos
        d -= np.round(d)                      # nearest periodic image
        r2 = np.sum((d @ cell) ** 2, axis=1)
        rho += z * norm * np.exp(-0.5 * r2 / width ** 2)
    return rho.reshape(g, g, g).astype(np.float32), cell
