"""The instructor key: who may open the console, checked in constant time and rate-limited.

The key is the server's ``CONVLAB_INSTRUCTOR_KEY``. It is typed into a password box inside a form
emptied by the check itself, compared with :func:`hmac.compare_digest`, and never shown, logged or put in
a URL. Failed attempts are counted in the classroom database (so every server process sees them)
per browser (its workspace) and per client address: after :data:`MAX_FAILURES` wrong keys within
:data:`WINDOW_S` from one browser (or :data:`MAX_FAILURES_PER_ADDRESS` from one address, which
a proxy may share among many sessions) the gate refuses for a while with a sentence. A session
that gave the right key stays in for as long as it lives.
"""

from __future__ import annotations

import hmac
import os

import streamlit as st

from app import state
from app.workspace import StoreError, identity
from app.workspace.classroom import Classroom

KEY_ENV = "CONVLAB_INSTRUCTOR_KEY"
MAX_FAILURES = 5
MAX_FAILURES_PER_ADDRESS = 20
WINDOW_S = 300.0

NO_KEY = (
    "The instructor console is switched off on this server: no instructor key is set. "
    "Start the server with a key of your choosing in the environment, for example "
    "`CONVLAB_INSTRUCTOR_KEY=\"$(python -c 'import secrets; print(secrets.token_urlsafe(12))')\" "
    "scripts/serve_class.sh`, then open /instructor again and type that key."
)
LOCKED = (  # the wait is the window the wrong keys are counted over: after it they no longer count
    f"Too many wrong keys from here: the console refuses new attempts for up to {WINDOW_S / 60:g} minutes. "
    "Wait, then type the key again."
)
WRONG = "That is not the instructor key."


def configured_key() -> str | None:
    """The server's instructor key, or None when none is set (the console stays shut)."""
    key = os.environ.get(KEY_ENV, "").strip()
    return key or None


def key_matches(typed: str, key: str) -> bool:
    """Constant-time comparison, so the time taken says nothing about how much of the key was right."""
    return hmac.compare_digest(typed.strip().encode("utf-8"), key.encode("utf-8"))


def clients(browser: str, address: str | None) -> list[tuple[str, int]]:
    """The names the attempts are counted under, each with how many failures it may have."""
    names = [(f"browser:{browser}", MAX_FAILURES)]
    if address:
        names.append((f"address:{address}", MAX_FAILURES_PER_ADDRESS))
    return names


def locked_out(room: Classroom, names: list[tuple[str, int]]) -> bool:
    """True while any of the names has used up its failures within the window."""
    return any(room.failed_key_attempts(name, within_s=WINDOW_S) >= limit for name, limit in names)


def attempt(room: Classroom, names: list[tuple[str, int]], typed: str, key: str) -> bool:
    """Check one typed key and record the attempt under every name; True when it is the key."""
    ok = key_matches(typed, key)
    for name, _ in names:
        room.record_key_attempt(name, ok)
    return ok


def _who() -> list[tuple[str, int]]:
    from app.instructor.in_class import presence_id

    address = st.context.ip_address
    return clients(presence_id(identity.workspace_id()), address if isinstance(address, str) else None)


def _check(room: Classroom, names: list[tuple[str, int]], key: str) -> None:
    """The form's callback: check the typed key, then empty the box so the key is kept nowhere."""
    typed = st.session_state.get(state.IC_KEY) or ""
    st.session_state[state.IC_KEY] = ""
    try:
        if locked_out(room, names):  # a form left open from before the lock is refused too, unread
            st.session_state[state.IC_NOTE] = LOCKED
        elif attempt(room, names, typed, key):
            st.session_state[state.IC_UNLOCKED] = True
        else:
            st.session_state[state.IC_NOTE] = LOCKED if locked_out(room, names) else WRONG
    except StoreError as err:
        st.session_state[state.IC_NOTE] = f"The class database cannot be written, so the key was not checked: {err}"


def gate() -> bool:
    """Draw the key form (or why the console is shut); True once this session is in."""
    if st.session_state.get(state.IC_UNLOCKED):
        return True
    key = configured_key()
    if key is None:
        st.info(NO_KEY, icon=":material/key_off:")
        return False
    refusal = st.session_state.pop(state.IC_NOTE, None)
    try:
        room = identity.classroom()
        names = _who()
        if locked_out(room, names):
            st.error(LOCKED, icon=":material/lock_clock:")
            return False
    except StoreError as err:
        st.error(f"The class database cannot be read, so the console cannot open: {err}")
        return False
    with st.form(state.IC_KEY_FORM, clear_on_submit=True):
        st.text_input("Instructor key", type="password", key=state.IC_KEY, autocomplete="off")
        st.form_submit_button("Open the console", type="primary", on_click=_check, args=(room, names, key))
    if refusal:
        st.error(refusal, icon=":material/lock:")
    return False
