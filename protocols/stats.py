"""Confidence intervals for decoding accuracy."""

from __future__ import annotations

import math

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
