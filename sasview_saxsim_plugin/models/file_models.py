"""Plugin models from files that are not densities on a grid yet (``saxsim make-model``):
triangle meshes, crystallites tiled from a unit cell, and SasView's own Generic Scattering
Calculator files (.sld point lists, .omf micromagnetic grids).

Each becomes a density here, saved as ``NAME_density.npy`` beside the plugin and bound to it
by checksum (``density_model.make_array_model``). Meshes and shape-only point files become
uniform particles with sld, sld_solvent and size_scale as fit parameters; crystallites and
point files with their own SLDs keep their values, with sld_scale and voxel_size.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np

from ..errors import SaxsimInputError, require_extra, require_positive
from .density_model import make_array_model

#: SasView Generic Scattering Calculator files
SASVIEW_SUFFIXES = (".sld", ".omf")


def make_mesh_model(path: str | os.PathLike, unit: float, name: str,
                    out_dir: str | os.PathLike | None = None, overwrite: bool = False,
                    voxels: int | None = None, sld: float = 1.0, sld_solvent: float = 0.0
                    ) -> tuple[Path, list[str]]:
    """Plugin model of the closed triangle mesh in ``path`` (STL, OBJ, PLY, …; lengths ×
    ``unit`` Å), voxelised with partial volumes, ``voxels`` along its longest extent (None:
    24 across its thinnest, ``geometry.mesh.automatic_voxel_size``).
    Returns (plugin path, notes on the repairs made to the mesh)."""
    from ..geometry.mesh import read_mesh, voxelise_mesh
    mesh = read_mesh(path, unit)
    values, spacing, notes = voxelise_mesh(mesh, voxels)
    measured = float(values.sum()) * spacing ** 3
    origin = (f"the mesh {mesh.source} ({len(mesh.faces)} triangles, {mesh.volume:.6g} Å³ "
              f"enclosed; {measured:.6g} Å³ in the voxel fractions at {values.shape[0]}×"
              f"{values.shape[1]}×{values.shape[2]} voxels of {spacing:.4g} Å"
              + (f"; {'; '.join(notes)}" if notes else "") + ").")
    out = make_array_model(values, spacing, name, origin, out_dir, overwrite,
                           particle={"sld": sld, "sld_solvent": sld_solvent},
                           title=f"Numerical mesh {mesh.source}")
    return out, notes


def make_crystallite_model(cell_file: str | os.PathLike, radius: float, spacing: float,
                           name: str, out_dir: str | os.PathLike | None = None,
                           overwrite: bool = False, cell_voxels: int = 64) -> Path:
    """Plugin model of a spherical crystallite of ``radius`` (Å) cut from the unit cell in
    ``cell_file`` (.cube, CHGCAR, or a .cif whose atoms become Gaussian electron densities),
    sampled on voxels of ``spacing`` (Å). Values: X-ray SLD (1e-6/Å²) for a .cif (its atoms'
    electron density × r_e), the file's own density (relative units) for a cube or CHGCAR;
    normalised by the crystallite's volume 4πR³/3."""
    from ..density.readers import read_unit_cell
    from ..density.sources import CrystalliteSource
    radius = require_positive("crystallite radius", radius, "Å")
    spacing = require_positive("--spacing", spacing, "Å")
    if int(cell_voxels) < 4:
        raise SaxsimInputError(f"--cell-voxels {cell_voxels}: at least 4 grid points per "
                               "cell axis")
    n = int(math.ceil(2 * radius / spacing)) + 4
    if n ** 3 > 512 ** 3:
        raise SaxsimInputError(f"a crystallite of radius {radius:g} Å on {spacing:g} Å voxels "
                               f"needs {n}³ voxels: use larger --spacing (at most 512³)")
    from ..density.readers import _kind
    from .atomic_model import ELECTRON_AMPLITUDE
    values, cell = read_unit_cell(cell_file, cell_voxels)
    label = Path(cell_file).name
    from_atoms = _kind(Path(cell_file)) == "cif"
    if from_atoms:                  # e/Å³ of Gaussian atoms -> X-ray SLD (r_e), 1e-6/Å²
        values = values * ELECTRON_AMPLITUDE
    source = CrystalliteSource(values, cell, radius, n, spacing, label)
    density = np.concatenate([source.slab(x0, min(x0 + 32, n)) for x0 in range(0, n, 32)])
    lengths = ", ".join(f"{x:.4g}" for x in np.linalg.norm(cell, axis=1))
    units = ("X-ray SLD in 1e-6/Å² (the atoms' electron density times r_e), so I(q) is in "
             "1/cm with scale the volume fraction" if from_atoms else
             "the file's density values (relative units: a cube or CHGCAR holds electron "
             "densities in its own units)")
    origin = (f"a spherical crystallite of radius {radius:g} Å cut from the unit cell in "
              f"{label} (cell edges {lengths} Å), {n}³ voxels of {spacing:g} Å; {units}.")
    return make_array_model(density, spacing, name, origin, out_dir, overwrite,
                            title=f"Numerical crystallite of {label}",
                            volume=4.0 / 3.0 * np.pi * radius ** 3)


def read_sasview_points(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(positions (N, 3) Å, nuclear SLD (N) in 1e-6/Å², magnitude of the magnetic SLD (N)
    in 1e-6/Å²) of a SasView Generic Scattering Calculator file: a .sld point list or an
    OOMMF .omf grid (read with SasView's own ``sas_gen`` readers)."""
    path = Path(path)
    if not path.is_file():
        raise SaxsimInputError(f"file {str(path)!r} does not exist")
    require_extra("sas", "gui", f"reading SasView's {path.suffix} files")
    from sas.sascalc.calculator import sas_gen
    reader = sas_gen.OMFReader() if path.suffix.lower() == ".omf" else sas_gen.SLDReader()
    try:
        data = reader.read(str(path))
    except Exception as exc:  # noqa: BLE001 (sas_gen raises many kinds)
        raise SaxsimInputError(f"cannot read {path.name} with SasView's reader "
                               f"({type(exc).__name__}: {exc})") from None
    if data is None or data.pos_x is None or len(data.pos_x) == 0:
        raise SaxsimInputError(f"{path.name} holds no points (a .sld file has a header line "
                               "and then 4, 6, 7 or 8 columns: x y z sld …)")
    xyz = np.column_stack([data.pos_x, data.pos_y, data.pos_z]).astype(float)
    sld_n = (np.zeros(len(xyz)) if data.sld_n is None else np.asarray(data.sld_n, float))
    mag = np.zeros(len(xyz))
    if data.sld_mx is not None:
        mag = np.sqrt(np.asarray(data.sld_mx, float) ** 2 + np.asarray(data.sld_my) ** 2
                      + np.asarray(data.sld_mz) ** 2)
    if not (np.all(np.isfinite(xyz)) and np.all(np.isfinite(sld_n))):
        raise SaxsimInputError(f"{path.name}: NaN or infinite positions or SLDs")
    return xyz, sld_n * 1e6, mag * 1e6


def points_on_grid(xyz: np.ndarray, values: np.ndarray, label: str
                   ) -> tuple[np.ndarray, float]:
    """(3D array with ``values`` at the points' lattice nodes and a margin of one empty
    voxel, lattice step in Å) of points that lie on a cubic lattice; other point sets are
    refused (they are atoms or random points, not voxels)."""
    steps = []
    for k, axis in enumerate("xyz"):
        coords = np.unique(xyz[:, k])
        diffs = np.diff(coords)
        steps.append(float(diffs.min()) if len(diffs) else math.nan)
        if not len(diffs):
            continue
        index = (xyz[:, k] - coords[0]) / steps[-1]
        if not np.allclose(index, np.round(index), atol=1e-3):
            raise SaxsimInputError(
                f"{label}: the points do not lie on a lattice along {axis} (they are not "
                "voxels): for atoms use the PDB file itself")
    known = [s for s in steps if np.isfinite(s)]
    if not known:
        raise SaxsimInputError(f"{label}: a single point is not a particle")
    step = known[0]
    if not np.allclose(known, step, rtol=1e-3):
        shown = ", ".join(f"{s:g}" for s in steps)
        raise SaxsimInputError(f"{label}: the lattice steps differ ({shown} Å); the numerical "
                               "models need cubic voxels")
    lo = xyz.min(axis=0)
    index = np.round((xyz - lo) / step).astype(int) + 1
    grid = np.zeros(tuple(index.max(axis=0) + 2), np.float32)
    np.add.at(grid, tuple(index.T), values)
    return grid, step


def make_points_model(path: str | os.PathLike, name: str,
                      out_dir: str | os.PathLike | None = None, overwrite: bool = False,
                      sld: float = 1.0, sld_solvent: float = 0.0) -> tuple[Path, str]:
    """Plugin model of a SasView .sld or .omf file. With nuclear SLDs the lattice holds
    their contrast to ``sld_solvent`` (sld_scale, voxel_size fittable); a file with only
    magnetic SLDs (the usual .omf) gives the shape of its magnetised points as a uniform
    particle (sld, sld_solvent, size_scale fittable): X-ray and unpolarised nuclear
    scattering do not see magnetisation. Each point fills its cubic lattice cell (the
    Generic Scattering Calculator sums the points without it; the two differ by the
    cell's box filter, 2 % at q·step = 0.5). Returns (plugin path, what was modelled)."""
    path = Path(path)
    xyz, sld_n, mag = read_sasview_points(path)
    if np.any(sld_n):
        grid, step = points_on_grid(xyz, sld_n - sld_solvent, path.name)
        what = (f"the nuclear SLDs of {len(xyz)} points minus the solvent's "
                f"{sld_solvent:g}e-6/Å²")
        origin = f"the {len(xyz)} lattice points of SasView's {path.name} ({what})."
        return make_array_model(grid, step, name, origin, out_dir, overwrite,
                                title=f"Numerical SasView file {path.name}",
                                correction="sinc"), what
    occupied = mag > 0 if path.suffix.lower() == ".omf" else np.ones(len(xyz), bool)
    if not np.any(occupied):
        raise SaxsimInputError(f"{path.name}: every point has zero nuclear and magnetic SLD: "
                               "nothing scatters")
    grid, step = points_on_grid(xyz[occupied], np.ones(int(occupied.sum())), path.name)
    what = (f"the shape of its {int(occupied.sum())} "
            f"{'magnetised ' if path.suffix.lower() == '.omf' else ''}points as a uniform "
            "particle (the file has no nuclear SLDs; magnetic scattering is not modelled)")
    origin = f"SasView's {path.name}: {what}."
    return make_array_model(grid, step, name, origin, out_dir, overwrite,
                            particle={"sld": sld, "sld_solvent": sld_solvent},
                            title=f"Numerical SasView file {path.name}",
                            correction="sinc"), what
