"""Voxel grid, shapes, anti-aliased rasterisation and seeded particle ensembles."""

from .ensembles import Ensemble, dilute_cylinders, dilute_spheres, hard_spheres
from .grid import Density, VoxelGrid
from .raster import add_body, add_shape, check_resolution
from .shapes import Body, Cylinder, Ellipsoid, Shape, Sphere, core_shell_sphere, make_body

__all__ = ["Body", "Cylinder", "Density", "Ellipsoid", "Ensemble", "Shape", "Sphere", "VoxelGrid",
           "add_body", "add_shape", "check_resolution", "core_shell_sphere", "dilute_cylinders",
           "dilute_spheres", "hard_spheres", "make_body"]
