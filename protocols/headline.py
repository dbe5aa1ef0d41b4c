"""One-line headlines of a summary for ``barriers report``: every number with its interval, or exact.

An experiment names its own headline function (``Experiment.headline``); :func:`generic_headline`
is the fallback for game experiments whose points carry 99% Wilson intervals.
"""

from __future__ import annotations

import re

from protocols.stats import wilson_interval


def percent(value: float, low: float, high: float) -> str:
    """``96.2% [95.9, 96.5]``; more decimals where one would hide the interval's width."""
    for digits in range(1, 5):
        shown = [f"{100 * v:.{digits}f}" for v in (value, low, high)]
        if ((abs(low - value) < 1e-12 or shown[1] != shown[0])
                and (abs(high - value) < 1e-12 or shown[2] != shown[0])):
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


def counted(successes: int, total: int) -> str:
    """``successes`` of ``total`` as a percentage with its 99% Wilson interval."""
    successes, total = int(round(successes)), int(total)
    return percent(successes / total if total else 0.0, *wilson_interval(successes, total))


def rate(value: float, total: int) -> str:
    """A success rate measured over ``total`` independent outcomes, with its 99% Wilson interval."""
    return counted(round(value * total), total)


def exact(value: float, digits: int = 2) -> str:
    """A number that is deterministic given the seed (a byte count, a ratio of byte counts, a formula)."""
    return f"{value:,.{digits}f} (exact)"


def single_draw(value: float, digits: int = 2) -> str:
    """A number that rests on one random draw and has no interval."""
    return f"{value:,.{digits}g} (single draw)" if abs(value) < 1e-3 and value else f"{value:,.{digits}f} (single draw)"


def over_draws(values, digits: int = 2, unit: str = "", noun: str = "draw") -> str:
    """A quantity measured on several independent draws: ``median [min, max] (k draws)``.

    With ``k`` draws the interval ``[min, max]`` holds the distribution's median with probability
    ``1 - 2^(1-k)`` (75% for 3 draws, 94% for 5); one draw is marked ``(single draw)``. ``noun``
    names what the ``k`` draws are where they are not plain draws (``"game"``: ``(8 games)``)."""
    import numpy as np

    values = sorted(float(v) for v in values if v is not None)
    if not values:
        return "n/a"
    if len(values) == 1:
        return single_draw(values[0], digits) if not unit else f"{values[0]:,.{digits}f}{unit} (single draw)"
    middle = float(np.median(values))
    shown = (lambda v: f"{v:,.{digits}g}") if 0 < abs(middle) < 1e-3 else (lambda v: f"{v:,.{digits}f}")
    return f"{shown(middle)}{unit} [{shown(values[0])}, {shown(values[-1])}] ({len(values)} {noun}s)"


def fitted_slope(xs, ys, groups=None, *, log: bool = True, seed: int = 0, digits: int = 2) -> str:
    """Least-squares slope (of ``log y`` on ``log x`` when ``log``) with its 99% percentile bootstrap
    interval over the points (:func:`protocols.stats.bootstrap_slope`, fixed ``seed`` so the line is
    reproducible); ``n/a`` with fewer than two distinct x, ``(single fit)`` where no resample varies."""
    import math

    from protocols.stats import bootstrap_slope

    rows = [(x, y, g) for x, y, g in zip(xs, ys, groups if groups is not None else range(len(xs)))
            if x is not None and y is not None and (not log or (x > 0 and y > 0))]
    x = [math.log(r[0]) if log else r[0] for r in rows]
    y = [math.log(r[1]) if log else r[1] for r in rows]
    try:
        slope, low, high = bootstrap_slope(x, y, [r[2] for r in rows], seed=seed, level=0.99)
    except ValueError:
        return "n/a"
    if math.isnan(low):
        return f"{slope:.{digits}f} (single draw: no resample varies)"
    return f"{slope:.{digits}f} [{low:.{digits}f}, {high:.{digits}f}]"


def spread(values, note: str = "single draw each", digits: int = 2, unit: str = "") -> str:
    """``min–max{unit} (note)`` of several numbers that share one qualifier (``exact``, ``single draw each``)."""
    values = [v for v in values if v is not None]
    low, high = min(values), max(values)
    if f"{low:,.{digits}f}" == f"{high:,.{digits}f}":
        return f"{low:,.{digits}f}{unit} ({note})"
    return f"{low:,.{digits}f}–{high:,.{digits}f}{unit} ({note})"


#: A number as headlines print it: ``1,024``, ``0.50``, ``96.2%``, ``1.8e-07``, and ranges
#: ``0.63–0.94``, ``0.58 → 0.025``.
_NUMBER = re.compile(r"\d+(?:,\d{3})*(?:\.\d+)?(?:e[-+]?\d+)?%?"
                     r"(?:\s*(?:–|→)\s*\d+(?:,\d{3})*(?:\.\d+)?(?:e[-+]?\d+)?%?)?")


def unqualified_numbers(text: str) -> list[str]:
    """The percentages and decimals of a headline that carry neither an interval ``[a, b]`` right
    after them nor the word ``exact`` or ``single draw`` before the next number (integers are counts
    or parameters and pass; a confidence level "99% Wilson/bootstrap/normal" is not a result)."""
    text = re.sub(r"\[[^\]]*\]", "[]", text)
    text = re.sub(r"\b99% (?:Wilson|bootstrap|normal)", "", text)
    bad = []
    for match in _NUMBER.finditer(text):
        token = match.group()
        if "%" not in token and "." not in token:
            continue
        rest = text[match.end():]
        following = re.search(r"\d", rest)
        segment = rest[: following.start()] if following else rest
        if not re.match(r"\s*\[\]", segment) and "exact" not in segment and "single draw" not in segment:
            bad.append(token)
    return bad
