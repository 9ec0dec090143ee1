"""The server-wide training-job registry: slots, a fair queue, worker threads and their watchdog.

One :class:`JobRegistry` per server (``st.cache_resource``) caps how many training runs go at
once; later runs wait in a first-come queue whose position the page shows. Each run lives in a
worker thread that belongs to one browser session: it iterates a generator of events (see
``cnn_core.training.train``) and appends them to the job's lock-protected history, which the
page reads. The worker never calls ``st.*``. A watchdog thread stops any run whose session has
gone away (tab closed), so no thread is orphaned. Stopping is cooperative: the job's
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
from typing import Any, Literal

logger = logging.getLogger(__name__)

Status = Literal["queued", "running", "done", "stopped", "failed"]
RunFn = Callable[[threading.Event], Iterator[Any]]


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
    _events: list[Any] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    thread: threading.Thread | None = None

    def events(self) -> list[Any]:
        """A snapshot of the events so far (safe to read from the page while the worker appends)."""
        with self._lock:
            return list(self._events)

    def _append(self, event: Any) -> None:
        with self._lock:
            self._events.append(event)

    @property
    def active(self) -> bool:
        return self.status in ("queued", "running")


class JobRegistry:
    """Caps concurrent training runs at ``slots`` and queues the rest, first come first served.

    Parameters
    ----------
    slots : int
        Runs that may train at the same time.
    is_alive : callable, optional
        ``is_alive(owner) -> bool``; the watchdog stops runs whose owner is gone.
    threads_per_run : int
        torch threads a run should use (the page passes it in the run's config).
    watchdog_interval : float
        Seconds between liveness checks.
    grace : float
        Seconds an owner may be gone (a wifi blip, a reload) before its run is stopped;
        finished jobs of owners gone that long are forgotten, so memory does not grow.
    nice : int
        How far each worker thread lowers its own CPU priority (Linux ``nice``, 0-19), so the
        operating system serves the students' page reruns first and training takes the rest.
    """

    def __init__(
        self,
        slots: int,
        *,
        threads_per_run: int = 1,
        is_alive: Callable[[str], bool] | None = None,
        watchdog_interval: float = 2.0,
        grace: float = 10.0,
        nice: int = 0,
    ) -> None:
        if slots < 1:
            raise ValueError("At least one training slot is needed.")
        self.slots = slots
        self.threads_per_run = threads_per_run  # torch threads each run asks for
        self._is_alive = is_alive
        self._cond = threading.Condition()
        self._queue: collections.deque[Job] = collections.deque()
        self._running: set[Job] = set()
        self._jobs: dict[int, Job] = {}
        self._ids = itertools.count(1)
        self._closed = False
        self._grace = grace
        self.nice = nice
        if is_alive is not None:
            threading.Thread(
                target=self._watch, args=(watchdog_interval,), name="convlab-watchdog", daemon=True
            ).start()

    # --- submitting and stopping ---------------------------------------------------------

    def submit(self, owner: str, label: str, run: RunFn) -> Job:
        """Queue a run; it starts as soon as a slot is free. One active run per owner."""
        with self._cond:
            for job in self._jobs.values():
                if job.owner == owner and job.active:
                    raise RuntimeError("This session already has a training run; stop it first.")
            job = Job(id=next(self._ids), owner=owner, label=label)
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
                job._append(event)
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
        gone_since: dict[str, float] = {}
        while True:
            time.sleep(interval)
            with self._cond:
                if self._closed:
                    return
                owners = {j.owner for j in self._jobs.values()}
            now = time.time()
            for owner in owners:
                try:
                    alive = self._is_alive(owner)  # type: ignore[misc]
                except Exception:
                    alive = True
                if alive:
                    gone_since.pop(owner, None)
                    continue
                if now - gone_since.setdefault(owner, now) < self._grace:
                    continue
                self.stop_owner(owner, "session closed")
                for job in self.jobs():
                    if job.owner == owner and not job.active:
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
