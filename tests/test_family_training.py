"""The family pipeline end to end on tiny sets: model curves, measurements, a training that is
interrupted and resumed, calibration, and ``estimate`` with the resulting weights."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from sasview_saxsim_plugin.inverse.estimate import estimate, load_network
from sasview_saxsim_plugin.inverse.families import FAMILY_NAMES, family
from sasview_saxsim_plugin.inverse.training import dataset as fd
from sasview_saxsim_plugin.inverse.training.acquisition import CALC_Q


@pytest.fixture
def tiny_sets(tmp_path, monkeypatch):
    monkeypatch.setenv("SAXSIM_CACHE", str(tmp_path / "cache"))
    models = {"train": fd.ModelSpec(12, seed=1), "val": fd.ModelSpec(6, seed=2),
              "calib": fd.ModelSpec(6, seed=4), "test": fd.ModelSpec(3, seed=3)}
    sets = {"train": fd.SetSpec(models["train"], measurements=2, seed=11),
            "val": fd.SetSpec(models["val"], seed=12),
            "calib": fd.SetSpec(models["calib"], seed=14, keep_curves=True),
            "test": fd.SetSpec(models["test"], seed=13, keep_curves=True)}
    monkeypatch.setattr(fd, "MODEL_SETS", models)
    monkeypatch.setattr(fd, "STANDARD_SETS", sets)
    import sasview_saxsim_plugin.inverse.training.train as tf
    monkeypatch.setattr(tf, "STANDARD_SETS", sets)
    return tmp_path


def test_sets_are_cached_and_hold_what_they_claim(tiny_sets):
    data = fd.load_set("calib", workers=1, progress=False)
    n = 6 * len(FAMILY_NAMES)
    assert data["features"].shape[0] == n and np.isfinite(data["features"]).all()
    assert sorted(set(data["family"].tolist())) == list(range(len(FAMILY_NAMES)))
    for k, name in enumerate(FAMILY_NAMES):
        rows = data["parameters"][data["family"] == k]
        assert np.isfinite(rows[:, :family(name).n_free]).all()
        assert np.isnan(rows[:, family(name).n_free:]).all()
    # the stored model curve is the family's I(q) at the stored parameters
    models = fd.load_model_curves("calib", workers=1, progress=False)
    k = FAMILY_NAMES.index("sphere")
    i = int(np.flatnonzero(models["family"] == k)[0])
    values = {"radius": models["parameters"][i, 0], "radius_pd": models["parameters"][i, 1]}
    np.testing.assert_allclose(models["curves"][i], family("sphere").intensity(CALC_Q, values),
                               rtol=1e-5)
    again = fd.load_set("calib", workers=1, progress=False)  # from the cache
    np.testing.assert_array_equal(again["features"], data["features"])


@pytest.mark.slow
def test_training_resumes_after_interruption_then_calibrates_and_estimates(tiny_sets,
                                                                           monkeypatch):
    from sasview_saxsim_plugin.inverse.training.calibrate import calibrate
    from sasview_saxsim_plugin.inverse.training.train import train_shipped

    out = tiny_sets / "net.pt"
    first = train_shipped(out, epochs=3, batch=64, workers=1, stop_after_epochs=1,
                           encoder_width=8, bf16_encoder=False)
    assert not first["finished"] and first["epoch"] == 1 and not out.exists()
    state_after_one = torch.load(first["checkpoint"], weights_only=True)["state"]
    done = train_shipped(out, epochs=3, batch=64, workers=1, encoder_width=8,
                          bf16_encoder=False)
    assert done["finished"] and out.exists()
    assert [h["epoch"] for h in done["history"]] == [1, 2, 3]
    assert done["history"][0] == state_after_one["history"][0]  # continued, not restarted
    assert not out.with_name(out.name + ".checkpoint").exists()
    result = calibrate(out)
    assert 0.1 < result["temperature"] < 10
    data = fd.load_set("test", workers=1, progress=False)
    q, intensity, sigma, _ = data["curves"][0].astype(float)
    ok = np.isfinite(q)
    load_network.cache_clear()
    r = estimate(q[ok], intensity[ok], sigma[ok], weights=out)
    assert r.model_name in FAMILY_NAMES
    assert abs(sum(r.probabilities.values()) - 1) < 1e-4
    assert list(r.probabilities.values()) == sorted(r.probabilities.values(), reverse=True)
    assert len(r.ranked) >= 3 and r.ranked[0].model_name == r.model_name
    assert [a.model_name for a in r.alternatives] == [x.model_name for x in r.ranked[1:]]
    for entry in r.ranked:
        assert set(entry.parameters) == set(family(entry.model_name).parameter_names)
        for median, p16, p84 in entry.parameters.values():
            assert p16 <= median <= p84
        assert entry.sasmodels_parameters["scale"] > 0
    # the refinement fits every listed family and picks one of them; the summary row and
    # the fit-page seed of any listed family follow
    import sys

    from sasview_saxsim_plugin.gui.fit_seeding import fit_page_parameters, fitted_for_family
    from sasview_saxsim_plugin.inverse.analysis import analyse_curve
    from sasview_saxsim_plugin.scattering.curve import Curve1D

    estimate_module = sys.modules["sasview_saxsim_plugin.inverse.estimate"]
    # an untrained network spreads P over all twelve: list the top three only (time)
    monkeypatch.setattr(estimate_module, "LISTED_P", 0.5)
    curve = Curve1D(q[ok], intensity[ok], sigma[ok], meta={"title": "tiny"})
    analysis = analyse_curve(curve, refine=True, weights=str(out))
    listed = [x.model_name for x in analysis.estimate.ranked]
    assert analysis.refined.model_name in listed
    row = analysis.summary_row()
    assert row["family_1"] == analysis.estimate.model_name and "parameters_3" in row
    last = listed[-1]
    page = fit_page_parameters(last, analysis.family_seed(last), fitted_for_family(last))
    assert page["fitpage_model"] == [last.split("@")[0]]
