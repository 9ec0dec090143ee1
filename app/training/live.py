"""The Training page's live panel: the run's progress, curves and ending, the queue's honest wait,
and the server's "N running, M waiting" line, each in a fragment that refreshes on a timer.

The panel draws the session's job while it has one (a reattached run carries on with the same
event history), or else the curves kept with the session's model (a run restored from the workspace).
"""

from __future__ import annotations

import streamlit as st

from app import layout, plots, state
from app.jobs import Job
from app.trained import TrainedBundle
from app.training.run import keep_earlier_model_after_blow_up, registry
from cnn_core import training

COUNTS_EVERY_S = 5.0
LIVE_EVERY_S = 2.0  # cheap for a shared server


def wait_words(seconds: float | None) -> str:
    if seconds is None:
        return "the wait is not known yet (the runs ahead are just starting)"
    if seconds < 60:
        return "it should start in under a minute"
    return f"it should start in about {seconds / 60:.0f} minute{'s' if seconds >= 90 else ''}"


@st.fragment(run_every=COUNTS_EVERY_S)
def counts() -> None:
    """How busy the server is, kept fresh."""
    reg = registry()
    st.caption(f"This server trains {reg.slots} run(s) at a time; {reg.running_count} running, {reg.queued_count} waiting.")


def queued(job: Job) -> None:
    reg = registry()
    position = reg.queue_position(job) or 1
    wait = reg.wait_estimate(job, fallback_s=None)
    st.info(f"Waiting for a free training slot: you are number {position} in the queue; {wait_words(wait)}.")


def curves(events: list[training.Event], active: bool) -> None:
    started = next((e for e in events if isinstance(e, training.RunStarted)), None)
    steps = [e for e in events if isinstance(e, training.StepEvent)]
    evals = [e for e in events if isinstance(e, training.EvalEvent)]
    finished = next((e for e in reversed(events) if isinstance(e, training.RunFinished)), None)
    if active and started is None:
        st.progress(0.0, text="Starting the training process …")
    if started is None:
        return
    done = steps[-1] if steps else None
    frac = (done.step / started.total_steps) if done else 0.0
    text = "Starting…"
    if done:
        text = (
            f"Epoch {done.epoch}/{started.epochs} · step {done.step:,}/{started.total_steps:,} · "
            f"{done.elapsed_s:.0f} s elapsed · about {done.eta_s:.0f} s left · {done.samples_per_s:,.0f} images/s"
        )
    if finished is not None:
        frac = finished.step / started.total_steps
        text = (
            f"Ended after step {finished.step:,} of {started.total_steps:,} (epoch {finished.epoch_fraction:.2f}) "
            f"· {finished.train_s:.0f} s of training"
        )
    elif not active and done is not None:
        text = f"Kept at step {done.step:,} of {started.total_steps:,} (epoch {done.epoch}/{started.epochs})"
    st.progress(min(frac, 1.0), text=text)
    st.caption(f"{'Running' if active else 'Ran'} on {started.device} ({started.precision}, {started.threads} CPU threads).")
    layout.chart(plots.training_curves(steps, evals, total_epochs=started.epochs), key="tr_curves")


def ending(job: Job | None, events: list[training.Event]) -> None:
    finished = next((e for e in reversed(events) if isinstance(e, training.RunFinished)), None)
    if job is not None and job.stop_message and not job.active:
        st.warning(job.stop_message, icon=":material/timer_off:")
    elif finished is not None:
        message = {"completed": st.success, "stopped": st.info, "time_limit": st.info}.get(finished.reason, st.error)
        message(finished.message)
        if job is not None and keep_earlier_model_after_blow_up(finished):
            st.info("Your model from before this run is kept: it is still the one 'Inside the model' shows.")
    if job is not None and job.error:
        st.error(job.error)


def start_hint(n_train: int, cfg: training.TrainConfig) -> str:
    """What pressing Start will do, from the settings on the page (no promise of a speed or an accuracy)."""
    times = "once" if cfg.epochs == 1 else f"{cfg.epochs} times"
    return (
        f"Press **Start training**: the network sees the {n_train:,} training images {times} ({cfg.epochs} "
        f"epoch{'s' if cfg.epochs != 1 else ''}), {cfg.batch_size} at a time. The loss and accuracy curves appear "
        "here as it learns; **Stop** ends it early and keeps what it has learnt."
    )


def panel(active: bool, hint: str) -> None:
    """The live panel; refreshes every 2 s while a run is queued or training. ``hint``: before any run."""

    @st.fragment(run_every=LIVE_EVERY_S if active else None)
    def live() -> None:
        job: Job | None = st.session_state.get(state.TR_JOB)
        bundle: TrainedBundle | None = st.session_state.get(state.TR_BUNDLE)
        if job is None and (bundle is None or not len(bundle.events)):
            st.info(hint)
            return
        if job is not None:
            job.mark_seen()  # the heartbeat: this tab is open (app.jobs stops runs whose every tab has closed)
            registry().beat(job.owner)
        events = job.events() if job is not None else bundle.events.snapshot()
        if job is not None and job.status == "queued":
            queued(job)
        curves(events, job is not None and job.active)
        ending(job, events)
        if bundle is not None and bundle.notice:
            st.warning(bundle.notice, icon=":material/cloud_off:")
        now_active = job is not None and job.active
        if st.session_state.get(state.TR_WAS_ACTIVE) and not now_active:
            st.session_state[state.TR_WAS_ACTIVE] = False
            st.rerun()  # the run ended: redraw the whole page (buttons, downloads) once
        st.session_state[state.TR_WAS_ACTIVE] = now_active

    live()
