"""Lessons: guided, predict-then-reveal walks through the course's topics, one step at a time.

Each lesson is a file in lessons/ (read and checked by cnn_core.lessons); a step opens its page with
its settings, asks for a prediction, and reveals the answer the core computes, with why.
"""

import streamlit as st

from app import state
from app.lessons import progress, view

st.title("Lessons")
st.write(
    "Short walks through the course, one idea at a time. Each step opens the page that shows it, asks you to "
    "predict first, then shows the answer ConvLab computes and why. Your progress is kept in your workspace."
)

found = view.all_lessons()
if not found:
    st.stop()
view.follow_link(found)
view.keep_place(found)
ss = st.session_state
lesson_id = st.selectbox(
    "Lesson",
    list(found),
    key=state.LS_LESSON,
    format_func=lambda i: view.lesson_label(found[i]),
    on_change=view.reset_step,
)
lesson = found[lesson_id]
st.caption(f"{lesson.summary} {progress.summary_text(lesson)}")
n = len(lesson.steps)
if not 0 <= int(ss.get(state.LS_STEP, 0)) < n:
    ss[state.LS_STEP] = 0
index = st.radio(
    "Step",
    list(range(n)),
    key=state.LS_STEP,
    format_func=lambda i: view.step_label(lesson, i),
    horizontal=True,
    label_visibility="collapsed",
)
view.publish(lesson, index)
st.caption(view.steps_line(lesson, index))
with st.container(border=True):
    view.step_panel(lesson, index)
with st.expander("Your progress in every lesson"):
    view.progress_list(found)
