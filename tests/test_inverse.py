"""The shipped family network: interface, physics on fresh curves, bad input, CLI.

Curves here are either the training simulator's (``training.acquisition``, fresh seeds) or
sasmodels' own DirectModel with Gaussian noise (independent of the simulator)."""

import json
import subprocess
import sys

import numpy as np
import pytest

from sasview_saxsim_plugin.errors import SaxsimInputError
from sasview_saxsim_plugin.inverse import WeightsError, estimate
from sasview_saxsim_plugin.inverse.estimate import DEFAULT_WEIGHTS, FamilyNetwork
from sasview_saxsim_plugin.inverse.families import (
    FAMILY_NAMES,
    catalogue_key,
    family,
    sasmodels_intensity,
)
from sasview_saxsim_plugin.inverse.training.acquisition import CALC_Q, Acquisition, measure

pytestmark = pytest.mark.skipif(not DEFAULT_WEIGHTS.exists(), reason="no shipped weights")

LAB = Acquisition(q_min=0.006, q_max=0.45, n_points=200, log_spacing=False,
                  resolution="pinhole", dq_over_q=0.03, slit_length=0.0, scale=7.0,
                  background=0.01, subtracted=False, residual=0.0, noise="mixed",
                  counts=3e5, relative_noise=0.005, absolute_noise=0.0, error_scale=1.0)


def _measured(name, values, seed=11, acquisition=LAB):
    i_calc = family(name).intensity(CALC_Q, values)
    return measure(i_calc, acquisition, np.random.default_rng(seed))


FRESH = [
    ("sphere", {"radius": 43.0, "radius_pd": 0.08}),
    ("sphere@hardsphere", {"radius": 35.0, "radius_pd": 0.05, "volfraction": 0.3}),
    ("cylinder", {"radius": 25.0, "radius_pd": 0.1, "length": 300.0, "length_pd": 0.1}),
    ("lamellar", {"thickness": 40.0, "thickness_pd": 0.1}),
    ("mono_gauss_coil", {"rg": 60.0}),
]


@pytest.mark.parametrize("name,values", FRESH)
def test_estimate_ranks_families_and_recovers_fresh_curves(name, values):
    q, intensity, sigma = _measured(name, values)
    r = estimate(q, intensity, sigma)
    assert r.model_name == name, r.probabilities
    assert set(r.probabilities) == set(FAMILY_NAMES)
    assert abs(sum(r.probabilities.values()) - 1) < 1e-4
    assert set(r.parameters) == set(family(name).parameter_names)
    for p, true in values.items():
        med, lo, hi = r.parameters[p]
        assert lo <= med <= hi
        if family(name).parameters[family(name).parameter_names.index(p)].log:
            assert abs(med / true - 1) < 0.15, (p, med, true)
    pars = r.sasmodels_parameters
    assert pars["scale"] > 0 and "background" in pars
    # the seed reproduces the data: sasmodels itself with the seed dictionary
    if name != "cylinder":  # (sasmodels' own cylinder kernel is slow; the table is tested)
        model = sasmodels_intensity(r.model_name, q, pars)
        assert np.median(np.abs(model / intensity - 1)) < 0.2
    json.dumps(r.to_dict())
    assert [x.model_name for x in r.alternatives] == list(r.probabilities)[1:len(r.ranked)]


def test_estimate_without_uncertainties_and_in_nm():
    q, intensity, _ = _measured("sphere", {"radius": 80.0, "radius_pd": 0.1})
    r = estimate(q * 10, intensity, q_unit="1/nm")
    assert r.model_name == "sphere" and abs(r.parameters["radius"][0] / 80 - 1) < 0.15
    assert any("noise estimated" in n for n in r.notes)
    with pytest.raises(SaxsimInputError, match="1/nm"):
        estimate(q * 10, intensity)


def test_estimate_bad_input():
    q, intensity, sigma = _measured("sphere", {"radius": 60.0, "radius_pd": 0.1})
    bad = intensity.copy()
    bad[::17] = np.nan
    bad[5] = -1.0
    r = estimate(q, bad, sigma)
    n_nan = len(bad[::17])
    assert r.model_name == "sphere"
    assert f"{n_nan} of {q.size} rows dropped: NaN/inf intensity {n_nan}" in r.notes
    assert f"1 of {q.size} rows dropped: I <= 0 (the network reads log I)" in r.notes
    q_bad = q.copy()
    q_bad[3] = 0.0
    assert f"1 of {q.size} rows dropped: q <= 0 1" in estimate(q_bad, intensity, sigma).notes
    with pytest.raises(SaxsimInputError, match="at least 20"):
        estimate(q[:12], intensity[:12])
    with pytest.raises(SaxsimInputError):
        estimate(np.geomspace(0.7, 3.0, 50), np.ones(50))


@pytest.mark.parametrize("model,pars", [
    ("power_law", {"power": 2.5}),
    pytest.param("guinier_porod", {"rg": 60.0, "s": 1.0, "porod_exp": 3.0}, marks=pytest.mark.xfail(
        strict=True, reason="known miss of v5 (docs/validation.md): a mass fractal with its "
        "cutoff near Rg reproduces this Guinier-Porod curve to reduced chi2 5.5 (sigma widened "
        "by 5 % of I), far inside the calibrated threshold of 45, so it is called confident")),
    ("broad_peak", {"porod_scale": 1e-5, "porod_exp": 3.0, "peak_scale": 10.0,
                    "correlation_length": 50.0, "peak_pos": 0.05, "width_exp": 2.0,
                    "shape_exp": 1.0}),
])
def test_a_model_outside_the_catalogue_is_not_confident(model, pars):
    q = np.geomspace(0.003, 0.5, 200)
    clean = sasmodels_intensity(model, q, {"scale": 1.0, "background": 0.0, **pars})
    rng = np.random.default_rng(3)
    intensity = clean * rng.normal(1, 0.01, q.size)
    assert not estimate(q, intensity, 0.01 * intensity).confident


def test_a_pure_power_law_is_named_as_one_slope():
    """A q^-2.5 power law is a mass fractal whose building block and cutoff lie outside the
    window: the family may be listed, never confidently, and the note says why."""
    q = np.geomspace(0.003, 0.5, 200)
    intensity = 1e-3 * q**-2.5 * np.random.default_rng(5).normal(1, 0.01, q.size)
    r = estimate(q, intensity, 0.01 * intensity)
    assert not r.confident
    assert any("single power law q^-2.50" in n for n in r.notes)


def test_a_q_range_no_training_acquisition_had_is_not_confident():
    """Every training acquisition reaches q ≤ 0.03 and q ≥ 0.1 1/Å; data inside a narrower
    window may be estimated but never called confident."""
    narrow = Acquisition(**{**LAB.__dict__, "q_min": 0.04, "q_max": 0.15, "n_points": 80})
    r = estimate(*_measured("sphere", {"radius": 45.0, "radius_pd": 0.08},
                            acquisition=narrow))
    assert not r.confident and any("narrower than every training" in n for n in r.notes)


def test_missing_or_broken_weights(tmp_path):
    with pytest.raises(WeightsError, match="not found"):
        FamilyNetwork(tmp_path / "nope.pt")
    broken = tmp_path / "broken.pt"
    broken.write_bytes(b"not a torch file")
    with pytest.raises(WeightsError, match="not saxsim network weights"):
        FamilyNetwork(broken)


def test_weights_of_another_catalogue_are_refused(tmp_path):
    import torch

    blob = torch.load(DEFAULT_WEIGHTS, map_location="cpu", weights_only=True)
    blob["metadata"]["families"] = ["sphere", "hardsphere", "cylinder"]
    torch.save(blob, tmp_path / "v4.pt")
    with pytest.raises(WeightsError, match="retrain"):
        FamilyNetwork(tmp_path / "v4.pt")
    blob = torch.load(DEFAULT_WEIGHTS, map_location="cpu", weights_only=True)
    blob["metadata"]["catalogue"] = "0123456789ab"
    torch.save(blob, tmp_path / "other_priors.pt")
    with pytest.raises(WeightsError, match=f"catalogue 0123456789ab, this version's catalogue "
                                           f"is {catalogue_key()}"):
        FamilyNetwork(tmp_path / "other_priors.pt")


def test_calibrated_intervals_cover_68_percent_of_fresh_truths():
    """Fresh curves of every family (simulator, seeds no stored set uses): pooled over
    families and parameters, the 16-84 % intervals of the curves whose top family is right
    hold 58-78 % of the true values."""
    from sasview_saxsim_plugin.inverse.training import dataset as fd

    data = fd.load_set(fd.SetSpec(fd.ModelSpec(8, seed=4243), seed=4244), progress=False)
    network = FamilyNetwork(DEFAULT_WEIGHTS)
    code = network.encode(data["features"])
    top = network.class_probabilities(code).argmax(1)
    right = np.flatnonzero(top == data["family"])
    samples = network.posterior(code[right], top[right], 400)
    p16, p84 = np.nanpercentile(samples, [16, 84], axis=1)
    truth = data["parameters"][right]
    used = np.isfinite(truth)
    inside = (truth >= p16) & (truth <= p84)
    assert used.sum() > 100
    assert 0.58 <= inside[used].mean() <= 0.78


def test_cli_infer_json_and_refine(tmp_path):
    q, intensity, sigma = _measured("sphere", {"radius": 55.0, "radius_pd": 0.1})
    path = tmp_path / "curve.dat"
    np.savetxt(path, np.column_stack([q, intensity, sigma]))
    png = tmp_path / "est.png"
    out = subprocess.run([sys.executable, "-m", "sasview_saxsim_plugin.cli", "infer", str(path),
                          "--json", "--refine", "--plot", str(png)],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    r = json.loads(out.stdout)
    assert r["model_name"] == "sphere" and len(r["ranked"]) >= 3
    assert len(r["parameters"]["radius"]) == 3
    assert r["refined"]["model_name"] == "sphere"
    assert abs(r["refined"]["parameters"]["radius"] / 55 - 1) < 0.03
    assert png.stat().st_size > 10_000


def test_cli_infer_bad_file(tmp_path):
    path = tmp_path / "short.dat"
    np.savetxt(path, np.column_stack([np.linspace(0.01, 0.1, 8), np.ones(8)]))
    out = subprocess.run([sys.executable, "-m", "sasview_saxsim_plugin.cli", "infer", str(path)],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert "error" in out.stderr
    out = subprocess.run([sys.executable, "-m", "sasview_saxsim_plugin.cli", "infer",
                          str(tmp_path / "missing.dat")], capture_output=True, text=True)
    assert out.returncode == 2 and "no such file" in out.stderr


def test_cli_infer_with_negative_uncertainties(tmp_path):
    """A file whose dI column is negative (a sign slip in reduction): the uncertainties are set
    aside with a note, the estimate, the refinement and the plot still run."""
    q, intensity, sigma = _measured("sphere", {"radius": 55.0, "radius_pd": 0.1})
    path = tmp_path / "negative_di.dat"
    np.savetxt(path, np.column_stack([q, intensity, -sigma]))
    png = tmp_path / "plot.png"
    out = subprocess.run([sys.executable, "-m", "sasview_saxsim_plugin.cli", "infer", str(path),
                          "--json", "--refine", "--plot", str(png)],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert any("zero or negative" in n for n in result["notes"])
    assert result["model_name"] == "sphere" and png.stat().st_size > 0


@pytest.mark.parametrize("name,values", FRESH[:3] + [
    ("parallelepiped", {"length_a": 30.0, "length_b": 60.0, "length_c": 200.0})])
def test_a_dilated_curve_is_the_same_family_with_scaled_lengths(name, values):
    """The symmetry the class averaging rests on: a curve I(q; lengths) read at f·q is, up to
    scale, I(q'; lengths / f), for every family (sasmodels curves); the network's input of
    both agrees."""
    from sasview_saxsim_plugin.inverse.features import N_BINS, featurize

    q = np.geomspace(0.004, 0.35, 250)
    f = 1.08
    lengths = {p.name for p in family(name).parameters if p.log}
    scaled = {k: v / f if k in lengths else v for k, v in values.items()}
    read_dilated, _ = featurize(f * q, family(name).intensity(q, values))
    other, _ = featurize(f * q, family(name).intensity(f * q, scaled))
    assert np.max(np.abs(read_dilated[:N_BINS] - other[:N_BINS])) < 2e-3


def test_estimate_averages_the_class_over_dilated_copies():
    """estimate's probabilities are the mean of the single-pass probabilities of the curve and
    its q-dilated copies (each computed on its own through estimate)."""
    from sasview_saxsim_plugin.inverse.features import CLASS_DILATIONS

    rng = np.random.default_rng(4)
    q = np.geomspace(0.006, 0.3, 180)
    ideal = 2.0 * family("sphere@hardsphere").intensity(
        q, {"radius": 250.0, "radius_pd": 0.1, "volfraction": 0.08}) + 1e-3
    sigma = 0.03 * ideal
    intensity = ideal + rng.normal(0.0, 1.0, q.size) * sigma
    averaged = estimate(q, intensity, sigma).probabilities
    single = [estimate(f * q, intensity, sigma, average_dilations=False).probabilities
              for f in CLASS_DILATIONS]
    for name, p in averaged.items():
        assert abs(p - np.mean([s[name] for s in single])) < 1e-5


@pytest.fixture(scope="module")
def other_weights(tmp_path_factory):
    """A network of another size (code 32, not the shipped 128), untrained: enough to tell
    which network a step uses."""
    import torch

    from sasview_saxsim_plugin.inverse.families import FAMILY_NAMES as names
    from sasview_saxsim_plugin.inverse.networks import ShapePosteriorNet
    torch.manual_seed(0)
    net = ShapePosteriorNet(hidden=64, code=32, blocks=2, subnet_hidden=32, encoder="conv",
                            channels=3, encoder_width=8)
    path = tmp_path_factory.mktemp("weights") / "other.pt"
    torch.save({"config": net.config, "state": net.state_dict(),
                "metadata": {"families": list(names)}}, path)
    return path


def test_the_refinement_evidence_uses_the_network_that_made_the_estimate(other_weights):
    """``infer --weights other.pt --refine`` crashed once: the evidence took the shipped
    network's flow with the other network's code."""
    from sasview_saxsim_plugin.inverse.refine import refine_family, sampled_log_evidence
    q, intensity, sigma = _measured("sphere", {"radius": 43.0, "radius_pd": 0.08})
    r = estimate(q, intensity, sigma, weights=other_weights)
    assert r.weights == str(other_weights) and r.code.shape[1] == 32
    fit = refine_family("sphere", {"radius": (43.0, 40.0, 46.0),
                                   "radius_pd": (0.08, 0.05, 0.1)}, None, q, intensity, sigma)
    assert np.isfinite(sampled_log_evidence(fit, r, q, intensity, sigma, n_samples=32))


def test_a_weight_file_that_would_run_code_is_refused(tmp_path):
    import torch
    path = tmp_path / "evil.pt"
    torch.save({"config": {}, "state": {}, "payload": Exception("any pickled object")}, path)
    with pytest.raises(WeightsError, match="not saxsim network weights"):
        FamilyNetwork(path)


def test_infer_with_a_corrupt_weight_file_says_one_line(tmp_path):
    broken = tmp_path / "broken.pt"
    broken.write_bytes(b"not a torch file")
    q, intensity, sigma = _measured("sphere", {"radius": 43.0, "radius_pd": 0.08})
    data = tmp_path / "curve.dat"
    np.savetxt(data, np.column_stack([q, intensity, sigma]))
    p = subprocess.run([sys.executable, "-m", "sasview_saxsim_plugin.cli", "infer", str(data),
                        "--weights", str(broken), "--plot", str(tmp_path / "p.png")],
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 2
    assert "broken.pt" in p.stderr and "Traceback" not in p.stderr


def _sasmodels_curve(model: str, seed: int, noise: float = 0.1, **pars):
    """A curve from sasmodels' DirectModel with Gaussian noise of relative size ``noise``,
    independent of the training simulator."""
    from sasmodels.core import load_model
    from sasmodels.data import empty_data1D
    from sasmodels.direct_model import DirectModel

    q = np.geomspace(0.005, 0.3, 120)
    clean = DirectModel(empty_data1D(q), load_model(model))(scale=0.01, background=0.0,
                                                              **pars)
    rng = np.random.default_rng(seed)
    return q, clean * (1 + noise * rng.standard_normal(q.size)), noise * clean


def test_a_sasmodels_sphere_at_ten_percent_noise_comes_back_a_sphere_with_its_radius():
    """Five noisy sphere curves from sasmodels itself: a sphere-like family on top (sphere,
    or a family nesting it), the sphere's radius within 10 %, and a calibrated 68 % interval
    holding the true radius for most of them (≥ 2 of 5 fails with probability 3 %)."""
    inside = 0
    for seed in range(5):
        q, intensity, sigma = _sasmodels_curve("sphere", seed, radius=60.0, radius_pd=0.08,
                                               radius_pd_n=35, sld=2.0, sld_solvent=0.0)
        r = estimate(q, intensity, sigma)
        sphere = next(x for x in r.ranked if x.model_name == "sphere") if any(
            x.model_name == "sphere" for x in r.ranked) else None
        assert sphere is not None and r.probabilities["sphere"] > 0.3, r.probabilities
        median, p16, p84 = sphere.parameters["radius"]
        assert abs(median / 60.0 - 1) < 0.1
        inside += p16 <= 60.0 <= p84
    assert inside >= 2


def test_nested_families_share_the_probability_and_the_refinement_keeps_the_simpler():
    """A core-shell sphere whose core has the shell's contrast *is* a sphere of the outer
    radius: the network may split its probability between the two, and the refinement, whose
    evidence charges the extra parameters, must return the plain sphere."""
    from sasview_saxsim_plugin.inverse.refine import refine_estimate

    values = {"radius": 50.0, "thickness": 20.0, "sld_core": 1.0, "radius_pd": 0.0}
    i_calc = family("core_shell_sphere").intensity(CALC_Q, values)
    rng = np.random.default_rng(5)
    q, intensity, sigma = measure(i_calc, LAB, rng)
    r = estimate(q, intensity, sigma)
    assert r.probabilities["sphere"] + r.probabilities["core_shell_sphere"] > 0.8
    fit = refine_estimate(r, q, intensity, sigma)
    assert fit.model_name == "sphere"
    assert abs(fit.parameters["radius"] / 70.0 - 1) < 0.03


def test_a_flat_line_is_not_confident():
    rng = np.random.default_rng(3)
    q = np.geomspace(0.005, 0.3, 150)
    intensity = 1.0 + 0.01 * rng.standard_normal(q.size)
    assert not estimate(q, intensity, np.full(q.size, 0.01)).confident


def test_an_unsure_classifier_is_never_confident(monkeypatch):
    """The same curve, once with the network sure and once with its class probabilities
    forced to 60/40: only the first may be confident (rule: top probability ≥ the calibrated
    threshold)."""
    from sasview_saxsim_plugin.inverse.estimate import load_network

    q, intensity, sigma = _measured("mono_gauss_coil", {"rg": 60.0})
    assert estimate(q, intensity, sigma).confident
    network = load_network(None)
    unsure = np.zeros(len(FAMILY_NAMES))
    unsure[FAMILY_NAMES.index("mono_gauss_coil")] = 0.6
    unsure[FAMILY_NAMES.index("mass_fractal")] = 0.4
    monkeypatch.setattr(network, "class_probabilities",
                        lambda code: np.tile(unsure, (code.shape[0], 1)))
    r = estimate(q, intensity, sigma)
    assert r.model_name == "mono_gauss_coil" and not r.confident
    assert any("uncertain" in n for n in r.notes)


@pytest.mark.parametrize("criterion", ["bic", "sampled"])
def test_the_network_prior_decides_between_equally_good_fits(criterion):
    """Two fits with the same BIC / evidence: the class rule must follow the network's odds
    (a zero prior weight would leave the choice to the order of the fits)."""
    from sasview_saxsim_plugin.inverse.refine import FitResult, choose_fit

    def fit(name):
        f = FitResult(name, {}, 1.0, 0.0, 1.0, 1, 0.0, True, 100.0)
        f.sampled_log_evidence = -50.0
        return f

    odds = {"sphere": 0.2, "cylinder": 0.8}
    assert choose_fit([fit("sphere"), fit("cylinder")], odds,
                      criterion=criterion).model_name == "cylinder"
    assert choose_fit([fit("cylinder"), fit("sphere")], {"sphere": 0.8, "cylinder": 0.2},
                      criterion=criterion).model_name == "sphere"
