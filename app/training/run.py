"""Running a training from the page: the server's job registry, this student's workspace and
heartbeat, and starting (or resuming) a run whose training process fills the session's
:class:`~app.trained.TrainedBundle` and is kept in the workspace as it goes (:mod:`app.training.keep`).

A run belongs to the student's workspace (:func:`owner_id`, the browser's anonymous workspace id),
so a reload or a second tab finds it. A tab shows it is still open by stamping the job
(:meth:`app.jobs.Job.mark_seen`) whenever a page draws the run: the Training page's live panel every
2 s, the sidebar's status on every page every 5 s. The registry's watchdog stops a run unseen for
:data:`SESSION_GRACE_S` (every tab was closed), and applies the instructor's limits and cancels.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import streamlit as st
import torch

from app import jobs, state
from app.jobs.messages import SnapshotEvery
from app.jobs.registry import StopRule
from app.trained import TrainedBundle
from app.training.data import source_of
from app.training.keep import Recorder, decode_events
from app.workspace import ClassSettings, RunRecord, StoreError, WorkspaceStore, identity
from cnn_core import data as datasets
from cnn_core import models, training

logger = logging.getLogger(__name__)
STOPPED_BY_INSTRUCTOR = "Stopped by the instructor."

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
    cluster = None
    if os.environ.get("CONVLAB_RAY_ADDRESS", "").strip():  # runs go to a Ray cluster (app.jobs.ray_runner)
        from app.jobs.ray_runner import RayCluster

        cluster = RayCluster(identity.store, cpus_per_run=threads)
    else:  # runs train in child processes forked from a server that imports torch once: start it now
        threading.Thread(target=jobs.warm_up, name="convlab-forkserver", daemon=True).start()
    mark_interrupted()
    rule = classroom_rule()
    return jobs.JobRegistry(
        slots=slots, threads_per_run=threads, grace=SESSION_GRACE_S, nice=nice, stop_rule=rule, cluster=cluster
    )


def mark_interrupted() -> int:
    """Runs a server that went away left queued or running are marked "interrupted" (once per process)."""
    try:
        store = identity.store()
        left = store.interrupted_runs()
        for record in left:
            store.save_run(dataclasses.replace(record, status="interrupted", updated=time.time()))
    except StoreError as err:
        logger.warning("could not mark interrupted runs: %s", err)
        return 0
    return len(left)


def class_settings() -> ClassSettings:
    """What the instructor allows now (the defaults where the classroom cannot be read)."""
    try:
        return identity.classroom().settings()
    except StoreError:
        return ClassSettings()


def time_limit_sentence(minutes: float) -> str:
    return f"Stopped: the instructor's limit is {minutes:g} minutes per run."


def classroom_rule() -> StopRule | None:
    """The instructor's limits as the registry's stop rule: cancels, and minutes per run."""
    try:
        room = identity.classroom()
    except StoreError as err:
        logger.warning("no classroom settings, runs have no instructor limits: %s", err)
        return None

    def rule(job: jobs.Job) -> tuple[str, str] | None:
        if job.run_id is not None and room.cancel_requested(job.run_id):
            return "instructor", STOPPED_BY_INSTRUCTOR
        limit = room.settings().max_minutes
        if job.started_at is not None and time.time() - job.started_at > limit * 60:
            return "time limit", time_limit_sentence(limit)
        return None

    return rule


def owner_id() -> str:
    """This student's workspace id: the registry's owner (every tab of the browser shares it).

    Where the workspace id cannot be had, a random id kept in this session stands in.
    """
    try:
        return identity.workspace_id()
    except StoreError:
        if state.TR_SESSION_ID not in st.session_state:
            st.session_state[state.TR_SESSION_ID] = uuid.uuid4().hex
        return st.session_state[state.TR_SESSION_ID]


session_id = owner_id  # the name callers used before runs belonged to workspaces


def workspace_store() -> WorkspaceStore | None:
    """The server's workspace store, or None (with the sentence kept for the page) when it cannot be opened."""
    try:
        return identity.store()
    except StoreError as err:
        st.session_state[state.TR_NOTE] = f"{err} Your runs are kept in this session only."
        return None


def run_settings(
    model_cfg: models.ModelConfig, data: datasets.ImageSet, cfg: training.TrainConfig, label: str, snapshots: str
) -> dict[str, Any]:
    """What a RunRecord keeps to rebuild the run: its dataset, network and training settings."""
    kind, name = source_of(data)
    return {
        "dataset": {"kind": kind, "name": name, "title": data.name},
        "model": models.to_dict(model_cfg),
        "train": dataclasses.asdict(cfg),
        "label": label,
        "snapshots": snapshots,
    }


def run_title(model_cfg: models.ModelConfig, data: datasets.ImageSet, cfg: training.TrainConfig) -> str:
    return f"{model_cfg.name} on {data.name}, {cfg.epochs} epoch{'s' if cfg.epochs != 1 else ''}"


def start_run(
    model_cfg: models.ModelConfig,
    data: datasets.ImageSet,
    cfg: training.TrainConfig,
    *,
    label: str | None = None,
    snapshots: SnapshotEvery = "epoch",
    resume: RunRecord | None = None,
    initial_state: dict[str, torch.Tensor] | None = None,
) -> jobs.Job:
    """Build a fresh model, make it this session's bundle, and queue its training run.

    ``snapshots`` is ``"epoch"`` (one per epoch) or ``"eval"`` (one per evaluation, for short runs).
    The job and the bundle share one event history. The run is kept in the workspace as it goes;
    ``resume`` continues an interrupted run from its checkpoint (same record, its curve so far).
    Raises RuntimeError when this workspace already has a run going, StoreError (a sentence) when
    the checkpoint to resume from cannot be read. ``initial_state`` gives the starting weights (a
    pretrained backbone with a new head, for fine-tuning) instead of random ones.
    """
    cfg = dataclasses.replace(cfg, threads=registry().threads_per_run)
    torch.manual_seed(cfg.seed)
    model = models.build(model_cfg)
    if initial_state is not None:
        model.load_state_dict(initial_state)
    owner, store = owner_id(), workspace_store()
    label = label or f"{model_cfg.name} on {data.name}"
    resume_state, prior = None, []
    if resume is not None:
        if store is None:
            raise StoreError("The workspace cannot be opened, so the run cannot resume.")
        resume_state = store.load_checkpoint(owner, resume.run_id)
        with_weights = resume_state.get("model") if isinstance(resume_state, dict) else None
        if isinstance(with_weights, dict):
            model.load_state_dict(with_weights)
        step = resume.checkpoint_step or 0
        prior = [
            e
            for e in decode_events(resume.curve)
            if getattr(e, "step", 0) <= step and not isinstance(e, training.RunFinished)  # RunStarted has no step
        ]
    previous = st.session_state.get(state.TR_BUNDLE)
    bundle = TrainedBundle(
        model=model, model_config=model_cfg, data=data, train_config=cfg, previous=previous, weights_step=0
    )
    for event in prior:
        bundle.events.append(event)
    recorder = _recorder(store, owner, bundle, resume, run_settings(model_cfg, data, cfg, label, snapshots), prior)
    nice = registry().nice
    extra = {} if resume_state is None else {"resume_state": resume_state}
    box: list[jobs.Job] = []

    reg = registry()
    if reg.cluster is not None:  # on Ray: the run leaves the queue when its actor is placed
        extra["on_start"] = lambda: reg.started(box[0])
    train = jobs.train_in_child if reg.cluster is None else reg.cluster.train

    def run(stop: threading.Event) -> Iterator[training.Event]:
        stream = train(model, model_cfg, data, cfg, stop, nice=nice, snapshots=snapshots, **extra)
        if recorder is None:
            yield from mirror(bundle, stream)
            return
        recorder.job_info = lambda: (box[0].stop_reason, box[0].stop_message) if box else (None, None)
        try:
            yield from mirror(bundle, recorder.follow(stream))
        except Exception as err:
            recorder.finish(error=str(err))
            raise
        recorder.finish()

    job = registry().submit(owner, label, run, history=bundle.events, run_id=bundle.run_id, context=bundle)
    box.append(job)
    st.session_state[state.TR_BUNDLE] = bundle
    st.session_state[state.TR_JOB] = job
    return job


def _recorder(
    store: WorkspaceStore | None,
    owner: str,
    bundle: TrainedBundle,
    resume: RunRecord | None,
    settings: dict[str, Any],
    prior: list[training.Event],
) -> Recorder | None:
    """The run's record in the workspace (saved as queued now), or None when the workspace cannot keep it."""
    if store is None:
        bundle.notice = st.session_state.get(state.TR_NOTE)
        return None
    if resume is None:
        now = time.time()
        try:
            run_id = store.new_run_id()
        except StoreError as err:
            bundle.notice = f"{err} This run is kept in this session only."
            return None
        title = run_title(bundle.model_config, bundle.data, bundle.train_config)
        resume = RunRecord(run_id, owner, title, "queued", now, now, settings=settings)
    bundle.run_id = resume.run_id
    recorder = Recorder(store, resume, bundle, prior=prior)
    recorder.save(status="queued")
    return recorder


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
