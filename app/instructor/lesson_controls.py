"""The console's lesson controls: start the class on a lesson step, and poll the class on its prediction.

"Start the class on this step" pushes the step's Lessons link (``/lessons?lesson=<id>&step=<n>``)
through the classroom's pushed link, which every student's sidebar shows with an Open button;
"Poll the class on this step's prediction" opens the live poll with the step's question, its
choices (or a number answer) and the answer the core computes, through :func:`app.instructor.poll.new_poll`.
"""

from __future__ import annotations

from urllib.parse import urlencode

import streamlit as st

from app import state
from app.instructor import poll
from app.instructor.actions import act
from app.instructor.broadcast import link_path
from app.lessons.view import LESSON_PARAM, STEP_PARAM, all_lessons
from app.workspace import identity
from cnn_core.lessons import Lesson, Step, answer
from cnn_core.numbers import format_number


def step_path(lesson: Lesson, index: int) -> str:
    """The Lessons link of one step (``index`` from 0), checked as a page of this app."""
    return link_path(f"/lessons?{urlencode({LESSON_PARAM: lesson.id, STEP_PARAM: index + 1})}", "Lessons")


def poll_form(step: Step) -> tuple[str, str, str, str]:
    """The live poll's form for a step: (question, kind label, choices one a line, right answer)."""
    ans = answer(step)
    if step.kind == "choice":
        return step.question, "Multiple choice", "\n".join(step.choices), str(ans.value)
    return step.question, "A number", "", format_number(float(ans.value), 6)


def _start(lesson: Lesson, index: int) -> None:
    step = lesson.steps[index]
    label = f"Lesson “{lesson.title}”, step {index + 1}: {step.title}"
    act(identity.classroom().push_link, step_path(lesson, index), label, done=f"Every student now sees: {label}.")


def _poll(step: Step) -> None:
    act(poll.new_poll, *poll_form(step), done="The poll on this step's prediction is on every student's page.")


def lesson_controls() -> None:
    """Pick a lesson and a step; start the class on it, or poll the class on its prediction."""
    found = all_lessons()
    if not found:
        return
    cols = st.columns([2, 1])
    lesson_id = cols[0].selectbox(
        "Lesson", list(found), key=state.IC_LS_LESSON, format_func=lambda i: f"{found[i].order}. {found[i].title}"
    )
    lesson = found[lesson_id]
    index = cols[1].selectbox(
        "Step",
        list(range(len(lesson.steps))),
        key=state.IC_LS_STEP,
        format_func=lambda i: f"{i + 1}. {lesson.steps[i].title}",
    )
    index = min(int(index or 0), len(lesson.steps) - 1)
    step = lesson.steps[index]
    st.markdown(f"**The students are asked:** {step.question}")
    st.caption(f"The answer ConvLab computes: {answer(step).text}. Students see it when they check their prediction.")
    left, right = st.columns(2)
    left.button(
        "Start the class on this step", key=state.IC_LS_START, on_click=_start, args=(lesson, index), type="primary"
    )
    right.button("Poll the class on this step's prediction", key=state.IC_LS_POLL, on_click=_poll, args=(step,))
