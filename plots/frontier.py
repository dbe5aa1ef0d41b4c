"""The Fano frontier of the INDEX game (HO Theorem 5) and the impossible region above it, on an axis.

Every figure that places INDEX-game points at a memory ratio ``memory / bits encoded`` shades the
region no algorithm can reach. The curve is computed here from :func:`protocols.fano.frontier_curve`
over the axis' final x-range, never taken from a summary's sampled curve, so the shading covers
every ratio the axis shows: a point at ratio 5e-4 is judged against the frontier at 5e-4.
"""

from __future__ import annotations

import numpy as np

from plots.style import INFEASIBLE_COLOR, REFERENCE_COLOR

#: Ratios at which the frontier is evaluated across the axis (it is smooth below ratio 1 and flat above).
FRONTIER_SAMPLES = 400


def frontier_over(low: float, high: float, *, log: bool = True, samples: int = FRONTIER_SAMPLES):
    """``(ratios, max_accuracy)`` of HO Theorem 5 on ``[low, high]``, including the bend at ratio 1."""
    from protocols.fano import frontier_curve

    low = max(float(low), np.finfo(float).tiny) if log else max(float(low), 0.0)
    high = max(float(high), low)
    ratios = np.geomspace(low, high, samples) if log else np.linspace(low, high, samples)
    if low < 1.0 < high:
        ratios = np.union1d(ratios, [1.0])  # a*(rho) reaches 1 exactly at rho = 1
    return ratios, frontier_curve(ratios)


def shade_impossible(ax, top: float, *, fill_label: str | None = "impossible (Fano)",
                     line_label: str | None = "Fano frontier"):
    """Shade the region above the Fano frontier (HO Theorem 5) across the axis' whole x-range.

    Call it once the x-limits are final (points placed, ``set_xlim`` done): it reads them, draws the
    frontier up to ``top`` and pins the limits so the shading cannot change them. Returns the
    ``(ratios, max_accuracy)`` drawn.
    """
    low, high = ax.get_xlim()
    ratios, accuracy = frontier_over(low, high, log=ax.get_xscale() == "log")
    ax.fill_between(ratios, accuracy, top, color=INFEASIBLE_COLOR, lw=0, zorder=0.5,
                    **({"label": fill_label} if fill_label else {}))
    ax.plot(ratios, accuracy, color=REFERENCE_COLOR, lw=0.8, zorder=1, **({"label": line_label} if line_label else {}))
    ax.set_xlim(low, high)
    return ratios, accuracy
