"""The server-wide training-job registry: slots, a fair queue, worker threads and their watchdog.

One :class:`JobRegistry` per server (``st.cache_resource``) caps how many training runs go at
once; later runs wait in a first-come queue whose position the page shows. Each run lives in a
worker thread that belongs to one browser session: it iterates a generator of events (see
``cnn_core.training.train``; the app's runs relay a training process, :mod:`app.jobs.relay`)
and appends them to the job's :class:`~app.jobs.history.EventHistory`, which the page reads.
The worker never calls ``st.*``.

A session shows it is still open by a heartbeat: its pages call :meth:`Job.mark_seen` whenever
they draw the run (the Training page's live panel and the sidebar's status, which refresh on a
timer while the run is active). A watchdog thread stops any run not seen for ``grace`` seconds
(its tab was closed), so no thread or process is orphaned. Stopping is cooperative: the job's
``stop_event`` is what the training generator checks between steps.

A job's ``owner`` is the student's workspace id, not one browser session: a reload or a second
tab finds the running job (:meth:`JobRegistry.latest_for`) and any of them beating keeps it. The
watchdog also applies the ``stop_rule`` it is given (the instructor's time limit and cancels) to
every running job. :meth:`JobRegistry.active_jobs` with :meth:`Job.progress` is the class view
(the instructor console), :meth:`JobRegistry.wait_estimate` the honest wait a queued run shows.

With a ``cluster`` (:class:`app.jobs.ray_runner.RayCluster`, when ``CONVLAB_RAY_ADDRESS`` is set)
the cluster's scheduler is the queue: a run's worker thread starts at once and its run stays
"queued" until the run calls :meth:`JobRegistry.started` (its Ray actor was placed); its place
and wait come from the cluster, across every app process.
"""

from __future__ import annotations

import collections
import itertools
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

from app.jobs.history import EventHistory, Progress
from cnn_core.training import Event

logger = logging.getLogger(__name__)

Status = Literal["queued", "running", "done", "stopped", "failed"]
RunFn = Callable[[threading.Event], Iterator[Event]]
# Called by the watchdog for each running job: None to let it run, or (reason, sentence) to stop it.
StopRule = Callable[["Job"], tuple[str, str] | None]


@dataclass(eq=False)
class Job:
    """One training run and everything the page needs to show it."""

    id: int
    owner: str  # the workspace that started it (every tab of one student shares it)
    label: str
    run_id: str | None = None  # the workspace store's RunRecord id, None for runs that are not kept
    stop_event: threading.Event = field(default_factory=threading.Event)
    status: Status = "queued"
    error: str | None = None  # a sentence for the learner, never a traceback
    stop_reason: str | None = None  # "user", "session closed", "server shutting down", "instructor", "time limit"
    stop_message: str | None = None  # the sentence the learner sees for a stop they did not ask for
    started_at: float | None = None
    finished_at: float | None = None
    history: EventHistory = field(default_factory=EventHistory)  # the run's events (the bundle shares it)
    last_seen: float = field(default_factory=time.monotonic)  # the owner's last heartbeat (monotonic s)
    thread: threading.Thread | None = None
    context: Any = None  # what the submitter attaches (the app: the run's TrainedBundle), for a reattaching page

    def events(self) -> list[Event]:
        """A snapshot of the events so far (safe to read from the page while the worker appends)."""
        return self.history.snapshot()

    def mark_seen(self) -> None:
        """The heartbeat: the session that owns this run is still open."""
        self.last_seen = time.monotonic()

    def progress(self) -> Progress | None:
        """How far the run is (None until its training process has started)."""
        return self.history.progress()

    @property
    def active(self) -> bool:
        return self.status in ("queued", "running")


class JobRegistry:
    """Caps concurrent training runs at ``slots`` and queues the rest, first come first served.

    Parameters
    ----------
    slots : int
        Runs that may train at the same time.
    threads_per_run : int
        torch threads a run should use (the page passes it in the run's config).
    grace : float, optional
        Seconds a run may go without a heartbeat (:meth:`Job.mark_seen`: a wifi blip, a busy
        rerun) before its session counts as gone and the run is stopped; finished jobs unseen
        that long are forgotten, so memory does not grow. None: no watchdog, runs end only
        when they finish or are stopped.
    watchdog_interval : float
        Seconds between the watchdog's checks.
    nice : int
        How far each worker thread lowers its own CPU priority (Linux ``nice``, 0-19), so the
        operating system serves the students' page reruns first and training takes the rest.
    stop_rule : callable, optional
        Asked by the watchdog about every running job (see :data:`StopRule`): the instructor's
        limits. A rule that raises is logged and ignored for that round.
    """

    def __init__(
        self,
        slots: int,
        *,
        threads_per_run: int = 1,
        grace: float | None = None,
        watchdog_interval: float = 2.0,
        nice: int = 0,
        stop_rule: StopRule | None = None,
        cluster: Any = None,
    ) -> None:
        if slots < 1:
            raise ValueError("At least one training slot is needed.")
        self.slots = slots
        self.threads_per_run = threads_per_run  # torch threads each run asks for
        self._cond = threading.Condition()
        self._queue: collections.deque[Job] = collections.deque()
        self._running: set[Job] = set()
        self._jobs: dict[int, Job] = {}
        self._ids = itertools.count(1)
        self._closed = False
        self._grace = grace
        self._stop_rule = stop_rule
        self.nice = nice
        self.cluster = cluster  # a RayCluster: the queue is the cluster's (see the module's docstring)
        if grace is not None or stop_rule is not None:
            threading.Thread(
                target=self._watch, args=(watchdog_interval,), name="convlab-watchdog", daemon=True
            ).start()

    # --- submitting and stopping ---------------------------------------------------------

    def submit(
        self,
        owner: str,
        label: str,
        run: RunFn,
        *,
        history: EventHistory | None = None,
        run_id: str | None = None,
        context: Any = None,
    ) -> Job:
        """Queue a run; it starts as soon as a slot is free. One active run per owner.

        The run's events go to ``history`` (a new one if None), which is also ``job.history``;
        ``run_id`` and ``context`` are kept on the job as given.
        """
        with self._cond:
            for job in self._jobs.values():
                if job.owner == owner and job.active:
                    raise RuntimeError(
                        "Your workspace already has a training run (perhaps in another tab); stop it first."
                    )
            history = EventHistory() if history is None else history
            job = Job(
                id=next(self._ids), owner=owner, label=label, run_id=run_id, history=history, context=context
            )
            self._jobs[job.id] = job
            self._queue.append(job)
            job.thread = threading.Thread(
                target=self._work, args=(job, run), name=f"convlab-train-{job.id}", daemon=True
            )
        job.thread.start()
        return job

    def stop(self, job: Job, reason: str = "user", message: str | None = None) -> None:
        """Ask a run to stop; a queued run is taken out of the queue at once.

        ``message`` is the sentence the learner sees (for a stop they did not ask for).
        """
        with self._cond:
            if job.stop_reason is None:
                job.stop_reason, job.stop_message = reason, message
            job.stop_event.set()
            self._cond.notify_all()

    def stop_owner(self, owner: str, reason: str) -> int:
        """Stop every active run of one session; returns how many were stopped."""
        jobs = [j for j in self.jobs() if j.owner == owner and j.active]
        for job in jobs:
            self.stop(job, reason)
        return len(jobs)

    def shutdown(self, timeout: float = 10.0) -> None:
        """Stop everything and wait for the workers (tests and server shutdown)."""
        with self._cond:
            self._closed = True
        for job in self.jobs():
            self.stop(job, "server shutting down")
        for job in self.jobs():
            if job.thread is not None:
                job.thread.join(timeout)

    # --- reading -------------------------------------------------------------------------

    def jobs(self) -> list[Job]:
        """Every job the registry holds: active ones and finished ones not yet forgotten."""
        with self._cond:
            return list(self._jobs.values())

    def active_jobs(self) -> list[Job]:
        """The queued and running jobs: running first (oldest first), then the queue in order."""
        with self._cond:
            running = sorted(self._running, key=lambda j: j.id)
            return [*running, *(j for j in self._queue if j not in self._running)]

    def latest_for(self, owner: str) -> Job | None:
        """The most recent run of one workspace, if any."""
        mine = [j for j in self.jobs() if j.owner == owner]
        return max(mine, key=lambda j: j.id) if mine else None

    def find_run(self, run_id: str) -> Job | None:
        """The job of a kept run (by its RunRecord id), if this registry has it."""
        return next((j for j in self.jobs() if j.run_id is not None and j.run_id == run_id), None)

    def beat(self, owner: str) -> None:
        """The heartbeat of every active run of one workspace (any of its tabs may beat)."""
        for job in self.jobs():
            if job.owner == owner and job.active:
                job.mark_seen()

    def queue_position(self, job: Job) -> int | None:
        """1 for the next run to start, 2 for the one after, ...; None when not queued."""
        if self.cluster is not None:
            with self._cond:
                queued = job in self._queue
            return (self.cluster.position(job) or 1) if queued else None
        with self._cond:
            for i, queued in enumerate(self._queue, start=1):
                if queued is job:
                    return i
        return None

    def wait_estimate(self, job: Job, *, fallback_s: float | None = None) -> float | None:
        """Seconds until a queued ``job`` should start, from the running jobs' time left.

        Each slot frees up when its run's last :class:`~cnn_core.training.StepEvent` says it ends;
        the queued runs ahead take one slot each as it frees, for as long as the runs now going
        take in all (their average), or ``fallback_s``. None when it cannot be told yet (a
        running job has no estimate) or ``job`` is not queued. With a cluster, the cluster's estimate.
        """
        if self.cluster is not None:
            with self._cond:
                queued = job in self._queue
            return self.cluster.wait(job, fallback_s) if queued else None
        with self._cond:
            if job not in self._queue:
                return None
            running, ahead = list(self._running), list(itertools.takewhile(lambda j: j is not job, self._queue))
        now = time.time()
        free: list[float] = [0.0] * max(0, self.slots - len(running))
        totals: list[float] = []
        for other in running:
            p = other.progress()
            if p is None or p.eta_s is None:
                return None
            free.append(max(0.0, p.eta_s - (now - p.at)))
            totals.append(p.elapsed_s + p.eta_s)
        per_run = sum(totals) / len(totals) if totals else fallback_s
        for _ in ahead:
            if per_run is None:
                return None
            free.sort()
            free[0] += per_run
        return min(free) if free else None

    @property
    def running_count(self) -> int:
        with self._cond:
            return len(self._running)

    @property
    def queued_count(self) -> int:
        with self._cond:
            return len(self._queue)

    def forget(self, job: Job) -> None:
        """Drop a finished job from the registry (its session keeps what it needs)."""
        with self._cond:
            if not job.active:
                self._jobs.pop(job.id, None)

    # --- workers -------------------------------------------------------------------------

    def started(self, job: Job) -> None:
        """The cluster placed ``job``'s run: it leaves the queue and is running (cluster mode)."""
        with self._cond:
            if job in self._queue:
                self._queue.remove(job)
            if job.status == "queued":
                self._running.add(job)
                job.status = "running"
                job.started_at = time.time()
            self._cond.notify_all()

    def _work(self, job: Job, run: RunFn) -> None:
        with self._cond:
            while self.cluster is None and not job.stop_event.is_set() and (self._queue[0] is not job or len(self._running) >= self.slots):
                self._cond.wait(timeout=1.0)
            if job.stop_event.is_set():
                self._queue.remove(job)
                job.status = "stopped"
                job.finished_at = time.time()
                self._cond.notify_all()
                return
            if self.cluster is None:  # with a cluster the run stays queued until started()
                self._queue.remove(job)
                self._running.add(job)
                job.status = "running"
                job.started_at = time.time()
            self._cond.notify_all()
        lower_thread_priority(self.nice)
        try:
            for event in run(job.stop_event):
                job.history.append(event)
            job.status = "stopped" if job.stop_event.is_set() else "done"
        except Exception as err:  # the learner sees a sentence; the log keeps the details
            logger.exception("training run %s failed", job.id)
            job.status = "failed"
            job.error = f"Training stopped because of an error: {err}"
        finally:
            job.finished_at = time.time()
            with self._cond:
                if job in self._queue:  # a cluster run that ended before it was placed
                    self._queue.remove(job)
                self._running.discard(job)
                self._cond.notify_all()

    def _watch(self, interval: float) -> None:
        """Apply the stop rule; stop runs whose workspace has not been seen for ``grace`` s; forget their finished jobs."""
        while True:
            time.sleep(interval)
            with self._cond:
                if self._closed:
                    return
            now = time.monotonic()
            for job in self.jobs():
                if job.status == "running" and self._stop_rule is not None and not job.stop_event.is_set():
                    try:
                        verdict = self._stop_rule(job)
                    except Exception:  # a rule that cannot be read this round (a busy database) is retried
                        logger.exception("the stop rule failed for run %s", job.id)
                        verdict = None
                    if verdict is not None:
                        self.stop(job, *verdict)
                if self._grace is None or now - job.last_seen < self._grace:
                    continue
                if job.active:
                    self.stop(job, "session closed")
                else:
                    self.forget(job)


def lower_thread_priority(nice: int) -> int:
    """Raise the calling thread's nice value by ``nice`` (Linux: per thread); returns the new value.

    Only ever lowers priority, which needs no privileges; elsewhere (or if refused) it does nothing
    and returns 0.
    """
    if nice <= 0 or not hasattr(os, "setpriority"):
        return 0
    tid = threading.get_native_id()
    try:
        current = os.getpriority(os.PRIO_PROCESS, tid)
        os.setpriority(os.PRIO_PROCESS, tid, min(19, current + nice))
        return os.getpriority(os.PRIO_PROCESS, tid)
    except OSError:
        return 0
