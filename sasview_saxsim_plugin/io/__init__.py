"""Readers and writers for curves (and later densities)."""

from .curves import read_ascii_curve, write_ascii_curve, write_curve, write_nxcansas

__all__ = ["read_ascii_curve", "write_ascii_curve", "write_curve", "write_nxcansas"]
