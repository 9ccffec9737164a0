"""Plugin models bound to a user's 3D density file (``saxsim make-model``).

The written model file records the density's path and SHA-256; at every call it checks the
file (size and mtime cheaply, the checksum when those change) and fails with a clear message
if the file is gone or different, instead of fitting something else. I(q) is the isotropic
lattice Debye sum of the density (docs: Validation), computed once and cached.
"""

from __future__ import annotations

import hashlib
import os
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import SaxsimInputError, require_positive, warn_if_q_in_nm
from ..scattering.debye import DebyeProfile, lattice_debye
from ..scattering.voxel import isotropic_correction

TEMPLATE = '''r"""
{title}

Isotropic I(q) of the 3D density in ``{path}``{dataset_note} (voxel size {voxel_size} Å at
*voxel_size* = {voxel_size}; SHA-256 {sha256}), {route}, {correction_note}. Density values are
SLD contrasts in 1e-6/Å² times *sld_scale*. I(q) = scale/V·⟨|A(q)|²⟩·1e-4 + background with
V = {volume_text}, so scale is the volume fraction of such particles. *voxel_size* rescales
the whole density (fit it to fit the particle size).{origin} Written by ``saxsim
make-model``; the model refuses to run if the density file is gone or changed.
"""

from numpy import inf

from sasview_saxsim_plugin.models.density_model import bound_density

_DENSITY = bound_density({path!r}, {sha256!r}, {voxel_size!r}, {profile!r}, {dataset!r},
                         {correction!r}, profile_sha256={profile_sha256!r},
                         volume_voxels={volume_voxels!r})

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

#: a uniform particle (a voxelised mesh): volume fractions per voxel, SLD and solvent SLD
#: as parameters, and an isotropic scale of the whole object
PARTICLE_TEMPLATE = '''r"""
{title}

Isotropic I(q) of a uniform particle of SLD *sld* in a solvent of SLD *sld_solvent*
(1e-6/Å²): {origin} Its volume fractions per voxel ({voxel_size} Å at *size_scale* = 1;
SHA-256 {sha256}) are in ``{path}``; I(q) is their lattice Debye sum, {correction_note}.
I(q) = scale/V·(sld − sld_solvent)²·⟨|A(q)|²⟩·1e-4 + background, V the particle volume
(Å³), so scale is the volume fraction. *size_scale* multiplies every length of the particle
(fit it to fit the size; polydispersity on it is a size distribution).
Written by ``saxsim make-model``; the model refuses to run if the fractions file is gone or
changed.
"""

from numpy import inf

from sasview_saxsim_plugin.models.density_model import bound_density

_DENSITY = bound_density({path!r}, {sha256!r}, {voxel_size!r}, None, None, {correction!r})
_VOXEL = {voxel_size!r}

name = {name!r}
title = {title!r}
description = "I(q) of a uniform particle from a user file (see the file's docstring)"
category = "plugin"
parameters = [
    ["sld", "1e-6/Ang^2", {sld!r}, [-inf, inf], "sld", "particle SLD"],
    ["sld_solvent", "1e-6/Ang^2", {sld_solvent!r}, [-inf, inf], "sld", "solvent SLD"],
    ["size_scale", "", 1.0, [0, inf], "volume", "isotropic scale of the particle"],
]


def form_volume(size_scale):
    return _DENSITY.volume(size_scale * _VOXEL)


def Iq(q, sld, sld_solvent, size_scale):
    return _DENSITY.iq(q, sld - sld_solvent, size_scale * _VOXEL)


Iq.vectorized = True
'''


#: the normalisation volume of a density model, for its help
UNIFORM_VOLUME = ("d³·Σ|ρ|/max|ρ| (the particle volume for a uniform particle with\n"
                  "partial-volume rim voxels)")

#: what each voxel correction means, for the model's help
CORRECTION_NOTES = {
    "deconvolve": "with the voxel box filter divided out (the values are partial-volume "
                  "samples of a smooth density)",
    "sinc": "times the orientation-averaged box filter of one voxel (each value fills "
                "its cubic voxel)",
}


def file_sha256(path: str | os.PathLike) -> str:
    """Hex SHA-256 of a file, read in 16 MiB chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(16 * 2**20), b""):
            h.update(chunk)
    return h.hexdigest()


def check_unchanged(path: str, sha256: str, stamp, what: str):
    """Raise ``ValueError`` if the file a plugin model is bound to is gone or differs from its
    recorded SHA-256; cheap when its (size, mtime) ``stamp`` is the one seen last. Returns the
    current stamp. ``what`` names the file in the messages ("density file")."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise ValueError(f"{what} {path!r} of this plugin model is gone; restore it or run "
                         "'saxsim make-model' again") from None
    current = (st.st_size, st.st_mtime_ns)
    if current != stamp and file_sha256(path) != sha256:
        raise ValueError(f"{what} {path!r} changed since the model was made (checksum "
                         "differs); run 'saxsim make-model' again")
    return current


def trial_load(plugin: Path, q, source: str) -> None:
    """Load a plugin model file with sasmodels and evaluate it at ``q`` (1/Å) with its
    default parameters; :class:`SaxsimInputError` (naming ``source``) unless it loads and
    gives finite I(q) > 0. Called on a temporary copy before anything reaches SasView."""
    from sasmodels.core import build_model, load_model_info
    from sasmodels.direct_model import call_kernel
    q = np.asarray(q, float)
    try:
        kernel = build_model(load_model_info(str(plugin))).make_kernel([q])
        try:
            values = np.asarray(call_kernel(kernel, {}))
        finally:
            kernel.release()
    except SaxsimInputError:
        raise
    except Exception as exc:  # noqa: BLE001 (sasmodels' errors are of many kinds)
        raise SaxsimInputError(f"the model of {source} does not load in sasmodels "
                               f"({type(exc).__name__}: {exc}); nothing written") from None
    if not np.all(np.isfinite(values) & (values > 0)):
        raise SaxsimInputError(
            f"the model of {source} gives I(q) = {values.tolist()} 1/cm at q = {q.tolist()} "
            "1/Å with its default parameters (not finite and > 0); nothing written")


#: bytes per padded-support voxel of the lattice Debye route (scattering.debye)
DEBYE_BYTES_PER_VOXEL = 24


def debye_bytes(shape) -> int:
    """Memory of the lattice Debye route for a density of ``shape`` (support padded 2×)."""
    return int(DEBYE_BYTES_PER_VOXEL * np.prod([2 * int(e) for e in shape]))


@dataclass
class ShellProfile:
    """⟨|A(q)|²⟩ of a density on the shells of its zero-padded DFT (the streamed split FFT,
    for densities too large for the Debye route): ``q`` (1/Å) and ``a2`` ((1e-6/Å²)²·Å⁶) at
    voxel size ``spacing``, with q = 0 holding (d³Σρ)². Interpolated linearly in (q², ln a2):
    the shells lie evenly in q² and ln|A|² is linear in q² at low q (Guinier)."""

    q: np.ndarray
    a2: np.ndarray
    spacing: float

    def amplitude2(self, q: np.ndarray, scale: float = 1.0) -> np.ndarray:
        """|A(q)|² for the density with all lengths × ``scale`` (s⁶·|A_1(q·s)|²); NaN beyond
        the computed q range."""
        x = np.atleast_1d(np.asarray(q, float)) * scale
        tiny = np.finfo(float).tiny
        log_a2 = np.interp(x * x, self.q ** 2, np.log(np.maximum(self.a2, tiny)),
                           right=np.nan)
        return np.exp(log_a2) * scale ** 6

    def save(self, path: str | os.PathLike) -> None:
        np.savez(path, q=self.q, a2=self.a2, spacing=self.spacing)

    @classmethod
    def load(cls, path: str | os.PathLike) -> ShellProfile:
        with np.load(path) as z:
            return cls(z["q"], z["a2"], float(z["spacing"]))


class TabulatedProfile:
    """A :class:`~sasview_saxsim_plugin.scattering.debye.DebyeProfile` tabulated in x = q·scale
    (1/Å) and interpolated by a cubic spline, so that a fit's warm call costs an
    interpolation instead of a Debye sum over every lag (tens of ms for 100 voxels across).

    |A(x)|² is band-limited by the largest lag r_max: samples π/(16·r_max) apart (32 per
    shortest period) give a spline error of about 4e-6 of that period's amplitude. The table
    grows on demand to the largest x asked for."""

    def __init__(self, profile: DebyeProfile, oversample: int = 16):
        self.profile = profile
        r_max = profile.spacing * float(np.sqrt(max(float(np.max(profile.m2)), 1.0)))
        self.step = np.pi / (oversample * r_max)
        self.x = np.zeros(0)
        self.values = np.zeros(0)
        self.spline = None
        self._lock = threading.Lock()       # SasView evaluates models from worker threads

    def amplitude2(self, q: np.ndarray, scale: float = 1.0) -> np.ndarray:
        """|A(q)|² for the density with all lengths × ``scale`` (s⁶·|A_1(q·s)|²)."""
        from scipy.interpolate import CubicSpline
        x = np.abs(np.atleast_1d(np.asarray(q, float))) * scale
        need = float(x.max()) if x.size else 0.0
        with self._lock:
            if self.spline is None or need > self.x[-3]:
                count = int(np.ceil(1.25 * need / self.step)) + 8
                new = np.arange(len(self.x), count) * self.step
                self.x = np.concatenate([self.x, new])
                self.values = np.concatenate([self.values,
                                              self.profile.amplitude2(new, 1.0)])
                self.spline = CubicSpline(self.x, self.values)
            spline = self.spline
        return spline(x) * scale ** 6


def streamed_profile(path: str | os.PathLike, voxel_size: float, memory_budget=None,
                     workdir=None, progress=False, dataset: str | None = None
                     ) -> ShellProfile:
    """The shell profile of a density file through the streamed split FFT
    (``fft.streaming``), with the density zero-padded to twice its largest axis so its
    autocorrelation does not wrap. The voxel correction is left to ``BoundDensity.iq`` (as
    for the Debye route)."""
    from ..density.readers import open_density
    from ..fft import ShellSums
    from ..fft.streaming import streamed_fft

    arr = read_density(path, voxel_size, dataset).array
    n = int(2 * max(arr.shape))
    source = open_density(path, voxel_size, dataset=dataset, n=n)
    res = streamed_fft(source, {"s": ShellSums()}, voxel_correction="none",
                       memory_budget=memory_budget, workdir=workdir, progress=progress)
    sums = res.results["s"]
    count = np.asarray(sums["count"], float)
    keep = count > 0
    k2 = sums["k2"][keep]
    mean = sums["sum_i"][keep] / count[keep]
    k_max = n // 2
    inside = k2 <= k_max ** 2            # complete shells only (the corners of the cube are not)
    q = 2 * np.pi * np.sqrt(k2[inside]) / (n * voxel_size)
    # k² = 0 holds |Σρ|² (no voxel correction here): a2[0] is the forward amplitude (d³Σρ)²
    return ShellProfile(q, mean[inside] * voxel_size ** 6, float(voxel_size))


def read_density(path: str | os.PathLike, voxel_size: float | None = None,
                 dataset: str | None = None):
    """The density of any file ``simulate --density`` reads (.npy, HDF5, MRC, cube, CHGCAR;
    ``density.readers``) as a slab-wise :class:`~sasview_saxsim_plugin.density.sources.ArraySource`
    whose ``array`` holds the values and ``spacing`` the voxel size (Å: ``voxel_size`` or
    the file's own), checked slab by slab (the array may exceed RAM): 3D, real, finite and
    not zero everywhere."""
    from ..density.readers import open_density
    path = Path(path)
    if not path.is_file():
        raise SaxsimInputError(f"density file {str(path)!r} does not exist")
    source = open_density(path, voxel_size, dataset=dataset)
    arr = source.array
    if arr.dtype != bool and (not np.issubdtype(arr.dtype, np.number)
                              or np.issubdtype(arr.dtype, np.complexfloating)):
        raise SaxsimInputError(f"{str(path)!r} must hold real numbers, not {arr.dtype}")
    finite, nonzero = True, False
    for x0 in range(0, arr.shape[0], 64):
        part = np.asarray(arr[x0:x0 + 64])
        finite &= bool(np.all(np.isfinite(part)))
        nonzero |= bool(np.any(part))
    if not finite:
        raise SaxsimInputError(f"{str(path)!r} contains NaN or infinite values")
    if not nonzero:
        raise SaxsimInputError(f"{str(path)!r} is zero everywhere: nothing scatters")
    return source


class BoundDensity:
    """The numerical model of one density file, checked against its recorded checksum."""

    def __init__(self, path: str, sha256: str, voxel_size: float, profile: str | None = None,
                 dataset: str | None = None, correction: str = "deconvolve",
                 profile_sha256: str | None = None, volume_voxels: float | None = None):
        self.path, self.sha256, self.dataset = str(path), sha256, dataset
        self.profile_sha256 = profile_sha256
        self._profile_stamp = None
        #: "deconvolve": the values are samples of a smooth density averaged over each voxel
        #: (partial volumes), whose box filter is divided out; "sinc": each value fills
        #: its cubic voxel (SasView's lattice 'pixels'), whose box filter multiplies
        self.correction = correction
        self.voxel_size = float(voxel_size)
        self.profile_path = profile
        self._stamp = None
        self._profile: TabulatedProfile | ShellProfile | None = None
        #: the particle volume in voxels when the values do not give it (a crystallite:
        #: its outline's volume); None: d³·Σ|ρ|/max|ρ| (a uniform particle)
        self._volume_voxels = volume_voxels
        self._fixed_volume = volume_voxels is not None
        self._lock = threading.Lock()

    def _check(self) -> None:
        self._stamp = check_unchanged(self.path, self.sha256, self._stamp, "density file")
        if self.profile_path is not None and self.profile_sha256 is not None:
            self._profile_stamp = check_unchanged(self.profile_path, self.profile_sha256,
                                                  self._profile_stamp, "profile file")

    def _ensure(self) -> TabulatedProfile | ShellProfile:
        with self._lock:
            self._check()
            if self._profile is None:
                arr = read_density(self.path, self.voxel_size, self.dataset).array
                if self.profile_path is not None:       # computed by make-model (streamed)
                    self._profile = ShellProfile.load(self.profile_path)
                else:
                    self._profile = TabulatedProfile(
                        lattice_debye(np.asarray(arr, np.float64), self.voxel_size))
                if self._fixed_volume:
                    return self._profile
                # partial-volume-weighted support: exact for a uniform particle whose rim
                # voxels hold fractions (what geometry.raster writes)
                total = peak = 0.0
                for x0 in range(0, arr.shape[0], 64):
                    part = np.abs(np.asarray(arr[x0:x0 + 64], dtype=np.float64))
                    total, peak = total + part.sum(), max(peak, part.max())
                self._volume_voxels = float(total / peak)
            return self._profile

    def volume(self, voxel_size) -> float:
        """Particle volume (Å³) at ``voxel_size`` (Å): d³·Σ|ρ|/max|ρ|, or the fixed volume
        in voxels × d³."""
        self._ensure()
        d = float(np.asarray(voxel_size, float).ravel()[0])
        return self._volume_voxels * d ** 3 if d > 0 else 1.0

    def iq(self, q, sld_scale, voxel_size) -> np.ndarray:
        """|A(q)|²·1e-4 (sasmodels Iq units) at ``voxel_size`` (Å), density × ``sld_scale``."""
        prof = self._ensure()
        d = float(np.asarray(voxel_size, float).ravel()[0])
        c = float(np.asarray(sld_scale, float).ravel()[0])
        q = np.asarray(q, float)
        warn_if_q_in_nm(q, f"the model of {Path(self.path).name}")
        if not d > 0:
            return np.full(q.shape, np.nan)
        s = d / self.voxel_size
        corr = isotropic_correction(self.correction, np.minimum(np.abs(q) * d, 2 * np.pi))
        return c * c * prof.amplitude2(q, s) * corr * 1e-4


_BOUND: dict = {}


def bound_density(path: str, sha256: str, voxel_size: float, profile: str | None = None,
                  dataset: str | None = None, correction: str = "deconvolve",
                  profile_sha256: str | None = None,
                  volume_voxels: float | None = None) -> BoundDensity:
    """Shared :class:`BoundDensity` per (path, checksum, voxel size, profile file, dataset,
    voxel correction, profile checksum, fixed volume)."""
    key = (path, sha256, float(voxel_size), profile, dataset, correction, profile_sha256,
           volume_voxels)
    if key not in _BOUND:
        _BOUND[key] = BoundDensity(path, sha256, voxel_size, profile, dataset, correction,
                                   profile_sha256, volume_voxels)
    return _BOUND[key]


def check_model_name(name: str, out_dir, overwrite: bool) -> Path:
    """The plugin file ``out_dir/NAME.py`` (default folder: SasView's plugin folder) after
    checking ``name``: a Python identifier, not one of sasmodels' own models, and no file of
    that name unless ``overwrite``."""
    if not name.isidentifier():
        raise SaxsimInputError(f"model name {name!r} must be a Python identifier "
                               f"(letters, digits, underscores)")
    from sasmodels.core import list_models
    if name in list_models():
        raise SaxsimInputError(f"model name {name!r} is one of sasmodels' own models; a "
                               "plugin of that name would hide it: choose another --name")
    if out_dir is None:
        from .install import sasview_plugin_dir
        out_dir = sasview_plugin_dir()
    out = Path(out_dir) / f"{name}.py"
    if out.exists() and not overwrite:
        raise SaxsimInputError(f"{out} exists; pass --overwrite to replace it")
    return out


def make_density_model(density_path: str | os.PathLike, voxel_size: float | None, name: str,
                       out_dir: str | os.PathLike | None = None,
                       overwrite: bool = False, memory_budget=None, workdir=None,
                       progress=False, dataset: str | None = None,
                       title: str | None = None) -> Path:
    """Write a plugin model ``NAME.py`` bound to a density file (any format of
    :func:`read_density`; values: SLD contrast per voxel in 1e-6/Å²) with voxel size
    ``voxel_size`` (Å; None: the file's own); default folder: SasView's plugin folder.

    When the lattice Debye route would not fit ``memory_budget`` (default: 80 % of the
    available RAM), the profile is computed now through the streamed split FFT and saved as
    ``NAME_profile.npz`` next to the model, which then reads it instead. Nothing is written
    unless the model loads in sasmodels and evaluates."""
    if voxel_size is not None:
        voxel_size = require_positive("voxel size", voxel_size, "Å")
    out = check_model_name(name, out_dir, overwrite)
    path = Path(density_path).resolve()
    source = read_density(path, voxel_size, dataset)
    voxel_size = float(source.spacing)
    if min(source.shape) < 2:
        raise SaxsimInputError(f"density of shape {source.shape} is too small")
    import tempfile
    out = out.resolve()
    from ..memory import available_memory_bytes, parse_bytes
    limit = (parse_bytes(memory_budget) if memory_budget is not None
             else 0.8 * (available_memory_bytes() or 8 * 2**30))
    with tempfile.TemporaryDirectory() as tmp:
        profile = profile_sha256 = None
        companions = {}
        check_q = (0.005, 0.05, 0.2)
        if debye_bytes(source.shape) > limit:
            # computed now, written into place only when the model loads and evaluates
            profile = out.with_name(f"{name}_profile.npz")
            if profile.exists() and not overwrite:
                raise SaxsimInputError(f"{profile} exists; pass --overwrite to replace it")
            trial = Path(tmp) / profile.name
            shells = streamed_profile(path, voxel_size, memory_budget, workdir, progress,
                                      dataset)
            shells.save(trial)
            profile_sha256, companions = file_sha256(trial), {profile: trial}
            # the shells end at π/d: check the model where it is defined
            check_q = tuple(q for q in check_q if q < 0.9 * shells.q.max()) or (
                0.5 * float(shells.q.max()),)
            profile = str(profile)
        route = ("by the lattice Debye sum of its autocorrelation" if profile is None else
                 f"by the shells of its streamed split FFT, stored in ``{profile}``")
        text = TEMPLATE.format(
            path=str(path), sha256=file_sha256(path), voxel_size=voxel_size, name=name,
            title=title or f"Numerical density from {path.name}", profile=profile,
            route=route, dataset=dataset,
            dataset_note=f" (dataset {dataset})" if dataset else "", origin="",
            correction="deconvolve", correction_note=CORRECTION_NOTES["deconvolve"],
            profile_sha256=profile_sha256, volume_voxels=None, volume_text=UNIFORM_VOLUME)
        write_checked(out, text, f"density {path.name}", check_q, companions)
    return out


def write_checked(out: Path, text: str, source: str,
                  check_q: tuple[float, ...] = (0.005, 0.05, 0.2),
                  companions: dict | None = None) -> None:
    """Write plugin text to ``out`` only after a temporary copy loads in sasmodels and
    evaluates at ``check_q`` (1/Å) with its default parameters (:func:`trial_load`).

    ``companions`` maps the final path of each data file the plugin reads (named in
    ``text`` by its absolute path) to a finished temporary copy: the trial reads the
    temporary ones, and they are copied into place only when the trial passed."""
    import shutil
    import tempfile
    companions = {Path(k): Path(v) for k, v in (companions or {}).items()}
    trial_text = text
    for final, temporary in companions.items():
        trial_text = trial_text.replace(repr(str(final)), repr(str(temporary)))
    with tempfile.TemporaryDirectory() as tmp:
        trial = Path(tmp) / out.name
        trial.write_text(trial_text, encoding="utf-8")
        trial_load(trial, check_q, source)
        out.parent.mkdir(parents=True, exist_ok=True)
        for final, temporary in companions.items():
            shutil.copyfile(temporary, final)
        out.write_text(text, encoding="utf-8")


def make_array_model(values: np.ndarray, voxel_size: float, name: str, origin: str,
                     out_dir: str | os.PathLike | None = None, overwrite: bool = False,
                     particle: dict | None = None, title: str | None = None,
                     correction: str = "deconvolve",
                     volume: float | None = None) -> Path:
    """Write a plugin model ``NAME.py`` for a density computed here (a crystallite, a
    voxelised mesh, a point file), saved as ``NAME_density.npy`` beside it and bound to it
    like a density file. ``origin``: one sentence saying where the values come from (it goes
    into the model's help). ``particle``: for a uniform particle whose values are volume
    fractions, ``{"sld": …, "sld_solvent": …}`` defaults (1e-6/Å²); the model's parameters are
    then sld, sld_solvent and size_scale instead of sld_scale and voxel_size.
    ``correction``: "deconvolve" for partial-volume samples, "sinc" for values that
    fill their voxels (:class:`BoundDensity`). ``volume`` (Å³): the particle volume when the
    values do not give it (a crystallite's outline). Nothing is written unless the model
    loads in sasmodels and evaluates."""
    import tempfile
    voxel_size = require_positive("voxel size", voxel_size, "Å")
    out = check_model_name(name, out_dir, overwrite).resolve()
    data = out.with_name(f"{name}_density.npy")
    if data.exists() and not overwrite:
        raise SaxsimInputError(f"{data} exists; pass --overwrite to replace it")
    values = np.asarray(values, np.float32)
    if values.ndim != 3 or not np.all(np.isfinite(values)) or not np.any(values):
        raise SaxsimInputError(f"{origin}: the density is empty or not finite")
    with tempfile.TemporaryDirectory() as tmp:
        trial = Path(tmp) / data.name
        np.save(trial, values)
        common = dict(path=str(data), sha256=file_sha256(trial), voxel_size=float(voxel_size),
                      name=name, title=title or f"Numerical model: {origin}", origin=origin,
                      correction=correction, correction_note=CORRECTION_NOTES[correction])
        if particle is None:
            common["origin"] = f" Values: {origin}"
            fixed = None if volume is None else float(volume) / float(voxel_size) ** 3
            text = TEMPLATE.format(
                **common, profile=None, dataset=None, dataset_note="",
                route="by the lattice Debye sum of its autocorrelation", profile_sha256=None,
                volume_voxels=fixed,
                volume_text=UNIFORM_VOLUME if volume is None else
                f"{float(volume):.6g} Å³ at *voxel_size* = {voxel_size:g} (× (voxel_size/"
                f"{voxel_size:g})³ otherwise)")
        else:
            text = PARTICLE_TEMPLATE.format(**common, sld=float(particle["sld"]),
                                            sld_solvent=float(particle["sld_solvent"]))
        write_checked(out, text, origin, companions={data: trial})
    return out
