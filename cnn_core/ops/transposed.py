"""Reference transposed convolution, in its two views: the gather view (an ordinary convolution of
the spread-out input with the flipped kernel) and the scatter view (each input value stamps a copy
of the kernel onto the output).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cnn_core import geometry
from cnn_core.ops.conv import conv2d
from cnn_core.ops.trace import Trace, _channels_first, _pair


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
class Stamp:
    """One input value's copy of the kernel, placed on the output grid (one step of the scatter view).

    Adding up every input value's ``values`` and the bias gives the transposed convolution's
    output exactly.
    """

    step: ScatterStep
    values: np.ndarray  # (out_h, out_w): value * kernel tap where a tap lands, 0 elsewhere
    reached: np.ndarray  # (out_h, out_w) bool: where a kernel tap lands inside the output
    rows: tuple[int, ...]  # output rows that taps land on (taps cropped by the padding left out)
    cols: tuple[int, ...]  # output columns that taps land on


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

    def stamp(self, i: int) -> Stamp:
        """The stamp of input value ``scatter[i]`` on the (out_h, out_w) output."""
        step = self.scatter[i]
        oh, ow = self.conv.output_shape
        rows = [(a, r) for a, r in enumerate(step.rows) if 0 <= r < oh]
        cols = [(b, c) for b, c in enumerate(step.cols) if 0 <= c < ow]
        values = np.zeros((oh, ow))
        reached = np.zeros((oh, ow), dtype=bool)
        if rows and cols:
            taps = np.ix_([a for a, _ in rows], [b for b, _ in cols])
            where = np.ix_([r for _, r in rows], [c for _, c in cols])
            values[where] = step.contribution[taps]
            reached[where] = True
        return Stamp(step, values, reached, tuple(r for _, r in rows), tuple(c for _, c in cols))


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
