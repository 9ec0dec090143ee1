"""The parent's side of a training process: start it, relay its messages, reap it.

A web server that trains in its own threads makes every page slower while a run goes on: the
Python parts of a training step hold the interpreter lock that the server needs for every rerun.
:func:`train_in_child` runs :func:`~cnn_core.training.train` in a child process instead (forked
from :mod:`app.jobs.forkserver`, at a lower CPU priority) and yields its messages
(:data:`~app.jobs.messages.Message`) here as they arrive. As with any multiprocessing code, a
script that calls it must do so under ``if __name__ == "__main__":`` (a child re-imports the
main script). A child that dies without finishing raises
:class:`~app.jobs.messages.TrainingProcessError` here, with a sentence.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from multiprocessing.process import BaseProcess
from multiprocessing.synchronize import Event as ProcessEvent

from torch import nn

from app.jobs import child
from app.jobs.forkserver import context
from app.jobs.messages import Message, SnapshotEvery, TrainingProcessError, check_snapshots, state_arrays
from cnn_core import models, training
from cnn_core.data import ImageSet

PROCESS_NAME = "convlab-training"


def _reap(proc: BaseProcess, child_stop: ProcessEvent) -> None:
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
    snapshots: SnapshotEvery = "epoch",
    poll_s: float = 0.2,
) -> Iterator[Message]:
    """Train a copy of ``model`` in a child process; yield its events, Weights and SnapshotTaken.

    ``model`` (built from ``model_config``) gives the starting weights; it is not changed here:
    apply each :class:`~app.jobs.messages.Weights` with :func:`~app.jobs.messages.apply_weights`
    to follow the training. ``nice`` lowers the child's CPU priority. The child stops when
    ``stop`` is set, and is stopped and reaped when the caller leaves the generator early.
    Raises :class:`~app.jobs.messages.TrainingProcessError` if the run fails or the child dies.
    """
    check_snapshots(snapshots)
    ctx = context()
    receive, send = ctx.Pipe(duplex=False)
    child_stop = ctx.Event()
    request = child.RunRequest(
        model_config, state_arrays(model), child.pack(data), config, max(0, min(19, nice)), snapshots
    )
    proc = ctx.Process(target=child.main, args=(send, child_stop, request), name=PROCESS_NAME, daemon=True)
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
