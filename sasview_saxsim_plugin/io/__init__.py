"""Readers and writers for curves (and later densities)."""

from .curves import write_ascii_curve, write_curve, write_nxcansas
from .loading import load_curve

__all__ = ["load_curve", "write_ascii_curve", "write_curve", "write_nxcansas"]
