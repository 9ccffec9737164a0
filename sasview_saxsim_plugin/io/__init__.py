"""Curves on disk and on screen: writing curve files SasView loads (``curves``), reading any
1D file SasView reads (``loading``), and every plot the package writes (``plotting``)."""

from .curves import write_ascii_curve, write_curve, write_nxcansas
from .loading import load_curve

__all__ = ["load_curve", "write_ascii_curve", "write_curve", "write_nxcansas"]
