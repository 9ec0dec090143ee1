"""The backward pass of a 2-D convolution, cell by cell: dL/dx and dL/dW from an upstream gradient dL/dy.

For ``y = conv2d(x, W)`` (cross-correlation, stride ``s``, padding ``p``, dilation ``d``) and a given
``dL/dy`` of y's shape:

- dL/dx is a *full* convolution of dL/dy with the kernel flipped in both directions: spread dL/dy out
  with ``s - 1`` zeros between its cells, pad it with ``d(k - 1)`` zeros on every side, and
  cross-correlate it at stride 1 (dilation ``d``) with the flipped kernel; then cut the padding away.
- dL/dW is a correlation of the (padded) input with dL/dy: kernel tap ``(a, b)`` adds up
  ``dL/dy[i, j] × x_padded[i·s + a·d, j·s + b·d]`` over every output cell, so dL/dy acts as a kernel
  spread out by the stride, and the tap's offset moves it by the dilation.

:func:`conv2d_backward` returns both; its :class:`BackwardTrace` replays every cell of each as an
ordinary convolution step and can list, for any cell, which dL/dy cells and which kernel taps meet.
Checked against ``torch.autograd`` in ``tests/core/test_backward.py``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cnn_core import geometry
from cnn_core.ops.conv import conv2d
from cnn_core.ops.trace import PaddingSpec, Trace, _channels_first, _pair, pad2d, resolve_padding_2d


@dataclass(frozen=True)
class GradTerm:
    """One product of a gradient cell's sum: ``grad_out[out_index] × other``.

    For a dL/dx cell ``other`` is the kernel weight ``kernel[channel, tap]``; for a dL/dW cell it is
    the padded input value at ``x_index`` (padded coordinates).
    """

    out_index: tuple[int, int]  # (row, col) of the dL/dy cell
    tap: tuple[int, int]  # (row, col) of the kernel tap in the original (not flipped) kernel
    x_index: tuple[int, int]  # (row, col) in the padded input where this tap met that output cell
    grad: float  # dL/dy[out_index]
    other: float  # the kernel weight (dL/dx) or the padded input value (dL/dW)

    @property
    def product(self) -> float:
        return self.grad * self.other


@dataclass(frozen=True)
class BackwardTrace:
    """Everything needed to replay the backward pass.

    ``dx`` holds one :class:`Trace` per input channel, over the spread-out, padded gradient
    ``dx[c].padded`` (1, Hg, Wg); its steps are the input's cells (H, W), and ``dx_kernel[c]`` is
    the flipped kernel slice they apply. ``grad_index`` maps each cell of that grid to the dL/dy
    cell it holds (-1 for inserted zeros and padding). ``dw`` holds one :class:`Trace` per channel
    over the padded input (1, Hp, Wp), with the (kh, kw) taps as steps and dL/dy as the kernel.
    """

    dx: tuple[Trace, ...]
    dx_kernel: np.ndarray  # (C, kh, kw): the kernel flipped in both directions
    grad_index: np.ndarray  # (Hg, Wg, 2) int
    spread: np.ndarray  # (Hs, Ws): dL/dy with stride - 1 zeros between its cells (no padding)
    dw: tuple[Trace, ...]
    pad: tuple[tuple[int, int], tuple[int, int]]  # the forward pass's padding
    padded_x: np.ndarray  # (C, Hp, Wp)
    kernel: np.ndarray  # (C, kh, kw)
    grad_out: np.ndarray  # (oh, ow)
    stride: tuple[int, int]
    dilation: tuple[int, int]
    grad_bias: float  # dL/db = the sum of dL/dy

    @property
    def is_grad(self) -> np.ndarray:
        """(Hg, Wg) bool: where the spread-out, padded gradient holds a dL/dy value."""
        return self.grad_index[..., 0] >= 0

    def dx_terms(self, c: int, row: int, col: int) -> tuple[GradTerm, ...]:
        """The products that add up to dL/dx[c, row, col] (input coordinates, padding not counted),
        one per dL/dy cell whose window covered it, in dL/dy's row-major order."""
        (top, _), (left, _) = self.pad
        r, q = row + top, col + left  # in the padded input
        (s0, s1), (d0, d1) = self.stride, self.dilation
        kh, kw = self.kernel.shape[1:]
        oh, ow = self.grad_out.shape
        terms = []
        for a in range(kh):
            for b in range(kw):
                i, j = r - a * d0, q - b * d1
                if i % s0 or j % s1 or not (0 <= i // s0 < oh and 0 <= j // s1 < ow):
                    continue
                i, j = i // s0, j // s1
                terms.append(GradTerm((i, j), (a, b), (r, q), float(self.grad_out[i, j]), float(self.kernel[c, a, b])))
        return tuple(sorted(terms, key=lambda t: t.out_index))  # in dL/dy's row-major order

    def dw_terms(self, c: int, a: int, b: int) -> tuple[GradTerm, ...]:
        """The products that add up to dL/dW[c, a, b]: one per dL/dy cell."""
        (s0, s1), (d0, d1) = self.stride, self.dilation
        oh, ow = self.grad_out.shape
        return tuple(
            GradTerm(
                (i, j),
                (a, b),
                (i * s0 + a * d0, j * s1 + b * d1),
                float(self.grad_out[i, j]),
                float(self.padded_x[c, i * s0 + a * d0, j * s1 + b * d1]),
            )
            for i in range(oh)
            for j in range(ow)
        )


def _crop_trace(tr: Trace, rows: range, cols: range) -> Trace:
    """The steps of ``tr`` whose output cells lie in ``rows`` x ``cols``, as a trace of that shape."""
    steps = tuple(tr.step_at(r, c) for r in rows for c in cols)
    return Trace(padded=tr.padded, pad=tr.pad, steps=steps, output_shape=(len(rows), len(cols)))


def conv2d_backward(
    x: np.ndarray,
    kernel: np.ndarray,
    grad_out: np.ndarray,
    *,
    stride: int | tuple[int, int] = 1,
    padding: PaddingSpec = 0,
    dilation: int | tuple[int, int] = 1,
    trace: bool = False,
) -> tuple[np.ndarray, np.ndarray] | tuple[np.ndarray, np.ndarray, BackwardTrace]:
    """Gradients of a loss through ``y = conv2d(x, kernel, ...)``, given ``grad_out`` = dL/dy.

    Parameters
    ----------
    x : ndarray
        (H, W), or (C, H, W) with a (C, kh, kw) kernel: the forward pass's input.
    kernel : ndarray
        (kh, kw) or (C, kh, kw).
    grad_out : ndarray
        (out_h, out_w): the upstream gradient, the shape of :func:`conv2d`'s output.
    stride, padding, dilation : as for :func:`~cnn_core.ops.conv2d`
    trace : bool
        Also return a :class:`BackwardTrace`.

    Returns
    -------
    ``(grad_x, grad_kernel)`` shaped like ``x`` and ``kernel``, or ``(grad_x, grad_kernel, trace)``.
    The bias's gradient is ``grad_out.sum()`` (also ``trace.grad_bias``).

    Examples
    --------
    >>> gx, gw = conv2d_backward(np.arange(9.0).reshape(3, 3), np.ones((2, 2)), np.ones((2, 2)))
    >>> gx
    array([[1., 2., 1.],
           [2., 4., 2.],
           [1., 2., 1.]])
    >>> gw
    array([[ 8., 12.],
           [20., 24.]])
    """
    two_d = np.ndim(x) == 2
    x3, k3 = _channels_first(x, kernel)  # (C, H, W), (C, kh, kw)
    s, d = _pair(stride, "stride"), _pair(dilation, "dilation")
    ks = k3.shape[1:]
    pad = resolve_padding_2d(padding, x3.shape[1:], ks, s, d)
    out_shape = tuple(
        geometry.output_size(n, k, stride=si, padding=p, dilation=di)
        for n, k, si, p, di in zip(x3.shape[1:], ks, s, pad, d, strict=True)
    )
    g = np.asarray(grad_out, dtype=np.float64)
    if g.shape != out_shape:
        raise ValueError(
            f"The upstream gradient dL/dy must have the output's shape {out_shape[0]}x{out_shape[1]}, "
            f"got {'x'.join(str(n) for n in g.shape) or 'a single number'}."
        )
    if not np.isfinite(g).all():
        raise ValueError("The upstream gradient must hold finite numbers (no NaN or infinity).")
    padded = pad2d(x3, pad)  # (C, Hp, Wp)
    hp, wp = padded.shape[1:]
    spread = np.zeros(((out_shape[0] - 1) * s[0] + 1, (out_shape[1] - 1) * s[1] + 1))  # (Hs, Ws)
    spread[:: s[0], :: s[1]] = g
    index = np.full(spread.shape + (2,), -1, dtype=int)
    rr, cc = np.meshgrid(np.arange(out_shape[0]), np.arange(out_shape[1]), indexing="ij")
    index[:: s[0], :: s[1]] = np.stack([rr, cc], axis=-1)
    # full padding d(k-1) on each side, plus the rows / columns the forward windows never reached
    full = tuple(di * (k - 1) for k, di in zip(ks, d, strict=True))
    extra = (hp - spread.shape[0] - full[0], wp - spread.shape[1] - full[1])
    gpad = ((full[0], full[0] + extra[0]), (full[1], full[1] + extra[1]))
    g_padded = pad2d(spread, gpad)  # (Hp + d(k-1), Wp + d(k-1))
    index = np.stack([pad2d(index[..., i] + 1, gpad) - 1 for i in range(2)], axis=-1)
    flipped = k3[:, ::-1, ::-1].copy()
    rows, cols = range(pad[0][0], hp - pad[0][1]), range(pad[1][0], wp - pad[1][1])
    dx_traces, dw_traces = [], []
    grad_x = np.zeros_like(x3)
    grad_k = np.zeros_like(k3)
    for c in range(x3.shape[0]):
        full_dx, tr = conv2d(g_padded, flipped[c], dilation=d, trace=True)  # (Hp, Wp)
        grad_x[c] = full_dx[rows.start : rows.stop, cols.start : cols.stop]
        dx_traces.append(_crop_trace(tr, rows, cols))
        full_dw, tw = conv2d(padded[c], g, stride=d, dilation=s, trace=True)  # (>= kh, >= kw)
        grad_k[c] = full_dw[: ks[0], : ks[1]]
        dw_traces.append(_crop_trace(tw, range(ks[0]), range(ks[1])))
    gx, gk = (grad_x[0], grad_k[0]) if two_d else (grad_x, grad_k)
    if not trace:
        return gx, gk
    return (
        gx,
        gk,
        BackwardTrace(
            dx=tuple(dx_traces),
            dx_kernel=flipped,
            grad_index=index,
            spread=spread,
            dw=tuple(dw_traces),
            pad=pad,
            padded_x=padded,
            kernel=k3,
            grad_out=g,
            stride=s,
            dilation=d,
            grad_bias=float(g.sum()),
        ),
    )
