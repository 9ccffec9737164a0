"""Read a 1D curve from any file SasView can load (sasdata's loaders): the package's one
reader of curves, measured or written by ``saxsim simulate``."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import numpy as np

from ..errors import SaxsimInputError
from ..scattering.curve import Curve1D


def _unit_factor(unit: str) -> tuple[float, str]:
    u = (unit or "").replace(" ", "").lower()
    if "nm" in u:
        return 0.1, "1/nm"
    return 1.0, "1/A"


def load_curve(path: str | Path, index: int = 0) -> Curve1D:
    """The ``index``-th 1D dataset of ``path``; q converted to 1/Å when the file says 1/nm.

    Raises ``SaxsimInputError`` for missing/unreadable files, 2D data and SESANS."""
    path = Path(path)
    if not path.exists():
        raise SaxsimInputError(f"{path}: no such file")
    from sasdata.dataloader.loader import Loader

    try:
        # SasView's ASCII reader prints every line it cannot decode (megabytes for a binary
        # file); what matters reaches the user as one line below
        with contextlib.redirect_stdout(io.StringIO()):
            datasets = Loader().load(str(path))
    except Exception as exc:  # sasdata raises many types for unknown formats
        raise SaxsimInputError(f"{path}: SasView's loaders cannot read it ({exc})") from exc
    if not datasets:
        raise SaxsimInputError(f"{path}: no dataset found")
    if index >= len(datasets):
        raise SaxsimInputError(f"{path} holds {len(datasets)} dataset(s); index {index} asked")
    return curve_from_dataset(datasets[index], str(path))


def curve_from_dataset(data, source: str = "dataset") -> Curve1D:
    """A sasdata/SasView ``Data1D`` as a :class:`Curve1D` (q converted to 1/Å when its unit
    is 1/nm). Raises ``SaxsimInputError`` for 2D data, SESANS and empty curves; ``source``
    names the data in the message."""
    if data is None:
        raise SaxsimInputError(f"{source}: no data (the dataset was closed or is empty)")
    if hasattr(data, "qx_data") or type(data).__name__ == "Data2D":
        raise SaxsimInputError(f"{source}: 2D data; the shape estimate needs a 1D curve I(q) "
                               "(reduce it to 1D first)")
    if getattr(data, "isSesans", False):
        raise SaxsimInputError(f"{source}: SESANS data (real-space correlation), not I(q)")
    if getattr(data, "x", None) is None or getattr(data, "y", None) is None:
        raise SaxsimInputError(f"{source}: the dataset holds no q/I columns")
    factor, unit = _unit_factor(getattr(data, "_xunit", ""))
    q = np.atleast_1d(np.asarray(data.x, dtype=float)) * factor
    intensity = np.atleast_1d(np.asarray(data.y, dtype=float))
    if not np.any(np.isfinite(q) & np.isfinite(intensity)):
        # sasdata's ASCII reader hands back no curve (or NaN) for a text file without number
        # columns or with fewer than its min_data_pts = 5 rows; "0 usable points" would not say
        # what is wrong
        raise SaxsimInputError(f"{source}: no numeric q, I values (a text file without number "
                               "columns or with fewer than 5 data rows, which SasView's ASCII "
                               "reader skips, or a curve of NaN)")
    dy = None if data.dy is None or not np.any(data.dy) else np.asarray(data.dy, dtype=float)
    dx = None if data.dx is None or not np.any(data.dx) else np.asarray(data.dx, float) * factor
    dxl = getattr(data, "dxl", None)
    columns = {}
    if dxl is not None and np.any(np.asarray(dxl, dtype=float) > 0):
        # slit-smeared data (SasView's dxl: slit length): the refinement smears with it
        columns["slit_length"] = np.asarray(dxl, dtype=float) * factor
        dx = None
    notes = []
    if dy is not None and np.any(dy[np.isfinite(dy)] <= 0):
        # one σ ≤ 0 makes every weighted quantity (fits, χ², error bars) meaningless
        notes.append(f"dI has {int(np.sum(dy[np.isfinite(dy)] <= 0))} zero or negative "
                     "values: uncertainties not used")
        dy = None
    title = getattr(data, "title", "") or getattr(data, "filename", "") or source
    return Curve1D(q, intensity, dy, dx, columns=columns,
                   meta={"title": str(title), "q_unit": unit, "notes": notes})
