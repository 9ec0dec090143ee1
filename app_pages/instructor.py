"""Instructor console (key required): the class live, broadcasts, a shown link, the live poll,
the lesson controls, run cancelling and the class settings. Reached at /instructor; not in the students' navigation."""

import streamlit as st

from app.instructor import access, broadcast, class_settings, lesson_controls, live, poll

st.title("Instructor console")
if not access.gate():
    st.stop()

st.subheader("The class now")
live.class_live()

talk, ask, teach, rules = st.tabs(["Broadcast", "Live poll", "Lessons", "Class settings"])
with talk:
    broadcast.broadcasts()
with ask:
    poll.live_poll()
with teach:
    lesson_controls.lesson_controls()
with rules:
    class_settings.settings_form()
