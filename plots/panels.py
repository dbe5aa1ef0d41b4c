"""Panels several figures share, each drawn on the axes it is given.

:func:`accuracy_vs_memory` is the INDEX-game panel: accuracy against memory ratio, one series per
family (or any grouping), error bars from ``accuracy_low``/``accuracy_high``, under the Fano
frontier (HO Theorem 5) with the impossible region above it shaded across the axis' whole x-range.
The frontier comes from ``summary["frontier"]`` (built once by :func:`protocols.fano.frontier_for`);
where the axis reaches beyond that grid the curve is extended with :func:`protocols.fano.frontier_curve`,
so a point anywhere on the axis is judged against the frontier at its own ratio.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from plots.data import empty_note, family_name, group_by, number
from plots.style import INFEASIBLE_COLOR, MARKERS, PALETTE, REFERENCE_COLOR

Summary = Mapping[str, Any]

#: Accuracy range of the panel unless the caller gives one (chance is 1/2).
ACCURACY_LIMITS = (0.45, 1.02)
#: Line styles the default series cycle through once colours and markers wrap.
LINE_STYLES = ("-", "--", "-.", ":")
#: Ratios the x-range always shows (the frontier's bend and the ``n·d`` line at ratio 1).
ALWAYS_SHOWN = (1e-3, 1.6)
#: Factor between the outermost points and the x-limits.
MARGIN = 1.6
#: Samples of the analytic extension beyond the stored grid, per decade.
EXTENSION_PER_DECADE = 64
#: Chance accuracy of the INDEX game (a thin labelled line wherever the accuracy axis shows it).
CHANCE = 0.5
#: The axis vocabulary every figure shares for these two quantities.
MEMORY_RATIO_LABEL = r"memory ratio (bits / $n{\cdot}d$)"
ACCURACY_LABEL = "accuracy (fraction of bits decoded)"


def memory_ratio(point: Mapping[str, Any], summary: Summary | None = None) -> float | None:
    """A point's positive memory ratio (``memory_ratio``, else ``memory_bits / bits_encoded``)."""
    ratio = number(point.get("memory_ratio"))
    if ratio is None:
        bits = number(point.get("memory_bits"))
        encoded = number(point.get("bits_encoded"), number((summary or {}).get("bits_encoded")))
        ratio = bits / encoded if bits is not None and encoded else None
    return ratio if ratio is not None and ratio > 0 else None


def default_style(k: int) -> dict:
    """The ``k``-th series' ``color``, ``marker`` and ``ls``: distinct for every ``k`` below
    ``len(PALETTE) * len(MARKERS) * len(LINE_STYLES)``."""
    colours = len(PALETTE)
    return {"color": PALETTE[k % colours], "marker": MARKERS[(k + k // colours) % len(MARKERS)],
            "ls": LINE_STYLES[(k // (colours * len(MARKERS))) % len(LINE_STYLES)]}


def chance_line(ax, level: float = CHANCE) -> None:
    """A thin grey horizontal line at chance accuracy, labelled "chance" just below its left end
    (below chance is where the fewest points lie)."""
    ax.axhline(level, color="#9A9A9A", ls="-", lw=0.5, zorder=0.8)
    ax.text(0.01, level - 0.004, "chance", transform=ax.get_yaxis_transform(), ha="left", va="top",
            fontsize="xx-small", color="#777777", zorder=0.8)


def stored_frontier(summary: Summary, points: Sequence[Mapping] = ()) -> tuple[np.ndarray, np.ndarray]:
    """``(ratios, accuracy)`` of ``summary["frontier"]``, sorted by ratio, positive ratios only.

    A summary without ``"frontier"`` falls back to :func:`protocols.fano.frontier_for` over its
    points (the same builder the experiments use). A ``"frontier"`` that is not
    ``{"ratio": [...], "accuracy": [...]}`` of equal lengths is a ``ValueError``.
    """
    frontier = summary.get("frontier")
    if frontier is None:
        from protocols.fano import frontier_for

        frontier = frontier_for(points)
    if not (isinstance(frontier, Mapping) and isinstance(frontier.get("ratio"), Sequence)
            and isinstance(frontier.get("accuracy"), Sequence)
            and len(frontier["ratio"]) == len(frontier["accuracy"])):
        keys = sorted(frontier) if isinstance(frontier, Mapping) else type(frontier).__name__
        raise ValueError('summary["frontier"] must be {"ratio": [...], "accuracy": [...]} of equal lengths, '
                         f"as protocols.fano.frontier_for builds it; got {keys}")
    pairs = sorted((x, y) for x, y in ((number(a), number(b)) for a, b in zip(frontier["ratio"], frontier["accuracy"]))
                   if x is not None and y is not None and x > 0)
    return np.array([x for x, _ in pairs], dtype=float), np.array([y for _, y in pairs], dtype=float)


def frontier_on_axis(summary: Summary, low: float, high: float, points: Sequence[Mapping] = ()):
    """The stored frontier inside ``[low, high]``, extended through :mod:`protocols.fano` where the
    stored grid does not reach, with both ends exactly at ``low`` and ``high``."""
    from protocols.fano import frontier_curve

    xs, ys = stored_frontier(summary, points)
    inside = (xs >= low) & (xs <= high)
    parts_x, parts_y = [xs[inside]], [ys[inside]]
    first = xs[inside][0] if inside.any() else high
    last = xs[inside][-1] if inside.any() else low
    for a, b in ((low, first), (last, high)):
        if b > a:  # beyond the stored grid: the analytic curve (HO Theorem 5)
            count = max(2, int(np.ceil(np.log10(b / a) * EXTENSION_PER_DECADE)) + 1)
            grid = np.geomspace(a, b, count)
            if a < 1.0 < b:
                grid = np.union1d(grid, [1.0])
            parts_x.append(grid)
            parts_y.append(frontier_curve(grid))
    x = np.concatenate(parts_x)
    y = np.concatenate(parts_y)
    order = np.argsort(x, kind="stable")
    x, y = x[order], y[order]
    keep = np.concatenate([[True], np.diff(x) > 0])
    return x[keep], y[keep]


def accuracy_vs_memory(ax, summary: Summary, *, points: Sequence[Mapping] | None = None,
                       series: Callable[[Mapping], Any] = family_name, styles: Mapping[Any, Mapping] | None = None,
                       label: Callable[[Any, list], str] | None = None, xlim: tuple[float, float] | None = None,
                       ylim: tuple[float, float] = ACCURACY_LIMITS, always_shown: Sequence[float] = ALWAYS_SHOWN,
                       ratio_one: bool = True, xlabel: str = MEMORY_RATIO_LABEL,
                       ylabel: str = ACCURACY_LABEL, frontier_label: bool = True) -> dict:
    """Accuracy vs memory ratio of ``points`` (default ``summary["points"]``) under the Fano frontier.

    One series per ``series(point)`` in first-appearance order, points joined in order of memory,
    with error bars from ``accuracy_low``/``accuracy_high``. ``styles[group]`` may set ``color``,
    ``marker``, ``ls``, ``ms``, ``mfc``, ``lw``, ``label``, ``zorder``, ``alpha``; other series get
    :func:`default_style`. No two series share (colour, marker, line style): a clash moves the
    later series to the next free marker. ``label(group, members)`` names a series (default the
    group). Points are drawn where they are: series that coincide are told apart by marker, fill and
    line style, never by moving them. The x-range covers every point (``MARGIN`` either side) and ``always_shown`` unless
    ``xlim`` is given; the impossible region ("impossible (Fano)" in the legend) is shaded over all
    of it, under the frontier line (labelled "Fano frontier" if ``frontier_label``); a thin line
    marks chance (``CHANCE``) where the accuracy range shows it. Returns
    ``group -> style`` of the series drawn.
    """
    ax.set_xscale("log")
    if points is None:
        points = summary.get("points") or []
    points = [p for p in points if isinstance(p, Mapping) and number(p.get("accuracy")) is not None]
    located = [(memory_ratio(p, summary), p) for p in points]
    located = [(r, p) for r, p in located if r is not None]
    groups = group_by(located, lambda rp: series(rp[1]))
    if xlim is None:
        xs = [r for r, _ in located] + [r for r in always_shown if r and r > 0]
        xlim = (min(xs) / MARGIN, max(xs) * MARGIN) if xs else (1e-3, 1e2)
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)

    # Series whose points are exactly equal (memory, accuracy and interval) are drawn once, under one
    # legend entry naming them all; series that merely come close are kept apart.
    def _key(members):
        return tuple(sorted((r, number(p.get("accuracy")), number(p.get("accuracy_low")),
                             number(p.get("accuracy_high"))) for r, p in members))

    twins: dict = {}
    for group, members in groups.items():
        twins.setdefault(_key(members), []).append(group)
    same = {names[0]: names[1:] for names in twins.values()}

    used, drawn = set(), {}
    for k, (group, members) in enumerate(groups.items()):
        if group not in same:
            continue  # drawn with its identical twin
        style = {**default_style(k), **dict((styles or {}).get(group) or {})}
        combo = (style["color"], style["marker"], str(style.get("ls", "-")))
        shift = 1
        while combo in used:  # keep every legend swatch distinct
            style["marker"] = MARKERS[(MARKERS.index(style["marker"]) + shift) % len(MARKERS)] \
                if style["marker"] in MARKERS else MARKERS[shift % len(MARKERS)]
            if shift > len(MARKERS):
                style["ls"] = LINE_STYLES[shift % len(LINE_STYLES)]
            combo = (style["color"], style["marker"], str(style.get("ls", "-")))
            shift += 1
        used.add(combo)
        members = sorted(members, key=lambda rp: rp[0])
        xs = [r for r, _ in members]
        ys = [float(p["accuracy"]) for _, p in members]
        lo = [max(0.0, y - number(p.get("accuracy_low"), y)) for y, (_, p) in zip(ys, members)]
        hi = [max(0.0, number(p.get("accuracy_high"), y) - y) for y, (_, p) in zip(ys, members)]
        def _name(g, style=style):
            own = dict((styles or {}).get(g) or {}) if g != group else style
            return own.get("label") or (label(g, [p for _, p in groups[g]]) if label else str(g))

        name = _name(group)
        if same[group]:
            name = "\n= ".join([name] + [_name(g) for g in same[group]]) + " (identical)"
        ax.errorbar(xs, ys, yerr=[lo, hi], label=name, color=style["color"], marker=style["marker"],
                    ls=style.get("ls", "-"), ms=style.get("ms", 3.2), lw=style.get("lw", 0.9), elinewidth=0.6,
                    **({"mfc": style["mfc"]} if style.get("mfc") is not None else {}),
                    alpha=style.get("alpha", 1.0), zorder=style.get("zorder", 3 + 0.01 * k))
        drawn[group] = style
        drawn.update(dict.fromkeys(same[group], style))
    if ratio_one:
        ax.axvline(1.0, color=REFERENCE_COLOR, ls=":", lw=0.8, zorder=1)
    if ylim[0] < CHANCE < ylim[1]:
        chance_line(ax)
    low, high = ax.get_xlim()
    fx, fy = frontier_on_axis(summary, low, high, points)
    ax.fill_between(fx, fy, ylim[1] + 1, color=INFEASIBLE_COLOR, lw=0, zorder=0.5, label="impossible (Fano)")
    ax.plot(fx, fy, color=REFERENCE_COLOR, lw=0.8, zorder=1, **({"label": "Fano frontier"} if frontier_label else {}))
    ax.set_xlim(low, high)
    if not points:
        empty_note(ax)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    return drawn
