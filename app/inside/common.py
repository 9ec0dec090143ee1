"""What every section of "Inside the model" shares: chart options, downloads, pictures sent as
encoded ``data:`` addresses, image galleries, the tiled maps (feature maps, kernels) as a chart
with its PNG, and a flat vector as a picture."""

from __future__ import annotations

import base64
from collections.abc import Callable

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from app import pictures, plots
from app.inside.view import View, remember
from cnn_core import inspection

CHART = {"displayModeBar": False}  # no toolbar: it covered titles and colour bars; the PNG buttons save a chart


def download_png(label: str, make: Callable[[], bytes], file_name: str, key: str) -> None:
    st.download_button(label, make, file_name=file_name, mime="image/png", key=key, on_click="ignore",
                       icon=":material/download:")  # fmt: skip


def download_csv(label: str, frame: pd.DataFrame, file_name: str, key: str) -> None:
    st.download_button(label, lambda: frame.to_csv(index=False), file_name=file_name, mime="text/csv", key=key,
                       on_click="ignore", icon=":material/download:")  # fmt: skip


def data_url(picture: np.ndarray) -> str:
    """A uint8 picture as a PNG ``data:`` address: ``st.image`` sends it inside the page as it is (no
    re-encoding on a rerun, no request to the media server for the browser to make)."""
    return _png_url(pictures.png_bytes(picture, compress_level=1))


def gallery(view: View, idx: np.ndarray, captions: list[str]) -> None:
    """Test images side by side, each enlarged to 84 px with a caption (encoded once per view)."""
    if len(idx) == 0:
        return
    data = view.bundle.data

    def encode() -> list[str]:
        return [data_url(pictures.enlarge(pictures.picture_u8(inspection.picture_of(data, int(i))), 84)) for i in idx]

    pics = remember(view, ("gallery", tuple(int(i) for i in idx)), encode)
    st.image(pics, caption=captions, width=84, alt=[f"Test image {int(i)}" for i in idx])


def _png_url(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def scale_words(scale: pictures.ColourScale, per_map: bool) -> str:
    """The colour scale of a tiled picture, in words (a picture has no colour bar)."""
    lo, hi = scale.zrange
    if per_map:
        what = "each map's own largest value"
        return f"Colours: {what} is dark blue (0) to yellow (largest)." if not scale.diverging else (
            f"Colours: blue for +1, white for 0, red for -1 times {what}.")  # fmt: skip
    if scale.diverging:
        return f"Colours: blue up to {hi:+.3g}, white for 0, red down to {lo:+.3g}."
    return f"Colours: dark blue for {lo:.3g} up to yellow for {hi:.3g}."


def maps_picture(
    maps: np.ndarray, per_map: bool, cols: int | None = None, side: int = 56
) -> tuple[str, Callable[[], bytes], str]:
    """(N, h, w) maps -> (PNG ``data:`` address, PNG maker, colour scale in words): the tiled maps as the
    picture their PNG download holds, encoded once, for a page that draws them without hover."""
    shown = inspection.per_map_scale(maps) if per_map else maps
    t = inspection.tile(shown, cols=cols)
    scale = pictures.colour_scale(t.values, per_map=per_map)
    png = pictures.maps_png(t, scale, side)
    return _png_url(png), lambda: png, scale_words(scale, per_map)


VECTOR_ROW = 64  # values per row of a flat vector's picture


def vector_picture(values: np.ndarray, per_map: bool, cell: int = 10) -> tuple[str, str]:
    """A flat vector (N,) -> (PNG ``data:`` address, colour scale in words): its values left to right in rows
    of :data:`VECTOR_ROW`, each a ``cell`` px square, white after the last (no chart to draw on a tab visit;
    "Numbers on hover" draws the chart)."""
    n = len(values)
    shown = inspection.per_map_scale(values[None, None, :])[0, 0] if per_map else np.asarray(values, np.float32)
    width = min(n, VECTOR_ROW)
    grid = np.full(-(-n // width) * width, np.nan, np.float32)
    grid[:n] = shown
    rows = inspection.tile(grid.reshape(1, -1, width), cols=1)  # one map: the rows, NaN (white) after the last
    scale = pictures.colour_scale(shown, per_map=per_map)
    return _png_url(pictures.maps_png(rows, scale, side=cell * max(rows.tile_shape))), scale_words(scale, per_map)


def maps_figure(
    maps: np.ndarray,
    per_map: bool,
    name: str = "map",
    cols: int | None = None,
    cell_px: float = 16,
    grid: tuple[str, str] | None = None,
) -> tuple[go.Figure, Callable[[], bytes]]:
    """(N, h, w) maps -> (figure, PNG maker), both in one colour scale: shared, or each map its own.

    Hover calls map n "``name`` n"; with ``grid = (row word, column word)`` and ``cols`` it names a
    map by its row and column of the grid instead ("output 2, input 5").
    """
    shown = inspection.per_map_scale(maps) if per_map else maps
    t = inspection.tile(shown, cols=cols)
    raw = inspection.tile(maps, cols=cols).values if per_map else t.values
    scale = pictures.colour_scale(t.values, per_map=per_map)
    fig = plots.tiled_maps(
        t.values,
        raw,
        t.index,
        diverging=scale.diverging,
        zrange=scale.zrange,
        colourbar="share of map's max" if per_map else "value",
        name=name,
        grid=(*grid, cols) if grid is not None and cols is not None else None,
        max_cell_px=cell_px,
    )
    return fig, lambda: pictures.maps_png(t, scale)
