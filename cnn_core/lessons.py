"""Lessons: reading and checking the lesson files, and checking a prediction against the computed answer.

A lesson is a TOML file in ``lessons/`` (one file per lesson, its name the lesson's id): a title,
a one-line summary and a few steps. Each step names the page and the settings it opens, asks a
question, and says how the core computes the answer: the name of a function in :data:`ANSWERS`
and its parameters (:mod:`cnn_core.lesson_answers`). The explanation is ConvLab's own text, with ``{answer}`` filled from the
computed value (and ``{notes}`` from what the course notes print there, for a worked example's
cell). Nothing here is copied from the notes: every answer is computed when asked.

:func:`load_lessons` reads and checks every file (a file that cannot be used raises
:class:`LessonError` naming the file and the step); :func:`answer` computes a step's answer;
:func:`check_prediction` reads a typed prediction (:func:`cnn_core.numbers.parse_number`) and says
whether it is right, or gives a sentence when it is not a number or out of range.
No Streamlit here.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from cnn_core.lesson_answers import ANSWERS, Answer
from cnn_core.numbers import format_number, parse_number

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
PAGES = ("kernel_lab", "arithmetic", "architecture", "training", "inside", "experiments")  # a step's page, by its path
Kind = Literal["number", "choice"]


class LessonError(ValueError):
    """A lesson file that cannot be used; the message names the file and the step."""


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
