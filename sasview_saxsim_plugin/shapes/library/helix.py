"""A helical tube: a tube of radius *radius_tube* wound on a cylinder of radius *radius*
with *pitch* (rise per turn) for *turns* turns, with rounded ends."""

from sasview_saxsim_plugin.shapes import Helix, length, number, sld

name = "helix"
title = "Helix"
parameters = [sld("sld", 1.0, "helix SLD"), sld("sld_solvent", 6.0, "solvent SLD"),
              length("radius", 50.0, "helix radius (axis to tube centre)"),
              length("pitch", 120.0, "rise per turn"),
              length("radius_tube", 12.0, "tube radius"),
              number("turns", 3.0, "number of turns", (0.25, 20.0), 0.25)]


def shape(radius, pitch, radius_tube, turns):
    return Helix(radius, pitch, radius_tube, turns)
