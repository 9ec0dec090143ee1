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
from typing import Literal

from app.jobs.history import EventHistory
from cnn_core.training import Event

logger = logging.getLogger(__name__)

Status = Literal["queued", "running", "done", "stopped", "failed"]
RunFn = Callable[[threading.Event], Iterator[Event]]


@dataclass(eq=False)
class Job:
    """One training run and everything the page needs to show it."""

    id: int
    owner: str  # the browser session that started it
    label: str
    stop_event: threading.Event = field(default_factory=threading.Event)
    status: Status = "queued"
    error: str | None = None  # a sentence for the learner, never a traceback
    stop_reason: str | None = None  # "user", "session closed", "server shutting down"
    started_at: float | None = None
    finished_at: float | None = None
    history: EventHistory = field(default_factory=EventHistory)  # the run's events (the bundle shares it)
    last_seen: float = field(default_factory=time.monotonic)  # the owner's last heartbeat (monotonic s)
    thread: threading.Thread | None = None

    def events(self) -> list[Event]:
        """A snapshot of the events so far (safe to read from the page while the worker appends)."""
        return self.history.snapshot()

    def mark_seen(self) -> None:
        """The heartbeat: the session that owns this run is still open."""
        self.last_seen = time.monotonic()

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
    """

    def __init__(
        self,
        slots: int,
        *,
        threads_per_run: int = 1,
        grace: float | None = None,
        watchdog_interval: float = 2.0,
        nice: int = 0,
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
        self.nice = nice
        if grace is not None:
            threading.Thread(
                target=self._watch, args=(watchdog_interval,), name="convlab-watchdog", daemon=True
            ).start()

    # --- submitting and stopping ---------------------------------------------------------

    def submit(self, owner: str, label: str, run: RunFn, *, history: EventHistory | None = None) -> Job:
        """Queue a run; it starts as soon as a slot is free. One active run per owner.

        The run's events go to ``history`` (a new one if None), which is also ``job.history``.
        """
        with self._cond:
            for job in self._jobs.values():
                if job.owner == owner and job.active:
                    raise RuntimeError("This session already has a training run; stop it first.")
            history = EventHistory() if history is None else history
            job = Job(id=next(self._ids), owner=owner, label=label, history=history)
            self._jobs[job.id] = job
            self._queue.append(job)
            job.thread = threading.Thread(
                target=self._work, args=(job, run), name=f"convlab-train-{job.id}", daemon=True
            )
        job.thread.start()
        return job

    def stop(self, job: Job, reason: str = "user") -> None:
        """Ask a run to stop; a queued run is taken out of the queue at once."""
        with self._cond:
            job.stop_reason = job.stop_reason or reason
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
        with self._cond:
            return list(self._jobs.values())

    def latest_for(self, owner: str) -> Job | None:
        """The most recent run of one session, if any."""
        mine = [j for j in self.jobs() if j.owner == owner]
        return max(mine, key=lambda j: j.id) if mine else None

    def queue_position(self, job: Job) -> int | None:
        """1 for the next run to start, 2 for the one after, ...; None when not queued."""
        with self._cond:
            for i, queued in enumerate(self._queue, start=1):
                if queued is job:
                    return i
        return None

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

    def _work(self, job: Job, run: RunFn) -> None:
        with self._cond:
            while not job.stop_event.is_set() and (self._queue[0] is not job or len(self._running) >= self.slots):
                self._cond.wait(timeout=1.0)
            self._queue.remove(job)
            if job.stop_event.is_set():
                job.status = "stopped"
                job.finished_at = time.time()
                self._cond.notify_all()
                return
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
                self._running.discard(job)
                self._cond.notify_all()

    def _watch(self, interval: float) -> None:
        """Stop runs whose session has not been seen for ``grace`` s; forget their finished jobs."""
        while True:
            time.sleep(interval)
            with self._cond:
                if self._closed:
                    return
            now = time.monotonic()
            for job in self.jobs():
                if now - job.last_seen < self._grace:
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
