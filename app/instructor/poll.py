"""The console's live poll: put a question to the class, watch the anonymous answers, reveal, close.

One poll is open at a time (opening a new one replaces it). Answers are counted per workspace, so
a student who answers again changes their answer rather than adding one. The classroom writes
number answers one way, so "17", "17.0" and "34/2" land in the same bar.
"""

from __future__ import annotations

import streamlit as st

from app import layout, state
from app.instructor.actions import act
from app.plots.classroom import poll_histogram
from app.workspace import StoreError, identity
from app.workspace.classroom import Poll

KINDS = {"A number": "number", "Multiple choice": "choice"}
REFRESH_S = 3.0


def new_poll(question: str, kind_label: str, choices_text: str, answer: str) -> Poll:
    """Open the poll the form describes. Raises ValueError with a sentence on a bad form."""
    kind = KINDS[kind_label]
    choices = tuple(c.strip() for c in choices_text.splitlines() if c.strip()) if kind == "choice" else ()
    right = answer.strip() or None
    if kind == "choice" and right is not None and right not in choices:
        raise ValueError("The right answer must be one of the choices, written the same way.")
    return identity.classroom().open_poll(question, kind=kind, choices=choices, answer=right)


def _poll_form() -> None:
    with st.form(state.IC_POLL_FORM):
        question = st.text_input(
            "Question", key=state.IC_POLL_QUESTION, max_chars=300,
            placeholder="What is the output size of a 3x3 convolution, stride 2, on a 28x28 input?",
        )  # fmt: skip
        kind = st.radio("Answer kind", list(KINDS), key=state.IC_POLL_KIND, horizontal=True)
        choices = st.text_area("Choices (multiple choice: one a line)", key=state.IC_POLL_CHOICES, height=100)
        answer = st.text_input("The right answer (optional, shown when you reveal it)", key=state.IC_POLL_ANSWER)
        sent = st.form_submit_button("Open the poll", type="primary")
    if sent:
        try:
            new_poll(question, kind, choices, answer)
        except ValueError as err:
            st.error(str(err))
            return
        st.session_state[state.IC_NOTE] = "The poll is on every student's page."
        st.rerun()


def _results() -> None:
    @st.fragment(run_every=REFRESH_S)
    def _live() -> None:
        try:
            room = identity.classroom()
            poll = room.current_poll()
            if poll is None:
                st.caption("No poll is open. Open one below.")
                return
            answers = room.poll_answers(poll.poll_id)
        except StoreError as err:
            st.error(f"The class database cannot be read just now: {err}")
            return
        st.markdown(f"**Open poll:** {poll.question}")
        right = poll.answer if poll.revealed else None
        layout.chart(poll_histogram(answers, choices=poll.choices, right=right), width="stretch")
        if poll.answer is None:
            st.caption("No right answer was given: Reveal ends the answering and tells the class the answers are in.")
        cols = st.columns(2)
        cols[0].button(
            "Reveal the answer", key=state.IC_POLL_REVEAL, disabled=poll.revealed,
            on_click=act, args=(room.reveal_poll, poll.poll_id),
        )  # fmt: skip
        cols[1].button("Close the poll", key=state.IC_POLL_CLOSE, on_click=act, args=(room.close_poll,))

    _live()


NEW_POLL = "Ask a new question (it replaces the open poll)"


def live_poll() -> None:
    """The open poll's histogram (live) above the form that opens a new one. While a poll is open the form is
    folded into an expander (``NEW_POLL``), so the answers, not the form just sent, fill a projector's screen."""
    try:
        _results()
        if identity.classroom().current_poll() is None:
            _poll_form()
        else:
            with st.expander(NEW_POLL):
                _poll_form()
    except StoreError as err:
        st.error(f"The class database cannot be written just now: {err}")
