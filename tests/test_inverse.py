"""The shipped shape-estimation network: interface, physics on fresh curves, bad input, CLI."""

import json
import subprocess
import sys

import numpy as np
import pytest

from sasview_saxsim_plugin.errors import SaxsimInputError
from sasview_saxsim_plugin.inverse import WeightsError, estimate
from sasview_saxsim_plugin.inverse.catalogue import entry, sasmodels_intensity
from sasview_saxsim_plugin.inverse.estimate import DEFAULT_WEIGHTS, InverseModel
from sasview_saxsim_plugin.inverse.training.measurement import CALC_Q, Instrument, measure

pytestmark = pytest.mark.skipif(not DEFAULT_WEIGHTS.exists(), reason="no shipped weights")

LAB = Instrument(q_min=0.006, q_max=0.45, n_points=200, log_spacing=False, dq_over_q=0.03,
                 scale=7.0, background=0.3, counts=3e5, relative_floor=0.005, subtracted=False)


def _measured(shape, values, seed=11, instrument=LAB):
    i_calc = entry(shape).intensity(CALC_Q, values)
    return measure(i_calc, instrument, np.random.default_rng(seed))


@pytest.mark.parametrize("shape,values", [
    ("sphere", {"radius": 43.0, "radius_pd": 0.08}),
    ("hardsphere", {"radius": 35.0, "radius_pd": 0.05, "volfraction": 0.3}),
    ("cylinder", {"radius": 25.0, "radius_pd": 0.1, "length": 300.0, "length_pd": 0.1}),
])
def test_estimate_recovers_fresh_curves(shape, values):
    q, intensity, sigma = _measured(shape, values)
    r = estimate(q, intensity, sigma)
    assert r.shape == shape and r.confident
    assert r.probabilities[shape] > 0.9
    assert set(r.parameters) == set(entry(shape).parameters)
    med, lo, hi = r.parameters["radius"]
    assert lo <= med <= hi and abs(med / values["radius"] - 1) < 0.1
    if shape == "cylinder":
        assert abs(r.parameters["length"][0] / values["length"] - 1) < 0.25
    if shape == "hardsphere":
        assert abs(r.parameters["volfraction"][0] - values["volfraction"]) < 0.08
    pars = r.sasmodels_parameters
    assert r.model_name == entry(shape).model_name
    assert pars["scale"] > 0 and "background" in pars and pars["radius_pd_type"] == "gaussian"
    # the seed reproduces the data: evaluate sasmodels itself with the seed dictionary
    if shape != "cylinder":  # (sasmodels' own cylinder kernel is slow; the table is tested)
        model = sasmodels_intensity(r.model_name, q, pars)
        assert np.median(np.abs(model / intensity - 1)) < 0.2
    json.dumps(r.to_dict())


def test_estimate_without_uncertainties_and_in_nm():
    q, intensity, _ = _measured("sphere", {"radius": 80.0, "radius_pd": 0.1})
    r = estimate(q * 10, intensity, q_unit="1/nm")
    assert r.shape == "sphere" and abs(r.parameters["radius"][0] / 80 - 1) < 0.1
    assert any("noise estimated" in n for n in r.notes)
    with pytest.raises(SaxsimInputError, match="1/nm"):
        estimate(q * 10, intensity)


def test_estimate_bad_input():
    q, intensity, sigma = _measured("sphere", {"radius": 60.0, "radius_pd": 0.1})
    bad = intensity.copy()
    bad[::17] = np.nan
    bad[5] = -1.0
    r = estimate(q, bad, sigma)
    assert r.shape == "sphere" and any("NaN" in n for n in r.notes)
    with pytest.raises(SaxsimInputError, match="at least 20"):
        estimate(q[:12], intensity[:12])
    with pytest.raises(SaxsimInputError):
        estimate(np.geomspace(0.7, 3.0, 50), np.ones(50))


def test_unknown_shape_is_not_confident():
    # a power law with an exponent between the catalogue's slopes: no sphere/cylinder fits it
    q = np.geomspace(0.003, 0.5, 200)
    intensity = 1e-3 * q**-2.5 * np.random.default_rng(3).normal(1, 0.01, q.size)
    r = estimate(q, intensity, 0.01 * intensity)
    assert not r.confident
    # a strongly core-shell particle (shell contrast opposite to the core)
    i_calc = sasmodels_intensity("core_shell_sphere", CALC_Q, {
        "radius": 80.0, "thickness": 30.0, "sld_core": 1.0, "sld_shell": -2.0,
        "sld_solvent": 0.0, "scale": 1.0, "background": 0.0})
    q, intensity, sigma = measure(i_calc, LAB, np.random.default_rng(4))
    assert not estimate(q, intensity, sigma).confident


def test_a_q_range_no_training_instrument_had_is_not_confident():
    # the same sphere, measured from q = 0.03 (every training instrument starts at <= 0.02;
    # without the low-q end the network calls it a hard sphere here) and then from 0.01:
    # only the second may be called confident
    values = {"radius": 45.0, "radius_pd": 0.08}
    for q_min, expected in ((0.03, False), (0.01, True)):
        instrument = Instrument(q_min=q_min, q_max=0.45, n_points=150, log_spacing=False,
                                dq_over_q=0.03, scale=7.0, background=0.3, counts=3e5,
                                relative_floor=0.005, subtracted=False)
        r = estimate(*_measured("sphere", values, instrument=instrument))
        assert r.confident is expected and (r.shape == "sphere" or not expected)
        assert any("narrower than the training" in n for n in r.notes) is not expected


def test_code_distance_separates_known_from_unknown_curves():
    """The encoder-code density (third confidence test): fresh catalogue curves lie inside its
    in-distribution threshold, power-law curves (no particle size at all) outside."""
    model = InverseModel(DEFAULT_WEIGHTS)
    assert np.isfinite(model.code_threshold)
    rng = np.random.default_rng(8)
    known = []
    for shape, values in [("sphere", {"radius": 43.0, "radius_pd": 0.08}),
                          ("hardsphere", {"radius": 35.0, "radius_pd": 0.05,
                                          "volfraction": 0.3}),
                          ("cylinder", {"radius": 25.0, "radius_pd": 0.1, "length": 300.0,
                                        "length_pd": 0.1})]:
        r = estimate(*_measured(shape, values, seed=int(rng.integers(1000))))
        known.append(r.code_distance)
    assert max(known) < model.code_threshold
    unknown = []
    for power in (1.7, 2.3, 3.3):
        q = np.geomspace(0.004, 0.4, 150)
        intensity = q**-power * rng.normal(1, 0.01, q.size)
        r = estimate(q, intensity, 0.01 * intensity)
        unknown.append(r.code_distance)
        assert not r.confident
    assert min(unknown) > model.code_threshold


def test_missing_or_broken_weights(tmp_path):
    with pytest.raises(WeightsError, match="not found"):
        InverseModel(tmp_path / "nope.pt")
    broken = tmp_path / "broken.pt"
    broken.write_bytes(b"not a torch file")
    with pytest.raises(WeightsError, match="not saxsim network weights"):
        InverseModel(broken)


def test_weights_with_a_malformed_interval_correction_are_refused_at_load(tmp_path):
    import torch

    blob = torch.load(DEFAULT_WEIGHTS, map_location="cpu", weights_only=False)
    blob["interval_calibration"] = {"factors": {"broad": [[1.0]]}}
    torch.save(blob, tmp_path / "bad.pt")
    with pytest.raises(WeightsError, match="interval correction"):
        InverseModel(tmp_path / "bad.pt")


@pytest.mark.parametrize("encoder,channels", [("mlp", 2), ("conv", 3)])
def test_weights_of_either_input_format_load(tmp_path, encoder, channels):
    """Weight files store their encoder and input channels; a format-2 file (no dI/I channel)
    reads the first two channels of today's features and gives the same answer with or without
    dI, a 3-channel file sees dI."""
    import torch

    from sasview_saxsim_plugin.inverse.features import clean_curve, featurize
    from sasview_saxsim_plugin.inverse.networks import ShapePosteriorNet

    torch.manual_seed(0)
    net = ShapePosteriorNet(hidden=32, code=16, blocks=2, subnet_hidden=16, encoder=encoder,
                            channels=channels)
    path = tmp_path / "w.pt"
    torch.save({"config": net.config, "state": net.state_dict()}, path)
    model = InverseModel(path)
    q, intensity, sigma = _measured("sphere", {"radius": 43.0, "radius_pd": 0.08})
    qc, ic, sc, _ = clean_curve(q, intensity, sigma)
    with_d = model.predict(featurize(qc, ic, sc)[0], 20)[0]
    without_d = model.predict(featurize(qc, ic)[0], 20)[0]
    assert with_d.shape == (1, 3) and np.isclose(with_d.sum(), 1)
    assert np.allclose(with_d, without_d) == (channels == 2)


def test_latent_scale_widens_intervals_not_medians(tmp_path):
    """The calibrated latent scale stored with the weights widens the posterior."""
    import torch

    from sasview_saxsim_plugin.inverse.features import clean_curve, featurize

    blob = torch.load(DEFAULT_WEIGHTS, map_location="cpu", weights_only=False)
    q, intensity, sigma = _measured("sphere", {"radius": 43.0, "radius_pd": 0.08})
    x = featurize(*clean_curve(q, intensity, sigma)[:3])[0]
    widths, medians = [], []
    for scale in (1.0, 1.5):
        blob["z_scale"] = scale
        torch.save(blob, tmp_path / f"w{scale}.pt")
        _, samples = InverseModel(tmp_path / f"w{scale}.pt").predict(x, 2000)
        radius = samples[0, :, 0]
        p16, p50, p84 = np.percentile(radius, [16, 50, 84])
        widths.append(p84 - p16)
        medians.append(p50)
    assert widths[1] > 1.05 * widths[0]  # the flow is nonlinear: 1.5× in z gave 1.15× here
    assert medians[1] == pytest.approx(medians[0], rel=0.01)


def _pooled_coverage(model, data):
    """Fraction of true parameters inside the 16-84 % interval, pooled over the curves whose
    shape was classified right and the parameters each shape has."""
    probs, samples = model.predict(data["features"], 400)
    p16, p84 = np.percentile(samples, [16, 84], axis=1)
    truth = data["parameters"]
    right = (probs.argmax(1) == data["shape"])[:, None] & np.isfinite(truth)
    inside = (truth >= p16) & (truth <= p84)
    return float(inside[right].mean()), np.median(samples, axis=1)[right]


@pytest.fixture(scope="module")
def fresh_sets():
    """Curves drawn like thesis Table 3.3 and from the broad priors, with seeds no stored set
    uses (60 per shape each)."""
    from sasview_saxsim_plugin.inverse.training.dataset import SetSpec, make_set

    return (make_set(SetSpec(60, prior="thesis", instrument="thesis", seed=4242), progress=False),
            make_set(SetSpec(60, seed=4243), progress=False))


def test_intervals_cover_68_percent_in_both_prior_regimes(fresh_sets):
    """On fresh curves, 16-84 % intervals cover about 68 % in both prior regimes; without the
    per-regime correction the thesis-like intervals are far too wide. The correction keeps the
    medians."""
    thesis, broad = fresh_sets
    model = InverseModel(DEFAULT_WEIGHTS)
    assert model.interval_calibration is not None
    assert np.median(model.thesis_regime(model.encode(thesis["features"]))) > 0.95
    assert np.median(model.thesis_regime(model.encode(broad["features"]))) < 0.05
    corrected = {name: _pooled_coverage(model, d) for name, d in (("thesis", thesis),
                                                                  ("broad", broad))}
    for coverage, _ in corrected.values():
        assert 0.58 <= coverage <= 0.78
    from sasview_saxsim_plugin.inverse.training.calibrate import regime_sets

    without_d = regime_sets(broad, thesis)  # the same curves as files without dI
    for name in ("broad-no-dI", "thesis-no-dI"):
        assert 0.58 <= _pooled_coverage(model, without_d[name])[0] <= 0.78
    model.interval_calibration = None
    raw_thesis, raw_medians = _pooled_coverage(model, thesis)
    assert raw_thesis > 0.8
    np.testing.assert_allclose(corrected["thesis"][1], raw_medians, rtol=1e-6)


def test_interval_calibration_from_held_out_sets(fresh_sets):
    """What ``saxsim train`` stores: per-regime factors that make the 68 % intervals cover
    about 68 % of the true values (the definition of a 68 % interval, whatever the network),
    and a regime discriminant that tells the two instruments apart."""
    from sasview_saxsim_plugin.inverse.training.calibrate import interval_calibration, regime_sets

    thesis, broad = fresh_sets
    model = InverseModel(DEFAULT_WEIGHTS)
    result = interval_calibration(model, regime_sets(broad, thesis))
    assert model.interval_calibration is not None  # switched off only while measuring
    factors = {k: np.asarray(v) for k, v in result["factors"].items()}
    assert all(f.shape == (3, 5) for f in factors.values()) and len(factors) == 4
    assert np.all(factors["thesis"] > 0) and np.all(np.isfinite(factors["thesis"]))
    from sasview_saxsim_plugin.inverse.estimate import _interval_arrays
    model.interval_calibration = _interval_arrays(result, model.net, DEFAULT_WEIGHTS)
    for name, d in (("thesis", thesis), ("broad", broad)):
        coverage, _ = _pooled_coverage(model, d)
        assert 0.55 <= coverage <= 0.80, (name, coverage)
    for name, d in regime_sets(broad, thesis).items():
        p = model.thesis_regime(model.encode(d["features"]))
        assert np.mean((p > 0.5) == ("thesis" in name)) > 0.95


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
    assert r["shape"] == "sphere" and r["model_name"] == "sphere"
    assert set(r["parameters"]["radius"]) and len(r["parameters"]["radius"]) == 3
    assert abs(r["refined"]["parameters"]["radius"] / 55 - 1) < 0.02
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
    assert result["shape"] == "sphere" and png.stat().st_size > 0


@pytest.mark.parametrize("shape, values", [
    ("sphere", {"radius": 80.0, "radius_pd": 0.1}),
    ("hardsphere", {"radius": 60.0, "radius_pd": 0.05, "volfraction": 0.3}),
    ("cylinder", {"radius": 30.0, "radius_pd": 0.1, "length": 300.0, "length_pd": 0.1}),
])
def test_a_dilated_curve_is_the_same_shape_with_scaled_lengths(shape, values):
    """The symmetry the class averaging rests on: a curve I(q; lengths) read at f·q is, up to
    scale, I(q'; lengths / f), for every catalogue shape (sasmodels curves); the network's
    input of both agrees."""
    from sasview_saxsim_plugin.inverse.features import N_BINS, featurize

    q = np.geomspace(0.004, 0.35, 250)
    f = 1.08
    scaled = {k: v / f if k in ("radius", "length") else v for k, v in values.items()}
    read_dilated, _ = featurize(f * q, entry(shape).intensity(q, values))
    other_shape, _ = featurize(f * q, entry(shape).intensity(f * q, scaled))
    assert np.max(np.abs(read_dilated[:N_BINS] - other_shape[:N_BINS])) < 2e-3


def test_estimate_averages_the_class_over_dilated_copies():
    """estimate's probabilities are the mean of the single-pass probabilities of the curve and
    its q-dilated copies (each computed on its own through estimate)."""
    from sasview_saxsim_plugin.inverse.features import CLASS_DILATIONS

    rng = np.random.default_rng(4)
    q = np.geomspace(0.006, 0.3, 180)
    ideal = 2.0 * entry("hardsphere").intensity(q, {"radius": 250.0, "radius_pd": 0.1,
                                                    "volfraction": 0.08}) + 1e-3
    sigma = 0.03 * ideal
    intensity = ideal + rng.normal(0.0, 1.0, q.size) * sigma
    averaged = estimate(q, intensity, sigma).probabilities
    single = [estimate(f * q, intensity, sigma, average_dilations=False).probabilities
              for f in CLASS_DILATIONS]
    for shape, p in averaged.items():
        assert abs(p - np.mean([s[shape] for s in single])) < 1e-5
    assert abs(sum(averaged.values()) - 1.0) < 1e-6


@pytest.fixture(scope="module")
def other_weights(tmp_path_factory):
    """A network of another size (code 32, not the shipped 128), untrained: enough to tell
    which network a step uses."""
    import torch

    from sasview_saxsim_plugin.inverse.networks import ShapePosteriorNet
    torch.manual_seed(0)
    net = ShapePosteriorNet(hidden=64, code=32, blocks=2, subnet_hidden=32)
    path = tmp_path_factory.mktemp("weights") / "other.pt"
    torch.save({"config": net.config, "state": net.state_dict()}, path)
    return path


def test_the_refinement_evidence_uses_the_network_that_made_the_estimate(other_weights):
    """``infer --weights other.pt --refine`` crashed: the evidence took the shipped network's
    flow with the other network's code."""
    from sasview_saxsim_plugin.inverse.refine import refine_shape, sampled_log_evidence
    q, intensity, sigma = _measured("sphere", {"radius": 43.0, "radius_pd": 0.08})
    r = estimate(q, intensity, sigma, weights=other_weights)
    assert r.weights == str(other_weights) and r.code.shape[1] == 32
    fit = refine_shape("sphere", {"radius": (43.0, 40.0, 46.0), "radius_pd": (0.08, 0.05,
                                                                              0.1)},
                       None, q, intensity, sigma)
    assert np.isfinite(sampled_log_evidence(fit, r, q, intensity, sigma, n_samples=32))


def test_a_weight_file_that_would_run_code_is_refused(tmp_path):
    import torch
    path = tmp_path / "evil.pt"
    torch.save({"config": {}, "state": {}, "payload": Exception("any pickled object")}, path)
    with pytest.raises(WeightsError, match="not saxsim network weights"):
        InverseModel(path)


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



def _sasmodels_sphere_curve(seed: int, radius: float = 60.0, noise: float = 0.1):
    """A sphere curve made with sasmodels' DirectModel and 10 % Gaussian noise, independent of
    the training simulator (``inverse/training/measurement.py``)."""
    from sasmodels.core import load_model
    from sasmodels.data import empty_data1D
    from sasmodels.direct_model import DirectModel

    q = np.geomspace(0.005, 0.3, 120)
    model = DirectModel(empty_data1D(q), load_model("sphere"))
    clean = model(radius=radius, radius_pd=0.08, radius_pd_n=35, sld=2.0, sld_solvent=0.0,
                  scale=0.01, background=0.0)
    rng = np.random.default_rng(seed)
    return q, clean * (1 + noise * rng.standard_normal(q.size)), noise * clean


def test_a_sasmodels_sphere_at_ten_percent_noise_comes_back_a_sphere_with_its_radius():
    """Five noisy sphere curves from sasmodels itself: each is a sphere, and a calibrated 68 %
    interval holds the true radius for most of them (at least 2 of 5 fails with probability
    3 % for a calibrated posterior)."""
    inside = 0
    for seed in range(5):
        q, intensity, sigma = _sasmodels_sphere_curve(seed)
        r = estimate(q, intensity, sigma)
        assert r.shape == "sphere", (seed, r.probabilities)
        median, p16, p84 = r.parameters["radius"]
        assert abs(median / 60.0 - 1) < 0.1
        inside += p16 <= 60.0 <= p84
    assert inside >= 2


def test_a_flat_line_is_not_confident():
    rng = np.random.default_rng(3)
    q = np.geomspace(0.005, 0.3, 150)
    intensity = 1.0 + 0.01 * rng.standard_normal(q.size)
    assert not estimate(q, intensity, np.full(q.size, 0.01)).confident


def test_an_unsure_classifier_is_never_confident(monkeypatch):
    """The same curve, once with the network sure and once with its class probabilities
    forced to 60/40: only the first may be confident (rule: top probability >= 0.9)."""
    import torch

    from sasview_saxsim_plugin.inverse.estimate import load_model

    q, intensity, sigma = _measured("sphere", {"radius": 43.0, "radius_pd": 0.08})
    assert estimate(q, intensity, sigma).confident
    model = load_model(None)
    unsure = torch.tensor([0.6, 0.4, 0.0])
    monkeypatch.setattr(model, "class_probabilities",
                        lambda code: unsure.expand(code.shape[0], 3).clone())
    r = estimate(q, intensity, sigma)
    assert r.shape == "sphere" and not r.confident
    assert any("uncertain" in n for n in r.notes)


@pytest.mark.parametrize("criterion", ["bic", "sampled"])
def test_the_network_prior_decides_between_equally_good_fits(criterion):
    """Two fits with the same BIC / evidence: the class rule must follow the network's odds
    (a zero prior weight would leave the choice to the order of the fits)."""
    from sasview_saxsim_plugin.inverse.refine import FitResult, choose_fit

    def fit(shape):
        f = FitResult(shape, {}, 1.0, 0.0, 1.0, 1, 0.0, True, 100.0)
        f.sampled_log_evidence = -50.0
        return f

    odds = {"sphere": 0.2, "hardsphere": 0.0, "cylinder": 0.8}
    assert choose_fit([fit("sphere"), fit("cylinder")], odds,
                      criterion=criterion).shape == "cylinder"
    assert choose_fit([fit("cylinder"), fit("sphere")], {"sphere": 0.8, "cylinder": 0.2},
                      criterion=criterion).shape == "sphere"
