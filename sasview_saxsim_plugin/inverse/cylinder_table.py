"""Orientation-averaged polydisperse cylinder I(q), fast enough to make training sets.

sasmodels' ``cylinder`` kernel with 35 x 35 polydispersity points costs ~2.8 s per 320-point
curve on one core here (its orientation quadrature grows with qL), too slow for 10^4 training
curves. The same integral factorises: for independent Gaussian radius and length distributions
and one orientation u = cos(alpha),

    <V^2 F^2> = [sum_R w_R (pi R^2)^2 (2 J1(q R s)/(q R s))^2] * [sum_L w_L L^2 sinc^2(q L u / 2)]

with s = sqrt(1 - u^2): the first factor depends only on t = q s, the second only on t = q u.
Both are tabulated once per sample on a fine t grid, and the orientation integral over u is done
with Gauss-Legendre nodes. The polydispersity points and weights are sasmodels' own
(``sasmodels.weights``), and the normalisation is sasmodels' (1e-4 Δρ² <V² P> / <V>), so the
result matches ``sasmodels`` ``cylinder`` (tested to < 0.5 % relative, tests/test_inverse_data.py).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from sasmodels.weights import get_weights
from scipy.special import j1, roots_legendre

from .polydispersity import MIN_PD_POINTS, polydispersity_points


@lru_cache(maxsize=64)
def _orientation_nodes(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gauss-Legendre nodes u = cos(alpha) on [0, 1], weights, and s = sin(alpha)."""
    nodes, weights = roots_legendre(n)
    u = 0.5 * (nodes + 1.0)
    return u, 0.5 * weights, np.sqrt(1.0 - u**2)


def _node_ladder(nodes_needed: np.ndarray) -> np.ndarray:
    """Gauss-Legendre node counts: the needed count rounded up to 100·√2^k, within [100, 2263]."""
    steps = np.ceil(2 * np.log2(np.maximum(nodes_needed, 100.0) / 100.0))
    return np.minimum((100 * np.sqrt(2) ** steps).astype(int), 2263)


def _pd(value: float, pd: float, n: int) -> tuple[np.ndarray, np.ndarray]:
    """sasmodels' Gaussian polydispersity points (Å) and normalised weights."""
    return get_weights("gaussian", n, pd, 3.0, value, (0.0, np.inf), True)


def _two_j1x_x(x: np.ndarray) -> np.ndarray:
    out = np.ones_like(x)
    nz = x > 1e-8
    out[nz] = 2.0 * j1(x[nz]) / x[nz]
    return out


def _sinc(x: np.ndarray) -> np.ndarray:
    return np.sinc(x / np.pi)


#: most Bessel evaluations of the radial table (≈ 40 ms here); see ``cylinder_iq``
RADIAL_WORK = 3_000_000


def _table_points(t_max: float, size: float) -> int:
    return int(min(max(4000, 12 * t_max * size / (2 * np.pi)), 200_000))


def gaussian_length_average(t: np.ndarray, length: float, sigma: float) -> np.ndarray:
    """⟨L² sinc²(t L / 2)⟩ over L ~ N(length, sigma²) (Å², t in 1/Å), in closed form.

    L² sinc²(tL/2) = 2 (1 − cos tL) / t², and ⟨cos tL⟩ = cos(t L₀) exp(−t²σ²/2) for a
    Gaussian, so no quadrature is needed (one over L aliases once tσ is large: sasmodels' 35
    points give the cylinder's I(q) 41 % off for R = 300 Å, L = 400 Å, both pd 0.25 at high q).
    Written as 4 sin²(tL₀/2) + 2 cos(tL₀)(1 − e^(−t²σ²/2)) over t² to avoid the cancellation
    at small t; the limit at t = 0 is ⟨L²⟩ = L₀² + σ². The Gaussian is not truncated (sasmodels
    cuts it at ±3σ and at L = 0: 0.3 % of its weight)."""
    t = np.asarray(t, dtype=float)
    out = np.full(t.shape, length**2 + sigma**2)
    nz = t > 0
    a, b = t[nz] * length, 0.5 * (t[nz] * sigma) ** 2
    out[nz] = (4.0 * np.sin(0.5 * a) ** 2 - 2.0 * np.cos(a) * np.expm1(-b)) / t[nz] ** 2
    return out


def cylinder_iq(q: np.ndarray, radius: float, length: float, radius_pd: float = 0.0,
                length_pd: float = 0.0, sld_contrast: float = 1.0, pd_n: int | None = None
                ) -> np.ndarray:
    """Randomly oriented, polydisperse cylinders: I(q) in 1/cm for scale 1, background 0.

    q in 1/Å (increasing, > 0); radius and length in Å; pd relative Gaussian widths;
    sld_contrast in 1e-6/Å². With ``pd_n``: sasmodels' ``cylinder`` with that many points for
    both distributions. Without (the catalogue's curves): as many radius points as the largest
    q needs (``polydispersity_points``) and the length distribution averaged in closed
    form (``gaussian_length_average``), the limit sasmodels' quadrature tends to.
    """

    q = np.asarray(q, dtype=float)
    q_max = float(q.max())
    t_max = q_max * 1.0000001
    # each table resolves its fastest oscillation (period 2π / size) with >= 12 points
    size = max(2.0 * radius * (1.0 + 3.0 * radius_pd), length * (1.0 + 3.0 * length_pd))
    n_t = _table_points(t_max, size)
    t = np.linspace(0.0, t_max, n_t)
    n_t_radial = _table_points(t_max, 2.0 * radius * (1.0 + 3.0 * radius_pd))
    radius_n = pd_n or polydispersity_points(radius, radius_pd, q_max)
    if pd_n is None:
        # bounded work far outside the priors (a fit wandering to R ~ 1e4 Å): at most
        # RADIAL_WORK Bessel evaluations; within the priors the bound is never reached
        radius_n = max(MIN_PD_POINTS, min(radius_n, RADIAL_WORK // n_t_radial))
    rs, wr = _pd(radius, radius_pd, radius_n)
    t_radial = np.linspace(0.0, t_max, n_t_radial)
    radial = (_two_j1x_x(np.outer(t_radial, rs)) ** 2) @ (wr * (np.pi * rs**2) ** 2)
    if pd_n is None:
        axial = gaussian_length_average(t, length, length_pd * length)
        mean_length = length
    else:  # sasmodels' discrete weights (the comparison with its kernel)
        ls, wl = _pd(length, length_pd, pd_n)
        axial = (_sinc(0.5 * np.outer(t, ls)) ** 2) @ (wl * ls**2)
        mean_length = float(np.sum(wl * ls))
    # >= 10 nodes per oscillation of the integrand over u (sinc: q L / 2π, J1: q 2R / 2π),
    # counted for each q: low q needs far fewer nodes than t_max, so q points are grouped by
    # their node count on a coarse ladder (100, 141, 200, ... 2263; few rule sets are cached)
    n_u = _node_ladder(10.0 * q * size / (2 * np.pi))
    average = np.empty(q.shape)
    for n in np.unique(n_u):
        rows = n_u == n
        u, uw, s = _orientation_nodes(int(n))
        integrand = (np.interp(np.outer(q[rows], s), t_radial, radial)
                     * np.interp(np.outer(q[rows], u), t, axial))
        average[rows] = integrand @ uw
    mean_volume = float(np.sum(wr * np.pi * rs**2) * mean_length)
    return 1e-4 * sld_contrast**2 * average / mean_volume


def core_shell_cylinder_iq(q: np.ndarray, radius: float, thickness: float, length: float,
                           sld_core: float, sld_shell: float = 1.0, sld_solvent: float = 0.0,
                           radius_pd: float = 0.0, pd_n: int | None = None) -> np.ndarray:
    """Randomly oriented core-shell cylinders with a polydisperse core radius: sasmodels'
    ``core_shell_cylinder`` (shell of ``thickness`` around the side and on both ends), I(q) in
    1/cm at scale 1, background 0; q in 1/Å (increasing), lengths in Å, SLDs in 1e-6/Å².

    The amplitude is a sum over the two parts (core with contrast sld_core − sld_shell, outer
    cylinder with sld_shell − sld_solvent),
    A = Σᵢ Δρᵢ (πRᵢ²)(2hᵢ) sinc(q hᵢ u) 2J1(q Rᵢ s)/(q Rᵢ s), so ⟨A²⟩ over the radius
    distribution is Σᵢⱼ Tᵢⱼ(q s) Xᵢⱼ(q u): each radial product Tᵢⱼ is
    tabulated once on a fine t grid (like ``cylinder_iq``), the axial products are closed form,
    and the orientation integral is Gauss-Legendre over u with the same node ladder.
    Polydispersity points: ``pd_n`` or ``polydispersity_points`` for the outer radius."""
    q = np.asarray(q, dtype=float)
    q_max = float(q.max())
    t_max = q_max * 1.0000001
    outer = 2.0 * (radius * (1.0 + 3.0 * radius_pd) + thickness)
    n_t = _table_points(t_max, outer)
    t = np.linspace(0.0, t_max, n_t)
    radius_n = pd_n or polydispersity_points(radius, radius_pd, q_max)
    if pd_n is None:
        radius_n = max(MIN_PD_POINTS, min(radius_n, RADIAL_WORK // (2 * n_t)))
    rs, wr = _pd(radius, radius_pd, radius_n)
    radii = (rs, rs + thickness)
    halves = (0.5 * length, 0.5 * length + thickness)
    contrasts = (sld_core - sld_shell, sld_shell - sld_solvent)
    bessel = [_two_j1x_x(np.outer(t, r)) * (np.pi * r**2) for r in radii]  # (t, R)
    pairs = [(0, 0), (0, 1), (1, 1)]
    radial = [(bessel[i] * bessel[j]) @ wr * (1.0 if i == j else 2.0) for i, j in pairs]
    size = max(outer, length + 2.0 * thickness)
    n_u = _node_ladder(10.0 * q * size / (2 * np.pi))
    average = np.zeros(q.shape)
    for n in np.unique(n_u):
        rows = n_u == n
        u, uw, s = _orientation_nodes(int(n))
        qs, qu = np.outer(q[rows], s), np.outer(q[rows], u)
        for (i, j), table in zip(pairs, radial, strict=True):
            axial = (contrasts[i] * contrasts[j] * (2 * halves[i]) * (2 * halves[j])
                     * _sinc(qu * halves[i]) * _sinc(qu * halves[j]))
            average[rows] += (np.interp(qs, t, table) * axial) @ uw
    volume = float(np.sum(wr * np.pi * (rs + thickness) ** 2) * (length + 2.0 * thickness))
    return 1e-4 * average / volume


@lru_cache(maxsize=64)
def _phi_nodes(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Gauss-Legendre nodes φ on [0, π/2] and weights normalised to 1."""
    nodes, weights = roots_legendre(n)
    return 0.25 * np.pi * (nodes + 1.0), 0.5 * weights


def parallelepiped_iq(q: np.ndarray, length_a: float, length_b: float, length_c: float,
                      sld_contrast: float = 1.0) -> np.ndarray:
    """Randomly oriented rectangular parallelepipeds (sasmodels' ``parallelepiped``,
    monodisperse): I(q) in 1/cm at scale 1, background 0; q in 1/Å (increasing), sides in Å.

    With the c axis at polar cosine u (s = √(1 − u²)) and azimuth φ, the amplitude is
    V sinc(q a s cosφ / 2) sinc(q b s sinφ / 2) sinc(q c u / 2): the azimuthal average of the
    first two factors squared depends only on t = q s, so it is tabulated once on a fine t grid
    (Gauss-Legendre over φ, as many nodes as each t needs) and the remaining integral over u
    is the cylinder's (``cylinder_iq``)."""
    q = np.asarray(q, dtype=float)
    t_max = float(q.max()) * 1.0000001
    a, b, c = float(length_a), float(length_b), float(length_c)
    n_t = _table_points(t_max, max(a, b))
    t = np.linspace(0.0, t_max, n_t)
    cross = np.empty(n_t)
    n_phi = _node_ladder(10.0 * t * max(a, b) / (2 * np.pi))
    for n in np.unique(n_phi):
        rows = n_phi == n
        phi, w = _phi_nodes(int(n))
        cross[rows] = ((_sinc(0.5 * a * np.outer(t[rows], np.cos(phi))) ** 2
                        * _sinc(0.5 * b * np.outer(t[rows], np.sin(phi))) ** 2) @ w)
    n_u = _node_ladder(10.0 * q * max(c, np.hypot(a, b)) / (2 * np.pi))
    average = np.empty(q.shape)
    for n in np.unique(n_u):
        rows = n_u == n
        u, uw, s = _orientation_nodes(int(n))
        average[rows] = (np.interp(np.outer(q[rows], s), t, cross)
                         * _sinc(0.5 * c * np.outer(q[rows], u)) ** 2) @ uw
    volume = a * b * c
    return 1e-4 * sld_contrast**2 * volume * average
