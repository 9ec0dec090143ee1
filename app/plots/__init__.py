"""Plot builders: one pure function per figure, each returning a plotly ``Figure`` (the architecture diagram an
SVG picture with its texts in HTML, :class:`app.plots.diagram.Diagram`); no ``st.*`` here.

Colours come from one module, :mod:`app.palette`: Okabe-Ito for categories (its
``LINES`` order for series), cividis for magnitudes and a red-blue diverging scale for signed values
(the same names :mod:`app.pictures` draws the still pictures in); no figure relies on colour alone:
values are also written in the cells or shown on hover, series differ by dash and marker too. Every
figure's numbers can also be read as a table: :func:`app.plots.table.figure_table`, which
``app.layout.chart`` shows under each chart.

Modules: ``grids`` (a small matrix, and the Arithmetic page's grid with :class:`GridMarks`),
``diagram`` (the architecture figure, the receptive field on a picture), ``curves`` (a 1-D series, training curves),
``inside`` (the figures of "Inside the model") and ``experiments`` (runs overlaid, an experiment's
gap, the batch-norm and dropout explainers), ``palette`` and ``table``. Everything callers use is
re-exported here.
"""

from __future__ import annotations

import functools

from app.palette import DIVERGING, OKABE_ITO, SEQUENTIAL
from app.plots.curves import series_plot, training_curves
from app.plots.experiments import arm_curves, batch_norm_bars, dropout_strip, gap_bars, runs_overlay
from app.plots.grids import (
    AR_DROP_COLOUR,
    AR_PAD_FILL,
    NO_MARKS,
    GridMarks,
    arithmetic_grid,
    cell_text,
    grid,
    matrix_heatmap,
)
from app.plots.inside import accuracy_over_time, tiled_maps
from app.plots.table import chart_name, figure_table, is_picture

__all__ = [
    "AR_DROP_COLOUR",
    "AR_PAD_FILL",
    "DIVERGING",
    "NO_MARKS",
    "OKABE_ITO",
    "SEQUENTIAL",
    "GridMarks",
    "accuracy_over_time",
    "arm_curves",
    "arithmetic_grid",
    "batch_norm_bars",
    "cell_text",
    "chart_name",
    "for_projector",
    "dropout_strip",
    "figure_table",
    "gap_bars",
    "grid",
    "is_picture",
    "matrix_heatmap",
    "runs_overlay",
    "series_plot",
    "tiled_maps",
    "training_curves",
]


# -- Presentation mode ---------------------------------------------------------------------------------

_FONT_KEYS = ("font", "textfont", "tickfont", "insidetextfont", "outsidetextfont")
_PLOTLY_FONT = 12  # plotly.js's default font size, which every unset size is derived from
_TITLE_RATIO = 1.4  # plotly.js draws an unset title at 1.4 times the layout's font


@functools.cache
def _default_template() -> dict:
    """plotly's default template as a dict, the way ``Figure.to_dict`` writes it into a figure's layout."""
    import plotly.io as pio

    return pio.templates[pio.templates.default].to_plotly_json()


def for_projector(fig, scale: float = 1.5):
    """A copy of ``fig`` with every text ``scale`` times larger, for a projector (pure; ``fig`` is untouched).

    Sizes the figure sets are scaled where they are (cell numbers, annotations, ticks, titles, legends,
    colour bars); sizes it leaves unset are set from plotly's defaults, so nothing stays at 12 px. A
    figure with numbers drawn in it and a fixed height (and width) grows by the same factor, so its cells
    keep room for them; a picture (feature maps) keeps its size.
    """
    import plotly.graph_objects as go

    data = fig.to_dict()
    layout = data.setdefault("layout", {})
    if layout.get("template") == _default_template():
        del layout["template"]  # the copy takes the same default itself: validating the template's dict took ~0.25 s
    base = (layout.get("font") or {}).get("size") or _PLOTLY_FONT

    def grow(node, key: str = "") -> None:
        if isinstance(node, dict):
            if key in _FONT_KEYS and isinstance(node.get("size"), int | float):
                node["size"] = node["size"] * scale
            for k, v in node.items():
                grow(v, k)
        elif isinstance(node, list | tuple):
            for v in node:
                grow(v, key)

    grow(data)
    layout.setdefault("font", {})["size"] = base * scale
    title = layout.get("title")
    if isinstance(title, dict) and title.get("text"):
        title.setdefault("font", {}).setdefault("size", base * _TITLE_RATIO * scale)
    for name, axis in layout.items():
        if name.startswith(("xaxis", "yaxis")) and isinstance(axis, dict):
            axis.setdefault("tickfont", {}).setdefault("size", base * scale)
    numbered = False  # numbers drawn in the plot (a grid's cells, labels on bars) need room to grow
    for trace in data.get("data", []):
        if trace.get("texttemplate") or "text" in str(trace.get("mode", "")) or trace.get("textposition"):
            trace.setdefault("textfont", {}).setdefault("size", base * scale)
            numbered = True
    if numbered and isinstance(layout.get("height"), int | float):
        layout["height"] = round(layout["height"] * scale)
        if isinstance(layout.get("width"), int | float):
            layout["width"] = round(layout["width"] * scale)
    margin = layout.get("margin")
    if isinstance(margin, dict):
        for side in ("l", "r", "t", "b"):
            if isinstance(margin.get(side), int | float):
                margin[side] = round(margin[side] * scale)
    return go.Figure(data)
