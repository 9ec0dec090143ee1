"""The session's model: what the Training page hands to "Inside the model".

A :class:`TrainedBundle` lives in ``st.session_state[state.TR_BUNDLE]``. While a run trains in
its child process, the job's worker thread mirrors it here: it loads each new set of weights
into ``model`` (:meth:`set_weights`) and appends to ``events`` and ``snapshots``. Pages read them
through the methods here, which copy under a lock, so looking inside never disturbs training
(``model_copy`` gives an eval-mode copy on the CPU).
"""

from __future__ import annotations

import copy
import threading
from dataclasses import dataclass, field
from typing import Any

import torch

from cnn_core.data import ImageSet
from cnn_core.models import ModelConfig
from cnn_core.training import TrainConfig
from cnn_core.training_process import apply_weights


@dataclass(eq=False)
class TrainedBundle:
    """A model being trained or trained in this session, with its data and history."""

    model: torch.nn.Module
    model_config: ModelConfig
    data: ImageSet
    train_config: TrainConfig
    events: list[Any] = field(default_factory=list)  # cnn_core.training events, in order
    snapshots: list[Any] = field(default_factory=list)  # cnn_core.inspection.Snapshot, one per epoch
    finished: bool = False
    previous: TrainedBundle | None = None  # the session's model before this run (restored if it blows up)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def model_copy(self) -> torch.nn.Module:
        """An eval-mode CPU copy of the model as it is now."""
        with self._lock:
            clone = copy.deepcopy(self.model)
        return clone.to("cpu").eval()

    def set_weights(self, weights: Any) -> None:
        """Load a :class:`cnn_core.training_process.Weights` message into the model."""
        with self._lock:
            apply_weights(self.model, weights)

    def add_snapshot(self, snapshot: Any) -> None:
        with self._lock:
            self.snapshots.append(snapshot)

    def snapshots_now(self) -> list[Any]:
        with self._lock:
            return list(self.snapshots)

    @property
    def classes(self) -> tuple[str, ...]:
        return self.data.classes
