"""Lessons: guided, predict-then-reveal walks through the course's topics (being built)."""

import streamlit as st

st.title("Lessons")
st.info("Guided lessons are on their way. Meanwhile, follow the path on the Home page.", icon=":material/school:")
