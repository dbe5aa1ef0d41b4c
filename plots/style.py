"""One shared paper style for every figure of the suite.

Modelled on `tueplots <https://github.com/pnkraemer/tueplots>`_: the style is a plain
dict of ``matplotlib.rcParams`` entries (a *bundle*), applied temporarily with
:func:`matplotlib.rc_context`. Importing this module changes no global state.

The bundle fixes everything that makes output depend on the machine: the font is
DejaVu Sans (shipped with matplotlib), mathtext replaces LaTeX (``text.usetex`` off),
and PDF/PS embed TrueType (Type 42) fonts, which publishers accept and which keep the
text selectable.

Figures are built as :class:`matplotlib.figure.Figure` objects attached to an Agg
canvas (:func:`new_figure`), never through ``pyplot``, so no figure registry, GUI
backend or "current figure" is involved.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

#: Width of one column of a two-column paper (inches).
SINGLE_COLUMN_WIDTH = 3.25
#: Width of the full text block (inches).
FULL_WIDTH = 6.75
#: Default height / width ratio of a panel.
GOLDEN_ASPECT = 2.0 / (1.0 + 5.0**0.5)

#: Base font size (points) of labels and legends; ticks and titles are derived from it.
BASE_FONT_SIZE = 8.0

#: Okabe-Ito colour-blind-safe palette (yellow dropped: unreadable on white).
PALETTE = (
    "#0072B2",  # blue
    "#E69F00",  # orange
    "#009E73",  # bluish green
    "#D55E00",  # vermillion
    "#CC79A7",  # reddish purple
    "#56B4E9",  # sky blue
    "#000000",  # black
)
#: Marker cycle used alongside :data:`PALETTE` so series differ without colour too.
MARKERS = ("o", "s", "^", "D", "v", "P", "X")
#: Colours with a fixed meaning (categories of the phase map, reference lines).
SUCCESS_COLOR = "#009E73"
FAILURE_COLOR = "#D55E00"
UNDEFINED_COLOR = "#C8C8C8"
INFEASIBLE_COLOR = "#E6E6E6"
REFERENCE_COLOR = "#333333"

#: Figure DPI on screen and on save (PNG).
DPI = 200


def figure_size(columns: int = 1, aspect: float = GOLDEN_ASPECT) -> tuple[float, float]:
    """Return ``(width, height)`` in inches for a figure spanning ``columns`` columns.

    ``columns`` is 1 (:data:`SINGLE_COLUMN_WIDTH`) or 2 (:data:`FULL_WIDTH`); ``aspect``
    is height / width of the whole figure.
    """
    if columns not in (1, 2):
        raise ValueError(f"columns must be 1 or 2, got {columns!r}")
    if not aspect > 0:
        raise ValueError(f"aspect must be positive, got {aspect!r}")
    width = SINGLE_COLUMN_WIDTH if columns == 1 else FULL_WIDTH
    return (width, width * aspect)


def paper_style(columns: int = 1, aspect: float = GOLDEN_ASPECT) -> dict[str, Any]:
    """Return the rcParams bundle of the paper style (a fresh dict each call)."""
    small = BASE_FONT_SIZE - 1.0
    return {
        # Backend-independent output
        "text.usetex": False,
        "mathtext.fontset": "dejavusans",
        "font.family": "sans-serif",
        "font.sans-serif": ["DejaVu Sans"],
        "pdf.fonttype": 42,
        "ps.fonttype": 42,
        "svg.fonttype": "none",
        "svg.hashsalt": "compression-barriers",
        # Size
        "figure.figsize": figure_size(columns, aspect),
        "figure.dpi": DPI,
        "figure.constrained_layout.use": True,
        "figure.constrained_layout.h_pad": 0.02,
        "figure.constrained_layout.w_pad": 0.02,
        "savefig.dpi": DPI,
        "savefig.bbox": None,
        "savefig.pad_inches": 0.02,
        "savefig.transparent": False,
        "savefig.facecolor": "white",
        # Fonts
        "font.size": BASE_FONT_SIZE,
        "axes.labelsize": BASE_FONT_SIZE,
        "axes.titlesize": BASE_FONT_SIZE,
        "figure.titlesize": BASE_FONT_SIZE + 1.0,
        "legend.fontsize": small,
        "legend.title_fontsize": small,
        "xtick.labelsize": small,
        "ytick.labelsize": small,
        # Axes, grid, ticks
        "axes.linewidth": 0.6,
        "axes.edgecolor": "#333333",
        "axes.titlepad": 4.0,
        "axes.labelpad": 2.0,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.grid": True,
        "axes.grid.which": "major",
        "axes.axisbelow": True,
        "grid.color": "#E0E0E0",
        "grid.linewidth": 0.5,
        "grid.linestyle": "-",
        "xtick.major.width": 0.6,
        "ytick.major.width": 0.6,
        "xtick.minor.width": 0.4,
        "ytick.minor.width": 0.4,
        "xtick.major.size": 3.0,
        "ytick.major.size": 3.0,
        "xtick.minor.size": 1.5,
        "ytick.minor.size": 1.5,
        "xtick.major.pad": 2.0,
        "ytick.major.pad": 2.0,
        "axes.formatter.use_mathtext": True,
        # Lines, markers, colours
        "axes.prop_cycle": _color_cycle(),
        "lines.linewidth": 1.0,
        "lines.markersize": 3.5,
        "errorbar.capsize": 1.5,
        "image.cmap": "viridis",
        # Legend
        "legend.frameon": True,
        "legend.framealpha": 0.85,
        "legend.edgecolor": "#CCCCCC",
        "legend.fancybox": False,
        "legend.borderpad": 0.3,
        "legend.borderaxespad": 0.3,
        "legend.handlelength": 1.6,
        "legend.handletextpad": 0.4,
        "legend.labelspacing": 0.25,
        "legend.columnspacing": 0.8,
    }


@contextlib.contextmanager
def paper(columns: int = 1, aspect: float = GOLDEN_ASPECT) -> Iterator[dict[str, Any]]:
    """Apply :func:`paper_style` inside a ``with`` block; restore rcParams afterwards.

    Yields the applied bundle.
    """
    import matplotlib

    style = paper_style(columns, aspect)
    with matplotlib.rc_context(style):
        yield style


def new_figure(columns: int = 1, aspect: float = GOLDEN_ASPECT, **kwargs: Any):
    """Return an empty ``Figure`` of the given size attached to an Agg canvas.

    Call it inside :func:`paper` so that artists added later pick up the style.
    No pyplot state is touched; the figure is garbage-collected like any object.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    kwargs.setdefault("figsize", figure_size(columns, aspect))
    kwargs.setdefault("dpi", DPI)
    fig = Figure(**kwargs)
    FigureCanvasAgg(fig)
    return fig


def one_panel_figure(panel, summary, aspect: float = 0.75):
    """A one-column figure of one panel: ``panel(ax, summary)`` drawn in the paper style."""
    with paper(columns=1, aspect=aspect):
        fig = new_figure(1, aspect)
        panel(fig.subplots(), summary)
    return fig


def _color_cycle():
    from cycler import cycler

    return cycler(color=list(PALETTE))
