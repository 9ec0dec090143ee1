"""A convolution layer's usual chain on one set of numbers: convolution, then ReLU, then pooling.

:func:`conv_relu_pool` keeps every stage (the feature map, the map after ReLU and the pooled map)
and each stage's trace, so a learner can follow one number from the input to the pooled output.
Checked against ``torch``'s ``conv2d -> relu -> max_pool2d`` in ``tests/core``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cnn_core.ops.conv import conv2d, relu
from cnn_core.ops.pooling import PoolMode, pool2d
from cnn_core.ops.trace import PaddingSpec, Trace


@dataclass(frozen=True)
class ChainResult:
    """The stages of conv -> ReLU -> pool; each map is (H, W)."""

    conv: np.ndarray  # the feature map, bias included
    relu: np.ndarray  # max(0, conv) (the feature map itself when ReLU is left out)
    pooled: np.ndarray  # the pooling of ``relu``
    conv_trace: Trace
    pool_trace: Trace


def conv_relu_pool(
    x: np.ndarray,
    kernel: np.ndarray,
    *,
    bias: float = 0.0,
    stride: int | tuple[int, int] = 1,
    padding: PaddingSpec = 0,
    dilation: int | tuple[int, int] = 1,
    pool_size: int | tuple[int, int] = 2,
    pool_stride: int | tuple[int, int] | None = None,
    pool_mode: PoolMode = "max",
    relu_between: bool = True,
) -> ChainResult:
    """Convolve ``x`` with ``kernel`` (plus ``bias``), apply ReLU, then pool.

    ``x`` / ``kernel`` as for :func:`~cnn_core.ops.conv2d`; ``pool_stride`` defaults to
    ``pool_size``, as in PyTorch. With ``relu_between=False`` the feature map is pooled as it is
    (``relu`` then holds the feature map unchanged).

    Examples
    --------
    >>> r = conv_relu_pool(np.arange(16.0).reshape(4, 4), np.array([[1.0, -1.0]]), pool_size=(1, 3))
    >>> r.conv[0], r.pooled[0]
    (array([-1., -1., -1.]), array([0.]))
    """
    y, tr = conv2d(x, kernel, stride=stride, padding=padding, dilation=dilation, bias=bias, trace=True)
    r = relu(y) if relu_between else y
    pooled, ptr = pool2d(r, pool_size, stride=pool_stride, mode=pool_mode, trace=True)
    return ChainResult(conv=y, relu=r, pooled=pooled, conv_trace=tr, pool_trace=ptr)
