"""Laying many small maps out as one picture, and scaling them for colour.

Pure numpy: :func:`tile` puts ``(N, h, w)`` maps in a grid with NaN gaps; :func:`per_map_scale`,
:func:`stretch_each` and :func:`scale_to_max` put values in the ranges the pictures colour.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Tiled:
    """Many ``(h, w)`` maps laid out in a grid, separated by NaN gaps."""

    values: np.ndarray  # (rows*(h+gap)-gap, cols*(w+gap)-gap) float, NaN in the gaps
    index: np.ndarray  # same shape, int: which map each cell belongs to (-1 in gaps)
    rows: int
    cols: int
    tile_shape: tuple[int, int]  # (h, w)


def tile(maps: np.ndarray, cols: int | None = None, gap: int = 1) -> Tiled:
    """Lay ``maps`` ``(N, h, w)`` out as one grid, row by row.

    ``cols`` defaults to 8 (16 for maps of 8 pixels or fewer), never more than ``N``.
    """
    maps = np.asarray(maps, dtype=np.float32)
    n, h, w = maps.shape
    if cols is None:
        cols = 16 if max(h, w) <= 8 else 8
    cols = max(1, min(cols, n))
    rows = math.ceil(n / cols)
    out = np.full((rows * (h + gap) - gap, cols * (w + gap) - gap), np.nan, dtype=np.float32)
    index = np.full(out.shape, -1, dtype=np.int64)
    for i in range(n):
        r, c = divmod(i, cols)
        y, xx = r * (h + gap), c * (w + gap)
        out[y : y + h, xx : xx + w] = maps[i]
        index[y : y + h, xx : xx + w] = i
    return Tiled(out, index, rows, cols, (h, w))


def per_map_scale(maps: np.ndarray) -> np.ndarray:
    """Divide each map ``(N, h, w)`` by its own largest magnitude, so each spans at most [-1, 1].

    Maps that are all zero stay zero. The pattern of a weak map becomes visible, at the cost of
    colours no longer being comparable between maps.
    """
    maps = np.asarray(maps, dtype=np.float32)
    top = np.abs(maps).reshape(len(maps), -1).max(axis=1) if maps.size else np.zeros(0)
    top = np.where(top > 0, top, 1.0).astype(np.float32)
    return maps / top[:, None, None]


def stretch_each(kernels: np.ndarray) -> np.ndarray:
    """Each kernel ``(O, ...)`` stretched on its own from its smallest to its largest weight onto [0, 1].

    How colour (RGB) kernels are shown: the three channels of a kernel become red, green and blue.
    """
    k = np.asarray(kernels)
    axes = tuple(range(1, k.ndim))
    shifted = k - k.min(axis=axes, keepdims=True)
    return shifted / np.maximum(shifted.max(axis=axes, keepdims=True), 1e-12)


def scale_to_max(values: np.ndarray) -> np.ndarray:
    """``values`` divided by their largest value, when it is positive (a saliency map onto [0, 1])."""
    top = values.max()
    return values / top if top > 0 else values
