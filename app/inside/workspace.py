"""The model "Inside the model" opens when the session has none: the student's running job, else the
latest model kept in their workspace, so a reload, a pasted link or a restarted server finds it.

The run is rebuilt by :func:`app.training.restore.bundle_from_record` (network from the record's
settings, weights from the store read with ``weights_only=True``, the dataset loaded again); a
store that cannot be read, or a kept model that cannot be rebuilt, leaves a sentence for the page
and the quick demo on offer, and nothing else changes.
"""

from __future__ import annotations

import streamlit as st

from app import state
from app.trained import TrainedBundle
from app.training.restore import bundle_from_record, reattach
from app.workspace import RunRecord, StoreError, identity

MAX_TRIES = 3  # kept models tried, newest first, before giving up for this script run


def _kept_models() -> list[RunRecord]:
    store = identity.store()
    return [r for r in store.runs(identity.workspace_id()) if r.has_model]


def find_model() -> TrainedBundle | None:
    """The session's model; where there is none, the workspace's running job or latest kept model
    becomes it (with a line for the status, :data:`state.IN_WS_NOTE`). None when there is none."""
    bundle = st.session_state.get(state.TR_BUNDLE)
    if bundle is not None:
        return bundle
    if reattach():  # a run of this workspace is going (another tab, or before a reload)
        return st.session_state.get(state.TR_BUNDLE)
    try:
        records = _kept_models()
    except StoreError as err:
        st.session_state[state.IN_WS_NOTE] = (False, f"{err} Your kept models cannot be opened just now.")
        return None
    problem = None
    for record in records[:MAX_TRIES]:
        try:
            bundle = bundle_from_record(identity.store(), record)
        except (StoreError, ValueError) as err:
            problem = problem or str(err)
            continue
        st.session_state[state.TR_BUNDLE] = bundle
        note = f"Opened your latest kept model, “{record.title}”, from your workspace."
        st.session_state[state.IN_WS_NOTE] = (
            True,
            note + (f" A newer one could not be opened: {problem}" if problem else ""),
        )
        return bundle
    if problem:
        st.session_state[state.IN_WS_NOTE] = (False, f"{problem} Train a new model, or try the quick demo below.")
    return None


def workspace_note() -> None:
    """The line left by :func:`find_model`, shown once."""
    ok, note = st.session_state.pop(state.IN_WS_NOTE, (True, ""))
    if note and ok:
        st.caption(note)
    elif note:
        st.warning(note, icon=":material/inventory_2:")


def uploads_allowed() -> bool:
    """The instructor's class setting (uploads on, where the class settings cannot be read)."""
    try:
        return bool(identity.classroom().settings().uploads)
    except (StoreError, OSError):
        return True
