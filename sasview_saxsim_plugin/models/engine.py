"""The engine behind the sasmodels plugin models ``numerical_<shape>`` (``models/``).

Parameters -> |F(q)|²·1e-4 (what a sasmodels ``Iq`` returns; sasmodels divides by the
``form_volume`` average and applies scale, background and polydispersity).

Fitting calls ``Iq`` hundreds of times, so the voxelised particle is transformed once per
*dimensionless* geometry and tabulated: with every length multiplied by s,
|A_s(q)|² = s⁶·|A_1(q·s)|² (lattice Debye tables). A shape with more than one length
(registry: ``ShapeSpec.lengths``, the first sets s) has one ratio per further length; each
ratio lives on a grid in ln(ratio) of step ``ShapeSpec.ratio_step`` and is interpolated
linearly between neighbours (multilinearly for several ratios), so the model is continuous in
every parameter and polydispersity on every length stays cheap. Shapes made of concentric
spheres (``ShapeSpec.concentric_radii``) need no such grid: they add as amplitudes, so one
signed amplitude table of the voxelised unit sphere serves every radius. Oriented 2D uses the
axial symmetry of the shapes (``AxialTable``).

The 1D tables are also kept on disk (:func:`table_cache_dir`; ``SAXSIM_TABLE_CACHE`` names
another folder, or ``off``), so a new session — SasView started again — reads them instead
of voxelising again; each file is named by the geometry, the grid and a checksum of the code
that computes tables, so a changed definition or a new version never reads stale ones.
"""

from __future__ import annotations

import hashlib
import os
import threading
import warnings
from collections import OrderedDict
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
from scipy.interpolate import CubicSpline

from ..errors import SaxsimInputError, warn_if_q_in_nm
from ..geometry.raster import voxel_fractions
from ..geometry.registry import ShapeSpec, get_shape
from ..scattering.debye import lattice_debye_parts
from ..scattering.voxel import isotropic_correction

DEFAULT_VOXELS = 24          # voxels across the smallest feature
MAX_VOXELS = 1_000_000      # voxels in the particle's bounding box (cold cost ∝ this)
#: tables kept (each a few hundred kB at most); a polydisperse shape with two aspect ratios
#: needs a few hundred at once, and a smaller cache rebuilt them on every call
CACHE_SIZE = 1024


@dataclass
class Table:
    """|A_1(u)|² pair tables of one dimensionless geometry (first length = 1) on a u grid."""

    u: np.ndarray
    splines: dict            # (i, j) -> CubicSpline over u
    spacing: float           # voxel size in units of the first length
    u_trusted: float         # π/(2·spacing): beyond this the voxel lattice is less accurate
    volume: float = 0.0      # particle volume (union of the parts, units of the first length³)

    def amplitude2(self, u: np.ndarray, contrasts: list[float]) -> np.ndarray:
        out = np.zeros_like(u)
        for (i, j), spl in self.splines.items():
            f = contrasts[i] * contrasts[j] * (1 if i == j else 2)
            if f:
                out += f * spl(u)
        return out


def table_cache_dir() -> Path | None:
    """Folder of the on-disk table cache: ``$SAXSIM_TABLE_CACHE`` (``off``, ``0`` or empty:
    none), else ``$XDG_CACHE_HOME`` or ``~/.cache``, then ``sasview_saxsim_plugin/tables``."""
    value = os.environ.get("SAXSIM_TABLE_CACHE")
    if value is not None:
        return None if value.strip().lower() in ("", "0", "off", "no", "false") else Path(value)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "sasview_saxsim_plugin" / "tables"


@cache
def _code_digest() -> str:
    """Checksum of the modules whose code decides what a table holds."""
    from .. import __version__
    from ..geometry import definitions, grid, raster, registry, shapes, solids
    from ..scattering import debye, voxel
    h = hashlib.sha256(__version__.encode())
    for module in (definitions, grid, raster, registry, shapes, solids, debye, voxel):
        h.update(Path(module.__file__).read_bytes())
    h.update(Path(__file__).read_bytes())
    return h.hexdigest()


def _table_file(spec: ShapeSpec, ratios: tuple[float, ...], voxels: int,
                supersample: int) -> Path | None:
    folder = table_cache_dir()
    if folder is None:
        return None
    key = repr((_code_digest(), spec.key, tuple(round(r, 12) for r in ratios), voxels,
                supersample))
    return folder / f"{spec.name}_{hashlib.sha256(key.encode()).hexdigest()[:24]}.npz"


def _load_table(path: Path | None, u_max: float) -> Table | None:
    """A table from the disk cache when it is there and reaches ``u_max``; else None (a
    damaged file is ignored and later replaced)."""
    if path is None or not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as z:
            u = z["u"]
            if u[-1] < u_max:
                return None
            splines = {(int(i), int(j)): CubicSpline(u, v)
                       for (i, j), v in zip(z["pairs"], z["values"], strict=True)}
            return Table(u, splines, float(z["spacing"]), float(z["u_trusted"]),
                         float(z["volume"]))
    except Exception:  # noqa: BLE001 (a truncated file raises zipfile.BadZipFile, EOFError…)
        return None


def _save_table(path: Path | None, table: Table) -> None:
    """Write a table to the disk cache (atomically; a cache that cannot be written is
    skipped: it only saves time)."""
    if path is None:
        return
    pairs = list(table.splines)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
        with open(partial, "wb") as fh:
            np.savez(fh, u=table.u, pairs=np.array(pairs, dtype=np.int64).reshape(-1, 2),
                     values=np.array([table.splines[k](table.u) for k in pairs]),
                     spacing=table.spacing, u_trusted=table.u_trusted, volume=table.volume)
        os.replace(partial, path)
    except OSError:
        pass


def _unit_geometry(spec: ShapeSpec, ratios: tuple[float, ...]) -> tuple[list, float]:
    """Unit-contrast part shapes of the geometry with first length 1, the further lengths at
    the given ratios to it and the shape numbers at the values that follow them in
    ``ratios``, and its smallest feature (units of the first length)."""
    lengths, numbers = spec.lengths, spec.numbers
    n_ratios = len(lengths) - 1
    dims = {lengths[0]: 1.0, **dict(zip(lengths[1:], ratios[:n_ratios], strict=True)),
            **dict(zip(numbers, ratios[n_ratios:], strict=True))}
    parts = spec.parts(dims, 0.0, 0.0, np.zeros(3))
    feature = min(p.min_feature() for p in parts)
    if spec.feature is not None:
        feature = min(feature, spec.feature(dims))
    return parts, feature


def grid_position(spec: ShapeSpec, dims: dict) -> tuple[float, tuple[float, ...],
                                                        np.ndarray]:
    """(scale length s, exact key values, position on the table grid) of a geometry: the
    further lengths as ratios to s (grid in ln(ratio) of step ``ratio_step``), the shape
    numbers as they are (grid step ``grid_step``)."""
    first, *others = spec.lengths
    s = float(dims[first])
    ratios = tuple(float(dims[n]) / s for n in others)
    numbers = tuple(float(dims[n]) for n in spec.numbers)
    x = np.concatenate([np.log(ratios) / spec.ratio_step if ratios else np.zeros(0),
                        [v / spec.parameter(n).grid_step for n, v in
                         zip(spec.numbers, numbers, strict=True)]])
    return s, ratios + numbers, x


def grid_corners(x: np.ndarray):
    """(integer grid index, weight) of the 2^k corners around position ``x`` that carry a
    weight in the multilinear interpolation."""
    base = np.floor(x).astype(int)
    frac = x - base
    for corner in np.ndindex(*(2,) * len(x)):
        w = float(np.prod([f if c else 1 - f for f, c in zip(frac, corner, strict=True)]))
        if w > 1e-9:
            yield tuple(int(b + c) for b, c in zip(base, corner, strict=True)), w


def grid_values(spec: ShapeSpec, index: tuple[int, ...]) -> tuple[float, ...]:
    """The key values (ratios, then shape numbers) at an integer grid ``index``."""
    n_ratios = len(spec.lengths) - 1
    numbers = []
    for k, name in zip(index[n_ratios:], spec.numbers, strict=True):
        p = spec.parameter(name)       # a grid corner beyond a limit is the limit itself
        numbers.append(float(np.clip(k * p.grid_step, *p.limits)))
    return tuple(float(np.exp(k * spec.ratio_step)) for k in index[:n_ratios]) + tuple(numbers)


def _unit_parts(spec: ShapeSpec, ratios: tuple[float, ...], voxels: int, supersample: int):
    """Unit-contrast voxel blocks of the dimensionless geometry (axis along z, origin at
    index ``reach``), the voxel size and the largest extent (units of the first length)."""
    shapes, feature = _unit_geometry(spec, ratios)
    centres = np.array([np.asarray(s.center, float) for s in shapes])
    if spec.centrosymmetric and np.any(centres != 0):
        raise SaxsimInputError(
            f"numerical_{spec.name}: the plugin engine tabulates particles whose parts are "
            "centred at the origin and symmetric under x -> -x, y -> -y, z -> -z (it "
            "voxelises one octant); this shape has off-centre parts (register it with "
            "centrosymmetric=False)")
    half = np.max([np.abs(c) + s.half_extent() for c, s in zip(centres, shapes,
                                                                strict=True)], axis=0)
    extent = 2 * half.max()
    d = feature / voxels
    box_voxels = np.prod(2 * half / d + 3)
    if box_voxels > MAX_VOXELS:           # coarser grid for thin shells / long rods
        d *= (box_voxels / MAX_VOXELS) ** (1 / 3)
    # a rectangular block around the particle (origin at index reach): no cubic box needed
    reach = np.ceil(half / d).astype(int) + 1

    def coords(i):
        return i * d

    parts = []
    if not spec.centrosymmetric:
        for s in shapes:
            parts.append(voxel_fractions(s, coords, d, -reach, 2 * reach + 1, supersample))
        return parts, d, extent, reach
    # symmetric under x -> -x, y -> -y, z -> -z in its own frame: rasterise the positive
    # octant (indices 0 … reach) and mirror it (8× less work)
    octant = reach + 1
    for s in shapes:
        full = voxel_fractions(s, coords, d, np.zeros(3, int), octant, supersample)
        # index reach + i holds octant[i]; index reach - i holds it too (mirror)
        for axis in range(3):
            mirrored = np.flip(np.take(full, np.arange(1, full.shape[axis]), axis=axis), axis)
            full = np.concatenate([mirrored, full], axis=axis)
        parts.append(full)
    return parts, d, extent, reach


def _build_table(spec: ShapeSpec, ratios: tuple[float, ...], voxels: int, supersample: int,
                 u_max: float) -> Table:
    parts, d, extent, _ = _unit_parts(spec, ratios, voxels, supersample)
    profiles = lattice_debye_parts(parts, d)
    # u grid: log-spaced at small u, then linear with ≥ 12 points per oscillation period
    # (period 2π/extent in u for the largest dimension)
    du = 2 * np.pi / extent / 32
    u_lin0 = min(u_max, 0.5 / extent * 2 * np.pi)
    u = np.unique(np.concatenate([np.geomspace(1e-4, u_lin0, 64),
                                  np.arange(u_lin0, u_max + du, du)]))
    corr = isotropic_correction("deconvolve", np.minimum(u * d, 2 * np.pi))
    splines = {k: CubicSpline(u, p.amplitude2(u) * corr) for k, p in profiles.items()}
    # the union of the parts (overlapping parts add contrast but not volume)
    volume = float(np.minimum(np.sum(parts, axis=0), 1.0).sum()) * d ** 3
    return Table(u, splines, d, np.pi / (2 * d), volume)


@dataclass
class AxialTable:
    """Amplitudes A_i(u_z, u_ρ) of the unit-contrast parts of an axisymmetric, centrosymmetric
    particle (axis along z; first length = 1), tabulated on a fine (u_z, u_ρ) grid.

    Voxels are grouped by (z, integer ρ² = x² + y²) and the azimuthal average of the phase
    factor is J0, so A(u_z, u_ρ) = d³ Σ_z Σ_ρ² S(z, ρ²)·cos(u_z z)·J0(u_ρ ρ): two small matrix
    products, exact for the voxel lattice up to its (second-order) anisotropy.
    """

    splines: list             # per part: RectBivariateSpline over (u_z, u_ρ)
    spacing: float
    u_max: float              # table edge (π/d, the lattice Nyquist limit)

    def amplitude2(self, u_par: np.ndarray, contrasts: list[float]) -> np.ndarray:
        """|Σ c_i A_i|² at particle-frame points ``u_par`` (..., 3), box filter undone."""
        flat = u_par.reshape(-1, 3)
        uz = np.abs(flat[:, 2])
        urho = np.hypot(flat[:, 0], flat[:, 1])
        total = np.zeros(len(flat))
        for c, spl in zip(contrasts, self.splines, strict=True):
            if c:
                total += c * spl(uz, urho, grid=False)
        box = np.prod(np.sinc(flat * self.spacing / 2 / np.pi), axis=1)
        out = total ** 2 / box ** 2
        out[(uz > self.u_max) | (urho > self.u_max)] = np.nan
        return out.reshape(u_par.shape[:-1])


def _build_axial_table(spec: ShapeSpec, ratios: tuple[float, ...], voxels: int,
                       supersample: int, per_period: int = 20) -> AxialTable:
    from scipy.interpolate import RectBivariateSpline
    from scipy.special import j0
    parts, d, _, reach = _unit_parts(spec, ratios, voxels, supersample)
    nx, ny, nz = parts[0].shape
    ix = np.arange(nx) - reach[0]
    iy = np.arange(ny) - reach[1]
    iz = np.arange(nz) - reach[2]
    rho2 = (ix[:, None] ** 2 + iy[None, :] ** 2).ravel()
    kinds = np.unique(rho2)
    col = np.searchsorted(kinds, rho2)
    ext_z = max(1.0, 2 * abs(iz).max() * d)
    ext_rho = max(1.0, 2 * np.sqrt(kinds.max()) * d)
    u_max = np.pi / d
    uz = np.arange(0.0, u_max + 1e-12, 2 * np.pi / ext_z / per_period)
    ur = np.arange(0.0, u_max + 1e-12, 2 * np.pi / ext_rho / per_period)
    cz = np.cos(np.outer(uz, iz * d))                       # (n_uz, nz)
    jr = j0(np.outer(np.sqrt(kinds) * d, ur))               # (n_kinds, n_ur)
    splines = []
    for block in parts:
        per_z = block.reshape(nx * ny, nz).T                # (nz, nx·ny)
        s_zk = np.zeros((nz, kinds.size))
        for k in range(nz):
            s_zk[k] = np.bincount(col, per_z[k], minlength=kinds.size)
        table = (cz @ s_zk @ jr) * d ** 3
        splines.append(RectBivariateSpline(uz, ur, table, kx=3, ky=3))
    return AxialTable(splines, d, u_max)


def _build_sphere_amplitude(voxels: int, supersample: int, u_max: float, n_mu: int = 48,
                            n_phi: int = 12) -> CubicSpline:
    """Orientation-averaged, box-deconvolved *signed* amplitude A_1(u) of the voxelised unit
    sphere (from its axial table by Gauss-Legendre over the polar angle; the box filter is
    averaged over the azimuth). Concentric spheres then combine exactly as amplitudes."""
    tab = _build_axial_table(get_shape("sphere"), (), voxels, supersample)
    d = tab.spacing
    u = np.arange(0.0, min(u_max, tab.u_max) + 0.05, np.pi / 32)
    x, w = np.polynomial.legendre.leggauss(n_mu)
    mu, w = (x + 1) / 2, w / 2
    phi = (np.arange(n_phi) + 0.5) * np.pi / 2 / n_phi
    uu, mm = np.meshgrid(u, mu, indexing="ij")
    uz, ur = uu * mm, uu * np.sqrt(1 - mm ** 2)
    amp = tab.splines[0](uz.ravel(), ur.ravel(), grid=False).reshape(uz.shape)
    box = np.sinc(uz * d / 2 / np.pi) * np.mean(
        [np.sinc(ur * np.cos(p) * d / 2 / np.pi) * np.sinc(ur * np.sin(p) * d / 2 / np.pi)
         for p in phi], axis=0)
    return CubicSpline(u, (amp / box * w[None, :]).sum(axis=1))


def _axis_frame(theta: float, phi: float) -> np.ndarray:
    """Rows: two unit vectors perpendicular to the axis (θ, φ in degrees) and the axis."""
    from ..geometry.shapes import axis_from_angles
    axis = axis_from_angles(theta, phi)
    helper = np.array([0.0, 0.0, 1.0]) if abs(axis[2]) < 0.9 else np.array([1.0, 0.0, 0.0])
    e1 = np.cross(helper, axis)
    e1 /= np.linalg.norm(e1)
    e2 = np.cross(axis, e1)
    return np.stack([e1, e2, axis])


AUTO_LEVELS = (DEFAULT_VOXELS, 2 * DEFAULT_VOXELS, 4 * DEFAULT_VOXELS)


def _auto_voxels(feature: float, u_max: float, minimum: int = 0) -> int:
    """Automatic voxels across the smallest feature (first length = 1): the first of 24, 48,
    96 (at least ``minimum``) with q·d ≤ π at the largest requested u = q·s (few levels, so
    the cache is reused)."""
    for level in AUTO_LEVELS:
        if level >= minimum and u_max * feature / level <= np.pi:
            return level
    return AUTO_LEVELS[-1]


class NumericalShapeModel:
    """Cached evaluator: ``iq(q, shape, dims, slds)`` -> ``|F|²·1e-4`` (sasmodels ``Iq`` units)
    of any registered shape (``geometry.registry``)."""

    def __init__(self, supersample: int = 3, cache_size: int = CACHE_SIZE, voxels: int = 0):
        #: sub-voxels per axis where the surface cuts a voxel
        self.supersample = supersample
        #: voxels across the smallest feature when a call gives none (0: automatic)
        self.voxels = voxels
        self.cache: OrderedDict = OrderedDict()
        self.cache_size = cache_size
        self._lock = threading.Lock()
        self._warned: set = set()
        self.builds = 0
        #: tables read from the disk cache instead of built
        self.loads = 0
        self.features: dict = {}

    def _feature(self, spec: ShapeSpec, ratios: tuple[float, ...]) -> float:
        """Smallest feature of a dimensionless geometry (cached: building the parts of a
        composed shape costs more than a warm call)."""
        key = ("feature", spec.key, ratios)
        with self._lock:
            value = self.features.get(key)
        if value is None:
            value = _unit_geometry(spec, ratios)[1]
            with self._lock:
                if len(self.features) > 100_000:
                    self.features.clear()
                self.features[key] = value
        return value

    def _store(self, key, value, built: bool = True) -> None:
        """Insert a table (freshly built unless ``built`` is False: read from disk),
        evicting the least recently used beyond the limit."""
        with self._lock:
            self.builds += int(built)
            self.cache[key] = value
            self.cache.move_to_end(key)
            while len(self.cache) > self.cache_size:
                self.cache.popitem(last=False)

    def _table(self, spec: ShapeSpec, ratio_index: tuple[int, ...], voxels: int, u_max: float,
               supersample: int) -> Table:
        key = (spec.key, ratio_index, voxels, supersample)
        with self._lock:
            tab = self.cache.get(key)
            if tab is not None and tab.u[-1] >= u_max:
                self.cache.move_to_end(key)
                return tab
        ratios = grid_values(spec, ratio_index)
        path = _table_file(spec, ratios, voxels, supersample)
        loaded = _load_table(path, u_max)
        if loaded is not None:
            self.loads += 1
            self._store(key, loaded, built=False)
            return loaded
        need = max(u_max, tab.u[-1] * 2 if tab is not None else 0.0)
        tab = _build_table(spec, ratios, voxels, supersample, need * 1.25)
        _save_table(path, tab)
        self._store(key, tab)
        return tab

    def _sphere_amplitude(self, voxels: int, u_max: float, supersample: int) -> CubicSpline:
        key = ("amp", voxels, supersample)
        with self._lock:
            spl = self.cache.get(key)
            if spl is not None and spl.x[-1] >= u_max:
                self.cache.move_to_end(key)
                return spl
        spl = _build_sphere_amplitude(voxels, supersample, u_max * 1.25)
        self._store(key, spl)
        return spl

    def _concentric_amplitude(self, q: np.ndarray, radii: list[float],
                              contrasts: list[float], voxels: int,
                              supersample: int) -> np.ndarray:
        """Concentric spheres add as amplitudes: A = Σ c_i·r_i³·A_1(q·r_i), one sphere table
        for every radius, so these shapes need no aspect-ratio grid (2·voxels across the
        sphere)."""
        q = np.abs(q)
        u_max = float(q.max()) * max(radii) if q.size else 1.0
        if not voxels:
            voxels = _auto_voxels(2.0, u_max) // 2
        spl = self._sphere_amplitude(2 * voxels, u_max, supersample)
        return sum(c * r ** 3 * spl(q * r) for c, r in zip(contrasts, radii, strict=True))

    def _prepare(self, shape: str | ShapeSpec, dims: dict, slds: dict,
                 supersample: int | None):
        spec = _spec(shape)
        spec.check_geometry(dims)
        contrasts = spec.contrasts({**spec.defaults(), **slds})
        return spec, contrasts, int(supersample or self.supersample)

    def iq(self, q: np.ndarray, shape: str | ShapeSpec, dims: dict, slds: dict,
           voxels: int | None = None, supersample: int | None = None) -> np.ndarray:
        """``|F(q)|²·1e-4`` of one particle of the registered ``shape``: ``dims`` its lengths in Å,
        ``slds`` its SLD parameters in 1e-6/Å² (sasmodels names; missing ones take the
        registry defaults), q in 1/Å. ``voxels``: voxels across the smallest feature,
        0/None = automatic (24, 48 or 96 so that q·d ≤ π); ``supersample``: sub-voxels per
        axis on the surface (default 3)."""
        spec, contrasts, supersample = self._prepare(shape, dims, slds, supersample)
        q = np.asarray(q, float)
        warn_if_q_in_nm(q, "numerical model")
        voxels = int(self.voxels if voxels is None else voxels)
        if spec.concentric_radii is not None:
            radii = [float(r) for r in spec.concentric_radii(dims)]
            return self._concentric_amplitude(q, radii, contrasts, voxels,
                                              supersample) ** 2 * 1e-4
        s, ratios, x = grid_position(spec, dims)
        u = np.abs(q) * s
        u_max = float(u.max()) if u.size else 1.0
        if not voxels:
            voxels = _auto_voxels(self._feature(spec, ratios), u_max, spec.min_voxels)
        # multilinear interpolation (in ln(ratio), and linear in the shape numbers) between
        # the tables at the grid corners; what is interpolated is |A|²/V² of each table (near
        # 1 at low q, smooth in the ratios) and ln V (exact where V is a power of a ratio):
        # |A|² itself grows like a power of the ratios, and linear interpolation of it was
        # 0.3 % too high between grid points (torus, ratio 0.25)
        a2 = np.zeros_like(u)
        log_volume = 0.0
        first_table = None
        for index, w in grid_corners(x):
            tab = self._table(spec, index, voxels, u_max, supersample)
            first_table = first_table or tab
            a2 += w * tab.amplitude2(u, contrasts) / tab.volume ** 2
            log_volume += w * np.log(tab.volume)
        self._check_range(first_table, u_max, spec.name, s)
        return a2 * np.exp(2 * log_volume) * s ** 6 * 1e-4

    def volume(self, shape: str | ShapeSpec, dims: dict, supersample: int | None = None) -> float:
        """Particle volume (Å³) of the voxelised geometry, interpolated between the tables
        like :meth:`iq` (the union of the parts; consistent with the forward scattering of
        the same tables), for shapes without an exact volume."""
        spec = _spec(shape)
        spec.check_geometry(dims)
        supersample = int(supersample or self.supersample)
        s, _, x = grid_position(spec, dims)
        log_volume = 0.0
        for index, w in grid_corners(x):
            tab = None
            with self._lock:
                for level in AUTO_LEVELS:
                    tab = self.cache.get((spec.key, index, level, supersample))
                    if tab is not None:
                        break
            if tab is None:
                tab = self._table(spec, index, DEFAULT_VOXELS, 1.0, supersample)
            log_volume += w * np.log(tab.volume)
        return float(np.exp(log_volume)) * s ** 3

    def _table3d(self, spec: ShapeSpec, ratios: tuple[float, ...], voxels: int,
                 supersample: int) -> AxialTable:
        key = ("2d", spec.key, tuple(round(r, 9) for r in ratios), voxels, supersample)
        with self._lock:
            tab = self.cache.get(key)
            if tab is not None:
                self.cache.move_to_end(key)
                return tab
        tab = _build_axial_table(spec, ratios, voxels, supersample)
        self._store(key, tab)
        return tab

    def iqxy(self, qx: np.ndarray, qy: np.ndarray, shape: str | ShapeSpec, dims: dict, slds: dict,
             theta: float = 0.0, phi: float = 0.0, voxels: int | None = None,
             supersample: int | None = None) -> np.ndarray:
        """``|F(qx, qy)|²·1e-4`` of the particle with its axis at (θ, φ) degrees, beam along z
        (sasmodels' frame); qx, qy in 1/Å. Isotropic shapes ignore θ and φ."""
        spec, contrasts, supersample = self._prepare(shape, dims, slds, supersample)
        qx, qy = np.broadcast_arrays(np.asarray(qx, float), np.asarray(qy, float))
        voxels = int(self.voxels if voxels is None else voxels)
        if spec.concentric_radii is not None:     # isotropic: the 1D amplitude at |q|
            radii = [float(r) for r in spec.concentric_radii(dims)]
            return self._concentric_amplitude(np.hypot(qx, qy), radii, contrasts, voxels,
                                              supersample) ** 2 * 1e-4
        if not spec.oriented:
            return self.iq(np.hypot(qx, qy), shape, dims, slds, voxels, supersample)
        first, *others = spec.lengths
        s = float(dims[first])
        q_lab = np.stack([qx, qy, np.zeros_like(qx)], axis=-1)
        u_par = q_lab @ _axis_frame(theta, phi).T * s
        # exact aspect ratios here: interpolating between ratios would smear the sharp
        # fringes of an oriented pattern (q·L/2 of tens of radians at high q)
        ratios = tuple(float(dims[n]) / s for n in others)
        if not voxels:
            u_max = float(np.abs(u_par).max()) if u_par.size else 1.0
            voxels = _auto_voxels(_unit_geometry(spec, ratios)[1], u_max)
        a2 = self._table3d(spec, ratios, voxels, supersample).amplitude2(u_par, contrasts)
        return a2 * s ** 6 * 1e-4

    def _check_range(self, tab: Table, u_max: float, shape: str, scale: float) -> None:
        if u_max > 2 * tab.u_trusted and shape not in self._warned:
            self._warned.add(shape)
            warnings.warn(
                f"numerical_{shape}: q up to {u_max / scale:.3g} 1/Å is beyond the "
                f"trusted {2 * tab.u_trusted / scale:.3g} 1/Å (q·d = π) of the grid for this "
                f"size (MODEL.voxels sets more voxels across the smallest feature)",
                stacklevel=3)


def _spec(shape: str | ShapeSpec) -> ShapeSpec:
    """The spec itself, or the registered one of that name (a plugin passes its own spec, so
    a definition reloaded under the same name never reads the old one's tables)."""
    return shape if isinstance(shape, ShapeSpec) else get_shape(shape)


#: one shared evaluator per process (its cache is the only global state; key = geometry)
MODEL = NumericalShapeModel()
