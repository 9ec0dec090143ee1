"""Where in the input image one unit of a layer looks: its receptive field as a rectangle of pixels.

Walking the plan's windows (kernel k, stride s, dilation d, padding p before the first row/column),
each layer keeps three numbers per axis: the receptive field ``rf``, the ``jump`` between neighbouring
units (both as in :func:`cnn_core.geometry.receptive_field`) and the ``start``, the input pixel where
unit 0's field begins: ``start_out = start_in - p * jump_in``. Unit ``i`` then sees pixels
``start + i * jump`` to ``start + i * jump + rf - 1``; a field that starts before 0 or ends past
the image reaches into the zero padding. This is the theoretical field: where a stride leaves the
last rows or columns of a map unused, the padding of a later layer can lie over pixels that in fact
reach no unit (the tests check against the gradient on sizes where nothing is dropped).
"""

from __future__ import annotations

from dataclasses import dataclass

from cnn_core import geometry
from cnn_core.models.network import Plan

__all__ = ["Region", "unit_region"]


@dataclass(frozen=True)
class Region:
    """The input pixels one unit depends on: rows ``top..bottom`` and columns ``left..right`` (inclusive)."""

    layer: int  # 0-based index of the layer in the plan
    row: int  # the unit's position in that layer's output map
    col: int
    top: int
    bottom: int
    left: int
    right: int
    rf: int  # receptive field per side (height), as in the summary
    jump: int

    def clipped(self, height: int, width: int) -> tuple[int, int, int, int]:
        """(top, bottom, left, right) inside an image of ``height`` x ``width`` pixels."""
        return max(self.top, 0), min(self.bottom, height - 1), max(self.left, 0), min(self.right, width - 1)

    @property
    def reaches_padding(self) -> bool:
        return self.top < 0 or self.left < 0  # (the far sides are checked by the caller with the image size)


def unit_region(plan: Plan, layer: int, row: int, col: int) -> Region:
    """The receptive field of the unit at (``row``, ``col``) of the output of layer ``layer`` (0-based).

    Raises
    ------
    ValueError
        With a sentence when the layer's output is no longer a feature map (after Flatten or global
        pooling every value sees the whole image) or the unit is outside its map.
    """
    if not 0 <= layer < len(plan.layers):
        raise ValueError(f"the network has layers 1 to {len(plan.layers)}, not {layer + 1}.")
    lp = plan.layers[layer]
    if lp.rf is None or len(lp.out_shape) != 3:
        raise ValueError(
            f"layer {layer + 1} gives a flat vector: each of its values depends on the whole input, "
            "so it has no window of its own."
        )
    _, h, w = lp.out_shape
    if not (0 <= row < h and 0 <= col < w):
        raise ValueError(f"layer {layer + 1}'s map is {h}x{w}; unit ({row}, {col}) is outside it.")
    rf, jump, start = [1, 1], [1, 1], [0, 0]
    for step in plan.layers[: layer + 1]:
        win = step.window
        assert win is not None  # lp.rf is not None: every layer up to it slides a window
        for a in range(2):
            start[a] -= win.pad[a] * jump[a]
            rf[a], jump[a] = geometry.receptive_field(
                rf[a], jump[a], win.kernel, stride=win.stride, dilation=win.dilation
            )
    top, left = start[0] + row * jump[0], start[1] + col * jump[1]
    return Region(layer, row, col, top, top + rf[0] - 1, left, left + rf[1] - 1, rf[0], jump[0])
