"""Training in a child process: the same events as :func:`cnn_core.training.train`, from elsewhere.

A web server that trains in its own threads makes every page slower while a run goes on: the
Python parts of a training step hold the interpreter lock that the server needs for every rerun.
:func:`train_in_child` runs :func:`~cnn_core.training.train` in a separate process instead, at
a lower CPU priority, and yields its events in the calling process as they arrive, together with
what the caller needs to keep a live copy of the model:

* :class:`Weights`: the model's state dict (numpy arrays), about every second, after every
  evaluation and before every :class:`~cnn_core.training.EpochEnd` /
  :class:`~cnn_core.training.RunFinished`, so the caller's copy of the model is current when it
  sees the event;
* :class:`SnapshotTaken`: a :class:`~cnn_core.inspection.Snapshot` before training and after
  every epoch, or every evaluation with ``snapshots="eval"`` (and at the end, unless the run
  diverged).

Children are forked from a ``forkserver`` that has imported torch once, so a run reaches its
first step in 1-2 seconds (not the ~4 s a fresh interpreter needs) and never inherits the
server's threads. As with any multiprocessing code, a script that calls :func:`train_in_child`
must do so under ``if __name__ == "__main__":`` (a child re-imports the main script). The child stops when the caller's stop
flag is set, when the caller stops reading (its pipe closes), or when it finishes. A child that
dies without finishing raises :class:`TrainingProcessError` in the caller with a sentence.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.connection
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
import torch
from torch import nn

from cnn_core import inspection, models, training
from cnn_core.data import ImageSet

__all__ = ["SnapshotTaken", "TrainingProcessError", "Weights", "apply_weights", "train_in_child", "watch"]

# torch._dynamo is imported by the first optimizer a process makes (about 2 s): do it once, in the server.
PRELOAD = ["torch", "torch._dynamo", "torch.optim", "cnn_core.training", "cnn_core.inspection", "cnn_core.models", "cnn_core.data"]
WEIGHTS_EVERY_S = 1.0  # a live copy of the model is at most about this old (plus one logging interval)
_CTX_LOCK = threading.Lock()
_CTX: Any = None


class TrainingProcessError(RuntimeError):
    """The training process failed; the message is a sentence a learner can read."""


@dataclass(frozen=True)
class Weights:
    """The model's parameters and buffers at ``step`` (name -> numpy array)."""

    step: int
    state: dict[str, np.ndarray]


@dataclass(frozen=True)
class SnapshotTaken:
    snapshot: inspection.Snapshot


@dataclass(frozen=True)
class _Job:
    model_config: models.ModelConfig
    initial: dict[str, np.ndarray]
    data: dict[str, Any]
    train_config: training.TrainConfig
    nice: int
    snapshots: str  # "epoch" or "eval"


def _context() -> Any:
    """The forkserver context, started once per process with torch and the core preloaded."""
    global _CTX
    with _CTX_LOCK:
        if _CTX is None:
            methods = multiprocessing.get_all_start_methods()
            ctx = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
            if ctx.get_start_method() == "forkserver":
                ctx.set_forkserver_preload(PRELOAD)
            _CTX = ctx
        return _CTX


def warm_up() -> None:
    """Start the fork server now (it imports torch: a few seconds), so the first run starts fast."""
    ctx = _context()
    if ctx.get_start_method() == "forkserver":
        from multiprocessing import forkserver

        forkserver.ensure_running()


def _state(model: nn.Module) -> dict[str, np.ndarray]:
    return {k: v.detach().to("cpu").clone().numpy() for k, v in model.state_dict().items()}


def apply_weights(model: nn.Module, weights: Weights) -> None:
    """Load a :class:`Weights` message into ``model`` (in place, on the model's device)."""
    model.load_state_dict({k: torch.from_numpy(v) for k, v in weights.state.items()})


def _pack(data: ImageSet) -> dict[str, Any]:
    """An ImageSet as plain values (tensors as numpy arrays: pickled as bytes, no shared memory)."""
    return {
        f.name: (v.numpy() if isinstance(v, torch.Tensor) else v)
        for f in fields(data)
        for v in [getattr(data, f.name)]
    }


def _unpack(packed: dict[str, Any]) -> ImageSet:
    return ImageSet(**{k: (torch.from_numpy(v) if isinstance(v, np.ndarray) else v) for k, v in packed.items()})


def _check_snapshots(snapshots: str) -> None:
    if snapshots not in ("epoch", "eval"):
        raise ValueError(f"snapshots must be 'epoch' or 'eval', not {snapshots!r}")


def watch(
    model: nn.Module,
    data: ImageSet,
    config: training.TrainConfig,
    stop: training.StopFlag = None,
    *,
    snapshots: str = "epoch",
    weights: bool = True,
) -> Iterator[Any]:
    """:func:`~cnn_core.training.train` in this process, with :class:`Weights` and
    :class:`SnapshotTaken` messages woven in: exactly what a child sends to :func:`train_in_child`.

    ``weights=False`` leaves out the Weights (a caller training in place already has them).
    """
    _check_snapshots(snapshots)
    yield SnapshotTaken(inspection.take_snapshot(model, data, epoch=0, step=0))
    every = training.EvalEvent if snapshots == "eval" else training.EpochEnd
    last_snap, last_weights = 0, time.monotonic()
    for event in training.train(model, data, config, stop):
        due = isinstance(event, training.StepEvent) and time.monotonic() - last_weights >= WEIGHTS_EVERY_S
        if weights and (due or isinstance(event, training.EvalEvent | training.EpochEnd | training.RunFinished)):
            yield Weights(event.step, _state(model))
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


def _child(conn: multiprocessing.connection.Connection, stop: Any, job: _Job) -> None:
    """The child's whole life: train, sending every message; any failure becomes one message."""
    try:
        if job.nice > 0:
            os.nice(job.nice)
        model = models.build(job.model_config)
        model.load_state_dict({k: torch.from_numpy(v) for k, v in job.initial.items()})
        for message in watch(model, _unpack(job.data), job.train_config, stop.is_set, snapshots=job.snapshots):
            conn.send(message)
    except (BrokenPipeError, EOFError):  # the caller went away: nobody to train for
        return
    except Exception as err:  # the caller turns this into the learner's sentence
        try:
            conn.send(TrainingProcessError(str(err) or type(err).__name__))
        except (BrokenPipeError, EOFError):
            pass
    finally:
        conn.close()


def _reap(proc: Any, child_stop: Any) -> None:
    """Tell the child to stop and wait for it: 10 s to finish, then it is killed."""
    child_stop.set()
    proc.join(10)
    if proc.is_alive():
        proc.kill()
        proc.join(5)


def train_in_child(
    model: nn.Module,
    model_config: models.ModelConfig,
    data: ImageSet,
    config: training.TrainConfig,
    stop: threading.Event | Callable[[], bool] | None = None,
    *,
    nice: int = 0,
    snapshots: str = "epoch",
    poll_s: float = 0.2,
) -> Iterator[Any]:
    """Train a copy of ``model`` in a child process; yield its events, Weights and SnapshotTaken.

    ``model`` (built from ``model_config``) gives the starting weights; it is not changed here:
    apply each :class:`Weights` with :func:`apply_weights` to follow the training. ``nice``
    lowers the child's CPU priority. Raises :class:`TrainingProcessError` if the run fails or
    the child dies; leaving the generator early stops and reaps the child.
    """
    ctx = _context()
    receive, send = ctx.Pipe(duplex=False)
    child_stop = ctx.Event()
    _check_snapshots(snapshots)
    job = _Job(model_config, _state(model), _pack(data), config, max(0, min(19, nice)), snapshots)
    proc = ctx.Process(target=_child, args=(send, child_stop, job), name="convlab-training", daemon=True)
    proc.start()
    send.close()  # the child holds the only writing end: EOF here means it is gone
    finished = False
    try:
        while True:
            if stop is not None and (stop.is_set() if isinstance(stop, threading.Event) else stop()):
                child_stop.set()
            if not receive.poll(poll_s):
                continue
            try:
                message = receive.recv()
            except EOFError:
                break
            if isinstance(message, TrainingProcessError):
                raise message
            if isinstance(message, training.RunFinished):
                # The child has nothing left to do: reap it first, so that whoever sees the end
                # sees it with the process gone (a busy machine can take a moment to run its exit).
                finished = True
                _reap(proc, child_stop)
                yield message
                break
            yield message
    finally:
        receive.close()
        _reap(proc, child_stop)
    if not finished:
        raise TrainingProcessError(
            f"The training process ended unexpectedly (exit code {proc.exitcode}); the server may be short of memory."
        )
