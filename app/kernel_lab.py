"""Kernel Lab glue: its typed settings, the widgets that build them, and cached filtering.

The page (``app_pages/kernel_lab.py``) stays a thin script over these pieces; every number comes
from :mod:`cnn_core`.
"""

from __future__ import annotations

import hashlib
import io
import threading
from dataclasses import asdict, dataclass, replace
from typing import Literal

import numpy as np
import pandas as pd
import streamlit as st
from PIL import Image

from app import plots, state
from app.pictures import png_bytes
from cnn_core import filters, images, kernels, pixel

WORKING_SIDE = 640  # the page filters a copy at most this many pixels on its longer side
DISPLAY_SIDE = 440  # screen pixels for the longer side of the input picture (fits a projector's column)
CACHE_TTL = "20m"  # shared pictures of photos nobody has looked at for this long are dropped (memory after a lesson)
PADDING_CHOICES = ("same", "valid", "custom")
PADDING_MODES = ("zeros", "reflect", "replicate")
DISPLAY_CHOICES: dict[str, str] = {
    "auto": "Automatic",
    "clip": "Clip to 0–255",
    "abs": "Absolute value",
    "stretch": "Stretch min–max",
    "signed": "Signed colours",
}
CUSTOM = "Custom…"


@dataclass(frozen=True)
class KernelLabConfig:
    """Everything that decides what the Kernel Lab shows (and what its shareable link holds)."""

    sample: str = "Cameraman"  # bundled photo, when no upload or camera picture is used
    preset: str = "Sobel x"  # a name from cnn_core.kernels.PRESETS, or CUSTOM
    color: Literal["gray", "rgb"] = "gray"  # filter the luminance or each RGB channel
    stride: int = 1
    padding: str = "same"  # "same", "valid" or "custom"
    custom_padding: int = 1  # cells on every side when padding == "custom"
    padding_mode: str = "zeros"  # what the padding cells hold
    dilation: int = 1
    display: str = "auto"  # how negative / out-of-range output values are shown

    @property
    def padding_spec(self) -> str | int:
        return self.custom_padding if self.padding == "custom" else self.padding

    def to_query(self) -> dict[str, str]:
        return {k: str(v) for k, v in asdict(self).items() if v != getattr(KernelLabConfig, k)}

    @classmethod
    def from_query(cls, params: dict[str, str]) -> KernelLabConfig:
        """Read a config from URL parameters, ignoring anything malformed."""
        cfg = cls()
        for name, cast, ok in (
            ("sample", str, lambda v: v in images.SAMPLES),
            ("preset", str, lambda v: v in kernels.PRESETS or v == CUSTOM),
            ("color", str, lambda v: v in ("gray", "rgb")),
            ("stride", int, lambda v: 1 <= v <= 8),
            ("padding", str, lambda v: v in PADDING_CHOICES),
            ("custom_padding", int, lambda v: 0 <= v <= 10),
            ("padding_mode", str, lambda v: v in PADDING_MODES),
            ("dilation", int, lambda v: 1 <= v <= 5),
            ("display", str, lambda v: v in DISPLAY_CHOICES),
        ):
            if name in params:
                try:
                    value = cast(params[name])
                except ValueError:
                    continue
                if ok(value):
                    cfg = replace(cfg, **{name: value})
        return cfg


def seed_widgets_from_url() -> None:
    """Preset the widgets: from the link on a session's first visit, and from the settings the
    learner left when coming back from another page (Streamlit forgets an unshown page's widgets)."""
    if not st.session_state.get(state.KL_SEEDED):
        st.session_state[state.KL_SEEDED] = True
        cfg = KernelLabConfig.from_query(dict(st.query_params))
    elif "kl_preset" not in st.session_state and state.KL_LAST_CONFIG in st.session_state:
        cfg = st.session_state[state.KL_LAST_CONFIG]
    else:
        return
    for name, value in asdict(cfg).items():
        st.session_state[f"kl_{name}"] = value


def publish_to_url(cfg: KernelLabConfig) -> None:
    """Keep the address bar in step with the settings, so the view can be shared as a link."""
    st.session_state[state.KL_LAST_CONFIG] = cfg
    wanted = cfg.to_query()
    if dict(st.query_params) != wanted:
        st.query_params.from_dict(wanted)


# --- image sources -------------------------------------------------------------------------


_last_digest = threading.local()  # per script thread: the photo bytes last hashed, and their digest


def digest(data: bytes) -> str:
    """The photo's identity in every cache below.

    A rerun hands the same bytes object to every helper here, so it is hashed once per rerun
    (a 20 MB upload takes tens of milliseconds to hash), not once per call.
    """
    last = getattr(_last_digest, "pair", None)
    if last is not None and last[0] is data:
        return last[1]
    key = hashlib.sha1(data).hexdigest()[:16]
    _last_digest.pair = (data, key)
    return key


def _frozen(a: np.ndarray) -> np.ndarray:
    a.flags.writeable = False  # shared by every session that shows this photo: nobody may edit it
    return a


# The caches below hold one object for the whole server (st.cache_resource): a class of 30 on the
# same sample photo shares one decoded copy, and a rerun gets it without the pickle round trip
# st.cache_data makes (which, for a 12-megapixel upload, copied ~150 MB on every rerun).
@st.cache_resource(max_entries=32, ttl=CACHE_TTL, show_spinner=False)
def _decode(key: str, color: str, _data: bytes) -> images.LoadedImage:
    loaded = images.load_image(_data, mode="gray" if color == "gray" else "rgb")
    _frozen(loaded.pixels)
    return loaded


def decode(data: bytes, color: str) -> images.LoadedImage:
    """Decode once per (file, colour mode); raises ImageError with a message to show."""
    return _decode(digest(data), color, data)


@st.cache_resource(max_entries=32, ttl=CACHE_TTL, show_spinner=False)
def _working_copy(key: str, color: str, _data: bytes) -> np.ndarray:
    return _frozen(images.resize_to_fit(decode(_data, color).pixels, WORKING_SIDE))


def working_copy(data: bytes, color: str) -> np.ndarray:
    """The display-sized copy the page filters live (read-only)."""
    return _working_copy(digest(data), color, data)


# --- kernels -------------------------------------------------------------------------------


def as_key(kernel: np.ndarray) -> tuple[tuple[float, ...], ...]:
    """A kernel as nested tuples of floats: hashable, so it can key the caches."""
    return tuple(tuple(float(v) for v in row) for row in np.asarray(kernel))


@st.cache_resource(max_entries=64, show_spinner=False)
def kernel_figure(kernel: tuple, title: str = ""):
    """A kernel's grid (``plots.matrix_heatmap``), built once per kernel and title and shared.

    ``st.plotly_chart`` only reads a figure, so every session can be handed the same object.
    """
    return plots.matrix_heatmap(np.array(kernel, dtype=float), title=title)


def kernel_grid_frame(kernel: np.ndarray) -> pd.DataFrame:
    """A kernel as a table of text cells for ``st.data_editor`` (text, so fractions can be typed)."""
    return pd.DataFrame(
        [[_cell_text(v) for v in row] for row in kernel],
        columns=[f"c{j + 1}" for j in range(kernel.shape[1])],
    )


def _cell_text(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else f"{v:.6g}"


def resize_kernel(kernel: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """Grow with zeros or crop around the centre, keeping the kernel's middle in the middle."""
    out = np.zeros((rows, cols))
    kh, kw = kernel.shape
    src_r0, dst_r0 = max(0, (kh - rows) // 2), max(0, (rows - kh) // 2)
    src_c0, dst_c0 = max(0, (kw - cols) // 2), max(0, (cols - kw) // 2)
    h, w = min(kh, rows), min(kw, cols)
    out[dst_r0 : dst_r0 + h, dst_c0 : dst_c0 + w] = kernel[src_r0 : src_r0 + h, src_c0 : src_c0 + w]
    return out


def auto_display(kernel: np.ndarray, color: str, *, magnitude: bool = False) -> str:
    """Kernels whose weights sum to about 1 keep brightness (clip); others respond with signs.

    A gradient magnitude (a preset with a partner) is never negative, so it shows as strength.
    """
    if magnitude:
        return "abs"
    if abs(float(kernel.sum()) - 1.0) < 0.05:
        return "clip"
    return "signed" if color == "gray" else "abs"


DISPLAY_WHY = {
    "clip": "Values below 0 show black and above 255 show white: right for blurs and sharpening, "
    "whose weights sum to 1 and keep the brightness.",
    "abs": "The strength of the response whatever its sign: an edge from dark to light and one from "
    "light to dark both look bright.",
    "stretch": "The smallest output value becomes black and the largest white, so even faint responses become visible.",
    "signed": "Zero is white, negative values red and positive values blue (both darker the "
    "stronger), as in the kernel grids: the sign of the response stays visible.",
}


# --- filtering -----------------------------------------------------------------------------


@dataclass(frozen=True)
class FilterSpec:
    """What the filter does to a photo; hashable, so it keys the shared caches below."""

    kernel: tuple[tuple[float, ...], ...]
    partner: tuple[tuple[float, ...], ...] | None  # Sobel y, combined with the kernel as sqrt(x² + y²)
    stride: int
    padding: str | int  # "same", "valid" or cells per side
    padding_mode: str
    dilation: int

    @classmethod
    def of(cls, kernel: np.ndarray, partner: np.ndarray | None, cfg: KernelLabConfig) -> FilterSpec:
        return cls(
            as_key(kernel),
            None if partner is None else as_key(partner),
            cfg.stride,
            cfg.padding_spec,
            cfg.padding_mode,
            cfg.dilation,
        )


@st.cache_resource(max_entries=64, ttl=CACHE_TTL, show_spinner=False)
def _filtered(key: str, color: str, spec: FilterSpec, _data: bytes) -> np.ndarray:
    return _frozen(_apply(working_copy(_data, color), spec))


def filtered(data: bytes, color: str, spec: FilterSpec) -> np.ndarray:
    """Filter the working copy (cached on the photo and the spec; read-only)."""
    return _filtered(digest(data), color, spec, data)


@st.cache_resource(max_entries=64, ttl=CACHE_TTL, show_spinner=False)
def _feature_map_png(key: str, color: str, spec: FilterSpec, display: str, width: int, _data: bytes) -> bytes:
    picture = Image.fromarray(to_picture(filtered(_data, color, spec), display))
    if picture.width > width:  # shrink it here, once, as st.image would on every rerun (same filter)
        picture = picture.resize((width, max(1, round(picture.height * width / picture.width))), Image.BILINEAR)
    return png_bytes(picture, compress_level=1)  # fast: redrawn on every setting change


def feature_map_png(data: bytes, color: str, spec: FilterSpec, display: str, width: int) -> bytes:
    """The live feature map as PNG bytes at most ``width`` pixels wide, encoded once per setting.

    ``st.image`` sends bytes of the width it is given as they are, instead of decoding, resizing
    and re-encoding the picture on every rerun.
    """
    return _feature_map_png(digest(data), color, spec, display, width, data)


def full_resolution_png(data: bytes, color: str, spec: FilterSpec, display: str) -> bytes:
    """The result on the full-resolution photo, as PNG bytes (made only when downloaded)."""
    return png_bytes(to_picture(_apply(decode(data, color).pixels, spec), display))


def _apply(pixels: np.ndarray, spec: FilterSpec) -> np.ndarray:
    kw = dict(stride=spec.stride, padding=spec.padding, padding_mode=spec.padding_mode, dilation=spec.dilation)
    out = filters.apply_kernel(pixels, np.array(spec.kernel, dtype=np.float64), **kw)
    if spec.partner is not None:
        out = np.hypot(out, filters.apply_kernel(pixels, np.array(spec.partner, dtype=np.float64), **kw))
    return out


# Red - white - blue, the same diverging scale as the kernel grids (plotly's RdBu): negative red,
# positive blue. Red against blue stays distinct for red-green colour blindness.
_NEG = np.array([0.698, 0.094, 0.169], dtype=np.float32)  # RdBu's dark red
_POS = np.array([0.129, 0.400, 0.675], dtype=np.float32)  # RdBu's dark blue


def to_picture(values: np.ndarray, display: str) -> np.ndarray:
    """Filter output -> uint8 picture (H, W) or (H, W, 3) as the chosen display mode draws it."""
    if display == "signed" and values.ndim == 2:
        t = (images.display_range(values, "signed") * 2 - 1)[..., None]  # -1 .. 1
        white = np.ones(3, dtype=np.float32)
        rgb = np.where(t < 0, white + (-t) * (_NEG - white), white + t * (_POS - white))
        return images.to_uint8(rgb)
    return images.to_uint8(images.display_range(values, "abs" if display == "signed" else display))


# --- widgets ---------------------------------------------------------------------------------


def image_source_widget() -> tuple[bytes, str]:
    """Sample / upload / camera; returns (file bytes, label). Bad uploads fall back to the sample."""
    source = st.radio("Image", ["Sample photo", "Upload", "Camera"], horizontal=True, key="kl_source")
    sample = st.selectbox("Sample photo", list(images.SAMPLES), key="kl_sample", disabled=source != "Sample photo")
    fallback = images.sample_bytes(sample), sample
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


def _reset_grid(base: np.ndarray) -> None:
    st.session_state[state.KL_GRID_BASE] = base
    st.session_state[state.KL_GRID_VERSION] = st.session_state.get(state.KL_GRID_VERSION, 0) + 1


def _on_start_from() -> None:
    base = kernels.PRESETS[st.session_state["kl_start_from"]].kernel.copy()
    st.session_state["kl_rows"], st.session_state["kl_cols"] = base.shape
    _reset_grid(base)


def _on_resize() -> None:
    last = st.session_state.get(state.KL_CUSTOM_KERNEL, kernels.PRESETS["Identity"].kernel)
    _reset_grid(resize_kernel(last, st.session_state["kl_rows"], st.session_state["kl_cols"]))


def _on_paste() -> None:
    text = st.session_state.get("kl_paste", "")
    rows = [r for r in (line.replace(",", " ").split() for line in text.strip().splitlines()) if r]
    try:
        k = kernels.parse_kernel(rows)
    except ValueError as err:
        st.session_state[state.KL_PASTE_ERROR] = str(err)
        return
    st.session_state[state.KL_PASTE_ERROR] = None
    st.session_state[state.KL_CUSTOM_KERNEL] = k
    st.session_state["kl_rows"], st.session_state["kl_cols"] = k.shape
    _reset_grid(k)


def custom_kernel_widget() -> np.ndarray:
    """The editable grid (1x1 to 9x9); bad cells are refused and the last good kernel is kept."""
    if state.KL_GRID_BASE not in st.session_state:
        base = kernels.PRESETS["Sharpen"].kernel.copy()
        st.session_state[state.KL_CUSTOM_KERNEL] = base
        st.session_state.setdefault("kl_rows", base.shape[0])
        st.session_state.setdefault("kl_cols", base.shape[1])
        _reset_grid(base)
    c1, c2, c3 = st.columns([2, 1, 1])
    c1.selectbox(
        "Start from",
        list(kernels.PRESETS),
        index=None,
        placeholder="a preset…",
        key="kl_start_from",
        on_change=_on_start_from,
    )
    c2.number_input("Rows", 1, kernels.MAX_KERNEL_SIDE, key="kl_rows", on_change=_on_resize)
    c3.number_input("Columns", 1, kernels.MAX_KERNEL_SIDE, key="kl_cols", on_change=_on_resize)
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
            key="kl_paste",
            placeholder="1 0 -1\n1 0 -1\n1 0 -1",
        )
        st.button("Use this kernel", key="kl_paste_apply", on_click=_on_paste)
        if st.session_state.get(state.KL_PASTE_ERROR):
            st.error(st.session_state[state.KL_PASTE_ERROR], icon=":material/error:")
    kernel = st.session_state[state.KL_CUSTOM_KERNEL]
    if st.checkbox("Normalise (scale so the weights sum to 1)", key="kl_normalise"):
        if abs(kernel.sum()) < 1e-12:
            st.caption("These weights sum to 0, so they cannot be normalised; used as they are.")
        kernel = kernels.normalise(kernel)
    return kernel


def mark_window(picture: np.ndarray, rows: tuple[int, ...], cols: tuple[int, ...]) -> np.ndarray:
    """Outline, in orange, the input pixels under the kernel (clipped to the picture)."""
    out = picture if picture.ndim == 3 else np.repeat(picture[..., None], 3, axis=2)
    out = out.copy()
    h, w = out.shape[:2]
    r0, r1 = max(min(rows) - 1, 0), min(max(rows) + 1, h - 1)
    c0, c1 = max(min(cols) - 1, 0), min(max(cols) + 1, w - 1)
    colour = np.array([230, 159, 0], np.uint8)  # Okabe-Ito orange
    for t in range(2):  # two pixels thick, drawn outside the window
        out[max(r0 - t, 0), c0 : c1 + 1] = colour
        out[min(r1 + t, h - 1), c0 : c1 + 1] = colour
        out[r0 : r1 + 1, max(c0 - t, 0)] = colour
        out[r0 : r1 + 1, min(c1 + t, w - 1)] = colour
    return out


class EncodedPicture:
    """Already-encoded image bytes with the ``save`` method ``streamlit_image_coordinates`` calls.

    The component would otherwise encode the picture on every rerun as an uncompressed PNG
    (about 1 MB per rerun for a 640-pixel photo, sent down the websocket each time).
    """

    def __init__(self, data: bytes, fmt: str) -> None:
        self.data, self.format = data, fmt

    def save(self, fp, format: str | None = None, **_: object) -> None:  # noqa: A002 (PIL's name)
        fp.write(self.data)


EXACT_PIXELS = 200 * 200  # pictures up to this size are sent as PNG (exact pixels); larger as JPEG


@st.cache_resource(max_entries=128, ttl=CACHE_TTL, show_spinner=False)
def _input_picture(key: str, color: str, box: tuple[int, int, int, int], _data: bytes) -> EncodedPicture:
    picture = images.to_uint8(working_copy(_data, color))
    marked = mark_window(picture, (box[0], box[1]), (box[2], box[3]))
    if marked.shape[0] * marked.shape[1] <= EXACT_PIXELS:  # digits, drawings, small crops
        return EncodedPicture(png_bytes(marked, compress_level=1), "PNG")
    # A photo: high-quality JPEG is ~10x smaller than PNG; 4:4:4 keeps the orange box crisp.
    buf = io.BytesIO()
    Image.fromarray(marked).save(buf, format="JPEG", quality=92, subsampling=0)
    return EncodedPicture(buf.getvalue(), "JPEG")


def input_picture(data: bytes, color: str, rows: tuple[int, ...], cols: tuple[int, ...]) -> EncodedPicture:
    """The working copy with the kernel's window outlined, encoded once per (photo, window)."""
    return _input_picture(digest(data), color, (min(rows), max(rows), min(cols), max(cols)), data)


def follow_click(
    click: dict | None,
    shape: tuple[int, int],
    out_shape: tuple[int, int],
    kernel_shape: tuple[int, int],
    cfg: KernelLabConfig,
) -> None:
    """Move the inspected output pixel to a new click on the input, and keep it inside the output."""
    h, w = shape
    if click and st.session_state.get(state.KL_LAST_CLICK) != click.get("unix_time"):
        st.session_state[state.KL_LAST_CLICK] = click.get("unix_time")
        r_in = int(click["y"] * h / max(click.get("height") or h, 1))
        c_in = int(click["x"] * w / max(click.get("width") or w, 1))
        st.session_state["kl_row"], st.session_state["kl_col"] = pixel.nearest_output_cell(
            r_in, c_in, shape, kernel_shape, stride=cfg.stride, padding=cfg.padding_spec, dilation=cfg.dilation
        )
    for key, n in (("kl_row", out_shape[0]), ("kl_col", out_shape[1])):
        st.session_state[key] = min(int(st.session_state.get(key, n // 2)), n - 1)
