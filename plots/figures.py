"""One function per figure of the suite.

Each function takes the JSON-able ``summary`` dict an experiment writes and returns a
:class:`matplotlib.figure.Figure` built in the paper style (:mod:`plots.style`). Keys the
schemas mark optional are read with ``.get`` and ``None`` values are skipped, so a
partial summary still plots. Save the result with :func:`plots.save.save_figure`.

Each experiment names its figure function in ``Experiment.figure`` (:mod:`protocols.experiment`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from plots.data import family_name, group_by, number, title
from plots.panels import MEMORY_RATIO_LABEL, accuracy_vs_memory, success_vs_C
from plots.style import (
    FAILURE_COLOR,
    MARKERS,
    PALETTE,
    REFERENCE_COLOR,
    SUCCESS_COLOR,
    UNDEFINED_COLOR,
    new_figure,
    paper,
)

Summary = Mapping[str, Any]

#: Accuracy axis range shared by the accuracy plots (chance is 1/2).
ACCURACY_LIMITS = (0.45, 1.02)
#: Target accuracy drawn as a horizontal line where a decoding threshold is studied.
TARGET_ACCURACY = 0.99


# ---------------------------------------------------------------------------
# a. INDEX game: accuracy versus memory
# ---------------------------------------------------------------------------


def budget_figure(summary: Summary):
    """INDEX-game accuracy against memory ratio for the whole zoo, under the Fano frontier.

    Left: one colour and marker per cache family (points joined in order of memory, error bars
    from ``accuracy_low``/``accuracy_high``), the Fano frontier with the infeasible region above
    it shaded, and a dotted line at ratio 1 (``n*d`` bits). Right: the smallest memory ratio at
    which each family decodes at least 99% of the bits (``summary["families"]``, else computed
    from the points), beside Fano's minimum; families that never get there are marked "never"
    with their best accuracy. The legend sits below both panels.
    """
    points = [p for p in summary.get("points", []) if number(p.get("accuracy")) is not None]
    groups = group_by(points, family_name)
    styles = _family_styles(groups)
    aspect = max(0.62, 0.2 + 0.017 * len(groups))  # taller once many families (kvpress presses) share the panels
    with paper(columns=2, aspect=aspect):
        fig = new_figure(2, aspect)
        left, right = fig.subplots(1, 2, width_ratios=[1.45, 1.0])
        _budget_panel(left, summary, groups, styles)
        _ratio_for_target_panel(right, summary, points, groups, styles)
        handles, labels = left.get_legend_handles_labels()
        if handles:
            fig.legend(handles, labels, loc="outside lower center", ncol=min(5, len(handles)), frameon=False)
    return fig


def _budget_panel(ax, summary: Summary, groups: Mapping[str, list], styles: Mapping[str, tuple]) -> None:
    """Left panel of :func:`budget_figure`: accuracy against memory ratio, frontier shaded."""
    from matplotlib.ticker import FuncFormatter

    points = [p for members in groups.values() for p in members]
    # Families of one kind (the eviction rules, the sliding windows) reach nearly the same accuracies
    # at the same memories. They are drawn where they are; each later family of a kind gets a smaller,
    # white-filled marker on top of the earlier ones, so every one stays visible as a ring.
    shown = {}
    for f, (c, m, ls, index) in styles.items():
        shown[f] = {"color": c, "marker": m, "ls": ls, "ms": max(2.0, 5.2 - 0.8 * index),
                    "mfc": "white" if index else None, "zorder": 3 + 0.1 * index}
    # Always show ratios 0.5 to 1, where the frontier bends and the n*d line (with its label) stands.
    accuracy_vs_memory(ax, summary, points=points, series=family_name, styles=shown,
                       label=lambda family, members: _family_label(members[0]), ylim=ACCURACY_LIMITS,
                       always_shown=(0.5 * 1.6, 1.0))
    # Just left of ratio 1 and below accuracy ~0.97 lies inside the infeasible region,
    # where no honest point can be: the label never hides data.
    ax.text(1.0, 0.72, r"$n{\cdot}d$ bits ", rotation=90, ha="right", va="center",
            fontsize="x-small", color=REFERENCE_COLOR)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.set_title(title("INDEX game", summary, ("n", "d")))


def _ratio_for_target_panel(ax, summary: Summary, points, groups: Mapping[str, list],
                            styles: Mapping[str, tuple]) -> None:
    """Right panel of :func:`budget_figure`: memory ratio each family needs for 99% accuracy."""
    from matplotlib.ticker import FuncFormatter

    target = number(summary.get("success_accuracy"), TARGET_ACCURACY)
    rows = {str(r.get("family")): r for r in summary.get("families") or [] if r.get("family") is not None}
    table = []
    for family, members in groups.items():
        row = rows.get(family) or {}
        needed = number(row.get("ratio_for_99")) if row else None
        if not row:
            reaching = [r for p in members if (r := _memory_ratio(p, summary)) is not None
                        and float(p["accuracy"]) >= target]
            needed = min(reaching, default=None)
        best = number(row.get("best_accuracy"), max(float(p["accuracy"]) for p in members))
        table.append((family, _family_label(members[0]), needed, best))
    table.sort(key=lambda t: (t[2] is None, t[2] if t[2] is not None else -t[3]))
    reached = [t[2] for t in table if t[2] is not None and t[2] > 0]
    fano_min = 1.0 - _binary_entropy(1.0 - target) if target > 0.5 else 0.0
    low, high = _log_limits(reached + [fano_min], default=(0.5, 100.0))
    low, high = min(low, fano_min / 1.6), high * 2.5  # room for the "never" labels on the right
    ax.set_xscale("log")
    ax.set_xlim(low, high)
    ys = np.arange(len(table))[::-1]
    for y, (family, label, needed, best) in zip(ys, table):
        color = styles[family][0]
        if needed is not None and needed > 0:
            ax.barh(y, needed - low, left=low, color=_tint(color, 0.45), edgecolor=color, lw=0.6, height=0.65)
            ax.text(needed * 1.08, y, f"{needed:.3g}", va="center", ha="left", fontsize="x-small")
        else:
            ax.text(fano_min * 1.1, y, f"never (best {best:.1%})", va="center", ha="left", fontsize="x-small",
                    color=FAILURE_COLOR)
    ax.axvline(fano_min, color=REFERENCE_COLOR, ls="--", lw=0.8)
    ax.text(fano_min, len(table) - 0.35, f" Fano {fano_min:.2f}", ha="left", va="bottom",
            fontsize="x-small", color=REFERENCE_COLOR)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.xaxis.set_minor_formatter(FuncFormatter(_minor_log_label if high / low < 30 else (lambda v, _: "")))
    ax.set_yticks(ys, [t[1] for t in table])
    ax.set_ylim(-0.7, len(table) - 0.1 + 0.6)
    ax.tick_params(axis="y", length=0)
    ax.grid(axis="y", visible=False)
    ax.set_xlabel(MEMORY_RATIO_LABEL)
    ax.set_ylabel("method")
    ax.set_title(rf"memory needed for $\geq${target:.0%} of bits")


#: Base colour of each kind of compression in :func:`budget_figure` (families of one kind share
#: it, told apart by marker and line style); unknown kinds take the palette in turn.
KIND_COLORS = {
    "reference": "#000000",
    "quantization": "#0072B2",
    "eviction": "#E69F00",
    "low rank": "#009E73",
    "lossless": "#CC79A7",
    "designed": "#C00000",
    "sliding window (eq. 20)": "#6A3D9A",
}
#: Colours for kinds not in :data:`KIND_COLORS`, in order of appearance.
EXTRA_KIND_COLORS = ("#56B4E9", "#8C564B", "#7F7F7F", "#BCBD22", "#17BECF")
_LINE_STYLES = ("-", "--", "-.", ":", (0, (5, 1, 1, 1, 1, 1)))


def _family_styles(groups: Mapping[str, list]) -> dict[str, tuple]:
    """``family -> (colour, marker, line style, index within its kind)``: colour by kind, marker and
    line style within it."""
    styles, seen_in_kind, extra = {}, {}, {}
    for k, (family, members) in enumerate(groups.items()):
        kind = members[0].get("kind")
        if kind in KIND_COLORS:
            color = KIND_COLORS[kind]
        else:
            key = kind if kind is not None else family
            color = extra.setdefault(key, EXTRA_KIND_COLORS[len(extra) % len(EXTRA_KIND_COLORS)])
        index = seen_in_kind.get(kind if kind is not None else family, 0)
        seen_in_kind[kind if kind is not None else family] = index + 1
        styles[family] = (color, MARKERS[(k + index) % len(MARKERS)], _LINE_STYLES[index % len(_LINE_STYLES)], index)
    return styles


def _family_label(point: Mapping[str, Any]) -> str:
    """Short display name of a point's family (``label`` key, else the family)."""
    return str(point.get("label") or family_name(point))


def _binary_entropy(p: float) -> float:
    """``H_2(p)`` in bits (0 at the ends)."""
    if p <= 0.0 or p >= 1.0:
        return 0.0
    return -p * math.log2(p) - (1.0 - p) * math.log2(1.0 - p)


def _memory_ratio(point: Mapping[str, Any], summary: Summary) -> float | None:
    """``memory_bits / bits_encoded`` (from the point, else computed)."""
    ratio = number(point.get("memory_ratio"))
    if ratio is not None:
        return ratio
    bits = number(point.get("memory_bits"))
    encoded = number(point.get("bits_encoded"), number(summary.get("bits_encoded")))
    if bits is None or not encoded:
        return None
    return bits / encoded




# ---------------------------------------------------------------------------
# b. Theorem 6 phase diagram over (log2 n, d)
# ---------------------------------------------------------------------------

_PHASE_CATEGORIES = (
    ("decodes at the theorem's C", SUCCESS_COLOR),
    ("fails at the theorem's C", FAILURE_COLOR),
    (r"no $C$: measured $\varepsilon \geq 1/2$", UNDEFINED_COLOR),
)


def phase_figure(summary: Summary):
    """Exact-output reduction (Theorem 6): decoding over a ``(log2 n, d)`` grid.

    Left: cell map (success / failure at the theorem's ``C`` / no ``C`` because the
    measured ``eps >= 1/2``), cells labelled with the measured ``eps``, the empirical
    boundaries as step lines and the Lemma 3 dimension, far above the grid, written in
    a band on top. Right: smallest working ``C`` against ``log2 n``, one line per ``d``,
    with ``ln n`` (eq. 16 at ``eps = 0``) for reference.
    """
    points = list(summary.get("points", []))
    log2_ns = sorted({int(v) for v in (summary.get("log2_n_values")
                                        or [p["log2_n"] for p in points if p.get("log2_n") is not None])})
    ds = sorted({int(v) for v in (summary.get("d_values")
                                   or [p["d"] for p in points if p.get("d") is not None])})
    aspect = 0.46
    with paper(columns=2, aspect=aspect):
        fig = new_figure(2, aspect)
        left, right = fig.subplots(1, 2)
        handles = _phase_map(left, summary, points, log2_ns, ds)
        _min_c_panel(right, points, log2_ns, ds)
        fig.legend(handles=handles, loc="outside lower center", ncol=3, frameon=False)
    return fig


def _phase_map(ax, summary: Summary, points, log2_ns: list[int], ds: list[int]) -> list:
    """Left panel of :func:`phase_figure`; returns its legend handles."""
    from matplotlib.colors import ListedColormap
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    col = {v: i for i, v in enumerate(log2_ns)}
    row = {v: i for i, v in enumerate(ds)}
    grid = np.full((max(1, len(ds)), max(1, len(log2_ns))), np.nan)
    for p in points:
        i, j = row.get(p.get("d")), col.get(p.get("log2_n"))
        if i is None or j is None:
            continue
        success = p.get("success_theorem_C")
        grid[i, j] = 2 if p.get("theorem_C") is None or success is None else (0 if success else 1)
        eps = number(p.get("eps_measured"))
        if eps is not None:
            ax.text(j, i, f"{eps:.2f}", ha="center", va="center", fontsize=5.5, color="#222222")

    cmap = ListedColormap([_tint(c, 0.55) for _, c in _PHASE_CATEGORIES])
    ax.pcolormesh(np.arange(grid.shape[1] + 1) - 0.5, np.arange(grid.shape[0] + 1) - 0.5,
                  np.ma.masked_invalid(grid), cmap=cmap, vmin=-0.5, vmax=2.5,
                  edgecolors="white", linewidth=1.0)
    ax.grid(False)
    for spine in ax.spines.values():
        spine.set_visible(False)

    present = {int(v) for v in grid[np.isfinite(grid)]}
    handles = [Patch(facecolor=_tint(c, 0.55), edgecolor="none", label=label)
               for k, (label, c) in enumerate(_PHASE_CATEGORIES) if k in present or not present]
    # The boundaries are drawn along the lower edge of the first decoding cell of each column, in
    # colours of their own (never black, which the right panel uses for eq. 16); one at the grid's
    # bottom edge means the smallest grid d already decodes, so it is drawn unclipped over the edge.
    boundary = summary.get("empirical_boundary") or {}
    for key, style, color, label in (("d_theorem_C", "-", "#000000", "smallest $d$ decoding, theorem's $C$"),
                                     ("d_min_C", "--", PALETTE[0], "smallest $d$ decoding, best $C$")):
        xs, ys = _boundary_steps(boundary.get("log2_n") or [], boundary.get(key) or [], col, ds)
        if np.isfinite(ys).any():
            line, = ax.plot(xs, ys, color=color, ls=style, lw=1.4, solid_capstyle="butt", clip_on=False,
                            zorder=4, label=label)
            handles.append(line)

    lemma3 = summary.get("lemma3") or {}
    lemma3_log2_n = lemma3.get("log2_n") or [
        None if number(n) is None or n <= 0 else round(math.log2(n)) for n in lemma3.get("n") or []]
    xs, ys = _boundary_steps(lemma3_log2_n, lemma3.get("d_corrected") or [], col, ds, above_grid=False)
    if np.isfinite(ys).any():
        ax.plot(xs, ys, color=REFERENCE_COLOR, ls=":", lw=1.2)
        handles.append(Line2D([], [], color=REFERENCE_COLOR, ls=":", lw=1.2,
                              label="$d$ Lemma 3 asks (corrected)"))

    top = grid.shape[0] - 0.5
    ticks, labels = list(range(len(ds))), [str(v) for v in ds]
    if _lemma3_band(ax, lemma3, lemma3_log2_n, col, top, max(ds, default=0)):
        eps = number(lemma3.get("eps"))
        ticks.append(top + 0.55)
        labels.append("Lemma 3" + (rf" ($\varepsilon$={eps:g})" if eps is not None else "")
                      + "\nprinted / corr.")
        ax.set_ylim(-0.5, top + 1.1)
    else:
        ax.set_ylim(-0.5, top)
    ax.set_xlim(-0.5, grid.shape[1] - 0.5)
    ax.set_xticks(range(len(log2_ns)), [str(v) for v in log2_ns])
    ax.set_yticks(ticks, labels, linespacing=1.0)
    ax.tick_params(length=0)
    ax.set_xlabel(r"$\log_2 n$")
    ax.set_ylabel(r"dimension $d$")
    ax.set_title(r"Theorem 6 at its $C$ (cells: measured $\varepsilon$)")
    return handles


_LEMMA3_BAND_COLOR = "#EFEFEF"


def _boundary_steps(log2_n: Sequence, d_values: Sequence, col: Mapping[int, int],
                    ds: list[int], above_grid: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Step line along the lower edge of the first cell with ``d >= d_values[column]``.

    Columns without a value (or, if not ``above_grid``, with a value above the largest
    grid ``d``) are gaps (NaN).
    """
    level = {}
    for x, d in zip(log2_n, d_values):
        d = number(d)
        if x not in col or d is None or d <= 0 or not ds:
            continue
        first = next((i for i, v in enumerate(ds) if v >= d), None)
        if first is not None:
            level[col[x]] = first - 0.5
        elif above_grid:
            level[col[x]] = len(ds) - 0.5
    xs, ys = [], []
    for j in range(len(col)):
        y = level.get(j, np.nan)
        xs += [j - 0.5, j + 0.5]
        ys += [y, y]
    return np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)


def _lemma3_band(ax, lemma3: Mapping[str, Any], log2_n: Sequence, col: Mapping[int, int],
                 top: float, max_d: float) -> bool:
    """Write Lemma 3's dimension (printed / corrected) in a band above each column.

    The values are usually far above the grid, so they are written, not plotted to
    scale; an up arrow marks columns where both exceed ``max_d``. Returns whether
    anything was written.
    """
    printed = lemma3.get("d_printed") or [None] * len(log2_n)
    corrected = lemma3.get("d_corrected") or [None] * len(log2_n)
    wrote = False
    for x, dp, dc in zip(log2_n, printed, corrected):
        if x not in col:
            continue
        numbers = [float(v) for v in (dp, dc) if number(v) is not None]
        if not numbers:
            continue
        values = [_si(v) for v in numbers]
        arrow = r"$\uparrow$" if min(numbers) > max_d else ""
        # One line fits up to about six columns of a half-width panel; beyond, stack.
        text = arrow + " / ".join(values) if len(col) <= 6 else arrow + "\n".join(values)
        ax.text(col[x], top + 0.55, text, ha="center", va="center", fontsize=5.5,
                linespacing=1.0, color=REFERENCE_COLOR)
        wrote = True
    if wrote:
        ax.axhspan(top + 0.1, top + 1.0, color=_LEMMA3_BAND_COLOR, lw=0, zorder=0)
    return wrote


def _min_c_panel(ax, points, log2_ns: list[int], ds: list[int]) -> None:
    """Right panel of :func:`phase_figure`: smallest working ``C`` per ``d``."""
    from matplotlib import colormaps

    cmap = colormaps["viridis"]
    by_d = group_by(points, lambda p: p.get("d"))
    for k, d in enumerate(ds):
        series = sorted((p["log2_n"], number(p.get("min_C"))) for p in by_d.get(d, [])
                        if p.get("log2_n") is not None)
        series = [(x, c) for x, c in series if c is not None]
        if not series:
            continue
        color = cmap(0.9 * k / max(1, len(ds) - 1))
        ax.plot([x for x, _ in series], [c for _, c in series], color=color,
                marker=_marker(k), ms=3, lw=0.9, label=f"$d={d}$")
    if log2_ns:
        xs = np.linspace(min(log2_ns), max(log2_ns), 50)
        ax.plot(xs, xs * math.log(2), color="black", ls="--", lw=0.9,
                label=r"$\ln n$ (eq. 16, $\varepsilon=0$)")
        # Average case: with random bits the other n-1 weights add up to about half their total, and
        # the spike e^C must beat the ~sqrt(n) spread of that sum, i.e. C > (1/2) ln n.
        ax.plot(xs, 0.5 * xs * math.log(2), color="#666666", ls="-.", lw=0.9,
                label=r"$\frac{1}{2}\ln n$ (average case)")
        ax.set_xticks(log2_ns)
    ax.set_xlabel(r"$\log_2 n$")
    ax.set_ylabel(r"smallest working $C$")
    ax.set_ylim(0, ax.get_ylim()[1] * 1.15)
    ax.set_title(rf"smallest $C$ decoding $\geq${TARGET_ACCURACY:.0%} of bits")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="upper left", ncol=2, fontsize="x-small")


# ---------------------------------------------------------------------------
# c. Theorem 8 threshold in C for approximate outputs
# ---------------------------------------------------------------------------


def threshold_figure(summary: Summary):
    """Accuracy against query scale ``C`` for each ``eta`` (Theorem 8), drawn by
    :func:`plots.panels.success_vs_C`.

    Same colour per ``eta``: measured curve (99% Wilson bars), dashed line at the exact threshold
    ``[ln n + ln((1+eta)/(1-eta))]/(1-2eps)`` with its interval over ``eps`` shaded, dotted line at
    the printed one (no ``1/(1-2eps)``), a triangle on the axis at the necessary threshold when given.
    The accuracy axis goes below chance when an adversarial approximation drives it
    there; the ``C`` axis is logarithmic when the grid spans more than a factor 8.
    """
    aspect = 0.8
    with paper(columns=1, aspect=aspect):
        fig = new_figure(1, aspect)
        ax = fig.add_subplot()
        success_vs_C(ax, summary.get("curves") or [],
                     thresholds=(("theorem_threshold", "Thm 8 threshold", "--"),
                                 ("printed_threshold", r"printed (no $\frac{1}{1-2\varepsilon}$)", ":"),
                                 ("necessary_threshold", "necessary", "^")),
                     xlabel=r"query scale $C$ ($q = C\,k_i$)", legend={"loc": "lower right"})
        eps = number(summary.get("eps_measured"))
        extra = rf", $\varepsilon={eps:.2f}$" if eps is not None else ""
        ax.set_title(title("Theorem 8", summary, ("n", "d")) + extra)
    return fig


def _minor_log_label(value: float, _pos=None) -> str:
    """Label the 2x and 5x minor ticks of a log axis, leave the others blank."""
    if value <= 0:
        return ""
    mantissa = value / 10 ** math.floor(math.log10(value) + 1e-9)
    return f"{value:g}" if round(mantissa, 6) in (2.0, 5.0) else ""


# ---------------------------------------------------------------------------
# d. Lemma 3: measured JL inner-product error against dimension
# ---------------------------------------------------------------------------

_CODEBOOK_STYLES = ("-", "--", "-.", ":")


def jl_figure(summary: Summary):
    """Measured inner-product error ``eps`` of JL codebooks against ``d`` (Lemma 3).

    Colour per ``n``, line style per codebook; the line is the mean over trials, the
    upper whisker the worst trial. Thin black lines give the ``eps`` Lemma 3 guarantees
    at that ``d`` where it is below 1/2; the grey line at ``eps = 1/2`` is where
    Theorem 6's reduction stops having a ``C``.
    """
    from matplotlib.lines import Line2D
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

    rows = [r for r in summary.get("rows", []) if r.get("n") is not None and r.get("d") is not None]
    codebooks = list(summary.get("codebooks") or dict.fromkeys(r.get("codebook") for r in rows))
    ns = sorted({r["n"] for r in rows} | set(summary.get("n_values") or []))
    ds = sorted({r["d"] for r in rows} | set(summary.get("d_values") or []))
    aspect = 1.0
    with paper(columns=1, aspect=aspect):
        fig = new_figure(1, aspect)
        ax = fig.add_subplot()
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")

        groups = group_by(rows, lambda r: (r.get("codebook"), r["n"]))
        for codebook, n in sorted(groups, key=lambda key: (_index(codebooks, key[0]), key[1])):
            data = sorted((r["d"], number(r.get("eps_mean")), number(r.get("eps_max")))
                          for r in groups[codebook, n] if number(r.get("eps_mean")) is not None)
            if not data:
                continue
            up = [max(0.0, (mx if mx is not None else m) - m) for _, m, mx in data]
            c = _index(codebooks, codebook)
            ax.errorbar([d for d, _, _ in data], [m for _, m, _ in data], yerr=[[0.0] * len(up), up],
                        color=_color(_index(ns, n)), ls=_CODEBOOK_STYLES[c % len(_CODEBOOK_STYLES)],
                        marker=MARKERS[c % len(MARKERS)], ms=3, lw=0.9, elinewidth=0.5, capsize=1.2,
                        mfc="white" if c else None)

        lemma_handles = _lemma3_guarantees(ax, _jl_guarantees(summary, rows))
        ax.axhline(0.5, color="#888888", ls="-", lw=0.8, zorder=1)
        ax.text(0.99, 0.5, r"$\varepsilon=1/2$: no $C$ in Thm 6", transform=ax.get_yaxis_transform(),
                ha="right", va="bottom", fontsize="x-small", color="#555555")

        if ds:
            ax.xaxis.set_major_locator(FixedLocator(ds))
            ax.xaxis.set_minor_locator(NullLocator())
            ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
            ax.set_xlim(min(ds) / 1.25, max(ds) * 1.25)
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        low, high = ax.get_ylim()
        if high / low < 30:  # less than ~1.5 decades: label the 2x and 5x ticks too
            ax.yaxis.set_minor_formatter(FuncFormatter(_minor_log_label))
        else:
            ax.yaxis.set_minor_formatter(FuncFormatter(lambda v, _: ""))
        ax.set_xlabel(r"dimension $d$")
        ax.set_ylabel(r"inner-product error $\varepsilon$")
        ax.set_title("Lemma 3: JL inner products")

        columns = [
            [Line2D([], [], color=_color(i), lw=1.5, label=f"$n={n}$") for i, n in enumerate(ns)],
            [Line2D([], [], color="#555555", lw=0.9, ls=_CODEBOOK_STYLES[i % len(_CODEBOOK_STYLES)],
                    marker=MARKERS[i % len(MARKERS)], ms=3, mfc="white" if i else None, label=str(cb))
             for i, cb in enumerate(codebooks)],
            lemma_handles,
        ]
        handles = _legend_columns(columns)
        if handles:
            fig.legend(handles=handles, loc="outside lower center", ncol=sum(1 for c in columns if c),
                       frameon=False)
    return fig


def _jl_guarantees(summary: Summary, rows: Sequence[Mapping[str, Any]]) -> list[dict]:
    """Lemma 3's guaranteed eps per ``(n, d)`` as ``{"n", "d", "printed", "corrected"}``.

    Accepts ``lemma3.rows`` (``guaranteed_eps_printed``/``_corrected``),
    ``lemma3.guaranteed_eps`` (``printed``/``corrected``), or, failing both, the
    ``lemma3_guaranteed_eps_*`` columns of the measurement rows.
    """
    lemma3 = summary.get("lemma3") or {}
    out: dict = {}
    for r in lemma3.get("rows") or []:
        out[r.get("n"), r.get("d")] = (r.get("guaranteed_eps_printed"), r.get("guaranteed_eps_corrected"))
    for r in lemma3.get("guaranteed_eps") or []:
        out.setdefault((r.get("n"), r.get("d")), (r.get("printed"), r.get("corrected")))
    if not out:
        for r in rows:
            out.setdefault((r.get("n"), r.get("d")),
                           (r.get("lemma3_guaranteed_eps_printed"), r.get("lemma3_guaranteed_eps_corrected")))
    return [{"n": n, "d": d, "printed": p, "corrected": c} for (n, d), (p, c) in out.items()
            if n is not None and d is not None]


def _lemma3_guarantees(ax, guarantees: Iterable[Mapping[str, Any]]) -> list:
    """Draw the ``eps`` Lemma 3 guarantees per ``n`` (thin black); return legend handles."""
    from matplotlib.lines import Line2D

    handles = []
    for key, style, label in (("printed", "-", "Lemma 3 (printed)"),
                              ("corrected", (0, (4, 1.5)), "Lemma 3 (corrected)")):
        drawn = False
        for _, members in sorted(group_by(guarantees, lambda r: r["n"]).items()):
            pts = sorted((r["d"], number(r.get(key))) for r in members)
            pts = [(d, e) for d, e in pts if e is not None and 0 < e < 0.5]
            if not pts:
                continue
            ax.plot([d for d, _ in pts], [e for _, e in pts], color="black", ls=style, lw=0.6,
                    marker="|" if len(pts) == 1 else None, zorder=2)
            drawn = True
        if drawn:
            handles.append(Line2D([], [], color="black", ls=style, lw=0.6, label=label))
    return handles


def _legend_columns(columns: Sequence[Sequence]) -> list:
    """Flatten legend columns (column-major, as matplotlib fills them), padding with blanks."""
    from matplotlib.lines import Line2D

    columns = [list(c) for c in columns if c]
    height = max((len(c) for c in columns), default=0)
    handles = []
    for column in columns:
        handles += column + [Line2D([], [], alpha=0.0, label=" ") for _ in range(height - len(column))]
    return handles


# ---------------------------------------------------------------------------
# Registry and helpers
# ---------------------------------------------------------------------------





def _index(seq: Sequence, value) -> int:
    """Position of ``value`` in ``seq`` (0 when absent)."""
    try:
        return list(seq).index(value)
    except ValueError:
        return 0


def _color(k: int) -> str:
    """The ``k``-th colour of the palette, cycling."""
    return PALETTE[k % len(PALETTE)]


def _marker(k: int) -> str:
    """The ``k``-th marker, shifted each time the palette wraps so styles stay distinct."""
    return MARKERS[(k + k // len(PALETTE)) % len(MARKERS)]


def _tint(color: str, amount: float) -> tuple[float, float, float]:
    """Mix ``color`` with white: ``amount`` 1 keeps the colour, 0 gives white."""
    from matplotlib.colors import to_rgb

    return tuple(1.0 - amount * (1.0 - c) for c in to_rgb(color))


def _log_limits(values: Sequence[float], default: tuple[float, float]) -> tuple[float, float]:
    """Padded log-axis limits around positive ``values``."""
    values = [v for v in values if v > 0]
    if not values:
        return default
    low, high = min(values), max(values)
    return (low / 1.6, high * 1.6)


def _si(value) -> str:
    """Short number: 9234 -> '9.2k', 123456 -> '123k'."""
    value = float(value)
    for scale, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= scale:
            scaled = value / scale
            return f"{scaled:.1f}{suffix}" if scaled < 10 else f"{scaled:.0f}{suffix}"
    return f"{value:.0f}"

