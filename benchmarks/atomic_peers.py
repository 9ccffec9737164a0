#!/usr/bin/env python
"""Atomic structures in vacuum: this package's binned Debye sum next to AUSAXS, DENSS and
SasView's Generic Scattering Calculator, against the exact pair sum.

    python benchmarks/atomic_peers.py                         # SasView's PDBs + 52 530 atoms
    python benchmarks/atomic_peers.py --copies 0 --peers denss

Structures: SasView's ``example_data/coordinate_data`` PDB files (dna, 2w0o, 1n04, diamond)
and an assembly of ``--copies`` translated copies of 1n04. Every structure is first written
as a clean PDB (alternate location A only, occupancies 1, waters removed, HETATM as ATOM,
element column filled) so that every program reads the same atoms: the table compares the
engines and their form factors, not the readers.

* reference: the Debye sum over every atom pair with Waasmaier-Kirfel form factors
  (``scattering.atomic.debye_direct``) up to ``--direct-max`` atoms; above, the pair
  histogram with 0.0005 Å nodes (its error is (q·w)²/8 of sinc's curvature: < 1e-8);
* saxsim: ``pair_histogram`` (0.01 Å nodes) + the sums at q: what ``make-model`` does;
* AUSAXS (pyausaxs as installed): its Debye engine with its own form factors (C, N, O, S,
  H tabulated; every other element as an 18-electron argon shape) through per-kind partial
  sums; DENSS (``denss`` 1.8.7 PDB2MRC, in vacuo, grid ≤ 256³, cubic interpolation);
  SasView (``sas_gen`` "Debye full avg.": point atoms of Z electrons).

q = 0–0.5 1/Å (51 points). Errors are |I/I_ref − 1| in absolute units (electrons²). Wall
time of one call per program and structure in this process (the first AUSAXS call includes
its start-up; AUSAXS's column also gives the time of one call of its engine on all atoms,
what its own profile costs, since the per-kind sums above take several), as ratios from one
run. Prints the table; writes nothing else unless --json.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from common import machine_description, publish  # benchmarks/ is on sys.path

from sasview_saxsim_plugin.density.structures import Structure, read_structure
from sasview_saxsim_plugin.scattering.atomic import (
    debye_direct,
    pair_histogram,
    xray_form_factor,
)

Q = np.linspace(0.0, 0.5, 51)


def example_dir() -> Path:
    import sas
    return Path(sas.__file__).parent / "example_data" / "coordinate_data"


def clean_pdb(source: Path, out: Path, copies: int = 1, step: float = 80.0) -> Structure:
    """Write ``source`` as a clean PDB (see the module doc), ``copies`` translated copies on
    a square grid of ``step`` Å; returns the atoms written."""
    import gemmi
    st = gemmi.read_structure(str(source))
    atoms = []
    for chain in st[0]:
        for residue in chain:
            if residue.name in ("HOH", "WAT", "DOD"):
                continue
            for atom in residue:
                if atom.altloc not in ("\0", " ", "A"):
                    continue
                atoms.append((residue.name[:3] if residue.name.isalnum() else "UNK",
                              atom.name, atom.element.name, atom.pos.x, atom.pos.y,
                              atom.pos.z))
    side = int(np.ceil(np.sqrt(copies)))
    lines, serial = [], 0
    for c in range(copies):
        dx, dy = step * (c % side), step * (c // side)
        for res, name, el, x, y, z in atoms:
            serial += 1
            # PDB convention (SasView's reader relies on it): a one-letter element's atom
            # name starts in column 14
            field = f" {name[:3]:<3}" if len(el) == 1 and len(name) < 4 else f"{name[:4]:<4}"
            lines.append(f"ATOM  {serial % 100000:5d} {field} {res:>3} A"
                         f"{(serial // 20) % 10000:4d}    {x + dx:8.3f}{y + dy:8.3f}{z:8.3f}"
                         f"  1.00  0.00          {el.upper():>2}")
    out.write_text("\n".join(lines + ["END"]) + "\n")
    return read_structure(out)


@contextlib.contextmanager
def quiet():
    """Silence stdout at the file-descriptor level (AUSAXS's C++ prints on every call)."""
    sys.stdout.flush()
    saved = os.dup(1)
    with open(os.devnull, "w") as null:
        os.dup2(null.fileno(), 1)
        try:
            yield
        finally:
            sys.stdout.flush()
            os.dup2(saved, 1)
            os.close(saved)


# --- peers (calls worked out from their sources; see the module doc) -------------------------

#: AUSAXS's form-factor table (FormFactorTable.h): a (5), b (5, exp(-b·s²), s = q/4π), c, Z
AUSAXS_FF = {
    "H": ([0.489918, 0.262003, 0.196767, 0.049879, 0], [20.6593, 7.74039, 49.5519, 2.20159, 0],
          0.001305, 1),
    "C": ([2.657506, 1.078079, 1.490909, -4.241070, 0.713791],
          [14.780758, 0.776775, 42.086843, -0.000294, 0.239535], 4.297983, 6),
    "N": ([11.893780, 3.277479, 1.858092, 0.858927, 0.912985],
          [0.000158, 10.232723, 30.344690, 0.656065, 0.217287], -11.804902, 7),
    "O": ([2.960427, 2.508818, 0.637853, 0.722838, 1.142756],
          [14.182259, 5.936858, 0.112726, 34.958481, 0.390240], 0.027014, 8),
    "S": ([6.362157, 5.154568, 1.473732, 1.635073, 1.209372],
          [1.514347, 22.092528, 0.061373, 55.445176, 0.646925], 0.154722, 16),
    "OTHER": ([7.188004, 6.638454, 0.454180, 1.929593, 1.523654],
              [0.956221, 15.339877, 15.339862, 39.043824, 0.062409], 0.265954, 18),
}


def ausaxs_form_factor(element: str, q: np.ndarray) -> np.ndarray:
    a, b, c, z = AUSAXS_FF.get(element, AUSAXS_FF["OTHER"])
    s2 = (np.asarray(q, float) / (4 * np.pi)) ** 2
    f = sum(ai * np.exp(-bi * s2) for ai, bi in zip(a, b, strict=True)) + c
    return z * f / (sum(a) + c)


def peer_ausaxs(s: Structure, path: Path, q: np.ndarray) -> np.ndarray:
    """AUSAXS's Debye engine (``debye(q, x, y, z, w)``, constant weights) combined per pair
    of kinds: I = Σ f_a² D_a + Σ_{a<b} f_a f_b (D_ab − D_a − D_b), its own form factors."""
    from pyausaxs import AUSAXS
    with quiet():
        lib = AUSAXS()
    el, xyz = s.elements, s.xyz
    kinds = sorted(set(el.tolist()))
    f = {k: ausaxs_form_factor(k, q) for k in kinds}

    def debye(mask):
        with quiet():
            return np.asarray(lib.debye(q, xyz[mask, 0], xyz[mask, 1], xyz[mask, 2],
                                        np.ones(int(mask.sum()))), float)

    t = time.perf_counter()
    debye(np.ones(len(el), bool))
    ENGINE_SECONDS["AUSAXS"] = time.perf_counter() - t
    single = {k: debye(el == k) for k in kinds}
    total = sum(f[k] ** 2 * single[k] for k in kinds)
    for i, a in enumerate(kinds):
        for b in kinds[i + 1:]:
            total = total + f[a] * f[b] * (debye((el == a) | (el == b)) - single[a] - single[b])
    return total


def peer_denss(s: Structure, path: Path, q: np.ndarray) -> np.ndarray:
    """DENSS PDB2MRC in vacuo: explicit atoms, no excluded volume, no shell; grid ≤ 256³."""
    import denss
    with quiet():
        pdb = denss.PDB(str(path))
        m = denss.PDB2MRC(pdb, explicitH=True, ignore_waters=True, rho0=0.0,
                          shell_contrast=0.0, fit_all=False, quiet=True, ignore_warnings=True,
                          logger=logging.getLogger("denss"))
        m.scale_radii()
        m.make_grids()
        m.calculate_global_B()
        m.calculate_invacuo_density()
        m.rho_exvol = np.zeros_like(m.rho_invacuo)
        m.rho_shell = np.zeros_like(m.rho_invacuo)
        m.calculate_structure_factors()
        m.calc_I_with_modified_params(m.params)
        out = denss.regrid_Iq(m.Iq_calc, qc=q, use_sasrec=False, D=m.D)
    return out[:, 1]


def peer_sasview(s: Structure, path: Path, q: np.ndarray) -> np.ndarray:
    """SasView's Generic Scattering Calculator, "Debye full avg.": point atoms, weight Z."""
    os.environ.setdefault("SAS_NUMBA", "0")
    import periodictable
    from sas.sascalc.calculator.sas_gen import GenSAS, PDBReader
    data = PDBReader().read(str(path))
    z = np.array([periodictable.elements.symbol(x).number for x in data.pix_symbol], float)
    vol = np.asarray(data.vol_pix, float)
    data.sld_n = z / vol
    model = GenSAS()
    model.set_sld_data(data)
    model.set_is_avg(False)
    with quiet():
        iq = model.runXY([q, np.array([])])
    return np.asarray(iq, float) * vol.sum() / 1e8


#: one call of a peer's engine on all atoms (no form factors): AUSAXS's own cost per curve
ENGINE_SECONDS: dict = {}

PEERS = {"AUSAXS": peer_ausaxs, "DENSS": peer_denss, "SasView sas_gen": peer_sasview}


def saxsim(s: Structure, q: np.ndarray, bin_width: float = 0.01) -> np.ndarray:
    names, kinds = s.kinds()
    ff = np.array([xray_form_factor(n, q) for n in names])
    return pair_histogram(s.xyz, kinds, names, s.occupancy, bin_width).intensity(q, ff)


def reference(s: Structure, q: np.ndarray, direct_max: int) -> tuple[np.ndarray, str]:
    names, kinds = s.kinds()
    ff = np.array([xray_form_factor(n, q) for n in names])
    if len(s) <= direct_max:
        return debye_direct(s.xyz, ff[kinds], q, s.occupancy), "direct pair sum"
    return saxsim(s, q, bin_width=0.0005), "pair histogram, 0.0005 Å nodes"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--files", nargs="+", default=["dna.pdb", "2w0o.pdb", "diamond.pdb",
                                                   "1n04.pdb"])
    ap.add_argument("--copies", type=int, default=10,
                    help="copies of 1n04 in the large assembly (0: none)")
    ap.add_argument("--peers", nargs="*", default=list(PEERS), help="AUSAXS DENSS ...")
    ap.add_argument("--direct-max", type=int, default=6000)
    ap.add_argument("--json")
    a = ap.parse_args(argv)
    peers = {k: v for k, v in PEERS.items() if any(p.lower() in k.lower() for p in a.peers)}
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        jobs = [(f, 1) for f in a.files] + ([("1n04.pdb", a.copies)] if a.copies else [])
        # compile the pair kernel outside the timings
        saxsim(read_structure(example_dir() / "dna.pdb"), Q[:3])
        for name, copies in jobs:
            path = Path(tmp) / f"{Path(name).stem}_x{copies}.pdb"
            s = clean_pdb(example_dir() / name, path, copies)
            label = name if copies == 1 else f"{name} × {copies}"
            t = time.perf_counter()
            ref, how = reference(s, Q, a.direct_max)
            ref_s = time.perf_counter() - t
            row = {"structure": label, "atoms": len(s), "reference": how,
                   "reference_s": ref_s, "results": {}}
            for program, fn in [("saxsim", lambda s, p, q: saxsim(s, q)), *peers.items()]:
                t = time.perf_counter()
                try:
                    out = fn(s, path, Q)
                except Exception as exc:  # noqa: BLE001 (a peer failing is a result)
                    row["results"][program] = {"error": f"{type(exc).__name__}: {exc}"}
                    continue
                seconds = time.perf_counter() - t
                rel = np.abs(out / ref - 1)
                row["results"][program] = {"median": float(np.median(rel)),
                                           "max": float(rel.max()), "seconds": seconds,
                                           "engine_seconds": ENGINE_SECONDS.pop(program, None)}
                print(f"{label} {program}: median {100 * np.median(rel):.3g} %, max "
                      f"{100 * rel.max():.3g} %, {seconds:.2f} s", file=sys.stderr, flush=True)
            rows.append(row)
    programs = ["saxsim", *peers]
    lines = ["| structure (atoms) | reference | " + " | ".join(
        f"{p}: median / max \\|ΔI\\|/I, s" for p in programs) + " |",
        "|---|---|" + "---|" * len(programs)]
    for r in rows:
        cells = []
        for p in programs:
            x = r["results"].get(p, {})
            engine = (f" (one engine call {x['engine_seconds']:.2f})"
                      if x.get("engine_seconds") is not None else "")
            cells.append(f"failed ({x['error'][:60]})" if "error" in x else
                         f"{100 * x['median']:.3g} % / {100 * x['max']:.3g} %, "
                         f"{x['seconds']:.2f}{engine}")
        lines.append(f"| {r['structure']} ({r['atoms']}) | {r['reference']} "
                     f"({r['reference_s']:.1f} s) | " + " | ".join(cells) + " |")
    publish("Atomic structures in vacuum against the exact Debye sum", "\n".join(lines),
            machine_description(), {"rows": rows}, a.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
