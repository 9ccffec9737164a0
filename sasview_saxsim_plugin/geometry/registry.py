"""The shape registry: everything the package knows about a particle shape, in one entry.

Each :class:`ShapeSpec` says, with sasmodels' parameter names and units, which parameters the
shape has, how to build its voxelisable parts from them, which part contrasts its SLDs give,
and which sasmodels model is its analytical counterpart. The rasteriser (:func:`make_body`),
the numerical model's tables, the sasmodels plugin models (``models/``), the CLI options, the
comparisons and the GUI all read this registry, so adding a shape is one :func:`register`
call (docs: "Adding a shape").

Lengths in Å, SLDs in 1e-6/Å², angles in degrees. Orientation follows sasmodels: the axis of
an oriented shape is (sinθ·cosφ, sinθ·sinφ, cosθ), θ = 0 along z (the beam).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from ..errors import SaxsimInputError, require_positive
from .shapes import Body, Cylinder, Ellipsoid, Shape, Sphere

INF = float("inf")


@dataclass(frozen=True)
class Parameter:
    """One model parameter, as a row of a sasmodels ``parameters`` table.

    ``kind``: ``"volume"`` (a geometry parameter: polydispersity allowed, passed to
    sasmodels' ``form_volume``), ``"sld"`` or ``""`` (plain). A geometry parameter is a length
    (units ``"Ang"``) or a dimensionless shape number (an exponent, a ratio, a count) with a
    ``grid_step``: the numerical model tabulates it on a grid of that step and interpolates.
    """

    name: str
    units: str
    default: float
    limits: tuple[float, float]
    kind: str
    description: str
    grid_step: float = 0.0

    @property
    def is_length(self) -> bool:
        """A length in Å (a geometry parameter the tables scale with)."""
        return self.kind == "volume" and self.units == "Ang"

    @property
    def is_number(self) -> bool:
        """A dimensionless geometry parameter (tabulated on a grid of ``grid_step``)."""
        return self.kind == "volume" and self.units != "Ang"

    def as_sasmodels_row(self) -> list:
        """``[name, units, default, [lower, upper], type, description]``."""
        return [self.name, self.units, self.default, list(self.limits), self.kind,
                self.description]


def length(name: str, default: float, description: str) -> Parameter:
    """A length parameter in Å (> 0, polydisperse in sasmodels)."""
    return Parameter(name, "Ang", default, (0.0, INF), "volume", description)


def number(name: str, default: float, description: str, limits: tuple[float, float],
           grid_step: float) -> Parameter:
    """A dimensionless geometry parameter (an exponent, an axis ratio, a number of turns)
    within ``limits``; the numerical model tabulates it every ``grid_step`` and
    interpolates linearly in between."""
    if not grid_step > 0:
        raise ValueError(f"number {name!r}: grid_step must be > 0")
    return Parameter(name, "", default, tuple(limits), "volume", description, float(grid_step))


def sld(name: str, default: float, description: str) -> Parameter:
    """A scattering length density in 1e-6/Å²."""
    return Parameter(name, "1e-6/Ang^2", default, (-INF, INF), "sld", description)


#: the particle axis of oriented shapes (plain parameters: sasmodels reserves theta/phi for
#: its own orientation dispersion, which Python models cannot have)
AXIS_PARAMETERS = (
    Parameter("axis_theta", "degrees", 60.0, (-360.0, 360.0), "",
              "particle axis: polar angle from the beam (2D data only)"),
    Parameter("axis_phi", "degrees", 60.0, (-360.0, 360.0), "",
              "particle axis: azimuth on the detector (2D data only)"),
)


@dataclass(frozen=True)
class ShapeSpec:
    """A registered shape.

    ``parameters``: its own parameters in sasmodels order (lengths and SLDs, not scale,
    background or orientation). ``parts(dims, theta, phi, center)``: the unit-contrast
    shapes whose weighted sum is the particle. ``contrasts(slds)``: one contrast per part
    (1e-6/Å²) from the SLD parameters. ``sasmodels_name``: the analytical counterpart,
    which takes the same parameter names (its orientation is ``theta``/``phi``, the plugin
    model's ``axis_theta``/``axis_phi``).

    What the plugin engine (``models/engine.py``) assumes of the parts: centred at the
    origin and symmetric under x -> -x, y -> -y, z -> -z in the particle's frame (it
    voxelises one octant and mirrors it; off-centre parts are refused there), and, for
    ``oriented`` shapes, axially symmetric about z. ``saxsim compare`` / ``simulate``
    rasterise the whole body and need neither.
    """

    name: str
    title: str
    description: str
    parameters: tuple[Parameter, ...]
    parts: Callable[..., list[Shape]]
    contrasts: Callable[[dict], list[float]]
    sasmodels_name: str | None = None
    #: axisymmetric about an axis at (θ, φ): CLI --theta/--phi, 2D through the axial table
    oriented: bool = False
    #: the parts are concentric spheres of these radii (dims -> radii): the numerical model
    #: then adds one sphere amplitude per part instead of tabulating aspect ratios
    concentric_radii: Callable[[dict], list[float]] | None = None
    #: grid step in ln(length / scale length) of the numerical model's aspect-ratio tables
    ratio_step: float = 0.05
    #: the length that sets the scale of the numerical tables (default: the first); the
    #: others enter as ratios to it, interpolated linearly, so the best choice is the length
    #: the volume depends on most (an ellipsoid's equatorial radius, squared in its volume)
    scale_length: str | None = None
    #: smallest feature (Å) when it is not that of a part (a shell thickness)
    feature: Callable[[dict], float] | None = None
    #: largest distance from the centre to the surface (Å): sasmodels' "outer radius"
    outer_radius: Callable[[dict], float] | None = None
    #: q (1/Å) and parameters at which ``models/`` checks the plugin against the analytical
    #: counterpart (sasmodels ``tests``); the expected values come from sasmodels itself
    checks: tuple = field(default=())
    #: the parts are symmetric under x -> -x, y -> -y, z -> -z and centred (the plugin engine
    #: then voxelises one octant and mirrors it); False: the whole particle is voxelised
    centrosymmetric: bool = True
    #: particle volume (Å³) from the geometry parameters when the parts have no exact volume
    #: (shapes composed of solids: the union's voxel volume, ``geometry.definitions``)
    volume_of: Callable[[dict], float] | None = None
    #: the source text of a definition (None: a built-in shape), for plugin files
    source: str | None = None
    #: the file (or plugin) a definition was loaded from
    origin: str | None = None
    #: fewest voxels across the smallest feature the automatic grid may use (0: the engine's
    #: default): near-cubes need more than curved shapes at high q
    min_voxels: int = 0

    @cached_property
    def key(self) -> str:
        """Identity for caches: the name, plus the source's checksum for a definition (a
        definition edited and reloaded under the same name gets new tables)."""
        if self.source is None:
            return self.name
        return f"{self.name}@{hashlib.sha256(self.source.encode()).hexdigest()[:16]}"

    @cached_property
    def volume_names(self) -> tuple[str, ...]:
        """Names of the geometry parameters (lengths and shape numbers) in parameter order
        (sasmodels passes them so to ``form_volume``)."""
        return tuple(p.name for p in self.parameters if p.kind == "volume")

    @cached_property
    def lengths(self) -> tuple[str, ...]:
        """Names of the length parameters, the one that sets the scale of the tables first."""
        names = tuple(p.name for p in self.parameters if p.is_length)
        first = self.scale_length or names[0]
        return (first, *(n for n in names if n != first))

    @cached_property
    def numbers(self) -> tuple[str, ...]:
        """Names of the dimensionless geometry parameters (tabulated on grids)."""
        return tuple(p.name for p in self.parameters if p.is_number)

    def parameter(self, name: str) -> Parameter:
        """The parameter ``name``."""
        for p in self.parameters:
            if p.name == name:
                return p
        raise KeyError(name)

    def check_geometry(self, dims: dict) -> None:
        """Raise :class:`SaxsimInputError` unless every length is finite and > 0 and every
        shape number finite and within its limits."""
        for name in self.lengths:
            if name not in dims:
                raise SaxsimInputError(f"shape {self.name!r} needs the length {name!r} (Å)")
            require_positive(name, dims[name], "Å")
        for name in self.numbers:
            lo, hi = self.parameter(name).limits
            value = float(dims.get(name, self.parameter(name).default))
            if not (np.isfinite(value) and lo <= value <= hi):
                raise SaxsimInputError(f"{name} must lie in [{lo:g}, {hi:g}], got {value!r}")

    def valid(self, dims: dict) -> bool:
        """Whether ``dims`` is a usable geometry (see :meth:`check_geometry`)."""
        try:
            self.check_geometry(dims)
        except SaxsimInputError:
            return False
        return True

    @cached_property
    def sld_names(self) -> tuple[str, ...]:
        """Names of the SLD parameters (sld_solvent included)."""
        return tuple(p.name for p in self.parameters if p.kind == "sld")

    def defaults(self) -> dict:
        """Every parameter at its default value."""
        return {p.name: p.default for p in self.parameters}

    def split(self, values: dict) -> tuple[dict, dict]:
        """(lengths, SLDs) of ``values`` (defaults filled in); unknown names are an error."""
        unknown = set(values) - {p.name for p in self.parameters} - {"theta", "phi"}
        if unknown:
            raise SaxsimInputError(
                f"shape {self.name!r} has no parameter(s) {', '.join(sorted(unknown))}; it "
                f"has {', '.join(p.name for p in self.parameters)}")
        full = {**self.defaults(), **values}
        return ({n: full[n] for n in (*self.lengths, *self.numbers)},
                {n: full[n] for n in self.sld_names})

    def body(self, dims: dict, slds: dict, theta: float = 0.0, phi: float = 0.0,
             center=(0.0, 0.0, 0.0)) -> Body:
        """The particle as a :class:`Body` (parts with their contrasts)."""
        self.check_geometry(dims)
        dims = {**{n: self.parameter(n).default for n in self.numbers}, **dims}
        c = np.asarray(center, float)
        parts = self.parts(dims, theta, phi, c)
        contrasts = self.contrasts(slds)
        feature = self.feature(dims) if self.feature else None
        return Body(list(zip(parts, contrasts, strict=True)), feature)

    def volume(self, dims: dict) -> float:
        """Particle volume (Å³) sasmodels normalises by: that of the outermost part (or
        ``volume_of``)."""
        if self.volume_of is not None:
            return float(self.volume_of(dims))
        return max(p.volume for p in self.parts(dims, 0.0, 0.0, np.zeros(3)))

    def radius_effective(self, dims: dict) -> float:
        """Largest distance from the centre to the surface (Å)."""
        if self.outer_radius is not None:
            return float(self.outer_radius(dims))
        shapes = self.parts(dims, 0.0, 0.0, np.zeros(3))
        return float(max(np.linalg.norm(s.half_extent()) for s in shapes))


SHAPES: dict[str, ShapeSpec] = {}


def register(spec: ShapeSpec, replace: bool = False) -> ShapeSpec:
    """Add ``spec`` to the registry (its name must be new unless ``replace``). Returns it."""
    if spec.name in SHAPES and not replace:
        raise ValueError(f"shape {spec.name!r} is registered already")
    if not any(p.is_length for p in spec.parameters):
        raise ValueError(f"shape {spec.name!r} has no length parameter")
    if spec.scale_length is not None and spec.scale_length not in spec.lengths:
        raise ValueError(f"shape {spec.name!r}: scale_length {spec.scale_length!r} is not "
                         "one of its lengths")
    SHAPES[spec.name] = spec
    return spec


def shape_names() -> tuple[str, ...]:
    """Registered shape names, in registration order."""
    return tuple(SHAPES)


def builtin_shape_names() -> tuple[str, ...]:
    """The shapes the package registers itself (not those of definitions loaded at run
    time): the ones with shipped plugin files."""
    return tuple(name for name, spec in SHAPES.items() if spec.source is None)


def get_shape(name: str) -> ShapeSpec:
    """The registered shape ``name``; an unknown name is a :class:`SaxsimInputError`."""
    try:
        return SHAPES[name]
    except KeyError:
        raise SaxsimInputError(f"unknown shape {name!r}; choose one of "
                               f"{', '.join(SHAPES)}") from None


def make_body(shape: str, *, sld: float | None = None, sld_solvent: float | None = None,
              center=(0.0, 0.0, 0.0), theta: float = 0.0, phi: float = 0.0,
              **values) -> Body:
    """A single particle of the registered ``shape`` as a :class:`Body`.

    ``values``: the shape's parameters by sasmodels name (lengths in Å, SLDs in 1e-6/Å²);
    SLDs not given take the registry defaults. ``theta``, ``phi`` (degrees): axis of an
    oriented shape."""
    spec = get_shape(shape)
    for name, value in (("sld", sld), ("sld_solvent", sld_solvent)):
        if value is not None and name in spec.sld_names:
            values.setdefault(name, value)
    if sld_solvent is not None and "sld_solvent" not in spec.sld_names:
        raise SaxsimInputError(f"shape {shape!r} has no sld_solvent")
    dims, slds = spec.split(values)
    missing = [n for n in spec.lengths if n not in values]    # split filled in defaults
    return spec.body({n: v for n, v in dims.items() if n not in missing}, slds, theta, phi,
                     center)


# --- the shapes --------------------------------------------------------------------------

def _one_contrast(slds: dict) -> list[float]:
    return [slds["sld"] - slds["sld_solvent"]]


def solid_slds(particle: float, solvent: float) -> tuple[Parameter, Parameter]:
    """``sld`` and ``sld_solvent`` with the defaults of the sasmodels counterpart."""
    return sld("sld", particle, "particle SLD"), sld("sld_solvent", solvent, "solvent SLD")


register(ShapeSpec(
    name="sphere",
    title="Sphere (voxelised)",
    description="A homogeneous sphere of radius *radius*.",
    parameters=solid_slds(1.0, 6.0) + (length("radius", 50.0, "sphere radius"),),
    parts=lambda d, theta, phi, c: [Sphere(d["radius"], center=c)],
    contrasts=_one_contrast,
    sasmodels_name="sphere",
    outer_radius=lambda d: d["radius"],
    checks=({"radius": 60.0, "sld": 3.0, "sld_solvent": 1.0}, (0.002, 0.02, 0.04, 0.065)),
))

register(ShapeSpec(
    name="cylinder",
    title="Right circular cylinder (voxelised)",
    description="A homogeneous right circular cylinder of radius *radius* and length *length*.",
    parameters=solid_slds(4.0, 1.0) + (length("radius", 20.0, "cylinder radius"),
                             length("length", 400.0, "cylinder length")),
    parts=lambda d, theta, phi, c: [Cylinder(d["radius"], d["length"], theta, phi, center=c)],
    contrasts=_one_contrast,
    sasmodels_name="cylinder",
    oriented=True,
    outer_radius=lambda d: float(np.hypot(d["radius"], 0.5 * d["length"])),
    checks=({"radius": 20.0, "length": 200.0}, (0.002, 0.01, 0.03, 0.08)),
))

register(ShapeSpec(
    name="ellipsoid",
    title="Ellipsoid of revolution (voxelised)",
    description="A spheroid: *radius_polar* along its axis, *radius_equatorial* across it.",
    parameters=solid_slds(4.0, 1.0) + (length("radius_polar", 20.0,
                                               "polar radius (along the axis)"),
                             length("radius_equatorial", 400.0, "equatorial radius")),
    parts=lambda d, theta, phi, c: [Ellipsoid(d["radius_polar"], d["radius_equatorial"], theta,
                                              phi, center=c)],
    contrasts=_one_contrast,
    sasmodels_name="ellipsoid",
    oriented=True,
    outer_radius=lambda d: max(d["radius_polar"], d["radius_equatorial"]),
    scale_length="radius_equatorial",
    checks=({"radius_polar": 30.0, "radius_equatorial": 60.0}, (0.002, 0.02, 0.04, 0.07)),
))

register(ShapeSpec(
    name="core_shell_sphere",
    title="Core-shell sphere (voxelised)",
    description="A sphere of radius *radius* and SLD *sld_core* in a shell of thickness "
                "*thickness* and SLD *sld_shell*.",
    parameters=(length("radius", 60.0, "core radius"),
                length("thickness", 10.0, "shell thickness"),
                sld("sld_core", 1.0, "core SLD"), sld("sld_shell", 2.0, "shell SLD"),
                sld("sld_solvent", 3.0, "solvent SLD")),
    # overlapping parts add: shell sphere·(shell - solvent) + core sphere·(core - shell)
    parts=lambda d, theta, phi, c: [Sphere(d["radius"] + d["thickness"], center=c),
                                    Sphere(d["radius"], center=c)],
    contrasts=lambda s: [s["sld_shell"] - s["sld_solvent"], s["sld_core"] - s["sld_shell"]],
    sasmodels_name="core_shell_sphere",
    concentric_radii=lambda d: [d["radius"] + d["thickness"], d["radius"]],
    feature=lambda d: d["thickness"],
    outer_radius=lambda d: d["radius"] + d["thickness"],
    checks=({"radius": 40.0, "thickness": 15.0, "sld_core": 1.0, "sld_shell": 2.0,
             "sld_solvent": 0.5}, (0.002, 0.02, 0.045, 0.07)),
))

# the worked example of docs/howto/adding_a_shape.md: one entry, and the CLI, the plugin model
# numerical_core_shell_cylinder, the comparison with sasmodels and the GUI pick it up
register(ShapeSpec(
    name="core_shell_cylinder",
    title="Core-shell cylinder (voxelised)",
    description="A cylinder of radius *radius*, length *length* and SLD *sld_core* in a shell "
                "of thickness *thickness* and SLD *sld_shell* around its side and both ends.",
    parameters=(sld("sld_core", 4.0, "core SLD"), sld("sld_shell", 4.0, "shell SLD"),
                sld("sld_solvent", 1.0, "solvent SLD"),
                length("radius", 20.0, "core radius"),
                length("thickness", 20.0, "shell thickness"),
                length("length", 400.0, "core length")),
    parts=lambda d, theta, phi, c: [
        Cylinder(d["radius"] + d["thickness"], d["length"] + 2 * d["thickness"], theta, phi,
                 center=c),
        Cylinder(d["radius"], d["length"], theta, phi, center=c)],
    contrasts=lambda s: [s["sld_shell"] - s["sld_solvent"], s["sld_core"] - s["sld_shell"]],
    sasmodels_name="core_shell_cylinder",
    oriented=True,
    feature=lambda d: d["thickness"],
    outer_radius=lambda d: float(np.hypot(d["radius"] + d["thickness"],
                                          0.5 * d["length"] + d["thickness"])),
    checks=({"radius": 20.0, "thickness": 10.0, "length": 200.0, "sld_core": 1.0,
             "sld_shell": 3.0, "sld_solvent": 0.0}, (0.002, 0.01, 0.03, 0.06)),
))
