"""An independent curve generator, for validating the shape estimate only (never for training).

Written apart from ``sasview_saxsim_plugin.inverse.training`` on purpose and importing nothing
from the package: other priors (log-normal sizes, Schulz and log-normal size distributions,
real X-ray SLDs instead of unit contrasts), sasmodels' own ``DirectModel`` with its resolution
classes (``Pinhole1D`` with a constant or a q-proportional width, ``Slit1D``), and its own noise
code (Poisson counts of the sample and of a separately measured, imperfectly scaled background,
subtracted as a beamline pipeline does). Instruments are presets of real set-ups with random
settings: lab pinhole SAXS, synchrotron SAXS, SAXS/WAXS, Bonse-Hart USAXS (slit-smeared),
Kratky slit camera, and SANS merged from three detector distances.

``draw_curve(rng, family)`` returns one curve with its truth in sasmodels' parameter names;
``draw_unknown(rng)`` one curve of a model outside the catalogue (Guinier-Porod, power laws,
correlation peaks, two populations, ...), for the "must not be confident" figure.
``truth_in_catalogue_terms`` turns the truth into the package's learnt coordinates (contrast
ratios of core-shell families), computed here from the physics, not from the package.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

#: water's X-ray SLD (1e-6/Å²)
WATER = 9.47


def _lognormal(rng, median, sigma_ln, low, high):
    for _ in range(1000):
        x = float(median * np.exp(rng.normal(0.0, sigma_ln)))
        if low <= x <= high:
            return x
    return float(np.clip(median, low, high))


def _log_uniform(rng, low, high):
    return float(np.exp(rng.uniform(np.log(low), np.log(high))))


def _pd(rng, name, high=0.25, kinds=("schulz", "lognormal", "gaussian")):
    return {name: float(rng.uniform(0.0, high)), name + "_type": str(rng.choice(kinds)),
            name + "_n": 80, name + "_nsigma": 3.0}


def _contrast_pair(rng, ratio_low=-1.4, ratio_high=2.9):
    """Shell and core SLDs in water with (core - water)/(shell - water) in the given range."""
    delta_shell = float(rng.choice([-1, 1]) * rng.uniform(1.0, 6.0))
    ratio = float(rng.triangular(ratio_low, 1.0, ratio_high))
    return WATER + ratio * delta_shell, WATER + delta_shell


def _sphere(rng):
    return {"radius": _lognormal(rng, 60, 0.9, 10, 500), "sld": WATER + rng.uniform(1, 8),
            "sld_solvent": WATER, **_pd(rng, "radius_pd")}


def _core_shell_sphere(rng):
    core, shell = _contrast_pair(rng)
    return {"radius": _lognormal(rng, 50, 0.8, 10, 400),
            "thickness": _lognormal(rng, 20, 0.7, 5, 150),
            "sld_core": core, "sld_shell": shell, "sld_solvent": WATER,
            **_pd(rng, "radius_pd", 0.2)}


def _vesicle(rng):
    return {"radius": _lognormal(rng, 150, 0.7, 10, 400),
            "thickness": _lognormal(rng, 35, 0.5, 5, 150),
            "sld": WATER + rng.choice([-1, 1]) * rng.uniform(1, 5), "sld_solvent": WATER,
            "volfraction": 0.05, **_pd(rng, "radius_pd", 0.3)}


def _ellipsoid(rng):
    for _ in range(1000):
        eq = _lognormal(rng, 60, 0.8, 10, 500)
        aspect = (_log_uniform(rng, 1.3, 8.0) if rng.random() < 0.5
                  else _log_uniform(rng, 0.12, 0.77))
        if 5 <= eq * aspect <= 2000:
            break
    return {"radius_equatorial": eq, "radius_polar": eq * aspect, "sld": WATER + 4.0,
            "sld_solvent": WATER, **_pd(rng, "radius_equatorial_pd", 0.2)}


def _cylinder(rng):
    for _ in range(1000):
        radius = _lognormal(rng, 40, 0.8, 10, 500)
        aspect = (_log_uniform(rng, 2, 40) if rng.random() < 0.6
                  else _log_uniform(rng, 0.06, 0.5))
        length = 2 * radius * aspect
        if 20 <= length <= 5000:
            break
    pars = {"radius": radius, "length": length, "sld": WATER + 3.0, "sld_solvent": WATER,
            **_pd(rng, "radius_pd", 0.2)}
    if rng.random() < 0.5:
        pars.update({"length_pd": float(rng.uniform(0, 0.2)), "length_pd_type": "gaussian",
                     "length_pd_n": 20})
    return pars


def _core_shell_cylinder(rng):
    for _ in range(1000):
        radius = _lognormal(rng, 30, 0.7, 10, 300)
        thickness = _lognormal(rng, 15, 0.6, 5, 100)
        length = _lognormal(rng, 400, 1.0, 40, 4000)
        if 0.05 <= length / (2 * (radius + thickness)) <= 50:
            break
    core, shell = _contrast_pair(rng)
    return {"radius": radius, "thickness": thickness, "length": length, "sld_core": core,
            "sld_shell": shell, "sld_solvent": WATER, **_pd(rng, "radius_pd", 0.2)}


def _flexible_cylinder(rng):
    for _ in range(1000):
        length = _lognormal(rng, 2000, 0.8, 200, 20000)
        kuhn = _lognormal(rng, 200, 0.8, 20, 2000)
        radius = _lognormal(rng, 20, 0.5, 5, 100)
        if 4 * radius <= kuhn <= length:
            break
    return {"length": length, "kuhn_length": kuhn, "radius": radius, "sld": WATER + 2.0,
            "sld_solvent": WATER}


def _parallelepiped(rng):
    for _ in range(1000):
        a = _lognormal(rng, 40, 0.7, 10, 500)
        b = a * _log_uniform(rng, 1.0, 4.0)
        c = b * _log_uniform(rng, 1.0, 6.0)
        if b <= 1000 and 20 <= c <= 2000:
            break
    return {"length_a": a, "length_b": b, "length_c": c, "sld": WATER + 5.0,
            "sld_solvent": WATER}


def _lamellar(rng):
    return {"thickness": _lognormal(rng, 40, 0.6, 10, 500), "sld": WATER - 2.0,
            "sld_solvent": WATER, **_pd(rng, "thickness_pd", 0.25)}


def _mono_gauss_coil(rng):
    return {"rg": _lognormal(rng, 60, 0.6, 10, 300), "i_zero": 1.0}


def _mass_fractal(rng):
    for _ in range(1000):
        radius = _lognormal(rng, 15, 0.5, 5, 100)
        cutoff = _lognormal(rng, 800, 0.8, 50, 5000)
        if cutoff >= 5 * radius:
            break
    return {"radius": radius, "fractal_dim_mass": float(rng.uniform(1.7, 2.8)),
            "cutoff_length": cutoff}


def _hardsphere(rng):
    # the interaction radius a little above the particle's (a stabilising layer), set
    # directly: the training curves use the particle radius itself
    radius = _lognormal(rng, 50, 0.7, 10, 500)
    return {"radius": radius, "volfraction": float(rng.uniform(0.05, 0.4)),
            "sld": WATER + 4.0, "sld_solvent": WATER, "radius_effective_mode": 0,
            "radius_effective": radius * float(rng.uniform(1.0, 1.15)),
            **_pd(rng, "radius_pd", 0.15, kinds=("schulz", "gaussian"))}


FAMILY_DRAWS = {
    "sphere": _sphere, "core_shell_sphere": _core_shell_sphere, "vesicle": _vesicle,
    "ellipsoid": _ellipsoid, "cylinder": _cylinder, "core_shell_cylinder": _core_shell_cylinder,
    "flexible_cylinder": _flexible_cylinder, "parallelepiped": _parallelepiped,
    "lamellar": _lamellar, "mono_gauss_coil": _mono_gauss_coil, "mass_fractal": _mass_fractal,
    "sphere@hardsphere": _hardsphere,
}


def _unknown(rng):
    """(label, sasmodels model name or '+'-joined sum, parameters) outside the catalogue."""
    kind = rng.choice(["guinier_porod", "power_law", "broad_peak", "dab", "two_spheres",
                       "teubner_strey", "pearl_necklace"])
    if kind == "guinier_porod":
        return kind, "guinier_porod", {"rg": _log_uniform(rng, 20, 200),
                                       "s": float(rng.uniform(0.0, 2.0)),
                                       "porod_exp": float(rng.uniform(2.5, 4.5))}
    if kind == "power_law":
        return kind, "power_law", {"power": float(rng.uniform(1.5, 4.0))}
    if kind == "broad_peak":
        return kind, "broad_peak", {"porod_scale": 1e-5, "porod_exp": 3.0, "peak_scale": 10.0,
                                    "correlation_length": _log_uniform(rng, 20, 200),
                                    "peak_pos": _log_uniform(rng, 0.02, 0.2),
                                    "width_exp": 2.0, "shape_exp": 1.0}
    if kind == "dab":
        return kind, "dab", {"cor_length": _log_uniform(rng, 20, 500)}
    if kind == "teubner_strey":
        return kind, "teubner_strey", {"d": _log_uniform(rng, 50, 500),
                                       "xi": _log_uniform(rng, 30, 300)}
    if kind == "pearl_necklace":
        return kind, "pearl_necklace", {"radius": _log_uniform(rng, 20, 80),
                                        "edge_sep": _log_uniform(rng, 50, 300),
                                        "thick_string": 5.0, "num_pearls": 5,
                                        "sld": WATER + 3, "sld_string": WATER + 3,
                                        "sld_solvent": WATER}
    small = _log_uniform(rng, 15, 60)
    return kind, "sphere+sphere", {"A_radius": small, "B_radius": small * rng.uniform(3, 10),
                                   "A_scale": 1.0, "B_scale": float(rng.uniform(1e-3, 1e-2)),
                                   "A_sld": WATER + 4, "B_sld": WATER + 4,
                                   "A_sld_solvent": WATER, "B_sld_solvent": WATER,
                                   "A_radius_pd": 0.1, "A_radius_pd_n": 40,
                                   "B_radius_pd": 0.1, "B_radius_pd_n": 40}


@dataclass
class Instrument:
    """A preset with its random settings: q segments (q_min, q_max, points, log spacing,
    resolution kind, resolution value) and counting settings."""

    name: str
    segments: list
    counts: float           # counts per point at the first point of the sample run
    pixel_power: float      # counts ∝ q^pixel_power (detector annulus); 0 for scanning USAXS
    background_counts: float  # flat measured background, relative to the sample's first point
    mismatch: float         # error of the background's scaling (transmission, thickness)
    incoherent: float       # flat sample background left in, relative to the signal at q_min
    has_errors: bool = True
    q_unit: str = "1/A"
    extra: dict = field(default_factory=dict)


def draw_instrument(rng) -> Instrument:
    kind = rng.choice(["lab", "synchrotron", "saxswaxs", "usaxs", "kratky", "sans"],
                      p=[0.25, 0.2, 0.15, 0.1, 0.1, 0.2])
    # background scaled with a transmission / thickness error of ~0.5 % (1 σ)
    mismatch = float(rng.normal(0.0, 0.005))
    incoherent = 0.0 if rng.random() < 0.15 else _log_uniform(rng, 1e-4, 1.5)
    has_errors = bool(rng.random() > 0.15)
    q_unit = "1/nm" if rng.random() < 0.1 else "1/A"
    if kind == "lab":
        q_min = rng.uniform(0.004, 0.015)
        # beam-size resolution: a constant σ_q, at most a third of the first q
        segs = [(q_min, rng.uniform(0.2, 0.6), int(rng.integers(150, 600)), False, "dq",
                 rng.uniform(0.001, 0.004) * min(1.0, q_min / 0.012))]
        return Instrument(kind, segs, _log_uniform(rng, 1e3, 1e5), 1.0,
                          _log_uniform(rng, 0.01, 1.0), mismatch, incoherent, has_errors, q_unit)
    if kind == "synchrotron":
        segs = [(rng.uniform(0.002, 0.01), rng.uniform(0.2, 0.5), int(rng.integers(500, 1000)),
                 False, "dq/q", rng.uniform(0.01, 0.03))]
        return Instrument(kind, segs, _log_uniform(rng, 1e5, 1e7), 1.0,
                          _log_uniform(rng, 0.001, 0.5), mismatch, incoherent, has_errors, q_unit)
    if kind == "saxswaxs":
        segs = [(rng.uniform(0.01, 0.03), rng.uniform(0.6, 1.0), int(rng.integers(400, 900)),
                 False, "dq/q", 0.02)]
        return Instrument(kind, segs, _log_uniform(rng, 1e4, 1e6), 1.0,
                          _log_uniform(rng, 0.01, 1.0), mismatch, incoherent, has_errors, q_unit)
    if kind == "usaxs":
        segs = [(rng.uniform(0.0003, 0.001), rng.uniform(0.05, 0.15), int(rng.integers(100, 250)),
                 True, "slit", rng.uniform(0.01, 0.03))]
        return Instrument(kind, segs, _log_uniform(rng, 1e4, 1e6), 0.0,
                          _log_uniform(rng, 0.001, 0.1), mismatch, incoherent, has_errors, q_unit)
    if kind == "kratky":
        segs = [(rng.uniform(0.005, 0.01), rng.uniform(0.3, 0.6), int(rng.integers(200, 400)),
                 False, "slit", rng.uniform(0.03, 0.1))]
        return Instrument(kind, segs, _log_uniform(rng, 1e3, 1e5), 0.0,
                          _log_uniform(rng, 0.01, 1.0), mismatch, incoherent, has_errors, q_unit)
    segs = [(0.001 * rng.uniform(0.8, 1.5), 0.012, 40, True, "dq/q", 0.15),
            (0.008, 0.09, 60, True, "dq/q", 0.08),
            (0.05, rng.uniform(0.3, 0.5), 60, True, "dq/q", 0.05)]
    return Instrument("sans", segs, _log_uniform(rng, 1e2, 1e4), 2.0,
                      _log_uniform(rng, 0.05, 2.0), mismatch, incoherent, has_errors, q_unit)


@lru_cache(maxsize=64)
def _model(name: str):
    from sasmodels.core import load_model

    return load_model(name)


def theory(model_name: str, pars: dict, q: np.ndarray, kind: str, value: float) -> np.ndarray:
    """sasmodels' DirectModel I(q) (1/cm) with the segment's resolution."""
    from sasmodels.data import empty_data1D
    from sasmodels.direct_model import DirectModel

    data = empty_data1D(q)
    if kind == "dq":
        data.dx = np.full(q.shape, value)
    elif kind == "dq/q":
        data.dx = value * q
    else:  # slit length, no width
        data.dx = None
        data.dxl, data.dxw = np.full(q.shape, value), np.zeros(q.shape)
    return np.asarray(DirectModel(data, _model(model_name))(**pars), dtype=float)


def record(rng, model_name: str, pars: dict, instrument: Instrument) -> dict:
    """One measured curve: q, dq (pinhole only) and slit length (slit only), all in the
    curve's ``q_unit``; I, dI (None when the file has none); and what was done."""
    qs, intensities, dq, slit = [], [], [], []
    for q_min, q_max, n, log, kind, value in instrument.segments:
        q = np.geomspace(q_min, q_max, n) if log else np.linspace(q_min, q_max, n)
        qs.append(q)
        intensities.append(theory(model_name, pars, q, kind, value))
        dq.append(np.full(q.shape, value) if kind == "dq" else
                  (value * q if kind == "dq/q" else np.full(q.shape, np.nan)))
        slit.append(np.full(q.shape, value if kind == "slit" else np.nan))
    q, signal, dq, slit = (np.concatenate(x) for x in (qs, intensities, dq, slit))
    order = np.argsort(q)
    q, signal, dq, slit = q[order], signal[order], dq[order], slit[order]
    signal = signal + instrument.incoherent * signal[0]
    # counts: the sample run sees signal + measured background; the background run is counted
    # as long and subtracted with a slightly wrong scale factor
    norm = instrument.counts / max(signal[0], 1e-300)
    pixels = (q / q[0]) ** instrument.pixel_power
    background = instrument.background_counts * signal[0] * np.ones_like(q)
    sample_counts = rng.poisson(np.maximum((signal + background) * norm * pixels, 0))
    background_counts = rng.poisson(np.maximum(background * norm * pixels, 0))
    scale = 1.0 + instrument.mismatch
    intensity = (sample_counts - scale * background_counts) / (norm * pixels)
    d_intensity = np.sqrt(np.maximum(sample_counts + scale**2 * background_counts, 1.0)
                          ) / (norm * pixels)
    unit = 10.0 if instrument.q_unit == "1/nm" else 1.0  # q, dq and slit length in q_unit
    return {"q": q * unit, "I": intensity,
            "dI": d_intensity if instrument.has_errors else None,
            "dq": None if np.isnan(dq).all() else dq * unit,
            "slit_length": None if np.isnan(slit).all() else slit * unit,
            "q_unit": instrument.q_unit,
            "instrument": instrument.name, "incoherent": instrument.incoherent,
            "mismatch": instrument.mismatch,
            "negative_points": int(np.sum(intensity <= 0))}


def draw_curve(rng, family: str) -> dict:
    """One curve of catalogue ``family`` (sasmodels name): the record plus ``family`` and
    ``truth`` (the sasmodels parameters it was made with)."""
    pars = FAMILY_DRAWS[family](rng)
    out = record(rng, family, pars, draw_instrument(rng))
    out.update(family=family, truth=pars)
    return out


def draw_unknown(rng) -> dict:
    """One curve of a model the catalogue does not hold."""
    label, model_name, pars = _unknown(rng)
    out = record(rng, model_name, pars, draw_instrument(rng))
    out.update(family=None, unknown=label, truth=pars)
    return out


def truth_in_catalogue_terms(family: str, truth: dict) -> dict:
    """The truth as the estimate reports it: sasmodels names; SLDs of core-shell families as
    the core's contrast relative to the shell's (the estimate fixes sld_shell = 1,
    sld_solvent = 0); polydispersity as the distribution's relative width."""
    out = {k: float(v) for k, v in truth.items()
           if isinstance(v, (int, float)) and not k.endswith(("_n", "_nsigma"))}
    if "sld_core" in truth and "sld_shell" in truth:
        out["sld_core"] = ((truth["sld_core"] - truth["sld_solvent"])
                           / (truth["sld_shell"] - truth["sld_solvent"]))
    return out
