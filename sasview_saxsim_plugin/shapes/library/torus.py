"""A ring torus: a tube of radius *radius_tube* whose centre line is a circle of radius
*radius_ring* (a spindle torus where *radius_tube* > *radius_ring*)."""

from sasview_saxsim_plugin.shapes import Torus, length, sld

name = "torus"
title = "Torus"
parameters = [sld("sld", 1.0, "torus SLD"), sld("sld_solvent", 6.0, "solvent SLD"),
              length("radius_ring", 100.0, "radius of the tube's centre circle"),
              length("radius_tube", 25.0, "tube radius")]


def shape(radius_ring, radius_tube):
    return Torus(radius_ring, radius_tube)
