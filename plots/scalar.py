"""Figures of HO Appendix E: lazy Gumbel sampling (Algorithm 2) and the d = 1 algorithm.

Each function takes the summary dict of its experiment (:mod:`reductions.appE`) and returns a
:class:`matplotlib.figure.Figure` in the paper style; missing or ``None`` entries are skipped.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from plots.data import group_by, number
from plots.figures import _color, _marker
from plots.panels import accuracy_vs_memory
from plots.style import REFERENCE_COLOR, new_figure, paper

Summary = Mapping[str, Any]


def _rows(summary: Summary, key: str) -> list[dict]:
    """``summary[key]`` as a list of dicts (anything else dropped)."""
    return [r for r in (summary.get(key) or []) if isinstance(r, Mapping)]


def xy(rows: Iterable[Mapping], x: str, y: str, positive: bool = True) -> list[tuple[float, float]]:
    """Numeric ``(row[x], row[y])`` pairs sorted by ``x`` (positive ones only when ``positive``)."""
    pairs = [(number(r.get(x)), number(r.get(y))) for r in rows]
    pairs = [(a, b) for a, b in pairs if a is not None and b is not None and (not positive or (a > 0 and b > 0))]
    return sorted(pairs)


def pairs_of(xs, ys, positive: bool = True) -> list[tuple[float, float]]:
    """Numeric pairs from two parallel sequences (either may be ``None``)."""
    out = [(number(a), number(b)) for a, b in zip(xs or [], ys or [])]
    return [(a, b) for a, b in out if a is not None and b is not None and (not positive or (a > 0 and b > 0))]


def fit_line(ax, pairs, color) -> float | None:
    """Least-squares power law through ``pairs`` drawn dashed; returns the slope (None if < 2 points)."""
    if len(pairs) < 2 or len({x for x, _ in pairs}) < 2:
        return None
    lx, ly = np.log(np.array(pairs, dtype=float)).T
    slope, intercept = np.polyfit(lx, ly, 1)
    grid = np.linspace(lx.min(), lx.max(), 20)
    ax.plot(np.exp(grid), np.exp(intercept + slope * grid), color=color, ls="--", lw=0.7)
    return float(slope)


def _loglog(ax) -> None:
    ax.set_xscale("log")
    ax.set_yscale("log")


def gumbel_figure(summary: Summary):
    """Algorithm 2: (a) sampled vs softmax frequencies with chi-square p-values, (b) measured
    ``E|T|`` against the ``(n-k)/k`` bound, (c) score reads per sample vs ``n`` at ``k = sqrt(n)``."""
    aspect = 0.36
    with paper(columns=2, aspect=aspect):
        fig = new_figure(2, aspect)
        a, b, c = fig.subplots(1, 3)

        rows = _rows(summary, "exactness")
        lows = []
        for j, row in enumerate(rows):
            pts = pairs_of(row.get("expected"), row.get("observed"))
            if not pts:
                continue
            lows += [min(x for x, _ in pts), min(y for _, y in pts)]
            p = number(row.get("p_value"))
            label = f"{row.get('family')}, k={row.get('k')}"
            if row.get("status") == "not testable":
                label += " (not testable)"
            elif p is not None:
                label += f" (p={p:.2f}" + (", failed)" if row.get("status") == "failed" else ")")
            a.scatter(*zip(*pts), s=4, color=_color(j), marker=_marker(j), lw=0, label=label)
        low = min([1e-4] + lows) / 1.5
        a.plot([low, 1], [low, 1], color=REFERENCE_COLOR, lw=0.6)
        _loglog(a)
        a.set_xlim(low, 1.2)
        a.set_ylim(low, 1.2)
        a.set_xlabel("softmax probability")
        a.set_ylabel("sampled frequency")
        alpha = number(summary.get("alpha"))
        statuses = [row.get("status") for row in rows]
        tally = f"\n{statuses.count('passed')}/{len(rows)} pass" if rows and "status" in rows[0] else ""
        if statuses.count("not testable"):
            tally += f", {statuses.count('not testable')} not testable"
        a.set_title("exactness" + (rf" ($\chi^2$, $\alpha$={alpha:g})" if alpha is not None else "") + tally)
        if lows:
            a.legend(loc="upper left", fontsize=4.5, markerscale=1.5)

        tail = _rows(summary, "tail")
        drawn = False
        for j, (family, members) in enumerate(group_by(tail, lambda r: r.get("family")).items()):
            pts = xy(members, "bound", "mean_tail")
            if pts:
                b.scatter(*zip(*pts), s=8, color=_color(j), marker=_marker(j), label=f"{family} scores", zorder=3)
                drawn = True
        bounds = [x for x, _ in xy(tail, "bound", "bound")]
        if bounds:
            grid = np.geomspace(min(bounds), max(bounds), 50)
            b.plot(grid, grid, color=REFERENCE_COLOR, lw=0.8, label=r"bound $(n-k)/k$")
        flat = xy(tail, "bound", "flat_exact")
        if flat:
            b.plot(*zip(*flat), color=REFERENCE_COLOR, ls=":", lw=0.8, label=r"equal scores: $(n-k)/(k+1)$")
        _loglog(b)
        b.set_xlabel(r"$(n-k)/k$")
        b.set_ylabel(r"measured $E|T|$")
        b.set_title("tail size")
        if drawn or bounds:
            b.legend(loc="upper left")

        cost = _rows(summary, "cost")
        ns = sorted({x for x, _ in xy(cost, "n", "n")})
        for j, (family, members) in enumerate(group_by(cost, lambda r: r.get("family")).items()):
            pts = xy(members, "n", "reads_per_sample")
            if not pts:
                continue
            slope = fit_line(c, pts, _color(j))
            c.plot(*zip(*pts), color=_color(j), marker=_marker(j), lw=0.9,
                   label=f"{family}" + (f" (slope {slope:.2f})" if slope is not None else ""))
        if ns:
            grid = np.array(ns, dtype=float)
            c.plot(grid, grid, color=REFERENCE_COLOR, lw=0.8, label="all n scores")
            c.plot(grid, 2 * np.sqrt(grid), color=REFERENCE_COLOR, ls=":", lw=0.8, label=r"$2\sqrt{n}$")
        _loglog(c)
        c.set_xlabel(r"tokens $n$")
        c.set_ylabel("score reads per sample")
        c.set_title(r"cost at $k=\lceil\sqrt{n}\,\rceil$")
        if ns:
            c.legend(loc="upper left", fontsize=4.8)
    return fig


def scalar_figure(summary: Summary):
    """The d = 1 algorithm: (a) memory vs ``n`` beside the exact cache and HO Theorem 1's bound
    at ``d = 1``, (b) relative error and median-of-means failure rates, (c) the INDEX game at
    ``d = 1`` against the Fano frontier."""
    aspect = 0.36
    with paper(columns=2, aspect=aspect):
        fig = new_figure(2, aspect)
        a, b, c = fig.subplots(1, 3)

        memory = _rows(summary, "memory")
        ns = sorted({x for x, _ in xy(memory, "n", "n")})
        for j, (key, label) in enumerate((("memory_bits", "d = 1 algorithm"), ("exact_memory_bits", "exact cache"))):
            pts = xy(memory, "n", key)
            if pts:
                slope = fit_line(a, pts, _color(j))
                a.plot(*zip(*pts), color=_color(j), marker=_marker(j), lw=0.9,
                       label=label + (f" (slope {slope:.2f})" if slope is not None else ""))
        if ns:
            a.plot(ns, ns, color=REFERENCE_COLOR, ls=":", lw=0.8, label="n bits (INDEX at d = 1)")
            floor = number(summary.get("theorem1_bits_at_d1"))
            if floor is not None and floor > 0:
                a.axhline(floor, color=REFERENCE_COLOR, lw=0.8, ls="-.")
                a.text(ns[0], floor * 1.6, r"Thm 1 at $d=1$: $\Omega(d\min\{n,e^d\}) = \Omega(1)$",
                       fontsize="x-small", color=REFERENCE_COLOR, va="bottom")
        _loglog(a)
        a.set_xlabel(r"tokens $n$")
        a.set_ylabel("memory (bits)")
        a.set_title("memory")
        if ns:
            a.legend(loc="center right", fontsize=4.8)

        mean_err = xy(memory, "n", "relative_error_mean")
        p90 = xy(memory, "n", "relative_error_p90")
        if mean_err:
            groups = summary.get("groups")
            b.plot(*zip(*mean_err), color=_color(0), marker=_marker(0), lw=0.9,
                   label="mean" + (f", {groups} groups" if groups is not None else ""))
        if p90:
            b.plot(*zip(*p90), color=_color(0), ls="--", lw=0.8, label="90th percentile")
        b.set_xscale("log")
        b.set_xlabel(r"tokens $n$")
        b.set_ylabel("relative error")
        b.set_ylim(0, 2.3 * max([0.01] + [y for _, y in p90 + mean_err]))
        b.set_title("error (median of means)")
        mom = xy(_rows(summary, "median_of_means"), "groups", "fail_rate", positive=False)
        if mom:
            inset = b.inset_axes([0.55, 0.6, 0.42, 0.36])
            inset.plot([g for g, _ in mom], [max(f, 1e-3) for _, f in mom], color=_color(1), marker=_marker(1), lw=0.8)
            inset.set_yscale("log")
            inset.set_xlabel("groups", fontsize=5, labelpad=0)
            eps = next((number(r.get("eps")) for r in _rows(summary, "median_of_means") if number(r.get("eps"))), None)
            inset.set_ylabel(f"P(err > {eps:g})" if eps is not None else "P(fail)", fontsize=5, labelpad=0)
            inset.tick_params(labelsize=4.5)
        if mean_err or p90:
            b.legend(loc="lower left", fontsize=4.8)

        points = [p for p in _rows(summary, "points") if number(p.get("accuracy")) is not None
                  and number(p.get("memory_ratio")) and p["memory_ratio"] > 0]
        accuracy_vs_memory(c, summary, points=points, series=lambda p: str(p.get("family")), ylim=(0.4, 1.05),
                           always_shown=(1e-3, 10.0), frontier_label=False)
        game_ns = sorted({int(p["n"]) for p in points if number(p.get("n"))})
        c.set_title("INDEX at d = 1" + (f", n = {'/'.join(map(str, game_ns))}" if game_ns else ""))
        if points:
            best = max(p["accuracy"] for p in points)
            c.text(0.98, 0.42, f"best accuracy {best:.3f} (chance 0.5):\nthe reduction's scalar keys\n"
                   "cannot isolate a row", transform=c.transAxes, ha="right", va="bottom", fontsize="x-small",
                   color=REFERENCE_COLOR)
        if c.get_legend_handles_labels()[0]:
            c.legend(loc="upper left", fontsize=4.8)
    return fig
