"""Figures of the low-dimensional regime: HO Corollary 9 / Theorem 1 (``cor9``), SubGen and Theorem 15
(``thm15``), covering numbers, Lemmas 13-14 (``covering``).

One function per figure; each takes the experiment's summary dict and returns a
:class:`matplotlib.figure.Figure` in the paper style. Missing keys and ``None`` values are skipped,
so a partial summary still plots.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from plots.data import group_by, number
from plots.figures import _color, _marker, _si
from plots.style import REFERENCE_COLOR, new_figure, paper

Summary = Mapping[str, Any]

_CODEBOOK_LABELS = {"gaussian": "Gaussian JL (paper)", "random": "random unit", "packed": "packed (repulsion)"}


def _label(codebook) -> str:
    return _CODEBOOK_LABELS.get(codebook, str(codebook))


def _integer_ticks(ax) -> None:
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def _pairs(xs, ys):
    """Pairs ``(x, y)`` with both finite numbers."""
    out = []
    for x, y in zip(xs or [], ys or []):
        x, y = number(x), number(y)
        if x is not None and y is not None:
            out.append((x, y))
    return out


# ---------------------------------------------------------------------------
# cor9: capacity of d dimensions and Theorem 1
# ---------------------------------------------------------------------------


def cor9_figure(summary: Summary):
    """HO Corollary 9 and Theorem 1 in six panels.

    (a) measured capacity ``n'`` (log scale) against ``d`` at ``||q|| = r_per_d · d``: one colour per
    codebook, solid for exact outputs and dashed for the worst ``(1±η)`` approximation, fitted
    ``e^{cd}`` lines, open triangles where the search hit its cap; grey curves at a fixed ``r``
    saturate below their worst-case cap; Lemma 3's promise in black. (b) coherence against ``n`` at
    one ``d`` with the Welch bound. (c) Theorem 1's lower bound ``0.92 d min(n, e^{cd})`` against
    ``n`` beside the measured memory of the exact, quantized and SubGen caches. (d) the same bound
    against ``d`` at the largest ``n``: ``Ω(d e^{cd})`` below ``d* = ln n / c``, ``Ω(nd)`` above.
    (e) the r/d sweep, exact outputs: capacity against ``d``, one colour per codebook and one line
    style and marker per ``r/d``, error bars over trials, fit lines over the fitted ``d``. (f) ``c``
    against ``r/d`` with its 99% bootstrap interval, the proved ceiling ``2 r/d`` and the random-code
    heuristic. Error bars in (a) and (e) span the smallest to the largest trial capacity.
    """
    aspect = 1.17
    with paper(columns=2, aspect=aspect):
        fig = new_figure(2, aspect)
        (a, b), (c, d), (e, f) = fig.subplots(3, 2)
        _capacity_panel(a, summary)
        _coherence_panel(b, summary.get("coherence") or {})
        _theorem1_n_panel(c, summary.get("theorem1") or {})
        _theorem1_d_panel(d, summary)
        _r_sweep_capacity_panel(e, summary)
        _r_sweep_c_panel(f, summary)
    return fig


def _capacity_panel(ax, summary: Summary) -> None:
    from matplotlib.lines import Line2D

    codebooks = _codebooks(summary)
    reference = summary.get("r_per_d")
    series = [s for s in summary.get("series") or [] if s.get("r_over_d", reference) == reference]
    ax.set_yscale("log")
    handles = []
    for s in series:
        k = codebooks.index(s.get("codebook"))
        eta = number(s.get("eta"), 0.0)
        pts = _pairs(s.get("d"), s.get("capacity"))
        if not pts:
            continue
        style = "-" if eta == 0 else "--"
        _capacity_series(ax, s, color=_color(k), ls=style, marker=_marker(k), mfc="white" if eta else None,
                         fit_line=eta == 0)
        fit = s.get("fit") or {}
        if eta == 0 or not any(h.get_label() == _label(s.get("codebook")) for h in handles):
            c_text = f", c={fit['c']:.2f}" if number(fit.get("c")) is not None else ""
            label = f"{_label(s.get('codebook'))}{c_text}" if eta == 0 else None
            if label:
                handles.append(Line2D([], [], color=_color(k), marker=_marker(k), ms=3, lw=0.9, label=label))
    etas = [e for e in (summary.get("etas") or []) if number(e)]
    if etas:
        handles.append(Line2D([], [], color="#555555", ls="--", lw=0.9, marker="o", mfc="white", ms=3,
                              label=rf"worst $(1\pm\eta)$, $\eta$={', '.join(f'{e:g}' for e in etas)}"))
    for j, s in enumerate(summary.get("fixed_r") or []):
        pts = _pairs(s.get("d"), s.get("capacity"))
        if pts:
            ax.plot([p[0] for p in pts], [p[1] for p in pts], color="#999999", lw=0.8, ls=(0, (1, 1)),
                    marker="x", ms=3)
            ax.text(pts[-1][0], pts[-1][1], f" r={number(s.get('r_value'), 0):g}", fontsize="x-small",
                    color="#777777", va="bottom", ha="right")
    if summary.get("fixed_r"):
        handles.append(Line2D([], [], color="#999999", ls=(0, (1, 1)), marker="x", ms=3, label="fixed r (packed)"))
    lemma = summary.get("lemma3") or {}
    pts = _pairs(lemma.get("d"), lemma.get("log_n_printed"))
    if pts:
        ax.plot([p[0] for p in pts], [math.exp(p[1]) for p in pts], color="black", lw=0.8)
        handles.append(Line2D([], [], color="black", lw=0.8, label="Lemma 3 promise"))
    cap = summary.get("worst_case_cap") or {}
    pts = _pairs(cap.get("d"), cap.get("log_n"))
    if pts:
        ymax = max(ax.get_ylim()[1], 2.0)
        shown = [(x, math.exp(y)) for x, y in pts if math.exp(y) <= ymax * 3]
        if shown:
            ax.plot([p[0] for p in shown], [p[1] for p in shown], color=REFERENCE_COLOR, lw=0.6, ls=":")
            handles.append(Line2D([], [], color=REFERENCE_COLOR, lw=0.6, ls=":", label=r"worst-case cap $1+e^{2r}$"))
    ax.set_ylim(bottom=0.8)
    ax.set_xlabel(r"dimension $d$")
    ax.set_ylabel(r"capacity $n'$ (99% of bits decoded)")
    rho = number(summary.get("r_per_d"))
    ax.set_title(r"(a) Corollary 9: $n' \approx e^{cd}$" + (rf" at $\|q\| = {rho:g}\,d$" if rho else ""))
    if handles:
        ax.legend(handles=handles, loc="upper left", fontsize=5.5)


def _codebooks(summary: Summary) -> list:
    """The codebooks in the summary's order (then any other a series names): the colour index."""
    codebooks = list(summary.get("codebooks") or [])
    for s in [*(summary.get("series") or []), *((summary.get("r_sweep") or {}).get("series") or [])]:
        if s.get("codebook") not in codebooks:
            codebooks.append(s.get("codebook"))
    return codebooks


def _capacity_series(ax, s: Mapping, *, color, ls, marker, mfc=None, fit_line: bool = True) -> None:
    """One capacity curve: median over trials with [smallest, largest] trial error bars, open triangles
    where the search hit ``max_n`` (censored), and the fitted ``e^{cd}`` over the ``d`` the fit used."""
    rows = [(number(x), number(y), number(lo, y), number(hi, y), cut) for x, y, lo, hi, cut in zip(
        s.get("d") or [], s.get("capacity") or [], s.get("capacity_low") or s.get("capacity") or [],
        s.get("capacity_high") or s.get("capacity") or [], s.get("censored") or [False] * len(s.get("d") or []))]
    rows = [r for r in rows if r[0] is not None and r[1] is not None]
    if not rows:
        return
    xs, ys = [r[0] for r in rows], [r[1] for r in rows]
    err = [[max(y - r[2], 0.0) for y, r in zip(ys, rows)], [max(r[3] - y, 0.0) for y, r in zip(ys, rows)]]
    ax.errorbar(xs, ys, yerr=err, color=color, ls=ls, lw=0.9, marker=marker, ms=3, mfc=mfc, capsize=1.5,
                elinewidth=0.6)
    cut = [(r[0], r[1]) for r in rows if r[4]]
    if cut:
        ax.plot([p[0] for p in cut], [p[1] for p in cut], ls="none", marker="^", ms=5, mfc="none", color=color)
    fit = s.get("fit") or {}
    if fit_line and number(fit.get("c")) is not None:
        low, high = number(fit.get("d_min"), min(xs)), number(fit.get("d_max"), max(xs))
        grid = np.linspace(low, high, 50)
        ax.plot(grid, np.exp(fit["c"] * grid + fit["intercept"]), color=color, lw=0.5, alpha=0.6)


_RHO_STYLES = (("-", "o"), ("--", "s"), (":", "^"), ("-.", "D"))


def _r_sweep_capacity_panel(ax, summary: Summary) -> None:
    from matplotlib.lines import Line2D

    sweep = summary.get("r_sweep") or {}
    rhos = [number(v) for v in sweep.get("r_over_d") or [] if number(v) is not None]
    codebooks = _codebooks(summary)
    ax.set_yscale("log")
    for s in sweep.get("series") or []:
        rho = number(s.get("r_over_d"))
        if rho not in rhos:
            continue
        ls, marker = _RHO_STYLES[rhos.index(rho) % len(_RHO_STYLES)]
        _capacity_series(ax, s, color=_color(codebooks.index(s.get("codebook"))), ls=ls, marker=marker)
    handles = [Line2D([], [], color=_color(k), lw=0.9, label=_label(kind)) for k, kind in enumerate(codebooks)
               if any(s.get("codebook") == kind for s in sweep.get("series") or [])]
    handles += [Line2D([], [], color="#555555", ls=_RHO_STYLES[j % len(_RHO_STYLES)][0],
                       marker=_RHO_STYLES[j % len(_RHO_STYLES)][1], ms=3, lw=0.9, label=f"$r/d={rho:g}$")
                for j, rho in enumerate(rhos)]
    ax.set_ylim(bottom=0.8)
    _integer_ticks(ax)
    ax.set_xlabel(r"dimension $d$")
    ax.set_ylabel(r"capacity $n'$ (exact outputs)")
    ax.set_title(r"(e) capacity at $\|q\| = (r/d)\,d$")
    if handles:
        ax.legend(handles=handles, loc="upper left", fontsize=5.5, ncol=2)


def _r_sweep_c_panel(ax, summary: Summary) -> None:
    sweep = summary.get("r_sweep") or {}
    codebooks = _codebooks(summary)
    series = list(sweep.get("series") or [])
    rhos = [number(v) for v in sweep.get("r_over_d") or [] if number(v) is not None]
    for k, kind in enumerate(codebooks):
        mine = sorted((s for s in series if s.get("codebook") == kind and number(s.get("c")) is not None),
                      key=lambda s: s.get("r_over_d"))
        if not mine:
            continue
        xs, cs = [s["r_over_d"] for s in mine], [s["c"] for s in mine]
        err = [[max(c - number(s.get("c_low"), c), 0.0) for c, s in zip(cs, mine)],
               [max(number(s.get("c_high"), c) - c, 0.0) for c, s in zip(cs, mine)]]
        ax.errorbar(xs, cs, yerr=err, color=_color(k), marker=_marker(k), ms=3, lw=0.9, capsize=2, elinewidth=0.7,
                    label=_label(kind))
    pts = _pairs(rhos, sweep.get("ceiling_c"))
    if pts:
        ax.plot([p[0] for p in pts], [p[1] for p in pts], color=REFERENCE_COLOR, lw=0.8, ls=":",
                label=r"ceiling $c \leq 2r/d$ (proved)")
    curve = sweep.get("random_code_curve") or {}
    pts = _pairs(curve.get("r_over_d"), curve.get("c"))
    if pts:
        ax.plot([p[0] for p in pts], [p[1] for p in pts], color="black", lw=0.7, ls="--",
                label="random code, heuristic")
    ax.set_xlabel(r"$r/d$")
    ax.set_ylabel(r"exponent $c$ in $n' \approx e^{cd}$")
    ax.set_title(r"(f) $c$ against $r/d$ (99% bootstrap)")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="upper left", fontsize=5.5)


def _coherence_panel(ax, panel: Mapping) -> None:
    from matplotlib.lines import Line2D

    ns = panel.get("n") or []
    signed = dict(panel.get("max_inner") or {})
    absolute = dict(panel.get("coherence") or {})
    kinds = list(dict.fromkeys([*signed, *absolute]))
    handles, drawn = [], {}
    for k, kind in enumerate(kinds):
        values = tuple(np.round([number(v, np.nan) for v in signed.get(kind) or absolute.get(kind) or []], 12))
        if values in drawn:  # same directions (Gaussian JL rows vs their normalisation): one line
            handles[drawn[values]].set_label(handles[drawn[values]].get_label() + " = " + _label(kind))
            continue
        pts = _pairs(ns, signed.get(kind))
        if pts:
            ax.plot([p[0] for p in pts], [p[1] for p in pts], color=_color(k), marker=_marker(k), ms=3, lw=0.9)
        pts = _pairs(ns, absolute.get(kind))
        if pts:
            ax.plot([p[0] for p in pts], [p[1] for p in pts], color=_color(k), lw=0.7, ls=":")
        drawn[values] = len(handles)
        handles.append(Line2D([], [], color=_color(k), marker=_marker(k), ms=3, lw=0.9, label=_label(kind)))
    pts = _pairs(ns, panel.get("welch"))
    if pts:
        ax.plot([p[0] for p in pts], [p[1] for p in pts], color="black", lw=0.9, ls="--")
        handles.append(Line2D([], [], color="black", lw=0.9, ls="--", label=r"Welch bound on $|\cdot|$"))
    if ns:
        handles.append(Line2D([], [], color="#555555", lw=0.7, ls=":", label=r"coherence $\max|\langle u_l,u_m\rangle|$"))
    ax.set_xscale("log", base=2)
    ax.set_xlabel(r"keys $n$")
    ax.set_ylabel(r"$\max_{l\neq m}\langle u_l,u_m\rangle$ (solid)")
    d = panel.get("d")
    ax.set_title(f"(b) spherical codes vs Welch, $d={d}$" if d is not None else "(b) spherical codes vs Welch")
    if handles:
        ax.legend(handles=handles, loc="lower right", fontsize=5.5)


_MEMORY_SERIES = (
    ("exact_bits", "ExactCache (float32)", 0),
    ("quantized_bits", "QuantizedCache (2 bits)", 1),
    ("subgen_bits", "SubGenCache", 2),
)


def _theorem1_n_panel(ax, theorem1: Mapping) -> None:
    from matplotlib.lines import Line2D

    curves = list(theorem1.get("curves") or [])
    styles = ("-", "--", "-.", ":")
    for j, curve in enumerate(curves):
        ls = styles[j % len(styles)]
        ns = curve.get("n") or []
        pts = _pairs(ns, curve.get("lower_bound_bits"))
        if pts:
            ax.plot([p[0] for p in pts], [p[1] for p in pts], color="black", lw=1.2, ls=ls)
        for key, _label_text, k in _MEMORY_SERIES:
            pts = _pairs(ns, curve.get(key))
            if pts:
                ax.plot([p[0] for p in pts], [p[1] for p in pts], color=_color(k), lw=0.9, ls=ls, marker=_marker(k),
                        ms=2.5)
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    handles = [Line2D([], [], color="black", lw=1.2, label=r"lower bound $0.92\,d\min(n, e^{cd})$")]
    handles += [Line2D([], [], color=_color(k), marker=_marker(k), ms=2.5, lw=0.9, label=text)
                for _key, text, k in _MEMORY_SERIES]
    handles += [Line2D([], [], color="#555555", ls=styles[j % len(styles)], lw=0.9, label=f"$d={c.get('d')}$")
                for j, c in enumerate(curves)]
    ax.legend(handles=handles, loc="upper left", fontsize=5.5)
    ax.set_xlabel(r"tokens $n$")
    ax.set_ylabel("memory (bits)")
    c = number(theorem1.get("c"))
    ax.set_title("(c) Theorem 1 vs memory" + (f", measured $c={c:.2f}$" if c is not None else ""))


def _theorem1_d_panel(ax, summary: Summary) -> None:
    theorem1 = summary.get("theorem1") or {}
    c, b = number(theorem1.get("c")), number(theorem1.get("intercept"), 0.0)
    factor = number(theorem1.get("fano_factor"), 1.0)
    ns = [n for curve in theorem1.get("curves") or [] for n in (curve.get("n") or [])]
    ds = [d for d in summary.get("d_values") or [] if number(d) is not None]
    ax.set_yscale("log")
    if c is not None and c > 0 and ns and ds:
        n = max(ns)
        d_star = (math.log(n) - b) / c
        xs = np.linspace(min(ds), max(max(ds), 1.4 * d_star), 200)
        bound = factor * xs * np.minimum(n, np.maximum(np.exp(c * xs + b), 1.0))
        # The fitted c is drawn as data only over the measured d; beyond, thin dotted grey, as a fit.
        inside = xs <= max(ds)
        ax.plot(xs[inside], bound[inside], color="black", lw=1.2,
                label=rf"$0.92\,d\min(n, e^{{cd}})$, $n=2^{{{int(round(math.log2(n)))}}}$")
        if (~inside).any():
            beyond = np.concatenate([[int(inside.sum()) - 1], np.flatnonzero(~inside)])
            ax.plot(xs[beyond], bound[beyond], color="#888888", ls=":", lw=0.8,
                    label=rf"same, fit $c={c:.2f}$ extrapolated past measured $d$")
        ax.plot(xs, 2 * 32 * n * xs, color=_color(0), lw=0.9, label="ExactCache (float32)")
        if min(xs) <= d_star <= max(xs):
            ax.axvline(d_star, color=REFERENCE_COLOR, ls=":", lw=0.7)
            ax.text(d_star, 0.97, r" $d^*=\ln(n)/c$", transform=ax.get_xaxis_transform(), fontsize="x-small",
                    va="top", color=REFERENCE_COLOR)
    measured = [p for p in summary.get("points") or []
                if number(p.get("eta"), 0.0) > 0 and p.get("codebook") == (theorem1.get("from") or {}).get("codebook")]
    pts = _pairs([p.get("d") for p in measured], [p.get("lower_bound_bits") for p in measured])
    if pts:
        ax.plot([p[0] for p in pts], [p[1] for p in pts], ls="none", marker="o", ms=3, color="black", mfc="white",
                label=r"$0.92\,d\,n'(d)$ measured")
    ax.set_xlabel(r"dimension $d$")
    ax.set_ylabel("memory (bits)")
    ax.set_title(r"(d) Theorem 1: $\Omega(d e^{cd})$ then $\Omega(nd)$")
    if ax.get_legend_handles_labels()[0]:
        low, high = ax.get_ylim()
        ax.set_ylim(low, high * 10)  # a free band on top for the d* label
        ax.legend(loc="lower right", fontsize=5.5)  # below the curves, right of the measured d


# ---------------------------------------------------------------------------
# thm15: SubGen
# ---------------------------------------------------------------------------


def thm15_figure(summary: Summary):
    """SubGen (HO Theorems 11, 15) in four panels.

    (a) memory against ``n`` at fixed ``d`` (flat once the clusters saturate) beside the exact cache;
    (b) clusters ``m`` against ``d`` at fixed ``n`` with the volume bounds ``(1/δ)^d`` and ``(3/δ)^d``;
    (c) eq. 17: the 99th percentile of ``||Ô - Attn|| / (ε ||softmax|| ||V||_op)`` against the
    constant ``c`` in ``t, s``, for uniform-ball and clustered streams and the reduction's stream
    (below 1 means the bound holds for 99% of queries); (d) SubGen's memory against the capacity
    lower bound ``0.92 d n'(d)`` at the same ``d`` and ``r``, with the ratio written above each point.
    """
    aspect = 0.78
    with paper(columns=2, aspect=aspect):
        fig = new_figure(2, aspect)
        (a, b), (c, d) = fig.subplots(2, 2)
        _subgen_memory_panel(a, summary)
        _subgen_growth_panel(b, summary.get("memory_vs_d") or {})
        _subgen_bound_panel(c, summary)
        _subgen_versus_panel(d, summary)
    return fig


def _subgen_memory_panel(ax, summary: Summary) -> None:
    """Memory vs ``n`` (:func:`plots.panels.memory_vs_n`): SubGen per ``d``, the ExactCache dashed in
    the same colour."""
    from matplotlib.lines import Line2D

    from plots.panels import default_style, memory_vs_n

    curves = list(summary.get("memory_vs_n") or [])
    series, styles = {}, {}
    for k, curve in enumerate(curves):
        style = default_style(k)
        series[("subgen", k)] = _pairs(curve.get("n"), curve.get("memory_bits"))
        styles[("subgen", k)] = {**style, "ms": 3, "label": None}
        series[("exact", k)] = _pairs(curve.get("n"), curve.get("exact_bits"))
        styles[("exact", k)] = {"color": style["color"], "marker": "", "ls": "--", "lw": 0.7, "label": None}
    memory_vs_n(ax, series, styles=styles, legend=False)
    handles = [Line2D([], [], color=_color(k), marker=_marker(k), ms=3, lw=0.9, label=f"SubGen, $d={c.get('d')}$")
               for k, c in enumerate(curves)]
    if curves:
        handles.append(Line2D([], [], color="#555555", lw=0.7, ls="--", label="ExactCache (float32)"))
        ax.legend(handles=handles, loc="upper left", fontsize=5.5)
    params = [f"{k}={summary.get(k):g}" for k in ("delta", "t", "s") if number(summary.get(k)) is not None]
    names = {"delta": r"\delta"}
    text = ", ".join(f"${names.get(p.split('=')[0], p.split('=')[0])}={p.split('=')[1]}$" for p in params)
    ax.set_title("(a) memory flattens in $n$" + (f" ({text})" if text else ""))


def _subgen_growth_panel(ax, growth: Mapping) -> None:
    rows = list(growth.get("rows") or [])
    ds = [r.get("d") for r in rows]
    pts = _pairs(ds, [r.get("clusters") for r in rows])
    if pts:
        slope = number(growth.get("log_m_slope"))
        label = "clusters $m$ (measured)" + (f", slope {slope:.2f}" if slope is not None else "")
        ax.plot([p[0] for p in pts], [p[1] for p in pts], color=_color(0), marker="o", ms=3, lw=0.9, label=label)
    for key, text, style in (("lemma13", r"$(3/\delta)^d$ (Lemma 13)", "--"), ("packing", r"$(1+2/\delta)^d$", "-."),
                             ("volume", r"$(1/\delta)^d$ (volume)", ":")):
        pts = _pairs(ds, [r.get(key) for r in rows])
        if pts:
            ax.plot([p[0] for p in pts], [p[1] for p in pts], color="black", lw=0.7, ls=style, label=text)
    pts = _pairs(ds, [r.get("memory_bits") for r in rows])
    if pts:
        ax.plot([p[0] for p in pts], [p[1] for p in pts], color=_color(2), marker="s", ms=3, lw=0.9,
                label="SubGen memory (bits)")
    ax.set_yscale("log")
    _integer_ticks(ax)
    ax.set_xlabel(r"dimension $d$")
    ax.set_ylabel("count / bits")
    n, delta = growth.get("n"), number(growth.get("delta"))
    ax.set_title("(b) exponential in $d$" + (f" ($n={_si(n)}$, $\\delta={delta:g}$)" if n and delta else ""))
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="upper left", fontsize=5.5)


def _subgen_bound_panel(ax, summary: Summary) -> None:
    rows = [r for r in summary.get("bound") or [] if number(r.get("q99_over_eps")) is not None]
    styles = {"ball": "-", "clustered": "--", "reduction": ":"}
    groups = group_by(rows, lambda r: (r.get("stream"), r.get("d")))
    ds = sorted({r.get("d") for r in rows if r.get("d") is not None})
    for (stream, d), members in groups.items():
        pts = sorted(_pairs([m.get("constant") for m in members], [m.get("q99_over_eps") for m in members]))
        if not pts:
            continue
        k = ds.index(d) if d in ds else 0
        label = f"{stream}, $d={d}$"
        if len(pts) == 1:
            ax.plot([pts[0][0]], [pts[0][1]], color=_color(k), marker="*", ms=6, ls="none", label=label)
        else:
            ax.plot([p[0] for p in pts], [p[1] for p in pts], color=_color(k), ls=styles.get(stream, "-"),
                    marker=_marker(k), ms=2.5, lw=0.8, label=label)
    ax.axhline(1.0, color=REFERENCE_COLOR, lw=0.8)
    ax.text(0.01, 1.02, "eq. 17 holds for 99% of queries below", transform=ax.get_yaxis_transform(), fontsize="x-small",
            color=REFERENCE_COLOR, va="bottom")
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel(r"constant $c$ in $t=c\,\varepsilon^{-2}e^{2\delta r}\ln n$, $s=c\,\varepsilon^{-2}d$")
    ax.set_ylabel(r"99th pct of err $/\ (\varepsilon\|\mathrm{softmax}\|\|V\|_{op})$")
    eps = number(summary.get("eps"))
    ax.set_title("(c) eq. 17 (Theorem 11)" + (rf", $\varepsilon={eps:g}$" if eps is not None else ""))
    if rows:
        ax.legend(loc="upper right", fontsize=5, ncol=2)


def _subgen_versus_panel(ax, summary: Summary) -> None:
    rows = list(summary.get("versus") or [])
    ds = [r.get("d") for r in rows]
    series = (
        ("lower_bound_bits", r"lower bound $0.92\,d\,n'(d)$", "black", "o"),
        ("subgen_bits", "SubGen, Theorem 11 $t, s$", _color(2), "^"),
        ("game_memory_bits", "SubGen playing the reduction", _color(1), "s"),
        ("exact_bits", "ExactCache (float32)", _color(0), None),
    )
    for key, label, color, marker in series:
        pts = _pairs(ds, [r.get(key) for r in rows])
        if pts:
            ax.plot([p[0] for p in pts], [p[1] for p in pts], color=color, marker=marker, ms=3, lw=0.9, label=label,
                    ls="--" if marker is None else "-")
    for r in rows:
        x, y, ratio = number(r.get("d")), number(r.get("subgen_bits")), number(r.get("ratio"))
        if x is not None and y is not None and ratio is not None:
            ax.annotate(f"×{_si(ratio)}", (x, y), textcoords="offset points", xytext=(0, 4), ha="center",
                        fontsize=5.5, color=_color(2))
        acc = number(r.get("game_accuracy"))
        y = number(r.get("game_memory_bits"))
        if x is not None and y is not None and acc is not None:
            ax.annotate(f"{acc:.0%}", (x, y), textcoords="offset points", xytext=(0, -9), ha="center",
                        fontsize=5.5, color=_color(1))
    ax.set_yscale("log")
    lows = [y for _x, y in _pairs(ds, [r.get("lower_bound_bits") for r in rows]) if y > 0]
    if lows:
        ax.set_ylim(bottom=min(lows) / 300)  # room for the legend under the lower bound
    _integer_ticks(ax)
    ax.set_xlabel(r"dimension $d$")
    ax.set_ylabel("memory (bits)")
    rho = number(summary.get("r_per_d"))
    ax.set_title("(d) SubGen vs the Corollary 9 bound" + (rf", $r={rho:g}d$" if rho else ""))
    if rows:
        ax.legend(loc="lower right", fontsize=5.5)


# ---------------------------------------------------------------------------
# subgen_operating: SubGen below its largest cluster
# ---------------------------------------------------------------------------


def subgen_operating_figure(summary: Summary):
    """SubGen at its operating point (experiment ``subgen_operating``).

    (a) how often eq. 17's denominator estimate misses the ``(1 ± ε)`` band against the cache's memory as
    ``t`` runs from 1 to the largest cluster (99% Wilson bars, design-effect sample size), one series per
    ``(d, ε)`` (streams share their series' style), with storing all keys (float32) marked per ``d``;
    (b) memory against ``n`` at ``t = ceil(c ln n)`` with the fitted slope, beside all keys ``32 n d``.
    """
    aspect = 0.42
    with paper(columns=2, aspect=aspect):
        fig = new_figure(2, aspect)
        a, b = fig.subplots(1, 2)
        _operating_failure_panel(a, summary)
        _operating_growth_panel(b, summary.get("growth") or {})
    return fig


def _operating_failure_panel(ax, summary: Summary) -> None:
    from matplotlib.lines import Line2D

    from plots.panels import default_style

    curves = [c for c in summary.get("curves") or [] if c.get("t")]
    keys = sorted({(c.get("d"), c.get("eps")) for c in curves}, key=lambda k: (k[0] or 0, -(k[1] or 0)))
    handles = []
    for k, key in enumerate(keys):
        style = default_style(k)
        for c in (c for c in curves if (c.get("d"), c.get("eps")) == key):
            pts = _pairs(c.get("memory_bits"), c.get("failure_rate"))
            low = [number(x) for x in c.get("failure_low") or []]
            high = [number(x) for x in c.get("failure_high") or []]
            if not pts:
                continue
            xs, ys = [p[0] for p in pts], [p[1] for p in pts]
            ax.plot(xs, ys, color=style["color"], marker=style["marker"], ls=style["ls"], ms=3, lw=0.9)
            if len(low) == len(xs) == len(high) and None not in low and None not in high:
                ax.errorbar(xs, ys, yerr=[np.maximum(0, np.subtract(ys, low)), np.maximum(0, np.subtract(high, ys))],
                            color=style["color"], ls="none", lw=0.6, capsize=1.5)
        handles.append(Line2D([], [], color=style["color"], marker=style["marker"], ls=style["ls"], ms=3, lw=0.9,
                              label=rf"$d={key[0]}$, $\varepsilon={number(key[1]) or 0:g}$"))
    for j, d in enumerate(sorted({c.get("d") for c in curves if number(c.get("keys_bits")) is not None})):
        bits = next(number(c.get("keys_bits")) for c in curves if c.get("d") == d)
        ax.axvline(bits, color=REFERENCE_COLOR, lw=0.7, ls=(0, (1, 1 + j)))
        ax.text(bits, 0.06, f"all keys, $d={d}$ ", transform=ax.get_xaxis_transform(), rotation=90, va="bottom",
                ha="right", fontsize=5, color=REFERENCE_COLOR)
    ax.axhline(0.01, color=REFERENCE_COLOR, lw=0.6, ls="--")
    ax.set_xscale("log")
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("SubGen's memory (bits), $t = 1$ to the largest cluster")
    ax.set_ylabel(r"fraction of queries with $|\hat Z/Z - 1| > \varepsilon$")
    n, s = summary.get("n"), summary.get("s")
    ax.set_title("(a) eq. 17's denominator band" + (f" ($n={_si(n)}$, $s={s}$)" if n and s else ""))
    if handles:
        ax.legend(handles=handles, loc="center", fontsize=5, ncol=2 if len(handles) > 4 else 1)


def _operating_growth_panel(ax, growth: Mapping) -> None:
    """Memory vs ``n`` (:func:`plots.panels.memory_vs_n`): SubGen's streams with their power-law fit,
    beside all keys and the ExactCache."""
    from plots.panels import memory_vs_n

    points = list(growth.get("points") or [])
    series = (("memory_bits", "SubGen, $t=\\lceil c\\ln n\\rceil$, streams"), ("keys_bits", "all keys $32\\,nd$ bits"),
              ("exact_bits", "ExactCache (float32)"))
    memory_vs_n(ax, {label: [(p.get("n"), p.get(key)) for p in points] for key, label in series},
                styles={label: {"ls": ls, "ms": 3} for (_, label), ls in zip(series, ("-", "--", ":"))},
                fit=(series[0][1],), legend={"loc": "upper left", "fontsize": 5.5} if points else False)
    slope, low, high = (number(growth.get(k)) for k in ("slope", "slope_low", "slope_high"))
    c, d = number(growth.get("log_constant")), growth.get("d")
    title = "(b) memory vs $n$"
    if c is not None and d is not None:
        title += f" ($t=\\lceil {c:g}\\ln n\\rceil$, $d={d}$)"
    ax.set_title(title)
    if slope is not None:
        text = f"slope {slope:.2f}" + (f" [{low:.2f}, {high:.2f}] (99% bootstrap)" if low is not None and high is not None else "")
        ax.text(0.98, 0.04, text, transform=ax.transAxes, ha="right", va="bottom", fontsize=6)


# ---------------------------------------------------------------------------
# covering: Lemmas 13-14
# ---------------------------------------------------------------------------


def covering_figure(summary: Summary):
    """HO Lemmas 13-14. (a) greedy ``δ``-net sizes of dense ball samples against ``d`` (log scale), one
    colour per ``δ``, with Lemma 13's ``(3/δ)^d`` (dashed) and the volume lower bound ``(1/δ)^d``
    (dotted). (b) Lemma 14: the printed count ``ceil(e^d)``, what Lemma 13 gives at ``δ = e/3``
    (``(9/e)^d``), the corrected count ``(18/e)^d`` and the greedy nets at radius ``e/3`` and ``e/6``,
    with the largest cluster diameter of each written beside it (the printed radius-``e/3`` clusters
    exceed the diameter ``e/3``)."""
    aspect = 0.45
    with paper(columns=2, aspect=aspect):
        fig = new_figure(2, aspect)
        left, right = fig.subplots(1, 2)
        _covering_nets(left, summary)
        _covering_lemma14(right, summary.get("lemma14") or [])
    return fig


def _covering_nets(ax, summary: Summary) -> None:
    from matplotlib.lines import Line2D

    points = [p for p in summary.get("points") or [] if number(p.get("net_size")) is not None]
    deltas = sorted({p.get("delta") for p in points if number(p.get("delta")) is not None})
    for k, delta in enumerate(deltas):
        rows = sorted((p for p in points if p.get("delta") == delta), key=lambda p: p.get("d", 0))
        ds = [p.get("d") for p in rows]
        for key, style, marker in (("net_size", "-", _marker(k)), ("lemma13", "--", None), ("volume", ":", None)):
            pts = _pairs(ds, [p.get(key) for p in rows])
            if pts:
                ax.plot([q[0] for q in pts], [q[1] for q in pts], color=_color(k), ls=style, marker=marker, ms=3,
                        lw=0.9 if key == "net_size" else 0.7)
    ax.set_yscale("log")
    _integer_ticks(ax)
    handles = [Line2D([], [], color=_color(k), marker=_marker(k), ms=3, lw=0.9, label=rf"greedy net, $\delta={d:g}$")
               for k, d in enumerate(deltas)]
    handles += [Line2D([], [], color="#555555", ls="--", lw=0.7, label=r"$(3/\delta)^d$ (Lemma 13)"),
                Line2D([], [], color="#555555", ls=":", lw=0.7, label=r"$(1/\delta)^d$ (volume)")]
    if points:
        ax.legend(handles=handles, loc="upper left", fontsize=5.5)
    ax.set_xlabel(r"dimension $d$")
    ax.set_ylabel(r"$\delta$-net size")
    sizes = summary.get("sample_sizes") or []
    ax.set_title("(a) Lemma 13: greedy nets" + (f" of {_si(max(sizes))} ball points" if sizes else ""))


def _covering_lemma14(ax, rows) -> None:
    rows = sorted((r for r in rows if r.get("d") is not None), key=lambda r: r["d"])
    ds = [r["d"] for r in rows]
    series = (
        ("printed_m", r"printed $m=\lceil e^d\rceil$", "black", "-", None),
        ("printed_lemma13", r"Lemma 13 at $\delta=e/3$: $(9/e)^d$", "#777777", "--", None),
        ("corrected_m", r"corrected $\lceil(18/e)^d\rceil$", _color(2), "--", None),
        ("printed_net", r"greedy, radius $e/3$", _color(3), "-", "o"),
        ("corrected_net", r"greedy, radius $e/6$", _color(2), "-", "s"),
    )
    for key, label, color, style, marker in series:
        pts = _pairs(ds, [r.get(key) for r in rows])
        if pts:
            ax.plot([p[0] for p in pts], [p[1] for p in pts], color=color, ls=style, marker=marker, ms=3, lw=0.9,
                    label=label)
    for r in rows:
        for key, diam_key, color, dy in (("printed_net", "printed_max_diameter", _color(3), -9),
                                         ("corrected_net", "corrected_max_diameter", _color(2), 4)):
            y, diam = number(r.get(key)), number(r.get(diam_key))
            if y is not None and diam is not None:
                ax.annotate(f"{diam:.2f}", (r["d"], y), textcoords="offset points", xytext=(0, dy), ha="center",
                            fontsize=5.5, color=color)
    ax.set_yscale("log")
    low, high = ax.get_ylim()
    ax.set_ylim(low / 1.6, high)  # room for the labels under the lowest points
    _integer_ticks(ax)
    ax.set_xlabel(r"dimension $d$")
    ax.set_ylabel(r"clusters $m$ (labels: largest diameter)")
    ax.set_title(r"(b) Lemma 14: diameter $e/3\approx0.906$")
    if rows:
        ax.legend(loc="upper left", fontsize=5.5)
