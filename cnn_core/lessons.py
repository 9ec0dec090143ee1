"""Lessons: reading and checking the lesson files, and the registry of answer functions.

A lesson is a TOML file in ``lessons/`` (one file per lesson, its name the lesson's id): a title,
a one-line summary and a few steps. Each step names the page and the settings it opens, asks a
question, and says how the core computes the answer: the name of a function in :data:`ANSWERS`
and its parameters. The explanation is ConvLab's own text, with ``{answer}`` filled from the
computed value (and ``{notes}`` from what the course notes print there, for a worked example's
cell). Nothing here is copied from the notes: every answer is computed when asked.

:func:`load_lessons` reads and checks every file (a file that cannot be used raises
:class:`LessonError` naming the file and the step); :func:`answer` computes a step's answer;
:func:`check_prediction` reads a typed prediction (:func:`cnn_core.numbers.parse_number`) and says
whether it is right, or gives a sentence when it is not a number or out of range.
No Streamlit here.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from cnn_core import geometry, kernels, models, ops
from cnn_core.numbers import format_number, parse_number
from cnn_core.worked_examples import EXAMPLES, compute

__all__ = [
    "ANSWERS",
    "LESSONS_DIR",
    "PAGES",
    "Answer",
    "Lesson",
    "LessonError",
    "Step",
    "Verdict",
    "answer",
    "check_prediction",
    "load_lesson",
    "load_lessons",
]

LESSONS_DIR = Path(__file__).resolve().parents[1] / "lessons"
PAGES = ("kernel_lab", "arithmetic", "architecture", "training", "inside")  # a step's page, by its path
Kind = Literal["number", "choice"]


class LessonError(ValueError):
    """A lesson file that cannot be used; the message names the file and the step."""


@dataclass(frozen=True)
class Answer:
    """A step's computed answer: the value, how it reads, and what the notes print there (if anything)."""

    value: float | str
    text: str
    notes: float | None = None  # the course notes' printed value for the same thing, when they print one

    @property
    def notes_differ(self) -> bool:
        return self.notes is not None and isinstance(self.value, float) and not math.isclose(self.notes, self.value)


@dataclass(frozen=True)
class Step:
    """One predict-then-reveal step of a lesson."""

    title: str
    page: str  # one of PAGES
    settings: Mapping[str, str]  # the page's link settings (see app.lessons.links for the shorthands)
    question: str
    kind: Kind
    answer: str  # a name in ANSWERS
    params: Mapping[str, Any]
    explanation: str  # ConvLab's words; "{answer}" and "{notes}" are filled in
    choices: tuple[str, ...] = ()
    low: float = -1e9  # the range a sensible prediction lies in (outside it: a sentence)
    high: float = 1e9
    tolerance: float = 1e-3  # how close a number prediction must be to count as right
    hint: str = ""  # shown under the question

    def explain(self, ans: Answer) -> str:
        notes = format_number(ans.notes) if ans.notes is not None else ""
        return self.explanation.replace("{answer}", ans.text).replace("{notes}", notes)


@dataclass(frozen=True)
class Lesson:
    """A lesson: its id (the file's name), title, summary, and steps in order."""

    id: str
    title: str
    summary: str
    order: int
    steps: tuple[Step, ...] = field(default=())


@dataclass(frozen=True)
class Verdict:
    """What a prediction was: ``problem`` is a sentence when it could not be read (then ``right`` is False)."""

    right: bool
    problem: str | None = None
    value: float | str | None = None


# --- the answer functions -------------------------------------------------------------------------


def _example_output(example: str) -> np.ndarray:
    if example not in EXAMPLES:
        raise ValueError(f"There is no worked example called {example!r}.")
    return compute(EXAMPLES[example])


def example_cell(example: str, row: int, col: int, map: int = 1) -> Answer:
    """One output cell of a worked example (row, col and feature map counted from 1), with the notes' value."""
    out = _example_output(example)
    grid = out if out.ndim == 2 else out[map - 1] if out.ndim == 3 else out[None]
    r, c = (1, col) if out.ndim == 1 else (row, col)
    if not (1 <= r <= grid.shape[0] and 1 <= c <= grid.shape[1]):
        raise ValueError(f"The example {example!r} has no output cell ({row}, {col}).")
    value = float(grid[r - 1, c - 1])
    printed = EXAMPLES[example].notes_printed
    notes = None
    if printed is not None:
        p = np.asarray(printed, dtype=float).reshape(out.shape)
        p = p if p.ndim == 2 else p[map - 1] if p.ndim == 3 else p[None]
        notes = None if np.isnan(p[r - 1, c - 1]) else float(p[r - 1, c - 1])
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
    )
}
"""Answer function name -> the function; a lesson step names one with its parameters."""


def answer(step: Step) -> Answer:
    """The step's answer, computed now by the core."""
    return ANSWERS[step.answer](**step.params)


def check_prediction(step: Step, typed: str | None) -> Verdict:
    """Read a learner's prediction and say whether it is right (or, in a sentence, why it cannot be read)."""
    ans = answer(step)
    if step.kind == "choice":
        if typed is None or typed not in step.choices:
            return Verdict(False, "Pick one of the choices first.")
        return Verdict(typed == ans.value, value=typed)
    try:
        value = parse_number(typed or "")
    except ValueError as err:
        return Verdict(False, str(err))
    if not step.low <= value <= step.high:
        return Verdict(
            False,
            f"{format_number(value)} cannot be the answer here: it lies between "
            f"{format_number(step.low)} and {format_number(step.high)}.",
        )
    return Verdict(abs(value - float(ans.value)) <= step.tolerance, value=value)


# --- reading the files ----------------------------------------------------------------------------

_STEP_FIELDS = {"title", "page", "settings", "question", "kind", "answer", "params", "explanation",
                "choices", "range", "tolerance", "hint"}  # fmt: skip


def _step(data: Mapping[str, Any], where: str) -> Step:
    unknown = set(data) - _STEP_FIELDS
    if unknown:
        raise LessonError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}.")
    for name in ("title", "page", "question", "kind", "answer", "explanation"):
        if not isinstance(data.get(name), str) or not data[name].strip():
            raise LessonError(f"{where}: the field {name!r} is missing or empty.")
    if data["page"] not in PAGES:
        raise LessonError(f"{where}: the page {data['page']!r} is not one of {', '.join(PAGES)}.")
    if data["kind"] not in ("number", "choice"):
        raise LessonError(f"{where}: kind must be 'number' or 'choice', not {data['kind']!r}.")
    if data["answer"] not in ANSWERS:
        raise LessonError(f"{where}: there is no answer function {data['answer']!r}.")
    low, high = data.get("range", (-1e9, 1e9))
    step = Step(
        title=data["title"].strip(),
        page=data["page"],
        settings={str(k): str(v) for k, v in dict(data.get("settings", {})).items()},
        question=data["question"].strip(),
        kind=data["kind"],
        answer=data["answer"],
        params=dict(data.get("params", {})),
        explanation=data["explanation"].strip(),
        choices=tuple(str(c) for c in data.get("choices", ())),
        low=float(low),
        high=float(high),
        tolerance=float(data.get("tolerance", 1e-3)),
        hint=str(data.get("hint", "")).strip(),
    )
    try:
        ans = answer(step)
    except (TypeError, ValueError) as err:
        raise LessonError(f"{where}: the answer cannot be computed: {err}") from None
    if step.kind == "choice":
        if len(step.choices) < 2 or ans.value not in step.choices:
            raise LessonError(f"{where}: a choice step needs two or more choices, the computed answer among them.")
    elif not isinstance(ans.value, float) or not step.low <= ans.value <= step.high:
        raise LessonError(f"{where}: the computed answer {ans.text} is not a number within the step's range.")
    if "{notes}" in step.explanation and ans.notes is None:
        raise LessonError(f"{where}: the explanation quotes the notes, but they print nothing there.")
    return step


def load_lesson(path: Path) -> Lesson:
    """Read and check one lesson file; :class:`LessonError` says what is wrong and where."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as err:
        raise LessonError(f"{path.name}: cannot be read: {err}") from None
    for name in ("title", "summary"):
        if not isinstance(data.get(name), str) or not data[name].strip():
            raise LessonError(f"{path.name}: the field {name!r} is missing or empty.")
    raw_steps = data.get("steps")
    if not isinstance(raw_steps, list) or not raw_steps:
        raise LessonError(f"{path.name}: a lesson needs at least one [[steps]] table.")
    steps = tuple(_step(s, f"{path.name}, step {i + 1}") for i, s in enumerate(raw_steps))
    return Lesson(path.stem, data["title"].strip(), data["summary"].strip(), int(data.get("order", 99)), steps)


def load_lessons(folder: Path = LESSONS_DIR) -> dict[str, Lesson]:
    """Every lesson in ``folder``, by id, in their ``order``."""
    lessons = [load_lesson(p) for p in sorted(folder.glob("*.toml"))]
    return {ls.id: ls for ls in sorted(lessons, key=lambda ls: (ls.order, ls.id))}
