"""Every registered figure, drawn from its committed summary, has legend entries a reader can tell
apart, and each legend swatch shows the line style of the artist it names.

A legend entry is read from what the legend actually draws (the artists in its handle box), so an
errorbar entry is judged by its line and marker, not by the error-bar collection matplotlib keeps
in ``Legend.legend_handles``. The artist an entry names is the handle given to the legend (recorded
while the figure is built); a proxy handle that is not drawn anywhere is matched to the drawn
artists with its label, else with its colour, else with its line style.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

RESULTS = Path(__file__).resolve().parents[1] / "docs" / "results"


def _names():
    from barriers.experiments import EXPERIMENTS

    return sorted(EXPERIMENTS)


# ---------------------------------------------------------------------------
# Reading legends
# ---------------------------------------------------------------------------


def _hex(color) -> str:
    from matplotlib.colors import to_hex

    return to_hex(color, keep_alpha=True)


def _dash(artist):
    """Normalised line style: ``None`` for no line, else ``(offset, dash sequence)``."""
    from matplotlib.collections import Collection

    if isinstance(artist, Collection):
        styles = artist.get_linestyle()
        widths = artist.get_linewidth()
        if len(widths) and max(widths) == 0:
            return None
        offset, seq = styles[0] if len(styles) else (0.0, None)
        return (float(offset), tuple(seq) if seq is not None else None)
    style = artist.get_linestyle()
    if style in ("None", "none", "", " ") or artist.get_linewidth() == 0:
        return None
    offset, seq = getattr(artist, "_unscaled_dash_pattern", (0.0, None))
    return (float(offset), tuple(float(v) for v in seq) if seq is not None else None)


def _visible(artist) -> bool:
    alpha = artist.get_alpha()
    return artist.get_visible() and (alpha is None or alpha > 0)


def _artist_signature(artist):
    """What a reader sees of one swatch artist: colour, marker, fill and line style (not sizes)."""
    from matplotlib.collections import Collection
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    if isinstance(artist, Line2D):
        marker = artist.get_marker()
        marker = None if marker in (None, "None", "none", "", " ") else str(marker)
        face = _hex(artist.get_markerfacecolor()) if marker and artist.get_markerfacecolor() not in ("none", None) \
            else "none"
        dash = _dash(artist)
        if marker is None and dash is None:
            return None
        return ("line", _hex(artist.get_color()), marker, face if marker else None, dash)
    if isinstance(artist, Patch):
        return ("patch", _hex(artist.get_facecolor()), _hex(artist.get_edgecolor()) if artist.get_linewidth() else None,
                artist.get_hatch(), _dash(artist) if artist.get_linewidth() else None)
    if isinstance(artist, Collection):
        paths = tuple(tuple(map(tuple, p.vertices.round(3).tolist())) for p in artist.get_paths()[:1])
        faces = tuple(_hex(c) for c in artist.get_facecolor())
        edges = tuple(_hex(c) for c in artist.get_edgecolor())
        hatch = artist.get_hatch() if hasattr(artist, "get_hatch") else None
        return ("collection", type(artist).__name__, faces, edges, hatch, _dash(artist), paths)
    return None


def legend_entries(legend):
    """``[(label, [swatch artists])]`` of a legend, in order, from its drawn handle boxes."""
    from matplotlib.offsetbox import DrawingArea, HPacker, TextArea

    entries = []

    def walk(box):
        children = box.get_children()
        if isinstance(box, HPacker) and len(children) == 2 and isinstance(children[0], DrawingArea) \
                and isinstance(children[1], TextArea):
            entries.append((children[1].get_text(), list(children[0].get_children())))
            return
        for child in children:
            if hasattr(child, "get_children") and not isinstance(child, (DrawingArea, TextArea)):
                walk(child)

    walk(legend._legend_handle_box)
    return entries


def entry_signature(artists):
    """Signature of a whole legend entry (``None`` when nothing visible is drawn)."""
    parts = sorted((s for a in artists if _visible(a) and (s := _artist_signature(a)) is not None), key=repr)
    return tuple(parts) or None


def _legends(fig):
    found = list(fig.legends)
    for ax in fig.axes:
        if ax.get_legend() is not None:
            found.append(ax.get_legend())
    return found


def duplicate_entries(fig) -> list[str]:
    """Messages for entries of one legend that look the same (each panel's legend is read on its own;
    a figure legend speaks for every panel)."""
    problems = []
    for legend in _legends(fig):
        seen = {}
        for label, artists in legend_entries(legend):
            if not label.strip():
                continue  # padding entry
            signature = entry_signature(artists)
            if signature is None:
                continue
            if signature in seen and seen[signature] != label:
                problems.append(f"legend entries {seen[signature]!r} and {label!r} look identical: {signature}")
            seen.setdefault(signature, label)
    return problems


def _drawn_artists(fig):
    """Every artist drawn on the figure's axes, containers expanded to their data lines."""
    from matplotlib.container import ErrorbarContainer

    out = []
    for ax in fig.axes:
        out += list(ax.lines) + list(ax.collections) + list(ax.patches)
        for container in ax.containers:
            if isinstance(container, ErrorbarContainer) and container.lines[0] is not None:
                out.append(container.lines[0])
    return out


def _color_of(artist):
    from matplotlib.collections import Collection
    from matplotlib.patches import Patch

    if isinstance(artist, Collection):
        colors = list(artist.get_edgecolor()) + list(artist.get_facecolor())
        return {_hex(c)[:7] for c in colors}
    if isinstance(artist, Patch):
        return {_hex(artist.get_edgecolor())[:7], _hex(artist.get_facecolor())[:7]}
    return {_hex(artist.get_color())[:7]}


def _neutral(color) -> bool:
    """Grey or black (a style key, not a series colour)."""
    from matplotlib.colors import to_rgb

    r, g, b = to_rgb(color)
    return max(r, g, b) - min(r, g, b) < 0.02


def style_mismatches(fig, origins) -> list[str]:
    """Messages for legend handles whose line style differs from the artist they label.

    ``origins`` maps ``id(legend)`` to the ``(handle, label)`` pairs the legend was built from.
    """
    from matplotlib.container import ErrorbarContainer
    from matplotlib.lines import Line2D

    drawn = _drawn_artists(fig)
    drawn_ids = {id(a) for a in drawn}
    problems = []
    for legend in _legends(fig):
        for handle, label in origins.get(id(legend), []):
            if isinstance(handle, ErrorbarContainer):
                handle = handle.lines[0]
            if not isinstance(handle, Line2D) or not str(label).strip() or not _visible(handle):
                continue
            dash = _dash(handle)
            if id(handle) in drawn_ids:
                rendered = [a for text, artists in legend_entries(legend) if text == label for a in artists
                            if isinstance(a, Line2D) and _dash(a) is not None]
                if dash is not None and rendered and all(_dash(a) != dash for a in rendered):
                    problems.append(f"legend swatch of {label!r} is not drawn in the line style of its series")
                continue
            if dash is None:
                continue  # a marker-only proxy: nothing to match
            lines = [a for a in drawn if _dash(a) is not None and a.get_visible()]
            named = [a for a in lines if a.get_label() == label]
            if named:
                if not any(_dash(a) == dash for a in named):
                    problems.append(f"legend proxy {label!r} ({dash}) differs from the artist labelled so")
                continue
            # An unlabelled proxy stands for the drawn lines of its colour; a neutral (grey) proxy is a
            # style key ("dashed = printed threshold") for lines of any colour.
            same_style = [a for a in lines if _dash(a) == dash]
            if any(_color_of(a) & _color_of(handle) for a in same_style):
                continue
            if same_style and _neutral(handle.get_color()):
                continue
            problems.append(f"legend proxy {label!r} ({dash}, {_hex(handle.get_color())}) matches no drawn line")
    return problems


@pytest.fixture
def recorded_legends(monkeypatch):
    """Record the ``(handle, label)`` pairs every Legend is built from, keyed by ``id(legend)``."""
    from matplotlib.legend import Legend

    origins = {}
    original = Legend.__init__

    def init(self, parent, handles, labels, *args, **kwargs):
        handles, labels = list(handles), list(labels)
        original(self, parent, handles, labels, *args, **kwargs)
        origins[id(self)] = list(zip(handles, labels))

    monkeypatch.setattr(Legend, "__init__", init)
    return origins


# ---------------------------------------------------------------------------
# Every registered figure
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", _names())
def test_registered_figure_has_distinct_legend_entries_matching_their_artists(name, recorded_legends):
    from barriers.experiments import EXPERIMENTS
    from caches.spec import load_object

    path = RESULTS / name / "summary.json"
    if not path.exists():
        pytest.skip(f"docs/results/{name}/summary.json is not committed yet (run the experiment and regenerate "
                    "docs/results to check its figure)")
    summary = json.loads(path.read_text())
    fig = load_object(EXPERIMENTS[name].figure)(summary)
    fig.canvas.draw()  # the legends' handle boxes are complete once drawn
    assert duplicate_entries(fig) == []
    assert style_mismatches(fig, recorded_legends) == []


# ---------------------------------------------------------------------------
# The checks fail where they should
# ---------------------------------------------------------------------------


def _figure():
    from plots.style import new_figure, paper

    with paper():
        fig = new_figure()
        return fig, fig.subplots()


def test_two_identical_looking_entries_are_reported(recorded_legends):
    fig, ax = _figure()
    ax.plot([0, 1], [0, 1], color="C0", marker="o", ls="--", label="first")
    ax.plot([0, 1], [1, 0], color="C0", marker="o", ls="--", ms=5, label="second")  # size alone is no difference
    ax.legend()
    fig.canvas.draw()
    problems = duplicate_entries(fig)
    assert len(problems) == 1 and "'first'" in problems[0] and "'second'" in problems[0]


def test_identical_errorbar_entries_are_reported(recorded_legends):
    fig, ax = _figure()
    for name in ("window", "StreamingLLM"):
        ax.errorbar([1, 2], [0.5, 0.6], yerr=0.01, color="#E69F00", marker="D", ls="-", label=name)
    fig.legend(loc="outside lower center")
    fig.canvas.draw()
    assert len(duplicate_entries(fig)) == 1


def test_entries_differing_in_marker_or_line_style_pass(recorded_legends):
    fig, ax = _figure()
    ax.plot([0, 1], [0, 1], color="C0", marker="o", ls="-", label="a")
    ax.plot([0, 1], [0, 1], color="C0", marker="s", ls="-", label="b")
    ax.plot([0, 1], [0, 1], color="C0", marker="o", ls="--", label="c")
    ax.errorbar([0, 1], [0, 1], yerr=0.1, color="C0", marker="o", ls=":", label="d")
    ax.legend()
    fig.canvas.draw()
    assert duplicate_entries(fig) == []
    assert style_mismatches(fig, recorded_legends) == []


def test_a_solid_proxy_for_a_dashed_line_is_reported(recorded_legends):
    from matplotlib.lines import Line2D

    fig, ax = _figure()
    ax.plot([0, 1], [0, 1], color="C1", ls="--")
    ax.legend(handles=[Line2D([], [], color="C1", ls="-", label="threshold")])
    fig.canvas.draw()
    problems = style_mismatches(fig, recorded_legends)
    assert len(problems) == 1 and "threshold" in problems[0]


def test_a_matching_proxy_passes(recorded_legends):
    from matplotlib.lines import Line2D

    fig, ax = _figure()
    ax.plot([0, 1], [0, 1], color="C1", ls="--")
    ax.legend(handles=[Line2D([], [], color="C1", ls="--", label="threshold")])
    fig.canvas.draw()
    assert style_mismatches(fig, recorded_legends) == []


def test_a_coloured_proxy_needs_a_line_of_its_colour_in_its_style(recorded_legends):
    from matplotlib.lines import Line2D

    fig, ax = _figure()
    ax.plot([0, 1], [0, 1], color="C1", ls="-")
    ax.plot([0, 1], [1, 0], color="C2", ls="--")
    ax.legend(handles=[Line2D([], [], color="C1", ls="--", label="C1 dashed")])
    fig.canvas.draw()
    assert len(style_mismatches(fig, recorded_legends)) == 1


def test_the_panel_merges_exactly_equal_series_and_keeps_near_ones_apart(recorded_legends):
    from plots.panels import accuracy_vs_memory

    fig, ax = _figure()
    base = [{"family": "window", "memory_ratio": 1.0, "accuracy": 0.51}, {"family": "window", "memory_ratio": 4.0,
                                                                          "accuracy": 0.56}]
    twin = [{**p, "family": "StreamingLLM"} for p in base]
    near = [{**p, "family": "H2O", "accuracy": p["accuracy"] + 1e-4} for p in base]
    accuracy_vs_memory(ax, {"points": base + twin + near}, frontier_label=False)
    labels = ax.get_legend_handles_labels()[1]
    assert "window\n= StreamingLLM (identical)" in labels and "H2O" in labels
    assert not any(label == "StreamingLLM" for label in labels)
    ax.legend()
    fig.canvas.draw()
    assert duplicate_entries(fig) == [] and style_mismatches(fig, recorded_legends) == []
