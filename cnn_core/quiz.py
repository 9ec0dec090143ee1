"""Practice exercises: random small convolution and pooling problems, and marking typed answers.

Like the "practice example" exercises of the course notes: a small integer input, a kernel or a
pooling window, a stride and maybe padding; the learner works out the output cells (or the
output size) by hand and :func:`mark_value` / :func:`mark_grid` say which answers are right;
:func:`hide_cell` gives the working of a cell with the answer (and every number on the way to it)
hidden, as structured data.
Exercises come from a seed, so the same seed always gives the same exercise (and a shared link
reproduces it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from cnn_core import geometry, ops
from cnn_core.numbers import parse_number

__all__ = ["Exercise", "HiddenCell", "Mark", "hide_cell", "make_exercise", "mark_grid", "mark_value", "parse_answer"]

ExerciseKind = Literal["conv", "pool"]
Status = Literal["right", "wrong", "blank", "unreadable"]

_KERNELS = (
    np.array([[1, 0, -1]] * 3),
    np.array([[1, 1, 1], [0, 0, 0], [-1, -1, -1]]),
    np.array([[1, 0, 1], [0, 1, 0], [1, 0, 1]]),
    np.array([[0, -1, 0], [-1, 4, -1], [0, -1, 0]]),
    np.array([[1, 2], [0, -1]]),
    np.array([[1, -1], [-1, 1]]),
)


@dataclass(frozen=True)
class Exercise:
    """One practice exercise. ``x`` is (H, W); ``kernel`` is (kh, kw), or None for pooling."""

    seed: int
    kind: ExerciseKind
    x: np.ndarray  # (H, W) small integers
    kernel: np.ndarray | None  # (kh, kw)
    stride: int
    padding: int
    pool_mode: ops.PoolMode = "max"
    pool_size: int = 2

    @property
    def window(self) -> tuple[int, int]:
        return self.kernel.shape if self.kernel is not None else (self.pool_size, self.pool_size)  # type: ignore[return-value]

    def answer(self) -> np.ndarray:
        """The correct output, computed by :mod:`cnn_core.ops`: (out_h, out_w)."""
        if self.kind == "conv":
            return ops.conv2d(self.x, self.kernel, stride=self.stride, padding=self.padding)
        return ops.pool2d(self.x, self.pool_size, stride=self.stride, padding=self.padding, mode=self.pool_mode)

    def output_shape(self) -> tuple[int, int]:
        """(out_h, out_w) from :func:`cnn_core.geometry.output_size`."""
        return tuple(  # type: ignore[return-value]
            geometry.output_size(n, k, stride=self.stride, padding=self.padding)
            for n, k in zip(self.x.shape, self.window, strict=True)
        )

    def prompt(self) -> str:
        """The exercise as a sentence."""
        h, w = self.x.shape
        pad = f"padding {self.padding}" if self.padding else "no padding"
        if self.kind == "conv":
            kh, kw = self.window
            what = f"convolve it with the {kh}x{kw} kernel"
        else:
            name = {"max": "max", "avg": "average", "min": "min", "sum": "sum"}[self.pool_mode]
            what = f"apply {name} pooling with a {self.pool_size}x{self.pool_size} window"
        return f"Take the {h}x{w} input, {what}, stride {self.stride}, {pad}. What is the output?"


def make_exercise(seed: int, kind: ExerciseKind | None = None) -> Exercise:
    """A random exercise, the same for the same ``seed``; ``kind`` None picks conv or pool at random.

    Inputs are 4x4 to 7x7 of integers 0..9, outputs at most 5x5, so it can be done by hand.
    """
    rng = np.random.default_rng(seed)
    if kind is None:
        kind = "conv" if rng.random() < 0.6 else "pool"
    if kind not in ("conv", "pool"):
        raise ValueError(f"Unknown exercise kind {kind!r}: use 'conv' or 'pool'.")
    while True:
        h, w = (int(v) for v in rng.integers(4, 8, size=2))
        x = rng.integers(0, 10, size=(h, w)).astype(np.float64)
        stride = int(rng.choice([1, 1, 2]))
        padding = int(rng.choice([0, 0, 0, 1]))
        if kind == "conv":
            kernel = _KERNELS[int(rng.integers(len(_KERNELS)))].astype(np.float64)
            ex = Exercise(seed, "conv", x, kernel, stride, padding)
        else:
            mode = str(rng.choice(["max", "max", "avg", "min", "sum"]))
            size = int(rng.choice([2, 2, 3]))
            stride = int(rng.choice([size, size, 1]))
            ex = Exercise(seed, "pool", x, None, stride, padding if mode in ("avg", "sum") else 0, mode, size)  # type: ignore[arg-type]
        try:
            oh, ow = ex.output_shape()
        except ValueError:
            continue
        if oh <= 5 and ow <= 5:
            return ex


parse_answer = parse_number
"""Read a typed answer (``"-3"``, ``"2.5"``, ``"17/4"``): :func:`cnn_core.numbers.parse_number`."""


@dataclass(frozen=True)
class Mark:
    """The mark for one typed answer."""

    status: Status
    expected: float
    typed: str

    @property
    def right(self) -> bool:
        return self.status == "right"

    def symbol(self) -> str:
        """A mark that does not rely on colour: ✓ right, ✗ wrong, ? unreadable, blank."""
        return {"right": "✓", "wrong": "✗", "unreadable": "?", "blank": ""}[self.status]


def mark_value(expected: float, typed: str | None, *, tol: float = 0.01) -> Mark:
    """Mark one answer; within ``tol`` counts as right, so 4.25 and 17/4 are both accepted."""
    text = "" if typed is None else str(typed)
    if not text.strip():
        return Mark("blank", float(expected), text)
    try:
        value = parse_answer(text)
    except ValueError:
        return Mark("unreadable", float(expected), text)
    ok = abs(value - float(expected)) <= tol + 1e-9
    return Mark("right" if ok else "wrong", float(expected), text)


def mark_grid(expected: np.ndarray, typed: list[list[str | None]]) -> list[list[Mark]]:
    """Mark a whole grid of typed answers (missing rows or cells count as blank)."""
    expected = np.asarray(expected, dtype=np.float64)
    marks = []
    for r in range(expected.shape[0]):
        row = typed[r] if r < len(typed) else []
        marks.append([mark_value(expected[r, c], row[c] if c < len(row) else None) for c in range(expected.shape[1])])
    return marks


@dataclass(frozen=True)
class HiddenCell:
    """An output cell as quiz mode poses it: which cell, its working with the numbers to be worked
    out hidden (``None``, written ``?``), and the answer as a number."""

    cell: tuple[int, int, int]  # (feature map, row, col), counted from 0
    answer: float  # what the learner should find: the output value after bias and activation
    working: tuple[ops.WorkingLine, ...]  # results and intermediate sums are None

    def text(self) -> list[str]:
        """The working as the page writes it, e.g. ``1×1 + 2×0 = ?``."""
        return [line.text() for line in self.working]

    @property
    def hidden_terms(self) -> list[tuple[int, int]]:
        """(line, input) of every hidden input term, e.g. the channel sums before the bias."""
        return [(i, j) for i, line in enumerate(self.working) for j, v in enumerate(line.inputs) if v is None]


def hide_cell(cell: tuple[int, int, int], working: tuple[ops.WorkingLine, ...], answer: float) -> HiddenCell:
    """Hide what the learner should work out in one cell's working: each line's result, and the
    sums that later lines add up (the input values, kernel weights and bias stay shown)."""
    return HiddenCell(tuple(int(v) for v in cell), float(answer), tuple(line.hidden() for line in working))  # type: ignore[arg-type]
