"""1D scattering curves with their units and uncertainty columns."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class Curve1D:
    """I(q) in absolute units: ``q`` (1/Å), ``intensity`` (1/cm), ``sigma`` (1/cm, one standard
    uncertainty or None), ``dq`` (1/Å or None). ``columns`` holds extra per-point estimates
    (e.g. the thesis Table 3.1 set), ``meta`` how the curve was made."""

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

    def select(self, mask: np.ndarray) -> Curve1D:
        """The points where ``mask`` is true."""
        def pick(a):
            return None if a is None else np.asarray(a)[mask]
        return Curve1D(self.q[mask], self.intensity[mask], pick(self.sigma), pick(self.dq),
                       {k: np.asarray(v)[mask] for k, v in self.columns.items()}, dict(self.meta))
