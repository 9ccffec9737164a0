"""Triangle meshes (STL, OBJ, PLY, … through trimesh, the 'meshes' extra) as voxel fractions.

:func:`read_mesh` loads a mesh, repairs what trimesh can repair (duplicate vertices, holes,
inconsistent winding, inside-out orientation) and refuses what it cannot, saying which.
:func:`mesh_fractions` voxelises a closed mesh with partial volumes: along vertical lines
(``supersample`` × ``supersample`` per voxel column) the crossings with the triangles are
exact, and the winding number between them is integrated exactly over each voxel's z
range, so a voxel holds the fraction of it that lies inside (to the xy sampling of its
column). A closed mesh gives fractions in [0, 1]; a part enclosed twice (overlapping shells)
gives more than 1 and a region enclosed with the wrong orientation (a self-intersection)
less than 0, which is how those defects are found.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import SaxsimInputError, require_extra

#: mesh formats trimesh reads that make sense for a closed surface
SUFFIXES = (".stl", ".obj", ".ply", ".off", ".glb", ".gltf", ".3mf")


@dataclass
class Mesh:
    """A closed triangle mesh: ``vertices`` ((m, 3) Å), ``faces`` ((k, 3) vertex indices,
    counter-clockwise seen from outside), ``volume`` (Å³, enclosed), ``notes`` (repairs
    made), ``source`` (file name)."""

    vertices: np.ndarray
    faces: np.ndarray
    volume: float
    notes: list[str]
    source: str


def read_mesh(path: str | Path, unit: float) -> Mesh:
    """The closed mesh of a file, with lengths × ``unit`` (Å per file unit: 10 for a mesh in
    nm). Repairs (merging duplicate vertices, filling holes, fixing the winding, turning an
    inside-out mesh around) are listed in ``notes``; a mesh that stays open is refused."""
    trimesh = require_extra("trimesh", "meshes", "reading triangle meshes")
    path = Path(path)
    if not path.is_file():
        raise SaxsimInputError(f"mesh file {str(path)!r} does not exist")
    if not (np.isfinite(unit) and unit > 0):
        raise SaxsimInputError(f"mesh unit must be a length > 0 (Å per file unit), got {unit!r}")
    with np.errstate(divide="ignore", invalid="ignore"):   # trimesh's centre of a flat mesh
        return _read_mesh(trimesh, path, unit)


def _read_mesh(trimesh, path: Path, unit: float) -> Mesh:
    try:
        mesh = trimesh.load(str(path), force="mesh", process=False)
    except Exception as exc:  # noqa: BLE001 (trimesh raises many kinds for broken files)
        raise SaxsimInputError(f"cannot read {path.name} as a mesh ({type(exc).__name__}: "
                               f"{exc})") from None
    if not hasattr(mesh, "faces") or len(mesh.faces) == 0:
        raise SaxsimInputError(f"{path.name} holds no triangles (a point cloud or an empty "
                               "scene is not a surface)")
    if not np.all(np.isfinite(mesh.vertices)):
        raise SaxsimInputError(f"{path.name}: vertices with NaN or infinite coordinates")
    notes = []
    before = len(mesh.vertices)
    mesh.merge_vertices()
    mesh.update_faces(mesh.nondegenerate_faces())
    mesh.remove_unreferenced_vertices()
    if len(mesh.vertices) < before:
        notes.append(f"merged {before - len(mesh.vertices)} duplicate vertices")
    if not mesh.is_watertight:
        open_edges = _open_edges(mesh)
        trimesh.repair.fill_holes(mesh)
        if not mesh.is_watertight:
            raise SaxsimInputError(
                f"{path.name} is not closed: {open_edges} edges belong to one triangle only "
                "(holes that trimesh could not fill, or a surface that is not a solid); "
                "close it in a mesh editor (MeshLab: Filters > Remeshing > Close Holes)")
        notes.append(f"filled holes bounded by {open_edges} open edges")
    if not mesh.is_winding_consistent:
        trimesh.repair.fix_winding(mesh)
        notes.append("made the triangle winding consistent")
    if mesh.volume < 0:
        mesh.invert()
        notes.append("turned the inside-out mesh around")
    if not mesh.volume > 0:
        raise SaxsimInputError(f"{path.name} encloses no volume (flat or degenerate mesh)")
    vertices = np.asarray(mesh.vertices, float) * unit
    return Mesh(vertices, np.asarray(mesh.faces, np.int64), float(mesh.volume) * unit ** 3,
                notes, path.name)


def _open_edges(mesh) -> int:
    edges = np.sort(mesh.edges, axis=1)
    _, counts = np.unique(edges, axis=0, return_counts=True)
    return int(np.sum(counts == 1))


def mesh_fractions(vertices: np.ndarray, faces: np.ndarray, voxel_size: float,
                   supersample: int = 4, max_pairs: int = 4_000_000
                   ) -> tuple[np.ndarray, np.ndarray]:
    """(fraction of each voxel inside the mesh, (n_x, n_y, n_z); the corner of voxel 0, Å).

    ``vertices`` in Å, ``voxel_size`` in Å; one empty voxel of margin on every side.
    Along each of ``supersample`` × ``supersample`` vertical lines per voxel column the
    signed crossings (entering where the face normal points down, leaving where it points
    up) are summed into a winding number, integrated exactly over each voxel's z range."""
    v = np.asarray(vertices, float)
    f = np.asarray(faces, np.int64)
    d, s = float(voxel_size), int(supersample)
    lo = v.min(axis=0) - d
    n = np.ceil((v.max(axis=0) - lo) / d).astype(int) + 2
    # irrational offsets keep the sampling lines off vertices and edges of meshes built on
    # round coordinates (a line through a shared edge would cross it twice)
    eps = d / s * np.array([0.01 * np.sqrt(2), 0.01 * np.sqrt(3)])
    a, b, c = (v[f[:, i]] for i in range(3))
    # sampling line u lies at x = lo_x + (u + 0.5)·d/s + eps_x (same for v in y)
    to_u = lambda x, k: (x - lo[k] - eps[k]) * s / d - 0.5  # noqa: E731
    xs = np.stack([a[:, 0], b[:, 0], c[:, 0]])
    ys = np.stack([a[:, 1], b[:, 1], c[:, 1]])
    u0 = np.ceil(to_u(xs.min(0), 0)).astype(np.int64)
    u1 = np.floor(to_u(xs.max(0), 0)).astype(np.int64)
    v0 = np.ceil(to_u(ys.min(0), 1)).astype(np.int64)
    v1 = np.floor(to_u(ys.max(0), 1)).astype(np.int64)
    nu, nv = np.maximum(u1 - u0 + 1, 0), np.maximum(v1 - v0 + 1, 0)
    pairs = nu * nv
    size = int(np.prod(n))
    partial = np.zeros(size)
    step = np.zeros(size)
    weight = 1.0 / (s * s)
    ends = np.cumsum(pairs)
    start = 0
    while start < len(f):
        # a chunk of triangles whose candidate (triangle, line) pairs fit max_pairs
        base = ends[start - 1] if start else 0
        stop = max(int(np.searchsorted(ends, base + max_pairs, side="right")), start + 1)
        t = np.arange(start, stop)
        counts = pairs[t]
        tri = np.repeat(t, counts)
        k = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
        u = u0[tri] + k // np.maximum(nv[tri], 1)
        w = v0[tri] + k % np.maximum(nv[tri], 1)
        px = lo[0] + (u + 0.5) * d / s + eps[0]
        py = lo[1] + (w + 0.5) * d / s + eps[1]
        ax, ay, bx, by, cx, cy = (a[tri, 0], a[tri, 1], b[tri, 0], b[tri, 1], c[tri, 0],
                                  c[tri, 1])
        area = (bx - ax) * (cy - ay) - (by - ay) * (cx - ax)   # 2× signed area in xy = n_z
        wa = (bx - px) * (cy - py) - (by - py) * (cx - px)
        wb = (cx - px) * (ay - py) - (cy - py) * (ax - px)
        wc = area - wa - wb
        hit = (area != 0) & (((wa >= 0) & (wb >= 0) & (wc >= 0))
                             | ((wa <= 0) & (wb <= 0) & (wc <= 0)))
        tri, u, w = tri[hit], u[hit], w[hit]
        area, wa, wb, wc = area[hit], wa[hit], wb[hit], wc[hit]
        z = (wa * a[tri, 2] + wb * b[tri, 2] + wc * c[tri, 2]) / area
        sign = -np.sign(area)          # normal down: the line enters; up: it leaves
        zz = (z - lo[2]) / d
        kz = np.floor(zz).astype(np.int64)
        cell = ((u // s) * n[1] + (w // s)) * n[2]
        partial += np.bincount(cell + kz, sign * (1.0 - (zz - kz)) * weight, minlength=size)
        step += np.bincount(cell + kz + 1, sign * weight, minlength=size)
        start = stop
    fractions = partial.reshape(n) + np.cumsum(step.reshape(n), axis=2)
    return fractions, lo


def voxelise_mesh(mesh: Mesh, voxels: int = 100, supersample: int = 4
                  ) -> tuple[np.ndarray, float, list[str]]:
    """(fractions in [0, 1], voxel size in Å, notes) of a :class:`Mesh` with ``voxels``
    voxels along its longest extent. Overlapping shells are merged (their union); a
    self-intersecting surface (parts enclosed with the wrong orientation) is refused."""
    if voxels < 8:
        raise SaxsimInputError(f"--voxels {voxels}: at least 8 voxels across the mesh")
    extent = float(np.ptp(mesh.vertices, axis=0).max())
    d = extent / voxels
    values, _ = mesh_fractions(mesh.vertices, mesh.faces, d, supersample)
    notes = list(mesh.notes)
    tolerance = 1e-6
    if values.min() < -tolerance:
        raise SaxsimInputError(
            f"{mesh.source} intersects itself: parts of it are enclosed with the wrong "
            f"orientation ({np.sum(values < -0.5)} voxels); repair it in a mesh editor "
            "(MeshLab: Filters > Cleaning and Repairing)")
    if values.max() > 1 + tolerance:
        notes.append(f"overlapping shells merged ({np.sum(values > 1.5)} voxels were "
                     "enclosed twice)")
    values = np.clip(values, 0.0, 1.0)
    return values.astype(np.float32), d, notes
