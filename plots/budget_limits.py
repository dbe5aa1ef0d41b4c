"""Figures of :mod:`reductions.budget_limits`: the zoo at three query scales, the designed cache's memory vs n."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from plots.data import empty_note, family_name, number
from plots.panels import accuracy_vs_memory, default_style
from plots.style import REFERENCE_COLOR, new_figure, paper

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
    ns = [r["n"] for r in summary.get("per_n") or []]
    grid = []
    if ns:
        lo, hi = min(ns), max(ns)
        grid = [lo * (hi / lo) ** (k / 32) for k in range(33)] if hi > lo else [lo]
    style = default_style(0)
    measured = {"color": style["color"], "marker": style["marker"], "ls": style["ls"], "lw": 1.0, "ms": 3.5,
                "label": "designed, smallest memory at 99%"}
    with paper(columns=2, aspect=0.42):
        fig = new_figure(2, 0.42)
        left, right = fig.subplots(1, 2)
        for ax in (left, right):
            ax.set_xscale("log", base=2)
            ax.set_xlabel("keys $n$")
        left.set_yscale("log", base=2)
        if grid:
            left.plot(grid, [n * d for n in grid], color=REFERENCE_COLOR, ls=":", lw=0.9, label=r"$n d$")
            left.plot(grid, [n * d + n * math.log2(n) for n in grid], color=REFERENCE_COLOR, ls="--", lw=0.9,
                      label=r"$n d + n \log_2 n$")
            right.plot(grid, [1.0 for _ in grid], color=REFERENCE_COLOR, ls=":", lw=0.9)
            right.plot(grid, [1 + math.log2(n) / d for n in grid], color=REFERENCE_COLOR, ls="--", lw=0.9)
            target = number(summary.get("success_accuracy")) or 0.99
            right.plot(grid, [min_memory_ratio(target) for _ in grid], color=REFERENCE_COLOR, ls="-.", lw=0.9,
                       label="Fano minimum at 99%")
        if rows:
            left.plot([r["n"] for r in rows], [r["memory_bits"] for r in rows], **measured)
            right.plot([r["n"] for r in rows], [r["memory_bits"] / (r["n"] * d) for r in rows],
                       **{**measured, "label": None})
        else:
            empty_note(left)
            empty_note(right)
        left.set_ylabel("memory (bits)")
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
