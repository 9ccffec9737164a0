"""The family estimate on SasView's own example files, next to an expert multi-start fit.

    python benchmarks/real_data.py [--workers 2] [--starts 3] [--no-expert] [--json FILE]

For every 1D file in SasView's ``example_data/1d_data`` that is a particle scattering curve,
read as ``saxsim infer`` reads it (``io.loading.load_curve``; dq or the slit length smear the
models; σ from the scatter where a file has no dI):

* the top three families of ``estimate`` with their probabilities, and the confidence flag;
* the reduced χ² of the fit seeded from the estimate (``saxsim infer --refine``:
  ``refine_estimate``) and the family it chose;
* the best reduced χ² of an expert multi-start over all twelve families (a grid pre-scan of
  each family's prior without the resolution smearing, the ``--starts`` best grid points of
  every family refined with it by the same least-squares engine;
  ``inverse_seeding.strategy_multistart``), with that family.

A seeded χ² near the expert's says the estimate starts the fit where an expert would end;
much larger says the seed was poor (or the listed families do not include the one that fits).
These files are not from the catalogue's generator: none of them is "true" in a catalogue
family, so the table reports fits, not accuracy.

Prints the table (with the machine and the command) and writes nothing else unless --json
FILE is given.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import publish  # noqa: E402
from inverse_seeding import map_with_progress, worker_machine  # noqa: E402

#: the particle-scattering files of SasView's example_data/1d_data (the issue's list)
FILES = ["apoferritin.txt", "conalbumin.txt",
         "AOT_Microemulsion-Core_Contrast.xml", "AOT_Microemulsion-Drop_Contrast.xml",
         "AOT_Microemulsion-Shell_Contrast.xml", "Ludox_silica.xml", "latex_smeared.xml",
         "x_coreshell_1.txt", "x_coreshell_2.txt", "x_coreshell_3.txt", "x_coreshell_4.txt",
         "n_coreshell.txt", "hSDS_D2O_0p5_percent.xml", "hSDS_D2O_2p0_percent.xml",
         "hSDS_D2O_2p0_percent_0p2M_NaCl.xml", "P123_D2O_10_percent.xml",
         "P123_D2O_30_percent.xml", "P123_D2O_40_percent.xml", "PolySpheres.txt",
         "100nmPinholeSphere.txt", "sphere_80.txt", "sphere_60_q0_2.txt", "cyl_400_20.txt",
         "cyl_400_40.txt", "cyl_testdata.txt", "cyl_testdata1.txt", "cyl_testdata2.txt"]


def example_folder() -> Path:
    import sas

    return Path(sas.__file__).parent / "example_data" / "1d_data"


def _one(args: tuple) -> dict:
    path, expert, starts = args
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    import torch

    torch.set_num_threads(1)
    from inverse_seeding import strategy_multistart

    from sasview_saxsim_plugin.errors import SaxsimInputError
    from sasview_saxsim_plugin.inverse.analysis import analyse_curve, fit_inputs
    from sasview_saxsim_plugin.io.loading import load_curve

    row = {"file": Path(path).name}
    try:
        curve = load_curve(path)
        t = time.perf_counter()
        analysis = analyse_curve(curve, refine=True)
        row["seeded_seconds"] = time.perf_counter() - t
    except SaxsimInputError as exc:
        row["refused"] = str(exc).splitlines()[0]
        return row
    r, fit = analysis.estimate, analysis.refined
    row.update(points=len(curve.q), q_min=float(curve.q.min()), q_max=float(curve.q.max()),
               resolution="slit" if "slit_length" in curve.columns else
               "pinhole" if curve.dq is not None else "none",
               has_di=curve.d_intensity is not None,
               top3=[(x.model_name, float(x.probability)) for x in r.ranked[:3]],
               confident=bool(r.confident), seeded_model=fit.model_name,
               seeded_chi2=float(fit.reduced_chi2), seeded_parameters=fit.parameters)
    q, i, sigma, res = fit_inputs(curve)
    if not expert:
        return row
    t = time.perf_counter()
    best = strategy_multistart(q, i, sigma, res, starts=starts, criterion="chi2",
                               scan_resolution=False)
    row.update(expert_model=best.model_name, expert_chi2=float(best.reduced_chi2),
               expert_parameters=best.parameters, expert_seconds=time.perf_counter() - t)
    return row


def table(rows: list[dict]) -> str:
    lines = ["| file | points, q range (1/Å), resolution | top three (P) | confident | "
             "seeded fit: family, χ²_r | expert multi-start: family, χ²_r |",
             "|---|---|---|---|---|---|"]
    for r in rows:
        if "refused" in r:
            lines.append(f"| {r['file']} | refused: {r['refused']} | | | | |")
            continue
        top = ", ".join(f"{n} {p:.2f}" for n, p in r["top3"])
        lines.append(
            f"| {r['file']} | {r['points']}, {r['q_min']:.4f}–{r['q_max']:.3f}, "
            f"{r['resolution']}{'' if r['has_di'] else ', no dI'} | {top} | "
            f"{'yes' if r['confident'] else 'no'} | {r['seeded_model']} "
            f"{r['seeded_chi2']:.3g} | " + (f"{r['expert_model']} {r['expert_chi2']:.3g} |"
                                            if "expert_model" in r else "not run |"))
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workers", type=int, default=os.cpu_count())
    ap.add_argument("--json", metavar="FILE", help="also save every file's row as JSON")
    ap.add_argument("--starts", type=int, default=3,
                    help="grid points of each family the expert refines (default 3)")
    ap.add_argument("--no-expert", action="store_true",
                    help="skip the expert multi-start (minutes per file with the slow kernels)")
    a = ap.parse_args(argv)
    folder = example_folder()
    paths = [str(folder / f) for f in FILES if (folder / f).exists()]
    missing = [f for f in FILES if not (folder / f).exists()]
    jobs = [(p, not a.no_expert, a.starts) for p in paths]
    partial = open(a.json + ".partial", "w") if a.json else None   # noqa: SIM115
    try:                 # every finished file also goes to FILE.partial (a long run may stop)
        rows = map_with_progress(_one, jobs, a.workers, every=1, on_row=None if partial is None
                                 else lambda row: (partial.write(json.dumps(row, default=float)
                                                                 + "\n"), partial.flush()))
    finally:
        if partial is not None:
            partial.close()
    text = table(rows)
    if missing:
        text += "\nnot in this SasView's example_data: " + ", ".join(missing)
    publish("Family estimate on SasView's example files", text, worker_machine(a.workers),
            {"rows": rows}, a.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
