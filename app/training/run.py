"""Running a training from the page: the server's job registry, this session's id and heartbeat,
and starting a run whose training process fills the session's :class:`~app.trained.TrainedBundle`.

A session is identified by a random id kept in its own session state (:func:`session_id`). It
shows it is still open by stamping its job (:meth:`app.jobs.Job.mark_seen`) whenever a page draws
the run: the Training page's live panel every 2 s, the sidebar's status on every page every 5 s.
The registry's watchdog stops a run unseen for :data:`SESSION_GRACE_S` (its tab was closed).
"""

from __future__ import annotations

import dataclasses
import os
import threading
import uuid
from collections.abc import Iterator

import streamlit as st
import torch

from app import jobs, state
from app.jobs.messages import SnapshotEvery
from app.trained import TrainedBundle
from cnn_core import data as datasets
from cnn_core import models, training

# A tab proves it is open with a heartbeat from its fragments' run_every timers. Chrome runs the timers
# of a tab hidden for over 5 minutes only once a minute, so the default grace outlasts that: a closed
# tab's run stops about 75 s later, a hidden tab's run goes on. Tests set a shorter grace.
SESSION_GRACE_S = float(os.environ.get("CONVLAB_SESSION_GRACE_S", "75"))


@st.cache_resource(show_spinner=False)
def registry() -> jobs.JobRegistry:
    """One registry per server: ``CONVLAB_TRAINING_SLOTS`` runs at once (default: cores // 2).

    Each run trains in its own child process (:mod:`app.jobs.relay`) with ``cores // slots``
    torch threads, at a lower CPU priority (``CONVLAB_TRAINING_NICE``, default 19, the lowest):
    the server's own interpreter stays free for page reruns, a class's clicks are served first,
    and training takes the CPU they leave.
    """
    cores = os.cpu_count() or 1
    slots = int(os.environ.get("CONVLAB_TRAINING_SLOTS", max(1, cores // 2)))
    threads = int(os.environ.get("CONVLAB_TORCH_THREADS", max(1, cores // slots)))
    nice = int(os.environ.get("CONVLAB_TRAINING_NICE", "19"))
    torch.set_num_threads(threads)
    # Runs train in child processes forked from a server that imports torch once: start it now.
    threading.Thread(target=jobs.warm_up, name="convlab-forkserver", daemon=True).start()
    return jobs.JobRegistry(slots=slots, threads_per_run=threads, grace=SESSION_GRACE_S, nice=nice)


def session_id() -> str:
    """This browser session's owner id in the registry (made once per session)."""
    if state.TR_SESSION_ID not in st.session_state:
        st.session_state[state.TR_SESSION_ID] = uuid.uuid4().hex
    return st.session_state[state.TR_SESSION_ID]


def start_run(
    model_cfg: models.ModelConfig,
    data: datasets.ImageSet,
    cfg: training.TrainConfig,
    *,
    label: str | None = None,
    snapshots: SnapshotEvery = "epoch",
) -> jobs.Job:
    """Build a fresh model, make it this session's bundle, and queue its training run.

    ``snapshots`` is ``"epoch"`` (one per epoch) or ``"eval"`` (one per evaluation, for short runs).
    The job and the bundle share one event history. Raises RuntimeError when this session
    already has a run going.
    """
    cfg = dataclasses.replace(cfg, threads=registry().threads_per_run)
    torch.manual_seed(cfg.seed)
    model = models.build(model_cfg)
    previous = st.session_state.get(state.TR_BUNDLE)
    bundle = TrainedBundle(
        model=model, model_config=model_cfg, data=data, train_config=cfg, previous=previous, weights_step=0
    )
    nice = registry().nice

    def run(stop: threading.Event) -> Iterator[training.Event]:
        messages = jobs.train_in_child(model, model_cfg, data, cfg, stop, nice=nice, snapshots=snapshots)
        yield from mirror(bundle, messages)

    label = label or f"{model_cfg.name} on {data.name}"
    job = registry().submit(session_id(), label, run, history=bundle.events)
    st.session_state[state.TR_BUNDLE] = bundle
    st.session_state[state.TR_JOB] = job
    return job


def mirror(bundle: TrainedBundle, messages: Iterator[jobs.Message]) -> Iterator[training.Event]:
    """Keep ``bundle``'s model and snapshots up with a run's messages; yield its training events.

    The events are not stored here: whoever iterates records them (a job's worker thread appends
    them to the history it shares with the bundle). ``bundle.finished`` is set at the end.
    """
    for message in messages:
        match message:
            case jobs.Weights():
                bundle.set_weights(message)
            case jobs.SnapshotTaken(snapshot=snapshot):
                bundle.add_snapshot(snapshot)
            case _:
                yield message
    bundle.finished = True


def follow(bundle: TrainedBundle, messages: Iterator[jobs.Message]) -> Iterator[training.Event]:
    """:func:`mirror` for a run with no job (trained in this thread): the events go to ``bundle.events``."""
    for event in mirror(bundle, messages):
        bundle.events.append(event)
        yield event


def keep_earlier_model_after_blow_up(finished: training.RunFinished) -> bool:
    """A run that diverged hands the session's model back to the one trained before it, if any."""
    bundle = st.session_state.get(state.TR_BUNDLE)
    if finished.reason != "diverged" or bundle is None or bundle.previous is None:
        return False
    if not any(e is finished for e in bundle.events):  # already handed back on an earlier rerun
        return False
    st.session_state[state.TR_BUNDLE] = bundle.previous
    return True
