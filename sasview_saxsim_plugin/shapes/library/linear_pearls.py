"""*num_pearls* spheres of *radius* on a straight line, *edge_sep* apart surface to
surface (sasmodels' *linear_pearls*; the number of pearls is rounded to an integer)."""

from sasview_saxsim_plugin.shapes import Ball, Union, length, number, sld

name = "linear_pearls"
title = "Linear pearls"
sasmodels_name = "linear_pearls"
parameters = [sld("sld", 1.0, "pearl SLD"), sld("sld_solvent", 6.3, "solvent SLD"),
              length("radius", 80.0, "pearl radius"),
              length("edge_sep", 350.0, "surface-to-surface distance of neighbours"),
              number("num_pearls", 3.0, "number of pearls", (1.0, 20.0), 1.0)]
checks = ({"radius": 40.0, "edge_sep": 60.0, "num_pearls": 3.0}, (0.002, 0.01, 0.03, 0.06))


def shape(radius, edge_sep, num_pearls):
    count = max(1, int(num_pearls + 0.5))
    step = 2 * radius + edge_sep
    return Union(*(Ball(radius).translated(0, 0, (k - 0.5 * (count - 1)) * step)
                   for k in range(count)))
