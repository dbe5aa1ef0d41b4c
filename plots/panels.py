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


# ---------------------------------------------------------------------------
# Success vs query scale C, and memory vs n
# ---------------------------------------------------------------------------

#: Axis vocabulary of the C-sweep and memory panels.
C_LABEL = r"query scale $C$"
TOKENS_LABEL = r"tokens $n$"
MEMORY_LABEL = "memory (bits)"
#: Accuracy target drawn as a thin labelled line on the success panel.
TARGET_ACCURACY = 0.99
#: Default threshold markers: ``(key, legend label, style)``; a line style draws a vertical line at
#: ``curve[key]`` in the curve's colour, ``"^"`` a triangle on the C axis.
THRESHOLDS = (("theorem_threshold", "theorem threshold", "--"),)
#: Line styles the reference lines of :func:`memory_vs_n` cycle through.
REFERENCE_STYLES = (":", "--", "-.", "-")
#: Colour of the neutral legend keys (threshold styles, reference lines).
KEY_COLOR = "#555555"


def _legend(ax, legend, handles=None, default: Mapping | None = None) -> None:
    """``ax.legend`` with ``legend`` (``True``: ``default``; a mapping: those options; falsy: none)."""
    if not legend:
        return
    handles = ax.get_legend_handles_labels()[0] if handles is None else handles
    if handles:
        ax.legend(handles=handles, **(dict(default or {}) if legend is True else dict(legend)))


def _minor_log_label(value: float, _pos=None) -> str:
    """Label the 2x and 5x minor ticks of a log axis, leave the others blank."""
    if value <= 0:
        return ""
    mantissa = value / 10 ** np.floor(np.log10(value) + 1e-9)
    return f"{value:g}" if round(float(mantissa), 6) in (2.0, 5.0) else ""


def _eta_label(curve: Mapping, k: int) -> str:
    eta = number(curve.get("eta"))
    return rf"$\eta={eta:g}$" if eta is not None else f"curve {k + 1}"


def success_vs_C(ax, curves: Sequence[Mapping], *,
                 thresholds: Sequence[tuple[str, str, str]] = THRESHOLDS,
                 label: Callable[[Mapping, int], str] = _eta_label, flipped: bool = False,
                 intervals: bool = True, target: float | None = TARGET_ACCURACY,
                 ylim: tuple[float, float] | None = None, log_x: bool | None = None,
                 xlabel: str = C_LABEL, ylabel: str = ACCURACY_LABEL,
                 legend: bool | Mapping = True, ms: float | None = None) -> list[dict]:
    """Decoding accuracy against query scale C, one series per curve (``curves``: dicts with ``C``,
    ``accuracy`` and optionally ``eta``, ``flipped_accuracy``, ``correct``/``total``).

    Series ``k`` is drawn in :func:`default_style` ``(k)`` and named ``label(curve, k)`` (default
    ``η=…``); with ``intervals``, curves with ``correct``/``total`` get 99% Wilson error bars; with
    ``flipped``, ``flipped_accuracy`` is drawn as a thin dotted line in the series' colour.
    ``thresholds`` lists ``(key, legend label, style)``: each curve's positive ``curve[key]`` is a
    vertical line in the series' colour and that line style (a triangle on the C axis if the style
    is ``"^"``), and ``curve[key + "_interval"] = [low, high]`` a shaded band in the same colour;
    the legend gets one grey key per threshold kind drawn (and "99% interval" if a band was). A thin
    line marks ``target`` and one marks chance. ``log_x`` (default: the C values span more than a
    factor 8) makes the C axis logarithmic. ``legend``: ``True`` (lower right), legend options, or
    ``False``. Returns the styles of the series drawn.
    """
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
    from matplotlib.ticker import FuncFormatter

    from protocols.stats import wilson_interval

    curves = [c for c in curves or [] if isinstance(c, Mapping)]
    series = []
    for curve in curves:
        size = len(curve.get("C") or [])
        counts = [list(curve.get(key) or [])[:size] for key in ("correct", "total")]
        counts = [c + [None] * (size - len(c)) for c in counts]  # missing counts: no error bar
        rows = [(number(x), number(y), number(n), number(t)) for x, y, n, t in
                zip(curve.get("C") or [], curve.get("accuracy") or [], *counts)]
        rows = sorted(r for r in rows if r[0] is not None and r[1] is not None)
        if rows:
            series.append((curve, rows))
    accuracies = [y for _, rows in series for _, y, _, _ in rows]
    scales = [x for _, rows in series for x, _, _, _ in rows]
    scales += [x for c, _ in series for key, _, _ in thresholds if (x := number(c.get(key))) is not None and x > 0]
    if ylim is None:
        low = min([ACCURACY_LIMITS[0], *accuracies])
        ylim = (low - (0.03 if low < ACCURACY_LIMITS[0] else 0), ACCURACY_LIMITS[1])
    ax.set_ylim(*ylim)
    if log_x is None:
        log_x = bool(scales) and min(scales) > 0 and max(scales) / min(scales) > 8
    drawn, kinds, banded = [], set(), False
    for k, (curve, rows) in enumerate(series):
        style = default_style(k)
        xs, ys = [r[0] for r in rows], [r[1] for r in rows]
        size = ms if ms is not None else (2.5 if len(rows) > 20 else 3.5)
        counted = intervals and all(n is not None and t for _, _, n, t in rows)
        if counted:
            bounds = [wilson_interval(int(n), int(t)) for _, _, n, t in rows]
            err = [[max(0.0, y - lo) for y, (lo, _) in zip(ys, bounds)],
                   [max(0.0, hi - y) for y, (_, hi) in zip(ys, bounds)]]
            ax.errorbar(xs, ys, yerr=err, color=style["color"], marker=style["marker"], ls=style["ls"], ms=size,
                        lw=0.9, elinewidth=0.5, capsize=0, label=label(curve, k), zorder=3)
        else:
            ax.plot(xs, ys, color=style["color"], marker=style["marker"], ls=style["ls"], ms=size, lw=0.9,
                    label=label(curve, k), zorder=3)
        if flipped:
            pts = sorted((number(x), number(y)) for x, y in zip(curve.get("C") or [], curve.get("flipped_accuracy") or [])
                         if number(x) is not None and number(y) is not None)
            if pts:
                ax.plot([x for x, _ in pts], [y for _, y in pts], color=style["color"], ls=":", lw=0.7, zorder=2.5)
                kinds.add("flipped")
        for key, _, ls in thresholds:
            x = number(curve.get(key))
            if x is None or x <= 0:
                continue
            kinds.add(key)
            if ls == "^":
                ax.plot([x], [0.0], marker="^", ms=5, color=style["color"], clip_on=False, zorder=4,
                        transform=ax.get_xaxis_transform())
            else:
                ax.axvline(x, color=style["color"], ls=ls, lw=0.9, zorder=2)
            band = curve.get(f"{key}_interval")
            if isinstance(band, Sequence) and len(band) == 2 and None not in (lo := number(band[0]), hi := number(band[1])) \
                    and hi > lo:
                ax.axvspan(lo, hi, color=style["color"], alpha=0.12, lw=0, zorder=1.5)
                banded = True
        drawn.append(style)
    if target is not None and ylim[0] < target < ylim[1]:
        ax.axhline(target, color="#888888", lw=0.6, zorder=1)
        ax.text(0.01, target - 0.005, f"{target:.0%}", transform=ax.get_yaxis_transform(), ha="left", va="top",
                fontsize="x-small", color="#666666")
    if ylim[0] < CHANCE < ylim[1]:
        chance_line(ax)
    if log_x and scales:
        ax.set_xscale("log")
        ax.set_xlim(min(scales) / 1.15, max(scales) * 1.15)
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        ax.xaxis.set_minor_formatter(FuncFormatter(_minor_log_label))
    elif scales:
        ax.set_xlim(left=0)
    if not series:
        empty_note(ax)
    handles = ax.get_legend_handles_labels()[0]
    if "flipped" in kinds:
        handles.append(Line2D([], [], color=KEY_COLOR, ls=":", lw=0.7, label="flipped decoder"))
    for key, name, ls in thresholds:
        if key in kinds:
            handles.append(Line2D([], [], color=KEY_COLOR, ls="none", marker="^", ms=5, label=name) if ls == "^"
                           else Line2D([], [], color=KEY_COLOR, ls=ls, lw=0.9, label=name))
    if banded:
        handles.append(Patch(color=KEY_COLOR, alpha=0.2, lw=0, label="99% interval"))
    _legend(ax, legend, handles, {"loc": "lower right", "fontsize": "x-small"})
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    return drawn


def _reference_values(spec, grid: np.ndarray):
    """``(xs, ys)`` of a reference: a function of ``n`` on ``grid``, a constant, or ``(x, y)`` pairs."""
    if callable(spec):
        return grid, np.array([float(spec(x)) for x in grid])
    if number(spec) is not None:
        return grid, np.full(len(grid), float(spec))
    pairs = sorted((number(x), number(y)) for x, y in spec)
    pairs = [(x, y) for x, y in pairs if x is not None and y is not None]
    return np.array([x for x, _ in pairs]), np.array([y for _, y in pairs])


def memory_vs_n(ax, series: Mapping[str, Sequence], *, references: Sequence[tuple] = (),
                styles: Mapping[str, Mapping] | None = None, fit: Sequence[str] = (),
                x_range: tuple[float, float] | None = None,
                xlabel: str = TOKENS_LABEL, ylabel: str = MEMORY_LABEL, base: float = 2,
                ylog: bool | float = True, legend: bool | Mapping = True) -> list[dict]:
    """Measured memory against ``n`` on log-log axes, one series per ``label -> [(n, bits), ...]``.

    Series ``k`` is drawn in :func:`default_style` ``(k)`` unless ``styles[label]`` sets ``color``,
    ``marker``, ``ls``, ``ms``, ``lw``, ``mfc``, ``label``; pairs with a missing or non-positive
    value are skipped. A series named in ``fit`` is drawn as points with its least-squares power
    law through them (legend: label + " (fit)"). ``references`` lists ``(label, spec)`` or
    ``(label, spec, style)``: ``spec`` is a function of ``n`` (drawn on a geometric grid over
    ``x_range``, default the series' range), a constant, or ``(x, y)`` pairs; references are drawn in a neutral colour,
    cycling :data:`REFERENCE_STYLES`. The x-axis is logarithmic in ``base``; the y-axis too
    (base 10, or ``ylog`` if it is a number) unless ``ylog`` is ``False``. ``legend``: ``True``
    (upper left), legend options, or ``False``. Returns the styles of the series drawn.
    """
    ax.set_xscale("log", base=base)
    if ylog:
        ax.set_yscale("log", **({"base": ylog} if ylog is not True else {}))
    drawn, xs_all = [], []
    for k, (name, pairs) in enumerate((series or {}).items()):
        pts = sorted((number(x), number(y)) for x, y in pairs or [])
        pts = [(x, y) for x, y in pts if x is not None and y is not None and x > 0 and (y > 0 or not ylog)]
        if not pts:
            continue
        style = {**default_style(k), "ms": 3.5, "lw": 0.9, **dict((styles or {}).get(name) or {})}
        xs, ys = [x for x, _ in pts], [y for _, y in pts]
        xs_all += xs
        common = {"color": style["color"], "marker": style["marker"], "ms": style["ms"],
                  **({"mfc": style["mfc"]} if style.get("mfc") is not None else {})}
        text = style.get("label", name)
        if name in fit and len(set(xs)) > 1:
            ax.plot(xs, ys, ls="none", **common)
            slope, intercept = np.polyfit(np.log(xs), np.log(ys), 1)
            ends = np.array([min(xs), max(xs)])
            ax.plot(ends, np.exp(intercept + slope * np.log(ends)), color=style["color"], ls=style["ls"], lw=style["lw"])
            ax.plot([], [], ls=style["ls"], lw=style["lw"], label=f"{text} (fit)", **common)
        else:
            ax.plot(xs, ys, ls=style["ls"], lw=style["lw"], **({"label": text} if text else {}), **common)
        drawn.append(style)
    if x_range is None and xs_all:
        x_range = (min(xs_all), max(xs_all))
    if x_range is not None:
        low, high = x_range
        grid = np.geomspace(low, high, 33) if high > low else np.array([low])
        for j, reference in enumerate(references):
            name, spec = reference[0], reference[1]
            own = dict(reference[2]) if len(reference) > 2 and reference[2] else {}
            rx, ry = _reference_values(spec, grid)
            if len(rx):
                ax.plot(rx, ry, **{"color": REFERENCE_COLOR, "ls": REFERENCE_STYLES[j % len(REFERENCE_STYLES)],
                                   "lw": 0.9, **({"label": name} if name else {}), **own})
    if not xs_all and x_range is None:
        empty_note(ax)
    _legend(ax, legend, None, {"loc": "upper left", "fontsize": "x-small"})
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    return drawn
