"""The sasmodels families the shape estimate knows: one ``Family`` entry per model.

Each entry names a sasmodels model and the parameters the network learns for it (sasmodels'
own names), with the broad physical prior each is drawn from for training. Everything the
inverse layer does with a family (drawing training curves, standardising parameters for the
network, seeding a SasView fit, the refinement's model curves) reads this one table: teaching
the network a new family is one entry here, then ``saxsim make-training-set`` and
``saxsim train``.

Units: lengths in Å, polydispersities relative (Gaussian width / mean), volume fraction 0-1,
SLDs in 1e-6/Å² *relative to the solvent* (sld_solvent = 0). The absolute scale of a measured
curve is unknown, so only contrast *ratios* are learnt: one part of each multi-SLD family is
fixed at contrast 1 (e.g. the shell of ``core_shell_sphere``) and the others are learnt
relative to it; a fit seeded from the estimate absorbs the magnitude into ``scale``.

Families nest: ``sphere`` is ``core_shell_sphere`` at sld_core = 1 (core = shell) and
``vesicle`` is it at sld_core = 0 (core = solvent); ``ellipsoid`` at radius_polar =
radius_equatorial is a sphere; ``sphere@hardsphere`` at volfraction → 0 is a sphere; a
``flexible_cylinder`` much stiffer than long is a ``cylinder``; a ``cylinder`` much wider than
long scatters like ``lamellar`` over most q. Where a curve cannot tell nested families apart,
the classifier spreads its probability over them and the refinement keeps the simplest family
the data support (``Family.n_free``, see ``refine``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from .cylinder_table import core_shell_cylinder_iq, cylinder_iq, parallelepiped_iq
from .polydispersity import MIN_PD_POINTS, polydispersity_points
from .priors import LogUniform, Uniform

#: most parameters any family learns (the flow's dimension; shorter families are padded)
MAX_PARAMETERS = 5


@dataclass(frozen=True)
class Parameter:
    """One learnt parameter: sasmodels name, unit, prior; ``log``: learnt as ln(value)."""

    name: str
    unit: str
    prior: LogUniform | Uniform
    description: str = ""

    @property
    def log(self) -> bool:
        return isinstance(self.prior, LogUniform)

    def standard_range(self) -> tuple[float, float]:
        """(low, high) of the learnt coordinate (ln for log parameters) under the prior."""
        low, high = self.prior.low, self.prior.high
        return (float(np.log(low)), float(np.log(high))) if self.log else (low, high)


@dataclass(frozen=True)
class Family:
    """One sasmodels model the network can recognise.

    ``name``: the sasmodels model name (``load_model(name)`` works, also for products such as
    ``sphere@hardsphere``); ``parameters``: the learnt ones in the network's slot order;
    ``fixed``: every other sasmodels parameter the curves are made with (contrast, structure
    factor settings); ``accept``: optional rule (dict of arrays -> bool array) that rejects
    unphysical draws (e.g. a Kuhn length beyond the contour length), redrawn;
    ``fast_intensity``: optional replacement for sasmodels' kernel with the same result
    (tested against it), for kernels too slow for 10⁴ training curves; ``nests``: the
    families this one reduces to at a corner of its parameters, and how (docs)."""

    name: str
    label: str
    parameters: tuple[Parameter, ...]
    fixed: dict = field(default_factory=dict)
    accept: Callable[[dict], np.ndarray] | None = None
    fast_intensity: Callable[[np.ndarray, dict], np.ndarray] | None = None
    nests: tuple[str, ...] = ()
    description: str = ""

    @property
    def parameter_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.parameters)

    @property
    def n_free(self) -> int:
        """Learnt parameters (the refinement's complexity count, scale and background apart)."""
        return len(self.parameters)

    def sample(self, rng: np.random.Generator, n: int) -> dict:
        """n parameter sets from the priors (dict name -> array), rejected draws redrawn."""
        out = {p.name: p.prior.sample(rng, n) for p in self.parameters}
        if self.accept is None:
            return out
        for _ in range(1000):
            bad = ~np.asarray(self.accept(out), bool)
            if not bad.any():
                return out
            redraw = {p.name: p.prior.sample(rng, int(bad.sum())) for p in self.parameters}
            for name, values in redraw.items():
                out[name][bad] = values
        raise RuntimeError(f"{self.name}: the prior's accept rule rejects almost every draw")

    def sasmodels_parameters(self, values: dict, q_max: float | None = None,
                             pd_n: int | None = None) -> dict:
        """sasmodels parameter dict (scale 1, background 0, ``fixed``) for one parameter set;
        polydispersity with ``pd_n`` points, or as many as a curve up to ``q_max`` (1/Å)
        needs (``polydispersity_points``), Gaussian."""
        pars = {"scale": 1.0, "background": 0.0, **self.fixed}
        for name in self.parameter_names:
            pars[name] = float(values[name])
        for name in self.parameter_names:
            if name.endswith("_pd"):
                size = pars[name[:-3]]
                pars[name + "_n"] = (pd_n if pd_n is not None else
                                     polydispersity_points(size, pars[name], q_max))
                pars[name + "_type"] = "gaussian"
        return pars

    def intensity(self, q: np.ndarray, values: dict) -> np.ndarray:
        """I(q) (1/cm at scale 1, background 0, the contrasts of ``fixed``) at q (1/Å,
        increasing) for one parameter set (dict name -> value, Å)."""
        if self.fast_intensity is not None:
            return self.fast_intensity(np.asarray(q, dtype=float), values)
        q = np.asarray(q, dtype=float)
        return sasmodels_intensity(self.name, q, self.sasmodels_parameters(values,
                                                                           q_max=float(q[-1])))


@lru_cache(maxsize=32)
def _kernel(model_name: str, q_key: tuple):
    from sasmodels.core import load_model

    return load_model(model_name).make_kernel([np.asarray(q_key)])


def sasmodels_intensity(model_name: str, q: np.ndarray, parameters: dict) -> np.ndarray:
    """sasmodels I(q) (1/cm) at q (1/Å); kernels cached per (model, q grid)."""
    from sasmodels.direct_model import call_kernel

    kernel = _kernel(model_name, tuple(np.asarray(q, dtype=float).tolist()))
    return np.asarray(call_kernel(kernel, parameters), dtype=float)


def _cylinder(q: np.ndarray, v: dict) -> np.ndarray:
    # same integral and weights as sasmodels' cylinder, ~100x faster (cylinder_table.py)
    return cylinder_iq(q, v["radius"], v["length"], v["radius_pd"], v["length_pd"])


def _core_shell_cylinder(q: np.ndarray, v: dict) -> np.ndarray:
    # sasmodels' core_shell_cylinder by radial tables, ~7x faster (cylinder_table.py)
    return core_shell_cylinder_iq(q, v["radius"], v["thickness"], v["length"], v["sld_core"],
                                  1.0, 0.0, v["radius_pd"])


def _parallelepiped(q: np.ndarray, v: dict) -> np.ndarray:
    # sasmodels' parallelepiped with the azimuthal average tabulated, ~4x faster
    return parallelepiped_iq(q, v["length_a"], v["length_b"], v["length_c"])


#: the core's contrast relative to the shell's in the core-shell families (only ratios of
#: contrasts are measurable when the scale is unknown): 1 is a homogeneous particle, 0 a
#: solvent-filled core
CORE_CONTRAST = Parameter("sld_core", "shell contrast", Uniform(-1.5, 3.0),
                          "core contrast relative to the shell's (sld_shell = 1, "
                          "sld_solvent = 0)")


# --- priors (docs: Methods, "The families and their priors") ---------------------------------
PD = Uniform(0.0, 0.3)


def _ratio_between(a: np.ndarray, b: np.ndarray, low: float, high: float) -> np.ndarray:
    ratio = np.asarray(a) / np.asarray(b)
    return (ratio >= low) & (ratio <= high)


FAMILIES: tuple[Family, ...] = (
    Family("sphere", "sphere",
           (Parameter("radius", "Å", LogUniform(10.0, 500.0), "sphere radius"),
            Parameter("radius_pd", "", PD, "relative Gaussian width of the radius")),
           fixed={"sld": 1.0, "sld_solvent": 0.0}),
    Family("core_shell_sphere", "core-shell sphere",
           (Parameter("radius", "Å", LogUniform(10.0, 400.0), "core radius"),
            Parameter("thickness", "Å", LogUniform(5.0, 150.0), "shell thickness"),
            CORE_CONTRAST,
            Parameter("radius_pd", "", PD, "relative Gaussian width of the core radius")),
           fixed={"sld_shell": 1.0, "sld_solvent": 0.0},
           nests=("sphere (sld_core = 1)", "vesicle (sld_core = 0)")),
    Family("vesicle", "vesicle",
           (Parameter("radius", "Å", LogUniform(10.0, 400.0), "solvent-filled core radius"),
            Parameter("thickness", "Å", LogUniform(5.0, 150.0), "shell thickness"),
            Parameter("radius_pd", "", PD, "relative Gaussian width of the core radius")),
           fixed={"sld": 1.0, "sld_solvent": 0.0, "volfraction": 1.0}),
    Family("ellipsoid", "ellipsoid of revolution (prolate and oblate)",
           (Parameter("radius_polar", "Å", LogUniform(5.0, 2000.0), "semi-axis along the "
                      "symmetry axis"),
            Parameter("radius_equatorial", "Å", LogUniform(10.0, 500.0), "equatorial "
                      "semi-axis"),
            Parameter("radius_equatorial_pd", "", PD, "relative Gaussian width of the "
                      "equatorial semi-axis")),
           fixed={"sld": 1.0, "sld_solvent": 0.0},
           # aspect ratio 0.1 (oblate) to 10 (prolate)
           accept=lambda v: _ratio_between(v["radius_polar"], v["radius_equatorial"], 0.1, 10),
           nests=("sphere (radius_polar = radius_equatorial)",)),
    Family("cylinder", "cylinder (rods to disks)",
           (Parameter("radius", "Å", LogUniform(10.0, 500.0), "cylinder radius"),
            Parameter("radius_pd", "", PD, "relative Gaussian width of the radius"),
            Parameter("length", "Å", LogUniform(20.0, 5000.0), "cylinder length"),
            Parameter("length_pd", "", PD, "relative Gaussian width of the length")),
           fixed={"sld": 1.0, "sld_solvent": 0.0},
           # length / diameter 0.05 (disk) to 50 (rod)
           accept=lambda v: _ratio_between(v["length"], 2 * v["radius"], 0.05, 50),
           fast_intensity=_cylinder,
           nests=("lamellar (length ≪ radius, at q ≫ 1/radius)",)),
    Family("core_shell_cylinder", "core-shell cylinder",
           (Parameter("radius", "Å", LogUniform(10.0, 300.0), "core radius"),
            Parameter("thickness", "Å", LogUniform(5.0, 100.0), "shell thickness (radial and "
                      "at both ends)"),
            Parameter("length", "Å", LogUniform(40.0, 4000.0), "core length"),
            CORE_CONTRAST,
            Parameter("radius_pd", "", PD, "relative Gaussian width of the core radius")),
           fixed={"sld_shell": 1.0, "sld_solvent": 0.0},
           accept=lambda v: _ratio_between(v["length"], 2 * (v["radius"] + v["thickness"]),
                                           0.05, 50),
           fast_intensity=_core_shell_cylinder,
           nests=("cylinder (sld_core = 1)",)),
    Family("flexible_cylinder", "flexible cylinder (worm-like chain)",
           (Parameter("length", "Å", LogUniform(200.0, 20000.0), "contour length"),
            Parameter("kuhn_length", "Å", LogUniform(20.0, 2000.0), "Kuhn length (twice the "
                      "persistence length)"),
            Parameter("radius", "Å", LogUniform(5.0, 100.0), "cross-section radius")),
           fixed={"sld": 1.0, "sld_solvent": 0.0},
           accept=lambda v: ((v["kuhn_length"] <= v["length"])
                             & (v["kuhn_length"] >= 4 * v["radius"])),
           nests=("cylinder (kuhn_length ≳ length)", "mono_gauss_coil (length ≫ kuhn_length, "
                  "thin)")),
    Family("parallelepiped", "rectangular parallelepiped",
           (Parameter("length_a", "Å", LogUniform(10.0, 500.0), "shortest side"),
            Parameter("length_b", "Å", LogUniform(10.0, 1000.0), "middle side"),
            Parameter("length_c", "Å", LogUniform(20.0, 2000.0), "longest side")),
           fixed={"sld": 1.0, "sld_solvent": 0.0},
           accept=lambda v: (v["length_a"] <= v["length_b"]) & (v["length_b"] <= v["length_c"]),
           fast_intensity=_parallelepiped),
    Family("lamellar", "lamellar (randomly oriented flat sheets)",
           (Parameter("thickness", "Å", LogUniform(10.0, 500.0), "sheet thickness"),
            Parameter("thickness_pd", "", PD, "relative Gaussian width of the thickness")),
           fixed={"sld": 1.0, "sld_solvent": 0.0}),
    Family("mono_gauss_coil", "Gaussian polymer coil (Debye)",
           (Parameter("rg", "Å", LogUniform(10.0, 300.0), "radius of gyration"),),
           fixed={"i_zero": 1.0}),
    Family("mass_fractal", "mass fractal aggregate",
           (Parameter("radius", "Å", LogUniform(5.0, 100.0), "building block radius"),
            Parameter("fractal_dim_mass", "", Uniform(1.5, 3.0), "mass fractal dimension"),
            Parameter("cutoff_length", "Å", LogUniform(50.0, 5000.0), "cut-off length of "
                      "the aggregate")),
           accept=lambda v: v["cutoff_length"] >= 5 * v["radius"]),
    Family("sphere@hardsphere", "spheres with hard-sphere interactions",
           (Parameter("radius", "Å", LogUniform(10.0, 500.0), "sphere radius"),
            Parameter("radius_pd", "", PD, "relative Gaussian width of the radius"),
            Parameter("volfraction", "", Uniform(0.02, 0.45), "volume fraction")),
           # P@S at scale 1: sasmodels multiplies by the volume fraction itself; the interaction
           # radius is the particle radius (radius_effective_mode 1)
           fixed={"sld": 1.0, "sld_solvent": 0.0, "radius_effective_mode": 1},
           nests=("sphere (volfraction → 0)",)),
)

FAMILY_NAMES = tuple(f.name for f in FAMILIES)


def family(name: str) -> Family:
    """The family called ``name`` (sasmodels model name); ``KeyError`` listing the known."""
    for f in FAMILIES:
        if f.name == name:
            return f
    raise KeyError(f"unknown family {name!r}; known: {', '.join(FAMILY_NAMES)}")


def family_index(name: str) -> int:
    return FAMILY_NAMES.index(family(name).name)


# --- the network's parameter vector ----------------------------------------------------------

def _standard_tables(draws: int = 20000) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(center, width, log) arrays (families, MAX_PARAMETERS): the learnt coordinate of slot
    j of family k is (value or ln value − center) / width, with center and width the mean and
    standard deviation of the coordinate over ``draws`` seeded draws from the family's prior
    (accept rules included, which make some marginals far from uniform). Unused slots:
    center 0, width 1."""
    center = np.zeros((len(FAMILIES), MAX_PARAMETERS))
    width = np.ones((len(FAMILIES), MAX_PARAMETERS))
    log = np.zeros((len(FAMILIES), MAX_PARAMETERS), bool)
    for k, f in enumerate(FAMILIES):
        values = f.sample(np.random.default_rng(k), draws)
        for j, p in enumerate(f.parameters):
            x = np.log(values[p.name]) if p.log else values[p.name]
            center[k, j], width[k, j], log[k, j] = float(x.mean()), float(x.std()), p.log
    return center, width, log


CENTER, WIDTH, LOG = _standard_tables()
ACTIVE = np.array([[j < f.n_free for j in range(MAX_PARAMETERS)] for f in FAMILIES])
#: physical bounds of each slot (a polydispersity 0-1, a volume fraction 0-0.74)
LOWER = np.full((len(FAMILIES), MAX_PARAMETERS), -np.inf)
UPPER = np.full((len(FAMILIES), MAX_PARAMETERS), np.inf)
for _k, _f in enumerate(FAMILIES):
    for _j, _p in enumerate(_f.parameters):
        if _p.name.endswith("_pd") or _p.name == "volfraction":
            LOWER[_k, _j] = 0.0
            UPPER[_k, _j] = 0.74 if _p.name == "volfraction" else 1.0


def to_vector(name: str, values: dict) -> np.ndarray:
    """Physical parameter values (dict, or dict of arrays) of family ``name`` -> rows
    (..., MAX_PARAMETERS) in the family's slot order, NaN in unused slots."""
    f = family(name)
    columns = [np.asarray(values[p], dtype=float) for p in f.parameter_names]
    shape = np.broadcast(*columns).shape
    out = np.full(shape + (MAX_PARAMETERS,), np.nan)
    for j, c in enumerate(columns):
        out[..., j] = c
    return out


def to_standard(vectors: np.ndarray, families: np.ndarray) -> np.ndarray:
    """Physical rows (..., MAX_PARAMETERS) of the given family indices -> standardised (NaN
    stays NaN: unused slots)."""
    families = np.asarray(families)
    v = np.array(vectors, dtype=float, copy=True)
    log = LOG[families]
    v = np.where(log, np.log(np.where(log, np.maximum(v, 1e-300), 1.0)), v)
    return (v - CENTER[families]) / WIDTH[families]


def from_standard(standard: np.ndarray, families: np.ndarray) -> np.ndarray:
    """Inverse of ``to_standard`` (unused slots NaN), kept physical (polydispersities 0-1,
    volume fractions 0-0.74). ``families`` broadcasts against ``standard.shape[:-1]`` (for
    samples (rows, n, slots) pass ``families[:, None]``)."""
    families = np.asarray(families)
    v = np.asarray(standard, dtype=float) * WIDTH[families] + CENTER[families]
    v = np.where(LOG[families], np.exp(np.minimum(v, 50.0)), v)
    v = np.where(ACTIVE[families], v, np.nan)
    return np.clip(v, LOWER[families], UPPER[families])


def as_dict(name: str, row: np.ndarray) -> dict:
    """name -> value of one parameter row of family ``name``."""
    return {p: float(row[j]) for j, p in enumerate(family(name).parameter_names)}


__all__ = ["FAMILIES", "FAMILY_NAMES", "MAX_PARAMETERS", "MIN_PD_POINTS", "Family",
           "Parameter", "as_dict", "family", "family_index", "from_standard",
           "sasmodels_intensity", "to_standard", "to_vector"]
