"""Tests of plots.panels: accuracy_vs_memory (the INDEX-game panel), success_vs_C and memory_vs_n."""

from __future__ import annotations

import numpy as np
import pytest

from protocols.fano import frontier_curve, frontier_for

#: Experiments whose figure has an accuracy-vs-memory panel (the panel of plots.panels).
GAME_FIGURES = ("budget", "tensor_game", "window", "scalar", "knn_game", "cor16")


def _axes():
    from plots.style import new_figure, paper

    with paper(columns=1, aspect=0.6):
        return new_figure(1, 0.6).subplots()


def _points(families: int, per_family: int = 3) -> list[dict]:
    points = []
    for f in range(families):
        for j in range(per_family):
            ratio = 10.0 ** (-3 + 0.4 * f + 0.3 * j)
            acc = float(min(frontier_curve(ratio), 0.55 + 0.01 * j))
            points.append({"cache": f"Family{f}(k={j})", "family": f"Family{f}", "memory_ratio": ratio,
                           "accuracy": acc, "accuracy_low": acc - 0.02, "accuracy_high": min(1.0, acc + 0.02)})
    return points


def _shading(ax):
    (shade,) = [c for c in ax.collections if c.get_label() == "impossible (Fano)"]
    return np.concatenate([path.vertices for path in shade.get_paths()])


def _frontier_line(ax):
    (line,) = [l for l in ax.get_lines() if l.get_label() == "Fano frontier"]
    return np.asarray(line.get_xdata(), dtype=float), np.asarray(line.get_ydata(), dtype=float)


def _series_lines(ax):
    from matplotlib.container import ErrorbarContainer

    return [c.lines[0] for c in ax.containers if isinstance(c, ErrorbarContainer)]


def test_the_panel_draws_every_point_with_its_error_bar():
    from plots.panels import accuracy_vs_memory

    points = _points(10)  # more families than colours
    ax = _axes()
    accuracy_vs_memory(ax, {"points": points, "frontier": frontier_for(points)})
    drawn = sorted((x, y) for line in _series_lines(ax) for x, y in zip(line.get_xdata(), line.get_ydata()))
    assert drawn == sorted((p["memory_ratio"], p["accuracy"]) for p in points)
    low, high = ax.get_xlim()
    assert all(low < p["memory_ratio"] < high for p in points)
    bars = [c for c in ax.containers if c.has_yerr]
    assert sum(len(c.lines[2][0].get_segments()) for c in bars) == len(points)


def test_no_two_legend_entries_share_colour_marker_and_line_style():
    from plots.panels import accuracy_vs_memory

    points = _points(60, per_family=1)  # beyond palette x markers
    # two families asked for the same look: the later one is moved to a free marker
    styles = {"Family0": {"color": "#000000", "marker": "o", "ls": "-"},
              "Family1": {"color": "#000000", "marker": "o", "ls": "-"}}
    ax = _axes()
    accuracy_vs_memory(ax, {"points": points, "frontier": frontier_for(points)}, styles=styles)
    handles, labels = ax.get_legend_handles_labels()
    series = {label: h.lines[0] for h, label in zip(handles, labels) if hasattr(h, "lines")}
    assert len(series) == 60
    looks = [(line.get_color(), line.get_marker(), line.get_linestyle()) for line in series.values()]
    assert len(set(looks)) == len(looks)
    # each legend swatch looks like its drawn series
    swatches = _legend_swatches(ax.legend())
    for label, line in series.items():
        swatch = swatches[label]  # (line part, marker part) of the entry
        assert {a.get_color() for a in swatch} == {line.get_color()}
        assert {a.get_marker() for a in swatch} - {"none", "None"} == {line.get_marker()}
        assert {a.get_linestyle() for a in swatch} - {"None"} == {line.get_linestyle()}


def _legend_swatches(legend) -> dict:
    """Legend text -> the Line2D artists of its swatch."""
    from matplotlib.lines import Line2D
    from matplotlib.offsetbox import DrawingArea, HPacker, TextArea

    out = {}
    for box in legend.findobj(HPacker):
        children = box.get_children()
        if len(children) == 2 and isinstance(children[0], DrawingArea) and isinstance(children[1], TextArea):
            out[children[1].get_text()] = [a for a in children[0].get_children() if isinstance(a, Line2D)]
    return out


@pytest.mark.parametrize("xlim", [None, (1e-7, 300.0)])
def test_the_shading_covers_the_axis_and_its_edge_is_the_frontier(xlim):
    from plots.panels import accuracy_vs_memory

    points = _points(3)
    summary = {"points": points, "frontier": frontier_for(points)}
    ax = _axes()
    accuracy_vs_memory(ax, summary, xlim=xlim)  # (1e-7, 300): beyond the stored grid on both sides
    low, high = ax.get_xlim()
    shade = _shading(ax)
    assert shade[:, 0].min() <= low * (1 + 1e-9) and shade[:, 0].max() >= high * (1 - 1e-9)
    assert shade[:, 1].max() >= ax.get_ylim()[1]  # up to the top of the axis
    xs, ys = _frontier_line(ax)
    probe = np.geomspace(low, high, 97)
    edge = np.interp(np.log(probe), np.log(xs), ys)
    assert np.max(np.abs(edge - frontier_curve(probe))) < 2e-3


def test_a_summary_without_frontier_falls_back_to_protocols_fano():
    from plots.panels import accuracy_vs_memory

    points = _points(2)
    ax = _axes()
    accuracy_vs_memory(ax, {"points": points})
    xs, ys = _frontier_line(ax)
    inside = (xs >= 1e-4) & (xs <= 2.0)
    np.testing.assert_allclose(ys[inside], frontier_curve(xs[inside]), atol=1e-12)


@pytest.mark.parametrize("frontier", [
    {"memory_ratio": [1e-3, 1.0], "max_accuracy": [0.5, 1.0]},  # the old per-module keys
    {"ratio": [1e-3, 1.0], "accuracy": [0.5]},
    [0.5, 1.0],
])
def test_a_malformed_frontier_is_a_clear_error(frontier):
    from plots.panels import accuracy_vs_memory

    with pytest.raises(ValueError, match="frontier_for"):
        accuracy_vs_memory(_axes(), {"points": _points(1), "frontier": frontier})


@pytest.mark.parametrize("name", GAME_FIGURES)
def test_every_game_figure_draws_the_panel(name):
    from barriers.experiments import EXPERIMENTS
    from caches.spec import load_object

    point = {"cache": "TinyCache()", "family": "TinyCache", "memory_ratio": 5e-4, "accuracy": 0.5,
             "accuracy_low": 0.45, "accuracy_high": 0.55, "role": "window algorithm"}
    fig = load_object(EXPERIMENTS[name].figure)({"points": [point], "frontier": frontier_for([point])})
    panels = [ax for ax in fig.axes if any(c.get_label() == "impossible (Fano)" for c in ax.collections)]
    assert len(panels) == 1
    (ax,) = panels
    low, high = ax.get_xlim()
    assert low < 5e-4 < high
    shade = _shading(ax)
    assert shade[:, 0].min() <= low * (1 + 1e-9) and shade[:, 0].max() >= high * (1 - 1e-9)
    assert any(5e-4 in line.get_xdata() or np.isclose(line.get_xdata(), 5e-4, rtol=0.5).any()
               for line in _series_lines(ax))


# ---------------------------------------------------------------------------
# success_vs_C and memory_vs_n
# ---------------------------------------------------------------------------


def _curves(count: int = 3) -> list[dict]:
    grid = [1.0, 2.0, 4.0, 8.0, 16.0, 32.0]
    curves = []
    for k in range(count):
        acc = [min(1.0, 0.5 + 0.1 * j - 0.05 * k) for j in range(len(grid))]
        curves.append({"eta": 0.1 * k, "C": grid, "accuracy": acc, "correct": [round(a * 200) for a in acc],
                       "total": [200] * len(grid), "theorem_threshold": 10.0 + k,
                       "theorem_threshold_interval": [9.0 + k, 11.5 + k], "printed_threshold": 3.0 + k,
                       "necessary_threshold": 2.0 + 0.5 * k if k else None})
    return curves


def _series(ax):
    """Labelled data lines of an axes (errorbar lines included), label -> Line2D."""
    from matplotlib.container import ErrorbarContainer

    lines = {c.get_label(): c.lines[0] for c in ax.containers if isinstance(c, ErrorbarContainer)}
    lines.update({line.get_label(): line for line in ax.get_lines() if not line.get_label().startswith("_")
                  and len(line.get_xdata())})
    return lines


def _vertical_lines(ax) -> list:
    return [line for line in ax.get_lines() if len(line.get_xdata()) == 2 and line.get_xdata()[0] == line.get_xdata()[1]
            and list(line.get_ydata()) == [0, 1]]


def _band_spans(ax) -> list[tuple[float, float]]:
    spans = []
    for patch in ax.patches:
        xs = patch.get_patch_transform().transform(patch.get_path().vertices)[:, 0]
        spans.append((float(xs.min()), float(xs.max())))
    return spans


def test_success_vs_C_draws_one_distinct_series_per_curve_with_its_thresholds():
    from plots.panels import ACCURACY_LABEL, C_LABEL, success_vs_C

    curves = _curves(3)
    ax = _axes()
    drawn = success_vs_C(ax, curves, thresholds=(("theorem_threshold", "theorem", "--"),
                                                 ("printed_threshold", "printed", ":"),
                                                 ("necessary_threshold", "necessary", "^")))
    series = {k: v for k, v in _series(ax).items() if k.startswith("$")}
    assert len(series) == len(drawn) == 3
    looks = {(line.get_color(), line.get_marker(), line.get_linestyle()) for line in series.values()}
    assert len(looks) == 3
    for line, curve in zip(series.values(), curves):
        assert list(line.get_xdata()) == curve["C"] and list(line.get_ydata()) == curve["accuracy"]
    # a vertical line per curve and threshold kind, in the curve's colour and the kind's line style
    vertical = _vertical_lines(ax)
    for line, curve in zip(series.values(), curves):
        for key, ls in (("theorem_threshold", "--"), ("printed_threshold", ":")):
            assert any(v.get_xdata()[0] == curve[key] and v.get_color() == line.get_color() and v.get_linestyle() == ls
                       for v in vertical)
    # the necessary threshold is a triangle on the C axis where given (not for the first curve)
    triangles = [l for l in ax.get_lines() if l.get_marker() == "^" and len(l.get_xdata()) == 1]
    assert sorted(float(t.get_xdata()[0]) for t in triangles) == [2.5, 3.0]
    # one shaded band per theorem_threshold_interval
    assert sorted(_band_spans(ax)) == [(9.0 + k, 11.5 + k) for k in range(3)]
    labels = ax.get_legend().get_texts()
    assert {"theorem", "printed", "necessary", "99% interval"} <= {t.get_text() for t in labels}
    assert any(l.get_ydata()[0] == 0.5 for l in ax.get_lines() if list(l.get_ydata()) == [0.5, 0.5])  # chance
    assert ax.get_xlabel() == C_LABEL and ax.get_ylabel() == ACCURACY_LABEL
    assert ax.get_xscale() == "log"  # C spans a factor 32


def test_success_vs_C_marks_only_the_thresholds_a_curve_has():
    from plots.panels import success_vs_C

    curves = _curves(2)
    for curve in curves:
        curve.pop("theorem_threshold_interval")
        curve.pop("correct")
    curves[1]["theorem_threshold"] = None
    ax = _axes()
    success_vs_C(ax, curves, flipped=True)
    assert _band_spans(ax) == []  # no interval key: no band
    assert [v.get_xdata()[0] for v in _vertical_lines(ax)] == [10.0]
    assert not ax.containers  # no correct/total: no error bars
    texts = {t.get_text() for t in ax.get_legend().get_texts()}
    assert "99% interval" not in texts and "theorem threshold" in texts
    assert "flipped decoder" not in texts  # no flipped_accuracy given


def test_success_vs_C_with_no_curves_still_draws_an_empty_panel():
    from plots.panels import success_vs_C

    ax = _axes()
    assert success_vs_C(ax, []) == []
    assert any(t.get_text() == "no data" for t in ax.texts)


def test_memory_vs_n_draws_series_and_reference_lines():
    from plots.panels import MEMORY_LABEL, TOKENS_LABEL, memory_vs_n

    ns = [16, 32, 64, 128]
    series = {f"Cache{k}": [(n, (k + 1) * n * 8) for n in ns] for k in range(9)}
    series["Empty"] = [(16, None), (32, 0)]  # nothing positive to draw: skipped
    ax = _axes()
    drawn = memory_vs_n(ax, series, references=[("n d", lambda n: 8 * n), ("flat", 100.0),
                                                ("pairs", [(16, 1.0), (128, 2.0)], {"color": "black"})])
    lines = _series(ax)
    assert len(drawn) == 9 and "Empty" not in lines
    looks = {(lines[f"Cache{k}"].get_color(), lines[f"Cache{k}"].get_marker(), lines[f"Cache{k}"].get_linestyle())
             for k in range(9)}
    assert len(looks) == 9
    np.testing.assert_allclose(lines["Cache2"].get_ydata(), [3 * n * 8 for n in ns])
    ref = lines["n d"]
    assert ref.get_xdata()[0] == 16 and ref.get_xdata()[-1] == pytest.approx(128)
    np.testing.assert_allclose(ref.get_ydata(), 8 * np.asarray(ref.get_xdata()))
    assert set(lines["flat"].get_ydata()) == {100.0}
    assert list(lines["pairs"].get_xdata()) == [16, 128] and lines["pairs"].get_color() == "black"
    assert ax.get_xscale() == ax.get_yscale() == "log"
    assert ax.get_xlabel() == TOKENS_LABEL and ax.get_ylabel() == MEMORY_LABEL
    assert {t.get_text() for t in ax.get_legend().get_texts()} >= {"Cache0", "n d", "flat", "pairs"}


def test_memory_vs_n_fits_a_power_law_through_the_series_asked():
    from plots.panels import memory_vs_n

    ns = [16.0, 32.0, 64.0, 128.0]
    ax = _axes()
    memory_vs_n(ax, {"streams": [(n, 5 * n ** 0.5) for n in ns]}, fit=("streams",), ylog=False)
    assert ax.get_yscale() == "linear"
    (fit,) = [l for l in ax.get_lines() if len(l.get_xdata()) == 2]
    np.testing.assert_allclose(fit.get_ydata(), [5 * 16 ** 0.5, 5 * 128 ** 0.5])
    assert "streams (fit)" in {t.get_text() for t in ax.get_legend().get_texts()}


#: (module the panel is looked up in, panel function, figure function) of every figure drawn by the two panels.
PANEL_FIGURES = (
    ("plots.figures", "success_vs_C", "threshold_figure"),
    ("plots.tensor", "success_vs_C", "tensor_threshold_figure"),
    ("plots.window", "success_vs_C", "window_figure"),
    ("plots.tensor", "memory_vs_n", "tensor_memory_figure"),
    ("plots.window", "memory_vs_n", "window_memory_figure"),
    ("plots.budget_limits", "memory_vs_n", "designed_memory_figure"),
    ("plots.panels", "memory_vs_n", "plots.lowdim:subgen_operating_figure"),
    ("plots.panels", "memory_vs_n", "plots.lowdim:thm15_figure"),
)


@pytest.mark.parametrize("module, panel, figure", PANEL_FIGURES)
def test_every_c_sweep_and_memory_figure_draws_the_shared_panel(monkeypatch, module, panel, figure):
    import importlib

    target = importlib.import_module(module)
    original = getattr(target, panel)
    calls = []

    def spy(*args, **kwargs):
        calls.append(args)
        return original(*args, **kwargs)

    monkeypatch.setattr(target, panel, spy)
    where, name = figure.split(":") if ":" in figure else (module, figure)
    getattr(importlib.import_module(where), name)({})
    assert calls
