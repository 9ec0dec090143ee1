"""Page furniture shared by every page: the learning path, which pages the class sees, and the
sidebar (the classroom box with the instructor's banner, link and poll, the presentation mode, the
session's training status, the "Your workspace" panel)."""

from __future__ import annotations

import os
from pathlib import Path

import streamlit as st

from app import state
from app.workspace import identity
from app.workspace.classroom import ClassSettings

PATH = [
    ("Lessons", "app_pages/lessons.py", "Guided walks through the course: predict first, then see the answer."),
    ("Kernel Lab", "app_pages/kernel_lab.py", "Pixels and kernels: what one convolution does to a photo."),
    ("Arithmetic", "app_pages/arithmetic.py", "Convolution and pooling, cell by cell, with the output-size formula."),
    ("Architecture", "app_pages/architecture.py", "Stack layers; read shapes, parameters and receptive fields."),
    ("Training", "app_pages/training.py", "Train a small CNN live and watch it learn."),
    ("Experiments", "app_pages/experiments.py", "Compare runs: residual or plain, dropout, augmentation, learning rates."),
    ("Inside the model", "app_pages/inside.py", "Feature maps, learned kernels, mistakes and saliency."),
]
HOME = "Home"
INSTRUCTOR = "Instructor"  # the console at /instructor: never in the students' navigation
ALL_PAGES = (HOME, *(title for title, _, _ in PATH))  # the pages a student can be shown
HIDDEN_PAGE = "The instructor has hidden this page for now. Pick another page in the sidebar."

# Larger type for a projector: body text, widgets, tables and code all grow together.
PRESENTATION_CSS = """
<style>
html, .stApp { font-size: 20px; }
.stApp [data-testid="stMarkdownContainer"] p, .stApp li, .stApp label, .stApp code { font-size: 1.15rem; }
.stApp h1 { font-size: 3rem; } .stApp h2, .stApp h3 { font-size: 2rem; }
</style>
"""


def url_path(title: str) -> str:
    """The page's path in the address bar: "" for Home, else its script's name (``kernel_lab``)."""
    if title == HOME:
        return ""
    return next(Path(file).stem for name, file, _ in PATH if name == title)


def shown(title: str, settings: ClassSettings) -> bool:
    """Whether students see a page: Home and the console's own page always; the rest as the instructor set."""
    return title in (HOME, INSTRUCTOR) or title in settings.pages


def presentation_default() -> bool:
    """Instructors can start every session in presentation mode with CONVLAB_PRESENTATION=1."""
    return os.environ.get("CONVLAB_PRESENTATION", "0").lower() in ("1", "true", "yes", "on")


def sidebar(page: str = "", settings: ClassSettings | None = None) -> None:
    """The sidebar every page shares; ``page`` is the title of the page being shown, ``settings``
    the class settings it is drawn with (when they change, the classroom box reruns the page)."""
    from app.instructor.in_class import class_panel
    from app.instructor.my_workspace import workspace_panel

    workspace = identity.workspace_id()
    if settings is not None:
        st.session_state[state.CL_SETTINGS_DRAWN] = settings
    with st.sidebar:
        if page != INSTRUCTOR:
            class_panel(page or HOME, workspace)
        st.caption("ConvLab: learn convolutional neural networks by touching every step.")
        if st.toggle(
            "Presentation mode",
            value=presentation_default(),
            key=state.PRESENTATION,
            help="Large text for projecting in a classroom.",
        ):
            st.markdown(PRESENTATION_CSS, unsafe_allow_html=True)
        if page != INSTRUCTOR:
            workspace_panel(workspace)
