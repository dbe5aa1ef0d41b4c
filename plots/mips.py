"""Figures of the counted maximum-inner-product index (:mod:`caches.mips`): experiments
``adaptive_index`` (:mod:`reductions.thm19`) and ``knn_index`` (:mod:`reductions.knn`).

Each function takes the experiment's summary and returns a :class:`matplotlib.figure.Figure`
built with :func:`plots.style.new_figure`; each series has its own colour, marker and line style
(:func:`plots.panels.default_style`), which its legend swatch shows.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from plots.data import empty_note, group_by, number
from plots.panels import default_style
from plots.style import REFERENCE_COLOR, new_figure, paper
from plots.time import _exact_ticks

Summary = Mapping[str, Any]

_INSTANCE = {"H": "H(i)", "sigma": "σ", "gauss": "Gaussian"}


def _points(summary: Summary) -> list[dict]:
    points = summary.get("points") if isinstance(summary, Mapping) else None
    return [p for p in points or [] if isinstance(p, Mapping) and number(p.get("n")) is not None]


def _errorbar(ax, rows, key: str, style: dict, label: str, bounds: tuple[str, str] | None = None) -> None:
    rows = [r for r in rows if number(r.get(key)) is not None]
    if not rows:
        return
    ys = [r[key] for r in rows]
    lo_key, hi_key = bounds or (f"{key}_low", f"{key}_high")
    low = [max(0.0, y - number(r.get(lo_key), y)) for r, y in zip(rows, ys)]
    high = [max(0.0, number(r.get(hi_key), y) - y) for r, y in zip(rows, ys)]
    ax.errorbar([r["n"] for r in rows], ys, yerr=[low, high], lw=0.9, ms=2.5, elinewidth=0.4, capsize=1.0,
                label=label, **style)


def adaptive_index_figure(summary: Summary):
    """Experiment ``adaptive_index``: per estimator (columns), success within ``(1±η)`` vs ``n`` (99% Wilson,
    top) and reads/n vs ``n`` (99% bootstrap, bottom), one series per (instance family, index)."""
    points = _points(summary)
    methods = list(dict.fromkeys(p.get("method") for p in points)) or [None]
    keys = list(dict.fromkeys((p.get("family"), p.get("instance"), p.get("index")) for p in points))
    eta = number(summary.get("eta")) if isinstance(summary, Mapping) else None
    with paper(columns=2, aspect=0.62):
        fig = new_figure(2, 0.62)
        axes = fig.subplots(2, len(methods), squeeze=False)
        for c, method in enumerate(methods):
            a, b = axes[0][c], axes[1][c]
            for j, key in enumerate(keys):
                rows = sorted((p for p in points if p.get("method") == method
                               and (p.get("family"), p.get("instance"), p.get("index")) == key), key=lambda p: p["n"])
                family, instance, index = key
                name = family if family != "HO" else f"HO {_INSTANCE.get(instance, instance)}"
                _errorbar(a, rows, "success", default_style(j), f"{name}, {index}")
                _errorbar(b, rows, "reads_over_n", default_style(j), f"{name}, {index}")
            a.set_ylim(-0.03, 1.03)
            a.set_ylabel(r"P(within $1\pm\eta$)")
            a.set_title(f"{method or 'no data'}: success" + (rf", $\eta$ = {eta:g}" if eta else ""))
            b.set_yscale("log")
            b.axhline(1.0, color=REFERENCE_COLOR, lw=0.6, ls=":")
            b.set_ylabel("score reads / n")
            b.set_title(f"{method or 'no data'}: reads / n (index + estimator)")
            for ax in (a, b):
                ax.set_xscale("log")
                _exact_ticks(ax.xaxis, [p["n"] for p in points])
                ax.set_xlabel(r"tokens $n$")
            if not points:
                empty_note(a)
                empty_note(b)
        if points:
            fig.legend(*axes[0][0].get_legend_handles_labels(), loc="outside right center", fontsize=4.5,
                       frameon=False)
    return fig


def knn_index_figure(summary: Summary):
    """Experiment ``knn_index``: (a) score reads per query vs ``n`` (log-log) and (b) error mean and 90th
    percentile vs ``n`` (value-scale units, 99% bootstrap), the exact top-k oracle beside the IVF index."""
    points = _points(summary)
    with paper(columns=2, aspect=0.4):
        fig = new_figure(2, 0.4)
        a, b = fig.subplots(1, 2)
        for j, (method, members) in enumerate(group_by(points, lambda p: p.get("method")).items()):
            rows = sorted(members, key=lambda p: p["n"])
            style = default_style(j)
            _errorbar(a, rows, "reads_mean", style, str(method), bounds=("reads_low", "reads_high"))
            _errorbar(b, rows, "error_mean", style, f"{method}, mean")
            _errorbar(b, rows, "error_p90", {**style, "ls": ":", "mfc": "white"}, f"{method}, p90")
        ns = sorted({p["n"] for p in points})
        if ns:
            a.plot(ns, ns, color=REFERENCE_COLOR, lw=0.6, ls="-.", label="n (exact attention)")
        a.set_xscale("log")
        a.set_yscale("log")
        a.set_xlabel(r"keys $n$")
        a.set_ylabel("score reads per query")
        a.set_title("cost")
        b.set_xscale("log")
        b.set_xlabel(r"keys $n$")
        b.set_ylabel("error / value scale")
        b.set_title("error vs exact attention")
        for ax in (a, b):
            _exact_ticks(ax.xaxis, ns)
        if points:
            a.legend(loc="upper left", fontsize=4.5)
            b.legend(loc="upper left", fontsize=4.2, ncol=2)
            top = max(number(p.get("error_p90_high"), 0.0) or 0.0 for p in points)
            b.set_ylim(0, 1.6 * top if top > 0 else 1)
        else:
            empty_note(a)
            empty_note(b)
    return fig
