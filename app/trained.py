"""The session's model: what the Training page hands to "Inside the model".

A :class:`TrainedBundle` lives in ``st.session_state[state.TR_BUNDLE]``. While a run trains in
its child process, the job's worker thread mirrors it here (:func:`app.training.mirror`): it
loads each new set of weights into ``model`` (:meth:`set_weights`) and adds each snapshot, and
the run's events land in ``events``, the same :class:`~app.jobs.EventHistory` its job holds.
Pages read through the methods here, which copy under a lock, so looking inside never disturbs
training (``model_copy`` gives an eval-mode copy on the CPU). A bundle whose run is kept in the
student's workspace names its ``run_id`` (:mod:`app.training.keep` saves it, :mod:`app.training.restore`
rebuilds it in a new session).
"""

from __future__ import annotations

import copy
import threading
from dataclasses import dataclass, field

import torch

from app.jobs import EventHistory, Weights, apply_weights
from cnn_core.data import ImageSet
from cnn_core.inspection import Snapshot
from cnn_core.models import ModelConfig
from cnn_core.training import TrainConfig


@dataclass(eq=False)
class TrainedBundle:
    """A model being trained or trained in this session, with its data and history."""

    model: torch.nn.Module
    model_config: ModelConfig
    data: ImageSet
    train_config: TrainConfig
    # The run's events, in order; a list given here becomes an EventHistory.
    events: EventHistory = field(default_factory=EventHistory)
    snapshots: list[Snapshot] = field(default_factory=list)  # one per epoch (or evaluation)
    finished: bool = False
    previous: TrainedBundle | None = None  # the session's model before this run (restored if it blows up)
    # Training step of the weights in ``model`` when a child process trains it (0: not trained yet);
    # None when ``model`` is trained in place or loaded, so it is as far as ``events`` say.
    weights_step: int | None = None
    run_id: str | None = None  # its RunRecord in the workspace store, None when it is not kept there
    notice: str | None = None  # a sentence about keeping it (the workspace could not save it), for the page
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        if not isinstance(self.events, EventHistory):
            self.events = EventHistory(self.events)

    def model_copy(self) -> torch.nn.Module:
        """An eval-mode CPU copy of the model as it is now."""
        with self._lock:
            clone = copy.deepcopy(self.model)
        return clone.to("cpu").eval()

    def model_copy_and_step(self) -> tuple[torch.nn.Module, int | None]:
        """:meth:`model_copy` and the training step its weights are from (None: as far as the events say)."""
        with self._lock:
            clone, step = copy.deepcopy(self.model), self.weights_step
        return clone.to("cpu").eval(), step

    def set_weights(self, weights: Weights) -> None:
        """Load a :class:`app.jobs.Weights` message into the model."""
        with self._lock:
            apply_weights(self.model, weights)
            self.weights_step = weights.step

    def add_snapshot(self, snapshot: Snapshot) -> None:
        with self._lock:
            self.snapshots.append(snapshot)

    def snapshots_now(self) -> list[Snapshot]:
        with self._lock:
            return list(self.snapshots)

    @property
    def classes(self) -> tuple[str, ...]:
        return self.data.classes
