"""The Arithmetic page's later modes, computed into a :class:`~app.arithmetic.problem.Problem`: the
backward pass (dL/dx or dL/dW), the 1x1 convolution, the 3-D convolution and conv -> ReLU -> pool.

Each builder takes the config, the parsed input (C, H, W) and the parsed kernels, and registers
itself in :data:`~app.arithmetic.problem.MODE_BUILDERS`. No arithmetic here and no Streamlit.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from app.arithmetic.config import MAX_INPUT_SIDE, ArithmeticConfig
from app.arithmetic.problem import (
    MODE_BUILDERS,
    Names,
    Problem,
    ProblemError,
    _build_pool,
    _impossible,
    build_problem,
    conv_workings,
    padding_spec,
)
from cnn_core import geometry, ops
from cnn_core.numbers import format_number, parse_matrix


def _one_kernel(x: np.ndarray, ks: list[np.ndarray]) -> np.ndarray:
    k = ks[0]
    if k.shape[0] != x.shape[0]:
        raise ProblemError(
            f"The kernel has {k.shape[0]} channel(s) but the input has {x.shape[0]}: a kernel needs one "
            "slice per input channel (separate the slices with a blank line)."
        )
    return k  # (C, kh, kw)


def _mask(pad: tuple[tuple[int, int], tuple[int, int]], shape: tuple[int, int]) -> np.ndarray:
    """(Hp, Wp) True on the padding ring."""
    (t, b), (left, r) = pad
    mask = np.ones(shape, dtype=bool)
    mask[t : shape[0] - b, left : shape[1] - r] = False
    return mask


def _problem(cfg, x, kernels, biases, out, traces, mask, lines, params, names, **extra) -> Problem:
    """A Problem whose stepped-over grid has ``mask`` as its padding and no dropped cells."""
    dropped = np.zeros(mask.shape, dtype=bool)
    return Problem(
        cfg, x, kernels, kernels, biases, out, tuple(traces), mask, dropped, lines, [], params, names=names, **extra
    )


def upstream_gradient(cfg: ArithmeticConfig, shape: tuple[int, int]) -> np.ndarray:
    """dL/dy as typed, or all ones when the box is empty; a sentence when it has the wrong shape."""
    if not cfg.grad.strip():
        return np.ones(shape)
    try:
        g = parse_matrix(cfg.grad, max_side=MAX_INPUT_SIDE, max_channels=1, what="upstream gradient dL/dy")[0]
    except ValueError as e:
        raise ProblemError(str(e)) from None
    if g.shape != shape:
        raise ProblemError(
            f"dL/dy must have the forward output's shape, {shape[0]}x{shape[1]} (one value per output cell); "
            f"the one typed is {g.shape[0]}x{g.shape[1]}. Empty the box to use all ones."
        )
    return g


def build_backward(cfg: ArithmeticConfig, x: np.ndarray, ks: list[np.ndarray]) -> Problem:
    k = _one_kernel(x, ks)
    c, kh, kw = k.shape
    spec, workings = conv_workings(cfg, x.shape[1:], (kh, kw))
    y = _impossible(ops.conv2d, x, k, stride=cfg.stride, padding=spec, dilation=cfg.dilation)
    g = upstream_gradient(cfg, y.shape)
    gx, gk, tr = ops.conv2d_backward(x, k, g, stride=cfg.stride, padding=spec, dilation=cfg.dilation, trace=True)
    ch = ", channel {m}" if c > 1 else ""
    params = (
        f"dL/db = the sum of dL/dy = {format_number(tr.grad_bias)}. The layer's (C × kh × kw + 1) = "
        f"({c} × {kh} × {kw} + 1) = {geometry.conv_params(c, kh, kw, 1)} parameters each get a gradient."
    )
    lines = [f"{label}: {w.formula()}" for label, w in zip(("Height", "Width"), workings, strict=True)]
    lines.append(f"dL/dx has the input's shape {x.shape[1]}x{x.shape[2]}; dL/dW the kernel's {kh}x{kw}.")
    if cfg.wrt == "w":
        spread = ", spread out by the stride" if max(cfg.stride) > 1 else ""
        g_kernel = np.repeat(g[None, None], c, axis=0)  # (C, 1, oh, ow): dL/dy is the kernel here
        names = Names(
            input="Input x" + ch,
            kernel="dL/dy (the kernel here" + spread + ")",
            output="dL/dW" + ch,
            map_word="channel",
            cell_word="dL/dW tap",
        )
        mask = _mask(tr.pad, tr.padded_x.shape[1:])
        return _problem(cfg, x, g_kernel, np.zeros(c), gk, tr.dw, mask, lines, params, names, backward=tr)
    flipped = tr.dx_kernel[:, None]  # (C, 1, kh, kw)
    what = "spread out by the stride, padded" if max(cfg.stride) > 1 else "padded"
    names = Names(
        input=f"dL/dy, {what}",
        kernel="Kernel, flipped" + ch,
        output="dL/dx" + ch,
        map_word="channel",
        cell_word="dL/dx cell",
    )
    gi = tr.grad_index
    marked = tuple(
        tuple((r, q) for r in step.rows for q in step.cols if gi[r, q, 0] >= 0)
        for m in range(c)
        for step in tr.dx[m].steps
    )
    return _problem(
        cfg, x, flipped, np.zeros(c), gx, tr.dx, ~tr.is_grad, lines, params, names, backward=tr, marked=marked
    )


def build_conv1x1(cfg: ArithmeticConfig, x: np.ndarray, ks: list[np.ndarray]) -> Problem:
    c = x.shape[0]
    rows = []
    for i, k in enumerate(ks):
        if k.shape[0] != 1 or k.shape[1] != 1 or k.shape[2] != c:
            raise ProblemError(
                f"The weights of output map {i} must be one row of {c} number(s), one per input channel "
                f"(the input has {c} channel(s))."
            )
        rows.append(k[0, 0])
    w = np.stack(rows)  # (M, C)
    biases = np.array(cfg.biases[: len(rows)], dtype=float)
    out, layer = ops.conv1x1(x, w, biases, trace=True)
    if cfg.relu:
        out = ops.relu(out)
    lines = [
        f"{label}: {geometry.explain_output_size(n, 1).formula()}"
        for label, n in zip(("Height", "Width"), x.shape[1:], strict=True)
    ]
    params = f"(C × 1 × 1 + 1) × M = ({c} + 1) × {len(rows)} = {geometry.conv_params(c, 1, 1, len(rows))} parameters"
    kernels = w[:, :, None, None]  # (M, C, 1, 1)
    names = Names(
        kernel="Weights",
        output="Output map {m}" if len(rows) > 1 else "Output",
        map_word="output map",
        cell_word="pixel",
    )
    mask = np.zeros(x.shape[1:], dtype=bool)
    return _problem(cfg, x, kernels, biases, out, layer.maps, mask, lines, params, names)


def build_conv3d(cfg: ArithmeticConfig, x: np.ndarray, ks: list[np.ndarray]) -> Problem:
    k = ks[0]  # (kd, kh, kw)
    stride = (cfg.stride[0], *cfg.stride)
    dilation = (cfg.dilation[0], *cfg.dilation)
    spec = padding_spec(cfg)
    sizes, pads = x.shape, []
    for axis, (n, kk, s, d) in enumerate(zip(sizes, k.shape, stride, dilation, strict=True)):
        per = spec[max(axis - 1, 0)] if isinstance(spec, tuple) else spec
        pair = (
            per if isinstance(per, tuple) else _impossible(geometry.resolve_padding, per, n, kk, stride=s, dilation=d)
        )
        if pair[0] != pair[1]:
            raise ProblemError(
                "The 3-D convolution here pads both sides of an axis equally; choose valid, full or custom "
                "padding with top = bottom and left = right.",
                "impossible",
            )
        pads.append(pair[0])
    bias = float(cfg.biases[0])
    out, tr = _impossible(
        ops.conv3d, x, k, stride=stride, padding=tuple(pads), dilation=dilation, bias=bias, trace=True
    )
    if cfg.relu:
        out = ops.relu(out)
    lines = []
    for label, n, kk, s, p, d in zip(("Depth", "Height", "Width"), sizes, k.shape, stride, pads, dilation, strict=True):
        w = _impossible(geometry.explain_output_size, n, kk, stride=s, padding=p, dilation=d)
        lines.append(f"{label}: {w.formula()}")
    shown = np.repeat(k[None], out.shape[0], axis=0)  # (out_d, kd, kh, kw)
    slices = tuple(tuple(z - tr.depth_pad[0] for z in idx) for idx in tr.depth_index)
    first = tr.slices[0]
    mask = np.array(
        [[first.is_padding(r, q) for q in range(first.padded.shape[2])] for r in range(first.padded.shape[1])]
    )
    kd, kh, kw = k.shape
    params = f"kd × kh × kw + 1 = {kd} × {kh} × {kw} + 1 = {kd * kh * kw + 1} parameters"
    names = Names(
        input="Input slice", output="Output slice {m}", map_word="output slice", channel_word="slice", slices=slices
    )
    return _problem(cfg, x, shown, np.full(out.shape[0], bias), out, tr.slices, mask, lines, params, names)


def build_chain(cfg: ArithmeticConfig, x: np.ndarray, ks: list[np.ndarray]) -> Problem:
    k = _one_kernel(x, ks)
    if cfg.pool not in ("max", "avg", "min", "sum"):
        raise ProblemError("Choose max, average, min or sum pooling for the chain.")
    chain = _impossible(
        ops.conv_relu_pool,
        x,
        k,
        bias=float(cfg.biases[0]),
        stride=cfg.stride,
        padding=padding_spec(cfg),
        dilation=cfg.dilation,
        pool_size=cfg.pool_size,
        pool_stride=cfg.pool_stride,
        pool_mode=cfg.pool,
        relu_between=cfg.relu,
    )
    after = "after ReLU" if cfg.relu else "no ReLU"
    if cfg.stage == "pool":
        p = _build_pool(replace(cfg, op="pool", stride=cfg.pool_stride, padding="valid"), chain.relu[None])
        names = Names(input=f"Feature map ({after})", output="Pooled", cell_word="pooled cell")
    else:
        p = build_problem(replace(cfg, op="conv2d", kernels=cfg.kernels[:1], biases=cfg.biases[:1]))
        names = Names(output=f"Feature map ({after})", cell_word="feature-map cell")
    return replace(p, cfg=cfg, names=names, chain=chain)


MODE_BUILDERS.update(backward=build_backward, conv1x1=build_conv1x1, conv3d=build_conv3d, chain=build_chain)
