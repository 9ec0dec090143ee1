"""The "Your workspace" panel in every page's sidebar: a nickname, what is stored, and "Forget me".

The nickname is optional, kept in the workspace (item ``prefs/nickname``) and shown to the
instructor instead of the anonymous "Student N". "Forget me" asks once more, then stops this
workspace's training, deletes everything it holds on the server (:meth:`WorkspaceStore.forget`)
and clears the session's state.
"""

from __future__ import annotations

import streamlit as st

from app import state
from app.workspace import StoreError, WorkspaceSummary, identity

NICKNAME_MAX = 30
FORGOTTEN = "Your workspace was deleted: nothing of yours is kept on the server any more."


def stored_text(summary: WorkspaceSummary) -> str:
    """One sentence of what the server keeps for this workspace."""
    items = sum(summary.items.values())
    used_mb, quota_mb = summary.bytes_used / 1e6, summary.quota_bytes / 1e6
    return (
        f"Kept on the server for you: {summary.runs} training {'run' if summary.runs == 1 else 'runs'}, "
        f"{summary.models} {'model' if summary.models == 1 else 'models'}, {items} saved "
        f"{'item' if items == 1 else 'items'} (kernels, networks, progress); {used_mb:.1f} of {quota_mb:.0f} MB."
    )


def _save_nickname(workspace: str) -> None:
    name = (st.session_state.get(state.CL_NICKNAME) or "").strip()[:NICKNAME_MAX]
    try:
        identity.store().put_item(workspace, "prefs", "nickname", name)
    except StoreError as err:
        st.session_state[state.CL_NOTE] = f"The nickname is used in this tab only: {err}"


def _forget(workspace: str) -> None:
    from app.training import registry

    registry().stop_owner(workspace, "workspace forgotten")
    job = st.session_state.get(state.TR_JOB)
    if job is not None and job.active:
        registry().stop(job, "workspace forgotten")
    try:
        identity.store().forget(workspace)
        note = FORGOTTEN
    except StoreError as err:
        note = f"Not everything could be deleted: {err}"
    st.session_state.clear()
    st.session_state[state.CL_NOTE] = note


def workspace_panel(workspace: str) -> None:
    """The expander; call it inside ``st.sidebar``."""
    note = st.session_state.pop(state.CL_NOTE, None)
    store = identity.store()
    if state.CL_NICKNAME not in st.session_state:
        try:
            st.session_state[state.CL_NICKNAME] = store.get_item(workspace, "prefs", "nickname") or ""
        except StoreError:
            st.session_state[state.CL_NICKNAME] = ""
    with st.expander("Your workspace", icon=":material/person:", expanded=note is not None):
        if note:
            st.info(note)
        st.text_input(
            "Nickname (optional, shown to the instructor)",
            key=state.CL_NICKNAME,
            max_chars=NICKNAME_MAX,
            on_change=_save_nickname,
            args=(workspace,),
        )
        try:
            st.caption(stored_text(store.summary(workspace)))
        except StoreError as err:
            st.caption(f"What is stored cannot be read just now: {err}")
        if not st.session_state.get(state.CL_FORGET_SURE):
            if st.button("Forget me", key=state.CL_FORGET, icon=":material/delete_forever:"):
                st.session_state[state.CL_FORGET_SURE] = True
                st.rerun()
            return
        st.warning("This deletes your trained models, runs, kernels and networks from the server for good.")
        yes, no = st.columns(2)
        yes.button("Yes, delete it all", key=state.CL_FORGET_YES, type="primary", on_click=_forget, args=(workspace,))
        if no.button("Keep it", key=state.CL_FORGET_NO):
            st.session_state[state.CL_FORGET_SURE] = False
            st.rerun()
