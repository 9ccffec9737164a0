"""A hollow rectangular prism: outer edges *length_a*, *b2a_ratio*·*length_a* and
*c2a_ratio*·*length_a*, walls of *thickness* on every face (sasmodels'
*hollow_rectangular_prism*)."""

from sasview_saxsim_plugin.shapes import Box, length, number, sld

name = "hollow_rectangular_prism"
title = "Hollow rectangular prism"
sasmodels_name = "hollow_rectangular_prism"
parameters = [sld("sld", 6.3, "particle SLD"), sld("sld_solvent", 1.0, "solvent SLD"),
              length("length_a", 35.0, "outer edge a"),
              number("b2a_ratio", 1.0, "outer edge b / a", (0.05, 20.0), 0.05),
              number("c2a_ratio", 1.0, "outer edge c / a", (0.05, 20.0), 0.05),
              length("thickness", 1.0, "wall thickness")]
checks = ({"length_a": 100.0, "b2a_ratio": 1.5, "c2a_ratio": 0.8, "thickness": 10.0},
          (0.002, 0.02, 0.05, 0.1))


def shape(length_a, b2a_ratio, c2a_ratio, thickness):
    a, b, c = length_a, b2a_ratio * length_a, c2a_ratio * length_a
    t = min(thickness, 0.499 * min(a, b, c))
    return Box(a, b, c) - Box(a - 2 * t, b - 2 * t, c - 2 * t)


def feature(length_a, b2a_ratio, c2a_ratio, thickness):
    return thickness
