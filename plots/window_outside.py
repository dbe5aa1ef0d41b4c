"""Figure of ``window_outside`` (:mod:`reductions.window_outside`): window caches on zero vs random outside values.

A 2 x 2 grid: columns are the out-of-window values (zero: HO's printed stream; random: public
values of mean μ), rows the query scale (the theorem's C; the spike-share C at which the outside
tokens weigh as much as the spike). Each panel is accuracy vs memory / (W·d) under the Fano
frontier at ``W·d`` bits, one series per cache, the same style in every panel; error bars are
99% Wilson intervals, for Algorithm 1 and Theorem 25 (one draw per game) the range over games. Missing keys and
``None`` values are skipped, so partial or empty summaries still plot.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from plots.data import empty_note, number
from plots.panels import accuracy_vs_memory, chance_line, default_style
from plots.style import new_figure, paper

Summary = Mapping[str, Any]
ACCURACY_LIMITS = (0.3, 1.03)
#: The caches in legend order (labels as the summary writes them).
ORDER = ("plain window", "running sum", "HO Alg. 1", "HO Thm 25", "designed window")
VARIANT_TITLES = {"zero": "zero values outside", "random": "random values outside"}


def over_games(point: Mapping[str, Any]) -> Mapping[str, Any]:
    """A point whose bits share one draw per game (Algorithm 1, Theorem 25) gets the [min, max] of
    its games' accuracies as error bar instead of a per-bit interval."""
    games = [number(a) for a in point.get("trial_accuracies") or []]
    if not point.get("bits_share_a_draw") or not games or None in games:
        return point
    return {**point, "accuracy_low": min(games), "accuracy_high": max(games)}


def window_outside_figure(summary: Summary):
    """Accuracy vs memory / (W·d) per variant (columns) and query scale (rows), frontier at W·d bits."""
    variants = list(summary.get("variants") or ["zero", "random"])
    scales = [scale for scale in ("theorem", "share") if scale in (summary.get("scales") or ["theorem", "share"])]
    aspect = 0.375 * len(scales)
    points = [over_games(p) for p in summary.get("points") or [] if number(p.get("accuracy")) is not None]
    labels = list(ORDER) + sorted({str(p.get("label")) for p in points} - set(ORDER))
    styles = {label: {**default_style(k), "label": label, "ms": 3.5} for k, label in enumerate(labels)}
    with paper(columns=2, aspect=aspect):
        fig = new_figure(2, aspect)
        axes = fig.subplots(len(scales), len(variants), squeeze=False)
        for r, scale in enumerate(scales):
            for c, variant in enumerate(variants):
                ax = axes[r][c]
                here = [p for p in points if p.get("variant") == variant and p.get("scale") == scale]
                accuracy_vs_memory(ax, summary, points=here, series=lambda p: str(p.get("label")), styles=styles,
                                   ylim=ACCURACY_LIMITS, xlim=(0.3, 1000.0), xlabel=r"memory ratio (bits / $W{\cdot}d$)",
                                   frontier_label=(r == 0 and c == 0))
                chance_line(ax)
                if not here:
                    empty_note(ax)
                if scale == "theorem":
                    scale_text = "theorem's $C$"
                else:
                    share = number(summary.get("spike_share"))
                    scale_text = f"spike share {share:g}" if share is not None else "spike-share $C$"
                ax.set_title(f"{VARIANT_TITLES.get(variant, variant)}, {scale_text}", fontsize=7)
                if r == 0 and c == 0 and ax.get_legend_handles_labels()[0]:
                    ax.legend(loc="lower right", fontsize=5)
    return fig
