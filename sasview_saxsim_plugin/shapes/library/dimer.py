"""Two overlapping spheres of radii *radius_1* and *radius_2* whose centres are
*separation* apart (separation < radius_1 + radius_2: overlapping; the overlap counts
once)."""

from sasview_saxsim_plugin.shapes import Ball, length, sld

name = "dimer"
title = "Dimer of two unequal spheres"
parameters = [sld("sld", 1.0, "particle SLD"), sld("sld_solvent", 6.0, "solvent SLD"),
              length("radius_1", 50.0, "radius of the first sphere"),
              length("radius_2", 30.0, "radius of the second sphere"),
              length("separation", 60.0, "distance between the centres")]


def shape(radius_1, radius_2, separation):
    return Ball(radius_1) | Ball(radius_2).translated(0.0, 0.0, separation)
