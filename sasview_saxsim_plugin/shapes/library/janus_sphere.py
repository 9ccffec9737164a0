"""A Janus sphere: a sphere of *radius* whose two hemispheres have the SLDs *sld_a* and
*sld_b*."""

from sasview_saxsim_plugin.shapes import Ball, HalfSpace, length, sld

name = "janus_sphere"
title = "Janus sphere"
parameters = [sld("sld_a", 1.0, "SLD of one hemisphere"),
              sld("sld_b", 4.0, "SLD of the other hemisphere"),
              sld("sld_solvent", 6.0, "solvent SLD"),
              length("radius", 50.0, "sphere radius")]


def shape(radius):
    ball, lower = Ball(radius), HalfSpace((0, 0, 1), 0.0)
    return [(ball & lower, "sld_a"), (ball - lower, "sld_b")]
