"""Write 1D curves in formats SasView loads: 3/4-column ASCII with units, and NXcanSAS HDF5."""

from __future__ import annotations

import json
import os

import numpy as np

from ..errors import SaxsimInputError
from ..scattering.curve import Curve1D


def check_target(path: str | os.PathLike, overwrite: bool | None) -> str:
    """Check an output file before writing it (and, in the CLI, before any computation): its
    folder must exist and be writable, and an existing file is refused unless ``overwrite``
    (``None``: a file the caller may replace, such as a plot)."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise SaxsimInputError(f"{path!r}: the folder {folder} does not exist")
    if not os.access(folder, os.W_OK):
        raise SaxsimInputError(f"{path!r}: the folder {folder} is not writable")
    if os.path.isdir(path):
        raise SaxsimInputError(f"{path!r} is a folder; give a file name")
    if overwrite is False and os.path.exists(path):
        raise SaxsimInputError(f"{path!r} exists; pass --overwrite (overwrite=True in Python) "
                               "to replace it, or choose another file")
    return path


def write_ascii_curve(curve: Curve1D, path: str, overwrite: bool = False) -> str:
    """Columns Q (1/A), I (1/cm), dI (1/cm)[, dQ (1/A)], '#' header with units and metadata.

    SasView's ASCII reader takes the first numeric columns as Q, I, dI, dQ."""
    path = check_target(path, overwrite)
    cols = [curve.q, curve.intensity]
    names = ["Q(1/A)", "I(1/cm)"]
    if curve.sigma is not None:
        cols.append(curve.sigma)
        names.append("dI(1/cm)")
        if curve.dq is not None:
            cols.append(curve.dq)
            names.append("dQ(1/A)")
    meta = {k: v for k, v in curve.meta.items() if k != "binning"}
    header = ("sasview_saxsim_plugin numerical I(q)\n"
              + "meta: " + json.dumps(meta, default=str) + "\n" + "  ".join(names))
    np.savetxt(path, np.column_stack(cols), header=header, fmt="%.9e")
    return path


def write_nxcansas(curve: Curve1D, path: str, title: str = "saxsim",
                   overwrite: bool = False) -> str:
    """Write an NXcanSAS (HDF5) file with Q (1/angstrom), I (1/cm), Idev and Qdev."""
    import h5py

    path = check_target(path, overwrite)
    with h5py.File(path, "w") as f:
        entry = f.create_group("sasentry01")
        entry.attrs.update(NX_class="NXentry", canSAS_class="SASentry", version="1.1")
        entry.create_dataset("definition", data="NXcanSAS")
        entry.create_dataset("title", data=title)
        entry.create_dataset("run", data="0")
        data = entry.create_group("sasdata01")
        data.attrs.update(NX_class="NXdata", canSAS_class="SASdata", signal="I", I_axes="Q",
                          Q_indices=0)
        q = data.create_dataset("Q", data=curve.q)
        q.attrs["units"] = "1/angstrom"
        i = data.create_dataset("I", data=curve.intensity)
        i.attrs["units"] = "1/cm"
        if curve.sigma is not None:
            i.attrs["uncertainties"] = "Idev"
            di = data.create_dataset("Idev", data=curve.sigma)
            di.attrs["units"] = "1/cm"
        if curve.dq is not None:
            q.attrs["resolutions"] = "Qdev"
            dq = data.create_dataset("Qdev", data=curve.dq)
            dq.attrs["units"] = "1/angstrom"
        meta = {k: v for k, v in curve.meta.items() if k != "binning"}
        proc = entry.create_group("sasprocess01")
        proc.attrs.update(NX_class="NXprocess", canSAS_class="SASprocess")
        proc.create_dataset("name", data="sasview_saxsim_plugin")
        proc.create_dataset("description", data=json.dumps(meta, default=str))
    return path


def write_curve(curve: Curve1D, path: str, overwrite: bool = False) -> str:
    """Write by extension: .h5/.nxs/.hdf5 -> NXcanSAS, anything else -> ASCII."""
    ext = os.path.splitext(os.fspath(path))[1].lower()
    if ext in (".h5", ".nxs", ".hdf5"):
        return write_nxcansas(curve, path, overwrite=overwrite)
    return write_ascii_curve(curve, path, overwrite=overwrite)
