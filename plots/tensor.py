"""The ``tensor_*`` experiments' figures (TA, docs/theory.md §8): one panel function per figure.

Each ``tensor_NAME_figure`` takes the summary :func:`reductions.tensor.run_tensor_NAME` writes and
returns a :class:`matplotlib.figure.Figure` in the paper style, drawn by one panel function on the
axes it is given (``game_panel``, ``threshold_panel``, ``capacity_panel``, ``memory_panels``,
``subgen_panel``). Missing keys and ``None`` values are skipped, so a partial or empty summary
still plots.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from plots.data import empty_note, family_name, group_by, number, series_style, title
from plots.panels import accuracy_vs_memory, memory_vs_n, success_vs_C
from plots.style import (
    REFERENCE_COLOR,
    new_figure,
    one_panel_figure,
    paper,
)

Summary = Mapping[str, Any]
ACCURACY_LIMITS = (0.45, 1.02)












def game_panel(ax, summary: Summary) -> None:
    """INDEX accuracy vs memory ratio for the tensor caches, under the Fano frontier (HO Theorem 5)."""
    accuracy_vs_memory(ax, summary, ylim=ACCURACY_LIMITS)
    ax.set_title(title("INDEX game, tensor caches", summary, ("n", "d")))
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="upper left", fontsize="x-small")


def threshold_panel(ax, summary: Summary) -> None:
    """Accuracy vs C (:func:`plots.panels.success_vs_C`): the tensor threshold (dashed) beside HO
    eq. 16 (dotted) at the same ε, with their intervals over ε shaded."""
    block = summary

    def label(curve, k):
        eta = number(curve.get("eta"), 0.0)
        return rf"$\eta={eta:g}$" + (" (adversary)" if eta > 0 else " (exact)")

    success_vs_C(ax, [c for c in block.get("curves") or [] if c.get("C")], label=label, log_x=True,
                 thresholds=(("theorem_threshold", "tensor threshold", "--"),
                             ("standard_threshold", r"HO eq. 16 (same $\varepsilon$)", ":"),
                             ("hiding_limit", "adversary hides below (est.)", "^")),
                 ylim=(0.0, ACCURACY_LIMITS[1]),  # the adversary can push accuracy below chance
                 xlabel=r"query scale $C$ ($q = C\,k1_i$)", ms=3)
    eps = number(block.get("eps_measured"))
    extra = rf", $\varepsilon={eps:.2f}$" if eps is not None else ""
    ax.set_title(title("threshold on $C$", block, ("n", "d")) + extra)


def capacity_panel(ax, summary: Summary) -> None:
    """Largest ``n'`` decoded at dimension ``d`` with ``||q|| = r``: tensor vs standard reduction."""
    block = summary
    rows = [r for r in block.get("rows") or [] if r.get("d") is not None]
    ax.set_yscale("log", base=2)
    drawn = False
    for k, (name, members) in enumerate(group_by(rows, lambda r: r.get("reduction", "?")).items()):
        data = sorted((r["d"], number(r.get("capacity")), bool(r.get("censored"))) for r in members)
        data = [(d, c, cen) for d, c, cen in data if c is not None]
        if not data:
            continue
        style = series_style(k)
        ax.plot([d for d, _, _ in data], [c for _, c, _ in data], ls="-" if k == 0 else "--", ms=3.5, lw=0.9,
                mfc="none" if k else None, label=f"{name} reduction", **style)
        for d, c, censored in data:
            if censored:
                ax.annotate("", xy=(d, c * 1.6), xytext=(d, c), arrowprops={"arrowstyle": "->", "color": style["color"],
                                                                          "lw": 0.7})
        drawn = True
    by_d = group_by([r for r in rows if number(r.get("capacity")) is not None], lambda r: r["d"])
    if by_d and all(len({m["capacity"] for m in members}) == 1 and len(members) > 1 for members in by_d.values()):
        ax.text(0.98, 0.3, "tensor = standard at every $d$", transform=ax.transAxes, ha="right", va="bottom",
                fontsize="x-small", color="#555555")
    ds = [d for d in block.get("d_values") or []]
    lemma = [number(v) for v in block.get("lemma3_n_prime") or []]
    pts = [(d, v) for d, v in zip(ds, lemma) if v is not None and v > 0]
    if pts:
        ax.plot([d for d, _ in pts], [v for _, v in pts], color="black", lw=0.6, label=r"Lemma 3 $n'$ ($\varepsilon=1/2$)")
        drawn = True
    if not drawn:
        empty_note(ax)
    else:
        ax.legend(loc="upper left", fontsize="x-small")
    r = number(block.get("query_norm"))
    ax.set_xlabel(r"dimension $d$")
    ax.set_ylabel(r"largest $n'$ decoded ($\geq 99\%$)")
    ax.set_title("low-dimensional capacity" + (rf", $\|q\| = {r:g}$" if r is not None else ""))


def _timing_rows(summary: Summary, key: str):
    rows = [r for r in summary.get("rows") or [] if number(r.get(key)) is not None]
    return group_by(rows, family_name)


def memory_panel(ax, summary: Summary) -> None:
    """Memory (bits) of the 2-cache and the 4-cache after ``n`` tokens, log-log
    (:func:`plots.panels.memory_vs_n`)."""
    groups = _timing_rows(summary, "memory_bits")
    memory_vs_n(ax, {family: [(r.get("n"), r["memory_bits"]) for r in rows] for family, rows in groups.items()})
    d = summary.get("d")
    ax.set_title("memory" + (f", $d={d}$" if d is not None else ""))


def ratio_panel(ax, summary: Summary) -> None:
    """How many times more memory the 2-cache needs than the 4-cache, vs ``n`` (grows like n/2)."""
    groups = _timing_rows(summary, "memory_bits")
    four = {r["n"]: r["memory_bits"] for r in groups.get("ExactFourCache", [])}
    two = {r["n"]: r["memory_bits"] for r in groups.get("ExactTwoCache", [])}
    ns = sorted(set(four) & set(two))
    memory_vs_n(ax, {"measured": [(n, two[n] / four[n]) for n in ns]},
                references=[(r"$n/2$", lambda n: n / 2, {"color": "0.4", "ls": "--", "lw": 0.8})],
                ylabel="2-cache / 4-cache memory")
    ax.set_title("memory ratio")


def subgen_panel(ax, summary: Summary) -> None:
    """SubGen-style 4-cache: measured output error against its guarantee, per query."""
    block = summary
    rows = [r for r in block.get("rows") or [] if number(r.get("error")) is not None and number(r.get("bound")) is not None]
    for k, (label, members) in enumerate(group_by(rows, lambda r: r.get("label", "?")).items()):
        ax.scatter([m["bound"] for m in members], [max(m["error"], 1e-12) for m in members], s=6,
                   color=series_style(k)["color"], marker=series_style(k)["marker"], label=label, lw=0)
    if rows:
        low = min(min(r["bound"] for r in rows), min(max(r["error"], 1e-12) for r in rows))
        high = max(max(r["bound"] for r in rows), max(r["error"] for r in rows))
        low, high = max(low, 1e-12) / 2, high * 2
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.plot([low, high], [low, high], color=REFERENCE_COLOR, lw=0.7, label="error = bound")
        ax.set_xlim(low, high)
        ax.set_ylim(low, high)
        ax.legend(loc="upper left", fontsize="x-small")
        within = sum(r["error"] <= r["bound"] for r in rows) / len(rows)
        failure = number(block.get("failure"))
        note = f"{within:.0%} of queries within the bound"
        if failure is not None:
            note += "\n" + rf"(guaranteed w.p. $\geq {1 - failure:g}$ each)"
        ax.text(0.98, 0.42, note, transform=ax.transAxes, ha="right", va="bottom", fontsize="x-small",
                color="#555555")
    else:
        empty_note(ax)
    ax.set_xlabel("guaranteed error bound")
    ax.set_ylabel(r"measured $\|\hat O - \mathrm{TAttn}\|_2$")
    ax.set_title("SubGen-style 4-cache")


def memory_panels(left, right, summary: Summary) -> None:
    """Memory of the 2-cache and the 4-cache vs ``n`` (left) and their ratio against ``n/2`` (right)."""
    memory_panel(left, summary)
    ratio_panel(right, summary)


def tensor_game_figure(summary: Summary):
    """Experiment ``tensor_game``: INDEX accuracy vs memory ratio under the Fano frontier."""
    return one_panel_figure(game_panel, summary)


def tensor_threshold_figure(summary: Summary):
    """Experiment ``tensor_threshold``: accuracy vs C, tensor threshold beside HO eq. 16."""
    return one_panel_figure(threshold_panel, summary)


def tensor_capacity_figure(summary: Summary):
    """Experiment ``tensor_capacity``: largest n' decoded vs d, tensor vs standard reduction."""
    return one_panel_figure(capacity_panel, summary)


def tensor_memory_figure(summary: Summary):
    """Experiment ``tensor_memory``: memory of the 2- and 4-cache vs n, and their ratio."""
    aspect = 0.42
    with paper(columns=2, aspect=aspect):
        fig = new_figure(2, aspect)
        memory_panels(*fig.subplots(1, 2), summary)
    return fig


def tensor_subgen_figure(summary: Summary):
    """Experiment ``tensor_subgen``: the SubGen-style 4-cache's measured error vs its guarantee."""
    return one_panel_figure(subgen_panel, summary)
