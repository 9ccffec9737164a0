"""Estimate -> SasView fit-page dictionary (no Qt): layout SasView's paste code reads."""

import math

import pytest
from sasmodels.core import load_model_info

from sasview_saxsim_plugin.errors import SaxsimInputError
from sasview_saxsim_plugin.gui.fit_seeding import (
    fit_page_parameters,
    sasview_category,
    split_model_name,
)


def test_sphere_at_hardsphere_page():
    values = {"scale": 0.5, "background": 0.01, "sld": 1.0, "sld_solvent": 0.0,
              "radius_effective_mode": 1, "radius": 61.5, "radius_pd": 0.12,
              "radius_pd_n": 35, "radius_pd_type": "gaussian", "volfraction": 0.2}
    line = fit_page_parameters("sphere@hardsphere", values)
    assert line["fitpage_model"] == ["sphere"] and line["model_name"] == ["sphere"]
    assert line["fitpage_structure"] == ["hardsphere"]
    assert line["fitpage_category"] == ["Sphere"]
    # plain parameters: [fitted, value, min, max]; limits from sasmodels' model info
    assert line["radius"] == ["True", "61.5", "0.0", "inf"]
    assert line["volfraction"][:2] == ["True", "0.2"]
    assert float(line["volfraction"][3]) == load_model_info("hardsphere").parameters[
        "volfraction"].limits[1]
    assert line["sld"][0] == "False"
    # a combobox parameter carries the option index
    assert line["radius_effective_mode"][:2] == ["False", "1"]
    # polydispersity: 7 fields [fitted, width, min, max, npts, nsigmas, distribution]
    assert line["radius.width"] == ["True", "0.12", "0.0", "1.0", "35", "3.0", "gaussian"]
    assert line["polydisperse_params"] == ["True"]
    assert "radius_pd" not in line and "radius_pd_n" not in line


def test_no_polydispersity_and_categories():
    line = fit_page_parameters("cylinder", {"radius": 20.0, "length": 400.0,
                                            "radius_pd": 0.0})
    assert line["fitpage_category"] == ["Cylinder"]
    assert line["radius.width"][0] == "False"
    assert line["polydisperse_params"] == ["False"]
    assert sasview_category("numerical_cylinder") == "Plugin Models"
    assert sasview_category("numerical_density") == "Plugin Models"     # the replaced one
    limits = fit_page_parameters("numerical_cylinder", {"radius": 5.0})["radius"][2:]
    assert [float(x) for x in limits] == [0.0, math.inf]


def test_model_names():
    assert split_model_name("sphere@hardsphere") == ("sphere", "hardsphere")
    assert split_model_name("sphere") == ("sphere", None)
    with pytest.raises(SaxsimInputError):
        split_model_name("sphere+cylinder")
