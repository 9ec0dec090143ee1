"""Training runs on a Ray cluster, when ``CONVLAB_RAY_ADDRESS`` is set (e.g. ``ray-head:6379``).

Each run is one Ray actor (:class:`Trainer`) asking for ``CONVLAB_RAY_CPUS_PER_RUN`` CPUs (default:
the run's torch threads) or, with ``CONVLAB_RAY_GPUS_PER_RUN=1``, one GPU, so Ray's scheduler is
the one queue for every app process of the class: an actor waits, pending, until a node has what it
asks for. The actor runs :func:`app.jobs.child.main` (the same training process as on one machine)
in a thread of its own and keeps its messages; :func:`train_on_ray` (the app process's side, the
counterpart of :func:`~app.jobs.relay.train_in_child`) polls them back and yields them, so the
student's page follows the run live. Stop, a closed tab and the instructor's cancel set the stop
event the generator checks, which is passed on to the actor; the actor is killed when the run ends
or its reader leaves. A node lost mid-run (the actor's process or machine gone) raises
:class:`~app.jobs.messages.TrainingProcessError` with :data:`LOST`; the run's last checkpoint was
already kept by the reader (:class:`app.training.keep.Recorder`), so it can resume. A cluster that
cannot be reached is :data:`UNREACHABLE`, also a sentence.

:class:`RayCluster` is what :class:`~app.jobs.registry.JobRegistry` asks for a queued run's place
and wait: the place counts the runs still waiting in the shared workspace store (every app process
writes its runs there), the wait spreads them over the cluster's slots. ``ray`` is imported only
here, and only when the variable is set: the embedded setup never imports it.
"""

from __future__ import annotations

import math
import os
import threading
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from torch import nn

from app.jobs import child
from app.jobs.messages import Message, SnapshotEvery, TrainingProcessError, from_wire, state_arrays, state_bytes
from app.jobs.messages import resume_state as _resume_state
from cnn_core import models, training
from cnn_core.data import ImageSet

if TYPE_CHECKING:
    from app.jobs.registry import Job

__all__ = ["LOST", "UNREACHABLE", "RayCluster", "Trainer", "address", "train_on_ray"]

LOST = (
    "The machine training this run was lost (it stopped answering), so the run ended early. "
    "Its last checkpoint is kept: resume it from Your runs."
)
UNREACHABLE = "The training cluster cannot be reached just now, so this run did not start; try again in a minute."
_LOCK = threading.Lock()
_ACTOR: Any = None  # the ray.remote actor class, made once


def address() -> str:
    """``CONVLAB_RAY_ADDRESS``, or "" (train in local processes)."""
    return os.environ.get("CONVLAB_RAY_ADDRESS", "").strip()


class _Outbox:
    """What :func:`app.jobs.child.main` sends to: a list the actor hands out in order."""

    def __init__(self) -> None:
        self.items: list[Any] = []
        self.lock = threading.Lock()
        self.closed = False

    def send(self, item: Any) -> None:
        with self.lock:
            self.items.append(item)

    def close(self) -> None:
        self.closed = True


class Trainer:
    """One run on a Ray worker: :func:`app.jobs.child.main` in a thread, its messages kept until taken."""

    def __init__(self, request: child.RunRequest) -> None:
        self.outbox = _Outbox()
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=child.main, args=(self.outbox, self.stop_event, request), daemon=True)
        self.thread.start()

    def where(self) -> tuple[str, int]:
        """(node IP, pid) of this actor: it has been placed and started."""
        import ray

        return ray.util.get_node_ip_address(), os.getpid()

    def take(self) -> tuple[list[Any], bool]:
        """The messages since the last call, and whether the training thread has ended."""
        with self.outbox.lock:
            items, self.outbox.items = self.outbox.items, []
        return items, self.outbox.closed and not self.thread.is_alive()

    def stop(self) -> None:
        self.stop_event.set()


def connect() -> Any:
    """``ray`` connected to the cluster at :func:`address` (once per process), and the actor class."""
    global _ACTOR
    import ray

    with _LOCK:
        if not address():  # never a local Ray of our own (ray.init() without an address starts one)
            raise RuntimeError("CONVLAB_RAY_ADDRESS is not set")
        if not ray.is_initialized():
            ray.init(address=address(), namespace="convlab", log_to_driver=False, logging_level="WARNING")
        if _ACTOR is None:
            _ACTOR = ray.remote(max_restarts=0, max_task_retries=0)(Trainer)
    return ray


def resources() -> tuple[float, float]:
    """(CPUs, GPUs) each run asks for: ``CONVLAB_RAY_CPUS_PER_RUN`` (default the run's threads), ``CONVLAB_RAY_GPUS_PER_RUN``."""
    return float(os.environ.get("CONVLAB_RAY_CPUS_PER_RUN", "0") or 0), float(os.environ.get("CONVLAB_RAY_GPUS_PER_RUN", "0") or 0)


def train_on_ray(
    model: nn.Module,
    model_config: models.ModelConfig,
    data: ImageSet,
    config: training.TrainConfig,
    stop: threading.Event | Callable[[], bool] | None = None,
    *,
    nice: int = 0,
    snapshots: SnapshotEvery = "epoch",
    poll_s: float = 0.25,
    resume_state: dict[str, Any] | None = None,
    checkpoint_every_s: float | None = 30.0,
    on_start: Callable[[], None] | None = None,
    where: Callable[[str, int], None] | None = None,
) -> Iterator[Message]:
    """:func:`~app.jobs.relay.train_in_child`'s messages, trained by a Ray actor wherever the cluster places it.

    The actor asks for :func:`resources` (CPUs default to ``config.threads``). ``on_start`` is called
    once the actor has been placed and started (the run leaves the queue); ``where`` gets its node's
    address and pid. A stop while still queued takes the run out of Ray's queue and yields nothing.
    Raises :class:`~app.jobs.messages.TrainingProcessError` (:data:`LOST`) when the actor dies.
    """
    resume = _resume_state(resume_state)
    packed = None if resume is None else state_bytes(resume.to_dict())
    request = child.RunRequest(
        model_config, state_arrays(model), child.pack(data), config, max(0, min(19, nice)), snapshots,
        resume=packed, checkpoint_every_s=checkpoint_every_s,
    )  # fmt: skip
    try:
        ray = connect()
    except Exception as err:  # no head at that address, a version mismatch, ...
        raise TrainingProcessError(UNREACHABLE) from err
    cpus, gpus = resources()
    actor = _ACTOR.options(num_cpus=cpus or max(1, config.threads), num_gpus=gpus).remote(request)

    def stopped() -> bool:
        return stop is not None and (stop.is_set() if isinstance(stop, threading.Event) else stop())

    finished = asked_stop = False
    try:
        placed = actor.where.remote()
        while not ray.wait([placed], timeout=poll_s)[0]:  # pending: Ray's queue
            if stopped():
                return
        node, pid = ray.get(placed)
        if where is not None:
            where(node, pid)
        if on_start is not None:
            on_start()
        while True:
            if stopped() and not asked_stop:
                actor.stop.remote()
                asked_stop = True
            items, done = ray.get(actor.take.remote(), timeout=60)
            for item in items:
                message = from_wire(item)
                if isinstance(message, TrainingProcessError):
                    raise message
                yield message
                if isinstance(message, training.RunFinished):
                    finished = True
            if finished or done:
                break
            if not items:
                time.sleep(poll_s)
    except (ray.exceptions.RayActorError, ray.exceptions.GetTimeoutError, ray.exceptions.ObjectLostError) as err:
        raise TrainingProcessError(LOST) from err
    finally:
        ray.kill(actor, no_restart=True)
    if not finished and not stopped():
        raise TrainingProcessError(LOST)


class RayCluster:
    """The registry's view of the Ray queue: a queued run's place and wait, from the shared store.

    ``store`` returns the workspace store (where every app process keeps its runs' status). A run's
    place is 1 + the runs queued before it in any process; its wait is the runs ahead spread over
    the cluster's slots (its CPUs // CPUs per run), each taking the recent runs' average time.
    """

    train = staticmethod(train_on_ray)

    def __init__(self, store: Callable[[], Any], *, cpus_per_run: float = 1.0) -> None:
        self._store = store
        self.cpus_per_run = resources()[0] or cpus_per_run
        self._slots: tuple[float, int] | None = None

    def slots(self) -> int:
        """Runs the cluster can train at once (asked of Ray at most once a minute)."""
        now = time.monotonic()
        if self._slots is None or now - self._slots[0] > 60:
            cpus = self.cpus_per_run
            if address():  # never start a Ray of our own just to count
                try:
                    cpus = connect().cluster_resources().get("CPU", cpus)
                except Exception:  # the cluster's head is not answering now: one slot, asked again later
                    pass
            self._slots = (now, max(1, int(cpus // self.cpus_per_run)))
        return self._slots[1]

    def position(self, job: Job) -> int | None:
        if job.run_id is None:
            return None
        try:
            ahead = self._store().queued_ahead(job.run_id)
        except Exception:
            return None
        return None if ahead is None else ahead + 1

    def wait(self, job: Job, fallback_s: float | None = None) -> float | None:
        place = self.position(job)
        if place is None:
            return None
        try:
            per_run = self._store().typical_run_seconds() or fallback_s
        except Exception:
            per_run = fallback_s
        if per_run is None:
            return None
        return math.ceil(place / self.slots()) * per_run
