"""Experiments: ready-made comparisons of short training runs, every kept run side by side, and what
batch norm, dropout and augmentation do, computed (widgets -> cnn_core -> app.plots)."""

import streamlit as st

from app.experiments import compare, explain, ready

st.title("Experiments")
st.write(
    "One change at a time, measured. A ready-made experiment trains a few short runs that differ in one "
    "thing, on the same images with the same seed, and puts their results side by side. Every run you "
    "train here or on the Training page is kept in your workspace, so you can compare any of them below."
)

st.header("Ready-made experiments")
ready.section()

st.header("Compare your runs")
compare.section()

st.header("Inside the remedies")
bn, drop, aug = st.tabs(["Batch norm", "Dropout", "Augmentation"])
with bn:
    explain.batch_norm_section()
with drop:
    explain.dropout_section()
with aug:
    explain.augmentation_section()
