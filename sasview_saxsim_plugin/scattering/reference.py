"""Analytical counterparts from sasmodels, in absolute units, for the comparisons."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from ..errors import SaxsimInputError

#: the hard-sphere box's counterpart (shapes name theirs in ``geometry.registry``)
HARDSPHERE_MODEL = "sphere@hardsphere"


@lru_cache(maxsize=16)
def _model(name: str):
    from sasmodels.core import load_model
    return load_model(name)


def sasmodels_iq(model: str, q: np.ndarray, pars: dict) -> np.ndarray:
    """I(q) (1/cm) of sasmodels model ``model`` (its own name, e.g. 'sphere@hardsphere') at
    ``q`` (1/Å) with parameters ``pars`` (sasmodels names and units)."""
    from sasmodels.direct_model import call_kernel
    kernel = _model(model).make_kernel([np.asarray(q, float)])
    try:
        return np.asarray(call_kernel(kernel, dict(pars)), float)
    finally:
        kernel.release()


def sasmodels_iqxy(model: str, qx: np.ndarray, qy: np.ndarray, pars: dict) -> np.ndarray:
    """2D I(qx, qy) (1/cm) of a sasmodels model at detector points (1/Å), beam along z."""
    from sasmodels.direct_model import call_kernel
    qx = np.asarray(qx, float)
    kernel = _model(model).make_kernel([qx.ravel(), np.asarray(qy, float).ravel()])
    try:
        return np.asarray(call_kernel(kernel, dict(pars)), float).reshape(qx.shape)
    finally:
        kernel.release()


def reference_parameters(shape: str, dims: dict, pd: dict, sld: float, sld_solvent: float,
                         scale: float = 1.0, volume_fraction: float | None = None) -> tuple:
    """(sasmodels model name, parameter dict) matching a registered shape, or ``hardsphere``
    (a hard-sphere box: sphere@hardsphere).

    ``dims``: the shape's parameters (sasmodels names; ``theta``/``phi`` are dropped: the
    1D counterparts average over orientations); ``sld``/``sld_solvent`` fill the shape's SLD
    parameters of those names. ``pd`` maps a length name to its relative Gaussian width
    (sasmodels ``*_pd``), with ``pd_n`` points (default 35).
    """
    from ..geometry.registry import SHAPES
    if shape == "hardsphere":
        model, sld_names = HARDSPHERE_MODEL, ("sld", "sld_solvent")
    elif shape in SHAPES and SHAPES[shape].sasmodels_name:
        model, sld_names = SHAPES[shape].sasmodels_name, SHAPES[shape].sld_names
    else:
        raise SaxsimInputError(f"no sasmodels counterpart for shape {shape!r}")
    pars = {"scale": scale, "background": 0.0}
    for name, value in (("sld", sld), ("sld_solvent", sld_solvent)):
        if name in sld_names:
            pars[name] = value
    pars.update({k: v for k, v in dims.items() if k not in ("theta", "phi")})
    n_pts = int(pd.get("pd_n", 35))
    for name, width in pd.items():
        if name == "pd_n":
            continue
        pars[f"{name}_pd"] = width
        pars[f"{name}_pd_n"] = n_pts
        pars[f"{name}_pd_type"] = "gaussian"
    if shape == "hardsphere":
        # sasmodels' P@S computes scale·volfraction·P·S: the volume fraction is applied once
        pars.update(volfraction=volume_fraction, radius_effective=dims["radius"],
                    radius_effective_mode=0, scale=scale / volume_fraction)
    return model, pars


def realised_ensemble_iq(shapes, box_volume: float, q: np.ndarray, contrast: float = 1.0,
                         orientation_average: bool = True) -> np.ndarray:
    """I(q) (1/cm) of the particles actually placed, as independent scatterers: the sum over
    particles of sasmodels' monodisperse form factor, each with scale V_i/V_box.

    This is the reference for one realisation of an ensemble: it contains the sample's own
    size distribution (a finite draw, not the Gaussian population) and leaves only
    interference and voxelisation as differences. Spheres and (isotropic) cylinders.
    """
    from ..geometry.shapes import Cylinder, Sphere
    groups: dict = {}
    for s in shapes:
        if isinstance(s, Sphere):
            key = ("sphere", round(s.radius, 9))
        elif isinstance(s, Cylinder) and orientation_average:
            key = ("cylinder", round(s.radius, 9), round(s.length, 9))
        else:
            raise SaxsimInputError(f"no realised reference for {type(s).__name__}")
        groups.setdefault(key, [0, s.volume])[0] += 1
    total = np.zeros(np.size(q))
    for key, (count, volume) in groups.items():
        pars = {"scale": count * volume / box_volume, "background": 0.0, "sld": contrast,
                "sld_solvent": 0.0, "radius": key[1]}
        if key[0] == "cylinder":
            pars["length"] = key[2]
        total += sasmodels_iq(key[0], q, pars)
    return total
