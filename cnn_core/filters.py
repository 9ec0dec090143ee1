"""Filtering whole photos (the Kernel Lab path), on OpenCV.

This module owns applying one 2-D kernel to every channel of a full-size photo, with the same
numbers as :func:`cnn_core.ops.conv2d` (the readable reference) and ``torch.nn.functional.conv2d``:
cross-correlation, the kernel is not flipped. The output size is always :mod:`cnn_core.geometry`'s.

OpenCV's ``filter2D`` (``sepFilter2D`` for a kernel that is a column times a row) computes a
stride-1 correlation the size of its input; the settings map onto it so:

* padding modes are border types: "zeros" BORDER_CONSTANT (0), "reflect" BORDER_REFLECT_101
  (torch's reflect: the edge pixel is not repeated), "replicate" BORDER_REPLICATE;
* padding, even uneven: the kernel's anchor sits ``top`` rows and ``left`` columns into it, so the
  border holds exactly the padding cells; an axis padded more than that reaches ("full", wide
  custom padding) is padded by ``cv2.copyMakeBorder`` first;
* dilation: zeros between the taps; stride: every ``s``-th row and column of the result.

uint8, uint16 and int16 images go to OpenCV as they are, others as float32. A NaN or infinite
pixel spreads to the output cells whose window gives it a non-zero weight (uploads never have
them). OpenCV filters kernels of 50+ cells through the DFT, where a NaN would reach every cell, so
such an image is then filtered in 7x7 kernel blocks.
"""

from __future__ import annotations

import numbers
from typing import Literal

import cv2
import numpy as np

from cnn_core import geometry
from cnn_core.kernels import Preset
from cnn_core.ops import PaddingSpec, resolve_padding_2d

PaddingModeName = Literal["zeros", "reflect", "replicate"]
Pad = tuple[tuple[int, int], tuple[int, int]]  # ((top, bottom), (left, right))
Factors = tuple[np.ndarray, np.ndarray] | None  # float32 (column, row) of a separable kernel

__all__ = ["PADDING_MODES", "PaddingModeName", "apply_kernel", "apply_preset", "separable_factors"]

PADDING_MODES: tuple[str, ...] = ("zeros", "reflect", "replicate")

_BORDERS = {"zeros": cv2.BORDER_CONSTANT, "reflect": cv2.BORDER_REFLECT_101, "replicate": cv2.BORDER_REPLICATE}
_NATIVE = (np.uint8, np.uint16, np.int16, np.float32)  # what OpenCV filters straight into float32
_DFT_CELLS, _BLOCK = 50, 7  # OpenCV may use the DFT from 50 kernel cells; 7x7 blocks have 49


def apply_kernel(
    image: np.ndarray,
    kernel: np.ndarray,
    *,
    stride: int | tuple[int, int] = 1,
    padding: PaddingSpec = "same",
    padding_mode: PaddingModeName = "zeros",
    dilation: int | tuple[int, int] = 1,
) -> np.ndarray:
    """Filter every channel of an image with one 2-D kernel (cross-correlation).

    Parameters
    ----------
    image : ndarray
        (H, W) or (H, W, C), any real dtype (uint8 photos, uint16, float...); each channel is
        filtered on its own with the same kernel.
    kernel : ndarray
        (kh, kw) finite numbers; not flipped, as in ``torch.nn.functional.conv2d`` and ``cv2.filter2D``.
    stride, dilation : int or (int, int)
        Step between output cells and spacing between kernel taps, as ``(rows, columns)``.
    padding : "valid", "same", "full", int, (ph, pw) or ((top, bottom), (left, right))
        "same" is TensorFlow's: an odd total puts the extra cell at the bottom / right.
    padding_mode : "zeros", "reflect" or "replicate"
        Zeros, the image mirrored about its edge pixel (PyTorch's "reflect"), or the edge pixel repeated.

    Returns
    -------
    ndarray, float32
        (H', W') or (H', W', C), ``H'`` and ``W'`` from :func:`cnn_core.geometry.output_size`, in the
        input's units (0..255 for a uint8 photo) and not clipped: an edge detector gives negative numbers.

    Raises
    ------
    ValueError
        With a readable sentence for an empty or non-numeric image, an empty kernel or one with NaN
        or infinite cells, a stride or dilation below 1, negative padding, a kernel larger than the
        padded image, or reflect padding as wide as the image.

    Examples
    --------
    >>> img = np.arange(16, dtype=np.uint8).reshape(4, 4)
    >>> apply_kernel(img, np.ones((3, 3)), padding="valid")
    array([[45., 54.],
           [81., 90.]], dtype=float32)
    """
    src, squeeze = _check_image(image)  # (H, W, C)
    k = _check_kernel(kernel)
    s, d = _pair(stride, "stride"), _pair(dilation, "dilation")
    mode = _check_padding_mode(padding_mode)
    (h, w, c), (kh, kw) = src.shape, k.shape
    try:
        pad = resolve_padding_2d(padding, (h, w), (kh, kw), s, d)
    except TypeError:
        raise ValueError(
            "Padding must be 'valid', 'same', 'full', a whole number, (ph, pw) or ((top, bottom), (left, right)); "
            f"got {padding!r}."
        ) from None
    out_h = geometry.output_size(h, kh, stride=s[0], padding=pad[0], dilation=d[0])
    out_w = geometry.output_size(w, kw, stride=s[1], padding=pad[1], dilation=d[1])
    if mode == "reflect":
        _check_reflect(pad, (h, w))
    dilated = np.zeros((d[0] * (kh - 1) + 1, d[1] * (kw - 1) + 1), dtype=np.float32)
    dilated[:: d[0], :: d[1]] = k
    factors = _factors(dilated)
    src = src if src.dtype in _NATIVE else src.astype(np.float32)
    need = ((out_h - 1) * s[0] + 1, (out_w - 1) * s[1] + 1)  # rows and columns of the stride-1 result used
    blocks = factors is None and dilated.size >= _DFT_CELLS and src.dtype == np.float32 and not np.isfinite(src).all()
    run = _by_blocks if blocks else _correlate
    # OpenCV caps the channels of one array (at 128 or fewer, by function): 4 at a time suit every call.
    parts = [run(src[:, :, i : i + 4], dilated, factors, pad, _BORDERS[mode], need) for i in range(0, c, 4)]
    full = parts[0] if len(parts) == 1 else np.concatenate(parts, axis=2)  # (need_h, need_w, C)
    out = np.ascontiguousarray(full[:: s[0], :: s[1]])  # (H', W', C)
    return out[:, :, 0] if squeeze else out


def apply_preset(image: np.ndarray, preset: Preset, **kwargs: object) -> np.ndarray:
    """Apply a :class:`cnn_core.kernels.Preset`, combining a pair into a gradient magnitude.

    For a preset with a ``partner`` (Sobel magnitude) the result is
    ``hypot(apply_kernel(image, kernel), apply_kernel(image, partner))``, so every value is
    ``sqrt(gx**2 + gy**2)`` and never negative. Keyword arguments are those of :func:`apply_kernel`.
    """
    first = apply_kernel(image, preset.kernel, **kwargs)  # type: ignore[arg-type]
    if preset.partner is None:
        return first
    second = apply_kernel(image, preset.partner, **kwargs)  # type: ignore[arg-type]
    return np.hypot(first, second, out=first)


def separable_factors(kernel: np.ndarray, *, tol: float = 1e-9) -> tuple[np.ndarray, np.ndarray] | None:
    """Split a rank-1 kernel into ``column`` (kh,) and ``row`` (kw,) with ``outer(column, row) == kernel``.

    Returns ``None`` when the kernel is not separable (its rank is above 1) or is all zeros.
    ``tol`` is the largest difference allowed, relative to the kernel's largest cell.

    >>> col, row = separable_factors(np.array([[1, 2, 1], [2, 4, 2], [1, 2, 1]]))
    >>> col, row
    (array([2., 4., 2.]), array([0.5, 1. , 0.5]))
    """
    k = np.asarray(kernel, dtype=np.float64)
    if k.ndim != 2 or k.size == 0:
        return None
    big = float(np.max(np.abs(k)))
    if big == 0.0 or not np.isfinite(big):
        return None
    p, q = np.unravel_index(int(np.argmax(np.abs(k))), k.shape)
    col, row = k[:, q].copy(), k[p, :] / k[p, q]
    if np.max(np.abs(np.outer(col, row) - k)) > tol * big:
        return None
    return col, row


def _factors(kernel: np.ndarray) -> Factors:
    """float32 factors for ``sepFilter2D``, scaled so that whole-number kernels stay exact.

    The column's smallest weight becomes 1 and the row is a row of the kernel divided by a whole
    number: ``[1, 4, 6, 4, 1] / 256`` times ``[1, 4, 6, 4, 1]`` (Gaussian 5x5), not ``/ 6`` twice.
    """
    found = separable_factors(kernel)
    if found is None:
        return None
    col = np.abs(found[0])
    col = found[0] / col[col >= 1e-3 * col.max()].min()
    p = int(np.argmax(np.abs(col)))
    return col.astype(np.float32), (np.asarray(kernel, dtype=np.float64)[p] / col[p]).astype(np.float32)


def _correlate(
    src: np.ndarray, kernel: np.ndarray, factors: Factors, pad: Pad, border: int, need: tuple[int, int]
) -> np.ndarray:
    """The first ``need`` rows and columns of padded ``src`` correlated with ``kernel``, (rows, cols, C)."""
    (top, bottom), (left, right) = pad
    by_anchor = (top < kernel.shape[0] and need[0] <= src.shape[0], left < kernel.shape[1] and need[1] <= src.shape[1])
    if not all(by_anchor):
        rows, cols = (0, 0) if by_anchor[0] else (top, bottom), (0, 0) if by_anchor[1] else (left, right)
        src = cv2.copyMakeBorder(src, *rows, *cols, border, value=0)
        top, left = top * by_anchor[0], left * by_anchor[1]
    if factors is None:
        out = cv2.filter2D(src, cv2.CV_32F, kernel, anchor=(left, top), borderType=border)
    else:
        out = cv2.sepFilter2D(src, cv2.CV_32F, factors[1], factors[0], anchor=(left, top), borderType=border)
    return out.reshape(out.shape[0], out.shape[1], -1)[: need[0], : need[1]]


def _by_blocks(
    src: np.ndarray, kernel: np.ndarray, _: Factors, pad: Pad, border: int, need: tuple[int, int]
) -> np.ndarray:
    """:func:`_correlate` as a sum over kernel blocks too small for OpenCV's DFT (which smears NaN)."""
    (top, bottom), (left, right) = pad
    padded = cv2.copyMakeBorder(src, top, bottom, left, right, border, value=0)
    out = np.zeros((*need, src.shape[2]), dtype=np.float32)
    for r in range(0, kernel.shape[0], _BLOCK):
        for c in range(0, kernel.shape[1], _BLOCK):
            block = kernel[r : r + _BLOCK, c : c + _BLOCK]
            if block.any():
                window = padded[r : r + need[0] + block.shape[0] - 1, c : c + need[1] + block.shape[1] - 1]
                with np.errstate(invalid="ignore"):  # inf - inf is NaN, as in torch
                    out += _correlate(window, block, None, ((0, 0), (0, 0)), cv2.BORDER_CONSTANT, need)
    return out


def _check_image(image: np.ndarray) -> tuple[np.ndarray, bool]:
    """Return the image as (H, W, C) (a view when possible) and whether it was 2-D."""
    try:
        arr = np.asarray(image)
    except (TypeError, ValueError):
        raise ValueError("The image must be an array of numbers.") from None
    if arr.dtype.kind not in "biuf":
        raise ValueError(f"The image must hold real numbers, got values of type {arr.dtype}.")
    if arr.ndim not in (2, 3):
        raise ValueError(f"The image must be (height, width) or (height, width, channels), got shape {arr.shape}.")
    if arr.size == 0:
        raise ValueError(f"The image is empty (shape {arr.shape}): it needs at least one pixel.")
    arr = arr.view(np.uint8) if arr.dtype.kind == "b" else arr
    return (arr[:, :, None] if arr.ndim == 2 else arr), arr.ndim == 2


def _check_kernel(kernel: np.ndarray) -> np.ndarray:
    try:
        k = np.asarray(kernel, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError("The kernel must be a grid of numbers.") from None
    if k.size == 0:
        raise ValueError("The kernel is empty: it needs at least one cell.")
    if k.ndim != 2:
        raise ValueError(f"The kernel must be a 2-D grid (rows, columns), got shape {k.shape}.")
    if np.isnan(k).any():
        raise ValueError("The kernel holds NaN (not a number): every cell must be a real number.")
    if np.isinf(k).any():
        raise ValueError("The kernel holds an infinite value: every cell must be a finite number.")
    return k


def _pair(value: object, what: str) -> tuple[int, int]:
    """``value`` or ``(rows, columns)`` as two whole numbers of at least 1 (geometry's messages)."""
    if isinstance(value, numbers.Real | str):
        pair: tuple[object, ...] = (value, value)
    else:
        try:
            pair = tuple(value)  # type: ignore[arg-type]
        except TypeError:
            raise ValueError(f"The {what} must be a whole number or a (rows, columns) pair, got {value!r}.") from None
        if len(pair) != 2:
            raise ValueError(f"The {what} must be one number or a (rows, columns) pair, got {value!r}.")
    for v in pair:
        if what == "stride":
            geometry.same_padding(1, 1, stride=v)  # type: ignore[arg-type]
        else:
            geometry.effective_kernel(1, v)  # type: ignore[arg-type]
    return int(pair[0]), int(pair[1])  # type: ignore[call-overload]


def _check_padding_mode(padding_mode: object) -> str:
    mode = padding_mode.lower() if isinstance(padding_mode, str) else padding_mode
    if mode not in PADDING_MODES:
        raise ValueError(f"Unknown padding mode {padding_mode!r}: use 'zeros', 'reflect' or 'replicate'.")
    return mode  # type: ignore[return-value]


def _check_reflect(pad: Pad, size: tuple[int, int]) -> None:
    for (before, after), n, axis in zip(pad, size, ("tall", "wide"), strict=True):
        if (p := max(before, after)) >= n:
            raise ValueError(
                f"Reflect padding mirrors the image about its edge pixel, so it needs fewer padding cells than "
                f"the image has pixels: {p} cells of padding on an image {n} pixel{'s' if n != 1 else ''} {axis}. "
                "Use less padding, or the 'replicate' or 'zeros' padding mode."
            )
