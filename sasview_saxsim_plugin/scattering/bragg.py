"""Bragg reflections of a crystal lattice: where the peaks of a crystallite's curve lie."""

from __future__ import annotations

import numpy as np


def bragg_positions(cell: np.ndarray, cell_values: np.ndarray | None = None, *,
                    q_max: float,
                    min_relative: float = 1e-9) -> list[tuple]:
    """(q in 1/Å, (h, k, l)) of the lattice reflections up to ``q_max`` for cell rows a, b, c
    (Å), one per distinct |q|. With the cell's density ``cell_values`` only reflections whose
    structure factor |F(hkl)|² (the cell grid's DFT) exceeds ``min_relative`` of the largest
    are kept: the extinctions of the structure (e.g. fcc) follow from the density itself."""
    recip = 2 * np.pi * np.linalg.inv(cell).T
    hmax = int(np.ceil(q_max / np.min(np.linalg.norm(recip, axis=1)))) + 1
    f2 = None
    if cell_values is not None:
        f2 = np.abs(np.fft.fftn(np.asarray(cell_values, dtype=np.float64))) ** 2
        f2[0, 0, 0] = 0.0
        f2 /= f2.max() if f2.max() > 0 else 1.0
    found: dict = {}
    rng = range(-hmax, hmax + 1)
    for h in rng:
        for k in rng:
            for l_ in rng:
                if (h, k, l_) == (0, 0, 0):
                    continue
                if f2 is not None:
                    shape = f2.shape
                    if max(abs(h) * 2, abs(k) * 2, abs(l_) * 2) >= min(shape) or \
                            f2[h % shape[0], k % shape[1], l_ % shape[2]] < min_relative:
                        continue
                q = float(np.linalg.norm(np.array([h, k, l_]) @ recip))
                if q <= q_max:
                    hkl = tuple(sorted((abs(h), abs(k), abs(l_)), reverse=True))
                    found.setdefault(round(q, 6), hkl)
    return sorted(found.items())
