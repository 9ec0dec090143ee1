"""The trace types every reference operation records, and the padding and window helpers they share.

A :class:`Trace` replays an operation: the padded input and one :class:`CellStep` per output cell
(the window, the element-wise products, their sum, the bias and the result).
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from cnn_core import geometry

PaddingSpec = geometry.PaddingMode | int | tuple[int, int] | tuple[tuple[int, int], tuple[int, int]]


@dataclass(frozen=True)
class CellStep:
    """How one output cell was computed.

    ``rows`` / ``cols`` index the *padded* input; ``window`` and ``products`` have shape
    (C, kh, kw) for convolution and (kh, kw) for pooling.
    """

    out_index: tuple[int, int]  # (row, col) in the output
    rows: tuple[int, ...]  # padded-input rows the kernel taps touch
    cols: tuple[int, ...]  # padded-input cols the kernel taps touch
    window: np.ndarray  # the input values under the kernel taps
    products: np.ndarray | None  # window * kernel (convolution only)
    total: float  # sum of products (conv) or the pooled value before bias
    bias: float
    value: float  # what lands in the output cell


@dataclass(frozen=True)
class Trace:
    """Everything needed to replay an operation: the padded input and one step per output cell."""

    padded: np.ndarray  # (C, Hp, Wp) for convolution, (Hp, Wp) for pooling
    pad: tuple[tuple[int, int], tuple[int, int]]  # ((top, bottom), (left, right))
    steps: tuple[CellStep, ...]  # row-major over the output
    output_shape: tuple[int, int]

    def step_at(self, row: int, col: int) -> CellStep:
        """The step that produced output cell ``(row, col)``."""
        return self.steps[row * self.output_shape[1] + col]

    def is_padding(self, row: int, col: int) -> bool:
        """Whether padded-input cell ``(row, col)`` is padding rather than input."""
        (top, _), (left, _) = self.pad
        h, w = self.padded.shape[-2:]
        return not (top <= row < h - self.pad[0][1] and left <= col < w - self.pad[1][1])

    def centre(self, step: CellStep) -> tuple[float, float]:
        """The centre of ``step``'s window in input coordinates (padding taken away): (row, col)."""
        (top, _), (left, _) = self.pad
        return (step.rows[0] + step.rows[-1]) / 2 - top, (step.cols[0] + step.cols[-1]) / 2 - left


def _pair(value: int | tuple[int, int], what: str) -> tuple[int, int]:
    pair = (value, value) if isinstance(value, numbers.Integral) else tuple(value)
    if len(pair) != 2:
        raise ValueError(f"The {what} must be one number or a (height, width) pair, got {value!r}.")
    return int(pair[0]), int(pair[1])


def resolve_padding_2d(
    padding: PaddingSpec,
    size: tuple[int, int],
    kernel: tuple[int, int],
    stride: tuple[int, int],
    dilation: tuple[int, int],
) -> tuple[tuple[int, int], tuple[int, int]]:
    """Per-side padding ``((top, bottom), (left, right))`` from any accepted padding spec.

    ``padding`` may be ``"valid"`` / ``"same"`` / ``"full"``, one int for all sides,
    ``(ph, pw)``, or ``((top, bottom), (left, right))``.
    """
    if isinstance(padding, str) or isinstance(padding, numbers.Integral):
        per_axis = (padding, padding)
    else:
        per_axis = tuple(padding)
        if len(per_axis) != 2:
            raise ValueError(f"Padding must be one value, (ph, pw) or ((top, bottom), (left, right)), got {padding!r}.")
    return tuple(  # type: ignore[return-value]
        geometry.resolve_padding(p, n, k, stride=s, dilation=d)
        for p, n, k, s, d in zip(per_axis, size, kernel, stride, dilation, strict=True)
    )


def pad2d(x: np.ndarray, pad: tuple[tuple[int, int], tuple[int, int]], value: float = 0.0) -> np.ndarray:
    """Pad the last two axes of ``x`` with a constant."""
    widths = [(0, 0)] * (x.ndim - 2) + [pad[0], pad[1]]
    return np.pad(x, widths, mode="constant", constant_values=value)


def _windows(
    padded: np.ndarray, kernel: tuple[int, int], stride: tuple[int, int], dilation: tuple[int, int]
) -> np.ndarray:
    """All kernel-tap windows of ``padded`` (..., Hp, Wp) as (..., out_h, out_w, kh, kw)."""
    eff = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation, strict=True))
    win = sliding_window_view(padded, eff, axis=(-2, -1))
    return win[..., :: stride[0], :: stride[1], :: dilation[0], :: dilation[1]]


def _tap_indices(out_index: int, k: int, s: int, d: int) -> tuple[int, ...]:
    return tuple(out_index * s + t * d for t in range(k))


def _channels_first(x: np.ndarray, kernel: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Check an input / kernel pair and return both as (C, H, W) and (C, kh, kw) float64."""
    x = np.asarray(x, dtype=np.float64)
    kernel = np.asarray(kernel, dtype=np.float64)
    if x.ndim == 2 and kernel.ndim == 2:
        x3, k3 = x[None], kernel[None]
    elif x.ndim == 3 and kernel.ndim == 3:
        if x.shape[0] != kernel.shape[0]:
            raise ValueError(
                f"The kernel has {kernel.shape[0]} channels but the input has {x.shape[0]}: "
                "a kernel needs one slice per input channel."
            )
        x3, k3 = x, kernel
    else:
        raise ValueError(
            f"Use an (H, W) input with an (kh, kw) kernel, or (C, H, W) with (C, kh, kw); "
            f"got input {x.shape} and kernel {kernel.shape}."
        )
    if k3.size == 0 or x3.size == 0:
        raise ValueError("The input and the kernel must each have at least one cell.")
    if not (np.isfinite(k3).all() and np.isfinite(x3).all()):
        raise ValueError("The input and the kernel must hold finite numbers (no NaN or infinity).")
    return x3, k3
