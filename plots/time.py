"""Figures on time: HO Theorem 19/27 (non-adaptive readers) and kNN attention.

Each function takes the summary dict of its experiment (:mod:`reductions.thm19`,
:mod:`reductions.knn`) and returns a :class:`matplotlib.figure.Figure` in the paper style;
missing or ``None`` entries are skipped.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from matplotlib.ticker import FixedLocator, FuncFormatter, NullFormatter

from plots.data import group_by, number
from plots.figures import _color, _marker
from plots.panels import accuracy_vs_memory
from plots.scalar import _rows, fit_line, xy
from plots.style import INFEASIBLE_COLOR, REFERENCE_COLOR, new_figure, one_panel_figure, paper

Summary = Mapping[str, Any]

_ESTIMATOR_STYLE = {"baseline": "-", "ratio": "--"}


def _exact_ticks(axis, values) -> None:
    """Major ticks exactly at ``values`` (plain numbers), no minor labels."""
    values = sorted({v for v in values if number(v) and v > 0})
    if values:
        axis.set_major_locator(FixedLocator(values))
        axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    axis.set_minor_formatter(NullFormatter())


def nonadaptive_figure(summary: Summary):
    """Experiment ``nonadaptive`` (HO Theorem 19): (a) success on a fair mix of ``σ`` and uniform
    ``H(i)`` vs ``s/n`` under the bound ``(1 + s/n)/2``; (b) success on ``H(i)`` and on ``σ``
    separately; (c) score reads vs ``n`` (log-log) the non-adaptive readers need for 90% success."""
    points = [p for p in _rows(summary, "points") if number(p.get("s_over_n")) is not None]
    ns = sorted({p["n"] for p in points if number(p.get("n"))})
    show_n = ns[-1] if ns else None
    here = [p for p in points if p.get("n") == show_n]
    eta = number(summary.get("eta"))
    aspect = 0.36
    with paper(columns=2, aspect=aspect):
        fig = new_figure(2, aspect)
        a, b, c = fig.subplots(1, 3)

        xs = np.linspace(0, 1, 50)
        a.fill_between(xs, (1 + xs) / 2, 1.05, color=INFEASIBLE_COLOR, lw=0, label="excluded by Thm 19")
        a.plot(xs, (1 + xs) / 2, color=REFERENCE_COLOR, lw=0.8, label=r"$(1 + s/n)/2$")
        a.axhline(0.5, color="#888888", lw=0.6, ls=":")
        groups = group_by(here, lambda p: (p.get("reader"), p.get("estimator")))
        for j, ((reader, estimator), members) in enumerate(groups.items()):
            rows = sorted((p for p in members if number(p.get("success_mixture")) is not None),
                          key=lambda p: p["s_over_n"])
            if not rows:
                continue
            ys = [p["success_mixture"] for p in rows]
            low = [(number(p.get("success_H_low"), y) + number(p.get("success_sigma_low"), y)) / 2 for p, y in zip(rows, ys)]
            high = [(number(p.get("success_H_high"), y) + number(p.get("success_sigma_high"), y)) / 2
                    for p, y in zip(rows, ys)]
            a.errorbar([p["s_over_n"] for p in rows], ys,
                       yerr=[[max(0.0, y - lo) for y, lo in zip(ys, low)], [max(0.0, hi - y) for y, hi in zip(ys, high)]],
                       color=_color(j // 2), marker=_marker(j // 2), ls=_ESTIMATOR_STYLE.get(estimator, "-"), lw=0.9,
                       ms=2.5, elinewidth=0.4, capsize=1.0, label=f"{reader}, {estimator}")
        a.set_xlim(0, 1)
        a.set_ylim(0.2, 1.03)
        a.set_xlabel(r"score reads $s/n$ (fixed before the data)")
        a.set_ylabel(r"P(success), $\frac{1}{2}\sigma + \frac{1}{2}H(i)$")
        a.set_title("non-adaptive" + (f", n = {show_n}" if show_n else "") + (rf", $\eta$ = {eta:g}" if eta else ""))
        a.legend(loc="lower right", fontsize=4.5)

        uniform = [p for p in here if p.get("reader") == "uniform"]
        for j, (estimator, members) in enumerate(group_by(uniform, lambda p: p.get("estimator")).items()):
            for key, style, name in (("success_H", "-", "H(i)"), ("success_sigma", ":", "σ")):
                pts = xy(members, "s_over_n", key, positive=False)
                if pts:
                    b.plot(*zip(*pts), color=_color(j), marker=_marker(j) if style == "-" else None, ms=2.5, lw=0.9,
                           ls=style, label=f"{name}, {estimator}")
        b.plot(xs, xs, color=REFERENCE_COLOR, lw=0.8, label=r"$s/n$")
        b.set_xlim(0, 1)
        b.set_ylim(-0.03, 1.03)
        b.set_xlabel(r"$s/n$")
        b.set_ylabel("P(success)")
        b.set_title("uniform reader: each instance")
        b.legend(loc="center right", fontsize=4.5)

        reads_panel(c, summary)
    return fig


def adaptive_figure(summary: Summary):
    """Experiment ``adaptive``: score reads vs ``n`` (log-log) of the adaptive readers on ``H(i)`` and
    ``σ``, with their worst success."""
    return one_panel_figure(reads_panel, summary)


def reads_panel(c, summary: Summary) -> None:
    """Score reads vs ``n`` (log-log): the reads the non-adaptive readers need for 90% success
    (``summary["needed"]``) and the adaptive readers' reads (``summary["adaptive"]``), whichever are present."""
    needed = xy(_rows(summary, "needed"), "n", "reads")
    everything = [v for pair in needed for v in pair]
    if needed:
        slope = fit_line(c, needed, _color(0))
        c.plot(*zip(*needed), color=_color(0), marker=_marker(0), lw=0.9,
               label="non-adaptive, 90% on both" + (f" (slope {slope:.2f})" if slope is not None else ""))
    adaptive = _rows(summary, "adaptive")
    for j, (method, members) in enumerate(group_by(adaptive, lambda r: r.get("method")).items(), start=1):
        for key, style, which in (("reads_H_mean", "-", "H(i)"), ("reads_sigma_mean", ":", "σ")):
            pts = xy(members, "n", key)
            if not pts:
                continue
            everything += [v for pair in pts for v in pair]
            slope = fit_line(c, pts, _color(j))
            c.plot(*zip(*pts), color=_color(j), marker=_marker(j), ls=style, lw=0.9,
                   mfc="white" if which == "σ" else None,
                   label=f"{method} on {which}" + (f" (slope {slope:.2f})" if slope is not None else ""))
        rates = [min(v for v in (number(r.get("success_H")), number(r.get("success_sigma"))) if v is not None)
                 for r in members if number(r.get("success_H")) is not None or number(r.get("success_sigma")) is not None]
        if rates:
            c.plot([], [], ls="none", label=f"  {method}: worst success {min(rates):.0%}")
    grid = sorted({x for x, _ in needed} | {x for r in adaptive for x in [number(r.get("n"))] if x})
    if grid:
        c.plot(grid, grid, color=REFERENCE_COLOR, lw=0.6, ls="-.", label="n")
    c.set_xscale("log")
    c.set_yscale("log")
    _exact_ticks(c.xaxis, grid)  # ticks at the measured n only: no crowded minor labels
    if everything:
        c.set_ylim(min(everything) / 1.5, max(everything) * 40)  # room for the legend above the data
    c.set_xlabel(r"tokens $n$")
    c.set_ylabel("score reads on the last token")
    c.set_title("score reads vs n")
    if grid:
        c.legend(loc="upper left", fontsize=4.3)


def knn_estimator_panels(a, b, c, summary: Summary) -> None:
    """(a) error vs samples, (b) error vs k (top-k renormalised is biased), (c) score reads per query vs k."""
    estimator = _rows(summary, "estimator")
    inputs = list(dict.fromkeys(r.get("inputs") for r in estimator))
    tops = []
    for j, kind in enumerate(inputs):
        for prefix, style in (("sample", "-"), ("median", "--")):
            rows = [r for r in estimator if r.get("inputs") == kind and (
                r.get("method") == "sample" if prefix == "sample" else str(r.get("method", "")).startswith(prefix))]
            pts = xy(rows, "samples", "error_mean")
            if pts:
                tops.append(pts[0])
                name = "mean" if prefix == "sample" else str(rows[0].get("method"))
                a.plot(*zip(*pts), color=_color(j), marker=_marker(j), ls=style, lw=0.9, ms=2.5,
                       label=f"{kind}, {name}")
    if tops:
        x0, y0 = max(tops, key=lambda t: t[1])
        grid = np.geomspace(x0, max(x for x, _ in xy(estimator, "samples", "error_mean")), 20)
        a.plot(grid, y0 * np.sqrt(x0 / grid), color=REFERENCE_COLOR, lw=0.6, ls=":", label=r"$\propto 1/\sqrt{m}$")
        a.legend(loc="upper right", fontsize=4.5)
    a.set_xscale("log")
    a.set_yscale("log")
    a.set_xlabel("samples $m$")
    a.set_ylabel("error / value scale")
    a.set_title(r"lazy-Gumbel estimator, $k=\sqrt{n}$")

    drawn_b = drawn_c = False
    for j, kind in enumerate(inputs):
        for method, style, label in (("topk", "-", "top-k renormalised"), ("sample@k", "--", "16 samples")):
            rows = [r for r in estimator if r.get("inputs") == kind and r.get("method") == method]
            pts = [(x, max(y, 1e-6)) for x, y in xy(rows, "k", "error_mean", positive=False) if x > 0]
            if pts:
                b.plot(*zip(*pts), color=_color(j), marker=_marker(j), ls=style, lw=0.9, ms=2.5,
                       label=f"{kind}, {label}")
                drawn_b = True
            reads = xy(rows, "k", "reads_mean")
            if method == "sample@k" and reads:
                c.plot(*zip(*reads), color=_color(j), marker=_marker(j), lw=0.9, ms=2.5, label=f"{kind}, 16 samples")
                drawn_c = True
    b.set_xscale("log")
    b.set_yscale("log")
    b.set_xlabel("k")
    b.set_ylabel("error / value scale")
    b.set_title("error vs k (top-k is biased)")
    if drawn_b:
        b.legend(loc="lower left", fontsize=4.5)
    n = number(summary.get("n"))
    ks = sorted({x for x, _ in xy(estimator, "k", "k")})
    if n and ks:
        grid = np.geomspace(min(ks), max(ks), 40)
        c.plot(grid, grid, color=REFERENCE_COLOR, lw=0.6, ls=":", label="k (top-k only)")
        c.plot(grid, np.minimum(n, grid + 16 * n / grid), color=REFERENCE_COLOR, lw=0.6, ls="--",
               label=r"$\min(n, k + 16n/k)$")
        drawn_c = True
    c.set_xscale("log")
    c.set_yscale("log")
    c.set_xlabel("k")
    c.set_ylabel("score reads per query")
    c.set_title("cost vs k")
    if drawn_c:
        c.legend(loc="lower right", fontsize=4.5)


def knn_forward_panel(d, summary: Summary) -> None:
    """Score reads of the causal forward pass vs n, kNN (k = sqrt(i)) and exact."""
    forward = _rows(summary, "forward")
    last = None
    for j, (key, label) in enumerate((("knn_reads", "kNN, k = sqrt(i)"), ("exact_reads", "exact"))):
        pts = xy(forward, "n", key)
        if pts:
            slope = fit_line(d, pts, _color(j))
            d.plot(*zip(*pts), color=_color(j), marker=_marker(j), lw=0.9,
                   label=label + (f" (slope {slope:.2f})" if slope is not None else ""))
            if key == "knn_reads":
                last = pts[-1]
    if last:
        ns = np.array(sorted({x for x, _ in xy(forward, "n", "n")}), dtype=float)
        d.plot(ns, last[1] * (ns / last[0]) ** 1.5, color=REFERENCE_COLOR, lw=0.6, ls=":", label=r"$\propto n^{1.5}$")
    d.set_xscale("log")
    d.set_yscale("log")
    _exact_ticks(d.xaxis, [x for x, _ in xy(forward, "n", "n")])
    d.set_xlabel(r"tokens $n$")
    d.set_ylabel("score reads, whole causal pass")
    d.set_title("forward pass")
    if forward and d.get_legend_handles_labels()[0]:
        d.legend(loc="upper left", fontsize=4.5)


def knn_gradients_panel(e, summary: Summary) -> None:
    """Relative error of the dV and dQ estimators vs samples, and of the mean of the repeats (bias)."""
    slopes = summary.get("slopes") if isinstance(summary.get("slopes"), Mapping) else {}
    grads = _rows(summary, "gradients")
    for j, (name, rows) in enumerate(group_by(grads, lambda r: r.get("gradient")).items()):
        pts = xy(rows, "samples", "error_mean")
        if pts:
            slope = number(slopes.get(f"{name}_error_vs_samples"))
            e.plot(*zip(*pts), color=_color(j), marker=_marker(j), lw=0.9,
                   label=f"{name}" + (f" (slope {slope:.2f})" if slope is not None else ""))
        bias = xy(rows, "samples", "bias_of_mean")
        if bias:
            e.plot(*zip(*bias), color=_color(j), ls=":", lw=0.8, label=f"{name}: mean of {rows[0].get('repeats')} runs")
    e.set_xscale("log")
    e.set_yscale("log")
    _exact_ticks(e.xaxis, [x for x, _ in xy(grads, "samples", "samples")])
    e.set_xlabel("samples s (dQ: s per row; dV: n·s per column)")
    e.set_ylabel("relative Frobenius error")
    e.set_title("gradient estimators")
    if e.get_legend_handles_labels()[0]:
        e.legend(loc="lower left", fontsize=4.5)


def knn_game_panel(f, summary: Summary) -> None:
    """The kNN caches and the exact one in HO Theorem 6's INDEX game, under the Fano frontier."""
    points = [p for p in _rows(summary, "points") if number(p.get("accuracy")) is not None]

    def variant(p) -> str:
        label = str(p.get("cache", "?")).split("(")[0]
        if "method='topk'" in str(p.get("cache")):
            label += " (top-k)"
        elif "KNN" in label:
            label += " (samples)"
        return label

    def shown(label, members) -> str:  # one point per variant: its memory ratio and accuracy
        p = members[0]
        return f"{label}: {number(p.get('memory_ratio'), 0):.1f}, {p['accuracy']:.3f}"

    # Where the memories coincide the variants overlap at their true positions: each is drawn a size
    # smaller and hollow over the one before, so every marker stays visible (the labels give the values).
    variants = list(dict.fromkeys(variant(p) for p in points))
    styles = {v: {"ms": max(2.0, 6.0 - 1.6 * k), "mfc": "none" if k else None, "zorder": 3 + k}
              for k, v in enumerate(variants)}
    accuracy_vs_memory(f, summary, points=points, series=variant, label=shown, ylim=(0.45, 1.05), styles=styles,
                       always_shown=(1e-3, 10.0), frontier_label=False)
    game = summary.get("game") if isinstance(summary.get("game"), Mapping) else {}
    f.set_title("INDEX game" + (f", n={game.get('n')}, d={game.get('d')}" if game.get("n") else ""))
    probes = number(game.get("index_probes_mean"))
    if probes is not None:
        f.text(0.97, 0.13, f"norm index probes/query: {probes:.0f} of {game.get('n')}", transform=f.transAxes,
               ha="right", fontsize="x-small", color=REFERENCE_COLOR)
    if f.get_legend_handles_labels()[0]:
        f.legend(loc="upper left", fontsize=4.5)


def knn_error_figure(summary: Summary):
    """Experiment ``knn_error``: error vs samples, error vs k, score reads per query vs k."""
    with paper(columns=2, aspect=0.34):
        fig = new_figure(2, 0.34)
        knn_estimator_panels(*fig.subplots(1, 3), summary)
    return fig


def knn_forward_figure(summary: Summary):
    """Experiment ``knn_forward``: causal forward-pass score reads vs n."""
    return one_panel_figure(knn_forward_panel, summary)


def knn_gradients_figure(summary: Summary):
    """Experiment ``knn_gradients``: gradient-estimator error vs samples."""
    return one_panel_figure(knn_gradients_panel, summary)


def knn_game_figure(summary: Summary):
    """Experiment ``knn_game``: the kNN caches in HO Theorem 6's INDEX game."""
    return one_panel_figure(knn_game_panel, summary)
