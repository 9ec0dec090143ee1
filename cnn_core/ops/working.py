"""The written-out working of one output cell, as structured lines and as the text the page shows.

:func:`conv_working` and :func:`pool_working` give :class:`WorkingLine` records (the numbers each
line combines and its result); :meth:`WorkingLine.text` writes one the way the course notes do,
``1×1 + 2×0 + 3×(-1) = -2``. A number set to ``None`` is hidden and written ``?``: that is how
:mod:`cnn_core.quiz` hides the answers, without ever reading numbers back out of text.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

import numpy as np

from cnn_core.numbers import format_number
from cnn_core.ops.conv import Activation
from cnn_core.ops.pooling import PoolMode
from cnn_core.ops.trace import CellStep

LineKind = Literal["products", "channels", "bias", "relu", "pool"]

_POOL_WORD = {"max": "max", "min": "min", "avg": "mean", "sum": "sum"}


def _paren(value: float) -> str:
    text = format_number(value)
    return f"({text})" if text.startswith("-") else text


@dataclass(frozen=True)
class WorkingLine:
    """One line of working.

    ``kind`` says what the line does: ``"products"`` (one channel's window × kernel, summed),
    ``"channels"`` (the channel sums plus the bias), ``"bias"`` (one channel's sum plus the bias),
    ``"relu"`` or ``"pool"`` (one pooling window). ``inputs`` are the numbers it combines (the
    channel sums, the sum before the bias, the value going into ReLU, the pooled values);
    ``None`` in ``inputs`` or ``result`` is a hidden number.
    """

    kind: LineKind
    result: float | None
    inputs: tuple[float | None, ...] = ()
    pairs: tuple[tuple[float, float], ...] = ()  # (input value, kernel weight) per tap, for "products"
    bias: float = 0.0
    channel: int | None = None  # channel of a "products" line when there are several, counted from 0
    pool: PoolMode = "max"

    @property
    def computed_inputs(self) -> bool:
        """Whether ``inputs`` are results of earlier lines (and so hidden with the answer in a quiz)."""
        return self.kind in ("channels", "bias", "relu")

    def hidden(self) -> WorkingLine:
        """This line with every number computed on the way to the answer hidden."""
        inputs = tuple(None for _ in self.inputs) if self.computed_inputs else self.inputs
        return replace(self, result=None, inputs=inputs)

    def text(self) -> str:
        """The line as the page writes it; hidden numbers are ``?``."""
        result = "?" if self.result is None else format_number(self.result)
        shown = [None if v is None else format_number(v) for v in self.inputs]
        if self.kind == "products":
            label = f"channel {self.channel}: " if self.channel is not None else ""
            terms = " + ".join(f"{_paren(a)}×{_paren(b)}" for a, b in self.pairs)
            return f"{label}{terms} = {result}"
        if self.kind == "relu":
            v = shown[0] or "?"
            return f"ReLU({v}) = max(0, {v}) = {result}"
        if self.kind in ("channels", "bias"):
            if any(v is None for v in self.inputs):  # the sums are hidden: the bias is written plainly
                head = "sum over channels" if self.kind == "channels" else "?"
                return f"{head} + bias {format_number(self.bias)} = {result}"
            added = " + ".join(_paren(v) for v in self.inputs)  # type: ignore[arg-type]
            head = f"sum over channels: {added}" if self.kind == "channels" else added
            return f"{head} + bias {_paren(self.bias)} = {result}"
        if self.pool == "avg":
            return f"({' + '.join(shown)}) / {len(shown)} = {result}"  # type: ignore[arg-type]
        if self.pool == "sum":
            return f"{' + '.join(shown)} = {result}"  # type: ignore[arg-type]
        return f"{_POOL_WORD[self.pool]}({', '.join(shown)}) = {result}"  # type: ignore[arg-type]


def conv_working(step: CellStep, kernel: np.ndarray, *, activation: Activation = "none") -> tuple[WorkingLine, ...]:
    """The working of one convolution step: one ``"products"`` line per channel, then the channel
    sums and bias (several channels) or the bias (one channel, when it is not 0), then ReLU.

    ``kernel`` is (kh, kw) or (C, kh, kw), as applied in ``step`` (transposed: the flipped kernel).
    """
    window = np.asarray(step.window)
    k = np.asarray(kernel, dtype=np.float64)
    if window.ndim == 2:
        window = window[None]  # (1, kh, kw)
    if k.ndim == 2:
        k = k[None]
    lines = []
    sums = []
    for ch in range(window.shape[0]):
        total = float((window[ch] * k[ch]).sum())
        sums.append(total)
        pairs = tuple((float(a), float(b)) for a, b in zip(window[ch].ravel(), k[ch].ravel(), strict=True))
        lines.append(WorkingLine("products", total, pairs=pairs, channel=ch if window.shape[0] > 1 else None))
    if len(sums) > 1:
        lines.append(WorkingLine("channels", step.value, inputs=tuple(sums), bias=step.bias))
    elif step.bias != 0:
        lines.append(WorkingLine("bias", step.value, inputs=(sums[0],), bias=step.bias))
    if activation == "relu":
        lines.append(WorkingLine("relu", max(step.value, 0.0), inputs=(step.value,)))
    return tuple(lines)


def pool_working(step: CellStep, mode: PoolMode) -> WorkingLine:
    """The working of one pooling step: the window's values and what the pooling makes of them."""
    values = tuple(float(v) for v in np.asarray(step.window).ravel())
    return WorkingLine("pool", step.value, inputs=values, pool=mode)


def explain_conv_step(step: CellStep, kernel: np.ndarray, *, activation: Activation = "none") -> list[str]:
    """The working of one convolution step as text: one line per channel, then the sum, bias and ReLU.

    ``kernel`` is (kh, kw) or (C, kh, kw). For one channel the first line reads like
    ``1×1 + 2×0 + 3×(-1) + ... = -14``; with several channels each line is labelled
    ``channel 1:`` and a last line adds the channel sums and the bias.
    """
    return [line.text() for line in conv_working(step, kernel, activation=activation)]


def explain_pool_step(step: CellStep, mode: PoolMode) -> str:
    """The working of one pooling step, e.g. ``max(1, 3, 5, 6) = 6`` or ``(2 + 2 + 9 + 4) / 4 = 4.25``."""
    return pool_working(step, mode).text()
