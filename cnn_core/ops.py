"""Reference convolution and pooling on small numpy arrays, with a step-by-step trace.

These are the teaching implementations: clear, exact, and able to say, for every output cell,
which input window it saw, the element-wise products, their sum, the bias and the result.
They compute cross-correlation, as ``torch.nn.Conv2d`` does (the kernel is not flipped), and are
checked against ``torch.nn.functional`` in ``tests/core``. For whole photos use
:mod:`cnn_core.filters`, which gives the same numbers much faster.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from cnn_core import geometry

PoolMode = Literal["max", "avg", "min", "sum"]
PaddingSpec = geometry.PaddingMode | int | tuple[int, int] | tuple[tuple[int, int], tuple[int, int]]

__all__ = ["CellStep", "Trace", "conv2d", "pad2d", "pool2d", "resolve_padding_2d"]


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


def conv2d(
    x: np.ndarray,
    kernel: np.ndarray,
    *,
    stride: int | tuple[int, int] = 1,
    padding: PaddingSpec = 0,
    dilation: int | tuple[int, int] = 1,
    bias: float = 0.0,
    trace: bool = False,
) -> np.ndarray | tuple[np.ndarray, Trace]:
    """2-D cross-correlation of one input with one kernel, as ``torch.nn.functional.conv2d``.

    Parameters
    ----------
    x : ndarray
        (H, W) or (C, H, W).
    kernel : ndarray
        (kh, kw) for a 2-D ``x``; (C, kh, kw) for a (C, H, W) ``x``, summed over channels.
    stride, dilation : int or (int, int)
    padding : "valid", "same", "full", int, (ph, pw) or ((top, bottom), (left, right))
        Zero padding. "same" is TensorFlow's: uneven totals put the extra cell bottom/right.
    bias : float
        Added once to every output cell.
    trace : bool
        Also return a :class:`Trace` with one :class:`CellStep` per output cell.

    Returns
    -------
    ndarray (out_h, out_w), or ``(output, trace)`` when ``trace`` is true.

    Examples
    --------
    >>> x = np.arange(16.0).reshape(4, 4)
    >>> conv2d(x, np.ones((3, 3)))
    array([[45., 54.],
           [81., 90.]])
    """
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
    s, d = _pair(stride, "stride"), _pair(dilation, "dilation")
    ks = k3.shape[1:]
    pad = resolve_padding_2d(padding, x3.shape[1:], ks, s, d)
    out_shape = tuple(
        geometry.output_size(n, k, stride=si, padding=p, dilation=di)
        for n, k, si, p, di in zip(x3.shape[1:], ks, s, pad, d, strict=True)
    )
    padded = pad2d(x3, pad)  # (C, Hp, Wp)
    win = _windows(padded, ks, s, d)[:, : out_shape[0], : out_shape[1]]  # (C, oh, ow, kh, kw)
    out = np.einsum("chwij,cij->hw", win, k3) + bias
    if not trace:
        return out
    steps = []
    for r in range(out_shape[0]):
        for c in range(out_shape[1]):
            window = win[:, r, c]
            products = window * k3
            total = float(products.sum())
            steps.append(
                CellStep(
                    out_index=(r, c),
                    rows=_tap_indices(r, ks[0], s[0], d[0]),
                    cols=_tap_indices(c, ks[1], s[1], d[1]),
                    window=window.copy(),
                    products=products,
                    total=total,
                    bias=float(bias),
                    value=float(out[r, c]),
                )
            )
    return out, Trace(padded=padded, pad=pad, steps=tuple(steps), output_shape=out_shape)


_POOL_PAD_VALUE = {"max": -np.inf, "min": np.inf, "avg": 0.0, "sum": 0.0}


def pool2d(
    x: np.ndarray,
    size: int | tuple[int, int],
    *,
    stride: int | tuple[int, int] | None = None,
    padding: PaddingSpec = 0,
    mode: PoolMode = "max",
    trace: bool = False,
) -> np.ndarray | tuple[np.ndarray, Trace]:
    """Pool an (H, W) or (C, H, W) array channel by channel.

    Parameters
    ----------
    size : int or (int, int)
        Pooling window; use the input's (H, W) for global pooling.
    stride : int or (int, int), optional
        Defaults to ``size`` (non-overlapping windows), as in PyTorch and Keras.
    padding : as for :func:`conv2d`
        Max pooling pads with -inf and min pooling with +inf, so padding never wins;
        average and sum pooling pad with zeros that count in the average
        (PyTorch's ``count_include_pad=True``).
    mode : "max", "avg", "min" or "sum"
    trace : bool
        Also return a :class:`Trace` (only for a 2-D ``x``).
    """
    if mode not in _POOL_PAD_VALUE:
        raise ValueError(f"Unknown pooling {mode!r}: use 'max', 'avg', 'min' or 'sum'.")
    x = np.asarray(x, dtype=np.float64)
    if x.ndim not in (2, 3) or x.size == 0:
        raise ValueError(f"Pooling needs a non-empty (H, W) or (C, H, W) array, got shape {x.shape}.")
    if not np.isfinite(x).all():
        raise ValueError("The input must hold finite numbers (no NaN or infinity).")
    k = _pair(size, "pool size")
    s = k if stride is None else _pair(stride, "stride")
    pad = resolve_padding_2d(padding, x.shape[-2:], k, s, (1, 1))
    out_shape = tuple(
        geometry.output_size(n, ki, stride=si, padding=p)
        for n, ki, si, p in zip(x.shape[-2:], k, s, pad, strict=True)
    )
    padded = pad2d(x, pad, _POOL_PAD_VALUE[mode])
    win = _windows(padded, k, s, (1, 1))[..., : out_shape[0], : out_shape[1], :, :]
    reduce = {"max": np.max, "min": np.min, "sum": np.sum, "avg": np.mean}[mode]
    out = reduce(win, axis=(-2, -1))
    if not trace:
        return out
    if x.ndim != 2:
        raise ValueError("A pooling trace is available for a single (H, W) channel.")
    steps = tuple(
        CellStep(
            out_index=(r, c),
            rows=_tap_indices(r, k[0], s[0], 1),
            cols=_tap_indices(c, k[1], s[1], 1),
            window=win[r, c].copy(),
            products=None,
            total=float(out[r, c]),
            bias=0.0,
            value=float(out[r, c]),
        )
        for r in range(out_shape[0])
        for c in range(out_shape[1])
    )
    return out, Trace(padded=padded, pad=pad, steps=steps, output_shape=out_shape)
