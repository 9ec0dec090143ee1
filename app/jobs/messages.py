"""What a training process sends back: the run's events, with the model's weights and snapshots.

:func:`watch` is :func:`cnn_core.training.train` with two kinds of message woven in, so that
whoever reads it can keep a live copy of the model:

* :class:`Weights`: the model's state dict (numpy arrays), about every second, after every
  evaluation and before every :class:`~cnn_core.training.EpochEnd` /
  :class:`~cnn_core.training.RunFinished`, so the reader's copy is current when it sees the event;
* :class:`SnapshotTaken`: a :class:`~cnn_core.inspection.Snapshot` before training and after
  every epoch, or every evaluation with ``snapshots="eval"`` (and at the end, unless the run
  diverged).

The child process sends exactly this stream (:mod:`app.jobs.child`); an in-thread run (the
Inside page's demo) reads it directly.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch
from torch import nn

from cnn_core import inspection, training
from cnn_core.data import ImageSet

SnapshotEvery = Literal["epoch", "eval"]
WEIGHTS_EVERY_S = 1.0  # a live copy of the model is at most about this old (plus one logging interval)


class TrainingProcessError(RuntimeError):
    """The training process failed; the message is a sentence a learner can read."""


@dataclass(frozen=True)
class Weights:
    """The model's parameters and buffers at ``step`` (name -> numpy array)."""

    step: int
    state: dict[str, np.ndarray]


@dataclass(frozen=True)
class SnapshotTaken:
    """A snapshot of the model for "Inside the model"'s replay over training."""

    snapshot: inspection.Snapshot


Message = training.Event | Weights | SnapshotTaken
"""Everything :func:`watch` yields (and a training process sends)."""


def state_arrays(model: nn.Module) -> dict[str, np.ndarray]:
    """The model's state dict as CPU numpy arrays (they pickle as plain bytes)."""
    return {k: v.detach().to("cpu").clone().numpy() for k, v in model.state_dict().items()}


def apply_weights(model: nn.Module, weights: Weights) -> None:
    """Load a :class:`Weights` message into ``model`` (in place, on the model's device)."""
    model.load_state_dict({k: torch.from_numpy(v) for k, v in weights.state.items()})


def check_snapshots(snapshots: str) -> None:
    if snapshots not in ("epoch", "eval"):
        raise ValueError(f"snapshots must be 'epoch' or 'eval', not {snapshots!r}")


def watch(
    model: nn.Module,
    data: ImageSet,
    config: training.TrainConfig,
    stop: training.StopFlag = None,
    *,
    snapshots: SnapshotEvery = "epoch",
    weights: bool = True,
) -> Iterator[Message]:
    """:func:`~cnn_core.training.train` in this process, with :class:`Weights` and
    :class:`SnapshotTaken` messages woven in: exactly what a child sends to
    :func:`~app.jobs.relay.train_in_child`.

    ``weights=False`` leaves out the Weights (a caller training in place already has them).
    """
    check_snapshots(snapshots)
    yield SnapshotTaken(inspection.take_snapshot(model, data, epoch=0, step=0))
    every = training.EvalEvent if snapshots == "eval" else training.EpochEnd
    last_snap, last_weights = 0, time.monotonic()
    for event in training.train(model, data, config, stop):
        due = isinstance(event, training.StepEvent) and time.monotonic() - last_weights >= WEIGHTS_EVERY_S
        if weights and (due or isinstance(event, training.EvalEvent | training.EpochEnd | training.RunFinished)):
            yield Weights(event.step, state_arrays(model))
            last_weights = time.monotonic()
        snap = isinstance(event, every) or (isinstance(event, training.RunFinished) and event.reason != "diverged")
        if snap and event.step != last_snap:
            if isinstance(event, training.RunFinished):
                epoch = max(1, int(np.ceil(event.epoch_fraction)))
            else:
                epoch = event.epoch
            yield SnapshotTaken(inspection.take_snapshot(model, data, epoch=epoch, step=event.step))
            last_snap = event.step
        yield event
