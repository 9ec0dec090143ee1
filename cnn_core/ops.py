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
from cnn_core.numbers import format_number

PoolMode = Literal["max", "avg", "min", "sum"]
PaddingSpec = geometry.PaddingMode | int | tuple[int, int] | tuple[tuple[int, int], tuple[int, int]]

__all__ = [
    "CellStep",
    "LayerTrace",
    "ScatterStep",
    "Trace",
    "TransposedTrace",
    "conv1d",
    "conv2d",
    "conv2d_layer",
    "conv_transpose2d",
    "explain_conv_step",
    "explain_pool_step",
    "format_number",
    "global_pool2d",
    "pad2d",
    "pool2d",
    "pool_kept_cell",
    "relu",
    "resolve_padding_2d",
]


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
    x3, k3 = _channels_first(x, kernel)
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


# --------------------------------------------------------------------------------------------
# Additions for the Arithmetic page: 1-D and multi-kernel convolution, ReLU, global pooling,
# transposed convolution, and the written-out working of one step.
# --------------------------------------------------------------------------------------------

Activation = Literal["none", "relu"]


def _paren(value: float) -> str:
    text = format_number(value)
    return f"({text})" if text.startswith("-") else text


def relu(x: np.ndarray) -> np.ndarray:
    """Rectified linear unit, ``max(0, x)`` element-wise."""
    return np.maximum(np.asarray(x, dtype=np.float64), 0.0)


def conv1d(
    x: np.ndarray,
    kernel: np.ndarray,
    *,
    stride: int = 1,
    padding: geometry.PaddingMode | int | tuple[int, int] = 0,
    dilation: int = 1,
    bias: float = 0.0,
    trace: bool = False,
) -> np.ndarray | tuple[np.ndarray, Trace]:
    """1-D cross-correlation (a time series), as ``torch.nn.functional.conv1d``.

    Parameters
    ----------
    x : ndarray
        (L,) or (C, L).
    kernel : ndarray
        (k,) for a 1-D ``x``; (C, k) for a (C, L) ``x``.
    stride, dilation : int
    padding : "valid", "same", "full", int or (before, after)
    bias : float
    trace : bool
        Also return a :class:`Trace`; it is the 2-D trace of a one-row input, so its cells
        are ``(0, t)``.

    Returns
    -------
    ndarray (out_len,), or ``(output, trace)``.

    Examples
    --------
    >>> conv1d(np.array([1.0, 2.0, 3.0, 4.0]), np.array([1.0, -1.0]))
    array([-1., -1., -1.])
    """
    x = np.asarray(x, dtype=np.float64)
    kernel = np.asarray(kernel, dtype=np.float64)
    if x.ndim not in (1, 2) or kernel.ndim != x.ndim:
        raise ValueError(
            f"Use an (L,) series with a (k,) kernel, or (C, L) with (C, k); got {x.shape} and {kernel.shape}."
        )
    if x.size == 0 or kernel.size == 0:
        raise ValueError("The series and the kernel must each have at least one value.")
    pair = geometry.resolve_padding(padding, x.shape[-1], kernel.shape[-1], stride=stride, dilation=dilation)
    out = conv2d(
        x[..., None, :],
        kernel[..., None, :],
        stride=(1, stride),
        padding=((0, 0), pair),
        dilation=(1, dilation),
        bias=bias,
        trace=trace,
    )
    if trace:
        y, tr = out
        return y[0], tr
    return out[0]


@dataclass(frozen=True)
class LayerTrace:
    """The trace of a convolution layer with M kernels: one :class:`Trace` per feature map."""

    maps: tuple[Trace, ...]  # M traces, each over the same padded (C, Hp, Wp) input
    activation: Activation

    def channel_sums(self, m: int, row: int, col: int) -> np.ndarray:
        """Per-input-channel sums of products for output cell ``(row, col)`` of map ``m``: (C,)."""
        return self.maps[m].step_at(row, col).products.sum(axis=(1, 2))

    def activated(self, m: int, row: int, col: int) -> float:
        """The output value after the activation."""
        value = self.maps[m].step_at(row, col).value
        return max(value, 0.0) if self.activation == "relu" else value


def conv2d_layer(
    x: np.ndarray,
    kernels: np.ndarray,
    biases: np.ndarray | None = None,
    *,
    stride: int | tuple[int, int] = 1,
    padding: PaddingSpec = 0,
    dilation: int | tuple[int, int] = 1,
    activation: Activation = "none",
    trace: bool = False,
) -> np.ndarray | tuple[np.ndarray, LayerTrace]:
    """A convolution layer: M kernels over a (C, H, W) input give M feature maps.

    Each feature map is the sum over channels of the per-channel cross-correlations, plus that
    kernel's bias, optionally through ReLU; as ``torch.nn.functional.conv2d`` (then ``relu``).

    Parameters
    ----------
    x : ndarray
        (C, H, W), or (H, W) for one channel.
    kernels : ndarray
        (M, C, kh, kw), or (C, kh, kw) / (kh, kw) for one kernel.
    biases : ndarray, optional
        (M,); zeros when omitted.
    stride, padding, dilation : as for :func:`conv2d`
    activation : "none" or "relu"
    trace : bool
        Also return a :class:`LayerTrace`.

    Returns
    -------
    ndarray (M, out_h, out_w), or ``(output, trace)``.
    """
    x = np.asarray(x, dtype=np.float64)
    kernels = np.asarray(kernels, dtype=np.float64)
    if x.ndim == 2:
        x = x[None]  # (1, H, W)
    if kernels.ndim == 2:
        kernels = kernels[None, None]
    elif kernels.ndim == 3:
        kernels = kernels[None]
    if x.ndim != 3 or kernels.ndim != 4:
        raise ValueError(f"Use a (C, H, W) input with (M, C, kh, kw) kernels; got {x.shape} and {kernels.shape}.")
    if activation not in ("none", "relu"):
        raise ValueError(f"Unknown activation {activation!r}: use 'none' or 'relu'.")
    m = kernels.shape[0]
    b = np.zeros(m) if biases is None else np.asarray(biases, dtype=np.float64).reshape(-1)
    if b.shape != (m,):
        raise ValueError(f"Give one bias per kernel: {m} kernels but {b.size} biases.")
    if not np.isfinite(b).all():
        raise ValueError("The biases must be finite numbers.")
    results = [
        conv2d(x, kernels[i], stride=stride, padding=padding, dilation=dilation, bias=float(b[i]), trace=trace)
        for i in range(m)
    ]
    maps = [r[0] if trace else r for r in results]
    out = np.stack(maps)  # (M, oh, ow)
    if activation == "relu":
        out = relu(out)
    if not trace:
        return out
    return out, LayerTrace(maps=tuple(r[1] for r in results), activation=activation)


def global_pool2d(
    x: np.ndarray, mode: PoolMode = "max", *, trace: bool = False
) -> np.ndarray | tuple[np.ndarray, Trace]:
    """Global pooling: one window the size of the whole (H, W) map, so one value per channel.

    Returns (1, 1) for an (H, W) input and (C, 1, 1) for (C, H, W), as PyTorch's
    ``adaptive_max_pool2d(x, 1)`` / ``adaptive_avg_pool2d(x, 1)`` (Keras flattens to (C,)).
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim not in (2, 3) or x.size == 0:
        raise ValueError(f"Pooling needs a non-empty (H, W) or (C, H, W) array, got shape {x.shape}.")
    return pool2d(x, x.shape[-2:], stride=1, mode=mode, trace=trace)


def pool_kept_cell(step: CellStep, mode: PoolMode) -> tuple[int, int] | None:
    """Padded-input cell whose value a max or min pooling step kept (first one on ties); else None."""
    if mode not in ("max", "min"):
        return None
    flat = int(np.argmax(step.window) if mode == "max" else np.argmin(step.window))
    i, j = np.unravel_index(flat, step.window.shape)
    return step.rows[i], step.cols[j]


@dataclass(frozen=True)
class ScatterStep:
    """Scatter view of a transposed convolution: one input value times the kernel, added to the output.

    ``rows`` / ``cols`` are output coordinates of each kernel tap; taps that fall outside the
    output (cropped away by the padding) have coordinates < 0 or >= the output size.
    """

    in_index: tuple[int, int, int]  # (channel, row, col) of the input value
    value: float
    rows: tuple[int, ...]
    cols: tuple[int, ...]
    contribution: np.ndarray  # (kh, kw) = value * kernel[channel]


@dataclass(frozen=True)
class TransposedTrace:
    """A transposed convolution replayed as an ordinary convolution (the gather view).

    The input is spread out with ``stride - 1`` zeros between its cells, padded by
    ``d(k - 1) - p`` cells (plus ``output_padding`` at the bottom/right), and cross-correlated
    at stride 1 with the kernel flipped in both directions: this is why the backward pass of a
    convolution is itself a convolution. ``conv`` is that convolution's trace; ``is_input``
    marks which cells of ``conv.padded`` hold input values (the rest are inserted zeros or
    padding) and ``scatter`` gives the equivalent scatter view, one step per input value.
    """

    conv: Trace
    flipped_kernel: np.ndarray  # (C, kh, kw)
    is_input: np.ndarray  # (Hp, Wp) bool
    input_index: np.ndarray  # (Hp, Wp, 2) int: (row, col) in the original input, -1 elsewhere
    pad: tuple[tuple[int, int], tuple[int, int]]  # padding added around the spread-out input
    scatter: tuple[ScatterStep, ...]


def _pad_or_crop(a: np.ndarray, axis: int, before: int, after: int) -> np.ndarray:
    """Zero-pad (positive) or crop (negative) ``a`` along ``axis``."""
    a = np.pad(a, [(0, 0)] * axis + [(max(before, 0), max(after, 0))] + [(0, 0)] * (a.ndim - axis - 1))
    n = a.shape[axis]
    sl = [slice(None)] * a.ndim
    sl[axis] = slice(max(-before, 0), n - max(-after, 0))
    return a[tuple(sl)]


def conv_transpose2d(
    x: np.ndarray,
    kernel: np.ndarray,
    *,
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] = 0,
    output_padding: int | tuple[int, int] = 0,
    dilation: int | tuple[int, int] = 1,
    bias: float = 0.0,
    trace: bool = False,
) -> np.ndarray | tuple[np.ndarray, TransposedTrace]:
    """Transposed convolution with one output channel, as ``torch.nn.functional.conv_transpose2d``.

    Parameters
    ----------
    x : ndarray
        (H, W), or (C, H, W) with a (C, kh, kw) kernel (torch weight ``(C, 1, kh, kw)``).
    kernel : ndarray
        (kh, kw) or (C, kh, kw).
    stride, dilation : int or (int, int)
    padding : int or (int, int)
        Cells cropped from each side of the full output, as in PyTorch.
    output_padding : int or (int, int)
        Extra cells at the bottom/right; must be smaller than the stride or the dilation.
    bias : float
    trace : bool
        Also return a :class:`TransposedTrace`.

    Returns
    -------
    ndarray (out_h, out_w) with ``out = (n - 1)s - 2p + d(k - 1) + output_padding + 1``.
    """
    x3, k3 = _channels_first(x, kernel)
    s, d = _pair(stride, "stride"), _pair(dilation, "dilation")
    p, op = _pair(padding, "padding"), _pair(output_padding, "output padding")
    sizes = tuple(
        geometry.transposed_output_size(n, k, stride=si, padding=pi, output_padding=oi, dilation=di)
        for n, k, si, pi, oi, di in zip(x3.shape[1:], k3.shape[1:], s, p, op, d, strict=True)
    )
    c, h, w = x3.shape
    up = np.zeros((c, (h - 1) * s[0] + 1, (w - 1) * s[1] + 1))  # (C, Hu, Wu)
    up[:, :: s[0], :: s[1]] = x3
    index = np.full(up.shape[1:] + (2,), -1, dtype=int)  # (Hu, Wu, 2)
    rr, cc = np.meshgrid(np.arange(h), np.arange(w), indexing="ij")
    index[:: s[0], :: s[1]] = np.stack([rr, cc], axis=-1)
    pad = tuple(
        (di * (k - 1) - pi, di * (k - 1) - pi + oi) for k, pi, oi, di in zip(k3.shape[1:], p, op, d, strict=True)
    )
    for axis, (before, after) in zip((1, 2), pad, strict=True):
        up = _pad_or_crop(up, axis, before, after)
        index = _pad_or_crop(index + 1, axis - 1, before, after) - 1  # padding becomes -1
    flipped = k3[:, ::-1, ::-1].copy()
    out, conv_trace = conv2d(up, flipped, dilation=d, bias=bias, trace=True)
    assert out.shape == sizes
    if not trace:
        return out
    scatter = tuple(
        ScatterStep(
            in_index=(ch, i, j),
            value=float(x3[ch, i, j]),
            rows=tuple(i * s[0] + t * d[0] - p[0] for t in range(k3.shape[1])),
            cols=tuple(j * s[1] + t * d[1] - p[1] for t in range(k3.shape[2])),
            contribution=x3[ch, i, j] * k3[ch],
        )
        for ch in range(c)
        for i in range(h)
        for j in range(w)
    )
    return out, TransposedTrace(
        conv=conv_trace,
        flipped_kernel=flipped,
        is_input=index[..., 0] >= 0,
        input_index=index,
        pad=pad,  # type: ignore[arg-type]
        scatter=scatter,
    )


def _bias_and_activation(sums: list[float], bias: float, value: float, activation: Activation) -> list[str]:
    lines = []
    if len(sums) > 1:
        added = " + ".join(_paren(v) for v in sums)
        lines.append(f"sum over channels: {added} + bias {_paren(bias)} = {format_number(value)}")
    elif bias != 0:
        lines.append(f"{_paren(sums[0])} + bias {_paren(bias)} = {format_number(value)}")
    if activation == "relu":
        lines.append(
            f"ReLU({format_number(value)}) = max(0, {format_number(value)}) = {format_number(max(value, 0.0))}"
        )
    return lines


def explain_conv_step(step: CellStep, kernel: np.ndarray, *, activation: Activation = "none") -> list[str]:
    """The working of one convolution step: one line per channel, then the sum, bias and ReLU.

    ``kernel`` is (kh, kw) or (C, kh, kw). For one channel the first line reads like
    ``1×1 + 2×0 + 3×(-1) + ... = -14``; with several channels each line is labelled
    ``channel 1:`` and a last line adds the channel sums and the bias.
    """
    window = np.asarray(step.window)
    k = np.asarray(kernel, dtype=np.float64)
    if window.ndim == 2:
        window = window[None]
    if k.ndim == 2:
        k = k[None]
    lines = []
    sums = []
    for ch in range(window.shape[0]):
        terms = [f"{_paren(a)}×{_paren(b)}" for a, b in zip(window[ch].ravel(), k[ch].ravel(), strict=True)]
        total = float((window[ch] * k[ch]).sum())
        sums.append(total)
        label = f"channel {ch + 1}: " if window.shape[0] > 1 else ""
        lines.append(f"{label}{' + '.join(terms)} = {format_number(total)}")
    return lines + _bias_and_activation(sums, step.bias, step.value, activation)


_POOL_WORD = {"max": "max", "min": "min", "avg": "mean", "sum": "sum"}


def explain_pool_step(step: CellStep, mode: PoolMode) -> str:
    """The working of one pooling step, e.g. ``max(1, 3, 5, 6) = 6`` or ``(2 + 2 + 9 + 4) / 4 = 4.25``."""
    vals = [format_number(v) for v in np.asarray(step.window).ravel()]
    if mode == "avg":
        return f"({' + '.join(vals)}) / {len(vals)} = {format_number(step.value)}"
    if mode == "sum":
        return f"{' + '.join(vals)} = {format_number(step.value)}"
    return f"{_POOL_WORD[mode]}({', '.join(vals)}) = {format_number(step.value)}"
