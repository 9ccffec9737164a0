"""The saxsim command: JSON interfaces, files SasView loads, clear errors."""

import json
import subprocess
import sys

import numpy as np
import pytest

from sasview_saxsim_plugin.cli import main


def run(args, capsys):
    try:
        code = main(args)
    except SystemExit as exc:  # argparse refuses a bad option value
        code = exc.code
    out = capsys.readouterr()
    return code, out.out, out.err


def test_compare_json_interface(capsys, tmp_path):
    code, out, _ = run(["compare", "--shape", "sphere", "--radius", "50", "--radius-pd", "0.1",
                        "--json", "--plot", str(tmp_path / "c.png")], capsys)
    assert code == 0
    js = json.loads(out)
    for key in ("chi2", "median_rel_error", "p95_rel_error", "q_min", "q_max", "parameters"):
        assert key in js
    assert js["parameters"]["radius"] == 50 and js["parameters"]["radius_pd"] == 0.1
    assert js["median_rel_error"] <= 1e-3 and js["p95_rel_error"] <= 0.02
    assert (tmp_path / "c.png").stat().st_size > 10_000


def test_compare_ensemble_json(capsys, tmp_path):
    code, out, _ = run(["compare", "--ensemble", "hardspheres", "--radius", "30", "--box", "400",
                        "--n", "96", "--volume-fraction", "0.2", "--realisations", "1", "--json",
                        "--plot", str(tmp_path / "h.png")], capsys)
    assert code == 0
    js = json.loads(out)
    assert js["sasmodels_model"] == "sphere@hardsphere"
    assert js["parameters"]["volume_fraction"] == 0.2


@pytest.mark.parametrize("ext", [".h5", ".dat"])
def test_simulate_writes_a_file_sasview_loads(capsys, tmp_path, ext):
    out_file = tmp_path / f"curve{ext}"
    code, out, _ = run(["simulate", "--ensemble", "spheres", "--radius", "30", "--box", "600",
                        "--n", "64", "--realisations", "1", "-o", str(out_file)], capsys)
    assert code == 0, out
    from sasdata.dataloader.loader import Loader
    data = Loader().load(str(out_file))[0]
    assert data.x.size > 5 and np.all(data.y > 0) and np.all(data.dy > 0)
    assert "A" in data._xunit and "cm" in data._yunit
    assert (tmp_path / "curve.png").exists()
    # never overwrite silently
    code, _, err = run(["simulate", "--ensemble", "spheres", "--radius", "30", "--box", "600",
                        "--n", "64", "--realisations", "1", "-o", str(out_file)], capsys)
    assert code == 2 and "exists" in err


@pytest.mark.parametrize("args,message", [
    (["compare", "--radius", "-5"], "radius"),
    (["compare", "--shape", "sphere", "--length", "40"], "not a parameter of sphere"),
    (["compare", "--ensemble", "cylinders", "--theta", "30"], "--theta/--phi"),  # was ignored
    (["compare", "--shape", "cylinder", "--phi", "30"], "orientation average"),
    (["compare", "--ensemble", "hardspheres", "--volume-fraction", "0.6", "--n", "32"], "0.494"),
    (["compare", "--ensemble", "spheres", "--n", "32", "--radius", "3"], "resolve"),
    (["compare", "--ensemble", "spheres", "--radius", "600", "--n", "64"], "box"),
    (["compare", "--ensemble", "spheres", "--n", "64", "--memory-budget", "1KiB"], "budget"),
    (["compare", "--q-min", "0.5", "--q-max", "0.1"], "q_min"),
    (["simulate", "--radius", "50", "--n", "512"], "--spacing"),      # was silently ignored
    (["compare", "--box", "800", "--realisations", "2"], "--box, --realisations"),
    (["simulate", "--density", "rho.npy", "--voxel-size", "2", "--n", "64"],
     "not used with --density"),                                          # was silently ignored
    (["train", "--encoder-width", "0"], "whole number >= 1"),
    (["train", "--epochs", "0"], "whole number >= 1"),                   # was taken as 200
    (["compare", "--q-min", "0"], "q_min"),                               # was taken as 0.005
    (["compare", "--ensemble", "spheres", "--n", "0"], "integer >= 2"),   # was a traceback
    (["compare", "--plot", "/no_such_folder_xyz/c.png"], "does not exist"),  # after computing
    (["simulate", "-o", "/no_such_folder_xyz/c.dat"], "does not exist"),
    (["train", "--bf16", "maybe"], "invalid choice"),
])
def test_user_mistakes_give_one_clear_line(capsys, args, message):
    code, _, err = run(args, capsys)
    assert code == 2
    assert message in err
    assert "Traceback" not in err


def test_demo_runs_and_prints_table(capsys, tmp_path):
    code, out, _ = run(["demo", "--out-dir", str(tmp_path)], capsys)
    assert code == 0
    assert "chi²" in out and "sphere R=50" in out
    assert len(list(tmp_path.glob("demo_*.png"))) == 4


@pytest.mark.slow
def test_bench_json_in_fresh_processes():
    p = subprocess.run([sys.executable, "-m", "sasview_saxsim_plugin.cli", "bench", "--sizes",
                        "48", "--repeats", "1", "--json"], capture_output=True, text=True,
                       timeout=300)
    assert p.returncode == 0, p.stderr
    js = json.loads(p.stdout)
    methods = {r["method"] for r in js["results"]}
    assert methods == {"split", "torch_fftn", "torch_rfftn", "scipy_rfftn"}
    for r in js["results"]:
        assert r["seconds"] > 0 and r["peak_rss_mb"] > 0
        assert r["rel_l2_vs_fftn"] < 1e-5


def test_simulate_refuses_an_existing_output_before_computing(capsys, tmp_path, monkeypatch):
    import sasview_saxsim_plugin.cli.commands as cli
    out = tmp_path / "curve.dat"
    out.write_text("an earlier result\n")
    monkeypatch.setattr(cli, "_run_comparison",
                        lambda a: pytest.fail("computed before checking the output file"))
    code, _, err = run(["simulate", "--ensemble", "spheres", "--n", "64", "-o", str(out)],
                       capsys)
    assert code == 2 and "exists" in err
    assert out.read_text() == "an earlier result\n"


def test_train_never_writes_the_installed_weights_by_default(capsys, tmp_path, monkeypatch):
    from sasview_saxsim_plugin.cli.inverse import _train_targets
    from sasview_saxsim_plugin.inverse.training.train import SHIPPED_WEIGHTS
    monkeypatch.chdir(tmp_path)
    import argparse
    targets = _train_targets(argparse.Namespace(model="shipped", out=None, overwrite=False))
    assert targets["shipped"] == "saxsim_shipped.pt"
    assert SHIPPED_WEIGHTS.resolve() != (tmp_path / targets["shipped"]).resolve()
    (tmp_path / "mine.pt").write_bytes(b"x")
    code, _, err = run(["train", "--out", "mine.pt"], capsys)
    assert code == 2 and "exists" in err
    code, _, err = run(["train", "--model", "both", "--out", "one.pt"], capsys)
    assert code == 2 and "--out names one file" in err
