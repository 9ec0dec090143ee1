"""Running a ready-made experiment: its arms one after another, as one job of the server's registry.

A workspace may have one training job at a time (:meth:`app.jobs.JobRegistry.submit`), so an
experiment is one job whose run function trains its arms in turn, each in its own training
process (:func:`app.jobs.train_in_child`), so the queue, Stop, the instructor's limits and the
closed-tab watchdog apply to it as to any run. Each arm is kept in the workspace as a run of its
own (a :class:`~app.training.keep.Recorder`: settings, curve, model), so it shows in "Your runs"
and can be loaded; the experiment's results are kept as the workspace item ``experiment`` (key:
the experiment's key), so the comparison is still there after a reload or a restart. The job's
``context`` is the :class:`ExperimentRun` the page draws; the worker never calls ``st.*``.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import streamlit as st

from app import jobs, state
from app.trained import TrainedBundle
from app.training.keep import Recorder, decode_events
from app.training.run import mirror, owner_id, registry, run_settings, workspace_store
from app.workspace import RunRecord, StoreError, WorkspaceStore, identity
from cnn_core import data as datasets
from cnn_core import training
from cnn_core.training import experiments as X

logger = logging.getLogger(__name__)

ITEM = "experiment"  # the workspace item kind of an experiment's kept results
STATUS_WORDS = {"waiting": "waiting", "training": "training", "done": "finished", "stopped": "stopped",
                "failed": "failed", "not run": "not run", "diverged": "blew up"}  # fmt: skip


@st.cache_resource(show_spinner=False)
def experiment_data(key: str) -> datasets.ImageSet:
    """The images of one experiment, loaded once per server (read-only)."""
    return X.EXPERIMENTS[key].data()


@dataclass(eq=False)
class ArmRun:
    """One arm of a running (or finished) experiment."""

    arm: X.Arm
    events: jobs.EventHistory = field(default_factory=jobs.EventHistory)
    status: str = "waiting"  # see STATUS_WORDS
    run_id: str | None = None  # its RunRecord in the workspace, None when it is not kept
    result: X.ArmResult | None = None


@dataclass(eq=False)
class ExperimentRun:
    """An experiment's arms and how far they are: the job's context, what the page draws."""

    experiment: X.Experiment
    arms: list[ArmRun]
    started: float = field(default_factory=time.time)
    current: int | None = None  # index of the arm training now
    note: str | None = None  # a sentence about keeping it (the workspace could not save it)

    def results(self) -> list[X.ArmResult]:
        return [a.result or X.arm_result(a.arm.name, [], None) for a in self.arms]

    @property
    def finished(self) -> bool:
        return all(a.status not in ("waiting", "training") for a in self.arms)


def to_item(run: ExperimentRun) -> dict[str, Any]:
    """What the workspace keeps of a finished experiment."""
    return {
        "key": run.experiment.key,
        "started": run.started,
        "arms": [
            {"name": a.arm.name, "status": a.status, "run_id": a.run_id,
             "result": None if a.result is None else dataclasses.asdict(a.result)}
            for a in run.arms
        ],
    }  # fmt: skip


def from_item(value: Any) -> ExperimentRun | None:
    """A kept experiment again (its curves come from the arms' kept runs); None when it cannot be read."""
    try:
        exp = X.EXPERIMENTS[value["key"]]
        arms = []
        for kept in value["arms"]:
            arm = exp.arm(kept["name"])
            result = None if kept.get("result") is None else X.ArmResult(**kept["result"])
            arms.append(ArmRun(arm, status=str(kept["status"]), run_id=kept.get("run_id"), result=result))
    except (KeyError, TypeError, ValueError):
        return None
    return ExperimentRun(exp, arms, started=float(value.get("started", 0.0)))


def start_experiment(experiment: X.Experiment, data: datasets.ImageSet | None = None) -> jobs.Job:
    """Queue the experiment's arms as one job of this workspace; raises RuntimeError when it already has a run."""
    data = experiment_data(experiment.key) if data is None else data
    owner, store = owner_id(), workspace_store()
    run = ExperimentRun(experiment, [ArmRun(arm) for arm in experiment.arms])
    reg = registry()
    threads, nice = reg.threads_per_run, reg.nice
    box: list[jobs.Job] = []

    def job_info() -> tuple[str | None, str | None]:
        return (box[0].stop_reason, box[0].stop_message) if box else (None, None)

    def go(stop: threading.Event) -> Iterator[training.Event]:
        try:
            for i, arm_run in enumerate(run.arms):
                if stop.is_set():
                    arm_run.status = "not run"
                    continue
                run.current = i
                arm_run.status = "training"
                yield from _train_arm(run, arm_run, data, stop, store, owner, threads, nice, job_info)
        finally:
            run.current = None
            for arm_run in run.arms:
                if arm_run.status in ("waiting", "training"):
                    arm_run.status = "not run" if arm_run.status == "waiting" else "failed"
            _keep(store, owner, run)

    job = reg.submit(owner, f"Experiment: {experiment.title}", go, context=run)
    box.append(job)
    st.session_state[state.EX_RUN] = run
    return job


def _train_arm(
    run: ExperimentRun,
    arm_run: ArmRun,
    data: datasets.ImageSet,
    stop: threading.Event,
    store: WorkspaceStore | None,
    owner: str,
    threads: int,
    nice: int,
    job_info: Any,
) -> Iterator[training.Event]:
    arm = arm_run.arm
    cfg = dataclasses.replace(arm.train, threads=threads)
    model = X.build_arm_model(arm)
    bundle = TrainedBundle(model=model, model_config=arm.model, data=data, train_config=cfg, weights_step=0)
    recorder = _recorder(store, owner, run, arm_run, bundle, cfg)
    stream = jobs.train_in_child(model, arm.model, data, cfg, stop, nice=nice, snapshots="epoch",
                                 checkpoint_every_s=None)  # fmt: skip
    if recorder is not None:
        recorder.job_info = job_info
        stream = recorder.follow(stream)
    try:
        for event in mirror(bundle, stream):
            arm_run.events.append(event)
            yield event
    except Exception as err:
        if recorder is not None:
            recorder.finish(error=str(err))
        arm_run.status = "failed"
        raise
    if recorder is not None:
        recorder.finish()
    events = arm_run.events.snapshot()
    finished = next((e for e in reversed(events) if isinstance(e, training.RunFinished)), None)
    train_acc = None
    if finished is not None and finished.reason != "diverged":
        train_acc = X.train_accuracy(bundle.model_copy(), data)
    arm_run.result = X.arm_result(arm.name, events, train_acc)
    reason = finished.reason if finished is not None else "failed"
    arm_run.status = {"completed": "done", "diverged": "diverged"}.get(reason, "stopped")


def _recorder(
    store: WorkspaceStore | None,
    owner: str,
    run: ExperimentRun,
    arm_run: ArmRun,
    bundle: TrainedBundle,
    cfg: training.TrainConfig,
) -> Recorder | None:
    if store is None:
        return None
    arm, exp = arm_run.arm, run.experiment
    settings = run_settings(arm.model, bundle.data, cfg, f"{exp.title}: {arm.name}", "epoch")
    settings["experiment"] = {"key": exp.key, "arm": arm.name, "n_train": exp.n_train, "n_test": exp.n_test}
    try:
        run_id = store.new_run_id()
    except StoreError as err:
        run.note = f"{err} This experiment is kept in this session only."
        return None
    now = time.time()
    record = RunRecord(run_id, owner, f"{exp.title}: {arm.name}", "queued", now, now, settings=settings)
    arm_run.run_id = run_id
    bundle.run_id = run_id
    recorder = Recorder(store, record, bundle)
    recorder.save(status="running")
    if recorder.note:
        run.note = recorder.note
    return recorder


def _keep(store: WorkspaceStore | None, owner: str, run: ExperimentRun) -> None:
    if store is None:
        return
    try:
        store.put_item(owner, ITEM, run.experiment.key, to_item(run))
    except StoreError as err:
        logger.warning("experiment %s not kept: %s", run.experiment.key, err)
        run.note = f"{err} The comparison is kept in this session only."


def current_run() -> tuple[ExperimentRun | None, jobs.Job | None]:
    """This workspace's experiment job (running, or finished and not yet forgotten) and its run."""
    job = registry().latest_for(owner_id())
    if job is not None and isinstance(job.context, ExperimentRun):
        st.session_state[state.EX_RUN] = job.context
        return job.context, job
    return st.session_state.get(state.EX_RUN), None


def kept_runs() -> dict[str, ExperimentRun]:
    """The experiments this workspace finished before (by key), rebuilt from the workspace."""
    items = identity.with_store(lambda s, ws: s.items(ws, ITEM), {})
    out = {}
    for key, value in items.items():
        run = from_item(value)
        if run is not None:
            out[key] = run
    return out


def arm_events(run: ExperimentRun, arm_run: ArmRun) -> list[training.Event]:
    """An arm's events: live from this session, else from its kept run's curve."""
    events = arm_run.events.snapshot()
    if events or arm_run.run_id is None:
        return events

    def read(store: WorkspaceStore, ws: str) -> list[training.Event]:
        record = store.get_run(ws, arm_run.run_id or "")
        return [] if record is None else decode_events(record.curve)

    return identity.with_store(read, [])
