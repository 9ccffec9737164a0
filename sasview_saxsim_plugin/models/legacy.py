r"""
numerical_density (replaced): use numerical_sphere, numerical_cylinder, numerical_ellipsoid,
numerical_core_shell_sphere or numerical_core_shell_cylinder.

Earlier versions of sasview_saxsim_plugin offered one plugin model for every shape, chosen
with a *shape* parameter. Each shape is now its own plugin model with only its own
parameters (``saxsim install-model`` installs them all). This file keeps the old parameter
table so that a saved fit page or project that uses numerical_density still opens; computing
it raises an error that names the model to pick instead.
"""

from numpy import inf

from sasview_saxsim_plugin.geometry.registry import SHAPES

#: the shapes of the old model, in the order of its *shape* codes
OLD_SHAPES = ["sphere", "cylinder", "ellipsoid", "core_shell_sphere"]

name = "numerical_density"
title = "numerical_density (replaced: pick numerical_<shape> in Plugin Models)"
description = ("Replaced by one model per shape: "
               + ", ".join(f"numerical_{s}" for s in SHAPES) + ".")
category = "plugin"
parameters = [
    ["shape", "", 0, [OLD_SHAPES], "", "particle shape (0 sphere, 1 cylinder, 2 ellipsoid, "
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
    ["axis_theta", "degrees", 60.0, [-360, 360], "", "particle axis: polar angle from the beam"],
    ["axis_phi", "degrees", 60.0, [-360, 360], "", "particle axis: azimuth on the detector"],
    ["voxels", "", 0, [0, 256], "", "voxels across the smallest feature (0 = automatic)"],
    ["supersample", "", 3, [1, 8], "", "sub-voxels per axis where the surface cuts a voxel"],
]


def replacement_message(shape_code=None) -> str:
    """What to pick instead of numerical_density (for the old *shape* code, if known)."""
    try:
        which = f"numerical_{OLD_SHAPES[int(round(float(shape_code)))]}"
    except (TypeError, ValueError, IndexError):
        which = "the numerical_<shape> model of your shape"
    return (f"numerical_density was replaced by one plugin model per shape: choose {which} "
            f"under Plugin Models (all of them: "
            f"{', '.join('numerical_' + s for s in SHAPES)}); run `saxsim install-model` if "
            f"they are missing")


def Iq(q, shape, *args):  # noqa: N802
    """Refuses with :func:`replacement_message`."""
    import numpy as np
    raise ValueError(replacement_message(np.asarray(shape).ravel()[0]))


Iq.vectorized = True
