"""The shapes the inverse network knows: one entry per sasmodels model, with its priors.

To teach the network a new shape, add one ``ShapeEntry`` to ``CATALOGUE`` (its sasmodels name, which
of ``PARAMETER_NAMES`` it uses, fixed sasmodels settings and the priors) and retrain
(``saxsim make-training-set`` then ``saxsim train``).

Units: lengths in Å, polydispersities relative (Gaussian width / mean), volume fraction 0-1.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from .cylinder_table import cylinder_iq
from .polydispersity import MIN_PD_POINTS, polydispersity_points
from .priors import Choice, LogUniform, TruncatedNormal, Uniform

#: every parameter any shape may have, in the order of the network's parameter vector
PARAMETER_NAMES = ("radius", "radius_pd", "length", "length_pd", "volfraction")
#: parameters sampled and learnt in log space (positive lengths spanning decades)
LOG_PARAMETERS = ("radius", "length")


#: the broad physical priors the shipped network is trained on (docs: Methods)
BROAD_RADIUS = LogUniform(10.0, 500.0)
BROAD_PD = Uniform(0.0, 0.3)
BROAD_LENGTH = LogUniform(40.0, 4000.0)
BROAD_VOLFRACTION = Uniform(0.02, 0.45)

#: thesis Table 3.3 (nm converted to Å). N(10, 10) nm for the length is read as variance 10 nm²
#: like the other rows (sd = 3.16 nm). Volume fraction 0 is left out: a hard-sphere fluid at
#: φ = 0 *is* the sphere model, so no method can tell the two apart (docs: Methods and Validation).
THESIS_RADIUS = TruncatedNormal(20.0, 1.0, low=1.0)
THESIS_RADIUS_PD = TruncatedNormal(0.05, 0.03, low=0.0)
THESIS_LENGTH = TruncatedNormal(100.0, np.sqrt(10.0) * 10.0, low=10.0)
THESIS_LENGTH_PD = TruncatedNormal(0.08, 0.05, low=0.0)
THESIS_VOLFRACTION = Choice((0.05, 0.1, 0.15, 0.2, 0.25, 0.3))


#: sasmodels' default number of Gaussian polydispersity points (over ±3σ) and our ceiling
@dataclass(frozen=True)
class ShapeEntry:
    """One shape class: how to draw its parameters and compute its I(q) with sasmodels."""

    name: str
    model_name: str
    parameters: tuple[str, ...]
    priors: dict = field(default_factory=dict)      # prior set name -> {parameter: prior}
    fixed: dict = field(default_factory=dict)       # extra sasmodels parameters

    def sample(self, rng: np.random.Generator, n: int, prior_set: str = "broad") -> dict:
        """Draw n parameter sets (dict name -> array, Å)."""
        priors = self.priors[prior_set]
        return {p: priors[p].sample(rng, n) for p in self.parameters}

    def sasmodels_parameters(self, values: dict, pd_n: int | None = None,
                             q_max: float | None = None) -> dict:
        """sasmodels parameter dict (scale 1, background 0, contrast 1e-6/Å²) for one set.

        Polydispersity points: ``pd_n`` if given, else enough for a curve up to ``q_max``
        (1/Å; ``polydispersity_points``; sasmodels' 35 without ``q_max``)."""
        pars = {"scale": 1.0, "background": 0.0, "sld": 1.0, "sld_solvent": 0.0, **self.fixed}
        for p in self.parameters:
            pars[p] = float(values[p])
        for p in self.parameters:
            if p.endswith("_pd"):
                pars[p + "_n"] = (pd_n if pd_n is not None else
                                  polydispersity_points(pars[p[:-3]], pars[p], q_max))
        return pars

    def seed_parameters(self, values: dict, q_max: float | None) -> dict:
        """``sasmodels_parameters`` for a fit in SasView: the points a curve up to ``q_max``
        needs, except for the cylinder, whose sasmodels kernel costs the product of its two
        point counts times its orientation quadrature (35 × 35: 0.1-6 s per curve here), so it
        keeps sasmodels' 35 (raise ``radius_pd_n`` in SasView for R·pd·q_max ≳ 14)."""
        if self.model_name == "cylinder":
            return self.sasmodels_parameters(values, pd_n=MIN_PD_POINTS)
        return self.sasmodels_parameters(values, q_max=q_max)

    def intensity(self, q: np.ndarray, values: dict) -> np.ndarray:
        """I(q) in 1/cm (scale 1, background 0) at q (1/Å) for one parameter set."""
        if self.model_name == "cylinder":
            # same integral and weights as sasmodels' cylinder, ~100x faster (cylinder_table.py)

            return cylinder_iq(q, values["radius"], values["length"], values["radius_pd"],
                               values["length_pd"])
        q_max = float(np.max(q))
        return sasmodels_intensity(self.model_name, q,
                                   self.sasmodels_parameters(values, q_max=q_max))


@lru_cache(maxsize=8)
def _kernel(model_name: str, q_key: tuple):
    from sasmodels.core import load_model

    return load_model(model_name).make_kernel([np.asarray(q_key)])


def sasmodels_intensity(model_name: str, q: np.ndarray, parameters: dict) -> np.ndarray:
    """sasmodels I(q) (1/cm) at q (1/Å); kernels cached per (model, q grid)."""
    from sasmodels.direct_model import call_kernel

    kernel = _kernel(model_name, tuple(np.asarray(q, dtype=float).tolist()))
    return np.asarray(call_kernel(kernel, parameters), dtype=float)


def _priors(**broad_and_thesis) -> dict:
    return {"broad": {k: v[0] for k, v in broad_and_thesis.items()},
            "thesis": {k: v[1] for k, v in broad_and_thesis.items()}}


CATALOGUE: tuple[ShapeEntry, ...] = (
    ShapeEntry("sphere", "sphere", ("radius", "radius_pd"),
               _priors(radius=(BROAD_RADIUS, THESIS_RADIUS),
                       radius_pd=(BROAD_PD, THESIS_RADIUS_PD))),
    # P@S with scale 1: sasmodels multiplies by the volume fraction itself; the interaction
    # radius is the particle radius (radius_effective_mode 1), as in thesis Table 3.3
    ShapeEntry("hardsphere", "sphere@hardsphere", ("radius", "radius_pd", "volfraction"),
               _priors(radius=(BROAD_RADIUS, THESIS_RADIUS),
                       radius_pd=(BROAD_PD, THESIS_RADIUS_PD),
                       volfraction=(BROAD_VOLFRACTION, THESIS_VOLFRACTION)),
               fixed={"radius_effective_mode": 1}),
    ShapeEntry("cylinder", "cylinder", ("radius", "radius_pd", "length", "length_pd"),
               _priors(radius=(BROAD_RADIUS, THESIS_RADIUS),
                       radius_pd=(BROAD_PD, THESIS_RADIUS_PD),
                       length=(BROAD_LENGTH, THESIS_LENGTH),
                       length_pd=(BROAD_PD, THESIS_LENGTH_PD))),
)

SHAPE_NAMES = tuple(e.name for e in CATALOGUE)


def entry(name: str) -> ShapeEntry:
    """The catalogue entry called ``name`` (``KeyError`` listing the known ones otherwise)."""
    for e in CATALOGUE:
        if e.name == name:
            return e
    raise KeyError(f"unknown shape {name!r}; known: {', '.join(SHAPE_NAMES)}")
