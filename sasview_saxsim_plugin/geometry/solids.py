"""Solids as signed distance functions, and the operations that compose them.

A :class:`Solid` says, for points (x, y, z) in Å, a value that is negative inside, positive
outside and never larger in magnitude than the true distance to the surface (a Lipschitz-1
bound), plus an axis-aligned box that holds it and its smallest feature. The anti-aliased
rasteriser (``raster.voxel_fractions``) needs nothing else: voxels farther from the surface
than half a voxel diagonal are classified from their centre, the others supersampled with a
linear ramp of the distance, so voxel fractions, and every I(q) computed from them, change
smoothly with the solid's parameters.

Primitives (centred at the origin, axis along z): :class:`Ball`, :class:`Box`,
:class:`RoundedBox`, :class:`Cylinder`, :class:`Ellipsoid`, :class:`Superellipsoid`,
:class:`Torus`, :class:`Helix`, :class:`Polyhedron` (convex, from its vertices) and
:class:`HalfSpace`. Operations: ``a | b`` (union), ``a & b`` (intersection), ``a - b``
(difference), ``a.translated(dx, dy, dz)``, ``a.rotated(axis, degrees)``. min/max of
distance bounds are distance bounds again (Hart 1996, "Sphere tracing"), so every
composition stays a valid input to the rasteriser. Lengths in Å.
"""

from __future__ import annotations

import numpy as np

from ..errors import SaxsimInputError, require_positive

INF = float("inf")


def _arrays(x, y, z):
    return np.broadcast_arrays(np.asarray(x, float), np.asarray(y, float),
                               np.asarray(z, float))


class Solid:
    """Base class of every solid. Subclasses define :meth:`distance`, :meth:`bounds` and
    :meth:`feature`; :meth:`estimate` (first-order distance near the surface, used for the
    sub-voxel ramp) defaults to :meth:`distance`."""

    def distance(self, x, y, z) -> np.ndarray:
        """Signed distance bound (Å) at points (Å): < 0 inside, never larger in magnitude
        than the true distance."""
        raise NotImplementedError

    def estimate(self, x, y, z) -> np.ndarray:
        """Signed distance (Å) accurate to first order near the surface."""
        return self.distance(x, y, z)

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """(lower, upper) corners (Å) of an axis-aligned box that holds the solid."""
        raise NotImplementedError

    def feature(self) -> float:
        """Smallest dimension (Å) a voxel grid must resolve."""
        raise NotImplementedError

    # composition -------------------------------------------------------------------------
    def __or__(self, other: Solid) -> Solid:
        return Union(self, other)

    def __and__(self, other: Solid) -> Solid:
        return Intersection(self, other)

    def __sub__(self, other: Solid) -> Solid:
        return Difference(self, other)

    def translated(self, dx: float = 0.0, dy: float = 0.0, dz: float = 0.0) -> Solid:
        """The solid moved by (dx, dy, dz) Å."""
        return Translated(self, (dx, dy, dz))

    def rotated(self, axis, degrees: float) -> Solid:
        """The solid turned by ``degrees`` about ``axis`` (a 3-vector or "x", "y", "z")
        through the origin (right-hand rule)."""
        return Rotated(self, rotation_matrix(axis, degrees))


def rotation_matrix(axis, degrees: float) -> np.ndarray:
    """Rotation by ``degrees`` about ``axis`` ("x", "y", "z" or a 3-vector), Rodrigues."""
    if isinstance(axis, str):
        try:
            axis = {"x": (1, 0, 0), "y": (0, 1, 0), "z": (0, 0, 1)}[axis.lower()]
        except KeyError:
            raise SaxsimInputError(f"rotation axis must be 'x', 'y', 'z' or a 3-vector, got "
                                   f"{axis!r}") from None
    a = np.asarray(axis, float)
    if a.shape != (3,) or not np.all(np.isfinite(a)) or not np.linalg.norm(a) > 0:
        raise SaxsimInputError(f"rotation axis must be a non-zero 3-vector, got {axis!r}")
    a = a / np.linalg.norm(a)
    t = np.radians(float(degrees))
    k = np.array([[0, -a[2], a[1]], [a[2], 0, -a[0]], [-a[1], a[0], 0]])
    return np.eye(3) + np.sin(t) * k + (1 - np.cos(t)) * (k @ k)


# --- primitives ------------------------------------------------------------------------

class Ball(Solid):
    """Sphere of ``radius`` (Å) centred at the origin."""

    def __init__(self, radius: float):
        self.radius = require_positive("radius", radius, "Å")

    def distance(self, x, y, z):
        x, y, z = _arrays(x, y, z)
        return np.sqrt(x * x + y * y + z * z) - self.radius

    def bounds(self):
        return np.full(3, -self.radius), np.full(3, self.radius)

    def feature(self):
        return 2 * self.radius


class Box(Solid):
    """Rectangular box of edge lengths ``a`` × ``b`` × ``c`` (Å) along x, y, z (exact
    distance)."""

    def __init__(self, a: float, b: float, c: float):
        self.half = np.array([require_positive("a", a, "Å"), require_positive("b", b, "Å"),
                              require_positive("c", c, "Å")]) / 2

    def distance(self, x, y, z):
        x, y, z = _arrays(x, y, z)
        qx, qy, qz = np.abs(x) - self.half[0], np.abs(y) - self.half[1], np.abs(z) - self.half[2]
        outside = np.sqrt(np.maximum(qx, 0) ** 2 + np.maximum(qy, 0) ** 2
                          + np.maximum(qz, 0) ** 2)
        return outside + np.minimum(np.maximum(np.maximum(qx, qy), qz), 0.0)

    def bounds(self):
        return -self.half.copy(), self.half.copy()

    def feature(self):
        return float(2 * self.half.min())


class RoundedBox(Solid):
    """Box ``a`` × ``b`` × ``c`` (Å) whose edges and corners are rounded with ``radius``
    (Å, at most half the shortest edge): a box shrunk by the radius, dilated by it."""

    def __init__(self, a: float, b: float, c: float, radius: float):
        self.radius = require_positive("radius", radius, "Å")
        edges = [require_positive(n, v, "Å") for n, v in (("a", a), ("b", b), ("c", c))]
        if 2 * self.radius > min(edges):
            raise SaxsimInputError(f"rounding radius {radius} Å is more than half the shortest "
                                   f"edge ({min(edges)} Å)")
        inner = [max(e - 2 * self.radius, 1e-9 * e) for e in edges]
        self.core = Box(*inner)
        self.half = np.array(edges) / 2

    def distance(self, x, y, z):
        return self.core.distance(x, y, z) - self.radius

    def bounds(self):
        return -self.half.copy(), self.half.copy()

    def feature(self):
        return float(2 * self.half.min())


class Cylinder(Solid):
    """Right circular cylinder of ``radius`` and ``length`` (Å), axis along z (exact)."""

    def __init__(self, radius: float, length: float):
        self.radius = require_positive("radius", radius, "Å")
        self.length = require_positive("length", length, "Å")

    def distance(self, x, y, z):
        x, y, z = _arrays(x, y, z)
        dr = np.hypot(x, y) - self.radius
        dz = np.abs(z) - self.length / 2
        return (np.minimum(np.maximum(dr, dz), 0.0)
                + np.hypot(np.maximum(dr, 0.0), np.maximum(dz, 0.0)))

    def bounds(self):
        h = np.array([self.radius, self.radius, self.length / 2])
        return -h, h

    def feature(self):
        return min(2 * self.radius, self.length)


class Ellipsoid(Solid):
    """Ellipsoid of semi-axes ``a``, ``b``, ``c`` (Å) along x, y, z."""

    def __init__(self, a: float, b: float, c: float):
        self.axes = np.array([require_positive("a", a, "Å"), require_positive("b", b, "Å"),
                              require_positive("c", c, "Å")])

    def _rho(self, x, y, z):
        x, y, z = _arrays(x, y, z)
        return np.sqrt((x / self.axes[0]) ** 2 + (y / self.axes[1]) ** 2
                       + (z / self.axes[2]) ** 2), (x, y, z)

    def distance(self, x, y, z):
        # p -> p/axes stretches distances by at most 1/min(axes)
        rho, _ = self._rho(x, y, z)
        return self.axes.min() * (rho - 1.0)

    def estimate(self, x, y, z):
        rho, (x, y, z) = self._rho(x, y, z)
        a, b, c = self.axes
        grad = np.sqrt((x / a ** 2) ** 2 + (y / b ** 2) ** 2 + (z / c ** 2) ** 2)
        return (rho - 1.0) * rho / np.maximum(grad, 1e-300)

    def bounds(self):
        return -self.axes.copy(), self.axes.copy()

    def feature(self):
        return float(2 * self.axes.min())


class Superellipsoid(Solid):
    """``|x/a|^(2p) + |y/b|^(2p) + |z/c|^(2p) ≤ 1``: semi-axes ``a``, ``b``, ``c`` (Å) and
    ``exponent`` p (p = 1 an ellipsoid, p → ∞ a box; sasmodels' *superball* is a = b = c
    = length_a/2). Exponents from 0.5 (an octahedron-like shape) up."""

    def __init__(self, a: float, b: float, c: float, exponent: float):
        self.axes = np.array([require_positive("a", a, "Å"), require_positive("b", b, "Å"),
                              require_positive("c", c, "Å")])
        self.p = float(exponent)
        if not (self.p >= 0.5 and np.isfinite(self.p)):
            raise SaxsimInputError(f"superellipsoid exponent must be a finite number ≥ 0.5, "
                                   f"got {exponent!r}")

    def _norm(self, x, y, z):
        x, y, z = _arrays(x, y, z)
        u = [np.abs(v) / a for v, a in zip((x, y, z), self.axes, strict=True)]
        m = np.maximum(np.maximum(u[0], u[1]), u[2])
        safe = np.where(m > 0, m, 1.0)
        s = sum((v / safe) ** (2 * self.p) for v in u)
        return m * s ** (1 / (2 * self.p)), u, safe

    def distance(self, x, y, z):
        n, _, _ = self._norm(x, y, z)
        # the 2p-norm of p/axes is Lipschitz with constant max(1, 3^(1/(2p) - 1/2)) / min(axes)
        lip = max(1.0, 3.0 ** (1 / (2 * self.p) - 0.5)) / self.axes.min()
        return (n - 1.0) / lip

    def estimate(self, x, y, z):
        n, u, m = self._norm(x, y, z)
        q = 2 * self.p
        # ∂n/∂x_i = (u_i/n)^(q-1) / a_i
        nn = np.where(n > 0, n, 1.0)
        grad = np.sqrt(sum(((ui / nn) ** (q - 1) / a) ** 2
                           for ui, a in zip(u, self.axes, strict=True)))
        return (n - 1.0) / np.maximum(grad, 1e-300)

    def bounds(self):
        return -self.axes.copy(), self.axes.copy()

    def feature(self):
        return float(2 * self.axes.min())


class Torus(Solid):
    """Ring torus in the xy plane: tube of radius ``radius_tube`` whose axis is a circle of
    radius ``radius_ring`` (Å) (exact distance; ``radius_tube`` > ``radius_ring`` makes a
    spindle torus, still a valid solid)."""

    def __init__(self, radius_ring: float, radius_tube: float):
        self.ring = require_positive("radius_ring", radius_ring, "Å")
        self.tube = require_positive("radius_tube", radius_tube, "Å")

    def distance(self, x, y, z):
        x, y, z = _arrays(x, y, z)
        return np.hypot(np.hypot(x, y) - self.ring, z) - self.tube

    def bounds(self):
        h = np.array([self.ring + self.tube, self.ring + self.tube, self.tube])
        return -h, h

    def feature(self):
        return 2 * self.tube


class Helix(Solid):
    """A tube of radius ``radius_tube`` (Å) wound along a helix of radius ``radius`` and
    ``pitch`` (rise per turn, Å) for ``turns`` turns, axis along z, centred at the origin,
    with hemispherical ends. The distance to the helical centre line is found by Newton's
    method from the nearest point of each neighbouring turn (exact to round-off where the
    tube does not overlap the next turn)."""

    def __init__(self, radius: float, pitch: float, radius_tube: float, turns: float):
        self.radius = require_positive("radius", radius, "Å")
        self.pitch = require_positive("pitch", pitch, "Å")
        self.tube = require_positive("radius_tube", radius_tube, "Å")
        self.turns = require_positive("turns", turns)
        self.h = self.pitch / (2 * np.pi)
        self.t_end = np.pi * self.turns

    def _curve_distance(self, x, y, z):
        x, y, z = _arrays(x, y, z)
        r, h = self.radius, self.h
        phi = np.arctan2(y, x)
        k0 = np.round((z / h - phi) / (2 * np.pi))
        best = np.full(x.shape, np.inf)
        for dk in (-1.0, 0.0, 1.0):
            t = np.clip(phi + 2 * np.pi * (k0 + dk), -self.t_end, self.t_end)
            for _ in range(4):
                c, s = np.cos(t), np.sin(t)
                ex, ey, ez = x - r * c, y - r * s, z - h * t
                g = -(ex * -r * s + ey * r * c + ez * h)          # d/dt of |p - c|²/2
                gp = r * r + h * h - (ex * -r * c + ey * -r * s)
                t = np.clip(t - g / np.maximum(gp, 0.1 * (r * r + h * h)), -self.t_end,
                            self.t_end)
            c, s = np.cos(t), np.sin(t)
            d = np.sqrt((x - r * c) ** 2 + (y - r * s) ** 2 + (z - h * t) ** 2)
            best = np.minimum(best, d)
        return best

    def distance(self, x, y, z):
        return self._curve_distance(x, y, z) - self.tube

    def bounds(self):
        w = self.radius + self.tube
        hz = self.h * self.t_end + self.tube
        return np.array([-w, -w, -hz]), np.array([w, w, hz])

    def feature(self):
        return 2 * self.tube


class HalfSpace(Solid):
    """Points with n·p ≤ offset (``normal`` n, any length; ``offset`` in Å along the unit
    normal). Unbounded: only useful intersected with or subtracted from a bounded solid."""

    def __init__(self, normal, offset: float = 0.0):
        n = np.asarray(normal, float)
        if n.shape != (3,) or not np.linalg.norm(n) > 0:
            raise SaxsimInputError(f"half-space normal must be a non-zero 3-vector, got "
                                   f"{normal!r}")
        self.normal = n / np.linalg.norm(n)
        self.offset = float(offset)

    def distance(self, x, y, z):
        x, y, z = _arrays(x, y, z)
        return x * self.normal[0] + y * self.normal[1] + z * self.normal[2] - self.offset

    def bounds(self):
        return np.full(3, -INF), np.full(3, INF)

    def feature(self):
        return INF


class Polyhedron(Solid):
    """Convex polyhedron, the hull of ``vertices`` ((n, 3) array, Å): the intersection of
    its face half-spaces (a distance bound, exact on the faces)."""

    def __init__(self, vertices):
        from scipy.spatial import ConvexHull, QhullError

        v = np.asarray(vertices, float)
        if v.ndim != 2 or v.shape[1] != 3 or len(v) < 4 or not np.all(np.isfinite(v)):
            raise SaxsimInputError("a polyhedron needs at least four finite 3D vertices")
        try:
            hull = ConvexHull(v)
        except QhullError:
            raise SaxsimInputError("the polyhedron's vertices are flat (no volume)") from None
        eq = np.unique(np.round(hull.equations, 12), axis=0)
        self.normals, self.offsets = eq[:, :3], -eq[:, 3]
        self.vertices = v[hull.vertices]
        self.volume = float(hull.volume)

    def distance(self, x, y, z):
        x, y, z = _arrays(x, y, z)
        out = np.full(x.shape, -INF)
        for n, o in zip(self.normals, self.offsets, strict=True):
            out = np.maximum(out, x * n[0] + y * n[1] + z * n[2] - o)
        return out

    def bounds(self):
        return self.vertices.min(axis=0), self.vertices.max(axis=0)

    def feature(self):
        # the smallest width across the faces: min over faces of the depth behind the face
        depth = [float(np.max(o - self.vertices @ n)) for n, o in
                 zip(self.normals, self.offsets, strict=True)]
        return min(depth)


# --- operations --------------------------------------------------------------------------

class _Combination(Solid):
    """Several solids combined point by point: ``_pick`` (min or max) of their distances;
    their boxes combined by ``_widest`` (a union's box holds every box, an intersection's
    lies in all of them)."""

    _pick = staticmethod(np.minimum)
    _widest = True

    def __init__(self, *solids: Solid):
        self.solids = _flatten(solids, type(self))

    def distance(self, x, y, z):
        return _reduce(self._pick, [s.distance(x, y, z) for s in self.solids])

    def estimate(self, x, y, z):
        return _reduce(self._pick, [s.estimate(x, y, z) for s in self.solids])

    def bounds(self):
        lo, hi = zip(*(s.bounds() for s in self.solids), strict=True)
        if self._widest:
            return np.min(lo, axis=0), np.max(hi, axis=0)
        return np.max(lo, axis=0), np.min(hi, axis=0)

    def feature(self):
        return min(s.feature() for s in self.solids)


class Union(_Combination):
    """Points inside any of the solids (min of the distances)."""

    _pick = staticmethod(np.minimum)
    _widest = True


class Intersection(_Combination):
    """Points inside every solid (max of the distances)."""

    _pick = staticmethod(np.maximum)
    _widest = False


class Difference(Solid):
    """Points inside ``solid`` and outside ``cut`` (max(d_solid, −d_cut))."""

    def __init__(self, solid: Solid, cut: Solid):
        self.solid, self.cut = _checked(solid), _checked(cut)

    def distance(self, x, y, z):
        return np.maximum(self.solid.distance(x, y, z), -self.cut.distance(x, y, z))

    def estimate(self, x, y, z):
        return np.maximum(self.solid.estimate(x, y, z), -self.cut.estimate(x, y, z))

    def bounds(self):
        return self.solid.bounds()

    def feature(self):
        return min(self.solid.feature(), self.cut.feature())


class Translated(Solid):
    """``solid`` moved by ``offset`` (Å)."""

    def __init__(self, solid: Solid, offset):
        self.solid = _checked(solid)
        self.offset = np.asarray(offset, float)
        if self.offset.shape != (3,) or not np.all(np.isfinite(self.offset)):
            raise SaxsimInputError(f"a translation needs three finite numbers (Å), got "
                                   f"{offset!r}")

    def distance(self, x, y, z):
        return self.solid.distance(*(np.asarray(v, float) - o
                                     for v, o in zip((x, y, z), self.offset, strict=True)))

    def estimate(self, x, y, z):
        return self.solid.estimate(*(np.asarray(v, float) - o
                                     for v, o in zip((x, y, z), self.offset, strict=True)))

    def bounds(self):
        lo, hi = self.solid.bounds()
        return lo + self.offset, hi + self.offset

    def feature(self):
        return self.solid.feature()


class Rotated(Solid):
    """``solid`` turned by the rotation ``matrix`` (3 × 3, about the origin)."""

    def __init__(self, solid: Solid, matrix: np.ndarray):
        self.solid = _checked(solid)
        self.matrix = np.asarray(matrix, float)

    def _back(self, x, y, z):
        x, y, z = _arrays(x, y, z)
        m = self.matrix            # p_body = Mᵀ p
        return (m[0, 0] * x + m[1, 0] * y + m[2, 0] * z,
                m[0, 1] * x + m[1, 1] * y + m[2, 1] * z,
                m[0, 2] * x + m[1, 2] * y + m[2, 2] * z)

    def distance(self, x, y, z):
        return self.solid.distance(*self._back(x, y, z))

    def estimate(self, x, y, z):
        return self.solid.estimate(*self._back(x, y, z))

    def bounds(self):
        lo, hi = self.solid.bounds()
        if not (np.all(np.isfinite(lo)) and np.all(np.isfinite(hi))):
            return np.full(3, -INF), np.full(3, INF)
        corners = np.array(np.meshgrid(*zip(lo, hi, strict=True), indexing="ij")).reshape(3, -1).T
        moved = corners @ self.matrix.T
        return moved.min(axis=0), moved.max(axis=0)

    def feature(self):
        return self.solid.feature()


def _checked(solid) -> Solid:
    if not isinstance(solid, Solid):
        raise SaxsimInputError(f"expected a solid (sasview_saxsim_plugin.shapes: Ball, Box, "
                               f"...), got {type(solid).__name__}")
    return solid


def _flatten(solids, kind) -> list[Solid]:
    out = []
    for s in solids:
        _checked(s)
        out.extend(s.solids if isinstance(s, kind) else [s])
    if not out:
        raise SaxsimInputError(f"a {kind.__name__.lower()} needs at least one solid")
    return out


def _reduce(op, values):
    out = values[0]
    for v in values[1:]:
        out = op(out, v)
    return out


def finite_bounds(solid: Solid) -> tuple[np.ndarray, np.ndarray]:
    """The solid's bounding box, or a :class:`SaxsimInputError` if it is unbounded or empty."""
    lo, hi = solid.bounds()
    if not (np.all(np.isfinite(lo)) and np.all(np.isfinite(hi))):
        raise SaxsimInputError("the solid is unbounded (a half-space not intersected with a "
                               "bounded solid?)")
    if np.any(hi <= lo):
        raise SaxsimInputError("the solid is empty (its parts do not overlap)")
    return lo, hi
