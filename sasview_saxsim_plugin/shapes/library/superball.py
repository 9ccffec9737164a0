"""A superball x^(2p) + y^(2p) + z^(2p) ≤ (a/2)^(2p): edge length *length_a*, exponent
*exponent_p* (1: a sphere of radius a/2; large: a cube with rounded edges) (sasmodels'
*superball*; exponents below 0.5 are not supported here)."""

from sasview_saxsim_plugin.shapes import Superellipsoid, length, number, sld

name = "superball"
title = "Superball"
sasmodels_name = "superball"
parameters = [sld("sld", 4.0, "particle SLD"), sld("sld_solvent", 1.0, "solvent SLD"),
              length("length_a", 50.0, "edge length of the enclosing cube"),
              number("exponent_p", 2.5, "roundness exponent p", (0.5, 20.0), 0.1)]
checks = ({"length_a": 80.0, "exponent_p": 2.5}, (0.002, 0.02, 0.05, 0.1))

# flat faces: 24 voxels across under-resolve them at high q (p95 5 % against sasmodels'
# superball, 1 % with 48)
voxels = 48


def shape(length_a, exponent_p):
    half = 0.5 * length_a
    return Superellipsoid(half, half, half, exponent_p)
