"""Plugin models bound to a user's 3D density file (``saxsim make-model``).

The written model file records the density's path and SHA-256; at every call it checks the
file (size and mtime cheaply, the checksum when those change) and fails with a clear message
if the file is gone or different, instead of fitting something else. I(q) is the isotropic
lattice Debye sum of the density (docs/accuracy.md), computed once and cached.
"""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path

import numpy as np

from .errors import SaxsimInputError, require_positive
from .scattering.debye import DebyeProfile, lattice_debye
from .scattering.voxel import isotropic_correction

TEMPLATE = '''r"""
{title}

Isotropic I(q) of the 3D density in ``{path}`` (voxel size {voxel_size} Å at
*voxel_size* = {voxel_size}; SHA-256 {sha256}), by the lattice Debye sum of its
autocorrelation with the voxel box filter divided out. Density values are SLD contrasts in
1e-6/Å² times *sld_scale*. I(q) = scale/V·⟨|A(q)|²⟩·1e-4 + background with
V = d³·Σ|ρ|/max|ρ| (the particle volume for a uniform particle with partial-volume rim
voxels), so scale is the volume fraction of such particles. *voxel_size* rescales
the whole density (fit it to fit the particle size). Written by ``saxsim make-model``; the
model refuses to run if the density file is gone or changed.
"""

from numpy import inf

from sasview_saxsim_plugin.density_model import bound_density

_DENSITY = bound_density({path!r}, {sha256!r}, {voxel_size!r})

name = {name!r}
title = {title!r}
description = "I(q) of a user 3D density (see the file's docstring)"
category = "plugin"
parameters = [
    ["sld_scale", "", 1.0, [-inf, inf], "", "multiplier of the density values (1e-6/Ang^2)"],
    ["voxel_size", "Ang", {voxel_size!r}, [0, inf], "volume", "voxel size: scales the density"],
]


def form_volume(voxel_size):
    return _DENSITY.volume(voxel_size)


def Iq(q, sld_scale, voxel_size):
    return _DENSITY.iq(q, sld_scale, voxel_size)


Iq.vectorized = True
'''


def file_sha256(path: str | os.PathLike) -> str:
    """Hex SHA-256 of a file, read in 16 MiB chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(16 * 2**20), b""):
            h.update(chunk)
    return h.hexdigest()


def load_density_array(path: str | os.PathLike) -> np.ndarray:
    """A cubic or rectangular 3D array from a .npy file (memory-mapped), checked."""
    path = Path(path)
    if not path.is_file():
        raise SaxsimInputError(f"density file {str(path)!r} does not exist")
    try:
        arr = np.load(path, mmap_mode="r", allow_pickle=False)
    except (ValueError, OSError) as exc:
        raise SaxsimInputError(f"cannot read {str(path)!r} as a .npy array: {exc}") from None
    if arr.ndim != 3:
        raise SaxsimInputError(f"{str(path)!r} holds a {arr.ndim}D array; a 3D density is needed")
    if not np.issubdtype(arr.dtype, np.number) or np.iscomplexobj(arr):
        raise SaxsimInputError(f"{str(path)!r} must hold real numbers, not {arr.dtype}")
    if not np.all(np.isfinite(arr)):
        raise SaxsimInputError(f"{str(path)!r} contains NaN or infinite values")
    if not np.any(arr):
        raise SaxsimInputError(f"{str(path)!r} is zero everywhere: nothing scatters")
    return arr


class BoundDensity:
    """The numerical model of one density file, checked against its recorded checksum."""

    def __init__(self, path: str, sha256: str, voxel_size: float):
        self.path, self.sha256 = str(path), sha256
        self.voxel_size = float(voxel_size)
        self._stamp = None
        self._profile: DebyeProfile | None = None
        self._volume_voxels = None
        self._lock = threading.Lock()

    def _check(self) -> None:
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            raise ValueError(f"density file {self.path!r} of this plugin model is gone; "
                             f"restore it or run 'saxsim make-model' again") from None
        stamp = (st.st_size, st.st_mtime_ns)
        if stamp != self._stamp:
            if file_sha256(self.path) != self.sha256:
                raise ValueError(f"density file {self.path!r} changed since the model was made "
                                 f"(checksum differs); run 'saxsim make-model' again")
            self._stamp = stamp

    def _ensure(self) -> DebyeProfile:
        with self._lock:
            self._check()
            if self._profile is None:
                arr = np.asarray(load_density_array(self.path), dtype=np.float64)
                self._profile = lattice_debye(arr, self.voxel_size)
                # partial-volume-weighted support: exact for a uniform particle whose rim
                # voxels hold fractions (what geometry.raster writes)
                self._volume_voxels = float(np.abs(arr).sum() / np.abs(arr).max())
            return self._profile

    def volume(self, voxel_size) -> float:
        """Particle volume (Å³) at ``voxel_size`` (Å): d³·Σ|ρ|/max|ρ|."""
        self._ensure()
        d = float(np.asarray(voxel_size, float).ravel()[0])
        return self._volume_voxels * d ** 3 if d > 0 else 1.0

    def iq(self, q, sld_scale, voxel_size) -> np.ndarray:
        """|A(q)|²·1e-4 (sasmodels Iq units) at ``voxel_size`` (Å), density × ``sld_scale``."""
        prof = self._ensure()
        d = float(np.asarray(voxel_size, float).ravel()[0])
        c = float(np.asarray(sld_scale, float).ravel()[0])
        q = np.asarray(q, float)
        if not d > 0:
            return np.full(q.shape, np.nan)
        s = d / self.voxel_size
        corr = isotropic_correction("deconvolve", np.minimum(np.abs(q) * d, 2 * np.pi))
        return c * c * prof.amplitude2(q, s) * corr * 1e-4


_BOUND: dict = {}


def bound_density(path: str, sha256: str, voxel_size: float) -> BoundDensity:
    """Shared :class:`BoundDensity` per (path, checksum, voxel size)."""
    key = (path, sha256, float(voxel_size))
    if key not in _BOUND:
        _BOUND[key] = BoundDensity(path, sha256, voxel_size)
    return _BOUND[key]


def make_density_model(density_path: str | os.PathLike, voxel_size: float, name: str,
                       out_dir: str | os.PathLike | None = None,
                       overwrite: bool = False) -> Path:
    """Write a plugin model ``NAME.py`` bound to ``density_path`` (.npy, SLD contrast per voxel
    in 1e-6/Å²) with voxel size ``voxel_size`` (Å); default folder: SasView's plugin folder."""
    voxel_size = require_positive("voxel size", voxel_size, "Å")
    if not name.isidentifier():
        raise SaxsimInputError(f"model name {name!r} must be a Python identifier "
                               f"(letters, digits, underscores)")
    path = Path(density_path).resolve()
    arr = load_density_array(path)
    if min(arr.shape) < 2:
        raise SaxsimInputError(f"density of shape {arr.shape} is too small")
    if out_dir is None:
        from .install import sasview_plugin_dir
        out_dir = sasview_plugin_dir()
    out = Path(out_dir) / f"{name}.py"
    if out.exists() and not overwrite:
        raise SaxsimInputError(f"{out} exists; pass --overwrite to replace it")
    out.parent.mkdir(parents=True, exist_ok=True)
    text = TEMPLATE.format(path=str(path), sha256=file_sha256(path), voxel_size=voxel_size,
                           name=name, title=f"Numerical density from {path.name}")
    out.write_text(text)
    return out
