"""The Kernel Lab's view: the panels that show a kernel, the output-size working, the photo and its
feature map, and the dot product behind one pixel. They draw numbers the core computed."""

from __future__ import annotations

import numpy as np
import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from app import html_grids as grids
from app import layout, state
from app.kernel_lab import caches
from app.kernel_lab.model import CUSTOM, DISPLAY_CHOICES, DISPLAY_WHY, FilterSpec, as_key, picture_layout
from app.kernel_lab.photo_picker import photo_picker
from cnn_core import geometry, kernels, pixel
from cnn_core.numbers import format_number

SIZE_RULE = "Output size = floor((n + padding before + padding after − dilation·(k − 1) − 1) / stride) + 1"
SIDE_BY_SIDE_COLUMNS = 3  # a kernel this many columns wide fits in half the page, on a projector too


def kernel_and_size_boxes(preset_name: str) -> tuple:
    """Where the kernel and the output size go: side by side for a kernel up to 3 columns wide, else (and in
    presentation mode, where the size working wrapped a few characters a line) the kernel above the output
    size (a 5x5 or 7x7 grid in half a 1024-wide page was cut off on the right)."""
    if preset_name == CUSTOM:
        width = int(st.session_state.get(state.KL_COLS, SIDE_BY_SIDE_COLUMNS))
    else:
        width = kernels.PRESETS[preset_name].kernel.shape[1]
    if width <= SIDE_BY_SIDE_COLUMNS and not layout.presenting():
        return tuple(st.columns(2, gap="large"))
    return st.container(), st.container()


def preset_panel(preset: kernels.Preset, where: DeltaGenerator) -> None:
    """A preset's sentence and its grid (both grids for a pair such as Sobel magnitude), drawn in ``where``
    (the kernel's box, after the pictures: the page sends the feature map first)."""
    with where:
        if st.session_state.get(state.KL_KERNEL_RESTORED):
            st.caption(f"Your custom kernel is kept: choose *{CUSTOM}* to use it.")
        st.write(preset.description)
        if preset.partner is None:
            grids.show_grids(st, ("Kernel", as_key(preset.kernel), None, False), big=layout.presenting())
        else:  # side by side, wrapping where the two grids do not fit
            grids.show_grids(
                st,
                ("Sobel x", as_key(preset.kernel), None, False),
                ("Sobel y", as_key(preset.partner), None, False),
                big=layout.presenting(),
            )


def output_size_panel(
    shape: tuple[int, ...], out_shape: tuple[int, ...], sizes: list[geometry.OutputSizeWorking]
) -> None:
    """The output-size formula for each axis with the photo's numbers in it, and the rows it drops."""
    with st.expander(f"Output size: {shape[0]} x {shape[1]} in, {out_shape[0]} x {out_shape[1]} out", expanded=True):
        lines = [f"{axis}: {working.formula()}" for axis, working in zip(("Height", "Width"), sizes, strict=True)]
        # one monospace element (no 1.5 MB code highlighter), the rule above its two workings
        st.text("\n".join([SIZE_RULE, *lines]), width="stretch")
        for axis, working in zip(("Height", "Width"), sizes, strict=True):
            if working.dropped:
                st.caption(
                    f"{axis}: the last {working.dropped} padded cell(s) are never covered by a window and are dropped."
                )


def display_caption(shown: str, color: str, *, automatic: bool) -> None:
    """Why the chosen display mode draws the output as it does (and what *Automatic* chose)."""
    chose = f"Automatic chose *{DISPLAY_CHOICES[shown].lower()}* for this kernel. " if automatic else ""
    st.caption(
        chose
        + DISPLAY_WHY[shown]
        + (
            " Signed colours need grayscale, so RGB shows absolute values."
            if shown == "signed" and color == "rgb"
            else ""
        )
    )


def pictures_panel(
    data: bytes,
    label: str,
    color: str,
    out_shape: tuple[int, ...],
    spec: FilterSpec,
    shown: str,
    pw: pixel.PixelWorking,
) -> None:
    """The clickable input with the kernel's window outlined, beside the feature map at the same scale.

    Each picture fills its share of an equal column (see :func:`~app.kernel_lab.model.picture_layout`),
    so the whole photo is always in view and a pixel of the feature map takes the room of a pixel
    of the input, on a projector or a phone (where the columns stack).
    """
    h, w = caches.working_copy(data, color).shape[:2]
    st.caption(
        f"**Input** ({h} x {w}, {label}): click a pixel; the orange box is the kernel's window. "
        f"**Feature map** ({out_shape[0]} x {out_shape[1]}), at the same scale."
    )
    weights, photo_share, map_share = picture_layout((h, w), out_shape)
    cols = st.columns(weights, gap="small")
    st.html(_share_style(map_share))
    with cols[0].container(key=state.KL_PHOTO_BOX):
        picture = caches.input_picture(data, color, pw.rows, pw.cols)
        photo_picker(
            picture.data_url,
            share=photo_share,
            centre=((min(pw.rows) + max(pw.rows)) / 2, (min(pw.cols) + max(pw.cols)) / 2),
            step=spec.stride,
            alt=f"The input photo ({h} x {w}), the kernel's window outlined in orange",
        )
    with cols[1].container(key=state.KL_MAP_BOX):
        fmap = caches.feature_map_picture(data, color, spec, shown, int(out_shape[1]))
        st.image(
            fmap.data,
            width="stretch",
            output_format=fmap.format,
            alt=f"The feature map ({out_shape[0]} x {out_shape[1]}): the kernel's sum at every position of the photo",
        )


def _share_style(map_share: float) -> str:
    """The style that makes the feature map fill its share of its column (on its keyed container,
    ``.st-key-<key>``): ``st.image`` draws a picture narrower than its column at its own width. (The
    photo component sizes the photo itself.)"""
    fmap = f".st-key-{state.KL_MAP_BOX}"
    return (
        "<style>"
        f'{fmap} [data-testid="stFullScreenFrame"] > div {{ width: 100% !important; justify-content: flex-start !important; }}'
        f'{fmap} [data-testid="stImage"] {{ width: {100 * map_share:.3f}% !important; }}'
        f'{fmap} [data-testid="stImageContainer"], {fmap} img {{ width: 100% !important; height: auto !important; }}'
        "</style>"
    )


def dot_product_panel(
    pw: pixel.PixelWorking, kernel: np.ndarray, out: np.ndarray, channel: str, *, magnitude: bool
) -> None:
    """Neighbourhood x kernel = products, their sum, the whole sum written out, and the map's value."""
    row, col = pw.out_index
    padding = tuple(map(tuple, pw.is_padding.tolist()))
    grids.show_grids(  # one row that wraps: a grid too wide for the row moves below
        st,
        ("Neighbourhood (0–255)", as_key(pw.window), padding, True),
        ("× Kernel", as_key(kernel), None, False),
        ("= Products", as_key(pw.products), padding, False),
        big=layout.presenting(),
    )
    terms = " + ".join(
        f"{format_number(v)}×{format_number(k_)}" for v, k_ in zip(pw.window.ravel(), kernel.ravel(), strict=True)
    )
    st.markdown(
        f"**Sum** of the products = **{format_number(pw.total)}**"
        + (" (crossed cells are padding)" if pw.is_padding.any() else "")
    )
    with st.expander("The whole sum written out"):
        st.text(f"{terms}\n= {format_number(pw.total)}", width="stretch")
    if magnitude:
        st.caption("Sobel magnitude combines this sum with the Sobel y sum as sqrt(x² + y²).")
    else:
        plane = out[..., "RGB".index(channel)] if out.ndim == 3 else out  # (H_out, W_out) in [0, 1] units
        value = float(plane[int(row), int(col)]) * 255
        st.caption(f"Feature map value at ({int(row)}, {int(col)}): {format_number(value)} on the 0–255 scale.")


def download_button(data: bytes, color: str, spec: FilterSpec, shown: str) -> None:
    """The full-resolution feature map, filtered only when the learner downloads it."""
    st.download_button(
        "Download the full-resolution feature map (PNG)",
        lambda: caches.full_resolution_png(data, color, spec, shown),
        file_name="feature_map.png",
        mime="image/png",
        icon=":material/download:",
    )
