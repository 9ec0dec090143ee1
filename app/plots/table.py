"""A chart's numbers as a table: one pure function from a ConvLab plotly figure to a pandas DataFrame.

:func:`figure_table` reads what a builder of :mod:`app.plots` drew, so a chart and its table cannot
disagree and no page writes its numbers twice:

- lines and bars: one column per series, named by the series (and by its panel's axis title where two
  panels have series of the same name), one row per x value (per category for bars lying on their
  side); a series missing at some x is NaN there; ``attrs["values"]`` says what every column measures
  (the one value axis's title, "% correct"), for the caption;
- heatmaps: the grid itself, rows and columns labelled as the chart labels them (the axis tick labels,
  else 0, 1, 2, ... as the pages count), each cell written as the chart writes it (a quiz's "?" stays
  "?", so the table reveals nothing the chart hides), else the value;
- pictures (an image trace, or a builder's ``layout.meta = {"table": PICTURE}``, like
  :func:`app.plots.tiled_maps`: thousands of pixels are no table) and figures with no numbers: a sentence
  saying so (:func:`is_picture` tells a caller before it asks).

Decorations are left out: traces that do not answer hover (grid lines, hatches, outlines) and,
on a heatmap, the invisible markers that report clicks. :func:`chart_name` names a chart for the
table's caption.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

PICTURE = "picture"  # layout.meta["table"] of a figure that is a picture: its pixels are not tabulated
NOT_TABULATED = "This chart is a picture: its pixels are not listed as a table. Hover over it to read a value."
NO_NUMBERS = "This chart has no numbers to list."


def _axis_key(ref: str | None, letter: str) -> str:
    """'x2' -> 'xaxis2'; None or 'x' -> 'xaxis'."""
    ref = ref or letter
    return f"{letter}axis{ref[1:]}"


def _title(layout: dict, key: str) -> str:
    title = (layout.get(key) or {}).get("title")
    if isinstance(title, dict):
        return str(title.get("text") or "")
    return str(title or "")


def _parts(fig) -> tuple[list[dict], dict]:
    """(traces, layout) of a Figure (arrays as numpy arrays) or of a figure's dict (typed arrays decoded)."""
    if hasattr(fig, "layout") and hasattr(fig, "data"):
        return [t.to_plotly_json() for t in fig.data], fig.layout.to_plotly_json()
    return [_decoded(t) for t in fig.get("data", [])], _decoded(fig.get("layout", {}) or {})


def _decoded(node):
    """Plotly's JSON typed arrays ({"dtype", "bdata", "shape"}) back into numpy arrays."""
    if isinstance(node, dict):
        if "bdata" in node and "dtype" in node:
            flat = np.frombuffer(base64.b64decode(node["bdata"]), dtype=node["dtype"])
            shape = node.get("shape")
            return flat.reshape([int(n) for n in str(shape).split(",")]) if shape else flat
        return {k: _decoded(v) for k, v in node.items()}
    if isinstance(node, list | tuple):
        return [_decoded(v) for v in node]
    return node


def chart_name(fig) -> str:
    """What the chart is called: its title, else its panels' titles, else its series' names, else its axes."""
    traces, layout = _parts(fig)
    title = layout.get("title")
    text = title.get("text") if isinstance(title, dict) else title
    if text:
        return str(text)
    panels = [a.get("text") for a in layout.get("annotations", ()) if a.get("xref", "").endswith("paper")]
    panels = [str(p) for p in panels if p]
    if panels:
        return " and ".join(panels)
    names = [str(t["name"]) for t in traces if t.get("name") and not _decoration(t)]
    if 1 < len(names) <= 4:
        return ", ".join(names[:-1]) + " and " + names[-1]
    x, y = _title(layout, "xaxis"), _title(layout, "yaxis")
    return f"{y} against {x}" if x and y else x or y or "the chart"


def _decoration(trace: dict) -> bool:
    """A trace drawn for looks, not for its numbers: a line or marker that does not answer hover (a
    heatmap that does not is still the grid: the confusion matrix answers through markers over it)."""
    if trace.get("visible") is False:
        return True
    return trace.get("type") != "heatmap" and trace.get("hoverinfo") == "skip"


def _plain(value):
    """A cell's value: numbers as floats (None -> NaN), text as it is."""
    if value is None:
        return math.nan
    if isinstance(value, bool | np.bool_):
        return float(value)
    if isinstance(value, int | float | np.integer | np.floating):
        return float(value)
    return value


def _labels(values: Sequence | None, n: int, layout: dict, axis: str) -> list:
    """The labels of a heatmap's n rows or columns: its own x / y, else the axis's tick labels, else 0..n-1."""
    if values is not None and len(values) == n:
        return [_plain(v) if not isinstance(v, str) else v for v in values]
    ax = layout.get(axis) or {}
    vals, text = ax.get("tickvals"), ax.get("ticktext")
    if vals is not None and text is not None and len(vals) == len(text):
        named = {int(v): t for v, t in zip(vals, text, strict=True) if float(v) == int(v)}
        if all(i in named for i in range(n)):
            return [named[i] for i in range(n)]
    return list(range(n))


def _heatmap_table(heats: list[dict], layout: dict) -> pd.DataFrame:
    """The first heatmap's grid; a later heatmap of the same shape on the same axes fills its empty cells."""
    first = heats[0]
    z = np.asarray(first.get("z"), dtype=object)
    if z.ndim != 2:
        z = z.reshape(1, -1)
    h, w = z.shape
    cells = np.full((h, w), math.nan, dtype=object)
    for heat in heats:
        if (heat.get("xaxis"), heat.get("yaxis")) != (first.get("xaxis"), first.get("yaxis")):
            continue
        hz = np.asarray(heat.get("z"), dtype=object)
        if hz.ndim != 2 or hz.shape != (h, w):
            continue
        text = heat.get("text")  # what the cells say (drawn by texttemplate, or by markers over them)
        written = np.asarray(text, dtype=object) if text is not None else None
        for r in range(h):
            for c in range(w):
                if not (isinstance(cells[r, c], float) and math.isnan(cells[r, c])):
                    continue  # an earlier heatmap has it
                if written is not None and written.shape == (h, w):
                    if written[r, c] not in ("", None):
                        cells[r, c] = written[r, c]
                elif hz[r, c] is not None and not (isinstance(hz[r, c], float) and math.isnan(hz[r, c])):
                    cells[r, c] = _plain(hz[r, c])
    x_key, y_key = _axis_key(first.get("xaxis"), "x"), _axis_key(first.get("yaxis"), "y")
    table = pd.DataFrame(
        cells.tolist(),
        index=_labels(first.get("y"), h, layout, y_key),
        columns=_labels(first.get("x"), w, layout, x_key),
    )
    table.index.name = _title(layout, y_key) or "row"
    table.columns.name = _title(layout, x_key) or "column"
    y_axis = layout.get(y_key) or {}
    span = y_axis.get("range")
    downwards = y_axis.get("autorange") == "reversed" or (span is not None and span[0] > span[1])
    if not downwards:
        table = table.iloc[::-1]  # plotly draws row 0 at the bottom: the table's first row is the chart's top one
    return table


def _series(trace: dict) -> tuple[list, list]:
    """(positions, values) of a line or bar: x against y, or y against x for a bar on its side."""
    x, y = trace.get("x"), trace.get("y")
    if trace.get("orientation") == "h":
        x, y = y, x
    if y is None:
        return [], []
    y = list(y)
    x = list(range(len(y))) if x is None else list(x)
    return x, y


def _series_table(traces: list[dict], layout: dict) -> pd.DataFrame:
    """One column per series, one row per position (in order, or sorted when every position is a number)."""
    names = [str(t.get("name") or _title(layout, _value_axis(t)) or f"series {i + 1}") for i, t in enumerate(traces)]
    given = list(names)
    for i, t in enumerate(traces):
        if given.count(given[i]) > 1:  # the same name in two panels: say which panel
            panel = _title(layout, _value_axis(t))
            names[i] = f"{given[i]}: {panel}" if panel else f"{given[i]} ({i + 1})"
    rows: dict = {}
    for name, trace in zip(names, traces, strict=True):
        for pos, value in zip(*_series(trace), strict=False):
            key = _plain(pos) if not isinstance(pos, str) else pos
            rows.setdefault(key, {})[name] = _plain(value)
    keys = list(rows)
    if keys and all(isinstance(k, float) for k in keys):
        keys.sort()
    table = pd.DataFrame([[rows[k].get(n, math.nan) for n in names] for k in keys], index=keys, columns=names)
    titles = [_title(layout, _position_axis(t)) for t in traces]  # shared panels title only one of their axes
    table.index.name = next((t for t in titles if t), None)
    units = {_title(layout, _value_axis(t)) for t in traces}
    if len(units) == 1 and (unit := units.pop()) and unit not in names:
        table.attrs["values"] = unit  # what every column measures ("% correct"), for the caption
    return table


def _position_axis(trace: dict) -> str:
    if trace.get("orientation") == "h":
        return _axis_key(trace.get("yaxis"), "y")
    return _axis_key(trace.get("xaxis"), "x")


def _value_axis(trace: dict) -> str:
    if trace.get("orientation") == "h":
        return _axis_key(trace.get("xaxis"), "x")
    return _axis_key(trace.get("yaxis"), "y")


def _picture(traces: list[dict], layout: dict) -> bool:
    meta = layout.get("meta")
    return (isinstance(meta, dict) and meta.get("table") == PICTURE) or any(t.get("type") == "image" for t in traces)


def is_picture(fig) -> bool:
    """Whether ``fig`` is a picture (an image trace, or a builder's ``layout.meta = {"table": PICTURE}``).
    A Figure is asked for its meta and trace types only: copying a tiled feature map's traces took ~60 ms."""
    if hasattr(fig, "layout") and hasattr(fig, "data"):
        meta = fig.layout.meta
        return (isinstance(meta, dict) and meta.get("table") == PICTURE) or any(t.type == "image" for t in fig.data)
    return _picture(*_parts(fig))


def figure_table(fig) -> pd.DataFrame | str:
    """The numbers of ``fig`` (a plotly Figure or its dict) as a DataFrame, or a sentence when it has none
    to list (a picture, a diagram). Pure: ``fig`` is untouched."""
    data, layout = _parts(fig)
    if _picture(data, layout):
        return NOT_TABULATED
    traces = [t for t in data if not _decoration(t)]
    heats = [t for t in traces if t.get("type") == "heatmap"]
    if heats:
        return _heatmap_table(heats, layout)
    series = [t for t in traces if t.get("type") in ("scatter", "scattergl", "bar") and t.get("y") is not None]
    series = [t for t in series if t.get("mode") != "text"]
    if not series:
        return NO_NUMBERS
    return _series_table(series, layout)
