"""Curve files: round trips and SasView's own loader."""

import numpy as np
import pytest

from sasview_saxsim_plugin import SaxsimInputError
from sasview_saxsim_plugin.io import load_curve, write_curve
from sasview_saxsim_plugin.scattering import Curve1D


def curve():
    q = np.geomspace(0.01, 0.3, 25)
    return Curve1D(q, 1 / (1 + (q * 40) ** 4), 0.01 / (1 + q), 0.001 * q,
                   meta={"route": "test", "binning": {"q": q}})


@pytest.mark.parametrize("name", ["c.dat", "c.h5"])
def test_round_trip_through_the_one_reader(tmp_path, name):
    c = curve()
    path = write_curve(c, tmp_path / name)
    back = load_curve(path)
    assert isinstance(back, Curve1D) and back.q_unit == "1/A"
    assert np.allclose(back.q, c.q) and np.allclose(back.intensity, c.intensity)
    assert np.allclose(back.sigma, c.sigma) and np.allclose(back.dq, c.dq)


@pytest.mark.parametrize("name", ["c.h5", "c.dat"])
def test_sasview_loader_reads_units_and_columns(tmp_path, name):
    from sasdata.dataloader.loader import Loader
    c = curve()
    data = Loader().load(str(write_curve(c, tmp_path / name)))[0]
    assert np.allclose(data.x, c.q) and np.allclose(data.y, c.intensity)
    assert np.allclose(data.dy, c.sigma) and np.allclose(data.dx, c.dq)


def test_write_errors(tmp_path):
    with pytest.raises(SaxsimInputError, match="does not exist"):
        write_curve(curve(), tmp_path / "missing" / "c.dat")
    write_curve(curve(), tmp_path / "c.h5")
    with pytest.raises(SaxsimInputError, match="exists"):
        write_curve(curve(), tmp_path / "c.h5")
    (tmp_path / "junk.dat").write_text("not a table\n")
    with pytest.raises(SaxsimInputError, match="junk.dat"):
        load_curve(tmp_path / "junk.dat")
