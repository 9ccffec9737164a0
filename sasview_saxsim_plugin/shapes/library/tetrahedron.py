"""A regular tetrahedron of circumradius *radius* (sasmodels' *tetrahedron*)."""

import math

from sasview_saxsim_plugin.shapes import Polyhedron, length, sld

name = "tetrahedron"
title = "Tetrahedron"
sasmodels_name = "tetrahedron"
parameters = [sld("sld", 126.0, "particle SLD"), sld("sld_solvent", 9.4, "solvent SLD"),
              length("radius", 100.0, "circumradius")]
checks = ({"radius": 100.0}, (0.002, 0.02, 0.05, 0.08))


def shape(radius):
    r = radius / math.sqrt(3.0)
    return Polyhedron([(r, r, r), (r, -r, -r), (-r, r, -r), (-r, -r, r)])
