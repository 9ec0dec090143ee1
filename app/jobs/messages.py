"""What a training process sends back: the run's events, with the model's weights and snapshots.

:func:`watch` is :func:`cnn_core.training.train` with two kinds of message woven in, so that
whoever reads it can keep a live copy of the model:

* :class:`Weights`: the model's state dict (numpy arrays), about every second, after every
  evaluation and before every :class:`~cnn_core.training.EpochEnd` /
  :class:`~cnn_core.training.RunFinished`, so the reader's copy is current when it sees the event;
* :class:`SnapshotTaken`: a :class:`~cnn_core.inspection.Snapshot` before training and after
  every epoch, or every evaluation with ``snapshots="eval"`` (and at the end, unless the run
  diverged);
* :class:`Checkpoint`: in place of each :class:`~cnn_core.training.CheckpointEvent`, the run's
  resume state as a dict of tensors and plain values (``torch.save`` writes it, ``torch.load``
  with ``weights_only=True`` reads it); :func:`train_in_child`'s ``resume_state`` takes it back.

Through the pipe a :class:`Checkpoint` travels as ``torch.save`` bytes (:func:`to_wire`,
:func:`from_wire`): a tensor pickled by multiprocessing would go through shared memory instead.

The child process sends exactly this stream (:mod:`app.jobs.child`); an in-thread run (the
Inside page's demo) reads it directly.
"""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

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


@dataclass(frozen=True, eq=False)
class Checkpoint:
    """The run's state after ``step`` steps, to resume from: :meth:`cnn_core.training.ResumeState.to_dict`."""

    step: int
    state: dict[str, Any]  # tensors and plain values (about 3x the model's weights with Adam)


@dataclass(frozen=True)
class PackedCheckpoint:
    """A :class:`Checkpoint` on its way through the pipe: ``torch.save`` bytes."""

    step: int
    raw: bytes


Message = training.Event | Weights | SnapshotTaken | Checkpoint
"""Everything :func:`watch` yields (and a training process sends). A :class:`Checkpoint` replaces
the :class:`~cnn_core.training.CheckpointEvent` it comes from, so events stay small."""


def state_bytes(state: dict[str, Any]) -> bytes:
    buf = io.BytesIO()
    torch.save(state, buf)
    return buf.getvalue()


def state_from_bytes(raw: bytes) -> dict[str, Any]:
    return torch.load(io.BytesIO(raw), weights_only=True, map_location="cpu")


def to_wire(message: Message) -> object:
    """What the child sends for ``message`` (a Checkpoint as bytes; everything else as it is)."""
    return PackedCheckpoint(message.step, state_bytes(message.state)) if isinstance(message, Checkpoint) else message


def from_wire(message: object) -> object:
    """The message the child meant (a PackedCheckpoint read back with ``weights_only=True``)."""
    if isinstance(message, PackedCheckpoint):
        return Checkpoint(message.step, state_from_bytes(message.raw))
    return message


def resume_state(state: dict[str, Any] | training.ResumeState | None) -> training.ResumeState | None:
    """A checkpoint's dict as a :class:`~cnn_core.training.ResumeState`; a damaged one raises
    :class:`TrainingProcessError` with a sentence."""
    if state is None or isinstance(state, training.ResumeState):
        return state
    try:
        return training.ResumeState.from_dict(state)
    except ValueError as err:
        raise TrainingProcessError(str(err)) from None


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
    resume: training.ResumeState | None = None,
    checkpoint_every_s: float | None = 30.0,
) -> Iterator[Message]:
    """:func:`~cnn_core.training.train` in this process, with :class:`Weights`,
    :class:`SnapshotTaken` and :class:`Checkpoint` messages woven in: exactly what a child sends
    to :func:`~app.jobs.relay.train_in_child`.

    ``weights=False`` leaves out the Weights (a caller training in place already has them).
    ``resume`` carries a checkpointed run on (its first snapshot is of the checkpoint's weights);
    ``checkpoint_every_s`` is :func:`~cnn_core.training.train`'s (0 or None: no checkpoints).
    """
    check_snapshots(snapshots)
    if resume is None:
        yield SnapshotTaken(inspection.take_snapshot(model, data, epoch=0, step=0))
    every = training.EvalEvent if snapshots == "eval" else training.EpochEnd
    last_snap, last_weights = resume.step if resume else 0, time.monotonic()
    events = training.train(model, data, config, stop, resume=resume, checkpoint_every_s=checkpoint_every_s)
    for event in events:
        if resume is not None and isinstance(event, training.RunStarted):  # the checkpoint's weights are in
            yield SnapshotTaken(inspection.take_snapshot(model, data, epoch=resume.epoch, step=resume.step))
        if isinstance(event, training.CheckpointEvent):
            yield Checkpoint(event.step, event.state.to_dict())
            continue
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
