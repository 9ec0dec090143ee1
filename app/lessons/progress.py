"""Lesson progress, kept in the learner's workspace: one ``"lesson"`` item per step that was checked.

Each item (key ``"<lesson id>/<step number>"``) holds whether the step is done (a prediction was
checked), whether the first prediction was right, whether the latest one was, how many tries it
took and the latest prediction. Read once per session (so a reload, a second tab or a restart
shows it) and written on every Check; a store that cannot be used costs a sentence, once, and the
page goes on with what the session has (as :mod:`app.arithmetic.progress`).
"""

from __future__ import annotations

import time
from typing import Any

import streamlit as st

from app import state
from app.workspace import identity
from cnn_core.lessons import Lesson

KIND = "lesson"


def step_key(lesson_id: str, step: int) -> str:
    """Names one step: the lesson's id and the step's number from 1."""
    return f"{lesson_id}/{step}"


def _readable(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and all(isinstance(value.get(k), bool) for k in ("first_right", "right"))
        and isinstance(value.get("tries"), int)
        and value["tries"] >= 1
    )


def progress() -> dict[str, dict[str, Any]]:
    """Step key -> ``{"first_right", "right", "tries", "prediction", "checked"}`` for every checked step."""
    ss = st.session_state
    if state.LS_PROGRESS not in ss:
        kept = identity.with_store(lambda s, ws: s.items(ws, KIND), {})
        ss[state.LS_PROGRESS] = {k: v for k, v in kept.items() if _readable(v)}
    return ss[state.LS_PROGRESS]


def record(lesson_id: str, step: int, prediction: str, right: bool) -> dict[str, Any]:
    """One checked prediction: kept in the session and saved to the workspace; returns the step's record."""
    key = step_key(lesson_id, step)
    before = progress().get(key)
    value = {
        "first_right": before["first_right"] if before else bool(right),
        "right": bool(right),
        "tries": (before["tries"] if before else 0) + 1,
        "prediction": str(prediction)[:100],
        "checked": time.time(),
    }
    progress()[key] = value
    identity.with_store(lambda s, ws: s.put_item(ws, KIND, key, value), None)
    return value


def done_count(lesson: Lesson) -> tuple[int, int]:
    """(steps checked, steps whose first prediction was right) of one lesson."""
    kept = progress()
    records = [kept.get(step_key(lesson.id, i + 1)) for i in range(len(lesson.steps))]
    return sum(r is not None for r in records), sum(bool(r and r["first_right"]) for r in records)


def summary_text(lesson: Lesson) -> str:
    """ "3 of 5 steps done, 2 predicted right the first time."""
    done, right = done_count(lesson)
    n = len(lesson.steps)
    return f"{done} of {n} step{'s' * (n != 1)} done, {right} predicted right the first time."
