"""Figure of experiment ``nonuniform``: p-weighted accuracy against memory ratio (reductions.nonuniform).

One series per cache family (colour, marker and line style distinct), error bars from the 99%
weighted Wilson interval, under the non-uniform Fano frontier (water-filling, ``summary["frontier"]``,
shaded above); HO Theorem 5's uniform frontier (``summary["uniform_frontier"]``) is drawn dashed for
reference.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from plots.data import family_name, number, title
from plots.panels import accuracy_vs_memory
from plots.style import REFERENCE_COLOR, new_figure, paper

Summary = Mapping[str, Any]


def nonuniform_figure(summary: Summary):
    """p-weighted accuracy vs memory ratio for every family, both frontiers."""
    points = [p for p in summary.get("points", []) if number(p.get("accuracy")) is not None]
    labels = {p["family"]: p.get("label") or p["family"] for p in points}
    with paper(columns=2, aspect=0.55):
        fig = new_figure(2, 0.55)
        ax = fig.subplots(1, 1)
        accuracy_vs_memory(ax, summary, points=points, series=family_name,
                           label=lambda family, members: labels.get(family, family),
                           ylabel="p-weighted fraction of bits decoded", always_shown=(0.5, 1.6))
        uniform = summary.get("uniform_frontier") or {}
        if uniform.get("ratio"):
            low, high = ax.get_xlim()
            pairs = [(r, a) for r, a in zip(uniform["ratio"], uniform["accuracy"]) if low <= r <= high]
            ax.plot([r for r, _ in pairs], [a for _, a in pairs], color=REFERENCE_COLOR, lw=0.8, ls="--",
                    zorder=1, label="Fano frontier, uniform index (HO Thm 5)")
            ax.set_xlim(low, high)
        ax.set_title(title("INDEX game, popular-row index", summary, ("n", "d", "zipf")))
        handles, names = ax.get_legend_handles_labels()
        if handles:
            fig.legend(handles, names, loc="outside right center", frameon=False, fontsize="x-small")
    return fig
