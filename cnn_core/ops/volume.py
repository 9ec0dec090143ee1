"""Convolutions over volumes: the 1x1 convolution (a per-pixel mix of channels) and the 3-D convolution.

- :func:`conv1x1` mixes the C channels of every pixel with an (M, C) weight matrix: output map ``m``
  at pixel ``(r, c)`` is ``sum_ch W[m, ch] × x[ch, r, c] + b[m]``. No neighbour is looked at, so the
  height and width are kept and only the depth changes (C -> M).
- :func:`conv3d` slides a (kd, kh, kw) kernel along depth as well as height and width, so the output
  is a volume too. Output slice ``z`` is the 2-D multi-channel convolution of the ``kd`` input slices
  the kernel covers there, which is how its :class:`Conv3dTrace` replays it.

Checked against ``torch.nn.functional.conv2d`` (1x1 kernel) and ``conv3d`` in ``tests/core``.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np

from cnn_core import geometry
from cnn_core.ops.conv import LayerTrace, conv2d, conv2d_layer
from cnn_core.ops.trace import Trace


def conv1x1(
    x: np.ndarray, weights: np.ndarray, biases: np.ndarray | None = None, *, trace: bool = False
) -> np.ndarray | tuple[np.ndarray, LayerTrace]:
    """A 1x1 (pointwise) convolution: every pixel's channel vector times an (M, C) weight matrix.

    Parameters
    ----------
    x : ndarray
        (C, H, W), or (H, W) for one channel.
    weights : ndarray
        (M, C): row ``m`` holds the weight of each input channel in output map ``m``
        (torch's ``(M, C, 1, 1)`` weight without its two 1s).
    biases : ndarray, optional
        (M,).
    trace : bool
        Also return the :class:`~cnn_core.ops.LayerTrace` (each step's window is (C, 1, 1): the pixel).

    Returns
    -------
    ndarray (M, H, W), or ``(output, trace)``.
    """
    w = np.asarray(weights, dtype=np.float64)
    if w.ndim == 1:
        w = w[None]
    if w.ndim != 2:
        raise ValueError(
            f"The 1x1 weights are a matrix: one row per output map, one column per channel; got {w.shape}."
        )
    return conv2d_layer(x, w[:, :, None, None], biases, trace=trace)


@dataclass(frozen=True)
class Conv3dTrace:
    """A 3-D convolution replayed slice by slice.

    ``slices[z]`` is the trace of output slice ``z``: a 2-D convolution whose "channels" are the
    padded input slices ``depth_index[z]`` (one per kernel slice) and whose kernel is the whole
    (kd, kh, kw) kernel; ``padded`` is the whole padded volume (Dp, Hp, Wp).
    """

    slices: tuple[Trace, ...]
    depth_index: tuple[tuple[int, ...], ...]  # padded-input slices under the kernel, per output slice
    padded: np.ndarray  # (Dp, Hp, Wp)
    depth_pad: tuple[int, int]


def _triple(value: int | tuple[int, int, int], what: str) -> tuple[int, int, int]:
    t = (value,) * 3 if isinstance(value, numbers.Integral) else tuple(value)
    if len(t) != 3:
        raise ValueError(f"The {what} must be one number or a (depth, height, width) triple, got {value!r}.")
    return int(t[0]), int(t[1]), int(t[2])


def conv3d(
    x: np.ndarray,
    kernel: np.ndarray,
    *,
    stride: int | tuple[int, int, int] = 1,
    padding: int | tuple[int, int, int] = 0,
    dilation: int | tuple[int, int, int] = 1,
    bias: float = 0.0,
    trace: bool = False,
) -> np.ndarray | tuple[np.ndarray, Conv3dTrace]:
    """3-D cross-correlation of a (D, H, W) volume with a (kd, kh, kw) kernel, as ``F.conv3d``.

    Parameters
    ----------
    x : ndarray
        (D, H, W): one channel, D slices deep.
    kernel : ndarray
        (kd, kh, kw).
    stride, padding, dilation : int or (depth, height, width)
        Zero padding, the same number of cells on both sides of an axis.
    bias : float
    trace : bool
        Also return a :class:`Conv3dTrace`.

    Returns
    -------
    ndarray (out_d, out_h, out_w), or ``(output, trace)``.
    """
    x = np.asarray(x, dtype=np.float64)
    k = np.asarray(kernel, dtype=np.float64)
    if x.ndim != 3 or k.ndim != 3:
        raise ValueError(
            f"A 3-D convolution takes a (D, H, W) volume and a (kd, kh, kw) kernel; got {x.shape} and {k.shape}."
        )
    s, p, d = _triple(stride, "stride"), _triple(padding, "padding"), _triple(dilation, "dilation")
    out_d = geometry.output_size(x.shape[0], k.shape[0], stride=s[0], padding=p[0], dilation=d[0])
    padded = np.pad(x, [(p[0], p[0]), (0, 0), (0, 0)])  # depth padding here; height/width in conv2d
    slices, depth_index, outs = [], [], []
    for z in range(out_d):
        idx = tuple(z * s[0] + t * d[0] for t in range(k.shape[0]))
        y, tr = conv2d(padded[list(idx)], k, stride=s[1:], padding=p[1:], dilation=d[1:], bias=bias, trace=True)
        outs.append(y)
        slices.append(tr)
        depth_index.append(idx)
    out = np.stack(outs)  # (out_d, oh, ow)
    if not trace:
        return out
    full = np.pad(padded, [(0, 0), (p[1], p[1]), (p[2], p[2])])
    return out, Conv3dTrace(tuple(slices), tuple(depth_index), full, (p[0], p[0]))
