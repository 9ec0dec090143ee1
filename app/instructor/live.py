"""The console's live view of the class: who is connected, who trains or waits, the server's load.

Drawn in a fragment that refreshes every :data:`REFRESH_S` seconds. Connected sessions come from
the classroom's presence beats (every server process writes them); the runs listed with a Cancel
button are this process's jobs and, from the shared store, those of every other live process (on
PostgreSQL, on every machine). With trainings on Ray the Training and Waiting counts are the class's. Cancelling asks through the classroom (so the process that runs
the job stops it, whichever it is) and stops the job here at once when it lives in this process.
"""

from __future__ import annotations

import time

import pandas as pd
import streamlit as st

from app import state
from app.instructor import actions, progress, server_load
from app.instructor.actions import act
from app.instructor.in_class import presence_id
from app.jobs import Job, JobRegistry
from app.workspace import StoreError, identity
from app.workspace.classroom import Classroom, Presence

REFRESH_S = 3.0
CANCEL_MESSAGE = "The instructor stopped this run."

METRIC_PX = 170  # one metric's width in the class-now row
PRESENT_S = 30.0  # a session counts as connected while its page beat within this many seconds


def sessions_frame(people: list[Presence], now: float) -> pd.DataFrame:
    """One row per open page: who, where, training, last seen."""
    rows = [
        {
            "student": p.label,
            "page": p.page,
            "training": p.training or "",
            "seen": f"{max(now - p.last_seen, 0):.0f} s ago",
        }
        for p in sorted(people, key=lambda p: p.label)
    ]
    return pd.DataFrame(rows, columns=["student", "page", "training", "seen"])


def cancel(job: Job, registry: JobRegistry, room: Classroom) -> None:
    """Stop a run: ask every process through the classroom, and stop it here (it is this process's job)."""
    if job.run_id:
        room.request_cancel(job.run_id)
    registry.stop(job, "instructor", CANCEL_MESSAGE)


def cancel_elsewhere(run_id: str, room: Classroom) -> None:
    """Stop a run another server process trains: that process's watchdog obeys the request."""
    room.request_cancel(run_id)


def _other_processes_runs(here: set[str], room: Classroom, labels: dict[str, str]) -> int:
    """The runs other server processes train, with a Cancel each; returns how many."""
    try:
        records = [r for r in identity.store().active_runs() if r.run_id not in here]
    except StoreError:
        return 0
    for record in records:
        who = labels.get(presence_id(record.workspace), "a student not connected now")
        cols = st.columns([3, 3, 2], vertical_alignment="center")
        cols[0].markdown(f"**{who}**: {record.title}")
        if room.cancel_requested(record.run_id):
            cols[1].caption("cancel asked; the server process training it stops it at its next check")
        else:
            cols[1].caption(f"{record.status} in another server process")
        cols[2].button(
            "Cancel", key=state.IC_CANCEL.format(job=record.run_id), icon=":material/cancel:",
            on_click=act, args=(cancel_elsewhere, record.run_id, room),
            kwargs={"done": f"Asked to cancel {who}'s run ({record.title})."},
        )  # fmt: skip
    return len(records)


def _runs(registry: JobRegistry, room: Classroom, labels: dict[str, str]) -> None:
    jobs = registry.active_jobs()
    elsewhere = _other_processes_runs({job.run_id for job in jobs if job.run_id}, room, labels)
    if not jobs:
        if not elsewhere:
            st.caption("No training runs right now.")
        return
    for job in jobs:
        who = labels.get(presence_id(job.owner), "a student not connected now")
        cols = st.columns([3, 3, 2], vertical_alignment="center")
        cols[0].markdown(f"**{who}**: {job.label}")
        p = job.progress()
        if job.status == "queued":
            cols[1].caption(f"waiting, {progress.wait_text(job, registry)}")
        elif p is None or p.step == 0:
            cols[1].caption("starting")
        else:
            finish = progress.finish_text(job)
            text = f"epoch {p.epoch}/{p.epochs}" + (f", finishes {finish}" if finish else "")
            cols[1].progress(p.fraction, text=text)
        cols[2].button(
            "Cancel", key=state.IC_CANCEL.format(job=job.id), icon=":material/cancel:",
            on_click=act, args=(cancel, job, registry, room), kwargs={"done": f"Cancelled {who}'s run ({job.label})."},
        )  # fmt: skip


def _counts(jobs: JobRegistry) -> tuple[str, int, str]:
    """(training, waiting, help) for the metrics: this process's slots, or the whole class's runs on Ray."""
    if jobs.cluster is None:
        return f"{jobs.running_count} of {jobs.slots}", jobs.queued_count, "Runs training now, of the slots"
    try:
        records = identity.store().active_runs()  # every live app process's runs (the shared store)
    except StoreError:
        records = []
    running = sum(r.status == "running" for r in records)
    queued = sum(r.status == "queued" for r in records)
    return f"{running} of {jobs.cluster.slots()}", queued, "Runs of the whole class on the Ray cluster, of the runs it trains at once"


def class_live() -> None:
    """The live panel (a fragment refreshing every few seconds)."""

    @st.fragment(run_every=REFRESH_S)
    def _live() -> None:
        from app.training import registry  # the server's job registry (st.cache_resource)

        jobs = registry()
        now = time.time()
        try:
            room = identity.classroom()
            people = room.sessions(within_s=PRESENT_S)
        except StoreError as err:
            st.error(f"The class database cannot be read just now: {err}")
            return
        actions.note()
        load = server_load.read_load()
        # A wrapping row of metrics of one fixed width: in five columns a projector ran a help icon over
        # "Connected" and broke the server's load into five lines. Not width="content": the page's CSS makes a
        # metric a size container (app.layout), so a content-wide metric collapses to its icon's width.
        row = st.container(horizontal=True, gap="medium")
        row.metric("Connected", len(people), help=f"Pages open in the last {PRESENT_S:g} s", width=METRIC_PX)
        training, waiting, hint = _counts(jobs)
        row.metric("Training", training, help=hint, width=METRIC_PX)
        row.metric("Waiting", waiting, width=METRIC_PX)
        for label, value in server_load.describe(load)[:2]:
            row.metric(label, value, width=METRIC_PX)
        st.caption(" · ".join(f"{label}: {value}" for label, value in server_load.describe(load)[2:]))
        st.markdown("##### Runs")
        _runs(jobs, room, {p.session: p.label for p in people})
        st.markdown("##### Connected sessions")
        if people:
            st.table(
                sessions_frame(people, now), hide_index=True, border="horizontal"
            )  # plain cells: readable by screen readers
        else:
            st.caption("Nobody is connected yet.")

    _live()
