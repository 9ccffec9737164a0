"""Voxel grid, shapes (primitives and the shape registry), anti-aliased rasterisation and
seeded particle ensembles."""

from .ensembles import Ensemble, dilute_cylinders, dilute_spheres, hard_spheres
from .grid import Density, VoxelGrid
from .raster import add_body, add_shape, check_resolution
from .registry import SHAPES, ShapeSpec, get_shape, make_body, register, shape_names
from .shapes import Body, Cylinder, Ellipsoid, Shape, Sphere

__all__ = ["SHAPES", "Body", "Cylinder", "Density", "Ellipsoid", "Ensemble", "Shape",
           "ShapeSpec", "Sphere", "VoxelGrid", "add_body", "add_shape", "check_resolution",
           "dilute_cylinders", "dilute_spheres", "get_shape", "hard_spheres", "make_body",
           "register", "shape_names"]
