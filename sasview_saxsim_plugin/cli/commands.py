"""``saxsim``: the command line. Thin: every command is a call into the library.

Units: lengths in Å, q in 1/Å, SLD in 1e-6/Å², intensity in 1/cm.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings

import numpy as np

from ..errors import SaxsimInputError, SaxsimRunError
from ..geometry.registry import SHAPES, get_shape
from ..io.curves import check_target

ENSEMBLES = ("single", "spheres", "cylinders", "hardspheres")
#: options of the ensemble boxes (``--n`` also sizes a ``--crystal`` grid) and their defaults
ENSEMBLE_DEFAULTS = {"box": 1000.0, "n": 243, "volume_fraction": 0.01, "realisations": 3}


#: the registered shape behind each ensemble's particles
ENSEMBLE_SHAPE = {"spheres": "sphere", "hardspheres": "sphere", "cylinders": "cylinder"}


def _registry_parameters() -> dict:
    """name -> (Parameter, shapes that have it), over every registered shape."""
    out: dict = {}
    for spec in SHAPES.values():
        for par in spec.parameters:
            out.setdefault(par.name, (par, []))[1].append(spec.name)
    return out


def _add_physics(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("particle (lengths in Å, SLD in 1e-6/Å²; a parameter not given "
                             "takes the shape's default, as on a SasView fit page)")
    g.add_argument("--shape", choices=tuple(SHAPES), default="sphere",
                   help="a registered shape (default sphere)")
    g.add_argument("--ensemble", choices=ENSEMBLES, default="single",
                   help="single particle (lattice Debye) or a box of particles (split FFT): "
                        "dilute spheres, randomly oriented cylinders, hard spheres")
    # one option per registry parameter (union over the shapes)
    for name, (par, owners) in _registry_parameters().items():
        unit = {"Ang": "Å", "1e-6/Ang^2": "1e-6/Å²"}.get(par.units, par.units)
        g.add_argument("--" + name.replace("_", "-"), type=float, default=None,
                       help=f"{name} in {unit}, of {', '.join(owners)} (each shape's help "
                            "page says what it means there)")
    g.add_argument("--theta", type=float, help="axis polar angle (deg) of a --crystal outline")
    g.add_argument("--phi", type=float, help="axis azimuth (deg) of a --crystal outline")
    g.add_argument("--radius-pd", type=float, default=0.0, help="relative Gaussian width")
    g.add_argument("--length-pd", type=float, default=0.0, help="relative Gaussian width")
    g.add_argument("--pd-n", type=int, default=35, help="polydispersity points (sasmodels)")
    n = p.add_argument_group("numerics")
    n.add_argument("--q-min", type=float, help="1/Å (single: default 0.005)")
    n.add_argument("--q-max", type=float, help="1/Å (single: default 0.5; box: π/(2d))")
    n.add_argument("--points", type=int, default=200, help="q points (single particle)")
    n.add_argument("--spacing", type=float, help="voxel size (Å); default automatic")
    n.add_argument("--box", type=float, help=f"box edge for ensembles (Å; default "
                                              f"{ENSEMBLE_DEFAULTS['box']:g})")
    n.add_argument("--n", type=int, help=f"grid points per axis for ensembles and crystallites "
                                         f"(default {ENSEMBLE_DEFAULTS['n']})")
    n.add_argument("--volume-fraction", type=float,
                   help=f"ensembles (default {ENSEMBLE_DEFAULTS['volume_fraction']:g})")
    n.add_argument("--realisations", type=int, help=f"seeds averaged (ensembles; default "
                                                    f"{ENSEMBLE_DEFAULTS['realisations']})")
    n.add_argument("--seed", type=int, default=0)
    n.add_argument("--size-sampling", choices=("stratified", "random"), default="stratified",
                   help="particle sizes: stratified quantiles (default) or random draws (thesis)")
    n.add_argument("--precision", choices=("single", "double"), default="single")
    n.add_argument("--supersample", type=int, default=3, help="sub-voxels per axis on edges")
    n.add_argument("--correction", choices=("deconvolve", "none", "sinc"), default="deconvolve",
                   help="voxel box-filter correction (docs: Validation)")
    n.add_argument("--memory-budget",
                   help="memory the FFT may use, e.g. 2GiB; a box needing more is rasterised "
                        "slab by slab and streamed through disk (default: what RAM allows)")
    n.add_argument("--scheduler",
                   help="run the FFT passes on Dask: 'local' (a LocalCluster) or "
                        "tcp://HOST:PORT")
    n.add_argument("--workers", type=int, default=2, help="LocalCluster workers (--scheduler "
                                                          "local)")
    n.add_argument("--workdir", help="folder for the on-disk intermediate (shared by all "
                                     "Dask workers); default $SAXSIM_WORKDIR or the temp dir")
    n.add_argument("--fit-scale", action="store_true",
                   help="fit the reference's scale (weighted least squares) before comparing")


def _shape_values(a, shape: str, used: list | None = None) -> dict:
    """The registered ``shape``'s parameters from the options (its defaults where not
    given; ``used`` collects 'name default' for each default taken). Options of other
    shapes are a mistake, said so instead of ignored."""
    spec = get_shape(shape)
    own = {p.name for p in spec.parameters}
    foreign = [name for name in _registry_parameters()
               if name not in own and getattr(a, name, None) is not None]
    if foreign:
        flags = ", ".join("--" + n.replace("_", "-") for n in foreign)
        raise SaxsimInputError(f"{flags}: not a parameter of {shape} (it has "
                               f"{', '.join(p.name for p in spec.parameters)})")
    values = {}
    for par in spec.parameters:
        given = getattr(a, par.name, None)
        values[par.name] = par.default if given is None else given
        if given is None and used is not None:
            used.append(f"{par.name} {par.default:g}")
    return values


def _dims(a, used: list | None = None) -> dict:
    """Parameters of the single particle ``--shape`` (lengths Å, SLDs 1e-6/Å²)."""
    return _shape_values(a, a.shape, used)


def _refuse_orientation(a, why: str) -> None:
    if a.theta is not None or a.phi is not None:
        raise SaxsimInputError(f"--theta/--phi: {why}")


def _pd(a) -> dict:
    pd = {}
    if a.radius_pd:
        pd["radius"] = a.radius_pd
    if a.length_pd:
        pd["length"] = a.length_pd
    if pd:
        pd["pd_n"] = a.pd_n
    return pd


def _ensemble_options(a) -> None:
    """Fill the ensemble-only options' defaults; a single particle given one is a mistake
    (its grid comes from --spacing), said so instead of ignored."""
    given = [k for k in ENSEMBLE_DEFAULTS if getattr(a, k, None) is not None]
    files = getattr(a, "density", None) or getattr(a, "crystal", None)
    if getattr(a, "ensemble", None) == "single" and not files and given:
        flags = ", ".join("--" + k.replace("_", "-") for k in given)
        raise SaxsimInputError(f"{flags}: only for --ensemble spheres/hardspheres/cylinders "
                               "(and --n for --crystal); a single particle's grid is set by "
                               "--spacing (Å)")
    if getattr(a, "density", None) and given:
        flags = ", ".join("--" + k.replace("_", "-") for k in given)
        raise SaxsimInputError(f"{flags}: not used with --density: the file's array sets the "
                               "grid and --voxel-size its spacing (Å)")
    for k, v in ENSEMBLE_DEFAULTS.items():
        if getattr(a, k, None) is None:
            setattr(a, k, v)


def _run_comparison(a):
    from ..simulate.compare import compare_ensemble, compare_particle
    dtype = np.float64 if a.precision == "double" else np.float32
    a.defaults_used = []
    if a.ensemble == "single":
        _refuse_orientation(a, "a single particle's 1D curve is the orientation average, so "
                               "its axis does not change it (the angles set a --crystal "
                               "outline only)")
        values = _dims(a, a.defaults_used)
        spec = get_shape(a.shape)
        slds = {k: values.pop(k) for k in spec.sld_names}
        return compare_particle(a.shape, {**values, **{k: v for k, v in slds.items()
                                                       if k not in ("sld", "sld_solvent")}},
                                pd=_pd(a),
                                q_min=0.005 if a.q_min is None else a.q_min,
                                q_max=0.5 if a.q_max is None else a.q_max,
                                points=a.points, sld=slds.get("sld", 1.0),
                                sld_solvent=slds.get("sld_solvent", 0.0), spacing=a.spacing,
                                supersample=a.supersample, correction=a.correction,
                                fit_scale=a.fit_scale)
    _refuse_orientation(a, f"the {a.ensemble} box compared with sasmodels' 1D model has "
                           "randomly oriented particles (the angles set a --crystal outline "
                           "only)")
    if a.shape not in ("sphere", ENSEMBLE_SHAPE[a.ensemble]):
        raise SaxsimInputError(f"--shape {a.shape}: the particles of --ensemble {a.ensemble} "
                               f"are {ENSEMBLE_SHAPE[a.ensemble]}s; drop --shape")
    v = _shape_values(a, ENSEMBLE_SHAPE[a.ensemble], a.defaults_used)
    return compare_ensemble(a.ensemble, box=a.box, n=a.n, radius=v["radius"],
                            volume_fraction=a.volume_fraction, radius_pd=a.radius_pd,
                            length=v.get("length"), length_pd=a.length_pd, sld=v["sld"],
                            sld_solvent=v["sld_solvent"], realisations=a.realisations,
                            seed=a.seed, dtype=dtype, q_min=a.q_min, q_max=a.q_max,
                            correction=a.correction, supersample=a.supersample,
                            memory_budget=a.memory_budget, fit_scale=a.fit_scale,
                            size_sampling=a.size_sampling, scheduler=a.scheduler,
                            workers=a.workers, workdir=a.workdir, progress=not a.json,
                            announce=None if a.json else _announce)


def _announce(text: str) -> None:
    print(f"saxsim: {text}", file=sys.stderr, flush=True)


def _title(a, comp) -> str:
    p = comp.parameters
    if a.ensemble == "single":
        return f"{a.shape} {json.dumps({k: v for k, v in p.items() if k != 'shape'})[:150]}"
    return (f"{a.ensemble}: box {a.box:g} Å, n={a.n}, R={p['radius']:g} Å, "
            f"φ={a.volume_fraction:g}, {a.realisations} realisation(s)")


def _default_out(a, suffix: str) -> str:
    return f"saxsim_{a.ensemble if a.ensemble != 'single' else a.shape}{suffix}"


def cmd_compare(a) -> int:
    from ..io.plotting import plot_comparison
    _ensemble_options(a)
    png = check_target(a.plot or _default_out(a, "_compare.png"), None)
    comp = _run_comparison(a)
    plot_comparison(comp.curve, comp.reference, comp.metrics, png, _title(a, comp),
                    ref_label=f"sasmodels {comp.model}")
    if a.json:
        out = comp.as_json()
        out["plot"] = png
        out["defaults_used"] = a.defaults_used
        print(json.dumps(out, default=float))
    else:
        m = comp.metrics
        print(f"numerical vs sasmodels '{comp.model}' ({comp.parameters.get('route')}), "
              f"q = {m['q_min']:.4g} … {m['q_max']:.4g} 1/Å, {m['n_points']} points")
        print(f"  chi² (reduced)      {m['chi2']:.4g}")
        print(f"  median |ΔI|/I       {100 * m['median_rel_error']:.4g} %")
        print(f"  95th pct |ΔI|/I     {100 * m['p95_rel_error']:.4g} %")
        if "realised_median_rel_error" in comp.extra:
            ex = comp.extra
            print(f"  vs realised particles: median {100 * ex['realised_median_rel_error']:.3g} %"
                  f", 95th pct {100 * ex['realised_p95_rel_error']:.3g} %")
        print(f"  plot: {png}")
        _say_defaults(a)
    return 0


def _say_defaults(a) -> None:
    if getattr(a, "defaults_used", None):
        print(f"  defaults used (not given): {', '.join(a.defaults_used)}")


def _density_source(a):
    from ..density.readers import open_density, read_unit_cell
    from ..density.sources import CrystalliteSource
    if a.density:
        return open_density(a.density, a.voxel_size, a.dataset, a.pad_to), None
    if a.spacing is None:
        raise SaxsimInputError("--crystal needs --spacing (Å); the grid is --n³ voxels")
    outline = None
    if a.crystallite_radius is None:        # the particle options give the outline
        values = _dims(a)
        spec = get_shape(a.shape)
        dims = {n: values[n] for n in spec.lengths}
        outline = spec.body(dims, {n: values[n] for n in spec.sld_names}, a.theta or 0.0,
                            a.phi or 0.0).parts[0][0]
    elif a.theta is not None or a.phi is not None:
        raise SaxsimInputError("--theta/--phi: a spherical --crystallite-radius has no axis")
    values, cell = read_unit_cell(a.crystal, a.cell_voxels)
    return (CrystalliteSource(values, cell, a.crystallite_radius, a.n, a.spacing,
                              os.path.basename(a.crystal), outline), (cell, values))


def cmd_simulate_density(a) -> int:
    from ..io import write_curve
    from ..io.plotting import plot_curve
    from ..scattering.bragg import bragg_positions
    from ..simulate.stream import stream_curve
    out = check_target(a.output or "saxsim_density.dat", a.overwrite)
    png = check_target(a.plot or os.path.splitext(out)[0] + ".png", a.overwrite)
    source, cell = _density_source(a)          # cell: (vectors, values) of a crystal
    if not a.json:
        print(source.describe(), file=sys.stderr)
    curve, res = stream_curve(source, memory_budget=a.memory_budget, scheduler=a.scheduler,
                              workers=a.workers, workdir=a.workdir, correction=a.correction,
                              q_min=a.q_min, q_max=a.q_max, resume=not a.no_resume,
                              progress=not a.json)
    write_curve(curve, out, overwrite=a.overwrite)
    peaks = None
    if cell is not None:
        peaks = [(q, "".join(map(str, hkl)))
                 for q, hkl in bragg_positions(*cell, q_max=float(curve.q.max()))[:12]]
    plot_curve(curve, png, source.describe(), peaks)
    info = {"output": out, "plot": png, "points": len(curve), "source": source.describe(),
            "route": curve.meta["route"], "storage": curve.meta["storage"],
            "seconds": res.seconds, "bytes_written": res.bytes_written,
            "bytes_read": res.bytes_read}
    if a.json:
        print(json.dumps(info, default=float))
    else:
        print(f"wrote {out} ({len(curve)} points: Q 1/Å, I 1/cm per box volume, dI) and {png}; "
              f"{curve.meta['route']}, intermediate in {curve.meta['storage']}")
    return 0


def cmd_simulate(a) -> int:
    _ensemble_options(a)
    if a.density or a.crystal:
        return cmd_simulate_density(a)
    from ..io import write_curve
    from ..io.plotting import plot_comparison
    out = check_target(a.output or _default_out(a, ".dat"), a.overwrite)
    png = check_target(a.plot or os.path.splitext(out)[0] + ".png", a.overwrite)
    comp = _run_comparison(a)
    write_curve(comp.curve, out, overwrite=a.overwrite)
    plot_comparison(comp.curve, comp.reference, comp.metrics, png, _title(a, comp),
                    ref_label=f"sasmodels {comp.model}")
    if a.json:
        print(json.dumps({"output": out, "plot": png, **comp.as_json(),
                          "defaults_used": a.defaults_used}, default=float))
    else:
        print(f"wrote {out} ({len(comp.curve)} points: Q 1/Å, I 1/cm"
              f"{', dI' if comp.curve.sigma is not None else ''}) and {png}")
        _say_defaults(a)
    return 0


def cmd_demo(a) -> int:
    from ..simulate.compare import compare_ensemble, compare_particle
    t0 = time.perf_counter()
    rows = []
    steps = [
        ("sphere R=50 Å, pd 0.1 (lattice Debye)", lambda: compare_particle(
            "sphere", {"radius": 50.0}, pd={"radius": 0.1})),
        ("cylinder R=20 Å, L=200 Å (lattice Debye)", lambda: compare_particle(
            "cylinder", {"radius": 20.0, "length": 200.0})),
        ("dilute spheres R=34 Å, pd 0.1, φ=0.01, box 1000 Å, 243³", lambda: compare_ensemble(
            "spheres", box=1000, n=243, radius=34, volume_fraction=0.01, radius_pd=0.1,
            realisations=5)),
        ("hard spheres R=34 Å, φ=0.2, box 600 Å, 128³ vs PY", lambda: compare_ensemble(
            "hardspheres", box=600, n=128, radius=34, volume_fraction=0.2, realisations=2)),
    ]
    from ..io.plotting import plot_comparison
    os.makedirs(a.out_dir, exist_ok=True)
    for i, (label, fn) in enumerate(steps):
        if not a.json:
            print(f"  running: {label} …", file=sys.stderr, flush=True)
        t = time.perf_counter()
        comp = fn()
        png = os.path.join(a.out_dir, f"demo_{i + 1}.png")
        plot_comparison(comp.curve, comp.reference, comp.metrics, png, label,
                        ref_label=f"sasmodels {comp.model}")
        rows.append((label, comp.metrics, time.perf_counter() - t))
    if a.json:
        print(json.dumps([{"case": r[0], **r[1], "seconds": r[2]} for r in rows]))
        return 0
    print(f"\n{'case':56s} {'chi²':>8s} {'median':>9s} {'p95':>9s} {'time':>7s}")
    for label, m, t in rows:
        print(f"{label:56s} {m['chi2']:8.3g} {100 * m['median_rel_error']:8.3g}% "
              f"{100 * m['p95_rel_error']:8.3g}% {t:6.1f}s")
    print(f"\nnumerical (voxels + FFT) vs sasmodels analytical, absolute units (1/cm); "
          f"total {time.perf_counter() - t0:.1f} s; plots in {a.out_dir}/")
    return 0


def cmd_bench(a) -> int:
    from ..fft.bench import format_table, machine_description, run_benchmark

    def say(msg):
        if not a.json:
            print(msg, file=sys.stderr)
    rows = run_benchmark(a.sizes, a.methods, a.repeats, progress=say)
    if a.json:
        print(json.dumps({"machine": machine_description(), "results": rows}))
    else:
        print(machine_description())
        print(format_table(rows))
    return 0


def cmd_install_model(a) -> int:
    from ..models.install import install_models
    paths = install_models(a.dir)
    print(f"installed {len(paths)} plugin models in {paths[0].parent}: "
          f"{', '.join(p.stem for p in paths)}")
    print("SasView lists them under Fitting > Category 'Plugin Models' (restart SasView, or "
          "Plugin Models > Manage Plugin Models to reload)")
    return 0


def cmd_make_model(a) -> int:
    if sum(x is not None for x in (a.shape, a.density, a.crystal)) != 1:
        raise SaxsimInputError("make-model needs one of: a file (density, structure, mesh or "
                               "SasView .sld/.omf), --shape (a definition .py file or a "
                               "shipped shape name) or --crystal (a unit cell)")
    if a.crystal is not None:
        if a.name is None:
            raise SaxsimInputError("make-model --crystal needs --name (the model name)")
        return _make_crystallite_model(a)
    from ..models.build import build_model
    if a.shape is not None:
        from ..models.build import source_kind
        from ..shapes import definition_file
        definition_file(a.shape)          # a .py file or a shipped name, else a clear error
        if source_kind(a.shape) != "shape":
            raise SaxsimInputError(f"--shape takes a shape definition (.py) or a shipped "
                                   f"shape's name; give {a.shape} without --shape")
    source = a.shape if a.shape is not None else a.density
    _check_options_fit(a, source)
    t = time.perf_counter()
    built = build_model(source, a.name, a.dir, overwrite=a.overwrite,
                        voxel_size=a.voxel_size, dataset=a.dataset,
                        unit=None if a.unit is None else _mesh_unit(a.unit), voxels=a.voxels,
                        hydration=not a.no_hydration,
                        implicit_hydrogens=not a.no_implicit_hydrogens,
                        radiation="neutron" if a.neutron else "xray",
                        memory_budget=a.memory_budget,
                        workdir=a.workdir, progress=True)
    data = sorted(p.name for p in built.path.parent.glob(f"{built.name}_*.np[yz]"))
    print(f"wrote plugin model {built.name!r}: {built.path}"
          + (f" and {', '.join(data)}" if data else "")
          + f" (built, loaded and evaluated in {time.perf_counter() - t:.1f} s)")
    for note in built.notes:
        print(note)
    print(f"fit parameters: scale, background, {built.parameters}")
    if built.kind == "shape":
        from ..shapes import load_definition
        spec = load_definition(a.shape, name=a.name)        # the registered spec, as built
        print(f"polydispersity on {', '.join(spec.volume_names)}")
    print(_where(a))
    return 0


#: make-model options that only one kind of source takes
KIND_OPTIONS = {"unit": "mesh", "voxels": "mesh", "dataset": "density",
                "voxel_size": "density", "neutron": "structure", "no_hydration": "structure",
                "no_implicit_hydrogens": "structure", "memory_budget": "density",
                "workdir": "density"}


def _check_options_fit(a, source) -> None:
    """Refuse an option the source's kind does not take (it would be silently ignored)."""
    from ..models.build import source_kind
    kind = source_kind(source)
    for option, wanted in KIND_OPTIONS.items():
        if getattr(a, option) not in (None, False) and kind != wanted:
            flag = "--" + option.replace("_", "-")
            raise SaxsimInputError(f"{flag} applies to {wanted} files; {source} is a {kind}")


def _where(a) -> str:
    return ("SasView lists it under 'Plugin Models' (reload them or restart SasView)"
            if a.dir is None else "copy it into SasView's plugin folder, or load it with "
            "sasmodels.core.load_model")


def _mesh_unit(text: str) -> float:
    units = {"a": 1.0, "å": 1.0, "ang": 1.0, "angstrom": 1.0, "nm": 10.0, "um": 1e4,
             "µm": 1e4}
    if text.lower() in units:
        return units[text.lower()]
    try:
        return float(text)
    except ValueError:
        raise SaxsimInputError(f"--unit {text!r}: give A, nm, um or the number of Å per "
                               "file unit") from None


def _make_crystallite_model(a) -> int:
    from ..models.file_models import make_crystallite_model
    if a.crystallite_radius is None or a.spacing is None:
        raise SaxsimInputError("make-model --crystal needs --crystallite-radius and "
                               "--spacing (Å)")
    t = time.perf_counter()
    path = make_crystallite_model(a.crystal, a.crystallite_radius, a.spacing, a.name, a.dir,
                                  overwrite=a.overwrite, cell_voxels=a.cell_voxels)
    print(f"wrote plugin model {a.name!r}: {path} ({time.perf_counter() - t:.1f} s); fit "
          "parameters: scale, background, sld_scale, voxel_size [Å] (scales the crystallite "
          "and its lattice)")
    print(_where(a))
    return 0


def _make_atomic_model(a) -> int:
    from ..models.atomic_model import make_atomic_model
    if a.name is None:
        raise SaxsimInputError("make-model STRUCTURE needs --name (the model name)")
    t = time.perf_counter()
    path = make_atomic_model(a.density, a.name, a.dir, overwrite=a.overwrite,
                             hydration=not a.no_hydration, progress=True)
    print(f"wrote plugin model {a.name!r}: {path} and its tables "
          f"{path.with_name(path.stem + '_atoms.npz').name} ({time.perf_counter() - t:.1f} s)")
    print("fit parameters: scale (volume fraction), background, solvent_density [e/Å^3], "
          "excluded_volume_scale, hydration_contrast [e/Å^3]")
    return 0


def _make_shape_model(a) -> int:
    from ..models.definition_model import make_definition_model
    t = time.perf_counter()
    path = make_definition_model(a.shape, a.name, a.dir, overwrite=a.overwrite)
    from ..shapes import load_definition
    spec = load_definition(a.shape, name=a.name)        # the registered spec, as built
    print(f"wrote plugin model {path.stem!r}: {path} (built, loaded and evaluated in "
          f"{time.perf_counter() - t:.1f} s)")
    pars = ", ".join(f"{p.name} [{p.units.replace('Ang', 'Å') or '-'}]"
                     for p in spec.parameters)
    print(f"fit parameters: scale, background, {pars}; polydispersity on "
          f"{', '.join(spec.volume_names)}")
    where = ("SasView lists it under 'Plugin Models' (reload them or restart SasView)"
             if a.dir is None else "copy it into SasView's plugin folder, or load it with "
             "sasmodels.core.load_model")
    print(where)
    return 0


def cmd_example_data(a) -> int:
    from ..density.examples import write_examples
    paths = write_examples(a.dir, overwrite=a.overwrite)
    print(f"wrote {', '.join(str(p) for p in paths)} (a dumbbell of two spheres, 64³ voxels "
          f"of 2 Å, as .npy and .mrc; the cubic SiC unit cell as .cif; an idealised poly-alanine "
          f"helix as .pdb)")
    return 0


def _library_names() -> tuple[str, ...]:
    from ..shapes import library_names
    return library_names()


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="saxsim", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    from .. import __version__
    p.add_argument("--version", action="version", version=f"saxsim {__version__}")
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("simulate", help="numerical I(q) of a shape or ensemble -> file + PNG")
    _add_physics(s)
    d = s.add_argument_group("any density (instead of --shape/--ensemble)")
    d.add_argument("--density", help="3D density file: .npy, .h5 (--dataset), .mrc/.map, "
                                     ".cube or CHGCAR (values: SLD contrast, 1e-6/Å²)")
    d.add_argument("--voxel-size", type=float, help="voxel edge (Å); default from the file")
    d.add_argument("--dataset", help="HDF5 dataset holding the density")
    d.add_argument("--pad-to", type=int, help="grid points per axis (≥ the array; default "
                                              "its largest axis)")
    d.add_argument("--crystal", help="unit cell (.cube, CHGCAR, or a .cif built with ase) "
                                     "tiled into a spherical crystallite of --n³ voxels of "
                                     "--spacing Å")
    d.add_argument("--crystallite-radius", type=float,
                   help="spherical crystallite radius (Å); without it the particle options "
                        "(--shape cylinder --radius … --length …) give the outline")
    d.add_argument("--cell-voxels", type=int, default=64,
                   help="grid of a .cif cell's electron density (per axis)")
    d.add_argument("--no-resume", action="store_true",
                   help="start over instead of resuming an interrupted run")
    s.add_argument("-o", "--output", help="curve file: .dat (ASCII) or .h5 (NXcanSAS)")
    s.add_argument("--plot", help="PNG path (default: next to the output)")
    s.add_argument("--overwrite", action="store_true")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_simulate)
    c = sub.add_parser("compare", help="numerical vs sasmodels: chi², relative error, PNG")
    _add_physics(c)
    c.add_argument("--plot", help="PNG path")
    c.add_argument("--json", action="store_true", help="print one JSON object")
    c.set_defaults(func=cmd_compare)
    d = sub.add_parser("demo", help="quick end-to-end comparison table (CPU, < 1 min)")
    d.add_argument("--json", action="store_true")
    d.add_argument("--out-dir", default="saxsim_demo", help="folder for the PNG plots")
    d.set_defaults(func=cmd_demo)
    b = sub.add_parser("bench", help="split FFT vs torch/scipy FFTs: time, peak RSS, error")
    b.add_argument("--sizes", type=int, nargs="+", default=[128, 256])
    b.add_argument("--methods", nargs="+", default=["split", "torch_fftn", "torch_rfftn",
                                                    "scipy_rfftn"])
    b.add_argument("--repeats", type=int, default=3)
    b.add_argument("--json", action="store_true")
    b.set_defaults(func=cmd_bench)
    im = sub.add_parser("install-model",
                        help="put the numerical_<shape> models into SasView's plugin folder")
    im.add_argument("--dir", help="target folder (default: SasView's plugin folder)")
    im.set_defaults(func=cmd_install_model)
    mm = sub.add_parser("make-model",
                        help="write a SasView plugin model from a shape definition (--shape), "
                             "a density, structure, mesh or SasView file, or a crystal "
                             "(--crystal)")
    mm.add_argument("density", nargs="?",
                    help="a density (.npy, .h5, .mrc/.map, .cube, CHGCAR; values SLD "
                         "contrast, 1e-6/Å²), an atomic structure (.pdb, .cif, .mmcif, also "
                         "gzipped), a closed triangle mesh (.stl, .obj, .ply, .off) or "
                         "SasView's .sld/.omf")
    mm.add_argument("--shape", help="shape definition: a .py file (docs: 'Models from any "
                                    "geometry') or a shipped one: " + ", ".join(
                                        _library_names()))
    mm.add_argument("--crystal", help="unit cell (.cube, CHGCAR or .cif) cut into a "
                                      "spherical crystallite (--crystallite-radius, "
                                      "--spacing)")
    mm.add_argument("--crystallite-radius", type=float, help="crystallite radius (Å)")
    mm.add_argument("--spacing", type=float, help="crystallite voxel size (Å)")
    mm.add_argument("--cell-voxels", type=int, default=64,
                    help="grid of a .cif cell's electron density (per axis)")
    mm.add_argument("--name", help="model name (a Python identifier; with --shape default "
                                   "numerical_<shape name>)")
    mm.add_argument("--voxel-size", type=float,
                    help="voxel edge (Å) of a density file (default: the file's own)")
    mm.add_argument("--dataset", help="HDF5 dataset holding the density")
    mm.add_argument("--unit", help="meshes: length unit of the file (A, nm, um, or Å per "
                                   "file unit)")
    mm.add_argument("--voxels", type=int,
                    help="meshes: voxels along the longest extent (default: 24 across the "
                         "thinnest extent, at least 100 along the longest)")
    mm.add_argument("--no-hydration", action="store_true",
                    help="atomic structures: no hydration shell")
    mm.add_argument("--no-implicit-hydrogens", action="store_true",
                    help="atomic structures: no implicit hydrogens on residues without them")
    mm.add_argument("--neutron", action="store_true",
                    help="atomic structures: neutron scattering lengths, H2O/D2O solvent "
                         "with fittable D2O fraction (default: X-rays)")
    mm.add_argument("--dir", help="target folder (default: SasView's plugin folder)")
    mm.add_argument("--overwrite", action="store_true")
    mm.add_argument("--memory-budget", help="memory for computing the profile; a density "
                                            "needing more is streamed through disk")
    mm.add_argument("--workdir", help="folder for the on-disk intermediate")
    mm.set_defaults(func=cmd_make_model)
    ex = sub.add_parser("example-data",
                        help="write small example density files (.npy, .mrc, .cif) to try "
                             "simulate --density / --crystal and make-model on")
    ex.add_argument("dir", nargs="?", default="saxsim_examples",
                    help="folder to write into (default saxsim_examples)")
    ex.add_argument("--overwrite", action="store_true")
    ex.set_defaults(func=cmd_example_data)
    g = sub.add_parser("gui", help="start SasView with the saxsim perspectives "
                                   "(same as sasview-saxsim)")
    g.add_argument("sasview_args", nargs=argparse.REMAINDER,
                   help="passed on to SasView (e.g. -l debug)")
    g.set_defaults(func=cmd_gui)
    from .inverse import add_commands

    add_commands(sub)
    return p


def cmd_gui(a) -> int:
    from ..gui.launcher import main as launch

    return launch(a.sasview_args)


def _show_warning(message, category, filename, lineno, file=None, line=None):
    print(f"saxsim: warning: {message}", file=sys.stderr)


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["gui"] and not {"-h", "--help"} & set(argv[1:]):
        return cmd_gui(argparse.Namespace(sasview_args=argv[1:]))  # SasView parses the rest
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("default")
            warnings.showwarning = _show_warning
            return args.func(args)
    except SaxsimInputError as exc:
        print(f"saxsim {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except SaxsimRunError as exc:
        print(f"saxsim {args.command}: error: {exc}", file=sys.stderr)
        return 3
    except MemoryError:
        print(f"saxsim {args.command}: error: out of memory; use fewer grid points (--n) or a "
              f"smaller --memory-budget", file=sys.stderr)
        return 2
    except OSError as exc:          # a folder that is missing or not writable, a full disk
        where = f" ({exc.filename})" if getattr(exc, "filename", None) else ""
        print(f"saxsim {args.command}: error: {exc.strerror or exc}{where}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"saxsim {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
