"""Running the ``tests`` of the numerical shape models with a tolerance a voxel model meets.

sasmodels' own runner (``python -m sasmodels.model_test``) asks for 5 significant digits,
which the voxelised particle reaches only at low q (docs: Validation); ``check_model`` asks
for ``TEST_RTOL`` at every test point, Guinier region to beyond the first minimum."""

from __future__ import annotations

import numpy as np

from .files import plugin_path

#: relative tolerance of the ``tests`` values (the analytical model's) for the plugin models
TEST_RTOL = 0.01


def check_model(shape: str, rtol: float = TEST_RTOL) -> list[str]:
    """Run the ``tests`` of ``numerical_<shape>`` through sasmodels' kernel with a relative
    tolerance ``rtol``; returns the failures (empty: passed)."""
    from sasmodels.core import build_model, load_model_info
    from sasmodels.direct_model import call_kernel

    info = load_model_info(str(plugin_path(shape)))
    model = build_model(info)
    failures = []
    for pars, q, expected in info.tests:
        kernel = model.make_kernel([np.asarray(q, float)])
        try:
            actual = call_kernel(kernel, pars)
        finally:
            kernel.release()
        rel = np.abs(np.asarray(actual) / np.asarray(expected) - 1)
        for qi, e, a, r in zip(q, expected, actual, rel, strict=True):
            if not r <= rtol:
                failures.append(f"{info.name} at q = {qi} 1/Å with {pars}: expected {e:.6g}, "
                                f"got {a:.6g} ({100 * r:.3g} % > {100 * rtol:g} %)")
    return failures
