"""Progress callbacks and cancellation of long computations (what the GUI relies on)."""

import numpy as np
import pytest

from sasview_saxsim_plugin.progress import ComputationCancelled, Progress, prefixed, track
from sasview_saxsim_plugin.simulate import particle_curve


def test_callback_sees_every_step_and_the_total():
    seen = []
    out = list(track(range(5), lambda s, d, t: seen.append((s, d, t)), "stage"))
    assert out == [0, 1, 2, 3, 4]
    assert seen == [("stage", k, 5) for k in range(6)]


def test_silent_and_prefixed_progress():
    assert list(track([1, 2], False, "x")) == [1, 2]
    seen = []
    with Progress(prefixed(lambda s, d, t: seen.append(s), "run 1/2: "), 1, "fft") as p:
        p.update()
    assert seen == ["run 1/2: fft", "run 1/2: fft"]


def test_cancel_stops_a_polydisperse_particle_curve():
    calls = []

    def cancel_after_three(stage, done, total):
        calls.append(done)
        if done >= 3:
            raise ComputationCancelled(stage)

    q = np.geomspace(0.01, 0.3, 40)
    with pytest.raises(ComputationCancelled):
        particle_curve("sphere", {"radius": 30.0}, q, pd={"radius": 0.1, "pd_n": 11},
                       progress=cancel_after_three)
    assert calls == [0, 1, 2, 3]          # stopped at once, not after the 11 sizes


def test_progress_does_not_change_the_result():
    q = np.geomspace(0.01, 0.3, 40)
    kw = dict(pd={"radius": 0.1, "pd_n": 7})
    quiet = particle_curve("sphere", {"radius": 30.0}, q, **kw)
    steps = []
    loud = particle_curve("sphere", {"radius": 30.0}, q, progress=lambda *a: steps.append(a),
                          **kw)
    np.testing.assert_array_equal(quiet.intensity, loud.intensity)
    assert steps[-1][1:] == (7, 7)


def test_terminal_bars_say_which_realisation_is_running(capsys):
    """The CLI's bars (progress=True) carry the prefix, as the GUI's stages do."""
    from sasview_saxsim_plugin.progress import Progress, prefixed

    bars = prefixed(True, "realisation 2/3: ")
    assert bars
    with Progress(bars, 4, "split FFT 64³") as bar:
        assert bar._bar.desc == "realisation 2/3: split FFT 64³"
    assert prefixed(False, "x") is False


def test_an_ensemble_run_announces_its_plan_and_what_is_left():
    from sasview_saxsim_plugin.simulate.compare import compare_ensemble

    said = []
    compare_ensemble("spheres", box=400.0, n=48, radius=20.0, volume_fraction=0.05,
                     realisations=2, announce=said.append)
    assert "2 realisation(s) of a 48³ box" in said[0] and "2 split-FFT passes" in said[0]
    assert said[1].startswith("realisation 1/2 done after") and "left" in said[1]
