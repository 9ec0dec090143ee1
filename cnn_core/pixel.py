"""The single dot product behind one output pixel of a filtered photo (the Kernel Lab's inspector).

Given a channel of a photo and the filter settings, :func:`explain_pixel` returns the
neighbourhood the kernel saw (with padding filled in as the chosen padding mode fills it),
the element-wise products and their sum, i.e. exactly the number
:func:`cnn_core.filters.apply_kernel` puts in that output pixel. :func:`clicked_pixel` and
:func:`nearest_output_cell` turn a click on the drawn photo into the output pixel to explain.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cnn_core import geometry
from cnn_core.ops import resolve_padding_2d

__all__ = ["PixelWorking", "clicked_pixel", "explain_pixel", "nearest_output_cell"]

_NP_MODES = {"zeros": "constant", "reflect": "reflect", "replicate": "edge"}


@dataclass(frozen=True)
class PixelWorking:
    """How one output pixel was computed."""

    out_index: tuple[int, int]  # (row, col) in the output
    rows: tuple[int, ...]  # input rows under the kernel taps (negative or >= H: padding)
    cols: tuple[int, ...]  # input cols under the kernel taps
    window: np.ndarray  # (kh, kw) values under the taps, padding included
    is_padding: np.ndarray  # (kh, kw) bool, True where the value came from padding
    products: np.ndarray  # (kh, kw) window * kernel
    total: float  # the output pixel


def clicked_pixel(x: float, y: float, shown: tuple[int | None, int | None], shape: tuple[int, int]) -> tuple[int, int]:
    """The (row, col) of the pixel under a click at screen point ``(x, y)`` on a picture of
    ``shape`` (H, W) drawn ``shown`` = (height, width) screen pixels large (None: at its own size)."""
    (h, w), (shown_h, shown_w) = shape, shown
    return int(y * h / max(shown_h or h, 1)), int(x * w / max(shown_w or w, 1))


def nearest_output_cell(
    row: int,
    col: int,
    shape: tuple[int, int],
    kernel_shape: tuple[int, int],
    *,
    stride: int | tuple[int, int] = 1,
    padding="same",
    dilation: int | tuple[int, int] = 1,
) -> tuple[int, int]:
    """The output cell whose kernel window is centred closest to input pixel ``(row, col)``."""
    s = (stride, stride) if isinstance(stride, int) else stride
    d = (dilation, dilation) if isinstance(dilation, int) else dilation
    pad = resolve_padding_2d(padding, shape, kernel_shape, s, d)
    out = []
    for x, n, k, si, di, p in zip((row, col), shape, kernel_shape, s, d, pad, strict=True):
        size = geometry.output_size(n, k, stride=si, padding=p, dilation=di)
        centre_offset = di * (k - 1) / 2  # from the window's first tap to its centre
        out.append(int(min(max(round((x + p[0] - centre_offset) / si), 0), size - 1)))
    return out[0], out[1]


def explain_pixel(
    channel: np.ndarray,
    kernel: np.ndarray,
    out_index: tuple[int, int],
    *,
    stride: int | tuple[int, int] = 1,
    padding="same",
    padding_mode: str = "zeros",
    dilation: int | tuple[int, int] = 1,
) -> PixelWorking:
    """Neighbourhood x kernel = sum for output pixel ``out_index`` of one (H, W) channel.

    Parameters are those of :func:`cnn_core.filters.apply_kernel`.
    """
    if padding_mode not in _NP_MODES:
        raise ValueError(f"Unknown padding mode {padding_mode!r}: use 'zeros', 'reflect' or 'replicate'.")
    channel = np.asarray(channel, dtype=np.float64)
    kernel = np.asarray(kernel, dtype=np.float64)
    s = (stride, stride) if isinstance(stride, int) else tuple(stride)
    d = (dilation, dilation) if isinstance(dilation, int) else tuple(dilation)
    pad = resolve_padding_2d(padding, channel.shape, kernel.shape, s, d)
    sizes = [
        geometry.output_size(n, k, stride=si, padding=p, dilation=di)
        for n, k, si, p, di in zip(channel.shape, kernel.shape, s, pad, d, strict=True)
    ]
    r, c = out_index
    if not (0 <= r < sizes[0] and 0 <= c < sizes[1]):
        raise ValueError(f"Output pixel {out_index} is outside the {sizes[0]} x {sizes[1]} output.")
    rows = tuple(r * s[0] + t * d[0] - pad[0][0] for t in range(kernel.shape[0]))
    cols = tuple(c * s[1] + t * d[1] - pad[1][0] for t in range(kernel.shape[1]))
    # Pad only a local crop: enough to serve every tap, whatever the padding mode.
    r0, r1 = min(rows), max(rows)
    c0, c1 = min(cols), max(cols)
    h, w = channel.shape
    top, bottom = max(0, -r0), max(0, r1 - (h - 1))
    left, right = max(0, -c0), max(0, c1 - (w - 1))
    if padding_mode == "reflect" and (max(top, bottom) >= h or max(left, right) >= w):
        raise ValueError("Reflect padding needs the padding to be smaller than the image on each side.")
    crop = channel[max(r0, 0) : min(r1, h - 1) + 1, max(c0, 0) : min(c1, w - 1) + 1]
    src = channel if padding_mode == "reflect" else crop
    if padding_mode == "reflect":
        padded = np.pad(src, ((top, bottom), (left, right)), mode="reflect")
        window = padded[np.ix_([x + top for x in rows], [y + left for y in cols])]
    else:
        padded = np.pad(crop, ((top, bottom), (left, right)), mode=_NP_MODES[padding_mode])
        window = padded[np.ix_([x - r0 for x in rows], [y - c0 for y in cols])]
    is_padding = np.array([[not (0 <= x < h and 0 <= y < w) for y in cols] for x in rows])
    products = window * kernel
    return PixelWorking(
        out_index=(r, c),
        rows=rows,
        cols=cols,
        window=window,
        is_padding=is_padding,
        products=products,
        total=float(products.sum()),
    )
