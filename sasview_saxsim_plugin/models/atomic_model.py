"""Plugin models of atomic structures (``saxsim make-model STRUCTURE.pdb``).

``make_atomic_model`` reads a PDB/mmCIF file, places the hydration sites, computes the pair
histograms (``scattering.atomic``) once and stores them as ``NAME_atoms.npz`` next to the
plugin; the plugin records the file's SHA-256 and refuses to run if it is gone or changed.
Its fit parameters are the solvent's electron density, the scale of the atoms' displaced
volumes and the hydration shell's contrast: they change the per-kind form factors, not the
histograms, so a call costs the sums over the histograms' bins (milliseconds).

I(q) = scale/V·(r_e·f)²-sums + background in 1/cm, V the displaced volume of the atoms, so
*scale* is the particles' volume fraction (X-ray, electron densities in e/Å³).
"""

from __future__ import annotations

import os
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from ..errors import SaxsimInputError, warn_if_q_in_nm
from ..scattering.atomic import HYDRATION, PairHistogram, SolvatedStructure

#: classical electron radius (Å) times 1e6: electrons -> sasmodels' 1e-6/Å²·Å³ amplitude
ELECTRON_AMPLITUDE = 2.8179403262e-5 * 1e6

#: per radiation: the help's words, the first parameter's name and the parameter rows
RADIATIONS = {
    "xray": dict(
        radiation="X-ray", scatterer="its Waasmaier-Kirfel form factor",
        solvent="solvent_density", solvent_text="*solvent_density* (e/Å³)",
        parameter_rows="""\
    ["solvent_density", "e/Ang^3", 0.334, [0, 2], "", "electron density of the solvent"],
    ["excluded_volume_scale", "", 1.0, [0.8, 1.2], "", "scale of the displaced volumes"],
    ["hydration_contrast", "e/Ang^3", 0.03, [-0.5, 0.5], "",
     "excess electron density of the hydration shell"],"""),
    "neutron": dict(
        radiation="Neutron", scatterer="its coherent scattering length (periodictable)",
        solvent="d2o_fraction",
        solvent_text="the SLD of an H2O/D2O mixture with *d2o_fraction* D2O; hydrogens on "
                     "N, O and S exchange with the solvent's",
        parameter_rows="""\
    ["d2o_fraction", "", 1.0, [0, 1], "",
     "D2O fraction of the solvent: its SLD and the exchange of labile hydrogens"],
    ["excluded_volume_scale", "", 1.0, [0.8, 1.2], "", "scale of the displaced volumes"],
    ["hydration_contrast", "1e-6/Ang^2", 0.0, [-5, 5], "",
     "excess SLD of the hydration shell"],"""),
}

TEMPLATE = '''r"""
{title}

{radiation} scattering of the atomic structure ``{source}`` ({atoms} atoms, {hydrogens}, {sites}
hydration sites; kinds {elements}) in solvent, by the Debye equation over its binned pair
distances (docs: "Models from any geometry"; tables in ``{npz}``, SHA-256 {sha256}). Each
atom scatters with {scatterer} (with its implicit hydrogens: united atoms CH, CH2, …)
minus the solvent it displaces (a Gaussian sphere of its Fraser volume times {solvent_text},
the volumes scaled by *excluded_volume_scale*³ as in CRYSOL); the hydration shell (grid
sites 3-6 Å from the atom centres) adds *hydration_contrast* over bulk solvent.
I(q) = scale/V·|A|²·1e-4 + background (1/cm) with A in 1e-6 Å and V = {volume:.6g} Å³
the atoms' displaced volume: *scale* is the volume fraction.
Written by ``saxsim make-model``; refuses to run if the tables file is gone or changed.
"""

from sasview_saxsim_plugin.models.atomic_model import bound_structure

_STRUCTURE = bound_structure({npz!r}, {sha256!r})

name = {name!r}
title = {title!r}
description = "{radiation} I(q) of the atomic structure {source} in solvent (see the help)"
category = "plugin"
parameters = [
{parameter_rows}
]


def Iq(q, {solvent}, excluded_volume_scale, hydration_contrast):  # noqa: N802
    return _STRUCTURE.iq(q, {solvent}, excluded_volume_scale, hydration_contrast)


Iq.vectorized = True
'''


def save_structure(model: SolvatedStructure, path: str | os.PathLike, source: str) -> None:
    """Write the histograms, volumes and source name of ``model`` to an .npz file: the
    pairs of kinds that have pairs (a ≤ b) as float32 rows over the shared distance nodes,
    uncompressed (a 100 000-atom structure has tens of MB of them; compressing them took
    longer than computing them)."""
    h = model.histogram
    n = len(h.kinds)
    upper = [(a, b) for a in range(n) for b in range(a, n) if h.pairs[a, b].any()]
    rows = np.array([h.pairs[a, b] for a, b in upper], dtype=np.float32)
    np.savez(path, kinds=np.array(h.kinds), counts=h.counts,
             pair_index=np.array(upper, dtype=np.int64).reshape(-1, 2), pair_rows=rows,
             distance=np.asarray(h.distance, float), site_volume=model.site_volume,
             radiation=model.radiation, volume_kinds=np.array(list(model.volumes)),
             volume_values=np.array(list(model.volumes.values())), source=source)


def load_structure(path: str | os.PathLike) -> SolvatedStructure:
    """The :class:`SolvatedStructure` saved by :func:`save_structure`."""
    with np.load(path, allow_pickle=False) as z:
        kinds = tuple(str(k) for k in z["kinds"])
        distance = z["distance"]
        if "pairs" in z.files:            # written before 2026-12-07: dense, with nodes per pair
            pairs, distance = z["pairs"], distance.reshape(-1, distance.shape[-1])[0]
        else:
            pairs = np.zeros((len(kinds), len(kinds), distance.shape[-1]))
            for (a, b), row in zip(z["pair_index"], z["pair_rows"], strict=True):
                pairs[a, b] = row
        hist = PairHistogram(kinds, z["counts"], pairs, distance)
        volumes = {str(k): float(v) for k, v in zip(z["volume_kinds"], z["volume_values"],
                                                    strict=True)}
        radiation = str(z["radiation"]) if "radiation" in z.files else "xray"
        return SolvatedStructure(hist, volumes, float(z["site_volume"]), radiation)


class BoundStructure:
    """The tables of one plugin model, checked against the recorded checksum."""

    def __init__(self, path: str, sha256: str):
        self.path, self.sha256 = path, sha256
        self._model: SolvatedStructure | None = None
        self._stamp = None
        self._lock = threading.Lock()

    def _ensure(self) -> SolvatedStructure:
        """The tables, checked at every call: size and mtime cheaply, the checksum when
        those change (as the density models do)."""
        from .density_model import check_unchanged
        with self._lock:
            self._stamp = check_unchanged(self.path, self.sha256, self._stamp, "tables file")
            if self._model is None:
                self._model = load_structure(self.path)
            return self._model

    def iq(self, q, solvent_density, excluded_scale, hydration_contrast) -> np.ndarray:
        """sasmodels ``Iq`` (1/cm at scale 1): |A|²·1e-4 / V, A in 1e-6 Å (electrons ×
        r_e·1e6 for X-rays); for neutrons ``solvent_density`` is the D2O fraction."""
        model = self._ensure()
        values = [float(np.asarray(v, float).ravel()[0]) for v in
                  (solvent_density, excluded_scale, hydration_contrast)]
        warn_if_q_in_nm(q, f"the model of {Path(self.path).name}")
        a2 = model.intensity(np.abs(np.asarray(q, float)), *values)
        unit = ELECTRON_AMPLITUDE if model.radiation == "xray" else 1.0
        return a2 * unit ** 2 * 1e-4 / model.excluded_volume


_BOUND: dict = {}


def bound_structure(path: str, sha256: str) -> BoundStructure:
    """Shared :class:`BoundStructure` per (tables file, checksum)."""
    key = (path, sha256)
    if key not in _BOUND:
        _BOUND[key] = BoundStructure(path, sha256)
    return _BOUND[key]


def make_atomic_model(structure: str | os.PathLike, name: str,
                      out_dir: str | os.PathLike | None = None, overwrite: bool = False,
                      hydration: bool = True, progress: bool = False,
                      implicit_hydrogens: bool = True, radiation: str = "xray") -> Path:
    """Write plugin model ``NAME.py`` (and its tables ``NAME_atoms.npz``) of a PDB/mmCIF
    file into ``out_dir`` (default: SasView's plugin folder), with a hydration shell unless
    ``hydration`` is False and implicit hydrogens on residues without them unless
    ``implicit_hydrogens`` is False, for ``radiation`` "xray" or "neutron" (fit parameters
    solvent_density or d2o_fraction, excluded_volume_scale, hydration_contrast). The model is
    loaded with sasmodels and evaluated before anything is written there."""
    from ..density.structures import read_structure
    from ..scattering.atomic import solvated_structure
    from .density_model import check_model_name, file_sha256, write_checked

    if name != name.lower():
        raise SaxsimInputError(f"model name {name!r} must be lower-case")
    target = check_model_name(name, out_dir, overwrite)
    # absolute: SasView loads the plugin from any working directory
    target = target.resolve()
    tables = target.with_name(f"{name}_atoms.npz")
    if tables.exists() and not overwrite:
        raise SaxsimInputError(f"{tables} exists; pass --overwrite to replace it")
    t = time.perf_counter()
    if radiation not in RADIATIONS:
        raise SaxsimInputError(f"radiation must be one of {', '.join(RADIATIONS)}, got "
                               f"{radiation!r}")
    s = read_structure(structure, implicit_hydrogens=implicit_hydrogens)
    if radiation == "neutron":          # exchange is told by each hydrogen's heavy atom
        from ..density.structures import absorb_hydrogens
        s = absorb_hydrogens(s)
    model = solvated_structure(s.xyz, s.elements, s.occupancy, hydration=hydration,
                               hydrogens=s.hydrogens, radiation=radiation)
    implicit = 0 if s.hydrogens is None else int(s.hydrogens.sum())
    hydrogens = (f"{implicit} hydrogens as united atoms" if implicit else
                 f"{int(np.sum(s.elements == 'H'))} hydrogens in the file")
    if progress:
        print(f"{s.source}: {len(s)} atoms + {implicit} implicit hydrogens, pair histograms "
              f"in {time.perf_counter() - t:.1f} s")
    elements = ", ".join(f"{k} {int(round(n))}" for k, n in zip(
        model.histogram.kinds, model.histogram.counts, strict=True) if k != HYDRATION)
    sites = int(model.histogram.counts[list(model.histogram.kinds).index(HYDRATION)]) \
        if HYDRATION in model.histogram.kinds else 0
    with tempfile.TemporaryDirectory() as tmp:
        trial_tables = Path(tmp) / tables.name
        save_structure(model, trial_tables, s.source)
        sha = file_sha256(trial_tables)
        words = RADIATIONS[radiation]
        text = TEMPLATE.format(title=f"Atomic structure {s.source} ({words['radiation']})",
                               source=s.source, **words,
                               atoms=len(s), sites=sites, elements=elements, npz=str(tables),
                               hydrogens=hydrogens,
                               sha256=sha, volume=model.excluded_volume, name=name)
        write_checked(target, text, s.source, (0.01, 0.1, 0.3), {tables: trial_tables})
    return target
