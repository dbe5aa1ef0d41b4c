"""Tests of plots.panels.accuracy_vs_memory, the INDEX-game panel every game figure draws."""

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
