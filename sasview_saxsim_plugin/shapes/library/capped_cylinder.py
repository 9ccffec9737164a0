"""A cylinder of *radius* and *length* closed by spherical caps of radius *radius_cap*
(≥ *radius*) whose centres lie inside the cylinder, so that the caps are lenses that meet
the rim (sasmodels' *capped_cylinder*)."""

import math

from sasview_saxsim_plugin.shapes import Ball, Cylinder, HalfSpace, length, sld

name = "capped_cylinder"
title = "Capped cylinder"
sasmodels_name = "capped_cylinder"
parameters = [sld("sld", 4.0, "particle SLD"), sld("sld_solvent", 1.0, "solvent SLD"),
              length("radius", 20.0, "cylinder radius"),
              length("radius_cap", 25.0, "radius of the caps"),
              length("length", 400.0, "cylinder length")]
# radius_cap stays above radius over a 10 % radius distribution (sasmodels drops the
# points of a distribution where it does not; the solid would be a valid shape there)
checks = ({"radius": 20.0, "radius_cap": 30.0, "length": 200.0}, (0.002, 0.01, 0.03, 0.06))


def shape(radius, radius_cap, length):
    h = math.sqrt(max(radius_cap ** 2 - radius ** 2, 0.0))
    half = 0.5 * length
    # each cap reaches a little into the cylinder (within its radius), so that no face of
    # the union lies inside the particle (coincident faces leave half-filled voxels)
    overlap = min(0.25 * radius, half)
    rod = Cylinder(radius, 2 * (overlap + radius_cap))     # the cap's radius, its height
    top = (Ball(radius_cap).translated(0, 0, half - h) & HalfSpace((0, 0, -1), overlap - half)
           & rod.translated(0, 0, half))
    bottom = (Ball(radius_cap).translated(0, 0, h - half) & HalfSpace((0, 0, 1), overlap - half)
              & rod.translated(0, 0, -half))
    return Cylinder(radius, length) | top | bottom
