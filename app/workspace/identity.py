"""Which workspace this browser session belongs to: an anonymous id kept in a cookie.

:func:`workspace_id` returns this browser's workspace id. It reads the ``convlab_workspace`` cookie
(``st.context.cookies``, public API); where there is none, or its value is malformed, it makes a new
id (``secrets.token_urlsafe``), keeps it in the session and writes the cookie from the page once (a
script in ``st.html(..., unsafe_allow_javascript=True)``: ``SameSite=Lax``, ``Path=/``, a year, ``Secure`` over https), so a
reload, a pasted link, a second tab and a server restart all find the same workspace. The id is
never put in a URL. :func:`store` and :func:`classroom` are the server's shared instances
(``st.cache_resource``) over :func:`~app.workspace.store.default_state_dir`; a folder that cannot
be created or written still gives a store, whose writes raise StoreError with a sentence and whose
reads find nothing, so the app runs on.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Callable
from typing import TypeVar

import streamlit as st

from app import state
from app.workspace.classroom import Classroom
from app.workspace.store import StoreError, WorkspaceStore, default_state_dir

__all__ = ["COOKIE", "classroom", "session_label", "store", "valid_cookie", "workspace_id"]

COOKIE = "convlab_workspace"
COOKIE_MARK = "cl-cookie-script"  # the class of a span in the element that writes the cookie
COOKIE_ID = re.compile(r"[A-Za-z0-9_-]{16,64}")  # what workspace_id() makes: 24 url-safe characters
YEAR_S = 365 * 24 * 3600


def valid_cookie(value: object) -> bool:
    """Whether a cookie's value is a workspace id this module could have made."""
    return isinstance(value, str) and COOKIE_ID.fullmatch(value) is not None


def _cookie() -> str | None:
    try:
        return st.context.cookies.get(COOKIE)
    except Exception:  # no browser behind this run (a bare script run, some test harnesses)
        return None


def cookie_script(ws: str) -> str:
    """The page script that keeps ``ws`` (a validated id, nothing a person typed) in the browser's cookie."""
    value = json.dumps(f"{COOKIE}={ws}; Max-Age={YEAR_S}; Path=/; SameSite=Lax")
    return (  # the marked span lets app.layout.BASE_CSS take this element out of the page's flow (no empty gap)
        f'<span class="{COOKIE_MARK}"></span>'
        "<script>(function(){var c=" + value + ";"
        "if(location.protocol==='https:'){c+='; Secure';}"
        "document.cookie=c;})();</script>"
    )


def workspace_id() -> str:
    """This browser's workspace id (from its cookie, else made now and written to the cookie)."""
    from_cookie = _cookie()
    if valid_cookie(from_cookie):
        st.session_state[state.WS_ID] = from_cookie
        return str(from_cookie)
    ws = st.session_state.get(state.WS_ID)
    if not valid_cookie(ws):
        ws = secrets.token_urlsafe(18)
        st.session_state[state.WS_ID] = ws
    if st.session_state.get(state.WS_COOKIE_WRITTEN) != ws:
        st.session_state[state.WS_COOKIE_WRITTEN] = ws
        st.html(cookie_script(ws), unsafe_allow_javascript=True)
    return str(ws)


@st.cache_resource(show_spinner=False)
def classroom() -> Classroom:
    """The server's class-wide state, in the workspace database."""
    return Classroom(default_state_dir() / "convlab.sqlite3")


@st.cache_resource(show_spinner=False)
def store() -> WorkspaceStore:
    """The server's workspace store; its quota and expiry follow the instructor's class settings."""
    room = classroom()

    def limits() -> tuple[int | None, float | None]:
        s = room.settings()
        return (int(s.workspace_mb * 1_000_000) if s.workspace_mb else None, s.workspace_days)

    return WorkspaceStore(default_state_dir(), limits=limits)


def session_label(session: str) -> str:
    """How the console names a session: its nickname or "Student N" (after its first beat)."""
    return classroom().label(session) or "a student"


T = TypeVar("T")


def tell_once(err: StoreError) -> None:
    """Show a store's sentence once per session as a toast (it would otherwise repeat on every rerun)."""
    told = st.session_state.setdefault(state.WS_STORE_TOLD, set())
    if str(err) not in told:
        told.add(str(err))
        st.toast(str(err), icon=":material/cloud_off:")


def with_store(call: Callable[[WorkspaceStore, str], T], default: T) -> T:
    """``call(store(), workspace_id())``; on a StoreError its sentence is told once and ``default`` returned."""
    try:
        return call(store(), workspace_id())
    except StoreError as err:
        tell_once(err)
        return default
