"""Tests of the plotting layer on small synthetic summaries (no experiment is run)."""

from __future__ import annotations

import math

import pytest

# ---------------------------------------------------------------------------
# Synthetic summaries following the schemas of plots.figures
# ---------------------------------------------------------------------------


def figure_for(name):
    """The figure function the experiment ``name`` declares."""
    from barriers.experiments import EXPERIMENTS
    from caches.spec import load_object

    return load_object(EXPERIMENTS[name].figure)


def _binary_entropy(p: float) -> float:
    if p <= 0.0 or p >= 1.0:
        return 0.0
    return -p * math.log2(p) - (1 - p) * math.log2(1 - p)


def _fano(ratio: float) -> float:
    """Best accuracy at memory ratio ``ratio``: 1 - H2^{-1}(1 - ratio), 1 when ratio >= 1."""
    if ratio >= 1:
        return 1.0
    lo, hi = 0.0, 0.5
    for _ in range(60):
        mid = (lo + hi) / 2
        if _binary_entropy(mid) < 1 - ratio:
            lo = mid
        else:
            hi = mid
    return 1 - (lo + hi) / 2


def budget_summary() -> dict:
    n, d = 64, 16
    bits = n * d
    points = []

    def add(cache, family, memory_bits, accuracy, halfwidth=0.02):
        ratio = memory_bits / bits
        points.append({
            "cache": cache, "family": family, "memory_bits": memory_bits, "bits_encoded": bits,
            "memory_ratio": ratio, "accuracy": accuracy,
            "accuracy_low": max(0.0, accuracy - halfwidth), "accuracy_high": min(1.0, accuracy + halfwidth),
            "trials": 200, "fano_max_accuracy": _fano(ratio),
        })

    for dtype, width in (("float64", 64), ("float32", 32), ("float16", 16)):
        add(f"ExactCache(dtype='{dtype}')", "ExactCache", 2 * n * d * width + 64, 1.0, 0.0)
    for keep in (4, 16, 32, 48):
        add(f"EvictionCache(keep={keep})", "EvictionCache", 2 * keep * d * 32, 0.5 + 0.5 * keep / n)
    for rank in (1, 2, 4, 8):
        add(f"LowRankCache(rank={rank})", "LowRankCache", rank * (n + d) * 32, min(1.0, 0.55 + 0.05 * rank))
    for width in (1, 4, 16, 64):
        add(f"SketchCache(width={width})", "SketchCache", width * 8, 0.5 + 0.4 * _fano(width * 8 / bits) - 0.2)
    ratios = [10 ** (k / 20) for k in range(-70, 1)]
    return {
        "experiment": "budget", "n": n, "d": d, "bits_encoded": bits, "points": points,
        "frontier": {"ratio": ratios, "accuracy": [_fano(r) for r in ratios]},
    }


def phase_summary() -> dict:
    log2_ns = [4, 6, 8, 10, 12]
    ds = [8, 16, 32, 64, 128, 256, 512]
    points = []
    for log2_n in log2_ns:
        n = 2**log2_n
        for d in ds:
            eps = min(1.2, 2.2 * math.sqrt(math.log(n) / d))
            theorem_c = 2 * math.log(n) / (1 - 2 * eps) if eps < 0.5 else None
            ok = None if theorem_c is None else eps < 0.3
            min_c = (1.2 * math.log(n) / (1 - 2 * eps) if eps < 0.4
                     else 3 * math.log(n) * (1 + eps) if eps < 0.9 else None)
            points.append({
                "log2_n": log2_n, "n": n, "d": d, "eps_measured": eps, "theorem_C": theorem_c,
                "accuracy_theorem_C": None if ok is None else (1.0 if ok else 0.8),
                "success_theorem_C": ok,
                "min_C": None if min_c is None else round(min_c * 2) / 2,
                "accuracy_min_C": None if min_c is None else 0.995,
            })

    def boundary(pred):
        out = []
        for log2_n in log2_ns:
            good = [p["d"] for p in points if p["log2_n"] == log2_n and pred(p)]
            out.append(min(good) if good else None)
        return out

    ns = [2**k for k in log2_ns]
    return {
        "experiment": "phase", "log2_n_values": log2_ns, "d_values": ds, "points": points,
        "lemma3": {
            "eps": 0.5, "n": ns, "log2_n": log2_ns,
            "d_printed": [12 * math.log(n) / 0.125 for n in ns],
            "d_corrected": [4 * math.log(4 * n**3) / 0.125 for n in ns],
        },
        "empirical_boundary": {
            "log2_n": log2_ns,
            "d_theorem_C": boundary(lambda p: p["success_theorem_C"] is True),
            "d_min_C": boundary(lambda p: p["min_C"] is not None),
        },
    }


def threshold_summary() -> dict:
    n, d, eps = 256, 512, 0.18
    curves = []
    cs = [0.5 * k for k in range(1, 41)]
    for eta in (0.1, 0.5, 0.9):
        shift = math.log((1 + eta) / (1 - eta))
        exact = (math.log(n) + shift) / (1 - 2 * eps)
        necessary = (math.log(n) + shift) * 0.8
        curves.append({
            "eta": eta, "C": cs,
            "accuracy": [0.5 + 0.5 / (1 + math.exp(-(c - necessary) * 1.5)) for c in cs],
            "theorem_threshold": exact, "printed_threshold": math.log(n) + shift,
            "necessary_threshold": necessary if eta != 0.5 else None,
        })
    return {"experiment": "threshold", "n": n, "d": d, "eps_measured": eps, "curves": curves}


def jl_summary() -> dict:
    ns = [64, 256, 1024]
    ds = [16, 32, 64, 128, 256, 512, 1024, 2048, 4096]
    rows, lemma = [], []
    for codebook, factor in (("gaussian", 2.4), ("normalized", 2.0)):
        for n in ns:
            for d in ds:
                eps = factor * math.sqrt(math.log(n) / d)
                rows.append({"codebook": codebook, "n": n, "d": d, "eps_mean": eps, "eps_max": eps * 1.15,
                             "offdiag_mean": eps / 3, "diag_mean": 1.0})
    for n in ns:
        for d in ds:
            lemma.append({"n": n, "d": d,
                          "guaranteed_eps_printed": _solve_eps(12 * math.log(n) / d),
                          "guaranteed_eps_corrected": _solve_eps(4 * math.log(4 * n**3) / d)})
    return {"experiment": "jl", "codebooks": ["gaussian", "normalized"], "n_values": ns, "d_values": ds,
            "rows": rows, "lemma3": {"rows": lemma}}


def _solve_eps(target: float) -> float | None:
    """Smallest eps in (0, 1/2) with eps^2 - eps^3 >= target, else None."""
    if target > 0.125:
        return None
    lo, hi = 0.0, 0.5
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if mid**2 - mid**3 < target else (lo, mid)
    return hi


SUMMARIES = {
    "budget": budget_summary,
    "phase": phase_summary,
    "threshold": threshold_summary,
    "jl": jl_summary,
}
EXPECTED_AXES = {"budget": 2, "phase": 2, "threshold": 1, "jl": 1}


# ---------------------------------------------------------------------------
# Tests
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(SUMMARIES))
def test_figure_returns_figure_with_expected_axes(name):
    from matplotlib.figure import Figure

    fig = figure_for(name)(SUMMARIES[name]())
    assert isinstance(fig, Figure)
    assert len(fig.axes) == EXPECTED_AXES[name]
    for ax in fig.axes:
        assert ax.get_xlabel() and ax.get_ylabel() and ax.get_title()


def test_every_experiment_has_a_figure_and_a_synthetic_summary():
    from barriers.experiments import EXPERIMENTS

    for name in SUMMARIES:
        assert SUMMARIES[name]()["experiment"] == name
        assert callable(figure_for(name))
    assert set(SUMMARIES) <= set(EXPERIMENTS)


@pytest.mark.parametrize("name", sorted(SUMMARIES))
def test_save_is_byte_identical_and_atomic(name, tmp_path):
    import matplotlib

    from plots.save import save_figure

    rc_before = dict(matplotlib.rcParams)
    summary = SUMMARIES[name]()
    first = save_figure(figure_for(name)(summary), tmp_path / "out" / name)
    assert [p.name for p in first] == [f"{name}.pdf", f"{name}.png"]
    first_bytes = [p.read_bytes() for p in first]
    # A fresh figure from the same summary, saved over the old files, gives the same bytes.
    second = save_figure(figure_for(name)(summary), tmp_path / "out" / name)
    assert second == first
    for path, old in zip(second, first_bytes):
        assert path.read_bytes() == old, path.name
    pdf, png = first_bytes
    assert pdf.startswith(b"%PDF") and b"CreationDate" not in pdf and b"ModDate" not in pdf
    assert png.startswith(b"\x89PNG") and b"Software" not in png
    # Only the two targets exist: no temporary file was left behind.
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == [f"{name}.pdf", f"{name}.png"]
    assert dict(matplotlib.rcParams) == rc_before


def test_failed_write_leaves_no_temporary_file(tmp_path, monkeypatch):
    import os

    from plots import save
    from plots.figures import threshold_figure

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        save.save_figure(threshold_figure(threshold_summary()), tmp_path / "fig")
    assert list(tmp_path.iterdir()) == []


def test_pdf_embeds_truetype_fonts():
    from plots.figures import budget_figure
    from plots.save import figure_bytes

    data = figure_bytes(budget_figure(budget_summary()), "pdf")
    assert b"/FontFile2" in data  # Type 42 (TrueType) embedding
    assert b"/Subtype /Type3" not in data


def test_style_bundle():
    from plots.style import FULL_WIDTH, SINGLE_COLUMN_WIDTH, figure_size, paper_style

    style = paper_style()
    assert style["pdf.fonttype"] == 42 and style["ps.fonttype"] == 42
    assert style["text.usetex"] is False
    assert style["font.sans-serif"][0] == "DejaVu Sans"
    assert figure_size(1, aspect=0.5) == (SINGLE_COLUMN_WIDTH, SINGLE_COLUMN_WIDTH * 0.5)
    assert figure_size(2)[0] == FULL_WIDTH
    with pytest.raises(ValueError):
        figure_size(3)
    style["font.size"] = 99
    assert paper_style()["font.size"] != 99  # a fresh dict each call


def test_style_is_valid_rcparams_and_applies_inside_context():
    import matplotlib

    from plots.style import paper, paper_style

    matplotlib.RcParams(paper_style())  # validates every key and value
    with paper() as applied:
        assert matplotlib.rcParams["pdf.fonttype"] == 42
        assert matplotlib.rcParams["font.size"] == applied["font.size"]


def test_building_figures_leaves_global_rcparams_unchanged():
    import matplotlib

    from plots.style import paper

    before = dict(matplotlib.rcParams)
    with paper(columns=2):
        assert dict(matplotlib.rcParams) != before
    for name, make in SUMMARIES.items():
        figure_for(name)(make())
    assert dict(matplotlib.rcParams) == before


def test_importing_plots_does_not_touch_rcparams():
    import importlib
    import sys

    import matplotlib

    before = dict(matplotlib.rcParams)
    for module in ("plots.style", "plots.save", "plots.figures"):
        sys.modules.pop(module, None)
        importlib.import_module(module)
    assert dict(matplotlib.rcParams) == before


def test_figures_tolerate_missing_optional_keys_and_none():
    budget = budget_summary()
    del budget["frontier"]
    budget["points"][0]["accuracy_low"] = None
    for p in budget["points"]:
        p.pop("family")
    assert len(figure_for("budget")(budget).axes) == 2

    phase = phase_summary()
    del phase["lemma3"], phase["empirical_boundary"]
    for p in phase["points"]:
        p["min_C"] = None
    assert len(figure_for("phase")(phase).axes) == 2

    threshold = threshold_summary()
    for curve in threshold["curves"]:
        curve.pop("necessary_threshold")
    threshold.pop("eps_measured")
    assert len(figure_for("threshold")(threshold).axes) == 1

    jl = jl_summary()
    del jl["lemma3"]
    jl["rows"][0]["eps_max"] = None
    assert len(figure_for("jl")(jl).axes) == 1


def test_empty_summaries_do_not_crash():
    for name in SUMMARIES:
        fig = figure_for(name)({"experiment": name})
        assert fig.axes


def _legend_labels(fig) -> set[str]:
    legends = list(fig.legends) + [ax.get_legend() for ax in fig.axes if ax.get_legend()]
    return {t.get_text() for legend in legends for t in legend.get_texts()}


def test_jl_accepts_every_lemma3_layout():
    from plots.figures import jl_figure

    brief = jl_summary()
    listed = jl_summary()
    listed["lemma3"] = {"guaranteed_eps": [
        {"n": r["n"], "d": r["d"], "printed": r["guaranteed_eps_printed"], "corrected": r["guaranteed_eps_corrected"]}
        for r in listed["lemma3"]["rows"]]}
    in_rows = jl_summary()
    guarantees = {(r["n"], r["d"]): r for r in in_rows.pop("lemma3")["rows"]}
    for row in in_rows["rows"]:
        g = guarantees[row["n"], row["d"]]
        row["lemma3_guaranteed_eps_printed"] = g["guaranteed_eps_printed"]
        row["lemma3_guaranteed_eps_corrected"] = g["guaranteed_eps_corrected"]
    for summary in (brief, listed, in_rows):
        assert {"Lemma 3 (printed)", "Lemma 3 (corrected)"} <= _legend_labels(jl_figure(summary))


def test_phase_marks_lemma3_inside_grid_only_when_reached():
    from plots.figures import phase_figure

    summary = phase_summary()
    assert "$d$ Lemma 3 asks (corrected)" in _legend_labels(phase_figure(summary))
    summary["d_values"] = [d for d in summary["d_values"] if d < 256]
    summary["points"] = [p for p in summary["points"] if p["d"] < 256]
    assert "$d$ Lemma 3 asks (corrected)" not in _legend_labels(phase_figure(summary))


def _shaded_x_range(ax) -> tuple[float, float]:
    """The x-extent of the "impossible (Fano)" shading on ``ax``."""
    import numpy as np

    (shade,) = [c for c in ax.collections if c.get_label() == "impossible (Fano)"]
    xs = np.concatenate([path.vertices[:, 0] for path in shade.get_paths()])
    return float(xs.min()), float(xs.max())


def _assert_shading_covers(ax, ratio: float) -> None:
    """The shading spans the axis' whole x-range, ``ratio`` included, and its edge is HO Theorem 5's frontier."""
    import numpy as np

    from protocols.fano import frontier_curve

    low, high = ax.get_xlim()
    shaded_low, shaded_high = _shaded_x_range(ax)
    assert low <= ratio <= high
    assert shaded_low <= low * (1 + 1e-9) and shaded_high >= high * (1 - 1e-9)
    (line,) = [l for l in ax.get_lines() if len(l.get_xdata()) > 50]  # the frontier, sampled densely
    xs, ys = (np.asarray(v, dtype=float) for v in (line.get_xdata(), line.get_ydata()))
    edge = np.interp(np.log(ratio), np.log(xs), ys)
    assert abs(edge - float(frontier_curve(ratio))) < 1e-3


def test_budget_shading_covers_a_point_left_of_the_summary_frontier():
    summary = budget_summary()
    bits = summary["bits_encoded"]
    summary["frontier"] = {"ratio": [1e-3, 1e-2, 0.1, 1.0], "accuracy": [_fano(r) for r in (1e-3, 1e-2, 0.1, 1.0)]}
    summary["points"].append({"cache": "TinyCache()", "family": "TinyCache", "memory_bits": 5e-4 * bits,
                              "bits_encoded": bits, "memory_ratio": 5e-4, "accuracy": 0.5, "trials": 10})
    _assert_shading_covers(figure_for("budget")(summary).axes[0], 5e-4)


def test_tensor_d1_and_knn_game_panels_shade_the_whole_axis():
    from plots.style import new_figure
    from plots.tensor import game_panel

    point = {"cache": "TinyCache()", "family": "TinyCache", "memory_ratio": 5e-4, "accuracy": 0.5}
    ax = new_figure(1, 0.6).subplots()
    game_panel(ax, {"points": [point], "frontier": {"ratio": [1e-3, 1.0], "accuracy": [0.5, 1.0]}})
    _assert_shading_covers(ax, 5e-4)
    _assert_shading_covers(figure_for("scalar")({"points": [point]}).axes[2], 5e-4)
    _assert_shading_covers(figure_for("knn_game")({"points": [point]}).axes[0], 5e-4)
