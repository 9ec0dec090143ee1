"""The console's class settings form: what students may do, which pages they see, run and storage limits.

Saved with :meth:`~app.workspace.classroom.Classroom.put_settings`, so it takes effect at once in
every server process; the pages read :func:`current` on every run.
"""

from __future__ import annotations

import dataclasses

import streamlit as st

from app import state
from app.workspace import StoreError, identity
from app.workspace.classroom import PAGE_NAMES, ClassSettings

SWITCHES = {  # ClassSettings field -> the label the instructor reads
    "uploads": "Students may upload photos and model files",
    "camera": "Students may take photos with the camera",
    "own_datasets": "Students may upload their own dataset zip",
    "full_datasets": "Students may train on the full MNIST, Fashion-MNIST and CIFAR-10",
}
MAX_EPOCHS_CAP = 500
MAX_MINUTES_CAP = 24 * 60.0


def current() -> ClassSettings:
    """The class settings now; the defaults (everything allowed) when the database cannot be read."""
    try:
        return identity.classroom().settings()
    except StoreError:
        return ClassSettings()


def settings_form() -> None:
    try:
        now = identity.classroom().settings()
    except StoreError as err:
        st.error(f"The class settings cannot be read just now: {err}")
        return
    with st.form(state.IC_SETTINGS_FORM):
        switches = {
            name: st.toggle(label, value=getattr(now, name), key=state.IC_SET.format(field=name))
            for name, label in SWITCHES.items()
        }
        pages = st.multiselect(
            "Pages students see (Home is always shown)",
            list(PAGE_NAMES),
            default=[p for p in now.pages if p in PAGE_NAMES],
            key=state.IC_SET.format(field="pages"),
        )
        cols = st.columns(2)
        max_epochs = cols[0].number_input(
            "Most epochs per run", 1, MAX_EPOCHS_CAP, int(now.max_epochs), key=state.IC_SET.format(field="max_epochs")
        )
        max_minutes = cols[1].number_input(
            "Most minutes per run", 0.5, MAX_MINUTES_CAP, float(now.max_minutes), step=1.0,
            key=state.IC_SET.format(field="max_minutes"),
        )  # fmt: skip
        quota = cols[0].number_input(
            "Storage per student (MB; 0: the server's default)", 0.0, 100_000.0, float(now.workspace_mb or 0), step=50.0,
            key=state.IC_SET.format(field="workspace_mb"),
        )  # fmt: skip
        days = cols[1].number_input(
            "Keep an unused workspace for (days; 0: the server's default)", 0.0, 3650.0, float(now.workspace_days or 0),
            step=1.0, key=state.IC_SET.format(field="workspace_days"),
        )  # fmt: skip
        sent = st.form_submit_button("Save the class settings", type="primary")
    if sent:
        chosen = dataclasses.replace(
            now,
            **switches,
            pages=tuple(p for p in PAGE_NAMES if p in pages),
            max_epochs=int(max_epochs),
            max_minutes=float(max_minutes),
            workspace_mb=float(quota) or None,
            workspace_days=float(days) or None,
        )
        try:
            identity.classroom().put_settings(chosen)
        except (StoreError, ValueError) as err:
            st.error(f"The class settings could not be saved: {err}")
            return
        st.session_state[state.IC_NOTE] = "Saved: the class settings apply on every student's page now."
        st.rerun()
