"""One entry point from "a file or a shape" to a SasView plugin model, shared by
``saxsim make-model`` and the GUI's Build model page: :func:`source_kind` tells what a source
is, :func:`build_model` writes its plugin (through the module of that kind) and
:func:`preview` gives what the object looks like at its real dimensions.

Kinds: ``shape`` (a definition .py file or a shipped name), ``structure`` (PDB/mmCIF),
``mesh`` (STL, OBJ, PLY, …), ``sasview`` (.sld/.omf of SasView's Generic Scattering
Calculator) and ``density`` (.npy, HDF5, MRC, cube, CHGCAR). Crystallites need a radius and a
spacing as well and are built by ``file_models.make_crystallite_model``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import SaxsimInputError

#: the kinds of source (see the module doc)
KINDS = ("shape", "structure", "mesh", "sasview", "density")


def source_kind(source: str | Path) -> str:
    """The kind of a source (see module doc); an unknown file type is a clear error."""
    from ..density.structures import SUFFIXES as STRUCTURES
    from ..geometry.mesh import SUFFIXES as MESHES
    from ..shapes import LIBRARY
    from .file_models import SASVIEW_SUFFIXES
    text = str(source)
    lower = text.lower()
    if lower.endswith(".py") or (LIBRARY / f"{text}.py").is_file():
        return "shape"
    if lower.endswith(STRUCTURES):
        return "structure"
    if lower.endswith(MESHES):
        return "mesh"
    if lower.endswith(SASVIEW_SUFFIXES):
        return "sasview"
    from ..density.readers import _kind
    if _kind(Path(text)) == "cif":
        raise SaxsimInputError(f"{Path(text).name}: a CIF is either a structure (.cif of a "
                               "macromolecule) or a crystal cell (use --crystal)")
    return "density"


@dataclass
class BuiltModel:
    """A written plugin: ``path``, its ``kind`` and ``notes`` (repairs, what was
    modelled)."""

    path: Path
    kind: str
    notes: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.path.stem

    @property
    def parameters(self) -> str:
        """Its own fit parameters with units, as sasmodels reads them from the file (scale
        and background come on top)."""
        from sasmodels.core import load_model_info
        info = load_model_info(str(self.path))
        return ", ".join(f"{p.name} [{p.units.replace('Ang', 'Å').replace('^2', '²')}]"
                         if p.units else p.name
                         for p in info.parameters.kernel_parameters)


def build_model(source: str | Path, name: str | None = None, out_dir=None,
                overwrite: bool = False, *, voxel_size: float | None = None,
                dataset: str | None = None, unit: float | None = None,
                voxels: int | None = None,
                hydration: bool = True, implicit_hydrogens: bool = True,
                radiation: str = "xray",
                memory_budget=None, workdir=None, progress: bool = False) -> BuiltModel:
    """Write the plugin model of ``source`` into ``out_dir`` (default: SasView's plugin
    folder) and return it. ``name``: the model name (needed except for shapes, whose default
    is numerical_<shape>). Options per kind: density files ``voxel_size`` (Å, default the
    file's) and ``dataset`` (HDF5); meshes ``unit`` (Å per file unit, required) and
    ``voxels`` (along the longest extent; None: 24 across the thinnest); structures ``hydration``,
    ``implicit_hydrogens`` and ``radiation`` ("xray" or "neutron")."""
    kind = source_kind(source)
    if kind == "shape":
        from .definition_model import make_definition_model
        path = make_definition_model(source, name, out_dir, overwrite=overwrite)
        return BuiltModel(path, kind, [])
    if name is None:
        raise SaxsimInputError("a model built from a file needs a name (--name)")
    if kind == "structure":
        from .atomic_model import make_atomic_model
        path = make_atomic_model(source, name, out_dir, overwrite=overwrite,
                                 hydration=hydration, progress=progress,
                                 implicit_hydrogens=implicit_hydrogens,
                                 radiation=radiation)
        return BuiltModel(path, kind, [])
    if kind == "mesh":
        from .file_models import make_mesh_model
        if unit is None:
            raise SaxsimInputError("a mesh file has no units: give its unit (--unit nm, "
                                   "--unit A, or the number of Å per file unit)")
        path, notes = make_mesh_model(source, unit, name, out_dir, overwrite=overwrite,
                                      voxels=voxels)
        return BuiltModel(path, kind, [f"mesh repaired: {n}" for n in notes])
    if kind == "sasview":
        from .file_models import make_points_model
        path, what = make_points_model(source, name, out_dir, overwrite=overwrite)
        return BuiltModel(path, kind, [f"modelled: {what}"])
    from .density_model import make_density_model
    path = make_density_model(source, voxel_size, name, out_dir, overwrite=overwrite,
                              memory_budget=memory_budget, workdir=workdir,
                              progress=progress, dataset=dataset)
    return BuiltModel(path, kind, [])


@dataclass
class Preview:
    """What an object looks like: either ``occupied`` voxels (a boolean 3D array, voxel
    ``spacing`` Å, first voxel corner at ``origin`` Å) or ``atoms`` ((N, 3) Å) with their
    ``elements``; ``title`` says what it is and its size."""

    title: str
    occupied: np.ndarray | None = None
    spacing: float = 1.0
    origin: np.ndarray = field(default_factory=lambda: np.zeros(3))
    atoms: np.ndarray | None = None
    elements: np.ndarray | None = None

    @property
    def extent(self) -> np.ndarray:
        """Size of the object along x, y, z (Å)."""
        if self.atoms is not None:
            return np.ptp(self.atoms, axis=0)
        idx = np.argwhere(self.occupied)
        return (idx.max(axis=0) - idx.min(axis=0) + 1) * self.spacing


def preview(source: str | Path, *, voxel_size: float | None = None,
            dataset: str | None = None, unit: float | None = None,
            cells: int = 40) -> Preview:
    """The object of ``source`` at its real dimensions, for a 3D view: a boolean grid of at
    most ``cells`` voxels per axis (a voxel counts where it is at least half as full as the
    fullest one, or above half the largest absolute value of a density), or the atoms of a
    structure."""
    kind = source_kind(source)
    label = Path(str(source)).name
    if kind == "structure":
        from ..density.structures import read_structure
        s = read_structure(source)
        return Preview(f"{label}: {len(s)} atoms", atoms=s.xyz, elements=s.elements)
    if kind == "shape":
        return _shape_preview(source, cells)
    if kind == "mesh":
        from ..geometry.mesh import mesh_fractions, read_mesh
        if unit is None:
            raise SaxsimInputError("a mesh file has no units: choose its unit")
        mesh = read_mesh(source, unit)
        d = float(np.ptp(mesh.vertices, axis=0).max()) / (cells - 2)
        values, origin = mesh_fractions(mesh.vertices, mesh.faces, d, supersample=2)
        # half the fullest voxel: a plate thinner than a preview voxel still shows
        return Preview(f"{label}: {len(mesh.faces)} triangles, {mesh.volume:.4g} Å³",
                       values >= 0.5 * values.max(), d, origin)
    if kind == "sasview":
        from .file_models import points_on_grid, read_sasview_points
        xyz, sld_n, mag = read_sasview_points(source)
        weight = np.abs(sld_n) if np.any(sld_n) else (
            (mag > 0).astype(float) if str(source).lower().endswith(".omf")
            else np.ones(len(xyz)))
        grid, step = points_on_grid(xyz, weight, label)
        return _grid_preview(f"{label}: {len(xyz)} points", grid, step, cells)
    from .density_model import read_density
    density = read_density(source, voxel_size, dataset)
    return _grid_preview(f"{label}: {'×'.join(map(str, density.shape))} voxels",
                         np.asarray(density.array), density.spacing, cells)


def _grid_preview(title: str, values: np.ndarray, spacing: float, cells: int) -> Preview:
    """Block-average ``values`` to at most ``cells`` per axis; occupied above half the
    largest |average|."""
    step = max(1, int(np.ceil(max(values.shape) / cells)))
    shape = [int(np.ceil(n / step)) * step for n in values.shape]
    padded = np.zeros(shape)
    padded[tuple(slice(0, n) for n in values.shape)] = np.abs(values)
    blocks = padded.reshape(shape[0] // step, step, shape[1] // step, step,
                            shape[2] // step, step).mean(axis=(1, 3, 5))
    return Preview(title, blocks >= 0.5 * blocks.max(), spacing * step)


def _shape_preview(source, cells: int) -> Preview:
    from ..geometry.grid import VoxelGrid
    from ..geometry.raster import add_shape
    from ..shapes import load_definition
    spec = load_definition(source)
    dims, slds = spec.split({})
    body = spec.body(dims, {n: 1.0 for n in slds} | {"sld_solvent": 0.0})
    half = max(float(np.max(s.center + s.half_extent())) for s, _ in body.parts)
    low = min(float(np.min(s.center - s.half_extent())) for s, _ in body.parts)
    size = 2 * max(half, -low) * 1.05
    grid = VoxelGrid(cells, size / cells)
    density = grid.allocate()
    for shape, _ in body.parts:        # where matter is, whatever the contrasts
        add_shape(density, shape, 1.0)
    values = np.minimum(density.values, 1.0)
    values = values / values.max() if values.max() > 0 else values
    dims_text = ", ".join(f"{k} {v:g} Å" for k, v in dims.items() if k in spec.lengths)
    return Preview(f"{spec.title} ({dims_text})", values >= 0.5, grid.spacing,
                   np.full(3, -grid.box_length / 2))
