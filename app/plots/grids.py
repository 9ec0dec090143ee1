"""Grids with a number in every cell: a small matrix (a kernel, a pixel neighbourhood) and the
Arithmetic page's grid with its padding, dropped cells, kernel window and quiz text.

Both write their values with :func:`cnn_core.numbers.format_number`. The arithmetic grid takes
what it marks as one typed :class:`GridMarks`; :func:`arithmetic_grid` is the older keyword form.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import plotly.graph_objects as go

from app.palette import (
    BLACK,
    CROSS,
    DIVERGING,
    GRID_LINE,
    HATCH,
    ONE_SIGN,
    PAD_FILL,
    PAD_TEXT,
    PIXELS,
    SEQUENTIAL,
    VERMILLION,
    WHITE,
)
from cnn_core.numbers import format_number

AR_PAD_FILL = PAD_FILL  # padding / inserted-zero cells: grey, and hatched in the corners
AR_DROP_COLOUR = VERMILLION  # Okabe-Ito vermillion, always with its own hatch and a label


def matrix_heatmap(
    values: np.ndarray,
    *,
    title: str = "",
    hatched: np.ndarray | None = None,
    diverging: bool = True,
    pixels: bool = False,
    cell_px: int = 44,
) -> go.Figure:
    """A small matrix drawn as a grid with every value written in its cell.

    ``hatched`` marks cells (e.g. padding) with a dotted pattern so they differ without colour.
    ``pixels`` draws 0-255 pixel values as the grey they are (black 0, white 255), so a patch
    of 22s and 24s looks as flat as it is in the photo.
    """
    v = np.asarray(values, dtype=float)
    text = [[format_number(x) for x in row] for row in v]
    top = float(np.abs(v).max()) or 1.0
    traces: list = [
        go.Heatmap(
            z=v,
            text=text,
            texttemplate="%{text}",
            textfont={"size": 14 if max(v.shape) <= 7 else 11},
            colorscale=PIXELS if pixels else DIVERGING if diverging else SEQUENTIAL,
            zmin=0 if pixels else -top if diverging else None,
            zmax=255 if pixels else top if diverging else None,
            showscale=False,
            xgap=2,
            ygap=2,
            hovertemplate="row %{y}, col %{x}: %{z}<extra></extra>",
        )
    ]
    if hatched is not None and np.asarray(hatched).any():
        ys, xs = np.nonzero(hatched)
        traces.append(
            go.Scatter(
                x=xs,
                y=ys,
                mode="markers",
                marker={"symbol": "x-thin-open", "size": cell_px * 0.7, "color": CROSS},
                hoverinfo="skip",
                showlegend=False,
            )
        )
    hidden = {"showticklabels": False, "ticks": "", "showgrid": False, "zeroline": False}
    # One constructor call with the whole layout: plotly's update_* methods cost ~10x more.
    return go.Figure(
        traces,
        layout={
            "yaxis": {"autorange": "reversed", "scaleanchor": "x", "constrain": "domain", **hidden},
            "xaxis": {"constrain": "domain", **hidden},
            "title": {"text": title, "font": {"size": 14}},
            "margin": {"l": 4, "r": 4, "t": 32 if title else 4, "b": 4},
            "height": min(60 + cell_px * max(v.shape), 480),
            "plot_bgcolor": WHITE,
        },
    )


# --- the Arithmetic page's grid -------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class GridMarks:
    """What an arithmetic grid marks on its cells besides their values; every field optional."""

    padding: np.ndarray | None = None  # (H, W) bool: padding or zeros a transposed conv inserts: grey, "/" hatched
    dropped: np.ndarray | None = None  # (H, W) bool: input cells no window reaches: "\" hatched in vermillion
    window: tuple[tuple[int, ...], tuple[int, ...]] | None = None  # (rows, cols) of the kernel taps: outlined
    current: tuple[int, int] | None = None  # the output cell being computed: outlined
    kept: list[tuple[int, int]] | None = None  # cells a max/min pooling kept: circled
    text: list[list[str]] | None = None  # written instead of each value ("?" in quiz mode, "✓ 11")
    row_labels: list[str] | None = None  # tick labels, default 0..H-1 (counted from 0, as in NumPy)
    col_labels: list[str] | None = None  # tick labels, default 0..W-1
    clickable: bool = False  # an invisible marker per cell reports clicks; customdata is [row, col]


NO_MARKS = GridMarks()


def cell_text(v: float) -> str:
    """A grid cell's written value: empty when not computed yet (NaN), else up to 3 decimals."""
    return "" if np.isnan(v) else format_number(v, digits=3)


def _corner_hatch(cells: list[tuple[int, int]], direction: int) -> tuple[list, list]:
    """Short diagonal strokes in two corners of each cell, leaving the number in the middle readable."""
    xs: list = []
    ys: list = []
    for r, c in cells:
        for corner in (-1, 1):
            if direction > 0:  # "/" strokes, top-left and bottom-right corners
                x0, y0 = c + corner * 0.5, r + corner * 0.18
                x1, y1 = c + corner * 0.18, r + corner * 0.5
            else:  # "\" strokes, top-right and bottom-left corners
                x0, y0 = c - corner * 0.5, r + corner * 0.18
                x1, y1 = c - corner * 0.18, r + corner * 0.5
            xs += [x0, x1, None]
            ys += [y0, y1, None]
    return xs, ys


def _grid_axis(n: int, labels: list[str] | None, **extra: object) -> dict:
    """One axis of an arithmetic grid: a tick per cell, labelled 0..n-1 unless ``labels`` are given."""
    return {
        "tickmode": "array",
        "tickvals": list(range(n)),
        "ticktext": labels or [str(i) for i in range(n)],
        "showgrid": False,
        "zeroline": False,
        "fixedrange": True,
        "constrain": "domain",
        **extra,
    }


def grid(
    values: np.ndarray,
    marks: GridMarks = NO_MARKS,
    *,
    title: str = "",
    zrange: tuple[float, float] | None = None,
    max_px: int = 380,
) -> go.Figure:
    """One grid of the Arithmetic page, every value written in its cell (see :class:`GridMarks`).

    ``values`` is (H, W); NaN cells are drawn empty (an output cell not computed yet). Colours are
    blue for values of one sign, the diverging scale when ``zrange`` (default: the finite values
    that are not padding) spans 0. Cells are at most ``max_px / max(H, W)`` pixels wide.
    """
    v = np.asarray(values, dtype=float)
    h, w = v.shape
    cell = int(max(22, min(52, max_px // max(h, w, 1))))
    pad = np.zeros_like(v, dtype=bool) if marks.padding is None else np.asarray(marks.padding, dtype=bool)
    finite = v[np.isfinite(v) & ~pad]
    if zrange is None:
        lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    else:
        lo, hi = zrange
    signed = lo < 0 < hi
    top = max(abs(lo), abs(hi)) or 1.0
    labels = marks.text if marks.text is not None else [[cell_text(x) for x in row] for row in v]
    shown = np.where(pad | ~np.isfinite(v), np.nan, v)
    hover = [
        [
            f"row {r}, column {c}: {labels[r][c] or 'not computed yet'}" + (" (padding)" if pad[r, c] else "")
            for c in range(w)
        ]
        for r in range(h)
    ]
    traces: list = [
        go.Heatmap(
            z=shown,
            text=labels,
            texttemplate="%{text}",
            customdata=hover,
            hovertemplate="%{customdata}<extra></extra>",
            textfont={"size": 15 if cell >= 40 else 12 if cell >= 28 else 10},
            colorscale=DIVERGING if signed else ONE_SIGN,
            zmin=-top if signed else min(lo, 0.0),
            zmax=top if signed else (hi if hi > min(lo, 0.0) else min(lo, 0.0) + 1),
            showscale=False,
            hoverongaps=False,
        )
    ]
    if pad.any():
        traces.append(
            go.Heatmap(
                z=np.where(pad, 1.0, np.nan),
                text=[[labels[r][c] if pad[r, c] else "" for c in range(w)] for r in range(h)],
                texttemplate="%{text}",
                textfont={"size": 12 if cell >= 28 else 9, "color": PAD_TEXT},
                colorscale=[[0, AR_PAD_FILL], [1, AR_PAD_FILL]],
                showscale=False,
                hoverinfo="skip",
            )
        )
        xs, ys = _corner_hatch([(int(r), int(c)) for r, c in zip(*np.nonzero(pad), strict=True)], 1)
        traces.append(go.Scatter(x=xs, y=ys, mode="lines", line={"color": HATCH, "width": 1.5}, hoverinfo="skip"))
    if marks.dropped is not None and np.asarray(marks.dropped).any():
        cells = [(int(r), int(c)) for r, c in zip(*np.nonzero(marks.dropped), strict=True)]
        xs, ys = _corner_hatch(cells, -1)
        traces.append(
            go.Scatter(x=xs, y=ys, mode="lines", line={"color": AR_DROP_COLOUR, "width": 2.5}, hoverinfo="skip")
        )
    # grid lines, so empty cells still read as cells
    gx: list = []
    gy: list = []
    for r in range(h + 1):
        gx += [-0.5, w - 0.5, None]
        gy += [r - 0.5, r - 0.5, None]
    for c in range(w + 1):
        gx += [c - 0.5, c - 0.5, None]
        gy += [-0.5, h - 0.5, None]
    traces.append(go.Scatter(x=gx, y=gy, mode="lines", line={"color": GRID_LINE, "width": 1}, hoverinfo="skip"))

    shapes: list[dict] = []

    def outline(r0: float, c0: float, r1: float, c1: float, *, dash: str | None = None) -> None:
        box = {"type": "rect", "x0": c0 - 0.5, "x1": c1 + 0.5, "y0": r0 - 0.5, "y1": r1 + 0.5}
        shapes.append({**box, "line": {"color": BLACK, "width": 5, "dash": dash}})
        if dash is None:
            shapes.append({**box, "line": {"color": WHITE, "width": 1.5}})

    if marks.window is not None:
        rows, cols = marks.window
        spread = (len(rows) > 1 and rows[1] - rows[0] > 1) or (len(cols) > 1 and cols[1] - cols[0] > 1)
        if spread:
            for r in rows:
                for c in cols:
                    outline(r, c, r, c)
            outline(min(rows), min(cols), max(rows), max(cols), dash="dot")
        else:
            outline(min(rows), min(cols), max(rows), max(cols))
    if marks.current is not None:
        outline(marks.current[0], marks.current[1], marks.current[0], marks.current[1])
    if marks.kept:
        traces.append(
            go.Scatter(
                x=[c for _, c in marks.kept],
                y=[r for r, _ in marks.kept],
                mode="markers",
                hoverinfo="skip",
                marker={"symbol": "circle-open", "size": cell * 0.8, "color": BLACK, "line": {"width": 2.5}},
            )
        )
    if marks.clickable:
        rr, cc = np.meshgrid(np.arange(h), np.arange(w), indexing="ij")
        traces.append(
            go.Scatter(
                x=cc.ravel(),
                y=rr.ravel(),
                customdata=np.stack([rr.ravel(), cc.ravel()], axis=1),
                mode="markers",
                marker={"symbol": "square", "size": cell * 0.9, "color": BLACK, "opacity": 0.01},
                selected={"marker": {"opacity": 0.01}},
                unselected={"marker": {"opacity": 0.01}},
                hovertemplate="click to jump to this cell<extra></extra>",
                name="cells",
            )
        )
    top_margin = 56 if title else 24
    # One constructor call with the whole layout: plotly's update_* / add_shape cost ~10x more.
    return go.Figure(
        traces,
        layout={
            "xaxis": _grid_axis(w, marks.col_labels, range=[-0.5, w - 0.5], side="top"),
            "yaxis": _grid_axis(h, marks.row_labels, range=[h - 0.5, -0.5], scaleanchor="x"),
            "shapes": shapes,
            "title": {"text": title, "font": {"size": 14}, "y": 0.99, "yanchor": "top"},
            "width": cell * w + 50,
            "height": cell * h + top_margin + 10,
            "margin": {"l": 34, "r": 8, "t": top_margin, "b": 4},
            "plot_bgcolor": WHITE,
            "showlegend": False,
            "dragmode": False,
            "clickmode": "event+select" if marks.clickable else "event",
        },
    )


def arithmetic_grid(
    values: np.ndarray,
    *,
    title: str = "",
    zrange: tuple[float, float] | None = None,
    max_px: int = 380,
    **marks: Any,
) -> go.Figure:
    """:func:`grid` with the fields of :class:`GridMarks` given as keywords (``padding=...``, ``window=...``)."""
    return grid(values, GridMarks(**marks), title=title, zrange=zrange, max_px=max_px)
