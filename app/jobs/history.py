"""One run's event history: its events in order, under one lock.

The job's worker thread appends while the session's page reads, so every read is a copy taken
under the lock. A :class:`~app.jobs.registry.Job` and the session's
:class:`~app.trained.TrainedBundle` hold the same history object: a run's events are stored once.
:class:`Progress` is how far a run is, read from its events (for queues, the sidebar and the console).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import overload

from cnn_core.training import Event, RunFinished, RunStarted, StepEvent


@dataclass(frozen=True)
class Progress:
    """How far a run is, from its latest events."""

    step: int  # steps done
    total_steps: int
    epoch: int  # the current epoch, 1-based
    epochs: int
    elapsed_s: float  # wall time since the training started
    eta_s: float | None  # estimated seconds left (None before the first step)
    at: float  # time.time() when this was read

    @property
    def fraction(self) -> float:
        return min(1.0, self.step / self.total_steps) if self.total_steps else 0.0

    @property
    def expected_finish(self) -> float | None:
        """time.time() at which the run should end, None when not known yet."""
        return None if self.eta_s is None else self.at + self.eta_s


def progress_of(events: Sequence[Event], now: float | None = None) -> Progress | None:
    """The run's progress from its events; None before its :class:`RunStarted`."""
    started = next((e for e in reversed(events) if isinstance(e, RunStarted)), None)  # a resumed run: the last
    if started is None:
        return None
    now = time.time() if now is None else now
    last = next((e for e in reversed(events) if isinstance(e, StepEvent)), None)
    finished = next((e for e in reversed(events) if isinstance(e, RunFinished)), None)
    if finished is not None:
        epoch = max(1, min(started.epochs, int(finished.epoch_fraction + 0.999)))
        return Progress(finished.step, started.total_steps, epoch, started.epochs, finished.elapsed_s, 0.0, now)
    if last is None:
        return Progress(0, started.total_steps, 1, started.epochs, 0.0, None, now)
    return Progress(last.step, started.total_steps, last.epoch, started.epochs, last.elapsed_s, last.eta_s, now)


class EventHistory(Sequence[Event]):
    """An append-only, thread-safe list of :data:`cnn_core.training.Event`."""

    def __init__(self, events: Iterable[Event] = ()) -> None:
        self._events: list[Event] = list(events)
        self._lock = threading.Lock()

    def append(self, event: Event) -> None:
        with self._lock:
            self._events.append(event)

    def snapshot(self) -> list[Event]:
        """The events so far, as a list of their own."""
        with self._lock:
            return list(self._events)

    def __iter__(self) -> Iterator[Event]:
        return iter(self.snapshot())

    def __reversed__(self) -> Iterator[Event]:
        return reversed(self.snapshot())

    def __len__(self) -> int:
        with self._lock:
            return len(self._events)

    @overload
    def __getitem__(self, index: int) -> Event: ...

    @overload
    def __getitem__(self, index: slice) -> list[Event]: ...

    def __getitem__(self, index: int | slice) -> Event | list[Event]:
        with self._lock:
            return self._events[index]

    def progress(self) -> Progress | None:
        """:func:`progress_of` these events."""
        return progress_of(self.snapshot())

    def __repr__(self) -> str:
        return f"EventHistory({len(self)} events)"
