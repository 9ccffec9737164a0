"""Ensembles of particles in the periodic box (thesis 3.1.6-3.1.7), all seeded.

* :func:`dilute_spheres`, :func:`dilute_cylinders`: random centres until the nominal volume
  fraction is reached, Gaussian polydispersity (relative width, truncated at ±3σ like
  sasmodels' ``gaussian``), cylinder orientations θ ~ N(θ₀, σθ), φ ~ N(φ₀, σφ) or uniform.
  Overlaps are allowed (dilute); the union is clamped to the particle contrast as in the thesis.
* :func:`hard_spheres`: non-overlapping spheres up to volume fraction 0.49. Random sequential
  insertion with cell lists (φ ≤ 0.3) or an fcc start (denser), then Metropolis
  displacement sweeps so the structure relaxes to the equilibrium hard-sphere fluid that
  Percus-Yevick (sasmodels ``hardsphere``) describes. Periodic boundaries throughout.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from ..errors import SaxsimInputError, require_fraction, require_positive
from ..progress import ProgressArg, track
from .grid import Density, VoxelGrid
from .raster import add_shape
from .shapes import Cylinder, Shape, Sphere


@dataclass
class Ensemble:
    """Particles placed in a periodic box of ``grid``; ``stats`` records how they were built."""

    grid: VoxelGrid
    shapes: list[Shape]
    contrast: float = 1.0
    stats: dict = field(default_factory=dict)

    @property
    def volume_fraction(self) -> float:
        """Nominal volume fraction Σ V_particle / V_box (overlaps counted twice)."""
        return float(sum(s.volume for s in self.shapes) / self.grid.volume)

    def rasterise(self, dtype=np.float32, supersample: int = 3, clamp: bool = True,
                  progress: ProgressArg = False) -> Density:
        """Voxelise all particles (periodic wrap). ``clamp`` limits overlapping unions to the
        contrast (thesis 3.1.6); hard spheres never overlap so it changes nothing there."""
        density = self.grid.allocate(dtype)
        for s in track(self.shapes, progress, "rasterising", unit="particle"):
            add_shape(density, s, self.contrast, supersample=supersample, periodic=True)
        if clamp and self.contrast != 0:
            v = density.values
            if self.contrast > 0:
                np.minimum(v, self.contrast, out=v)
            else:
                np.maximum(v, self.contrast, out=v)
        return density


def truncated_gaussian(rng: np.random.Generator, mean: float, rel_width: float, size: int,
                       nsigmas: float = 3.0) -> np.ndarray:
    """Draw from N(mean, (rel_width·mean)²) truncated to ±nsigmas·σ and to > 0."""
    if rel_width <= 0:
        return np.full(size, float(mean))
    sigma = rel_width * mean
    out = np.empty(size)
    filled = 0
    while filled < size:
        x = rng.normal(mean, sigma, size - filled)
        x = x[(np.abs(x - mean) <= nsigmas * sigma) & (x > 0)]
        out[filled:filled + x.size] = x
        filled += x.size
    return out


def draw_sizes(rng: np.random.Generator, mean: float, rel_width: float, size: int,
               sampling: str = "stratified", nsigmas: float = 3.0) -> np.ndarray:
    """``size`` values of a Gaussian N(mean, (rel_width·mean)²) truncated at ±nsigmas·σ and > 0.

    ``"random"`` draws independently (the thesis); ``"stratified"`` takes one value from each
    of ``size`` equal-probability strata (shuffled), so a box of a few dozen particles carries
    the population's moments (⟨R⁶⟩ to ~0.1 % rather than ~7 % for 63 spheres at pd 0.1) and
    compares with sasmodels' population model instead of with its own finite draw.
    """
    if rel_width <= 0:
        return np.full(size, float(mean))
    if sampling == "random":
        return truncated_gaussian(rng, mean, rel_width, size, nsigmas)
    if sampling != "stratified":
        raise SaxsimInputError(f"size sampling must be 'stratified' or 'random', got {sampling!r}")
    from scipy.stats import truncnorm
    sigma = rel_width * mean
    lo = max(-nsigmas, -mean / sigma)
    u = (np.arange(size) + rng.random(size)) / size
    return rng.permutation(truncnorm.ppf(u, lo, nsigmas, loc=mean, scale=sigma))


def _stratified_count(rng, volume_of, target: float, first_guess: int) -> int:
    """Number of particles whose stratified sizes fill ``target`` volume (a few iterations)."""
    n = max(1, first_guess)
    for _ in range(6):
        mean_v = float(np.mean(volume_of(np.random.default_rng(rng.integers(2**32)), n)))
        new = max(1, int(round(target / mean_v)))
        if new == n:
            break
        n = new
    return n


def _check_volume_fraction(volume_fraction, upper):
    return require_fraction("volume fraction", volume_fraction, upper=upper, closed_low=False)


def _fill_count(mean_volume: float, box_volume: float, volume_fraction: float) -> int:
    return max(1, int(round(volume_fraction * box_volume / mean_volume)))


def dilute_spheres(grid: VoxelGrid, radius: float, volume_fraction: float, radius_pd: float = 0.0,
                   contrast: float = 1.0, seed: int = 0,
                   size_sampling: str = "stratified") -> Ensemble:
    """Randomly placed spheres (may overlap) filling ``volume_fraction`` of the box.

    ``radius`` in Å, ``radius_pd`` relative Gaussian width (sasmodels' ``radius_pd``).
    ``size_sampling``: "random" draws radii until Σ V ≥ φ·V_box (the thesis); "stratified"
    (default, see :func:`draw_sizes`) fixes the count from the mean volume first.
    """
    radius = require_positive("radius", radius, "Å")
    volume_fraction = _check_volume_fraction(volume_fraction, 0.5)
    require_fraction("radius_pd", radius_pd, upper=1.0)
    rng = np.random.default_rng(seed)
    target = volume_fraction * grid.volume
    if size_sampling == "random":
        radii, total = [], 0.0
        while total < target:
            radii.append(truncated_gaussian(rng, radius, radius_pd, 1)[0])
            total += 4 / 3 * np.pi * radii[-1] ** 3
    else:
        def volumes(r, k):
            return 4 / 3 * np.pi * draw_sizes(r, radius, radius_pd, k, size_sampling) ** 3
        n = _stratified_count(rng, volumes, target,
                              int(round(target / (4 / 3 * np.pi * radius ** 3))))
        radii = draw_sizes(rng, radius, radius_pd, n, size_sampling)
    if 2 * max(radii) + 2 * grid.spacing >= grid.box_length:
        raise SaxsimInputError(f"a sphere of radius {max(radii):.4g} Å does not fit the box")
    shapes: list[Shape] = [Sphere(r, center=rng.uniform(-0.5, 0.5, 3) * grid.box_length)
                           for r in radii]
    return Ensemble(grid, shapes, contrast, {"particles": len(shapes), "seed": seed,
                                             "size_sampling": size_sampling})


def dilute_cylinders(grid: VoxelGrid, radius: float, length: float, volume_fraction: float,
                     radius_pd: float = 0.0, length_pd: float = 0.0, theta: float = 0.0,
                     theta_spread: float = 0.0, phi: float | None = None,
                     phi_spread: float = 0.0, contrast: float = 1.0, seed: int = 0,
                     isotropic: bool = False, size_sampling: str = "stratified") -> Ensemble:
    """Randomly placed cylinders (may overlap): radius/length in Å with relative Gaussian pd;
    θ ~ N(``theta``, ``theta_spread``) degrees; φ uniform in [0, 360) if ``phi`` is None,
    else N(``phi``, ``phi_spread``). Thesis defaults: θ₀ = 0 (fibres along z), φ uniform.
    ``isotropic``: axes uniform on the sphere instead (a powder, for 1D comparisons).
    ``size_sampling`` as in :func:`dilute_spheres` (radius and length stratified separately)."""
    radius = require_positive("radius", radius, "Å")
    length = require_positive("length", length, "Å")
    volume_fraction = _check_volume_fraction(volume_fraction, 0.5)
    rng = np.random.default_rng(seed)
    target = volume_fraction * grid.volume
    if size_sampling == "random":
        sizes, total = [], 0.0
        while total < target:
            r = truncated_gaussian(rng, radius, radius_pd, 1)[0]
            ln = truncated_gaussian(rng, length, length_pd, 1)[0]
            sizes.append((r, ln))
            total += np.pi * r * r * ln
    else:
        def volumes(r, k):
            return (np.pi * draw_sizes(r, radius, radius_pd, k, size_sampling) ** 2
                    * draw_sizes(r, length, length_pd, k, size_sampling))
        n = _stratified_count(rng, volumes, target,
                              int(round(target / (np.pi * radius ** 2 * length))))
        sizes = list(zip(draw_sizes(rng, radius, radius_pd, n, size_sampling),
                         draw_sizes(rng, length, length_pd, n, size_sampling), strict=True))
    shapes: list[Shape] = []
    for r, ln in sizes:
        if isotropic:
            t, p = np.degrees(np.arccos(rng.uniform(-1, 1))), rng.uniform(0, 360)
        else:
            t = rng.normal(theta, theta_spread) if theta_spread > 0 else theta
            p = rng.uniform(0, 360) if phi is None else (
                rng.normal(phi, phi_spread) if phi_spread > 0 else phi)
        c = rng.uniform(-0.5, 0.5, 3) * grid.box_length
        cyl = Cylinder(r, ln, t, p, center=c)
        if np.any(2 * cyl.half_extent() + 2 * grid.spacing >= grid.box_length):
            raise SaxsimInputError(
                f"a cylinder of length {ln:.4g} Å does not fit the box of {grid.box_length:.4g} Å")
        shapes.append(cyl)
    return Ensemble(grid, shapes, contrast, {"particles": len(shapes), "seed": seed,
                                             "size_sampling": size_sampling})


class _CellList:
    """Periodic cell list for spheres: cells of edge ≥ the largest contact distance."""

    def __init__(self, box: float, max_contact: float, n_expected: int):
        self.box = box
        self.nc = max(1, int(box // max_contact))
        self.cell = box / self.nc
        cap = int(np.ceil(2.0 * n_expected / self.nc ** 3)) + 8
        self.members = np.full((self.nc ** 3, cap), -1, dtype=np.int64)
        self.fill = np.zeros(self.nc ** 3, dtype=np.int64)
        off = np.array(np.meshgrid([-1, 0, 1], [-1, 0, 1], [-1, 0, 1], indexing="ij"))
        self.offsets = off.reshape(3, -1).T
        self.where = {}

    def cell_of(self, p):
        c = np.floor((p + 0.5 * self.box) / self.cell).astype(np.int64) % self.nc
        return (c[0] * self.nc + c[1]) * self.nc + c[2], c

    def insert(self, i, p):
        flat, _ = self.cell_of(p)
        k = self.fill[flat]
        if k == self.members.shape[1]:
            self.members = np.concatenate([self.members, np.full_like(self.members, -1)], axis=1)
        self.members[flat, k] = i
        self.fill[flat] = k + 1
        self.where[i] = flat

    def remove(self, i):
        flat = self.where.pop(i)
        row = self.members[flat]
        k = int(np.nonzero(row == i)[0][0])
        last = self.fill[flat] - 1
        row[k], row[last] = row[last], -1
        self.fill[flat] = last

    def neighbours(self, p):
        _, c = self.cell_of(p)
        if self.nc < 3:
            m = self.members.ravel()
            return m[m >= 0]
        cc = (c[None, :] + self.offsets) % self.nc
        flat = (cc[:, 0] * self.nc + cc[:, 1]) * self.nc + cc[:, 2]
        m = self.members[flat].ravel()
        return m[m >= 0]


def _overlaps(p, r, pos, radii, cand, box):
    if cand.size == 0:
        return False
    diff = pos[cand] - p
    diff -= box * np.round(diff / box)
    contact = r + radii[cand]
    return bool(np.any(np.einsum("ij,ij->i", diff, diff) < contact * contact))


def hard_spheres(grid: VoxelGrid, radius: float, volume_fraction: float, radius_pd: float = 0.0,
                 contrast: float = 1.0, seed: int = 0, sweeps: int = 50,
                 max_insertion_tries: int = 2_000_000, progress: ProgressArg = False,
                 size_sampling: str = "stratified") -> Ensemble:
    """Non-overlapping spheres at ``volume_fraction`` (≤ 0.5) in the periodic box.

    Start: random sequential insertion with cell lists for φ ≤ 0.3 (tries/rejections are
    recorded, compare thesis Table 4.1) or random occupation of an fcc lattice above.
    Then ``sweeps`` Metropolis displacement sweeps (step adapted to ~40 % acceptance in the first
    half) relax the structure towards the equilibrium fluid. ``stats`` has the counts and time.
    """
    radius = require_positive("radius", radius, "Å")
    volume_fraction = _check_volume_fraction(volume_fraction, 1.0)
    require_fraction("radius_pd", radius_pd, upper=0.3)
    if volume_fraction > 0.494:
        raise SaxsimInputError(
            f"hard-sphere volume fraction {volume_fraction} is above the fluid-solid transition "
            f"(0.494): a fluid (Percus-Yevick) structure cannot be built; use ≤ 0.49")
    rng = np.random.default_rng(seed)
    t0 = time.perf_counter()
    box = grid.box_length
    mean_v = 4 / 3 * np.pi * radius ** 3 * (1 + 3 * radius_pd ** 2)
    n = _fill_count(mean_v, grid.volume, volume_fraction)
    radii = draw_sizes(rng, radius, radius_pd, n, size_sampling)
    radii *= (volume_fraction * grid.volume / (4 / 3 * np.pi * np.sum(radii ** 3))) ** (1 / 3)
    if 2 * radii.max() + 2 * grid.spacing >= box / 2:
        raise SaxsimInputError(
            f"spheres of radius {radii.max():.4g} Å are too large for a box of {box:.4g} Å")
    cells = _CellList(box, 2 * radii.max(), n)
    pos = np.zeros((n, 3))
    stats = {"particles": n, "seed": seed}
    if volume_fraction <= 0.3:
        tries = 0
        order = np.argsort(-radii)   # big ones first: fewer rejections
        radii = radii[order]
        for i in range(n):
            while True:
                tries += 1
                if tries > max_insertion_tries:
                    raise SaxsimInputError(
                        f"could not insert {n} hard spheres at volume fraction {volume_fraction} "
                        f"after {max_insertion_tries} tries (placed {i})")
                p = rng.uniform(-0.5, 0.5, 3) * box
                if not _overlaps(p, radii[i], pos[:i], radii, cells.neighbours(p), box):
                    break
            pos[i] = p
            cells.insert(i, p)
        stats.update(start="random insertion", insertion_tries=tries,
                     insertion_rejected=tries - n)
    else:
        # face-centred cubic start (4 sites per cell, contact distance a/√2)
        side = int(np.ceil((n / 4) ** (1 / 3)))
        a = box / side
        if a / np.sqrt(2) < 2 * radii.max():
            raise SaxsimInputError(
                f"hard-sphere volume fraction {volume_fraction} cannot be reached with this "
                f"box and polydispersity on an fcc start lattice; lower volume_fraction or "
                f"radius_pd, or use a larger box")
        basis = np.array([[0, 0, 0], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]])
        cellsxyz = np.stack(np.meshgrid(*[np.arange(side)] * 3, indexing="ij"), -1).reshape(-1, 3)
        sites = (cellsxyz[:, None, :] + basis[None]).reshape(-1, 3)
        chosen = sites[rng.choice(len(sites), n, replace=False)]
        pos = (chosen + 0.25) * a - 0.5 * box
        for i in range(n):
            cells.insert(i, pos[i])
        stats.update(start="fcc lattice", insertion_tries=n, insertion_rejected=0)

    step = 0.5 * radius
    accepted = moves = 0
    for sweep in track(range(sweeps), progress, f"hard-sphere MC ({n} spheres)",
                       unit="sweep"):
        acc_sweep = 0
        for i in rng.permutation(n):
            p = pos[i] + rng.uniform(-step, step, 3)
            p -= box * np.round(p / box)
            cand = cells.neighbours(p)
            cand = cand[cand != i]
            if not _overlaps(p, radii[i], pos, radii, cand, box):
                cells.remove(i)
                pos[i] = p
                cells.insert(i, p)
                acc_sweep += 1
        moves += n
        accepted += acc_sweep
        if sweep < sweeps // 2:
            rate = acc_sweep / n
            step *= float(np.clip(rate / 0.4, 0.5, 1.5))
            step = min(step, 0.5 * cells.cell)
    stats.update(mc_sweeps=sweeps, mc_moves=moves, mc_accepted=accepted,
                 mc_acceptance=accepted / moves if moves else None, mc_step=step,
                 seconds=time.perf_counter() - t0)
    shapes = [Sphere(r, center=p) for r, p in zip(radii, pos, strict=True)]
    return Ensemble(grid, shapes, contrast, stats)
