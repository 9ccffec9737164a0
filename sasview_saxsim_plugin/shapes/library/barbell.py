"""A barbell: a cylinder of *radius* and *length* with a spherical bell of radius
*radius_bell* (≥ *radius*) on each end, the bell's centre beyond the cylinder end so that
it meets the cylinder's rim (sasmodels' *barbell*)."""

import math

from sasview_saxsim_plugin.shapes import Ball, Cylinder, length, sld

name = "barbell"
title = "Barbell"
sasmodels_name = "barbell"
parameters = [sld("sld", 4.0, "particle SLD"), sld("sld_solvent", 1.0, "solvent SLD"),
              length("radius_bell", 40.0, "radius of the end bells"),
              length("radius", 20.0, "cylinder radius"),
              length("length", 400.0, "cylinder length")]
checks = ({"radius_bell": 40.0, "radius": 20.0, "length": 200.0}, (0.002, 0.01, 0.03, 0.06))


def shape(radius_bell, radius, length):
    h = math.sqrt(max(radius_bell ** 2 - radius ** 2, 0.0))
    end = 0.5 * length + h
    return (Cylinder(radius, length) | Ball(radius_bell).translated(0, 0, end)
            | Ball(radius_bell).translated(0, 0, -end))
