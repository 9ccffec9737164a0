"""One sasmodels plugin model per registered shape: ``numerical_<shape>``.

:func:`model_namespace` builds, from a :class:`~sasview_saxsim_plugin.geometry.registry.ShapeSpec`,
everything a sasmodels Python model module holds: ``name``, ``title``, ``description``,
``parameters`` (the shape's own, with sasmodels' names, units and limits; polydispersity only
on its lengths), ``form_volume``, ``radius_effective``, ``Iq``, ``Iqxy`` for oriented shapes,
``tests`` (values of the analytical counterpart) and the docstring SasView shows as the
model's help page. The plugin files in ``models/plugins/`` and those ``saxsim install-model``
writes are three-line stubs that call it, so an upgrade of the package upgrades the models.

This module imports numpy only; the numerical engine (and scipy) loads at the first call.
"""

from __future__ import annotations

import numpy as np

from ..geometry.registry import AXIS_PARAMETERS, ShapeSpec, get_shape

PREFIX = "numerical_"

DOC_TEMPLATE = r"""
{title}: I(q) computed numerically from the voxelised particle by sasview_saxsim_plugin.

Definition
----------

{description}

The particle is rasterised into anti-aliased voxels (partial volumes, supersampled where the
surface cuts a voxel), its autocorrelation is summed by squared lag and the orientation
average

.. math::

    \langle |A(q)|^2 \rangle = d^6 \sum_{{m^2}} S(m^2)\,
    \frac{{\sin(q d \sqrt{{m^2}})}}{{q d \sqrt{{m^2}}}}

is divided by the voxel box-filter response. As in sasmodels,

.. math::

    I(q) = \frac{{\text{{scale}}}}{{V}} \langle |A(q)|^2 \rangle \cdot 10^{{-4}}
           + \text{{background}}

with $V$ the particle volume (of the outermost part), so with the same parameters the model
equals {counterpart} to the voxelisation error. Spectra are cached per dimensionless
geometry (every length divided by *{first}*; a few seconds per new aspect ratio), so calls
after the first are fast{ratio_note}.

Parameters: {parameter_list}. Lengths in Å, SLDs in 1e-6/Å².
{orientation}
The grid is not a fit parameter: it is chosen automatically (24, 48 or 96 voxels across the
smallest feature, whichever keeps q·d ≤ π at the largest q asked for). In a script,
``sasview_saxsim_plugin.models.engine.MODEL.voxels = N`` fixes it.

References
----------

Thesis "Computing the forward and inverse problem of X-ray scattering", chapter 3.1;
sasview_saxsim_plugin documentation, pages "Numerical models" and "Validation".
"""


def model_name(shape: str) -> str:
    """The plugin model name of a registered shape (``numerical_<shape>``)."""
    return PREFIX + shape


def shape_of(model: str) -> str:
    """The registered shape behind a plugin model name (``numerical_cylinder`` -> ``cylinder``).
    """
    if not model.startswith(PREFIX):
        raise ValueError(f"{model!r} is not a numerical shape model (names start with "
                         f"{PREFIX!r})")
    return get_shape(model[len(PREFIX):]).name


def _scalar(x) -> float:
    # sasmodels passes each parameter as a 0-d view of its parameter vector
    return float(np.asarray(x, dtype=float).ravel()[0])


def _docstring(spec: ShapeSpec) -> str:
    rows = [f"*{p.name}* ({p.description}"
            + (f", {p.units.replace('Ang', 'Å').replace('^2', '²')}" if p.units else "") + ")"
            for p in spec.parameters]
    orientation = ""
    if spec.oriented:
        orientation = ("\nFor 2D data the particle axis points along (*axis_theta*, *axis_phi*),"
                       " sasmodels' theta/phi convention (beam along z); the oriented amplitude"
                       " uses the particle's axial symmetry. Orientation dispersion is not"
                       " available (sasmodels gives it to compiled models only).\n")
    counterpart = (f"sasmodels' *{spec.sasmodels_name}*" if spec.sasmodels_name
                   else "the exact scattering of the shape")
    ratio_note = ""
    if len(spec.lengths) + len(spec.numbers) > 2:
        ratio_note = (": its lengths make more than one aspect ratio, so a polydispersity of "
                      f"*{spec.lengths[0]}* (which moves every ratio) needs many tables, and "
                      "its first call can take minutes")
    return DOC_TEMPLATE.format(title=spec.title, description=spec.description,
                               counterpart=counterpart, first=spec.lengths[0],
                               ratio_note=ratio_note,
                               parameter_list="; ".join(rows), orientation=orientation)


def model_namespace(shape: str | ShapeSpec, model: str | None = None) -> dict:
    """The attributes of the sasmodels Python model ``numerical_<shape>`` (or ``model``) of
    a registered shape, or of the spec itself (see module doc)."""
    spec = shape if isinstance(shape, ShapeSpec) else get_shape(shape)
    names = [p.name for p in spec.parameters]
    lengths = spec.volume_names          # the order sasmodels passes them in
    slds = spec.sld_names
    volume_index = [names.index(n) for n in lengths]
    sld_index = [names.index(n) for n in slds]

    def split(args) -> tuple[dict, dict]:
        values = [_scalar(a) for a in args]
        return ({n: values[i] for n, i in zip(lengths, volume_index, strict=True)},
                {n: values[i] for n, i in zip(slds, sld_index, strict=True)})

    valid = spec.valid

    def volume(dims: dict) -> float:
        if spec.volume_of is None:
            return spec.volume(dims)
        from .engine import MODEL  # no exact volume: that of the same voxel tables
        return MODEL.volume(spec, dims)

    def form_volume(*volume_args):
        dims = {n: _scalar(v) for n, v in zip(lengths, volume_args, strict=True)}
        return volume(dims) if valid(dims) else 1.0

    def radius_effective(mode, *volume_args):
        dims = {n: _scalar(v) for n, v in zip(lengths, volume_args, strict=True)}
        if not valid(dims):
            return 0.0
        if int(mode) == 1:
            return (0.75 * volume(dims) / np.pi) ** (1.0 / 3.0)
        return spec.radius_effective(dims)

    def Iq(q, *args):  # noqa: N802  (sasmodels' name)
        from .engine import MODEL
        dims, sld_values = split(args[:len(names)])
        if not valid(dims):
            return np.full(np.shape(q), np.nan)   # sasmodels drops NaN points of a pd mesh
        return MODEL.iq(np.asarray(q, float), spec, dims, sld_values)

    Iq.vectorized = True
    namespace = {
        "name": model or model_name(spec.name),
        "title": f"Numerical {spec.title[0].lower()}{spec.title[1:]}",
        "description": f"{spec.description} Computed numerically from voxels by "
                       "sasview_saxsim_plugin" + (f"; compare with sasmodels' "
                                                  f"{spec.sasmodels_name}."
                                                  if spec.sasmodels_name else "."),
        "category": "plugin",
        "parameters": [p.as_sasmodels_row() for p in spec.parameters]
                      + ([p.as_sasmodels_row() for p in AXIS_PARAMETERS] if spec.oriented
                         else []),
        "form_volume": form_volume,
        "radius_effective_modes": ["equivalent volume sphere", "outer radius"],
        "radius_effective": radius_effective,
        "Iq": Iq,
        "tests": [list(t) for t in expected_tests(spec)],
        "__doc__": _docstring(spec),
    }
    if spec.oriented:
        def Iqxy(qx, qy, *args):  # noqa: N802
            from .engine import MODEL
            dims, sld_values = split(args[:len(names)])
            theta, phi = (_scalar(a) for a in args[len(names):len(names) + 2])
            if not valid(dims):
                return np.full(np.shape(qx), np.nan)
            return MODEL.iqxy(qx, qy, spec, dims, sld_values, theta, phi)

        Iqxy.vectorized = True
        namespace["Iqxy"] = Iqxy
    return namespace


def expected_tests(spec: ShapeSpec) -> list:
    """sasmodels ``tests`` rows ``[pars, q list, I list]`` of the analytical counterpart at
    the registry's check points (values stored in ``CHECK_VALUES``, computed by sasmodels:
    ``analytical_values``; tests/test_models.py recomputes them)."""
    if not spec.checks:
        return []
    pars, q = spec.checks
    values = CHECK_VALUES.get(spec.name)
    if values is None:
        if not spec.sasmodels_name:
            return []
        # a shape registered at run time: its counterpart's values, computed now
        values = analytical_values(spec)
    return [[{**pars, "scale": 1.0, "background": 0.0}, list(q), list(values)]]


def analytical_values(spec: ShapeSpec) -> list[float]:
    """I(q) (1/cm) of the analytical counterpart at the registry's check points, from
    sasmodels (for ``CHECK_VALUES``)."""
    from ..scattering.reference import sasmodels_iq
    pars, q = spec.checks
    full = {**spec.defaults(), **pars, "scale": 1.0, "background": 0.0}
    return [float(v) for v in sasmodels_iq(spec.sasmodels_name, np.asarray(q), full)]


#: I(q) in 1/cm of the analytical counterpart at ``ShapeSpec.checks`` (sasmodels 1.1.0;
#: ``analytical_values`` recomputes them, tests/test_models.py compares)
CHECK_VALUES: dict[str, tuple[float, ...]] = {
    "sphere": (360.8705, 269.6725, 101.9082, 4.25257),
    "cylinder": (225.1324, 201.5653, 98.75975, 22.38529),
    "ellipsoid": (406.2718, 327.55, 167.6209, 25.80666),
    "core_shell_sphere": (86.44879, 64.97332, 16.54614, 0.03667641),
    "core_shell_cylinder": (296.9392, 255.2819, 99.10433, 23.27406),
}


