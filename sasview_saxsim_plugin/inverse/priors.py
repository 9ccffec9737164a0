"""Prior distributions of shape parameters (sampling only; units are the parameter's)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class LogUniform:
    low: float
    high: float

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return np.exp(rng.uniform(np.log(self.low), np.log(self.high), n))


@dataclass(frozen=True)
class Uniform:
    low: float
    high: float

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.uniform(self.low, self.high, n)


@dataclass(frozen=True)
class TruncatedNormal:
    """Normal(mean, sd) redrawn outside [low, high] (thesis Table 3.3 priors, kept physical)."""

    mean: float
    sd: float
    low: float = 0.0
    high: float = np.inf

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        out = rng.normal(self.mean, self.sd, n)
        bad = (out < self.low) | (out > self.high)
        while bad.any():
            out[bad] = rng.normal(self.mean, self.sd, int(bad.sum()))
            bad = (out < self.low) | (out > self.high)
        return out


@dataclass(frozen=True)
class Choice:
    values: tuple[float, ...]

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.choice(np.asarray(self.values, dtype=float), n)
