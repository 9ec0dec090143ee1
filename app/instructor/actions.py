"""The console's button callbacks: do one thing to the classroom, leave a sentence for the next run.

A callback runs before the (fragment or full) rerun its click causes, so that rerun already draws
the new state. A classroom that cannot be written leaves the error's sentence instead of a traceback.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

from app import state
from app.workspace import StoreError


def act(fn: Callable[..., Any], *args: Any, done: str | None = None) -> None:
    """Call ``fn(*args)``; put ``done`` (or the failure's sentence) where the console shows it once."""
    try:
        fn(*args)
    except (StoreError, ValueError) as err:
        st.session_state[state.IC_NOTE] = f"That did not reach the class: {err}"
        return
    if done:
        st.session_state[state.IC_NOTE] = done


def note() -> None:
    """Show the sentence the last action left, once."""
    text = st.session_state.pop(state.IC_NOTE, None)
    if text:
        (st.error if text.startswith("That did not") else st.success)(text)
