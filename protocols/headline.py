"""One-line headlines of a summary for ``barriers report``: every number with its interval, or exact.

An experiment names its own headline function (``Experiment.headline``); :func:`generic_headline`
is the fallback for game experiments whose points carry 99% Wilson intervals.
"""

from __future__ import annotations

from protocols.stats import wilson_interval


def percent(value: float, low: float, high: float) -> str:
    """``96.2% [95.9, 96.5]``; more decimals where one would hide the interval's width."""
    for digits in range(1, 5):
        shown = [f"{100 * v:.{digits}f}" for v in (value, low, high)]
        if (low == value or shown[1] != shown[0]) and (high == value or shown[2] != shown[0]):
            break
    return f"{shown[0]}% [{shown[1]}, {shown[2]}]"


def point_interval(point: dict) -> tuple[float, float] | None:
    """The point's 99% Wilson interval: its own ``accuracy_low``/``accuracy_high``, else computed
    from the counts (``accuracy`` of ``bits_encoded`` bits in each of ``trials`` games), else None."""
    if point.get("accuracy_low") is not None and point.get("accuracy_high") is not None:
        return point["accuracy_low"], point["accuracy_high"]
    if point.get("accuracy") is None or not point.get("bits_encoded"):
        return None
    total = int(point["bits_encoded"]) * int(point.get("trials") or 1)
    return wilson_interval(round(point["accuracy"] * total), total)


def best_within_ratio(points: list[dict], ratio: float = 1.0) -> list[tuple[str, dict]]:
    """Per family (``label``, else ``family``; in order of appearance), its most accurate point with
    memory ratio <= ``ratio`` and a Wilson interval."""
    best: dict[str, dict] = {}
    for point in points:
        if (point.get("memory_ratio") is None or point["memory_ratio"] > ratio or point.get("accuracy") is None
                or point.get("accuracy_low") is None or point.get("accuracy_high") is None):
            continue
        label = str(point.get("label") or point.get("family") or point.get("cache"))
        if label not in best or point["accuracy"] > best[label]["accuracy"]:
            best[label] = point
    return list(best.items())


def generic_headline(summary: dict) -> str:
    """Per family, the best accuracy within memory ratio 1 with its interval; else ``see figure``."""
    found = best_within_ratio(summary.get("points") or [], 1.0)
    if not found:
        return "see figure"
    return "; ".join(f"{label}: {percent(p['accuracy'], p['accuracy_low'], p['accuracy_high'])}"
                     for label, p in found) + " at ratio ≤ 1 (99% Wilson)"
