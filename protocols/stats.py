"""The suite's statistics: confidence intervals for decoding accuracy, slopes of fitted lines."""

from __future__ import annotations

import math

import numpy as np

#: Two-sided normal quantile for 99% confidence.
Z_99 = 2.5758293035489004


def wilson_interval(successes: int, total: int, z: float = Z_99) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion (99% by default)."""
    if total <= 0:
        return 0.0, 1.0
    p = successes / total
    denominator = 1 + z * z / total
    centre = (p + z * z / (2 * total)) / denominator
    half = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def line_fit(xs, ys) -> tuple[float, float] | None:
    """Least-squares line ``y = slope x + intercept``: ``(slope, intercept)``, ``None`` with < 2 distinct x."""
    x, y = np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)
    if x.size < 2 or np.unique(x).size < 2:
        return None
    slope, intercept = np.polyfit(x, y, 1)
    return float(slope), float(intercept)


def fit_slope(xs, ys) -> float | None:
    """Least-squares slope of ``log y`` against ``log x`` (the exponent of a power law).

    Pairs where either value is missing or not positive are skipped; ``None`` when fewer than two
    distinct x remain.
    """
    pairs = [(math.log(x), math.log(y)) for x, y in zip(xs, ys) if x and y and x > 0 and y > 0]
    fit = line_fit([p[0] for p in pairs], [p[1] for p in pairs])
    return None if fit is None else fit[0]


def bootstrap_slope(x, y, groups=None, *, seed: int, resamples: int = 1000,
                    level: float = 0.95) -> tuple[float, float, float]:
    """Least-squares slope of ``y`` on ``x`` with a percentile bootstrap interval: ``(slope, low, high)``.

    Resamples whole groups with replacement (``groups[i]`` labels point ``i``, e.g. its trial or
    instance, so points that share randomness move together); ``groups=None`` resamples points.
    Vectorized: each resample is a vector of group multiplicities from
    ``numpy.random.default_rng([seed, resamples])`` and its slope a weighted least-squares slope.
    Resamples whose x are all equal have no slope and are left out. Pass logs for a power law.
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if x.ndim != 1 or x.shape != y.shape:
        raise ValueError(f"x and y must be 1-d of one length, got shapes {x.shape} and {y.shape}")
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be in (0, 1), got {level}")
    if int(resamples) < 1:
        raise ValueError(f"resamples must be >= 1, got {resamples}")
    fit = line_fit(x, y)
    if fit is None:
        raise ValueError("a slope needs at least two distinct x")
    if groups is None:
        codes = np.arange(x.size)
    else:
        if len(groups) != x.size:
            raise ValueError(f"groups has {len(groups)} labels for {x.size} points")
        codes = np.unique(np.asarray(groups), return_inverse=True)[1].reshape(-1)
    count = int(codes.max()) + 1
    if count < 2:
        raise ValueError("resampling needs at least two groups")
    rng = np.random.default_rng([seed, int(resamples)])
    weights = rng.multinomial(count, np.full(count, 1.0 / count), size=int(resamples))[:, codes].astype(float)
    total = weights.sum(axis=1)
    dx = x - (weights @ x / total)[:, None]
    dy = y - (weights @ y / total)[:, None]
    sxx = (weights * dx * dx).sum(axis=1)
    sxy = (weights * dx * dy).sum(axis=1)
    usable = sxx > 1e-12 * total * np.var(x)
    if not usable.any():
        return fit[0], math.nan, math.nan
    tail = (1.0 - level) / 2
    low, high = np.quantile(sxy[usable] / sxx[usable], [tail, 1.0 - tail])
    return fit[0], float(low), float(high)
