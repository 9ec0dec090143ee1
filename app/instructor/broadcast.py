"""The console's broadcasts: a banner on every student's page, and a link "shown to the class".

A pushed link is a path of this app with its query (``/kernel_lab?preset=Sobel+x``), picked from
the pages or pasted from the instructor's own address bar (a whole address is cut to its path and
query). Students see it with an Open button that opens it in a new tab of their own, so the page
they are on, and their work, stay as they are.
"""

from __future__ import annotations

from functools import partial
from urllib.parse import urlsplit

import streamlit as st

from app import layout, state
from app.instructor.actions import act
from app.instructor.announce import AFTER_S, restart_text
from app.workspace import StoreError, identity
from app.workspace.classroom import Classroom

NOT_A_PAGE = (
    "That address is not a ConvLab page. Paste an address from this app (such as "
    "/kernel_lab?preset=Sobel+x) or leave it empty and pick a page."
)


def link_path(typed: str, page_title: str) -> str:
    """The path and query to push: the typed address cut to them, else the picked page's path.

    Raises ValueError with a sentence when the typed address names no page of the app.
    """
    typed = typed.strip()
    if not typed:
        return "/" + layout.url_path(page_title)
    parts = urlsplit(typed if "://" in typed or typed.startswith("/") else "/" + typed)
    name = parts.path.strip("/")
    if name not in {layout.url_path(title) for title in layout.ALL_PAGES} or any(c in typed for c in "<>\"' \n"):
        raise ValueError(NOT_A_PAGE)
    return f"/{name}" + (f"?{parts.query}" if parts.query else "")


def banner_form() -> None:
    room = identity.classroom()
    current = room.banner()
    if current is not None:
        st.info(f"Shown now: {current.text}", icon=":material/campaign:")
        st.button("Take the banner down", key=state.IC_BANNER_CLEAR, on_click=act, args=(room.clear_banner,))
    with st.form(state.IC_BANNER_FORM, clear_on_submit=True):
        text = st.text_area("Banner text", key=state.IC_BANNER_TEXT, max_chars=300, height=80)
        minutes = st.number_input("Show it for (minutes)", 1, 240, 10, key=state.IC_BANNER_MINUTES)
        sent = st.form_submit_button("Show the banner to the class", type="primary")
    if sent:
        if not text.strip():
            st.error("Type the banner's text first.")
            return
        try:
            room.post_banner(text.strip(), seconds=float(minutes) * 60)
        except ValueError as err:
            st.error(str(err))
            return
        st.session_state[state.IC_NOTE] = "The banner is on every student's page."
        st.rerun()


def _announce_restart(room: Classroom) -> None:
    seconds = float(st.session_state[state.IC_RESTART_SECONDS])  # read now: the box may have changed with the click
    text = restart_text(seconds)
    act(partial(room.post_banner, text, seconds=seconds + AFTER_S), done=f"Announced: {text}")


def restart_form() -> None:
    """One click for the announcement ``scripts/serve_class.sh restart`` also posts."""
    room = identity.classroom()
    # One above the other: side by side in the console's column, the button's label ran out of it at 1024 px.
    st.number_input("Restart in (seconds)", 10, 3600, 60, step=10, key=state.IC_RESTART_SECONDS)
    st.button(
        "Announce a restart",
        key=state.IC_RESTART,
        icon=":material/restart_alt:",
        on_click=_announce_restart,
        args=(room,),
    )
    st.caption(
        "Then restart the server yourself, or let `scripts/serve_class.sh restart` post this, wait and restart it."
    )


def link_form() -> None:
    room = identity.classroom()
    current = room.pushed_link()
    if current is not None:
        st.info(f"Shown now: {current.label} ({current.url})", icon=":material/link:")
        st.button("Take the link down", key=state.IC_LINK_CLEAR, on_click=act, args=(room.clear_link,))
    with st.form(state.IC_LINK_FORM):
        page = st.selectbox("Page", layout.ALL_PAGES, key=state.IC_LINK_PAGE)
        typed = st.text_input(
            "Or paste the address of your view",
            key=state.IC_LINK_URL,
            placeholder="/kernel_lab?…",  # a longer example was cut at 1024 presenting; the help has it whole
            help="Copy it from your browser's address bar; every page keeps its settings there, for example "
            "`/kernel_lab?preset=Sobel+x`.",
        )
        label = st.text_input("What it shows (students read this)", key=state.IC_LINK_LABEL, max_chars=120)
        sent = st.form_submit_button("Show this to the class", type="primary")
    if sent:
        try:
            path = link_path(typed, page)
            room.push_link(path, label.strip() or page)
        except ValueError as err:
            st.error(str(err))
            return
        st.session_state[state.IC_NOTE] = f"Every student now sees a link to {path}."
        st.rerun()


def broadcasts() -> None:
    """Both forms, side by side."""
    left, right = st.columns(2)
    try:
        with left:
            st.markdown("##### Banner")
            banner_form()
            restart_form()
        with right:
            st.markdown("##### Show this to the class")
            link_form()
    except StoreError as err:
        st.error(f"The class database cannot be written just now: {err}")
