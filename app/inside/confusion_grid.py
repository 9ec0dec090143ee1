"""The confusion matrix as one Streamlit Components v2 element (mounted in the page, no iframe): an HTML
table whose cells are buttons, each shaded by its value and with its number written in.

As a plotly heatmap with a marker per cell the matrix took the browser 300-400 ms to draw on each visit to
its tab, and a click was a pointer-only affair (issue #15). Here the browser draws a table
(``confusion_grid.js`` and ``.css`` beside this module): a click, a tap, or Enter on a cell reached with the
arrow keys reports ``cell`` = ``[true, predicted, seq]``, and :func:`confusion_grid` hands the two classes to
the select boxes under the matrix, which stay the one truth of the cell shown.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import streamlit as st

from app import components, layout, state
from app.pictures import LUTS

_COMPONENT = components.register("convlab_confusion_grid", __file__, "confusion_grid")
LEGEND_STOPS = 9  # colours of the legend's gradient, evenly spaced on the scale


def _hex(rgb: np.ndarray) -> str:
    return "#{:02x}{:02x}{:02x}".format(*(int(c) for c in rgb))


def payload(counts: np.ndarray, classes: tuple[str, ...] | list[str], *, normalised: bool,
            selected: tuple[int, int] | None, fixed: bool = False) -> dict[str, Any]:  # fmt: skip
    """What the browser draws: per cell (row = true class, column = predicted) its text, colour, ink and
    spoken label; the colour legend; the selected cell. ``normalised``: shaded and written as the share of
    the true class (in percent, blank for 0), else as counts. ``fixed``: cells to read, none to click."""
    counts = np.asarray(counts, dtype=np.int64)
    k, names = len(classes), [str(c) for c in classes]
    row_tot = np.maximum(counts.sum(axis=1), 1)
    share = counts / row_tot[:, None]
    values = share if normalised else counts.astype(float)
    top = 1.0 if normalised else float(max(1, int(counts.max())))
    rgb = LUTS["seq"][np.clip(np.rint(values / top * 255), 0, 255).astype(int)]
    cells = []
    for t in range(k):
        row = []
        for p in range(k):
            c = int(counts[t, p])
            text = ("" if c == 0 else f"{100 * share[t, p]:.0f}") if normalised else str(c)
            r, g, b = (int(v) for v in rgb[t, p])
            ink = "#000000" if 0.299 * r + 0.587 * g + 0.114 * b > 140 else "#ffffff"
            label = f"True {names[t]}, predicted {names[p]}: {c} images ({100 * share[t, p]:.1f}% of {names[t]})"
            row.append([text, _hex(rgb[t, p]), ink, label])
        cells.append(row)
    stops = [_hex(LUTS["seq"][round(i * 255 / (LEGEND_STOPS - 1))]) for i in range(LEGEND_STOPS)]
    return {
        "classes": names,
        "cells": cells,
        "selected": list(selected) if selected is not None else None,
        "legend": {"title": "% of the true class" if normalised else "images", "lo": "0",
                   "hi": "100" if normalised else f"{int(top):,}", "stops": stops},  # fmt: skip
        "presenting": layout.presenting(),
        "fixed": fixed,
    }


def chosen_cell(report: Any, k: int) -> tuple[int, int] | None:
    """(true, predicted) of the browser's ``[true, predicted, seq]``, or None for anything else."""
    if not isinstance(report, list) or len(report) < 2:
        return None
    t, p = report[0], report[1]
    if any(isinstance(v, bool) or not isinstance(v, int) for v in (t, p)):
        return None
    return (t, p) if 0 <= t < k and 0 <= p < k else None


def fixed_confusion_grid(counts: np.ndarray, classes: tuple[str, ...] | list[str], *, key: str) -> None:
    """Draw a matrix to read, not to click (each true class's shares, its counts in the labels): *Over time*."""
    _COMPONENT(key=key, data=payload(counts, classes, normalised=True, selected=None, fixed=True), width="stretch")


def confusion_grid(counts: np.ndarray, classes: tuple[str, ...] | list[str], *, normalised: bool,
                   selected: tuple[int, int] | None) -> None:  # fmt: skip
    """Draw the matrix; a clicked cell becomes the select boxes' true and predicted class."""
    k = len(classes)

    def on_cell() -> None:
        cell = chosen_cell((st.session_state.get(state.IN_CM_CHART) or {}).get("cell"), k)
        if cell is not None:
            st.session_state[state.IN_CM_TRUE], st.session_state[state.IN_CM_PRED] = cell

    data = payload(counts, classes, normalised=normalised, selected=selected)
    _COMPONENT(key=state.IN_CM_CHART, data=data, on_cell_change=on_cell, width="stretch")
