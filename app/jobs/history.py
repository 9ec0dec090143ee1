"""One run's event history: its events in order, under one lock.

The job's worker thread appends while the session's page reads, so every read is a copy taken
under the lock. A :class:`~app.jobs.registry.Job` and the session's
:class:`~app.trained.TrainedBundle` hold the same history object: a run's events are stored once.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Sequence
from typing import overload

from cnn_core.training import Event


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

    def __repr__(self) -> str:
        return f"EventHistory({len(self)} events)"
