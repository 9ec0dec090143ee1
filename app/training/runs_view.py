"""The Training page's view of the workspace's runs: "Your runs" (load or delete an earlier one) and,
when the latest run was cut off by a server restart, the sentence and the button that resume it."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from app import state
from app.training.keep import decode_events
from app.training.restore import load_record, model_config_of, record_data, train_config_of
from app.training.run import owner_id, registry, start_run, workspace_store
from app.workspace import RunRecord, StoreError
from cnn_core import training

STATUS_WORDS = {
    "queued": "waiting",
    "running": "training",
    "finished": "finished",
    "stopped": "stopped",
    "failed": "failed",
    "interrupted": "interrupted",
}


def my_runs() -> list[RunRecord]:
    """The workspace's runs, newest first; [] (with the sentence kept for the page) when unreadable."""
    store = workspace_store()
    if store is None:
        return []
    try:
        return store.runs(owner_id())
    except StoreError as err:
        st.session_state[state.TR_NOTE] = f"{err} Your earlier runs cannot be listed just now."
        return []


def accuracy(record: RunRecord) -> str:
    acc = record.summary.get("test_acc", record.summary.get("val_acc"))
    return f"{acc:.1%}" if isinstance(acc, int | float) else "–"


def row_name(record: RunRecord) -> str:
    """The picker's name for a run: its table row's first three cells (the whole title did not fit)."""
    return f"{when(record)} · {STATUS_WORDS.get(record.status, record.status)} · {accuracy(record)}"


def when(record: RunRecord) -> str:
    return dt.datetime.fromtimestamp(record.created).strftime("%d %b %H:%M")


def total_steps(record: RunRecord) -> int | None:
    started = next((e for e in decode_events(record.curve) if isinstance(e, training.RunStarted)), None)
    return None if started is None else started.total_steps


def interrupted_panel(runs: list[RunRecord], busy: bool) -> None:
    """The latest run was interrupted (a restart, a training process that died): say so, and offer to resume."""
    latest = runs[0] if runs else None
    if latest is None or latest.status != "interrupted":
        return
    total = total_steps(latest)
    of = f" of {total:,}" if total else ""
    step = latest.checkpoint_step
    if step is None:
        last = max((getattr(e, "step", 0) for e in decode_events(latest.curve)), default=0)
        st.warning(
            f"Your run was interrupted at step {last:,}{of}, before its first checkpoint (the server restarted "
            "or its training process stopped): start it again below.",
            icon=":material/restart_alt:",
        )
        return
    st.warning(
        f"Your run was interrupted at step {step:,}{of}: the server restarted or its training process stopped. "
        "It was kept at that step.",
        icon=":material/restart_alt:",
    )
    if st.button(f"Resume from step {step:,}", key=state.TR_RESUME, disabled=busy, icon=":material/resume:"):
        try:
            start_run(
                model_config_of(latest),
                record_data(latest),
                train_config_of(latest),
                label=str(latest.settings.get("label") or latest.title),
                resume=latest,
            )
        except (StoreError, ValueError, RuntimeError) as err:
            st.error(f"The run cannot resume: {err}")
        else:
            st.rerun()


def runs_panel(runs: list[RunRecord], busy: bool) -> None:
    """Earlier runs: a table, and Load / Delete for the one picked."""
    if not runs:
        return
    with st.expander(f"Your runs ({len(runs)} kept in your workspace)"):
        table = pd.DataFrame(  # the long title last: it wraps in its cell, the when/status/accuracy stay on one line
            {
                "when": [when(r) for r in runs],
                "status": [STATUS_WORDS.get(r.status, r.status) for r in runs],
                "accuracy": [accuracy(r) for r in runs],
                "run": [r.title for r in runs],
            }
        )
        st.table(table, hide_index=True, border="horizontal")  # an HTML table: a long title wraps, never scrolls sideways
        by_id = {r.run_id: r for r in runs}
        pick = st.selectbox(
            "Run", list(by_id), key=state.TR_RUN_PICK, format_func=lambda i: row_name(by_id[i])
        )
        record = by_id[pick]
        c1 = c2 = st.container(horizontal=True, gap="small")
        if c1.button("Load this run", key=state.TR_RUN_LOAD, disabled=busy or not record.has_model):
            store = workspace_store()
            if store is not None and load_record(store, record):
                st.success(f"Loaded “{record.title}”. It is now this session's model.")
        if c2.button("Delete this run", key=state.TR_RUN_DELETE, disabled=registry().find_run(pick) is not None
                     and registry().find_run(pick).active):  # fmt: skip
            delete(record)


def delete(record: RunRecord) -> None:
    store = workspace_store()
    if store is None:
        return
    try:
        store.delete_run(record.workspace, record.run_id)
    except StoreError as err:
        st.error(str(err))
        return
    bundle = st.session_state.get(state.TR_BUNDLE)
    if bundle is not None and bundle.run_id == record.run_id:
        bundle.run_id = None  # still this session's model, but no longer kept
    st.session_state.pop(state.TR_RUN_PICK, None)
    st.rerun()
