"""Reference convolution and pooling on small numpy arrays, with a step-by-step trace.

These are the teaching implementations: clear, exact, and able to say, for every output cell,
which input window it saw, the element-wise products, their sum, the bias and the result.
They compute cross-correlation, as ``torch.nn.Conv2d`` does (the kernel is not flipped), and are
checked against ``torch.nn.functional`` in ``tests/core``. For whole photos use
:mod:`cnn_core.filters`, which gives the same numbers much faster.

The modules: :mod:`~cnn_core.ops.trace` (the trace types and padding helpers),
:mod:`~cnn_core.ops.conv` (2-D and 1-D convolution, convolution layers),
:mod:`~cnn_core.ops.pooling`, :mod:`~cnn_core.ops.transposed` (gather and scatter views) and
:mod:`~cnn_core.ops.working` (the written-out working of one cell), :mod:`~cnn_core.ops.backward`
(the backward pass: dL/dx and dL/dW), :mod:`~cnn_core.ops.volume` (1x1 and 3-D convolution) and
:mod:`~cnn_core.ops.chain` (conv -> ReLU -> pool). Everything is importable
from here: ``from cnn_core import ops; ops.conv2d(...)``.
"""

from __future__ import annotations

from cnn_core.numbers import format_number
from cnn_core.ops.backward import BackwardTrace, GradTerm, conv2d_backward
from cnn_core.ops.chain import ChainResult, conv_relu_pool
from cnn_core.ops.conv import Activation, LayerTrace, conv1d, conv2d, conv2d_layer, relu
from cnn_core.ops.pooling import PoolMode, global_pool2d, pool2d, pool_kept_cell
from cnn_core.ops.trace import CellStep, PaddingSpec, Trace, pad2d, resolve_padding_2d
from cnn_core.ops.transposed import ScatterStep, Stamp, TransposedTrace, conv_transpose2d
from cnn_core.ops.volume import Conv3dTrace, conv1x1, conv3d
from cnn_core.ops.working import (
    LineKind,
    WorkingLine,
    conv_working,
    explain_conv_step,
    explain_pool_step,
    pool_working,
)

__all__ = [
    "Activation",
    "BackwardTrace",
    "ChainResult",
    "Conv3dTrace",
    "GradTerm",
    "CellStep",
    "LayerTrace",
    "LineKind",
    "PaddingSpec",
    "PoolMode",
    "ScatterStep",
    "Stamp",
    "Trace",
    "TransposedTrace",
    "WorkingLine",
    "conv1d",
    "conv1x1",
    "conv2d",
    "conv2d_backward",
    "conv2d_layer",
    "conv3d",
    "conv_relu_pool",
    "conv_transpose2d",
    "conv_working",
    "explain_conv_step",
    "explain_pool_step",
    "format_number",
    "global_pool2d",
    "pad2d",
    "pool2d",
    "pool_kept_cell",
    "pool_working",
    "relu",
    "resolve_padding_2d",
]
