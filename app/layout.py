"""Page furniture shared by every page: the sidebar and the "coming soon" placeholder."""

from __future__ import annotations

import streamlit as st

PATH = [
    ("Kernel Lab", "pages/kernel_lab.py", "Pixels and kernels: what one convolution does to a photo."),
    ("Arithmetic", "pages/arithmetic.py", "Convolution and pooling, cell by cell, with the output-size formula."),
    ("Architecture", "pages/architecture.py", "Stack layers; read shapes, parameters and receptive fields."),
    ("Training", "pages/training.py", "Train a small CNN live and watch it learn."),
    ("Inside the model", "pages/inside.py", "Feature maps, learned kernels, mistakes and saliency."),
]


def sidebar() -> None:
    """The sidebar every page shares."""
    with st.sidebar:
        st.caption("ConvLab: learn convolutional neural networks by touching every step.")


def coming_soon(title: str, what: str) -> None:
    """Placeholder for a page that is planned but not built yet."""
    st.title(title)
    st.info(f"This page is coming soon. {what}", icon=":material/construction:")
    st.page_link("pages/kernel_lab.py", label="Meanwhile, try the Kernel Lab", icon=":material/filter:")
