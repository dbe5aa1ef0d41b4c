"""Figures of the sliding-window results (HO §4, Algorithm 1, Theorems 17/24-26, Corollary 16).

One function per figure, each taking the summary its experiment writes and returning a
:class:`matplotlib.figure.Figure` in the paper style (:mod:`plots.style`):

* :func:`window_figure` (``window``): INDEX accuracy vs memory over ``W·d`` under the Fano frontier,
  and accuracy vs C for the worst ``(1±η)`` output with eq. 84 printed and corrected;
* :func:`window_memory_figure` (``window_memory``): memory for 99% accuracy against ``n`` and ``W·d``;
* :func:`alg1_figure` (``alg1``): bias, variance bound, copies, and the ``|Attn_W| = Ω(1)`` assumption;
* :func:`cor16_figure` (``cor16``): sparsity of Theorem 6's attention row, and decoding on those instances.

Missing keys and ``None`` values are skipped, so partial or empty summaries still plot.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from plots.data import empty_note, family_name, group_by, number, series_style
from plots.panels import accuracy_vs_memory, default_style, memory_vs_n, success_vs_C
from plots.style import (
    FAILURE_COLOR,
    PALETTE,
    SUCCESS_COLOR,
    new_figure,
    paper,
)

Summary = Mapping[str, Any]
ACCURACY_LIMITS = (0.3, 1.03)
ZOO_COLOR = "#AAAAAA"


# --- helpers ------------------------------------------------------------------------------------










def _legend(ax, **kwargs) -> None:
    """A legend only if something is labelled."""
    if ax.get_legend_handles_labels()[0]:
        ax.legend(**kwargs)




# --- window: Theorem 26 -------------------------------------------------------------------------

_WINDOW_FAMILIES = {
    "RunningSumWindowCache": ("running sum (exact)", 0),
    "Algorithm1Cache": ("HO Algorithm 1", 1),
    "BoostedWindowCache": ("HO Thm 25 (T=8, Q=3)", 2),
    "WindowCache": ("plain window", 4),
    "WindowHashedBitsCache": ("designed window (hashes + bits)", 6),
}


def _window_group(point: Mapping) -> str:
    role = str(point.get("role") or "zoo")
    if role == "window algorithm":
        return family_name(point)
    return role


def window_figure(summary: Summary):
    """HO Theorem 26: accuracy vs memory over ``W·d`` (left) and accuracy vs C for the worst output (right).

    Left: the window algorithms at attention window ``W+1`` (colours), the running sum with window
    ``W`` that ignores Bob's shift (red cross), smaller windows (dashed) and the zoo (grey), under
    the Fano frontier. Right: one curve per η; vertical lines at the corrected threshold (solid),
    eq. 84 as printed (dashed) and where the adversary hides the spike (dotted).
    """
    aspect = 0.46
    with paper(columns=2, aspect=aspect):
        fig = new_figure(2, aspect)
        left, right = fig.subplots(1, 2)
        points = [p for p in summary.get("points") or [] if number(p.get("accuracy")) is not None]
        styles = {name: {**series_style(k), "label": label} for name, (label, k) in _WINDOW_FAMILIES.items()}
        styles["window W: Bob's shift ignored"] = {"color": FAILURE_COLOR, "marker": "X", "ms": 5, "lw": 0,
                                                   "label": "running sum, window W (shift ignored)", "zorder": 4}
        styles["smaller window"] = {"color": PALETTE[0], "marker": "o", "ls": "--", "ms": 2.5, "lw": 0.7,
                                    "label": "running sum, window < W+1"}
        zoo = [p for p in points if _window_group(p) == "zoo"]
        styles["zoo"] = {"color": ZOO_COLOR, "marker": "o", "ls": "none", "ms": 2, "zorder": 2,
                         "label": f"zoo ({len(zoo)} caches)"}
        accuracy_vs_memory(left, summary, points=points, series=_window_group, styles=styles, ylim=ACCURACY_LIMITS,
                           xlabel=r"memory ratio (bits / $W{\cdot}d$)")
        title = "INDEX through sliding windows"
        if summary.get("W") is not None and summary.get("d") is not None:
            title += f", $W={summary['W']}$, $d={summary['d']}$, $n={summary.get('n', '?')}$"
        left.set_title(title)
        _legend(left, loc="upper left", fontsize=5.5)
        _threshold_panel(right, summary)
    return fig


def _threshold_panel(ax, summary: Summary) -> None:
    """Accuracy vs C (:func:`plots.panels.success_vs_C`) of the worst ``(1±η)`` output, with the
    corrected threshold (solid), eq. 84 as printed (dashed) and where the adversary hides (dotted)."""
    curves = [c for c in summary.get("curves") or [] if c.get("C") and c.get("accuracy")]
    success_vs_C(ax, curves, log_x=True, ylim=ACCURACY_LIMITS, ms=3,
                 thresholds=(("corrected_threshold", "corrected threshold", "-"),
                             ("printed_eq84", "eq. 84 as printed", "--"),
                             ("hiding_limit", "adversary hides spike", ":")),
                 legend={"loc": "lower right", "fontsize": 5.5})
    ax.set_title(r"worst $(1\pm\eta)$ output of the exact running sum")


# --- window_memory -----------------------------------------------------------------------------------


def window_memory_figure(summary: Summary):
    """Memory needed for 99% accuracy against ``n`` at fixed ``W`` (left) and against ``W·d`` (right).

    One line per cache family (only configurations that reached the target are drawn); the
    horizontal/diagonal black line is the Fano minimum ``(1 - H_2(0.01))·W·d`` bits.
    """
    aspect = 0.46
    points = [p for p in summary.get("points") or [] if number(p.get("memory_bits")) is not None]
    target = number(summary.get("target"), 0.99)
    fano = number(summary.get("fano_min_ratio"))
    with paper(columns=2, aspect=aspect):
        fig = new_figure(2, aspect)
        left, right = fig.subplots(1, 2)
        families = list(group_by(points, family_name))
        styles = {family: default_style(k) for k, family in enumerate(families)}
        for ax, sweep, xkey in ((left, "n", "n"), (right, "W", "Wd")):
            chosen = [p for p in points if p.get("sweep") == sweep and p.get("reached")]
            references = []
            if fano is not None:
                if sweep == "n":
                    Wd = next((p["W"] * p["d"] for p in chosen if p.get("W") and p.get("d")), None)
                    if Wd:
                        references.append(("Fano minimum", fano * Wd, {"color": "black", "lw": 1.0, "ls": "-"}))
                else:
                    references.append(("Fano minimum", lambda x: fano * x, {"color": "black", "lw": 1.0, "ls": "-"}))
            memory_vs_n(ax, {family: [(_x(p, xkey), p["memory_bits"]) for p in members]
                             for family, members in group_by(chosen, family_name).items()},
                        styles=styles, references=references, legend=False,
                        ylabel=f"memory (bits) for {100 * target:g}% accuracy")
        left.set_xlabel(r"tokens $n$")
        left.set_title(rf"fixed $W={summary.get('W_fixed', '?')}$, $d={summary.get('d', '?')}$")
        right.set_xlabel(r"$W \cdot d$ (bits encoded)")
        right.set_title(rf"fixed $n={summary.get('n_fixed', '?')}$")
        handles, labels = left.get_legend_handles_labels()
        more = [(h, lab) for h, lab in zip(*right.get_legend_handles_labels()) if lab not in labels]
        handles += [h for h, _ in more]
        if handles:
            fig.legend(handles=handles, loc="outside lower center", ncol=min(5, len(handles)), frameon=False)
    return fig


def _x(point: Mapping, key: str) -> float | None:
    if key == "n":
        return number(point.get("n"))
    W, d = number(point.get("W")), number(point.get("d"))
    return W * d if W and d else None


# --- alg1 ---------------------------------------------------------------------------------------------


def alg1_figure(summary: Summary):
    """HO Algorithm 1 and Theorems 24-25 in four panels.

    (a) bias per step on the ``outside`` stream: Algorithm 1 (mean of R runs, with its Bonferroni
    level), the running sum (rounding only) and the plain window cache; (b) exact variance against
    ``||V||_∞ E[O]`` for every stream (the bound is the diagonal); (c) relative error against copies
    ``T`` for Q = 1 and 5; (d) relative error of a fixed boosted cache along the stream: it grows where
    ``|Attn_W|`` shrinks.
    """
    aspect = 0.72
    streams = {s.get("stream"): s for s in summary.get("streams") or [] if isinstance(s, Mapping)}
    with paper(columns=2, aspect=aspect):
        fig = new_figure(2, aspect)
        (a, b), (c, d) = fig.subplots(2, 2)
        _bias_panel(a, streams.get("outside") or next(iter(streams.values()), {}))
        _variance_panel(b, streams)
        _copies_panel(c, streams)
        _along_panel(d, streams)
    return fig


def _bias_panel(ax, stream: Mapping) -> None:
    bias = stream.get("bias") or {}
    steps = bias.get("steps") or []
    ax.set_yscale("log")
    floor = 1e-17
    series = (
        ("window_cache_max_abs_bias", "plain window (drops old values)", FAILURE_COLOR, "-"),
        ("alg1_max_abs_bias", f"HO Alg. 1, mean of {bias.get('runs', 'R')} runs", PALETTE[0], "-"),
        ("alg1_threshold_level", "Alg. 1 test level (Bonferroni)", PALETTE[0], "--"),
        ("running_sum_max_abs_error", "running sum (rounding only)", SUCCESS_COLOR, "-"),
    )
    drawn = False
    for key, label, color, ls in series:
        values = bias.get(key) or []
        pts = [(s, max(number(v, floor), floor)) for s, v in zip(steps, values) if number(v) is not None]
        if pts:
            ax.plot([s for s, _ in pts], [v for _, v in pts], color=color, ls=ls, lw=0.8, label=label)
            drawn = True
    if drawn:
        ax.legend(loc="center right", fontsize=5.5)
    else:
        empty_note(ax)
    ax.set_xlabel("step $i$")
    ax.set_ylabel(r"max$_j$ |mean $-$ Attn$_W$|")
    ax.set_title(f"(a) bias, stream '{stream.get('stream', '?')}'")


def _variance_panel(ax, streams: Mapping) -> None:
    ax.set_xscale("log")
    ax.set_yscale("log")
    lows, highs = [], []
    for k, (name, stream) in enumerate(streams.items()):
        scatter = (stream.get("variance") or {}).get("scatter") or {}
        pts = [(x, y) for x, y in zip(scatter.get("bound") or [], scatter.get("variance") or [])
               if number(x) and number(y) and x > 0 and y > 0]
        if not pts:
            continue
        viol = (stream.get("variance") or {}).get("violations")
        style = series_style(k)
        ax.scatter([x for x, _ in pts], [y for _, y in pts], s=4, color=style["color"], marker=style["marker"],
                   label=f"{name} ({viol} violations)" if viol is not None else str(name), alpha=0.8, lw=0)
        lows.append(min(min(x, y) for x, y in pts))
        highs.append(max(max(x, y) for x, y in pts))
    if lows:
        lo, hi = min(lows), max(highs)
        ax.plot([lo, hi], [lo, hi], color="black", lw=0.8, label=r"Var $= \|V\|_\infty E[O]$")
        ax.legend(loc="upper left", fontsize=5.5, markerscale=2)
    else:
        empty_note(ax)
    ax.set_xlabel(r"$\|V\|_\infty \, E[O_{ij}]$")
    ax.set_ylabel(r"Var$[O_{ij}]$ (exact)")
    ax.set_title("(b) Theorem 25's variance bound")


def _copies_panel(ax, streams: Mapping) -> None:
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    drawn = False
    for k, (name, stream) in enumerate((n, s) for n, s in streams.items() if s.get("copies")):
        style = series_style(k)
        for groups, members in group_by(stream["copies"], lambda r: r.get("groups")).items():
            pts = sorted((r["copies"], r["median_relative_error"]) for r in members
                         if number(r.get("copies")) and number(r.get("median_relative_error")))
            if not pts:
                continue
            ls = "-" if groups == 1 else "--"
            ax.plot([x for x, _ in pts], [y for _, y in pts], color=style["color"], marker=style["marker"], ms=3,
                    ls=ls, label=f"{name}, Q={groups}")
            drawn = True
        first = [r for r in stream["copies"] if r.get("groups") == 1]
        pred = sorted((r["copies"], 0.6745 * r["predicted_relative_error"]) for r in first
                      if number(r.get("predicted_relative_error")))
        if pred:
            ax.plot([x for x, _ in pred], [y for _, y in pred], color=style["color"], lw=0.6, ls=":",
                    label=f"{name}: CLT median, Q=1")
    if drawn:
        ax.legend(loc="lower left", fontsize=5.5)
    else:
        empty_note(ax)
    ax.set_xlabel("copies per mean $T$")
    ax.set_ylabel("median relative error (last step)")
    ax.set_title("(c) boosting: relative error vs copies")


def _along_panel(ax, streams: Mapping) -> None:
    ax.set_xscale("log")
    ax.set_yscale("log")
    drawn = False
    label_config = ""
    for k, (name, stream) in enumerate((n, s) for n, s in streams.items() if s.get("along")):
        along = stream["along"]
        label_config = f"T={along.get('copies')}, Q={along.get('groups')}"
        pts = [(s, e) for s, e in zip(along.get("steps") or [], along.get("median_relative_error") or [])
               if number(s) and number(e) and e > 0]
        if not pts:
            continue
        style = series_style(k)
        ax.plot([x for x, _ in pts], [y for _, y in pts], color=style["color"], marker=style["marker"], ms=2.5,
                label=name)
        drawn = True
    if drawn:
        ax.legend(loc="upper left", fontsize=5.5)
    else:
        empty_note(ax)
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    ax.xaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel("step $i$")
    ax.set_ylabel("median relative error")
    ax.set_title(rf"(d) fixed {label_config or 'T, Q'}: when $|$Attn$_W| \to 0$")


# --- cor16 --------------------------------------------------------------------------------------------


def cor16_figure(summary: Summary):
    """HO Corollary 16: how sparse Theorem 6's attention row is (left), and decoding on it (right).

    Left: over Bob's rows, the smallest fraction of the ``n+1`` weights below ``tau`` at the paper's
    C (solid) and at the eq. 16 threshold (dashed), per ``d``, with the guaranteed ``n/(n+1)`` and the
    0.99 promise. Right: accuracy vs memory over ``n·d`` on the same instances, under the Fano frontier.
    """
    aspect = 0.46
    cells = [c for c in summary.get("cells") or [] if isinstance(c, Mapping)]
    with paper(columns=2, aspect=aspect):
        fig = new_figure(2, aspect)
        left, right = fig.subplots(1, 2)
        left.set_xscale("log", base=2)
        ns = sorted({c["n"] for c in cells if number(c.get("n"))})
        by_d = sorted(group_by(cells, lambda c: c.get("d")).items(), key=lambda kv: kv[0] or 0)
        for k, (d, members) in enumerate(by_d):
            style = series_style(k)
            for key, ls, suffix in (("near_zero_fraction_min", "-", "paper's C"),
                                    ("near_zero_fraction_min_at_threshold", "--", "threshold C")):
                pts = sorted((c["n"], c[key]) for c in members if number(c.get(key)) is not None)
                if pts:
                    left.plot([x for x, _ in pts], [y for _, y in pts], color=style["color"], marker=style["marker"],
                              ms=3, ls=ls, label=f"$d={d}$, {suffix}")
        if ns:
            left.plot(ns, [n / (n + 1) for n in ns], color="black", lw=0.6, ls=":", label=r"$n/(n+1)$ (guaranteed)")
        left.axhline(summary.get("promise") or 0.99, color=FAILURE_COLOR, lw=0.8, label="0.99 promise")
        if not cells:
            empty_note(left)
        left.set_xlabel(r"tokens $n$")
        left.set_ylabel(rf"fraction of weights $\leq \tau = {summary.get('tau', 'tau')}$")
        left.set_title("Bob's attention row (min over rows)")
        _legend(left, loc="lower right", fontsize=5.5)
        points = [p for p in summary.get("points") or [] if number(p.get("accuracy")) is not None]
        families = list(group_by(points, family_name))
        # Families at the same memory and accuracy overlap where they are: each later one is drawn
        # smaller and white-filled on top, so every marker stays visible as a ring.
        styles = {name: {**series_style(k), "label": name, "lw": 0, "ms": max(2.2, 5.2 - 0.8 * k),
                         "mfc": "white" if k else None, "zorder": 3 + 0.1 * k} for k, name in enumerate(families)}
        accuracy_vs_memory(right, summary, points=points, styles=styles, ylim=ACCURACY_LIMITS)
        right.set_title("decoding the same sparse instances")
        _legend(right, loc="upper left", fontsize=5.5)
    return fig
