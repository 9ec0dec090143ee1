"""Page furniture shared by every page: the learning path and the sidebar (presentation mode,
the session's training status)."""

from __future__ import annotations

import os

import streamlit as st

from app import state
from cnn_core import training

PATH = [
    ("Kernel Lab", "app_pages/kernel_lab.py", "Pixels and kernels: what one convolution does to a photo."),
    ("Arithmetic", "app_pages/arithmetic.py", "Convolution and pooling, cell by cell, with the output-size formula."),
    ("Architecture", "app_pages/architecture.py", "Stack layers; read shapes, parameters and receptive fields."),
    ("Training", "app_pages/training.py", "Train a small CNN live and watch it learn."),
    ("Inside the model", "app_pages/inside.py", "Feature maps, learned kernels, mistakes and saliency."),
]

# Larger type for a projector: body text, widgets, tables and code all grow together.
PRESENTATION_CSS = """
<style>
html, .stApp { font-size: 20px; }
.stApp [data-testid="stMarkdownContainer"] p, .stApp li, .stApp label, .stApp code { font-size: 1.15rem; }
.stApp h1 { font-size: 3rem; } .stApp h2, .stApp h3 { font-size: 2rem; }
</style>
"""


def presentation_default() -> bool:
    """Instructors can start every session in presentation mode with CONVLAB_PRESENTATION=1."""
    return os.environ.get("CONVLAB_PRESENTATION", "0").lower() in ("1", "true", "yes", "on")


def sidebar() -> None:
    """The sidebar every page shares."""
    with st.sidebar:
        st.caption("ConvLab: learn convolutional neural networks by touching every step.")
        if st.toggle(
            "Presentation mode",
            value=presentation_default(),
            key=state.PRESENTATION,
            help="Large text for projecting in a classroom.",
        ):
            st.markdown(PRESENTATION_CSS, unsafe_allow_html=True)
        training_status()


def training_status() -> None:
    """A small live view of this session's training run, visible from every page.

    While the run is active it refreshes every 5 s and stamps the run's heartbeat
    (:meth:`app.jobs.Job.mark_seen`), so a run goes on whichever page its learner is on.
    """
    job = st.session_state.get(state.TR_JOB)
    if job is None:
        return

    @st.fragment(run_every=5.0 if job.active else None)
    def _status() -> None:
        job.mark_seen()  # the heartbeat that keeps the run going while this tab is open, on any page
        events = job.events()
        last = next((e for e in reversed(events) if isinstance(e, training.StepEvent)), None)
        started = next((e for e in events if isinstance(e, training.RunStarted)), None)
        if job.status == "queued":
            st.caption("Training: waiting for a free slot…")
        elif job.active and last is not None and started is not None:
            st.progress(
                min(last.step / started.total_steps, 1.0), text=f"Training: epoch {last.epoch}/{started.epochs}"
            )
        elif not job.active:
            st.caption(f"Training: {job.status}.")

    _status()
