"""The thesis baseline's three shapes (sphere, hard-sphere fluid, cylinder) with the priors
of thesis Table 3.3: what the thesis INN (``thesis.network``) was trained on. The product's
families are ``inverse.families``.

Units: lengths in Å, polydispersities relative (Gaussian width / mean), volume fraction 0-1.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..cylinder_table import cylinder_iq
from ..families import sasmodels_intensity
from ..polydispersity import polydispersity_points
from ..priors import Choice, TruncatedNormal

#: every parameter any shape may have, in the order of the network's parameter vector
PARAMETER_NAMES = ("radius", "radius_pd", "length", "length_pd", "volfraction")
#: parameters sampled and learnt in log space (positive lengths spanning decades)
LOG_PARAMETERS = ("radius", "length")


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

    def sample(self, rng: np.random.Generator, n: int, prior_set: str = "thesis") -> dict:
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

    def intensity(self, q: np.ndarray, values: dict) -> np.ndarray:
        """I(q) in 1/cm (scale 1, background 0) at q (1/Å) for one parameter set."""
        if self.model_name == "cylinder":
            # same integral and weights as sasmodels' cylinder, ~100x faster (cylinder_table.py)

            return cylinder_iq(q, values["radius"], values["length"], values["radius_pd"],
                               values["length_pd"])
        q_max = float(np.max(q))
        return sasmodels_intensity(self.model_name, q,
                                   self.sasmodels_parameters(values, q_max=q_max))


def _priors(**thesis) -> dict:
    return {"thesis": thesis}


CATALOGUE: tuple[ShapeEntry, ...] = (
    ShapeEntry("sphere", "sphere", ("radius", "radius_pd"),
               _priors(radius=THESIS_RADIUS, radius_pd=THESIS_RADIUS_PD)),
    # P@S with scale 1: sasmodels multiplies by the volume fraction itself; the interaction
    # radius is the particle radius (radius_effective_mode 1), as in thesis Table 3.3
    ShapeEntry("hardsphere", "sphere@hardsphere", ("radius", "radius_pd", "volfraction"),
               _priors(radius=THESIS_RADIUS, radius_pd=THESIS_RADIUS_PD,
                       volfraction=THESIS_VOLFRACTION),
               fixed={"radius_effective_mode": 1}),
    ShapeEntry("cylinder", "cylinder", ("radius", "radius_pd", "length", "length_pd"),
               _priors(radius=THESIS_RADIUS, radius_pd=THESIS_RADIUS_PD,
                       length=THESIS_LENGTH, length_pd=THESIS_LENGTH_PD)),
)

SHAPE_NAMES = tuple(e.name for e in CATALOGUE)


def entry(name: str) -> ShapeEntry:
    """The catalogue entry called ``name`` (``KeyError`` listing the known ones otherwise)."""
    for e in CATALOGUE:
        if e.name == name:
            return e
    raise KeyError(f"unknown shape {name!r}; known: {', '.join(SHAPE_NAMES)}")
