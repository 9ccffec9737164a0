"""Inverse-layer physics (features, tables, refinement, evidence, training loop), checked against
sasmodels directly."""

import numpy as np
import pytest
from sasmodels.core import load_model
from sasmodels.direct_model import call_kernel

from sasview_saxsim_plugin.errors import SaxsimInputError
from sasview_saxsim_plugin.inverse.cylinder_table import cylinder_iq
from sasview_saxsim_plugin.inverse.families import family
from sasview_saxsim_plugin.inverse.features import (
    FEATURES,
    N_BINS,
    check_range,
    clean_curve,
    featurize,
)
from sasview_saxsim_plugin.inverse.refine import fit_model
from sasview_saxsim_plugin.inverse.training.acquisition import (
    CALC_Q,
    draw_acquisition,
    expected_measurement,
    measure,
)
from sasview_saxsim_plugin.inverse.training.dataset import ModelSpec, SetSpec, load_set


def _sasmodels(name, q, **pars):
    kernel = load_model(name).make_kernel([q])
    return call_kernel(kernel, {"background": 0.0, "scale": 1.0, **pars})


@pytest.mark.parametrize("r,l,rpd,lpd", [(20, 100, 0.05, 0.08), (50, 1000, 0.2, 0.2),
                                         (300, 40, 0.1, 0.0), (10, 3000, 0.0, 0.1)])
def test_cylinder_table_matches_sasmodels(r, l, rpd, lpd):
    q = np.geomspace(0.002, 0.6, 120)
    ours = cylinder_iq(q, r, l, rpd, lpd, pd_n=15)
    ref = _sasmodels("cylinder", q, radius=r, length=l, radius_pd=rpd, length_pd=lpd,
                     radius_pd_n=15, length_pd_n=15, sld=1, sld_solvent=0)
    assert np.max(np.abs(ours / ref - 1)) < 5e-3


def test_catalogue_hardsphere_is_sasmodels_product_model():
    e = family("sphere@hardsphere")
    values = {"radius": 40.0, "radius_pd": 0.1, "volfraction": 0.3}
    from sasview_saxsim_plugin.inverse.polydispersity import polydispersity_points

    ref = _sasmodels("sphere@hardsphere", CALC_Q, radius=40.0, radius_pd=0.1,
                     radius_pd_n=polydispersity_points(40.0, 0.1, CALC_Q[-1]),
                     volfraction=0.3, radius_effective_mode=1, sld=1, sld_solvent=0)
    assert np.allclose(e.intensity(CALC_Q, values), ref, rtol=1e-6)
    with pytest.raises(KeyError, match="known"):
        family("torus")


def test_measurement_noise_is_what_sigma_says():
    """Over many random acquisitions, (I − expected I) / true σ is N(0, 1) (the reported dI is
    σ times the acquisition's error_scale, mis-estimated on purpose)."""
    rng = np.random.default_rng(1)
    i_calc = _sasmodels("sphere", CALC_Q, radius=50.0, radius_pd=0.1, radius_pd_n=35, sld=1,
                        sld_solvent=0)
    z = []
    for _ in range(60):
        acq = draw_acquisition(rng)
        q, intensity, reported = measure(i_calc, acq, rng)
        _, mean, sigma = expected_measurement(i_calc, acq)
        np.testing.assert_allclose(reported, sigma * acq.error_scale)
        z.append((intensity - mean) / sigma)
    z = np.concatenate(z)
    assert abs(np.std(z) - 1) < 0.05 and abs(np.mean(z)) < 0.05


def test_features_ignore_scale_and_mask_outside():
    q = np.geomspace(0.01, 0.3, 150)
    intensity = _sasmodels("sphere", q, radius=60.0, sld=1, sld_solvent=0)
    a, n_a = featurize(q, intensity)
    b, n_b = featurize(q, 1234.0 * intensity)
    assert a.shape == (FEATURES,) and np.allclose(a, b, atol=1e-5) and n_a == n_b
    mask = a[N_BINS:2 * N_BINS]
    from sasview_saxsim_plugin.inverse.features import NETWORK_Q
    assert np.all(mask[(NETWORK_Q < 0.009) | (NETWORK_Q > 0.31)] == 0)
    assert mask.sum() == n_a > 50
    assert np.all(a[2 * N_BINS:] == 0)  # no dI given: noise channel blank


def test_noise_channel_is_relative_error_of_bin_means():
    from sasview_saxsim_plugin.inverse.features import (
        NETWORK_Q_EDGES,
        NOISE_CLIP,
        NOISE_OFFSET,
    )
    rng = np.random.default_rng(3)
    q = np.sort(rng.uniform(0.004, 0.5, 300))
    intensity = _sasmodels("sphere", q, radius=40.0, sld=1, sld_solvent=0) + 1e-4
    d_intensity = intensity * rng.uniform(0.005, 0.05, q.size)
    a, _ = featurize(q, intensity, d_intensity)
    b, _ = featurize(q, 77.0 * intensity, 77.0 * d_intensity)
    assert np.allclose(a, b, atol=1e-5)                       # scale drops out
    noise = a[2 * N_BINS:]
    checked = 0
    for k in range(N_BINS):                                   # one bin at a time, by hand
        inside = (q >= NETWORK_Q_EDGES[k]) & (q < NETWORK_Q_EDGES[k + 1])
        if inside.sum() >= 2:
            rel = np.sqrt(np.sum(d_intensity[inside] ** 2)) / np.sum(intensity[inside])
            expected = np.clip(np.log10(rel), *NOISE_CLIP) + NOISE_OFFSET
            assert noise[k] == pytest.approx(expected, abs=1e-5)
            checked += 1
    assert checked > 40
    assert np.all(noise[a[N_BINS:2 * N_BINS] == 0] == 0)      # masked bins stay blank
    # doubling dI raises every valid bin by log10(2) (inside the clip range)
    c, _ = featurize(q, intensity, 2 * d_intensity)
    valid = a[N_BINS:2 * N_BINS] == 1
    assert np.allclose(c[2 * N_BINS:][valid] - noise[valid], np.log10(2), atol=1e-5)
    # unusable dI (a zero) is ignored, not half-used
    bad = d_intensity.copy()
    bad[5] = 0.0
    assert np.all(featurize(q, intensity, bad)[0][2 * N_BINS:] == 0)


def test_clean_curve_bad_input():
    q = np.geomspace(0.005, 0.4, 100)
    intensity = 1.0 / (1 + (q * 50) ** 4)
    bad = intensity.copy()
    bad[3], bad[10], bad[20] = np.nan, 0.0, -1.0
    qc, ic, _, notes = clean_curve(q, bad)
    assert qc.size == 97 and any("NaN" in n for n in notes) and any("I <= 0" in n for n in notes)
    with pytest.raises(SaxsimInputError, match="at least 20"):
        clean_curve(q[:15], intensity[:15])
    with pytest.raises(SaxsimInputError, match="1/nm"):
        clean_curve(q * 10, intensity)
    qn, *_ = clean_curve(q * 10, intensity, q_unit="1/nm")
    assert np.allclose(qn, q)
    with pytest.raises(SaxsimInputError, match="outside"):
        q_far = np.geomspace(0.7, 2.0, 50)
        _, n = featurize(q_far, 1.0 / q_far**4)
        check_range(q_far, n)


def test_sets_are_seeded_and_distinct(tmp_path, monkeypatch):
    from sasview_saxsim_plugin.inverse.families import FAMILY_NAMES

    monkeypatch.setenv("SAXSIM_CACHE", str(tmp_path))
    a = load_set(SetSpec(ModelSpec(2, seed=7), seed=1), workers=1, progress=False)
    monkeypatch.setenv("SAXSIM_CACHE", str(tmp_path / "other"))
    b = load_set(SetSpec(ModelSpec(2, seed=7), seed=1), workers=1, progress=False)
    c = load_set(SetSpec(ModelSpec(2, seed=8), seed=1), workers=1, progress=False)
    assert np.array_equal(a["features"], b["features"])
    assert not np.allclose(a["parameters"][:, 0], c["parameters"][:, 0])
    assert sorted(set(a["family"])) == list(range(len(FAMILY_NAMES)))


def test_refine_recovers_sphere():
    q = np.geomspace(0.005, 0.4, 150)
    truth = {"radius": 62.0, "radius_pd": 0.12}
    intensity = 3.0 * family("sphere").intensity(q, truth) + 0.01
    sigma = 0.01 * intensity
    fit = fit_model("sphere", q, intensity, sigma, {"radius": 55.0, "radius_pd": 0.05})
    assert abs(fit.parameters["radius"] / 62.0 - 1) < 1e-3
    assert abs(fit.parameters["radius_pd"] - 0.12) < 1e-3
    assert abs(fit.scale / 3.0 - 1) < 1e-2 and fit.reduced_chi2 < 1e-3


def test_refine_recovers_smeared_cylinder_with_background():
    """Scale and background enter the fit's Jacobian analytically: a smeared, polydisperse
    cylinder with a flat background from sasmodels' own kernel and resolution (independent of
    the catalogue's cylinder table and smearing) is recovered from a start 20 % off."""
    from sasmodels.core import load_model
    from sasmodels.data import empty_data1D
    from sasmodels.direct_model import DirectModel

    q = np.geomspace(0.004, 0.3, 120)
    data = empty_data1D(q, resolution=0.05)  # dq = 5 % of q (1 sigma), as Pinhole1D
    truth = {"radius": 25.0, "radius_pd": 0.1, "length": 300.0, "length_pd": 0.1}
    pars = dict(truth, scale=2.0, background=0.05, sld=1.0, sld_solvent=0.0,
                radius_pd_n=35, length_pd_n=35)
    intensity = DirectModel(data, load_model("cylinder"))(**pars)
    sigma = 0.01 * intensity
    start = {"radius": 20.0, "radius_pd": 0.05, "length": 240.0, "length_pd": 0.05}
    fit = fit_model("cylinder", q, intensity, sigma, start, dq=0.05 * q)
    assert abs(fit.parameters["radius"] / 25.0 - 1) < 0.01
    assert abs(fit.parameters["length"] / 300.0 - 1) < 0.02
    assert abs(fit.scale / 2.0 - 1) < 0.03 and abs(fit.background / 0.05 - 1) < 0.05
    assert fit.reduced_chi2 < 1.0


def test_load_curve_refuses_2d_and_sesans():
    import os

    import sas

    from sasview_saxsim_plugin.io.loading import load_curve

    base = os.path.join(os.path.dirname(sas.__file__), "example_data")
    with pytest.raises(SaxsimInputError, match="2D data"):
        load_curve(os.path.join(base, "2d_data", "14250_2D_NoDetInfo_NXcanSAS_v3.h5"))
    with pytest.raises(SaxsimInputError, match="SESANS"):
        load_curve(os.path.join(base, "sesans_data", "sphere2micron.ses"))
    curve = load_curve(os.path.join(base, "1d_data", "PolySpheres.txt"))
    assert curve.q.size == 128 and curve.d_intensity is not None and curve.q_unit == "1/A"


TINY_TRAIN = SetSpec(ModelSpec(2, seed=31), measurements=2, seed=33)
TINY_VAL = SetSpec(ModelSpec(1, seed=32), seed=34)


def test_training_loop_runs_and_saves_loadable_weights(tmp_path, monkeypatch):
    """Smoke test of ``train_shipped`` on a tiny set (the real run takes ~2 h)."""
    from sasview_saxsim_plugin.inverse.estimate import FamilyNetwork
    from sasview_saxsim_plugin.inverse.families import FAMILY_NAMES, MAX_PARAMETERS
    from sasview_saxsim_plugin.inverse.training.train import train_shipped

    monkeypatch.setenv("SAXSIM_CACHE", str(tmp_path / "cache"))
    r = train_shipped(epochs=2, batch=8, train_set=TINY_TRAIN, val_set=TINY_VAL,
                      out=tmp_path / "w.pt", workers=1)
    assert r["best_epoch"] in (1, 2) and len(r["history"]) == 2
    assert all(np.isfinite(h["val_nll"]) for h in r["history"])
    network = FamilyNetwork(tmp_path / "w.pt")
    assert network.channels == 3 and network.net.config["encoder"] == "conv"
    code = network.encode(np.zeros((2, FEATURES), np.float32))
    assert network.class_probabilities(code).shape == (2, len(FAMILY_NAMES))
    samples = network.posterior(code, np.array([0, 1]), 5)
    assert samples.shape == (2, 5, MAX_PARAMETERS)


def test_a_wider_encoder_trained_in_bfloat16_saves_float32_weights(tmp_path, monkeypatch):
    """``encoder_width`` reaches the saved config and ``bf16_encoder`` only changes the
    arithmetic of training: the weights stay float32 and load for float32 inference."""
    import torch

    from sasview_saxsim_plugin.inverse.estimate import FamilyNetwork
    from sasview_saxsim_plugin.inverse.training.train import train_shipped

    monkeypatch.setenv("SAXSIM_CACHE", str(tmp_path / "cache"))
    r = train_shipped(epochs=1, batch=8, train_set=TINY_TRAIN, val_set=TINY_VAL,
                      out=tmp_path / "w.pt", encoder_width=8, bf16_encoder=True, workers=1)
    assert np.isfinite(r["history"][0]["train_loss"])
    blob = torch.load(tmp_path / "w.pt", map_location="cpu", weights_only=True)
    assert blob["metadata"]["settings"]["bf16_encoder"] is True
    assert all(v.dtype == torch.float32 for v in blob["state"].values() if v.is_floating_point())
    network = FamilyNetwork(tmp_path / "w.pt")
    assert network.net.encoder.conv[0].out_channels == 8


def test_bf16_only_where_the_cpu_has_native_bfloat16():
    import torch

    from sasview_saxsim_plugin.inverse.training.train import bf16_is_fast

    cpu = torch.device("cpu")
    assert bf16_is_fast(cpu, "flags\t: fpu sse avx512f amx_bf16 amx_tile\n")
    assert bf16_is_fast(cpu, "flags\t: fpu avx512f avx512_bf16\n")
    assert not bf16_is_fast(cpu, "flags\t: fpu avx2 avx512f avx512bw\n")
    assert isinstance(bf16_is_fast(cpu), bool)


def test_training_schedule_shrinks_to_the_time_budget(tmp_path, monkeypatch):
    """On a machine too slow for the epochs asked, the one-cycle schedule is shortened after
    the first epoch (so the learning rate still anneals) instead of the run being cut."""
    import io

    from sasview_saxsim_plugin.inverse.training.train import epochs_within, train_shipped

    assert epochs_within(1.0, 44, 55) == 44           # all fit
    assert epochs_within(1.5, 44, 55) == 35           # 55 / (1.5 · 1.03) = 35.6
    assert epochs_within(100.0, 44, 55) == 1          # never fewer than one
    monkeypatch.setenv("SAXSIM_CACHE", str(tmp_path / "cache"))
    log = io.StringIO()
    r = train_shipped(epochs=3, batch=8, train_set=TINY_TRAIN, val_set=TINY_VAL,
                      out=tmp_path / "w.pt", log=log, max_minutes=1e-6, workers=1)
    assert len(r["history"]) == 1 and "shortened to 1 epochs" in log.getvalue()


def test_training_schedule_shrinks_when_later_epochs_are_slower(tmp_path, monkeypatch):
    """The pace is re-checked after every epoch, not only the first: a first epoch of 2 min
    promises 4 epochs within 10 min; at 3 min per epoch on average after the second, only 3
    fit, so the schedule is shortened then and the run ends on its annealed last epoch."""
    import io

    from sasview_saxsim_plugin.inverse.training import train

    readings = iter([0.0, 2.0, 6.0, 9.0])        # minutes on the clock: start, after epochs

    monkeypatch.setattr(train, "_minutes_now", lambda: next(readings))
    monkeypatch.setenv("SAXSIM_CACHE", str(tmp_path / "cache"))
    log = io.StringIO()
    r = train.train_shipped(epochs=4, batch=8, train_set=TINY_TRAIN, val_set=TINY_VAL,
                            out=tmp_path / "w.pt", log=log, max_minutes=10, workers=1)
    assert "4 epochs would take 12 min here: schedule shortened to 3 epochs" in log.getvalue()
    assert len(r["history"]) == 3


def test_choose_fit_weighs_bic_against_the_network_probability():
    """BIC alone without probabilities; with them, ln p enters at half weight: a BIC worse by
    2 is outweighed by a 10x more probable shape (0.5 ln 10 = 1.15 > 2 / 2 = 1), one worse by
    3 is not."""
    from sasview_saxsim_plugin.inverse.refine import FitResult, choose_fit

    def fit(name, bic):
        return FitResult(name, {}, 1.0, 0.0, 1.0, 1, 0.0, True, bic)

    hs = "sphere@hardsphere"
    fits = [fit("sphere", 100.0), fit(hs, 102.0)]
    assert choose_fit(fits).model_name == "sphere"
    probs = {"sphere": 0.08, hs: 0.8, "cylinder": 0.12}
    assert choose_fit(fits, probs).model_name == hs
    assert choose_fit([fit("sphere", 100.0), fit(hs, 103.0)], probs).model_name == "sphere"


def test_refine_leaves_a_local_minimum_through_posterior_samples():
    """A posterior median in the wrong basin (between two modes) gives a poor fit; the retries
    from posterior samples find the truth (independent reference: sasmodels'
    sphere curve with known parameters and σ)."""
    from types import SimpleNamespace

    from sasview_saxsim_plugin.inverse.refine import chi2_is_poor, refine_estimate

    rng = np.random.default_rng(7)
    q = np.geomspace(0.01, 0.3, 200)
    truth = {"radius": 120.0, "radius_pd": 0.03}
    intensity = 5.0 * family("sphere").intensity(q, truth) + 0.02
    sigma = 0.02 * intensity
    intensity = intensity + rng.normal(0.0, 1.0, q.size) * sigma
    samples = np.full((24, 2), np.nan)
    samples[:, 0] = np.where(np.arange(24) % 2 == 0, rng.normal(121.0, 1.0, 24),
                             rng.normal(260.0, 5.0, 24))
    samples[:, 1] = 0.03
    entry = SimpleNamespace(model_name="sphere", samples=samples, probability=1.0,
                            parameters={"radius": (190.0, 120.0, 260.0),
                                        "radius_pd": (0.03, 0.02, 0.04)})
    result = SimpleNamespace(ranked=[entry], probabilities={"sphere": 1.0})
    stuck = refine_estimate(result, q, intensity, sigma, retries=0)
    assert chi2_is_poor(stuck, q.size) and abs(stuck.parameters["radius"] / 120 - 1) > 0.05
    fit = refine_estimate(result, q, intensity, sigma)
    assert abs(fit.parameters["radius"] / 120 - 1) < 0.01 and not chi2_is_poor(fit, q.size)


def test_load_curve_names_a_text_file_that_holds_no_data(tmp_path):
    from sasview_saxsim_plugin.io.loading import load_curve

    prose = tmp_path / "notes.txt"
    prose.write_text("Sample log\nbeamtime notes, no numbers here\n")
    with pytest.raises(SaxsimInputError, match="no numeric q, I values"):
        load_curve(prose)


def test_load_curve_says_a_four_row_file_is_too_short_for_sasviews_reader(tmp_path):
    from sasview_saxsim_plugin.io.loading import load_curve

    short = tmp_path / "four_points.dat"
    short.write_text("0.01 100\n0.02 80\n0.03 50\n0.04 20\n")
    with pytest.raises(SaxsimInputError, match="fewer than 5 data rows"):
        load_curve(short)


def test_fit_model_on_averaged_points_matches_a_fit_to_the_bin_means():
    from sasview_saxsim_plugin.inverse.refine import fit_model

    q = np.linspace(0.005, 0.3, 200)
    intensity = 3.0 * family("sphere").intensity(q, {"radius": 60.0, "radius_pd": 0.1}) + 0.01
    sigma = 0.01 * intensity
    pairs = np.kron(np.eye(100), [0.5, 0.5])  # means of neighbouring points
    fit = fit_model("sphere", q, intensity, sigma, {"radius": 55.0, "radius_pd": 0.05},
                    average=pairs)
    assert abs(fit.parameters["radius"] / 60.0 - 1) < 0.01 and fit.reduced_chi2 < 1e-3
    # n in χ²_r and the BIC is the number of bin means (100), not of points (200)
    k = 4  # radius, pd, scale, background
    assert abs(fit.bic - fit.reduced_chi2 * (100 - k) - k * np.log(100)) < 1e-6


def test_laplace_evidence_matches_the_integral_of_a_one_parameter_model():
    """For residuals linear in the parameter, the Laplace evidence is exact: compare with the
    numerical integral of exp(−χ²/2) over the uniform prior (scipy quad; here the broad sphere
    prior, ln R over ln 10..ln 500, and pd 0..0.3, each with a linear residual), and check
    that a direction the data do not constrain costs nothing (Occam factor 1)."""
    from scipy.integrate import quad

    from sasview_saxsim_plugin.inverse.refine import laplace_terms, prior_box

    low, high = prior_box("sphere")
    widths = high - low
    rng = np.random.default_rng(3)
    a, b = rng.normal(size=(40, 1)) * 3.0, rng.normal(size=40)

    def chi2(x):  # residuals a·x − b in the radius coordinate, pd unconstrained
        return float(np.sum((a[:, 0] * x - b) ** 2))

    x_min = float(np.linalg.lstsq(a, b, rcond=None)[0][0])
    centre = 0.5 * (low[0] + high[0])  # shift the problem to the middle of the prior box
    integral, _ = quad(lambda x: np.exp(-0.5 * (chi2(x - centre) - chi2(x_min))),
                       low[0], high[0], points=[centre + x_min], limit=200)
    exact = np.log(integral / widths[0])  # the pd direction integrates to 1 (flat, own prior)
    jacobian = np.column_stack([a[:, 0], np.zeros(40)])
    approx = laplace_terms("sphere", np.array([centre + x_min, 0.15]), jacobian)
    # the 2π/w² cap adds (1/2)·ln(1 + 2π/(w² h)) with h = Σa² ≈ 360: 5e-4 here
    assert abs(approx - exact) < 2e-3
    # an unconstrained parameter alone: ln(Occam factor) = 0
    assert abs(laplace_terms("sphere", np.array([centre, 0.15]), np.zeros((40, 2)))) < 1e-12


def test_laplace_evidence_charges_an_optimum_outside_the_prior():
    """A hard-sphere fit that reaches its optimum below the prior's φ = 0.02 pays the
    quadratic likelihood drop to the prior's edge; one inside does not."""
    from sasview_saxsim_plugin.inverse.refine import laplace_terms

    jacobian = np.diag([100.0, 100.0, 50.0])  # ln R, pd, φ each well measured
    inside = laplace_terms("sphere@hardsphere", np.array([np.log(100.0), 0.1, 0.2]), jacobian)
    outside = laplace_terms("sphere@hardsphere", np.array([np.log(100.0), 0.1, 0.01]), jacobian)
    # σ_φ² = 1/(50² + 2π/0.43²) (the prior cap); drop (0.02 − 0.01)²/(2σ_φ²), + ln 2
    variance = 1.0 / (50.0**2 + 2.0 * np.pi / 0.43**2)
    assert abs(inside - outside - (0.01**2 / (2.0 * variance) + np.log(2.0))) < 1e-9


def test_laplace_evidence_prefers_the_sphere_when_a_hard_sphere_fluid_adds_nothing():
    """Dilute spheres (no structure factor): the hard-sphere fit reaches the same χ² only at
    φ → 0, outside its prior, so the sphere has the higher evidence; with φ = 0.3 the
    structure-factor dip makes the hard sphere win by far. Data: sasmodels curves."""
    from sasview_saxsim_plugin.inverse.model_curves import model_intensity
    from sasview_saxsim_plugin.inverse.refine import fit_model

    rng = np.random.default_rng(11)
    q = np.geomspace(0.005, 0.3, 150)
    start = {"radius": 80.0, "radius_pd": 0.05, "volfraction": 0.1}
    hs = "sphere@hardsphere"
    for truth, winner in (("sphere", "sphere"), (hs, hs)):
        values = {"radius": 80.0, "radius_pd": 0.05, "volfraction": 0.3}
        ideal = model_intensity(truth, q, {k: values[k] for k in family(truth).parameter_names})
        sigma = 0.01 * ideal
        data = ideal + rng.normal(0.0, 1.0, q.size) * sigma
        fits = {s: fit_model(s, q, data, sigma, start) for s in ("sphere", hs)}
        assert max(fits, key=lambda s: fits[s].log_evidence) == winner


@pytest.mark.parametrize("shape, values", [
    ("sphere", {"radius": 450.0, "radius_pd": 0.25}),
    ("sphere@hardsphere", {"radius": 100.0, "radius_pd": 0.3, "volfraction": 0.2}),
    ("cylinder", {"radius": 300.0, "radius_pd": 0.25, "length": 400.0, "length_pd": 0.25}),
])
def test_polydispersity_quadrature_does_not_alias_at_high_q(shape, values):
    """Large polydisperse particles up to q = 0.6 1/Å: the catalogue's curve equals a dense
    Gaussian quadrature, where sasmodels' default 35 points are off by tens of %."""
    from sasview_saxsim_plugin.inverse.families import sasmodels_intensity
    from sasview_saxsim_plugin.inverse.polydispersity import MIN_PD_POINTS

    q = np.geomspace(0.005, 0.6, 300)
    e = family(shape)

    def with_points(n):
        if shape == "cylinder":
            return cylinder_iq(q, values["radius"], values["length"], values["radius_pd"],
                               values["length_pd"], pd_n=n)
        return sasmodels_intensity(e.name, q, e.sasmodels_parameters(values, pd_n=n))

    dense = with_points(1201)
    assert np.max(np.abs(e.intensity(q, values) / dense - 1)) < 5e-3
    assert np.max(np.abs(with_points(MIN_PD_POINTS) / dense - 1)) > 0.2


def test_laplace_evidence_with_scale_and_background_columns_equals_the_direct_formula():
    """With the scale and background columns in the Jacobian, the factored determinant
    (``profiled_information``) gives what the direct ln det(JᵀJ + prior caps) gives where
    that is well-conditioned."""
    from sasview_saxsim_plugin.inverse.refine import laplace_terms, prior_box

    low, high = prior_box("sphere@hardsphere")
    widths = high - low
    jacobian = np.random.default_rng(1).normal(size=(50, 5)) * [30, 20, 40, 5, 8]
    x = np.array([np.log(100.0), 0.1, 0.01])  # φ below the prior: the edge term too
    h = jacobian.T @ jacobian
    h[np.arange(3), np.arange(3)] += 2.0 * np.pi / widths**2
    variance = np.diag(np.linalg.inv(h))[:3]
    outside = np.maximum(low - x, 0.0)
    direct = (2.5 * np.log(2.0 * np.pi) - 0.5 * np.linalg.slogdet(h)[1] - np.sum(np.log(widths))
              - 0.5 * np.sum(outside**2 / variance) - np.log(2.0))
    assert laplace_terms("sphere@hardsphere", x, jacobian) == pytest.approx(direct, abs=1e-9)


def test_refine_recovers_a_slit_smeared_sphere():
    """Slit-smeared data (Bonse-Hart USAXS, Kratky cameras): sasmodels' own Slit1D makes the
    curve, the fit smears its model with the data's slit length and recovers the radius from a
    start 15 % off (without the slit the same fit is biased)."""
    from sasmodels.data import empty_data1D
    from sasmodels.direct_model import DirectModel

    from sasview_saxsim_plugin.inverse.refine import fit_model

    q = np.geomspace(0.003, 0.25, 150)
    data = empty_data1D(q)
    data.dx, data.dxl, data.dxw = None, np.full(q.shape, 0.03), np.zeros(q.shape)
    truth = {"radius": 80.0, "radius_pd": 0.1}
    intensity = DirectModel(data, load_model("sphere"))(**truth, radius_pd_n=61, sld=2.0,
                                                           sld_solvent=0.0, scale=0.01,
                                                           background=0.0)
    sigma = 0.01 * intensity
    start = {"radius": 92.0, "radius_pd": 0.05}
    fit = fit_model("sphere", q, intensity, sigma, start, slit_length=0.03)
    # noise-free data: what χ² remains is the two slit quadratures' difference (sasmodels'
    # Slit1D on the data's own q grid there, on a 600-point log grid here), ~0.3 %
    assert abs(fit.parameters["radius"] / 80.0 - 1) < 0.01 and fit.reduced_chi2 < 0.5
    unsmeared = fit_model("sphere", q, intensity, sigma, start)
    assert unsmeared.reduced_chi2 > 20 * fit.reduced_chi2
