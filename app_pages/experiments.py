"""Experiments: ready-made comparisons of training runs, and every kept run side by side (being built)."""

import streamlit as st

st.title("Experiments")
st.info("Ready-made experiments are on their way. Your runs are listed on the Training page.", icon=":material/compare_arrows:")
