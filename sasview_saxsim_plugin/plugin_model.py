r"""
Numerical 3D density: I(q) of a voxelised particle (lattice Debye sum of its
autocorrelation), as computed by the sasview_saxsim_plugin package.

Definition
----------

The particle (sphere, cylinder, ellipsoid or core-shell sphere, chosen with *shape*) is
rasterised into anti-aliased voxels (partial volumes), its autocorrelation is summed by
squared lag and the orientation average

.. math::

    \langle |A(q)|^2 \rangle = d^6 \sum_{m^2} S(m^2)\,
    \frac{\sin(q d \sqrt{m^2})}{q d \sqrt{m^2}}

is divided by the voxel box-filter response. As in sasmodels,

.. math::

    I(q) = \frac{\text{scale}}{V} \langle |A(q)|^2 \rangle \cdot 10^{-4} + \text{background}

with $V$ the particle volume, so with the same parameters the model equals its analytical
counterpart (sphere, cylinder, ellipsoid, core_shell_sphere) to the voxelisation error
(median below 0.1 %). Spectra are cached per dimensionless geometry, so polydispersity costs
little after the first call. *voxels* sets the voxels across the smallest feature (0, the
default: 24, 48 or 96, whichever keeps q·d ≤ π for the requested q), *supersample* the
sub-voxels per axis used where the surface cuts a voxel.

Lengths in Å, SLDs in 1e-6/Å². Only the lengths of the chosen shape are used:
sphere (radius), cylinder (radius, length), ellipsoid (radius_polar, radius_equatorial),
core_shell_sphere (radius, thickness, sld_core, sld_shell). For 2D data the particle axis
points along (*axis_theta*, *axis_phi*), sasmodels' theta/phi convention (beam along z);
the oriented amplitude uses the particle's axial symmetry (voxels grouped by height and
squared distance from the axis). *shape* is declared a volume
parameter only so that the normalisation volume can depend on it: give it no
polydispersity.

References
----------

Thesis "Computing the forward and inverse problem of X-ray scattering", chapter 3.1;
sasview_saxsim_plugin docs/accuracy.md and docs/numerical_model.md.
"""

import numpy as np
from numpy import inf

__all__ = ["name", "title", "description", "category", "parameters", "form_volume", "Iq",
           "Iqxy", "tests", "SHAPES", "radius_effective_modes", "radius_effective"]

name = "numerical_density"
title = "Numerical 3D density (voxelised particle, lattice Debye sum)"
description = """I(q) of a voxelised sphere, cylinder, ellipsoid or core-shell sphere,
computed numerically by sasview_saxsim_plugin; compare with the analytical models."""
category = "plugin"

SHAPES = ["sphere", "cylinder", "ellipsoid", "core_shell_sphere"]

#   ["name", "units", default, [lower, upper], "type", "description"],
parameters = [
    # "volume" so that form_volume sees it (the normalisation volume depends on the shape)
    ["shape", "", 0, [SHAPES], "volume", "particle shape (0 sphere, 1 cylinder, 2 ellipsoid, "
                                         "3 core_shell_sphere)"],
    ["sld", "1e-6/Ang^2", 1.0, [-inf, inf], "sld", "particle SLD"],
    ["sld_solvent", "1e-6/Ang^2", 0.0, [-inf, inf], "sld", "solvent SLD"],
    ["radius", "Ang", 50.0, [0, inf], "volume", "radius (sphere, cylinder, core)"],
    ["length", "Ang", 400.0, [0, inf], "volume", "cylinder length"],
    ["radius_polar", "Ang", 20.0, [0, inf], "volume", "ellipsoid polar radius"],
    ["radius_equatorial", "Ang", 400.0, [0, inf], "volume", "ellipsoid equatorial radius"],
    ["thickness", "Ang", 20.0, [0, inf], "volume", "core-shell shell thickness"],
    ["sld_core", "1e-6/Ang^2", 1.0, [-inf, inf], "sld", "core SLD (core_shell_sphere)"],
    ["sld_shell", "1e-6/Ang^2", 2.0, [-inf, inf], "sld", "shell SLD (core_shell_sphere)"],
    # plain parameters (sasmodels refuses "orientation" ones in Python models): used by Iqxy
    ["axis_theta", "degrees", 60.0, [-360, 360], "", "particle axis: polar angle from the beam"],
    ["axis_phi", "degrees", 60.0, [-360, 360], "", "particle axis: azimuth on the detector"],
    ["voxels", "", 0, [0, 256], "", "voxels across the smallest feature (0 = automatic)"],
    ["supersample", "", 3, [1, 8], "", "sub-voxels per axis where the surface cuts a voxel"],
]


def _scalar(x):
    # sasmodels passes each parameter as a 1-element view of its parameter vector
    return float(np.asarray(x, dtype=float).ravel()[0])


def _shape(code):
    index = int(round(_scalar(code)))
    if not 0 <= index < len(SHAPES):
        raise ValueError(f"numerical_density: shape must be 0..{len(SHAPES) - 1}, got {code}")
    return SHAPES[index]


def _dims(shape, radius, length, radius_polar, radius_equatorial, thickness):
    from sasview_saxsim_plugin.numerical_model import dims_for
    return dims_for(shape, *map(_scalar, (radius, length, radius_polar, radius_equatorial,
                                          thickness)))


def form_volume(shape, radius, length, radius_polar, radius_equatorial, thickness):
    """Particle volume (Å³; outer volume for the core-shell sphere), as sasmodels' models."""
    from sasview_saxsim_plugin.numerical_model import form_volume as volume
    name_ = _shape(shape)
    dims = _dims(name_, radius, length, radius_polar, radius_equatorial, thickness)
    if not all(v > 0 for v in dims.values()):
        return 1.0
    return volume(name_, dims)


#: effective radii offered to structure factors (sasmodels adds mode 0, "unconstrained")
radius_effective_modes = ["equivalent volume sphere", "outer radius"]


def radius_effective(mode, shape, radius, length, radius_polar, radius_equatorial, thickness):
    """Effective radius (Å) for P@S: 1 = sphere of the same volume, 2 = the largest distance
    from the centre to the surface (half the cylinder diagonal, largest ellipsoid semi-axis)."""
    name_ = _shape(shape)
    dims = _dims(name_, radius, length, radius_polar, radius_equatorial, thickness)
    if int(mode) == 1:
        return (0.75 * form_volume(shape, radius, length, radius_polar, radius_equatorial,
                                   thickness) / np.pi) ** (1.0 / 3.0)
    if name_ == "cylinder":
        return float(np.hypot(dims["radius"], 0.5 * dims["length"]))
    if name_ == "ellipsoid":
        return max(dims["radius_polar"], dims["radius_equatorial"])
    if name_ == "core_shell_sphere":
        return dims["radius"] + dims["thickness"]
    return dims["radius"]


def Iq(q, shape, sld, sld_solvent, radius, length, radius_polar, radius_equatorial, thickness,
       sld_core, sld_shell, axis_theta, axis_phi, voxels, supersample):
    """|F(q)|²·1e-4 of the voxelised particle; sasmodels divides by ⟨form_volume⟩."""
    from sasview_saxsim_plugin.numerical_model import MODEL, contrasts_for
    name_ = _shape(shape)
    dims = _dims(name_, radius, length, radius_polar, radius_equatorial, thickness)
    if not all(v > 0 for v in dims.values()):
        return np.full(np.shape(q), np.nan)   # sasmodels drops NaN points of a pd mesh
    contrasts = contrasts_for(name_, *map(_scalar, (sld, sld_solvent, sld_core, sld_shell)))
    return MODEL.iq(np.asarray(q, float), name_, dims, contrasts,
                    voxels=int(round(_scalar(voxels))),
                    supersample=max(1, int(round(_scalar(supersample)))))


Iq.vectorized = True


def Iqxy(qx, qy, shape, sld, sld_solvent, radius, length, radius_polar, radius_equatorial,
         thickness, sld_core, sld_shell, axis_theta, axis_phi, voxels, supersample):
    """Oriented |F(qx, qy)|²·1e-4, axis at (axis_theta, axis_phi) as sasmodels' theta/phi."""
    from sasview_saxsim_plugin.numerical_model import MODEL, contrasts_for
    name_ = _shape(shape)
    dims = _dims(name_, radius, length, radius_polar, radius_equatorial, thickness)
    if not all(v > 0 for v in dims.values()):
        return np.full(np.shape(qx), np.nan)
    contrasts = contrasts_for(name_, *map(_scalar, (sld, sld_solvent, sld_core, sld_shell)))
    return MODEL.iqxy(qx, qy, name_, dims, contrasts, _scalar(axis_theta), _scalar(axis_phi),
                      voxels=int(round(_scalar(voxels))),
                      supersample=max(1, int(round(_scalar(supersample)))))


Iqxy.vectorized = True


def _sphere_closed_form(q, radius, contrast=1.0):
    x = q * radius
    volume = 4.0 / 3.0 * np.pi * radius ** 3
    return contrast ** 2 * volume * (3 * (np.sin(x) - x * np.cos(x)) / x ** 3) ** 2 * 1e-4


# sasmodels' model_test: values from the closed form of a sphere, not from this model.
# model_test wants 5e-5 relative agreement, which the voxel volume reaches at 96 voxels across
# (1e-5; at the default 32 it is 3e-4), and at low q where I depends on the volume alone.
_Q = [0.001, 0.002]
tests = [
    [{"shape": 0, "radius": 50.0, "sld": 3.0, "sld_solvent": 1.0, "voxels": 96, "scale": 1.0,
      "background": 0.0}, _Q, list(_sphere_closed_form(np.array(_Q), 50.0, 2.0))],
]
