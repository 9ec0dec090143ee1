"""Reference convolution: 2-D (one kernel, or a layer of M kernels with biases and ReLU) and 1-D.

Cross-correlation, as ``torch.nn.functional.conv2d`` (the kernel is not flipped); each can return
a :class:`~cnn_core.ops.trace.Trace` of every output cell.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from cnn_core import geometry
from cnn_core.ops.trace import (
    CellStep,
    PaddingSpec,
    Trace,
    _channels_first,
    _pair,
    _tap_indices,
    _windows,
    pad2d,
    resolve_padding_2d,
)

Activation = Literal["none", "relu"]


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
