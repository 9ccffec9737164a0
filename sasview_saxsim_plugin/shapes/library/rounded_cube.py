"""A cube of edge *length_a* whose edges and corners are rounded with radius
*radius_rounding* (at most half the edge: a sphere)."""

from sasview_saxsim_plugin.shapes import RoundedBox, length, sld

name = "rounded_cube"
title = "Rounded cube"
parameters = [sld("sld", 4.0, "particle SLD"), sld("sld_solvent", 1.0, "solvent SLD"),
              length("length_a", 100.0, "edge length"),
              length("radius_rounding", 10.0, "radius of the rounded edges and corners")]

# flat faces: 24 voxels across under-resolve them at high q (p95 5 % against sasmodels'
# superball, 1 % with 48)
voxels = 48


def shape(length_a, radius_rounding):
    return RoundedBox(length_a, length_a, length_a, min(radius_rounding, 0.5 * length_a))
