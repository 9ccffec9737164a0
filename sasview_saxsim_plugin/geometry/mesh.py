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
    nm). Repairs (filling holes, fixing the winding, turning an inside-out mesh around) are
    listed in ``notes``; a mesh that stays open is refused."""
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
    mesh.merge_vertices()           # STL repeats every vertex per triangle: not a repair
    mesh.update_faces(mesh.nondegenerate_faces())
    mesh.remove_unreferenced_vertices()
    if not mesh.is_watertight:
        open_edges, crowded_edges = _bad_edges(mesh)
        trimesh.repair.fill_holes(mesh)
        if not mesh.is_watertight:
            raise SaxsimInputError(
                f"{path.name} is not a closed surface: {open_edges} edges belong to one "
                f"triangle only (holes) and {crowded_edges} to more than two (sheets "
                "glued together, double-sided faces); trimesh could not repair it. Close it "
                "in a mesh editor (MeshLab: Filters > Cleaning and Repairing)")
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


def _bad_edges(mesh) -> tuple[int, int]:
    """(edges of one triangle only, edges of more than two) of a mesh."""
    edges = np.sort(mesh.edges, axis=1)
    _, counts = np.unique(edges, axis=0, return_counts=True)
    return int(np.sum(counts == 1)), int(np.sum(counts > 2))


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
    h = d / s                                  # width of a sampling line's sub-cell
    lo = v.min(axis=0) - d
    n = np.ceil((v.max(axis=0) - lo) / d).astype(int) + 2
    a, b, c = (v[f[:, i]] for i in range(3))
    # sampling line (u, w) lies at a pseudo-random point of its sub-cell
    # [lo_x + u·h, lo_x + (u+1)·h) × [lo_y + w·h, …): stratified jitter. A regular grid of
    # lines lined up with an axis-aligned round cross-section (a cylinder along z) made a
    # systematic area error of 0.75 %; jittered, the errors average out, and no line runs
    # through the vertices and edges of a mesh built on round coordinates
    xs = np.stack([a[:, 0], b[:, 0], c[:, 0]])
    ys = np.stack([a[:, 1], b[:, 1], c[:, 1]])
    u0 = np.floor((xs.min(0) - lo[0]) / h).astype(np.int64)
    u1 = np.floor((xs.max(0) - lo[0]) / h).astype(np.int64)
    v0 = np.floor((ys.min(0) - lo[1]) / h).astype(np.int64)
    v1 = np.floor((ys.max(0) - lo[1]) / h).astype(np.int64)
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
        px = lo[0] + (u + _jitter(u, w, 1)) * h
        py = lo[1] + (w + _jitter(u, w, 2)) * h
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


def _jitter(u: np.ndarray, w: np.ndarray, salt: int) -> np.ndarray:
    """Deterministic pseudo-random numbers in [0, 1) per sampling line (u, w) (a splitmix64
    hash of the line's indices)."""
    with np.errstate(over="ignore"):
        z = (u.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
             ^ w.astype(np.uint64) * np.uint64(0xC2B2AE3D27D4EB4F)
             ^ np.uint64(salt) * np.uint64(0x165667B19E3779F9))
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(11)).astype(np.float64) / float(2 ** 53)


#: automatic grid of a mesh: voxels across its thinnest extent, at least this many along its
#: longest, and at most this many voxels in its bounding box (lattice Debye memory: 24 bytes
#: per voxel of the doubled box)
VOXELS_ACROSS_THINNEST = 24
VOXELS_ALONG_LONGEST = 100
MAX_BOX_VOXELS = 8_000_000


def automatic_voxel_size(mesh: Mesh) -> float:
    """Voxel size (Å) for a mesh: 24 voxels across its thinnest extent (along its principal
    axes) and at least 100 along its longest, with at most 8e6 voxels in its bounding box."""
    centred = mesh.vertices - mesh.vertices.mean(axis=0)
    axes = np.linalg.svd(centred, full_matrices=False)[2]
    principal = np.ptp(centred @ axes.T, axis=0)
    box = np.ptp(mesh.vertices, axis=0)
    d = min(float(box.max()) / VOXELS_ALONG_LONGEST,
            float(principal.min()) / VOXELS_ACROSS_THINNEST)
    count = float(np.prod(box / d + 3))
    if count > MAX_BOX_VOXELS:
        d *= (count / MAX_BOX_VOXELS) ** (1 / 3)
    return d


def voxelise_mesh(mesh: Mesh, voxels: int | None = None, supersample: int = 4
                  ) -> tuple[np.ndarray, float, list[str]]:
    """(fractions in [0, 1], voxel size in Å, notes) of a :class:`Mesh` with ``voxels``
    voxels along its longest extent (None: :func:`automatic_voxel_size`). Overlapping
    shells are merged (their union); a self-intersecting surface (parts enclosed with the
    wrong orientation) is refused."""
    extent = float(np.ptp(mesh.vertices, axis=0).max())
    if voxels is None:
        d = automatic_voxel_size(mesh)
    else:
        if voxels < 8:
            raise SaxsimInputError(f"--voxels {voxels}: at least 8 voxels across the mesh")
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
