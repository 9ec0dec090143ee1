"""The answer functions of the lessons: each computes one step's answer through the core, by name.

A lesson step names a function of :data:`ANSWERS` and its parameters (``answer = "example_cell"``,
``params = {example = "...", row = 3, col = 3}``); the function returns an :class:`Answer`, the
value, how it reads and, for a worked example's cell, what the course notes print there. Every
function calls the core's own formula or operation (:mod:`cnn_core.geometry`, :mod:`cnn_core.ops`,
:mod:`cnn_core.models`, :mod:`cnn_core.worked_examples`, :mod:`cnn_core.inspection`), so a lesson
can never disagree with the page it opens. Rows, columns and feature maps count from 0, as on the
Arithmetic page; a network's layers count from 1, as in the Architecture page's table.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from cnn_core import geometry, kernels, models, ops
from cnn_core.numbers import format_number
from cnn_core.worked_examples import EXAMPLES, compute

__all__ = ["ANSWERS", "Answer"]


@dataclass(frozen=True)
class Answer:
    """A step's computed answer: the value, how it reads, and what the notes print there (if anything)."""

    value: float | str
    text: str
    notes: float | None = None  # the course notes' printed value for the same thing, when they print one

    @property
    def notes_differ(self) -> bool:
        return self.notes is not None and isinstance(self.value, float) and not math.isclose(self.notes, self.value)


def _example_output(example: str) -> np.ndarray:
    if example not in EXAMPLES:
        raise ValueError(f"There is no worked example called {example!r}.")
    return compute(EXAMPLES[example])


def example_cell(example: str, row: int, col: int, map: int = 0) -> Answer:
    """One output cell of a worked example (row, col and feature map count from 0, as on the Arithmetic page),
    with what the notes print there."""
    out = _example_output(example)
    grid = out if out.ndim == 2 else out[map] if out.ndim == 3 else out[None]
    r, c = (0, col) if out.ndim == 1 else (row, col)
    if not (0 <= r < grid.shape[0] and 0 <= c < grid.shape[1] and 0 <= map < (out.shape[0] if out.ndim == 3 else 1)):
        raise ValueError(f"The example {example!r} has no output cell ({row}, {col}) in feature map {map}.")
    value = float(grid[r, c])
    printed = EXAMPLES[example].notes_printed
    notes = None
    if printed is not None:
        p = np.asarray(printed, dtype=float).reshape(out.shape)
        p = p if p.ndim == 2 else p[map] if p.ndim == 3 else p[None]
        notes = None if np.isnan(p[r, c]) else float(p[r, c])
    return Answer(value, format_number(value), notes)


def example_size(example: str, axis: str = "height") -> Answer:
    """The output height (or width, or length) of a worked example, computed by running it."""
    out = _example_output(example)
    n = out.shape[-1] if axis == "width" or out.ndim == 1 else out.shape[-2]
    return Answer(float(n), str(n))


def output_size(n: int, kernel: int, stride: int = 1, padding: str | int = 0, dilation: int = 1) -> Answer:
    """Output length of a convolution or pooling (:func:`cnn_core.geometry.output_size`)."""
    pad = geometry.resolve_padding(padding, n, kernel, stride=stride, dilation=dilation)
    size = geometry.output_size(n, kernel, stride=stride, padding=pad, dilation=dilation)
    return Answer(float(size), str(size))


def dropped_cells(n: int, kernel: int, stride: int = 1, padding: int = 0) -> Answer:
    """Input cells at the end that no window reaches (the floor in the output-size formula)."""
    working = geometry.explain_output_size(n, kernel, stride=stride, padding=padding)
    return Answer(float(working.dropped), str(working.dropped))


def conv_params(c_in: int, kernel: int, c_out: int, bias: bool = True) -> Answer:
    """Learnable numbers of a convolution layer (:func:`cnn_core.geometry.conv_params`)."""
    n = geometry.conv_params(c_in, kernel, kernel, c_out, bias=bias)
    return Answer(float(n), f"{n:,}")


def dense_params(n_in: int, n_out: int, bias: bool = True) -> Answer:
    """Learnable numbers of a dense layer (:func:`cnn_core.geometry.dense_params`)."""
    n = geometry.dense_params(n_in, n_out, bias=bias)
    return Answer(float(n), f"{n:,}")


def receptive_field(layers: list[list[int]]) -> Answer:
    """Receptive field after a stack of ``[kernel, stride]`` layers (:func:`cnn_core.geometry.receptive_field`)."""
    rf, jump = 1, 1
    for kernel, stride in layers:
        rf, jump = geometry.receptive_field(rf, jump, int(kernel), stride=int(stride))
    return Answer(float(rf), f"{rf}x{rf}")


def _net(preset: str) -> models.Plan:
    if preset not in models.PRESETS:
        raise ValueError(f"There is no network called {preset!r}.")
    return models.plan(models.PRESETS[preset])


def network(preset: str, what: str, layer: int = 0) -> Answer:
    """A number of a famous network's plan (:func:`cnn_core.models.plan`); ``layer`` counts from 1.

    ``what``: "params" (the layer's, or the whole network's when layer is 0), "channels",
    "height", "features" (the flattened length), or "rf" (the layer's receptive field).
    """
    p = _net(preset)
    if what == "params" and layer == 0:
        return Answer(float(p.total_params), f"{p.total_params:,}")
    if not 1 <= layer <= len(p.layers):
        raise ValueError(f"{preset!r} has no layer {layer}.")
    lp = p.layers[layer - 1]
    values = {
        "params": lp.params,
        "channels": lp.out_shape[0],
        "height": lp.out_shape[1] if len(lp.out_shape) == 3 else None,
        "features": math.prod(lp.out_shape),
        "rf": lp.rf,
    }
    if what not in values or values[what] is None:
        raise ValueError(f"Layer {layer} of {preset!r} has no {what!r}.")
    v = int(values[what])  # type: ignore[arg-type]
    return Answer(float(v), f"{v:,}")


def kernel_response(preset: str, patch: list[list[float]]) -> Answer:
    """One output value: a preset kernel over a small patch (:func:`cnn_core.ops.conv2d`, one window)."""
    if preset not in kernels.PRESETS:
        raise ValueError(f"There is no preset kernel called {preset!r}.")
    k = kernels.PRESETS[preset].kernel
    x = np.asarray(patch, dtype=float)
    if x.shape != k.shape:
        raise ValueError(f"The patch must be {k.shape[0]}x{k.shape[1]} like the kernel {preset!r}.")
    value = float(np.asarray(ops.conv2d(x, k)).ravel()[0])
    return Answer(value, format_number(value))


def kernel_sum(preset: str) -> Answer:
    """The sum of a preset kernel's weights: 1 keeps the brightness, 0 finds changes."""
    if preset not in kernels.PRESETS:
        raise ValueError(f"There is no preset kernel called {preset!r}.")
    value = float(np.sum(kernels.PRESETS[preset].kernel))
    return Answer(value, format_number(value))


def kernel_finds(presets: list[str], patch: list[list[float]]) -> Answer:
    """Which of ``presets`` responds most strongly (largest absolute output) to ``patch``."""
    strengths = {name: abs(kernel_response(name, patch).value) for name in presets}  # type: ignore[arg-type]
    best = max(strengths, key=strengths.__getitem__)
    return Answer(best, best)


def nearest_preset(kernel: list[list[float]]) -> Answer:
    """The preset a (learned) kernel looks most like, as the Inside page names it (:func:`cnn_core.inspection.nearest_preset`)."""
    from cnn_core import inspection  # torch-heavy; only when a step asks

    name = inspection.nearest_preset(np.asarray(kernel, dtype=float)).preset
    return Answer(name, name)


def steps_per_epoch(n_train: int, batch: int) -> Answer:
    """Optimiser steps in one epoch: the training loop drops the ragged last batch (``n // batch``)."""
    if n_train < 1 or batch < 1:
        raise ValueError("The number of images and the batch size must be at least 1.")
    n = n_train // min(batch, n_train)  # as cnn_core.training.loop.train
    return Answer(float(n), f"{n:,}")


def best_epoch(test_accuracy: list[float]) -> Answer:
    """The epoch (from 1) with the highest test accuracy: where stopping early keeps the best model."""
    if not test_accuracy:
        raise ValueError("The accuracy curve is empty.")
    e = int(np.argmax(test_accuracy)) + 1
    return Answer(float(e), str(e))


def trend(values: list[float]) -> Answer:
    """ "rises" or "falls": the direction from the first to the last value of a curve."""
    if len(values) < 2:
        raise ValueError("A curve needs at least two values.")
    word = "rises" if values[-1] > values[0] else "falls"
    return Answer(word, word)


def backward_example(example: str, wrt: str, row: int = 0, col: int = 0) -> Answer:
    """A gradient of a backward-pass worked example (:func:`cnn_core.ops.conv2d_backward`):
    ``wrt`` "x" (a cell of dL/dx), "w" (a cell of dL/dW) or "bias" (dL/db)."""
    ex = EXAMPLES.get(example)
    if ex is None or ex.operation != "backward":
        raise ValueError(f"There is no backward-pass worked example called {example!r}.")
    grad_x, grad_w = ops.conv2d_backward(
        ex.x, ex.kernels[0], ex.grad_out, stride=ex.stride, padding=ex.padding, dilation=ex.dilation
    )  # (C, H, W), (C, kh, kw)
    if wrt == "bias":
        value = float(np.sum(ex.grad_out))
    elif wrt in ("x", "w"):
        grid = (grad_x if wrt == "x" else grad_w)[0]
        if not (0 <= row < grid.shape[0] and 0 <= col < grid.shape[1]):
            raise ValueError(f"dL/d{wrt} of {example!r} has no cell ({row}, {col}).")
        value = float(grid[row, col])
    else:
        raise ValueError(f"wrt must be 'x', 'w' or 'bias', not {wrt!r}.")
    return Answer(value, format_number(value))


def network_difference(preset: str, other: str, layer: int = 0) -> Answer:
    """How many more parameters ``preset`` has than ``other`` (one layer, from 1, or the whole network when 0)."""
    a, b = _net(preset), _net(other)
    if layer:
        if not (1 <= layer <= len(a.layers) and layer <= len(b.layers)):
            raise ValueError(f"{preset!r} and {other!r} do not both have a layer {layer}.")
        n = a.layers[layer - 1].params - b.layers[layer - 1].params
    else:
        n = a.total_params - b.total_params
    return Answer(float(n), f"{n:,}")


def bottleneck(preset: str, layer: int, without: bool = False) -> Answer:
    """Parameters of an inception module's 3x3 and kxk branches, with its 1x1 bottlenecks or ``without``
    them (:func:`cnn_core.models.bottleneck_saving`)."""
    p = _net(preset)
    if not 1 <= layer <= len(p.layers) or not isinstance(p.layers[layer - 1].spec, models.InceptionSpec):
        raise ValueError(f"Layer {layer} of {preset!r} is not an inception module.")
    lp = p.layers[layer - 1]
    b = models.bottleneck_saving(lp.spec, lp.in_shape[0])  # type: ignore[arg-type]
    n = b.without_reduce if without else b.with_reduce
    return Answer(float(n), f"{n:,}")


def transfer_trainable(num_classes: int, mode: str) -> Answer:
    """Parameters that train when the pretrained backbone gets a new head of ``num_classes`` outputs and
    ``mode`` ("frozen", "last_block" or "all") says which layers learn (:func:`cnn_core.training.transfer.trainable_layers`)."""
    from cnn_core.training import transfer  # torch-heavy; only when a step asks

    config = models.with_num_classes(transfer.backbone_config(), num_classes)
    names = set(transfer.trainable_layers(config, mode))  # type: ignore[arg-type]
    layers = models.plan(config).layers
    n = sum(lp.params for lp in layers if not names or any(m.name in names for m in lp.modules))
    return Answer(float(n), f"{n:,}")


ANSWERS: dict[str, Callable[..., Answer]] = {
    f.__name__: f
    for f in (
        example_cell,
        example_size,
        output_size,
        dropped_cells,
        conv_params,
        dense_params,
        receptive_field,
        network,
        kernel_response,
        kernel_sum,
        kernel_finds,
        nearest_preset,
        steps_per_epoch,
        best_epoch,
        trend,
        backward_example,
        network_difference,
        bottleneck,
        transfer_trainable,
    )
}
"""Answer function name -> the function; a lesson step names one with its parameters."""
