"""What the Architecture page keeps beyond one session: the network being built (its name, input
shape and layers, as :func:`cnn_core.models.to_dict`) in the learner's workspace.

It is saved on every valid change and restored when the page opens in a new session without a
network in its link; a network opened from a link is shown without replacing the saved one until
the learner changes it. A store that cannot be read or written costs a sentence (once) and the page
goes on with what the session has.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from app import state
from app.workspace import StoreError, identity
from cnn_core import models
from cnn_core.models import ModelConfig

KIND = "network"


_tell = identity.tell_once
_with_store = identity.with_store


def saved_network() -> ModelConfig | None:
    """The network kept in this learner's workspace, or None (none kept, or unreadable: said once)."""
    data = _with_store(lambda s, ws: s.get_item(ws, KIND), None)
    if data is None:
        return None
    try:
        if not isinstance(data, dict):
            raise ValueError("it is not a network.")
        return models.from_dict(data)
    except ValueError:
        _tell(StoreError("The network saved in your workspace could not be read, so the page starts afresh."))
        return None


def keep_network(config: ModelConfig, *, valid: bool) -> None:
    """Save a valid network to the workspace when it differs from the one the page opened with (kept,
    linked or the default) or last saved. The session's first run only notes what it opened with."""
    data: dict[str, Any] = models.to_dict(config)
    kept = st.session_state.get(state.AN_KEPT)
    if kept is None or (valid and kept != data):
        st.session_state[state.AN_KEPT] = data  # set first: a failing store is told once, not on every rerun
        if kept is not None:
            _with_store(lambda s, ws: s.put_item(ws, KIND, "", data), None)
