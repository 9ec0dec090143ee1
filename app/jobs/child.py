"""The training process's whole life: build the model, train it, send every message back.

:func:`main` is what :func:`~app.jobs.relay.train_in_child` starts in the child. The request
travels pickled, so an :class:`~cnn_core.data.ImageSet` goes as plain numpy arrays (bytes, no
shared memory), and a checkpoint to resume from as ``torch.save`` bytes (read back with
``weights_only=True``). The child lowers its own CPU priority first; it stops when its stop event is set,
when the parent stops reading (its pipe closes) or when the run ends; any failure becomes one
:class:`~app.jobs.messages.TrainingProcessError` message.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields
from multiprocessing.connection import Connection
from multiprocessing.synchronize import Event as ProcessEvent
from typing import Any

import numpy as np
import torch

from app.jobs.messages import SnapshotEvery, TrainingProcessError, resume_state, state_from_bytes, to_wire, watch
from cnn_core import models, training
from cnn_core.data import ImageSet


@dataclass(frozen=True)
class RunRequest:
    """Everything a child needs to train, as picklable values."""

    model_config: models.ModelConfig
    initial: dict[str, np.ndarray]  # the starting weights
    data: dict[str, Any]  # the ImageSet's fields, tensors as numpy arrays
    train_config: training.TrainConfig
    nice: int  # 0-19: how much lower the child's CPU priority is
    snapshots: SnapshotEvery
    resume: bytes | None = None  # a Checkpoint's state as torch.save bytes: carry that run on
    checkpoint_every_s: float | None = 30.0  # see cnn_core.training.train


def pack(data: ImageSet) -> dict[str, Any]:
    """An ImageSet as plain values (tensors as numpy arrays)."""
    values = {f.name: getattr(data, f.name) for f in fields(data)}
    return {k: (v.numpy() if isinstance(v, torch.Tensor) else v) for k, v in values.items()}


def unpack(packed: dict[str, Any]) -> ImageSet:
    return ImageSet(**{k: (torch.from_numpy(v) if isinstance(v, np.ndarray) else v) for k, v in packed.items()})


def main(conn: Connection, stop: ProcessEvent, request: RunRequest) -> None:
    """Train, sending every message down ``conn``; any failure becomes one message."""
    try:
        if request.nice > 0:
            os.nice(request.nice)
        model = models.build(request.model_config)
        model.load_state_dict({k: torch.from_numpy(v) for k, v in request.initial.items()})
        data = unpack(request.data)
        resume = None if request.resume is None else resume_state(state_from_bytes(request.resume))
        for message in watch(
            model, data, request.train_config, stop.is_set, snapshots=request.snapshots, resume=resume,
            checkpoint_every_s=request.checkpoint_every_s,
        ):  # fmt: skip
            conn.send(to_wire(message))
    except (BrokenPipeError, EOFError):  # the parent went away: nobody to train for
        return
    except Exception as err:  # the parent turns this into the learner's sentence
        try:
            conn.send(TrainingProcessError(str(err) or type(err).__name__))
        except (BrokenPipeError, EOFError):
            pass
    finally:
        conn.close()
