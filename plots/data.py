"""Small helpers every figure function shares: reading summaries robustly, grouping, styling."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from plots.style import MARKERS, PALETTE


def number(value, default=None):
    """``value`` as a finite float, else ``default`` (None, NaN, inf, non-numbers)."""
    if value is None or isinstance(value, bool):
        return default
    try:
        value = float(value)
    except (TypeError, ValueError):
        return default
    return value if math.isfinite(value) else default


def group_by(items: Iterable, key: Callable) -> dict:
    """Group ``items`` by ``key``, keeping first-appearance order."""
    groups: dict = {}
    for item in items:
        groups.setdefault(key(item), []).append(item)
    return groups


def family_name(point: Mapping[str, Any]) -> str:
    """The cache family of a results point (its ``family``, else the class name in its repr)."""
    return str(point.get("family") or str(point.get("cache", "?")).split("(", 1)[0] or "?")


def series_style(k: int) -> dict:
    """Colour and marker of the ``k``-th series (markers cycle once the palette wraps)."""
    return {"color": PALETTE[k % len(PALETTE)], "marker": MARKERS[(k + k // len(PALETTE)) % len(MARKERS)]}


def empty_note(ax, text: str = "no data") -> None:
    """Mark an axes that has nothing to draw."""
    ax.text(0.5, 0.5, text, transform=ax.transAxes, ha="center", va="center", color="#888888")


def title(name: str, summary: Mapping[str, Any], keys: Sequence[str]) -> str:
    """``"name, n=64, d=16"`` with the keys present in ``summary``."""
    parts = [f"${k}={summary[k]}$" for k in keys if summary.get(k) is not None]
    return ", ".join([name, *parts])
