"""Draw agent attributes from the distributions a scenario names."""

from __future__ import annotations

import numpy as np

from minders.scenario import Beta, Constant, Normal, Uniform


def sample(
    dist: Constant | Uniform | Beta | Normal, rng: np.random.Generator, n: int
) -> np.ndarray:
    """Draw ``n`` values of ``dist`` with ``rng``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> bool(sample(Uniform(low=2, high=3), rng, 4).min() >= 2)
    True
    """
    if isinstance(dist, Constant):
        return np.full(n, dist.value, dtype=np.float64)
    if isinstance(dist, Uniform):
        return rng.uniform(dist.low, dist.high, n)
    if isinstance(dist, Beta):
        return dist.low + (dist.high - dist.low) * rng.beta(dist.a, dist.b, n)
    if isinstance(dist, Normal):
        return np.clip(rng.normal(dist.mean, dist.sd, n), dist.low, dist.high)
    raise TypeError(f"unknown distribution {dist!r}")


def mean(dist: Constant | Uniform | Beta | Normal) -> float:
    """Mean of ``dist`` (before clipping, for a normal)."""
    if isinstance(dist, Constant):
        return dist.value
    if isinstance(dist, Uniform):
        return (dist.low + dist.high) / 2
    if isinstance(dist, Beta):
        return dist.low + (dist.high - dist.low) * dist.a / (dist.a + dist.b)
    return dist.mean
