"""The engine behind the sasmodels plugin model "numerical_density".

Parameters -> |F(q)|²·1e-4 (what a sasmodels ``Iq`` returns; sasmodels divides by the
``form_volume`` average and applies scale, background and polydispersity).

Fitting calls ``Iq`` hundreds of times, so the voxelised particle is transformed once per
*dimensionless* geometry and tabulated: with every length multiplied by s,
|A_s(q)|² = s⁶·|A_1(q·s)|² (lattice Debye tables). Cylinders and ellipsoids have two
lengths; their ratio lives on a grid in ln(ratio) of step ``RATIO_STEP[shape]`` and is
interpolated linearly between neighbours, so the model is continuous in every parameter and
polydispersity on both lengths stays cheap. The core-shell sphere needs no such grid:
concentric spheres add as amplitudes, so one signed amplitude table of the voxelised unit
sphere serves every radius and thickness. Oriented 2D uses the axial symmetry of the shapes
(``AxialTable``).
"""

from __future__ import annotations

import threading
import warnings
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
from scipy.interpolate import CubicSpline

from .errors import SaxsimInputError
from .geometry import make_body
from .geometry.raster import voxel_fractions
from .scattering.debye import lattice_debye_parts
from .scattering.voxel import isotropic_correction

SHAPES = ("sphere", "cylinder", "ellipsoid", "core_shell_sphere")
#: the two lengths of each shape (first one sets the scale s), sasmodels names
LENGTHS = {"sphere": ("radius", None), "cylinder": ("radius", "length"),
           "ellipsoid": ("radius_equatorial", "radius_polar"),
           "core_shell_sphere": ("radius", "thickness")}
#: grid step in ln(second/first length): I(q) of rods and spheroids changes slowly with the
#: aspect ratio (docs/numerical_model.md measures 5 % against 2 %)
RATIO_STEP = {"cylinder": 0.05, "ellipsoid": 0.05}
DEFAULT_VOXELS = 24          # voxels across the smallest feature
MAX_VOXELS = 1_000_000      # voxels in the particle's bounding box (cold cost ∝ this)
CACHE_SIZE = 64


@dataclass
class Table:
    """|A_1(u)|² pair tables of one dimensionless geometry (first length = 1) on a u grid."""

    u: np.ndarray
    splines: dict            # (i, j) -> CubicSpline over u
    spacing: float           # voxel size in units of the first length
    u_trusted: float         # π/(2·spacing): beyond this the voxel lattice is less accurate

    def amplitude2(self, u: np.ndarray, contrasts: list[float]) -> np.ndarray:
        out = np.zeros_like(u)
        for (i, j), spl in self.splines.items():
            f = contrasts[i] * contrasts[j] * (1 if i == j else 2)
            if f:
                out += f * spl(u)
        return out


def _unit_geometry(shape: str, ratio: float) -> tuple[list, float]:
    """Parts (unit contrast bodies) of the geometry with first length 1 and the given ratio."""
    if shape == "sphere":
        return [make_body("sphere", radius=1.0)], 2.0
    if shape == "cylinder":
        return [make_body("cylinder", radius=1.0, length=ratio)], min(2.0, ratio)
    if shape == "ellipsoid":
        return ([make_body("ellipsoid", radius_equatorial=1.0, radius_polar=ratio)],
                2 * min(1.0, ratio))
    raise SaxsimInputError(f"no voxel table for shape {shape!r}")


def _unit_parts(shape: str, ratio: float, voxels: int, supersample: int):
    """Unit-contrast voxel blocks of the dimensionless geometry (axis along z, centre at
    index ``reach``), the voxel size and the largest extent (units of the first length)."""
    bodies, feature = _unit_geometry(shape, ratio)
    half = np.max([s.half_extent() for b in bodies for s, _ in b.parts], axis=0)
    extent = 2 * half.max()
    d = feature / voxels
    box_voxels = np.prod(2 * half / d + 3)
    if box_voxels > MAX_VOXELS:           # coarser grid for thin shells / long rods
        d *= (box_voxels / MAX_VOXELS) ** (1 / 3)
    # a rectangular block around the particle (centre at index reach): no cubic box needed
    reach = np.ceil(half / d).astype(int) + 1

    def coords(i):
        return i * d

    # every shape here is symmetric under x -> -x, y -> -y, z -> -z in its own frame:
    # rasterise the positive octant (indices 0 … reach) and mirror it (8× less work)
    octant = reach + 1
    parts = []
    for b in bodies:
        octa = np.zeros(octant)
        for s, _ in b.parts:
            octa += voxel_fractions(s, coords, d, np.zeros(3, int), octant, supersample)
        # index reach + i holds octant[i]; index reach - i holds it too (mirror)
        full = octa
        for axis in range(3):
            mirrored = np.flip(np.take(full, np.arange(1, full.shape[axis]), axis=axis), axis)
            full = np.concatenate([mirrored, full], axis=axis)
        parts.append(full)
    return parts, d, extent, reach


def _build_table(shape: str, ratio: float, voxels: int, supersample: int,
                 u_max: float) -> Table:
    parts, d, extent, _ = _unit_parts(shape, ratio, voxels, supersample)
    profiles = lattice_debye_parts(parts, d)
    # u grid: log-spaced at small u, then linear with ≥ 12 points per oscillation period
    # (period 2π/extent in u for the largest dimension)
    du = 2 * np.pi / extent / 32
    u_lin0 = min(u_max, 0.5 / extent * 2 * np.pi)
    u = np.unique(np.concatenate([np.geomspace(1e-4, u_lin0, 64),
                                  np.arange(u_lin0, u_max + du, du)]))
    corr = isotropic_correction("deconvolve", np.minimum(u * d, 2 * np.pi))
    splines = {k: CubicSpline(u, p.amplitude2(u) * corr) for k, p in profiles.items()}
    return Table(u, splines, d, np.pi / (2 * d))


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


def _build_axial_table(shape: str, ratio: float, voxels: int, supersample: int,
                       per_period: int = 20) -> AxialTable:
    from scipy.interpolate import RectBivariateSpline
    from scipy.special import j0
    parts, d, _, reach = _unit_parts(shape, ratio, voxels, supersample)
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
    tab = _build_axial_table("sphere", 1.0, voxels, supersample)
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
    from .geometry.shapes import axis_from_angles
    axis = axis_from_angles(theta, phi)
    helper = np.array([0.0, 0.0, 1.0]) if abs(axis[2]) < 0.9 else np.array([1.0, 0.0, 0.0])
    e1 = np.cross(helper, axis)
    e1 /= np.linalg.norm(e1)
    e2 = np.cross(axis, e1)
    return np.stack([e1, e2, axis])


AUTO_LEVELS = (DEFAULT_VOXELS, 2 * DEFAULT_VOXELS, 4 * DEFAULT_VOXELS)


def _auto_voxels(feature: float, u_max: float) -> int:
    """Automatic voxels across the smallest feature (first length = 1): the first of 24, 48,
    96 with q·d ≤ π at the largest requested u = q·s (few levels, so the cache is reused)."""
    for level in AUTO_LEVELS:
        if u_max * feature / level <= np.pi:
            return level
    return AUTO_LEVELS[-1]


class NumericalDensityModel:
    """Cached evaluator: ``iq(q, shape, dims, slds)`` -> |F|²·1e-4 (sasmodels ``Iq`` units)."""

    def __init__(self, supersample: int = 3, cache_size: int = CACHE_SIZE):
        self.supersample = supersample
        self.cache: OrderedDict = OrderedDict()
        self.cache_size = cache_size
        self._lock = threading.Lock()
        self._warned: set = set()
        self.builds = 0

    def _store(self, key, value) -> None:
        """Insert a freshly built table, evicting the least recently used beyond the limit."""
        with self._lock:
            self.builds += 1
            self.cache[key] = value
            self.cache.move_to_end(key)
            while len(self.cache) > self.cache_size:
                self.cache.popitem(last=False)

    def _table(self, shape: str, ratio_index: int | None, voxels: int, u_max: float,
               supersample: int) -> Table:
        key = (shape, ratio_index, voxels, supersample)
        with self._lock:
            tab = self.cache.get(key)
            if tab is not None and tab.u[-1] >= u_max:
                self.cache.move_to_end(key)
                return tab
        ratio = 1.0 if ratio_index is None else float(np.exp(ratio_index * RATIO_STEP[shape]))
        need = max(u_max, tab.u[-1] * 2 if tab is not None else 0.0)
        tab = _build_table(shape, ratio, voxels, supersample, need * 1.25)
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

    def _core_shell_amplitude(self, q: np.ndarray, dims: dict, contrasts: list[float],
                              voxels: int, supersample: int) -> np.ndarray:
        """Concentric spheres add as amplitudes: A = c_shell·A_{R+t} + (c_core − c_shell)·A_R
        with A_r(q) = r³·A_1(q·r); one sphere table serves every radius and thickness, so the
        core-shell sphere needs no aspect-ratio grid (2·voxels across the sphere)."""
        r_core, t = float(dims["radius"]), float(dims["thickness"])
        if not (r_core > 0 and t > 0):
            raise SaxsimInputError(f"radius and thickness must be > 0 Å, got {r_core}, {t}")
        r_out = r_core + t
        q = np.abs(q)
        u_max = float(q.max()) * r_out if q.size else 1.0
        if not voxels:
            voxels = _auto_voxels(2.0, u_max) // 2
        spl = self._sphere_amplitude(2 * voxels, u_max, supersample)
        return contrasts[0] * r_out ** 3 * spl(q * r_out) + contrasts[1] * r_core ** 3 * spl(
            q * r_core)

    def iq(self, q: np.ndarray, shape: str, dims: dict, contrasts: list[float],
           voxels: int | None = None, supersample: int | None = None) -> np.ndarray:
        """|F(q)|²·1e-4 for one geometry: ``dims`` in Å (sasmodels names), ``contrasts`` the
        part contrasts in 1e-6/Å² (one value, two for core_shell_sphere). ``voxels``: voxels
        across the smallest feature, 0/None = automatic (24, 48 or 96 so that q·d ≤ π);
        ``supersample``: sub-voxels per axis on the surface (default 3)."""
        if shape not in SHAPES:
            raise SaxsimInputError(f"unknown shape {shape!r}; choose one of {SHAPES}")
        q = np.asarray(q, float)
        self._check_units(q)
        voxels = int(voxels or 0)
        supersample = int(supersample or self.supersample)
        if shape == "core_shell_sphere":
            return self._core_shell_amplitude(q, dims, contrasts, voxels,
                                              supersample) ** 2 * 1e-4
        first, second = LENGTHS[shape]
        s = float(dims[first])
        if not (s > 0 and np.isfinite(s)):
            raise SaxsimInputError(f"{first} must be > 0 Å, got {s}")
        u = np.abs(q) * s
        u_max = float(u.max()) if u.size else 1.0
        ratio = 1.0 if second is None else float(dims[second]) / s
        if not voxels:
            voxels = _auto_voxels(_unit_geometry(shape, ratio)[1], u_max)
        if second is None:
            tab = self._table(shape, None, voxels, u_max, supersample)
            a2 = tab.amplitude2(u, contrasts)
            self._check_range(tab, u_max, shape, s)
        else:
            r = float(dims[second]) / s
            if not (r > 0 and np.isfinite(r)):
                raise SaxsimInputError(f"{second} must be > 0 Å, got {dims[second]}")
            x = np.log(r) / RATIO_STEP[shape]
            k = int(np.floor(x))
            w = x - k
            lo = self._table(shape, k, voxels, u_max, supersample)
            a2 = lo.amplitude2(u, contrasts)
            if w > 1e-9:
                hi = self._table(shape, k + 1, voxels, u_max, supersample)
                a2 = (1 - w) * a2 + w * hi.amplitude2(u, contrasts)
            self._check_range(lo, u_max, shape, s)
        return a2 * s ** 6 * 1e-4

    def _table3d(self, shape: str, ratio: float, voxels: int, supersample: int) -> AxialTable:
        key = ("2d", shape, round(ratio, 9), voxels, supersample)
        with self._lock:
            tab = self.cache.get(key)
            if tab is not None:
                self.cache.move_to_end(key)
                return tab
        tab = _build_axial_table(shape, ratio, voxels, supersample)
        self._store(key, tab)
        return tab

    def iqxy(self, qx: np.ndarray, qy: np.ndarray, shape: str, dims: dict,
             contrasts: list[float], theta: float, phi: float,
             voxels: int | None = None, supersample: int | None = None) -> np.ndarray:
        """|F(qx, qy)|²·1e-4 of the particle with its axis at (θ, φ) degrees, beam along z
        (sasmodels' frame); qx, qy in 1/Å."""
        if shape not in SHAPES:
            raise SaxsimInputError(f"unknown shape {shape!r}; choose one of {SHAPES}")
        qx, qy = np.broadcast_arrays(np.asarray(qx, float), np.asarray(qy, float))
        voxels = int(voxels or 0)
        supersample = int(supersample or self.supersample)
        if shape == "core_shell_sphere":     # isotropic: the 1D amplitude at |q|
            return self._core_shell_amplitude(np.hypot(qx, qy), dims, contrasts, voxels,
                                              supersample) ** 2 * 1e-4
        first, second = LENGTHS[shape]
        s = float(dims[first])
        q_lab = np.stack([qx, qy, np.zeros_like(qx)], axis=-1)
        u_par = q_lab @ _axis_frame(theta, phi).T * s
        # exact aspect ratio here: interpolating between ratios would smear the sharp
        # fringes of an oriented pattern (q·L/2 of tens of radians at high q)
        ratio = 1.0 if second is None else float(dims[second]) / s
        if not voxels:
            u_max = float(np.abs(u_par).max()) if u_par.size else 1.0
            voxels = _auto_voxels(_unit_geometry(shape, ratio)[1], u_max)
        a2 = self._table3d(shape, ratio, voxels, supersample).amplitude2(u_par, contrasts)
        return a2 * s ** 6 * 1e-4

    def _check_units(self, q: np.ndarray) -> None:
        if q.size and np.abs(q).max() > 2.0 and "units" not in self._warned:
            self._warned.add("units")
            warnings.warn(f"numerical_density: q up to {np.abs(q).max():.3g} 1/Å is unusually "
                          f"large for SAS; is the data's q in 1/nm? (sasmodels uses 1/Å)",
                          stacklevel=3)

    def _check_range(self, tab: Table, u_max: float, shape: str, scale: float) -> None:
        if u_max > 2 * tab.u_trusted and shape not in self._warned:
            self._warned.add(shape)
            warnings.warn(
                f"numerical_density ({shape}): q up to {u_max / scale:.3g} 1/Å is beyond the "
                f"trusted {2 * tab.u_trusted / scale:.3g} 1/Å (q·d = π) for this size and "
                f"voxel count; raise the 'voxels' parameter (0 = automatic) for higher q",
                stacklevel=3)


#: one shared evaluator per process (its cache is the only global state; key = geometry)
MODEL = NumericalDensityModel()


def form_volume(shape: str, dims: dict) -> float:
    """Particle volume (Å³) used for sasmodels' normalisation (outer volume for core-shell)."""
    return make_body(shape, **{k: v for k, v in dims.items()}).volume


def dims_for(shape: str, radius: float, length: float, radius_polar: float,
             radius_equatorial: float, thickness: float) -> dict:
    """The lengths of ``shape`` from the plugin's full parameter list (Å)."""
    if shape == "sphere":
        return {"radius": radius}
    if shape == "cylinder":
        return {"radius": radius, "length": length}
    if shape == "ellipsoid":
        return {"radius_polar": radius_polar, "radius_equatorial": radius_equatorial}
    return {"radius": radius, "thickness": thickness}


def contrasts_for(shape: str, sld: float, sld_solvent: float, sld_core: float,
                  sld_shell: float) -> list[float]:
    """Part contrasts (1e-6/Å²): shell-sphere then core-sphere for core_shell_sphere."""
    if shape == "core_shell_sphere":
        return [sld_shell - sld_solvent, sld_core - sld_shell]
    return [sld - sld_solvent]
