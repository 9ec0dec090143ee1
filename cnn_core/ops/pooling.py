"""Reference pooling (max, average, min, sum, global) with a trace, and which cell a max or min keeps."""

from __future__ import annotations

from typing import Literal

import numpy as np

from cnn_core import geometry
from cnn_core.ops.trace import CellStep, PaddingSpec, Trace, _pair, _tap_indices, _windows, pad2d, resolve_padding_2d

PoolMode = Literal["max", "avg", "min", "sum"]

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
        geometry.output_size(n, ki, stride=si, padding=p) for n, ki, si, p in zip(x.shape[-2:], k, s, pad, strict=True)
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
