"""A general octahedron |x|/a + |y|/b + |z|/c ≤ 1 (vertices at *radius_a*,
*b2a_ratio*·*radius_a*, *c2a_ratio*·*radius_a*) with its six vertices cut by square facets
at (1 − *truncation*) of each half-axis (0: octahedron, 0.5: cuboctahedron; sasmodels'
*truncated_octahedron*)."""

import math

from sasview_saxsim_plugin.shapes import Box, HalfSpace, Intersection, length, number, sld

name = "truncated_octahedron"
title = "Truncated octahedron"
sasmodels_name = "truncated_octahedron"
parameters = [sld("sld", 126.0, "particle SLD"), sld("sld_solvent", 9.4, "solvent SLD"),
              length("radius_a", 400.0, "half-axis a (centre to vertex)"),
              number("b2a_ratio", 1.0, "half-axis b / a", (0.05, 20.0), 0.05),
              number("c2a_ratio", 1.0, "half-axis c / a", (0.05, 20.0), 0.05),
              number("truncation", 0.0, "truncation ratio", (0.0, 0.5), 0.05)]
checks = ({"radius_a": 100.0, "b2a_ratio": 1.0, "c2a_ratio": 1.0, "truncation": 0.2},
          (0.002, 0.02, 0.05, 0.08))


def shape(radius_a, b2a_ratio, c2a_ratio, truncation):
    a, b, c = radius_a, b2a_ratio * radius_a, c2a_ratio * radius_a
    keep = 1.0 - truncation
    faces = []
    for sx in (1, -1):
        for sy in (1, -1):
            for sz in (1, -1):
                normal = (sx / a, sy / b, sz / c)
                faces.append(HalfSpace(normal, 1.0 / math.hypot(*normal)))
    return Intersection(Box(2 * keep * a, 2 * keep * b, 2 * keep * c), *faces)
