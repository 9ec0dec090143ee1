"""The Kernel Lab's widgets: each builds a piece of the page's settings from what the learner
sets, and the link (``st.query_params``) and session state stay in step with them."""

from __future__ import annotations

from dataclasses import asdict

import numpy as np
import pandas as pd
import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from app import state
from app.kernel_lab import saved
from app.kernel_lab.model import (
    DISPLAY_CHOICES,
    PADDING_CHOICES,
    PADDING_MODES,
    KernelLabConfig,
    cell_text,
    kernel_text,
)
from app.workspace import ClassSettings
from cnn_core import images, kernels, numbers, pixel


def seed_widgets_from_url() -> None:
    """Preset the widgets: from the link (and the learner's saved custom kernel) on a session's first
    visit, and from the settings the learner left when coming back from another page (Streamlit
    forgets an unshown page's widgets)."""
    if not st.session_state.get(state.KL_SEEDED):
        st.session_state[state.KL_SEEDED] = True
        params = dict(st.query_params)
        cfg = saved.restore(params, KernelLabConfig.from_query(params))
    elif state.KL_PRESET not in st.session_state and state.KL_LAST_CONFIG in st.session_state:
        cfg = st.session_state[state.KL_LAST_CONFIG]
    else:
        return
    for name, value in asdict(cfg).items():
        st.session_state[state.KL_SETTINGS[name]] = value


def publish_to_url(cfg: KernelLabConfig) -> None:
    """Keep the address bar in step with the settings, so the view can be shared as a link."""
    st.session_state[state.KL_LAST_CONFIG] = cfg
    wanted = cfg.to_query() | saved.link_extras(cfg)
    if dict(st.query_params) != wanted:
        st.query_params.from_dict(wanted)


# --- the photo -------------------------------------------------------------------------------


def image_source_widget(bar: DeltaGenerator, below: DeltaGenerator) -> tuple[bytes, str]:
    """Sample / upload / camera (as far as the instructor allows); returns (file bytes, label). Bad
    uploads fall back to the sample. The choices go in the settings ``bar``; the uploader, the
    camera and their sentences ``below`` it."""
    allowed = saved.class_settings()
    sources = ["Sample photo"] + ["Upload"] * allowed.uploads + ["Camera"] * allowed.camera
    if st.session_state.get(state.KL_SOURCE) not in sources:
        st.session_state[state.KL_SOURCE] = "Sample photo"
    source = bar.radio("Image", sources, horizontal=True, key=state.KL_SOURCE, width="content")
    sample = bar.selectbox(
        "Sample photo", list(images.SAMPLES), key=state.KL_SAMPLE, disabled=source != "Sample photo", width=200
    )
    with below:
        return _upload_or_camera(source, allowed, (images.sample_bytes(sample), sample))


def _upload_or_camera(source: str, allowed: ClassSettings, fallback: tuple[bytes, str]) -> tuple[bytes, str]:
    if off := [what for what, on in (("uploads", allowed.uploads), ("the camera", allowed.camera)) if not on]:
        st.caption(f"The instructor turned {' and '.join(off)} off for this class.")
    if source == "Upload":
        up = st.file_uploader(
            "Upload an image (PNG, JPEG, WebP, BMP, GIF, TIFF; up to 20 MB)",
            type=["png", "jpg", "jpeg", "webp", "bmp", "gif", "tif", "tiff"],
            key="kl_upload",
        )
        if up is None:
            st.caption("No file yet: showing the sample photo.")
            return fallback
        if up.size > images.MAX_BYTES:  # the browser's check can be bypassed; this one cannot
            st.error(
                f"{up.name} is {up.size / 1e6:.1f} MB; ConvLab accepts images up to {images.MAX_BYTES / 1e6:.0f} MB."
            )
            return fallback
        return up.getvalue(), up.name
    if source == "Camera":
        shot = st.camera_input("Take a picture", key="kl_camera")
        if shot is None:
            st.caption("No picture yet: showing the sample photo.")
            return fallback
        return shot.getvalue(), "camera picture"
    return fallback


def sample_fallback() -> tuple[bytes, str]:
    """The chosen sample photo: what the page shows instead of an upload it cannot read."""
    name = st.session_state[state.KL_SAMPLE]
    return images.sample_bytes(name), name


def channels_widget() -> str:
    """Grayscale or each RGB channel: "gray" or "rgb"."""
    return st.radio(
        "Channels",
        ["gray", "rgb"],
        horizontal=True,
        key=state.KL_COLOR,
        format_func={"gray": "Grayscale", "rgb": "RGB, each channel separately"}.get,
        width="content",
    )


# --- the custom kernel -----------------------------------------------------------------------


def kernel_grid_frame(kernel: np.ndarray) -> pd.DataFrame:
    """A kernel as a table of text cells for ``st.data_editor`` (text, so fractions can be typed;
    written exactly, e.g. 1/9, so reading the grid back gives the same kernel)."""
    return pd.DataFrame(
        [[cell_text(v) for v in row] for row in kernel],
        columns=[f"c{j + 1}" for j in range(kernel.shape[1])],
    )


def _reset_grid(base: np.ndarray) -> None:
    st.session_state[state.KL_GRID_BASE] = base
    st.session_state[state.KL_GRID_VERSION] = st.session_state.get(state.KL_GRID_VERSION, 0) + 1


def _on_start_from() -> None:
    base = kernels.PRESETS[st.session_state[state.KL_START_FROM]].kernel.copy()
    st.session_state[state.KL_ROWS], st.session_state[state.KL_COLS] = base.shape
    _reset_grid(base)


def _on_resize() -> None:
    last = st.session_state.get(state.KL_CUSTOM_KERNEL, kernels.PRESETS["Identity"].kernel)
    _reset_grid(kernels.resize_kernel(last, st.session_state[state.KL_ROWS], st.session_state[state.KL_COLS]))


def _on_paste() -> None:
    # numbers.split_blocks is the one reader of matrix text; blank lines between rows are ignored.
    rows = [row for block in numbers.split_blocks(st.session_state.get(state.KL_PASTE, "")) for row in block]
    try:
        k = kernels.parse_kernel(rows)
    except ValueError as err:
        st.session_state[state.KL_PASTE_ERROR] = str(err)
        return
    st.session_state[state.KL_PASTE_ERROR] = None
    st.session_state[state.KL_CUSTOM_KERNEL] = k
    st.session_state[state.KL_ROWS], st.session_state[state.KL_COLS] = k.shape
    _reset_grid(k)


def custom_kernel_widget() -> np.ndarray:
    """The editable grid (1x1 to 9x9); bad cells are refused and the last good kernel is kept."""
    if state.KL_GRID_BASE not in st.session_state:
        base = kernels.PRESETS["Sharpen"].kernel.copy()
        st.session_state[state.KL_CUSTOM_KERNEL] = base
        st.session_state.setdefault(state.KL_KERNEL_KEPT, kernel_text(base))  # the starting kernel is no change
        st.session_state.setdefault(state.KL_ROWS, base.shape[0])
        st.session_state.setdefault(state.KL_COLS, base.shape[1])
        _reset_grid(base)
    c1, c2, c3 = st.columns([2, 1, 1])
    c1.selectbox(
        "Start from",
        list(kernels.PRESETS),
        index=None,
        placeholder="a preset…",
        key=state.KL_START_FROM,
        on_change=_on_start_from,
    )
    c2.number_input("Rows", 1, kernels.MAX_KERNEL_SIDE, key=state.KL_ROWS, on_change=_on_resize)
    c3.number_input("Columns", 1, kernels.MAX_KERNEL_SIDE, key=state.KL_COLS, on_change=_on_resize)
    st.caption("Type numbers or fractions such as 1/9 in the cells.")
    edited = st.data_editor(
        kernel_grid_frame(st.session_state[state.KL_GRID_BASE]),
        key=f"kl_grid_{st.session_state[state.KL_GRID_VERSION]}",
        hide_index=True,
    )
    try:
        st.session_state[state.KL_CUSTOM_KERNEL] = kernels.parse_kernel(edited.values.tolist())
    except ValueError as err:
        st.error(f"{err} Using the last valid kernel until then.", icon=":material/error:")
    with st.expander("Paste a kernel as text"):
        st.text_area(
            "One row per line, numbers separated by spaces or commas",
            key=state.KL_PASTE,
            placeholder="1 0 -1\n1 0 -1\n1 0 -1",
        )
        st.button("Use this kernel", key="kl_paste_apply", on_click=_on_paste)
        if st.session_state.get(state.KL_PASTE_ERROR):
            st.error(st.session_state[state.KL_PASTE_ERROR], icon=":material/error:")
    kernel = st.session_state[state.KL_CUSTOM_KERNEL]
    if st.checkbox("Normalise (scale so the weights sum to 1)", key="kl_normalise"):
        if kernels.sums_to_zero(kernel):
            st.caption("These weights sum to 0, so they cannot be normalised; used as they are.")
        kernel = kernels.normalise(kernel)
    return kernel


# --- stride, padding, dilation, display --------------------------------------------------------


def settings_from_state(preset: str, color: str) -> KernelLabConfig:
    """The page's config from the settings' values in session state, before their widgets are drawn.

    The widgets are keyed and seeded (:func:`seed_widgets_from_url`), so their state holds what they will
    return: the lab reads it first, sends the feature map, and draws the widgets after it (issue #15).
    """
    get = st.session_state.get
    return KernelLabConfig(
        sample=st.session_state[state.KL_SAMPLE],
        preset=preset,
        color=color,
        stride=int(get(state.KL_STRIDE, 1)),
        padding=get(state.KL_PADDING, PADDING_CHOICES[0]),
        custom_padding=int(get(state.KL_CUSTOM_PADDING, 0)),
        padding_mode=get(state.KL_PADDING_MODE, PADDING_MODES[0]),
        dilation=int(get(state.KL_DILATION, 1)),
        display=get(state.KL_DISPLAY, "auto"),
    )


def settings_widgets() -> None:
    """Stride / padding / dilation (their values are read by :func:`settings_from_state`). Each input has a
    width of its own, so in the settings bar (a row that wraps) they move to the next line instead of
    squeezing their labels and digits on a narrow screen or at presentation size."""
    st.number_input(
        "Stride", 1, 8, key=state.KL_STRIDE, help="How many pixels the kernel moves between outputs.", width=120
    )
    padding_kind = st.selectbox(
        "Padding",
        PADDING_CHOICES,
        key=state.KL_PADDING,
        help="same: output as large as the input (at stride 1); valid: no padding; custom: cells per side.",
        width=130,
    )
    st.number_input("Cells per side", 0, 10, key=state.KL_CUSTOM_PADDING, disabled=padding_kind != "custom", width=150)
    st.selectbox(
        "Padding holds",
        PADDING_MODES,
        key=state.KL_PADDING_MODE,
        help="zeros: black border; reflect: mirror the image; replicate: repeat the edge pixel.",
        width=150,
    )
    st.number_input(
        "Dilation", 1, 5, key=state.KL_DILATION, help="Spread the kernel's taps this many pixels apart.", width=120
    )


def displayed(auto: str) -> str:
    """The display mode the map is drawn in: the chosen one, or ``auto`` (the kernel's) for *Automatic*."""
    chosen = st.session_state.get(state.KL_DISPLAY, "auto")
    return auto if chosen == "auto" else chosen


def display_widget() -> None:
    """How output values are drawn (:func:`displayed` reads the choice).

    The options' labels never change (the caption says what *Automatic* chose): a label that
    followed the kernel made Streamlit see a new widget, and the radio went blank.
    """
    st.radio("Show output values as", list(DISPLAY_CHOICES), key=state.KL_DISPLAY, format_func=DISPLAY_CHOICES.get)


# --- the inspected pixel -----------------------------------------------------------------------


def follow_click(
    shape: tuple[int, int], out_shape: tuple[int, int], kernel_shape: tuple[int, int], cfg: KernelLabConfig
) -> None:
    """Move the inspected output pixel to a new click on the input, and keep it inside the output."""
    click = st.session_state.get(state.KL_CLICK)
    if click and st.session_state.get(state.KL_LAST_CLICK) != click.get("unix_time"):
        st.session_state[state.KL_LAST_CLICK] = click.get("unix_time")
        r_in, c_in = pixel.clicked_pixel(click["x"], click["y"], (click.get("height"), click.get("width")), shape)
        st.session_state[state.KL_ROW], st.session_state[state.KL_COL] = pixel.nearest_output_cell(
            r_in, c_in, shape, kernel_shape, stride=cfg.stride, padding=cfg.padding_spec, dilation=cfg.dilation
        )
    for key, n in ((state.KL_ROW, out_shape[0]), (state.KL_COL, out_shape[1])):
        st.session_state[key] = min(int(st.session_state.get(key, n // 2)), n - 1)


def channel_names(work: np.ndarray) -> list[str]:
    return ["R", "G", "B"] if work.ndim == 3 else ["gray"]


def inspected_pixel(work: np.ndarray, kernel: np.ndarray, cfg: KernelLabConfig) -> tuple[pixel.PixelWorking, str]:
    """The dot product behind the output pixel (and channel) the inspector last chose, on 0–255 pixels."""
    channels = channel_names(work)
    ch = st.session_state.get(state.KL_CHANNEL, channels[0]) if len(channels) > 1 else "gray"
    plane = work[..., channels.index(ch)] if work.ndim == 3 else work  # (H, W) in [0, 1]
    pw = pixel.explain_pixel(
        plane * 255,
        kernel,
        (st.session_state[state.KL_ROW], st.session_state[state.KL_COL]),
        stride=cfg.stride,
        padding=cfg.padding_spec,
        padding_mode=cfg.padding_mode,
        dilation=cfg.dilation,
    )
    return pw, ch


def inspector_widgets(out_shape: tuple[int, ...], channels: list[str]) -> None:
    """Output row, column and (for RGB) channel of the pixel to explain."""
    row = st.container(horizontal=True, gap="small")  # one block, not three columns (fewer deltas per rerun)
    row.number_input("Output row", 0, out_shape[0] - 1, key=state.KL_ROW, width=180)
    row.number_input("Output column", 0, out_shape[1] - 1, key=state.KL_COL, width=180)
    if len(channels) > 1:
        row.selectbox("Channel", channels, key=state.KL_CHANNEL, width=140)
