"""The Arithmetic page's quiz: whether answers are hidden, the answer boxes, Check and Reveal, the
marks (from :mod:`cnn_core.quiz`) and the learner's progress (kept by :mod:`app.arithmetic.progress`).
"""

from __future__ import annotations

import streamlit as st

from app import state
from app.arithmetic import progress
from app.arithmetic.config import QUIZ_MAX_SIDE
from app.arithmetic.problem import Problem
from cnn_core import quiz
from cnn_core.numbers import format_number

Q = state.AR_ANSWER_PREFIX


def quiz_hidden(problem: Problem) -> bool:
    """Whether quiz mode hides the answers now (it is on, and the working is not revealed)."""
    return problem.cfg.quiz != "off" and not st.session_state.get(state.AR_REVEAL)


def quiz_marks(problem: Problem) -> list[list[list[quiz.Mark]]] | None:
    """The marks of the typed answers, per feature map, once the learner pressed Check."""
    if not st.session_state.get(state.AR_CHECKED):
        return None
    oh, ow = problem.out.shape[1:]
    return [
        quiz.mark_grid(
            problem.out[m], [[st.session_state.get(f"{Q}{m}_{i}_{j}", "") for j in range(ow)] for i in range(oh)]
        )
        for m in range(problem.maps)
    ]


def quiz_panel(problem: Problem) -> None:
    """Answer boxes for the hidden output cells (or size), Check, and Reveal."""
    cfg = problem.cfg
    if cfg.quiz == "off":
        return
    ss = st.session_state
    st.markdown("**Your answers**")
    score: tuple[int, int] | None = None  # (right, answers) once checked
    if cfg.quiz == "size":
        a, b = st.columns(2)
        h = a.text_input("Output height", key=Q + "h")
        w = b.text_input("Output width", key=Q + "w")
        if ss.get(state.AR_CHECKED):
            score = (0, 2)
            for label, typed, expected in (("Height", h, problem.out.shape[1]), ("Width", w, problem.out.shape[2])):
                mk = quiz.mark_value(expected, typed, tol=0)
                score = (score[0] + mk.right, 2)
                st.markdown(
                    f"{label}: {mk.symbol()} **{_status_word(mk)}**"
                    + (f" (the answer is {expected})" if ss.get(state.AR_REVEAL) else "")
                )
    else:
        oh, ow = problem.out.shape[1:]
        if max(oh, ow) > QUIZ_MAX_SIDE:
            st.info(
                f"Typing answers works for outputs up to {QUIZ_MAX_SIDE}x{QUIZ_MAX_SIDE}; this one is {oh}x{ow}. Press 'New random exercise' or pick a smaller example."
            )
            return
        for m in range(problem.maps):
            if problem.maps > 1:
                st.caption(f"Feature map {m}")
            for i in range(oh):
                cols = st.columns(max(ow, 4))
                for j in range(ow):
                    cols[j].text_input(
                        f"({i}, {j})" + (f" map {m}" if problem.maps > 1 else ""),
                        key=f"{Q}{m}_{i}_{j}",
                        placeholder="?",
                    )
        marks = quiz_marks(problem)
        if marks is not None:
            flat = [mk for grid in marks for row in grid for mk in row]
            right = sum(mk.right for mk in flat)
            score = (right, len(flat))
            st.markdown(f"**{right} of {len(flat)} right.** ✓ right, ✗ wrong, ? not a number; see the output grid.")
            for m, grid in enumerate(marks):
                for i, row in enumerate(grid):
                    for j, mk in enumerate(row):
                        if mk.status in ("wrong", "unreadable", "blank"):
                            extra = f"; the answer is {format_number(mk.expected)}" if ss.get(state.AR_REVEAL) else ""
                            st.caption(
                                f"{mk.symbol() or '·'} row {i}, column {j}"
                                + (f" (map {m})" if problem.maps > 1 else "")
                                + f": {_status_word(mk)}{extra}"
                            )
    if ss.pop(state.AR_JUST_CHECKED, False) and score is not None:
        progress.record(cfg, *score)
    a, b = st.columns(2)
    a.button("Check answers", key="ar_check", on_click=_on_check, type="primary")
    b.toggle("Reveal the working", key=state.AR_REVEAL)
    if summary := progress.summary_text(progress.progress()):
        st.caption(summary)


def _on_check() -> None:
    st.session_state[state.AR_CHECKED] = True
    st.session_state[state.AR_JUST_CHECKED] = True  # the next run marks the answers and records them


def _status_word(mk: quiz.Mark) -> str:
    return {
        "right": "right",
        "wrong": f"wrong (you typed {mk.typed})",
        "blank": "not answered",
        "unreadable": f"'{mk.typed}' is not a number",
    }[mk.status]
