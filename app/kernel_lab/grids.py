"""The Kernel Lab's small grids (a kernel, a pixel's neighbourhood, their products) as styled tables.

Every value is written in its cell and coloured as the charts elsewhere colour a matrix
(:func:`app.pictures.colourise`: red-white-blue, zero white, symmetric about zero), pixel values as
their own grey (0 black, 255 white, so a flat patch looks flat), and padding cells are hatched. A
table is plain HTML in the browser: the Kernel Lab loads no plotly.js and lays out no chart, which
had made its reloads and kernel changes several times slower than a bare Streamlit page's.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st
from pandas.io.formats.style import Styler

from app.kernel_lab.model import CACHE_TTL
from app.pictures import colourise
from cnn_core.numbers import format_number

HATCH = "repeating-linear-gradient(45deg, rgba(0, 0, 0, 0.35) 0 2px, transparent 2px 7px)"  # padding cells


def grid_colours(values: np.ndarray, *, pixels: bool = False) -> np.ndarray:
    """(h, w) values -> (h, w, 3) uint8 cell colours: greys for pixels, else the signed scale."""
    v = np.asarray(values, dtype=float)
    if pixels:
        grey = np.clip(np.rint(v), 0, 255).astype(np.uint8)
        return np.repeat(grey[..., None], 3, axis=2)
    top = float(np.abs(v).max()) or 1.0
    return colourise(v, diverging=True, zrange=(-top, top))


def _cell_css(rgb: np.ndarray, hatched: bool) -> str:
    r, g, b = (int(c) for c in rgb)
    ink = "black" if 0.299 * r + 0.587 * g + 0.114 * b > 140 else "white"  # legible on light and dark cells
    css = f"background-color: rgb({r}, {g}, {b}); color: {ink}; text-align: center; min-width: 3.2em"
    return css + (f"; background-image: {HATCH}" if hatched else "")


@st.cache_resource(max_entries=512, ttl=CACHE_TTL, show_spinner=False)
def _cells(values: tuple, hatched: tuple | None, pixels: bool) -> tuple[list[list[str]], list[list[str]]]:
    v = np.array(values, dtype=float)
    mask = np.zeros(v.shape, bool) if hatched is None else np.array(hatched, dtype=bool)
    rgb = grid_colours(v, pixels=pixels)
    text = [[format_number(x) for x in row] for row in v]
    css = [[_cell_css(rgb[i, j], bool(mask[i, j])) for j in range(v.shape[1])] for i in range(v.shape[0])]
    return text, css


def grid_table(values: tuple, hatched: tuple | None = None, *, pixels: bool = False) -> Styler:
    """A grid as a pandas Styler for ``st.table``; the text and colours are worked out once per grid.

    ``values`` and ``hatched`` are nested tuples (hashable: :func:`app.kernel_lab.model.as_key`).
    A fresh Styler each call: ``st.table`` computes a Styler's styles in place, so one is not shared.
    """
    text, css = _cells(values, hatched, pixels)
    frame = pd.DataFrame(text)
    return frame.style.apply(lambda _: pd.DataFrame(css, index=frame.index, columns=frame.columns), axis=None)


def show_grid(where, title: str, values: tuple, hatched: tuple | None = None, *, pixels: bool = False) -> None:
    """Draw a titled grid into ``where`` (a column or ``st``)."""
    where.caption(f"**{title}**")
    where.table(grid_table(values, hatched, pixels=pixels), hide_index=True, hide_header=True, width="content")
