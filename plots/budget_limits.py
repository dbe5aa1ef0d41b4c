"""Figures of :mod:`reductions.budget_limits`: the zoo at three query scales, the designed cache's memory vs n."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from plots.data import empty_note, family_name, number
from plots.panels import accuracy_vs_memory, default_style, memory_vs_n
from plots.style import new_figure, paper

Summary = Mapping[str, Any]


def _family_label(points: list) -> str:
    return str(points[0].get("label") or family_name(points[0]))


def budget_c_figure(summary: Summary):
    """Three accuracy-vs-memory panels side by side, one per query scale C (the paper's, just above
    eq. 16, the smallest working C), one style per family shared by the panels, legend below."""
    panels = list(summary.get("panels") or [])
    order: list[str] = []
    for panel in panels:
        for point in panel.get("points") or []:
            if family_name(point) not in order:
                order.append(family_name(point))
    styles = {family: default_style(k) for k, family in enumerate(order)}
    with paper(columns=2, aspect=0.42):
        fig = new_figure(2, 0.42)
        axes = fig.subplots(1, max(1, len(panels)), sharey=True)
        axes = list(axes) if len(panels) > 1 else [axes]
        for ax, panel in zip(axes, panels):
            points = panel.get("points") or []
            accuracy_vs_memory(ax, summary, points=points, styles=styles, series=family_name,
                               label=lambda family, members: _family_label(members),
                               always_shown=(0.5, 1.0, 2.0), frontier_label=ax is axes[0],
                               ylabel="fraction of bits decoded" if ax is axes[0] else "")
            C = number(panel.get("C"))
            ax.set_title(f"{panel.get('title', panel.get('C_label'))}: C = {C:.1f}" if C is not None
                         else f"{panel.get('title', panel.get('C_label'))}: none on the grid", fontsize="small")
            if ax is not axes[0]:
                ax.set_ylabel("")
        if not panels:
            empty_note(axes[0])
        handles, labels = {}, []
        for ax in axes:
            for handle, name in zip(*ax.get_legend_handles_labels()):
                if name not in handles:
                    handles[name] = handle
                    labels.append(name)
        if handles:
            fig.legend([handles[name] for name in labels], labels, loc="outside lower center",
                       ncol=min(6, len(labels)), frameon=False)
    return fig


def designed_memory_figure(summary: Summary):
    """Left, memory vs n (log-log): the designed cache's smallest memory reaching 99% accuracy, beside
    n·d and n·d + n log2 n. Right, the same memory over n·d, beside 1 + log2(n)/d (the second
    reference over n·d) and Fano's minimum for 99% accuracy (HO Theorem 5)."""
    from protocols.fano import min_memory_ratio

    d = number(summary.get("d")) or 1
    rows = [r for r in summary.get("per_n") or [] if number(r.get("memory_bits")) is not None]
    ns = [n for r in summary.get("per_n") or [] if (n := number(r.get("n"))) is not None and n > 0]
    name = "designed, smallest memory at 99%"
    style = {**default_style(0), "lw": 1.0, "ms": 3.5}
    target = number(summary.get("success_accuracy")) or 0.99
    span = (min(ns), max(ns)) if ns else None  # references over every n, measured or not
    with paper(columns=2, aspect=0.42):
        fig = new_figure(2, 0.42)
        left, right = fig.subplots(1, 2)
        memory_vs_n(left, {name: [(r["n"], r["memory_bits"]) for r in rows]}, ylog=2, x_range=span,
                    styles={name: style}, legend=False, xlabel="keys $n$",
                    references=[(r"$n d$", lambda n: n * d), (r"$n d + n \log_2 n$", lambda n: n * d + n * math.log2(n))])
        memory_vs_n(right, {name: [(r["n"], r["memory_bits"] / (r["n"] * d)) for r in rows]}, ylog=False, x_range=span,
                    styles={name: {**style, "label": None}}, legend=False, xlabel="keys $n$", ylabel=r"memory / $n d$",
                    references=[(None, 1.0), (None, lambda n: 1 + math.log2(n) / d),
                                ("Fano minimum at 99%", min_memory_ratio(target))])
        if not rows and span:
            empty_note(left)
            empty_note(right)
        left.set_title(f"memory vs n for 99% accuracy (d = {int(d)})", fontsize="small")
        right.set_ylabel(r"memory / $n d$")
        right.set_title("the same over $n d$", fontsize="small")
        handles, labels = [], []
        for ax in (left, right):
            for handle, name in zip(*ax.get_legend_handles_labels()):
                if name not in labels:
                    handles.append(handle)
                    labels.append(name)
        if handles:
            fig.legend(handles, labels, loc="outside lower center", ncol=len(labels), frameon=False)
    return fig
