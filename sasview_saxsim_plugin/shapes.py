"""Everything a shape definition file imports (docs: "Models from any geometry").

Solids (lengths in Å, centred at the origin, axis along z): Ball, Box, RoundedBox, Cylinder,
Ellipsoid, Superellipsoid, Torus, Helix, Polyhedron, HalfSpace; operations ``a | b``,
``a & b``, ``a - b``, ``.translated(dx, dy, dz)``, ``.rotated(axis, degrees)``; parameters
``length``, ``number``, ``sld``. See :mod:`sasview_saxsim_plugin.geometry.definitions` for
what a definition file holds.
"""

from .geometry.definitions import load_definition, spec_from_source
from .geometry.registry import length, number, sld
from .geometry.solids import (
    Ball,
    Box,
    Cylinder,
    Ellipsoid,
    HalfSpace,
    Helix,
    Intersection,
    Polyhedron,
    RoundedBox,
    Solid,
    Superellipsoid,
    Torus,
    Union,
)

__all__ = ["Ball", "Box", "Cylinder", "Ellipsoid", "HalfSpace", "Helix", "Intersection",
           "Polyhedron", "RoundedBox", "Solid", "Superellipsoid", "Torus", "Union", "length",
           "load_definition", "number", "sld", "spec_from_source"]
