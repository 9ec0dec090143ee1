"""What every section of "Inside the model" shares: chart options, downloads, image galleries and
the tiled maps (feature maps, kernels) as a chart with its PNG."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from app import pictures, plots
from cnn_core import data as datasets
from cnn_core import inspection

CHART = {"displayModeBar": False}  # no toolbar: it covered titles and colour bars; the PNG buttons save a chart


def download_png(label: str, make: Callable[[], bytes], file_name: str, key: str) -> None:
    st.download_button(label, make, file_name=file_name, mime="image/png", key=key, on_click="ignore",
                       icon=":material/download:")  # fmt: skip


def download_csv(label: str, frame: pd.DataFrame, file_name: str, key: str) -> None:
    st.download_button(label, lambda: frame.to_csv(index=False), file_name=file_name, mime="text/csv", key=key,
                       on_click="ignore", icon=":material/download:")  # fmt: skip


def gallery(data: datasets.ImageSet, idx: np.ndarray, captions: list[str]) -> None:
    """Test images side by side, each enlarged to 84 px with a caption."""
    if len(idx) == 0:
        return
    pics = [pictures.enlarge(pictures.picture_u8(inspection.picture_of(data, int(i))), 84) for i in idx]
    st.image(pics, caption=captions, width=84, alt=[f"Test image {int(i)}" for i in idx])


def maps_figure(
    maps: np.ndarray, per_map: bool, names: list[str] | None = None, cols: int | None = None, cell_px: float = 16
) -> tuple[go.Figure, Callable[[], bytes]]:
    """(N, h, w) maps -> (figure, PNG maker), both in one colour scale: shared, or each map its own."""
    shown = inspection.per_map_scale(maps) if per_map else maps
    t = inspection.tile(shown, cols=cols)
    raw = inspection.tile(maps, cols=cols).values
    scale = pictures.colour_scale(t.values, per_map=per_map)
    fig = plots.tiled_maps(
        t.values,
        raw,
        t.index,
        diverging=scale.diverging,
        zrange=scale.zrange,
        colourbar="share of map's max" if per_map else "value",
        names=names,
        max_cell_px=cell_px,
    )
    return fig, lambda: pictures.maps_png(t, scale)
