"""Shape definitions: a few lines of Python become a registered shape (and, through
``models/``, a fittable sasmodels plugin model).

A definition is a Python file (or text) with

* ``name`` — lower-case identifier; the plugin model is ``numerical_<name>``;
* ``parameters`` — a list of :func:`length`, :func:`number` and :func:`sld` entries, with
  ``sld_solvent`` among the SLDs;
* ``shape(**geometry)`` — called with the lengths (Å) and shape numbers by name; returns a
  :class:`~sasview_saxsim_plugin.geometry.solids.Solid` of SLD ``sld``, or a list of
  ``(solid, "sld name")`` parts. Overlapping parts add their contrasts, so carve parts
  apart with ``-`` / ``&`` (a Janus sphere is ``ball & half`` and ``ball - half``);

and optionally ``title``, ``description`` (default: the module docstring's first paragraph),
``sasmodels_name`` (an analytical counterpart taking the same parameter names),
``checks`` (``(parameters, q values)`` the model's ``tests`` compare with that counterpart),
``feature(**geometry)`` (smallest feature, Å, when the solids' own is larger: a thin wall
made by a difference), ``scale_length`` (the length the tables scale with) and ``voxels``
(the fewest voxels across the smallest feature: 48 for near-cubes, whose flat faces the
default 24 under-resolve at high q).

Every length of the solid must come from a length parameter (no Å constants inside
``shape``): the numerical model tabulates the geometry with the first length set to 1 and
scales it. :func:`spec_from_source` checks this, the return type and the parameters, and
raises :class:`~sasview_saxsim_plugin.errors.SaxsimInputError` with the file and the reason.
"""

from __future__ import annotations

import hashlib
import keyword
import re
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..errors import SaxsimInputError
from .raster import voxel_fractions
from .registry import SHAPES, Parameter, ShapeSpec, length, number, register, sld
from .shapes import Shape
from .solids import Solid, finite_bounds


class SolidShape(Shape):
    """A :class:`Solid` as a rasterisable :class:`~sasview_saxsim_plugin.geometry.shapes.Shape`
    (``offset``: where the solid's origin sits, Å)."""

    def __init__(self, solid: Solid, offset=(0.0, 0.0, 0.0)):
        lo, hi = finite_bounds(solid)
        self.solid = solid
        self._mid = (lo + hi) / 2
        self._half = (hi - lo) / 2
        self.center = np.asarray(offset, float) + self._mid

    def distance_bound(self, x, y, z):
        m = self._mid
        return self.solid.distance(x + m[0], y + m[1], z + m[2])

    def distance_estimate(self, x, y, z):
        m = self._mid
        return self.solid.estimate(x + m[0], y + m[1], z + m[2])

    def half_extent(self):
        return self._half.copy()

    def min_feature(self):
        return float(min(self.solid.feature(), 2 * self._half.min()))

    @property
    def volume(self):
        return union_volume([self])

    def scaled(self, factor):
        raise NotImplementedError("scale a composed solid through its length parameters")


def union_volume(shapes: list[Shape], voxels: int = 24, max_voxels: int = 2_000_000) -> float:
    """Volume (Å³) of the union of ``shapes`` from anti-aliased voxel fractions
    (``voxels`` across the smallest feature, at most ``max_voxels`` in the bounding box;
    accurate to about 1e-4 for smooth surfaces)."""
    lo = np.min([s.center - s.half_extent() for s in shapes], axis=0)
    hi = np.max([s.center + s.half_extent() for s in shapes], axis=0)
    d = min(s.min_feature() for s in shapes) / voxels
    count = np.prod((hi - lo) / d + 3)
    if count > max_voxels:
        d *= (count / max_voxels) ** (1 / 3)
    # voxel i sits at i·d; the block starts one voxel below the box (negative indices allowed)
    first = np.floor(lo / d).astype(int) - 1
    n = np.ceil(hi / d).astype(int) + 2 - first
    total = sum(voxel_fractions(s, lambda i: i * d, d, first, n, 3) for s in shapes)
    return float(np.minimum(total, 1.0).sum() * d ** 3)


# --- loading -----------------------------------------------------------------------------

def definition_source(path: str | Path) -> tuple[str, str]:
    """(source text, file name) of a definition file."""
    path = Path(path)
    if not path.is_file():
        raise SaxsimInputError(f"no shape definition file {str(path)!r}")
    try:
        return path.read_text(encoding="utf-8"), str(path)
    except (OSError, UnicodeDecodeError) as exc:
        raise SaxsimInputError(f"cannot read the shape file {path}: {exc}") from None


def spec_from_source(source: str, filename: str = "<shape>", *, name: str | None = None,
                     register_it: bool = True) -> ShapeSpec:
    """The :class:`ShapeSpec` of a definition's source text (see the module doc), named
    ``name`` instead of the definition's own name if given."""
    digest = hashlib.sha256(source.encode()).hexdigest()
    namespace: dict = {"__name__": f"saxsim_shape_{digest[:12]}", "__file__": filename}
    try:
        exec(compile(source, filename, "exec"), namespace)   # noqa: S102 (the user's file)
    except SyntaxError as exc:
        raise SaxsimInputError(f"shape file {filename}: syntax error at line {exc.lineno}: "
                               f"{exc.msg}") from None
    except SaxsimInputError as exc:
        raise SaxsimInputError(f"shape file {filename}: {exc}") from None
    except Exception as exc:  # noqa: BLE001 (any error in the user's file)
        raise SaxsimInputError(f"shape file {filename} raised {type(exc).__name__}: "
                               f"{exc}") from None
    if name is not None:
        namespace["name"] = name
    spec = _spec_from_namespace(namespace, filename, source)
    existing = SHAPES.get(spec.name)
    if existing is not None and existing.source == source:
        return existing
    if existing is not None and existing.origin != filename:
        raise SaxsimInputError(
            f"shape file {filename}: a different shape named {spec.name!r} is loaded already "
            f"(from {existing.origin or 'the package'}): give this one another name")
    _check_scaling(spec, filename)
    _check_not_empty(spec, filename)
    # the same file edited and loaded again (a notebook, SasView's plugin reload) replaces
    # its earlier version; the engine keys its tables by name and checksum (ShapeSpec.key)
    return register(spec, replace=existing is not None) if register_it else spec


def _spec_from_namespace(ns: dict, filename: str, source: str) -> ShapeSpec:
    where = f"shape file {filename}"
    name = ns.get("name")
    if not isinstance(name, str) or not re.fullmatch(r"[a-z][a-z0-9_]*", name) \
            or keyword.iskeyword(name):
        raise SaxsimInputError(f"{where}: 'name' must be a lower-case identifier (letters, "
                               f"digits, _), got {name!r}")
    parameters = ns.get("parameters")
    if not isinstance(parameters, list | tuple) or not parameters or not all(
            isinstance(p, Parameter) for p in parameters):
        raise SaxsimInputError(f"{where}: 'parameters' must be a list of length(), number() "
                               "and sld() entries")
    names = [p.name for p in parameters]
    if len(set(names)) != len(names):
        raise SaxsimInputError(f"{where}: parameter names repeat: {names}")
    reserved = {"scale", "background", "theta", "phi", "psi"} & set(names)
    if reserved:
        raise SaxsimInputError(f"{where}: {', '.join(sorted(reserved))} are sasmodels' own "
                               "parameters; name yours differently")
    if not any(p.is_length for p in parameters):
        raise SaxsimInputError(f"{where}: the shape needs at least one length parameter")
    sld_names = [p.name for p in parameters if p.kind == "sld"]
    if "sld_solvent" not in sld_names:
        raise SaxsimInputError(f"{where}: 'parameters' needs sld('sld_solvent', ...)")
    build = ns.get("shape")
    if not callable(build):
        raise SaxsimInputError(f"{where}: define a function shape(**geometry) that returns a "
                               "solid or a list of (solid, 'sld name') parts")
    geometry = tuple(p.name for p in parameters if p.kind == "volume")
    defaults = {p.name: p.default for p in parameters}

    def parts_of(dims: dict) -> list[tuple[Solid, str]]:
        values = {n: float(dims.get(n, defaults[n])) for n in geometry}
        try:
            out = build(**values)
        except SaxsimInputError as exc:
            raise SaxsimInputError(f"{where}: shape({_show(values)}): {exc}") from None
        except Exception as exc:  # noqa: BLE001
            raise SaxsimInputError(f"{where}: shape({_show(values)}) raised "
                                   f"{type(exc).__name__}: {exc}") from None
        if isinstance(out, Solid):
            out = [(out, "sld")]
        if not isinstance(out, list | tuple) or not out or not all(
                isinstance(x, tuple) and len(x) == 2 and isinstance(x[0], Solid)
                and isinstance(x[1], str) for x in out):
            raise SaxsimInputError(
                f"{where}: shape() returned {type(out).__name__}; expected a solid "
                "(Ball, Box, ... from sasview_saxsim_plugin.shapes) or a list of "
                "(solid, 'sld name') pairs")
        for _, part_sld in out:
            if part_sld not in sld_names or part_sld == "sld_solvent":
                raise SaxsimInputError(f"{where}: part SLD {part_sld!r} is not one of the "
                                       f"particle SLD parameters "
                                       f"({', '.join(n for n in sld_names if n != 'sld_solvent')})")
        for solid, _ in out:
            finite_bounds(solid)
        return list(out)

    part_slds = tuple(s for _, s in parts_of(defaults))

    def parts(dims, theta, phi, centre):
        found = parts_of(dims)
        if tuple(s for _, s in found) != part_slds:
            raise SaxsimInputError(f"{where}: shape() must return the same parts (and SLD "
                                   "names) for every parameter value")
        return [SolidShape(solid, centre) for solid, _ in found]

    def contrasts(slds: dict) -> list[float]:
        return [slds[n] - slds["sld_solvent"] for n in part_slds]

    feature = ns.get("feature")
    feature_of: Callable | None = None
    if callable(feature):
        def feature_of(dims: dict) -> float:
            values = {n: float(dims.get(n, defaults[n])) for n in geometry}
            try:
                value = float(feature(**values))
            except Exception as exc:  # noqa: BLE001 (the user's function)
                raise SaxsimInputError(f"{where}: feature({_show(values)}) raised "
                                       f"{type(exc).__name__}: {exc}") from None
            if not (np.isfinite(value) and value > 0):
                raise SaxsimInputError(f"{where}: feature() must return a length > 0 (Å), "
                                       f"got {value!r}")
            return value

        feature_of(defaults)                 # a broken feature() is refused at load time

    doc = (ns.get("__doc__") or "").strip()
    description = ns.get("description") or (doc.split("\n\n")[0].replace("\n", " ")
                                             if doc else f"The shape {name}.")
    checks = ns.get("checks", ())

    @lru_cache(maxsize=256)
    def _volume(key: tuple) -> float:
        return union_volume(parts(dict(zip(geometry, key, strict=True)), 0.0, 0.0,
                                  np.zeros(3)))

    spec = ShapeSpec(
        name=name,
        title=str(ns.get("title") or name.replace("_", " ").capitalize()),
        description=str(description),
        parameters=tuple(parameters),
        parts=parts,
        contrasts=contrasts,
        sasmodels_name=ns.get("sasmodels_name"),
        scale_length=ns.get("scale_length"),
        feature=feature_of,
        checks=tuple(checks) if checks else (),
        centrosymmetric=False,
        volume_of=lambda dims: _volume(tuple(float(dims.get(n, defaults[n]))
                                             for n in geometry)),
        source=source,
        origin=filename,
        min_voxels=int(ns.get("voxels", 0)),
    )
    return spec


def _show(values: dict) -> str:
    return ", ".join(f"{k}={v:g}" for k, v in values.items())


def _check_scaling(spec: ShapeSpec, filename: str) -> None:
    """The geometry must scale with its lengths (the tables rely on it): with every length
    doubled, each part's bounding box must double and its signed distance at doubled
    sample points must double (this also catches a fixed Å length inside the particle,
    ``Ball(radius) - Ball(5.0)``, which leaves the bounding box alone)."""
    dims = {p.name: p.default for p in spec.parameters if p.kind == "volume"}
    doubled = {n: (2 * v if n in spec.lengths else v) for n, v in dims.items()}
    spec.check_geometry(dims)
    one = spec.parts(dims, 0.0, 0.0, np.zeros(3))
    two = spec.parts(doubled, 0.0, 0.0, np.zeros(3))
    for a, b in zip(one, two, strict=True):
        size = float(np.linalg.norm(a.half_extent()))
        same = np.allclose(2 * a.half_extent(), b.half_extent(), rtol=1e-6, atol=0.0)
        if same:
            lo, hi = finite_bounds(a.solid)
            points = lo + (hi - lo) * _SAMPLE_POINTS          # (n, 3), Å
            d1 = a.solid.distance(*points.T)
            d2 = b.solid.distance(*(2 * points).T)
            same = np.allclose(d2, 2 * d1, rtol=1e-5, atol=1e-6 * size)
        if not same:
            raise SaxsimInputError(
                f"shape file {filename}: the solid does not scale with its length parameters "
                "(doubling every length did not double it): every length inside shape() "
                "must come from a length parameter, no Å constants")


#: fixed sample points in the unit cube: a 9³ grid and 2000 scattered ones (deterministic)
_SAMPLE_POINTS = np.concatenate([
    np.stack(np.meshgrid(*[np.linspace(0.0, 1.0, 9)] * 3, indexing="ij"), -1).reshape(-1, 3),
    np.random.default_rng(20261206).random((2000, 3))])


def _check_not_empty(spec: ShapeSpec, filename: str) -> None:
    """A particle of zero volume at the default parameters is a broken definition."""
    dims = {p.name: p.default for p in spec.parameters if p.kind == "volume"}
    coarse = union_volume(spec.parts(dims, 0.0, 0.0, np.zeros(3)), voxels=4,
                          max_voxels=100_000)           # a thin part still gives fractions
    if not coarse > 0:
        raise SaxsimInputError(
            f"shape file {filename}: the particle is empty (volume 0) at the default "
            f"parameters {_show(dims)}: the solids do not overlap where they should")


__all__ = ["SolidShape", "definition_source", "length", "number", "sld", "spec_from_source",
           "union_volume"]
