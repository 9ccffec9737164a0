"""The package's one curve type: I(q) with its uncertainties, units and provenance, whether
computed here or read from a measurement file."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class Curve1D:
    """I(q): ``q`` (1/Å), ``intensity`` (1/cm when computed here; a measurement's own units
    when read), ``sigma`` (one standard uncertainty of I, or None), ``dq`` (1-σ q resolution
    in 1/Å, or None). ``columns`` holds extra per-point estimates (e.g. the thesis Table 3.1
    set), ``meta`` how the curve was made or read (``title``, ``q_unit`` as the file said,
    ``notes`` on what was set aside while reading)."""

    q: np.ndarray
    intensity: np.ndarray
    sigma: np.ndarray | None = None
    dq: np.ndarray | None = None
    columns: dict = field(default_factory=dict)
    meta: dict = field(default_factory=dict)

    def __post_init__(self):
        self.q = np.asarray(self.q, float)
        self.intensity = np.asarray(self.intensity, float)

    def __len__(self):
        return self.q.size

    @property
    def d_intensity(self) -> np.ndarray | None:
        """The uncertainty of I (same as ``sigma``; SasView's name)."""
        return self.sigma

    @property
    def title(self) -> str:
        """The curve's name (file title, or how it was made)."""
        return str(self.meta.get("title", ""))

    @property
    def q_unit(self) -> str:
        """The q unit the source declared ("1/A" or "1/nm"); q itself is always in 1/Å."""
        return str(self.meta.get("q_unit", "1/A"))

    @property
    def notes(self) -> list:
        """What was set aside while reading (e.g. unusable uncertainties)."""
        return self.meta.setdefault("notes", [])

    def select(self, mask: np.ndarray) -> Curve1D:
        """The points where ``mask`` is true."""
        def pick(a):
            return None if a is None else np.asarray(a)[mask]
        return Curve1D(self.q[mask], self.intensity[mask], pick(self.sigma), pick(self.dq),
                       {k: np.asarray(v)[mask] for k, v in self.columns.items()}, dict(self.meta))
