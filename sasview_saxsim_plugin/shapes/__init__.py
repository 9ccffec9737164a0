"""Shape definitions: what a definition file imports, and the shipped definitions
(docs: "Models from any geometry").

Solids (lengths in Å, centred at the origin, axis along z): Ball, Box, RoundedBox, Cylinder,
Ellipsoid, Superellipsoid, Torus, Helix, Polyhedron, HalfSpace; operations ``a | b``
(union), ``a & b`` (intersection), ``a - b`` (difference), ``.translated(dx, dy, dz)``,
``.rotated(axis, degrees)``; parameters ``length``, ``number``, ``sld``. What a definition
file holds: :mod:`sasview_saxsim_plugin.geometry.definitions`. The shipped definitions live
in ``shapes/library`` (:func:`library_names`); :func:`load_definition` takes a file or one of
their names.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import SaxsimInputError
from ..geometry.definitions import definition_source, spec_from_source
from ..geometry.registry import ShapeSpec, length, number, sld
from ..geometry.solids import (
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

#: the definitions shipped with the package (``saxsim make-model --shape torus``)
LIBRARY = Path(__file__).with_name("library")


def library_names() -> tuple[str, ...]:
    """Names of the shipped definitions."""
    return tuple(sorted(p.stem for p in LIBRARY.glob("*.py") if not p.stem.startswith("_")))


def definition_file(path_or_name: str | Path) -> Path:
    """The definition file of a path or a shipped definition's name."""
    text = str(path_or_name)
    if not text.endswith(".py") and (LIBRARY / f"{text}.py").is_file():
        return LIBRARY / f"{text}.py"
    if not Path(text).is_file():
        raise SaxsimInputError(
            f"no shape definition {text!r}: give a .py file or one of the shipped shapes "
            f"({', '.join(library_names())})")
    return Path(text)


def load_definition(path_or_name: str | Path, *, name: str | None = None,
                    register_it: bool = True) -> ShapeSpec:
    """The :class:`~sasview_saxsim_plugin.geometry.registry.ShapeSpec` of a definition file
    (or shipped name), under its own name or ``name``; registered so that every layer
    (plugin models, CLI, GUI) finds it by name. Loading the same source twice returns the
    registered spec; another shape under a registered name is an error."""
    source, filename = definition_source(definition_file(path_or_name))
    return spec_from_source(source, filename, name=name, register_it=register_it)


__all__ = ["LIBRARY", "Ball", "Box", "Cylinder", "Ellipsoid", "HalfSpace", "Helix",
           "Intersection", "Polyhedron", "RoundedBox", "Solid", "Superellipsoid", "Torus",
           "Union", "definition_file", "length", "library_names", "load_definition", "number",
           "sld", "spec_from_source"]
