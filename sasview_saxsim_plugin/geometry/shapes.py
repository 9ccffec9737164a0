"""Shapes as small classes: a conservative signed distance and a bounding box.

A shape only has to say, for points given relative to its centre (Å), a value ``f`` that is
negative inside, positive outside and never larger in magnitude than the true distance to the
surface (a Lipschitz-1 bound). The rasteriser uses ``|f|`` to decide which voxels are cut by
the surface and supersamples only those. Adding a shape = one class with three members.

Orientation follows the thesis 3.1.7 and sasmodels: the axis of a rotated shape is
(sinθ·cosφ, sinθ·sinφ, cosθ); θ = 0 is along z (the beam axis of the 2D detector slice).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import require_positive


def axis_from_angles(theta_deg: float, phi_deg: float) -> np.ndarray:
    """Unit axis vector for polar angle θ (from z) and azimuth φ (from x), degrees."""
    t, p = np.radians(theta_deg), np.radians(phi_deg)
    return np.array([np.sin(t) * np.cos(p), np.sin(t) * np.sin(p), np.cos(t)])


def _axial_radial(x, y, z, axis):
    axial = x * axis[0] + y * axis[1] + z * axis[2]
    r2 = x * x + y * y + z * z - axial * axial
    return axial, np.sqrt(np.maximum(r2, 0.0))


@dataclass
class Shape:
    """Base class. ``center`` in Å (box coordinates, origin at the box centre)."""

    center: np.ndarray = field(default_factory=lambda: np.zeros(3), kw_only=True)

    def distance_bound(self, x, y, z) -> np.ndarray:
        """Signed distance bound (Å) at points relative to the centre; < 0 inside."""
        raise NotImplementedError

    def distance_estimate(self, x, y, z) -> np.ndarray:
        """Signed distance (Å) accurate to first order near the surface; used to anti-alias
        sub-voxels. Defaults to :meth:`distance_bound` (exact for spheres and cylinder faces)."""
        return self.distance_bound(x, y, z)

    def half_extent(self) -> np.ndarray:
        """Half-widths (Å) of an axis-aligned box around the centre that holds the shape."""
        raise NotImplementedError

    @property
    def volume(self) -> float:
        """Exact volume (Å³)."""
        raise NotImplementedError

    def scaled(self, factor: float) -> Shape:
        """The same shape with every length multiplied by ``factor`` (centre unchanged)."""
        raise NotImplementedError

    def min_feature(self) -> float:
        """Smallest dimension (Å) the grid must resolve."""
        raise NotImplementedError


@dataclass
class Sphere(Shape):
    """Sphere of ``radius`` (Å)."""

    radius: float

    def __post_init__(self):
        self.radius = require_positive("radius", self.radius, "Å")

    def distance_bound(self, x, y, z):
        return np.sqrt(x * x + y * y + z * z) - self.radius

    def half_extent(self):
        return np.full(3, self.radius)

    @property
    def volume(self):
        return 4.0 / 3.0 * np.pi * self.radius ** 3

    def min_feature(self):
        return 2 * self.radius

    def scaled(self, factor):
        return Sphere(self.radius * factor, center=self.center)


@dataclass
class Cylinder(Shape):
    """Right circular cylinder: ``radius``, ``length`` (Å), axis at (``theta``, ``phi``) degrees."""

    radius: float
    length: float
    theta: float = 0.0
    phi: float = 0.0

    def __post_init__(self):
        self.radius = require_positive("radius", self.radius, "Å")
        self.length = require_positive("length", self.length, "Å")
        self.axis = axis_from_angles(self.theta, self.phi)

    def distance_bound(self, x, y, z):
        axial, radial = _axial_radial(x, y, z, self.axis)
        return np.maximum(radial - self.radius, np.abs(axial) - 0.5 * self.length)

    def half_extent(self):
        # the cylinder is the sweep of a disc of radius R along the axis: per coordinate axis e,
        # half-width = L/2·|a·e| + R·sqrt(1 - (a·e)²)
        a = np.abs(self.axis)
        return 0.5 * self.length * a + self.radius * np.sqrt(np.clip(1 - a * a, 0, 1))

    @property
    def volume(self):
        return np.pi * self.radius ** 2 * self.length

    def min_feature(self):
        return min(2 * self.radius, self.length)

    def scaled(self, factor):
        return Cylinder(self.radius * factor, self.length * factor, self.theta, self.phi,
                        center=self.center)


@dataclass
class Ellipsoid(Shape):
    """Spheroid as in sasmodels' ``ellipsoid``: ``radius_polar`` along the axis (θ, φ),
    ``radius_equatorial`` perpendicular to it (Å)."""

    radius_polar: float
    radius_equatorial: float
    theta: float = 0.0
    phi: float = 0.0

    def __post_init__(self):
        self.radius_polar = require_positive("radius_polar", self.radius_polar, "Å")
        self.radius_equatorial = require_positive("radius_equatorial", self.radius_equatorial, "Å")
        self.axis = axis_from_angles(self.theta, self.phi)

    def distance_bound(self, x, y, z):
        axial, radial = _axial_radial(x, y, z, self.axis)
        rho = np.sqrt((axial / self.radius_polar) ** 2 + (radial / self.radius_equatorial) ** 2)
        # the map p -> p/semi-axes stretches distances by at most 1/min(semi-axes), so
        # min(semi-axes)·(rho - 1) never exceeds the true distance to the surface
        return min(self.radius_polar, self.radius_equatorial) * (rho - 1.0)

    def distance_estimate(self, x, y, z):
        # (rho - 1)/|grad rho|: exact on the surface, first order near it
        axial, radial = _axial_radial(x, y, z, self.axis)
        a, b = axial / self.radius_polar, radial / self.radius_equatorial
        rho = np.sqrt(a * a + b * b)
        grad = np.sqrt((a / self.radius_polar) ** 2 + (b / self.radius_equatorial) ** 2)
        return (rho - 1.0) * rho / np.maximum(grad, 1e-300)

    def half_extent(self):
        a = np.abs(self.axis)
        return np.sqrt((self.radius_polar * a) ** 2 + (self.radius_equatorial ** 2) * (1 - a * a))

    @property
    def volume(self):
        return 4.0 / 3.0 * np.pi * self.radius_polar * self.radius_equatorial ** 2

    def min_feature(self):
        return 2 * min(self.radius_polar, self.radius_equatorial)

    def scaled(self, factor):
        return Ellipsoid(self.radius_polar * factor, self.radius_equatorial * factor,
                         self.theta, self.phi, center=self.center)


@dataclass
class Body:
    """A particle as a superposition of shapes with SLD contrasts (1e-6/Å²).

    Overlapping parts add, so a core-shell sphere is shell-sphere·(shell - solvent) +
    core-sphere·(core - shell).
    """

    parts: list[tuple[Shape, float]]
    #: smallest feature (Å) when it is not that of a part (e.g. a shell thickness)
    feature: float | None = None

    def min_feature(self) -> float:
        """Smallest dimension (Å) the grid must resolve."""
        own = min(s.min_feature() for s, _ in self.parts)
        return own if self.feature is None else min(own, self.feature)

    @property
    def volume(self) -> float:
        """Volume of the outermost part (Å³), the particle volume sasmodels normalises by."""
        return max(shape.volume for shape, _ in self.parts)

    def scaled(self, factor: float) -> Body:
        feature = None if self.feature is None else self.feature * factor
        return Body([(s.scaled(factor), c) for s, c in self.parts], feature)
