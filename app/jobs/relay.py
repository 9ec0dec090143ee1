"""The parent's side of a training process: start it, relay its messages, reap it.

A web server that trains in its own threads makes every page slower while a run goes on: the
Python parts of a training step hold the interpreter lock that the server needs for every rerun.
:func:`train_in_child` runs :func:`~cnn_core.training.train` in a child process instead (forked
from :mod:`app.jobs.forkserver`, at a lower CPU priority) and yields its messages
(:data:`~app.jobs.messages.Message`) here as they arrive. As with any multiprocessing code, a
script that calls it must do so under ``if __name__ == "__main__":`` (a child re-imports the
main script). A child that dies without finishing raises
:class:`~app.jobs.messages.TrainingProcessError` here, with a sentence.

Checkpoints come back as :class:`~app.jobs.messages.Checkpoint` messages (after every epoch but
the last, and about every ``checkpoint_every_s``); whoever keeps one can hand its ``state`` back
as ``resume_state`` to carry the run on after the server restarted.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from multiprocessing.connection import Connection
from multiprocessing.context import BaseContext
from multiprocessing.process import BaseProcess
from multiprocessing.synchronize import Event as ProcessEvent
from typing import Any

from torch import nn

from app.jobs import child
from app.jobs.forkserver import context
from app.jobs.messages import (
    Message,
    SnapshotEvery,
    TrainingProcessError,
    check_snapshots,
    from_wire,
    state_arrays,
    state_bytes,
)
from app.jobs.messages import resume_state as _resume_state
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


def _start(ctx: BaseContext, args: tuple, receive: Connection) -> BaseProcess:
    """Start the child; a fork server that has died (killed, or a failed preload) is started again."""

    def launch() -> BaseProcess:
        proc = ctx.Process(target=child.main, args=args, name=PROCESS_NAME, daemon=True)
        proc.start()
        return proc

    # multiprocessing starts a new fork server once it notices the old one is gone, which can take a
    # moment after the old one was killed (until then it still dials the dead socket): a few tries.
    for wait_s in (0.0, 0.2, 0.5, 1.0):
        time.sleep(wait_s)
        try:
            return launch()
        except (BrokenPipeError, ConnectionError, EOFError) as err:
            failure = err
    receive.close()
    reason = getattr(failure, "strerror", None) or type(failure).__name__
    raise TrainingProcessError(f"The training process could not be started ({reason}); try again.") from None


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
    resume_state: dict[str, Any] | None = None,
    checkpoint_every_s: float | None = 30.0,
) -> Iterator[Message]:
    """Train a copy of ``model`` in a child process; yield its events, Weights, SnapshotTaken and
    Checkpoint messages.

    ``model`` (built from ``model_config``) gives the starting weights; it is not changed here:
    apply each :class:`~app.jobs.messages.Weights` with :func:`~app.jobs.messages.apply_weights`
    to follow the training. ``nice`` lowers the child's CPU priority. The child stops when
    ``stop`` is set, and is stopped and reaped when the caller leaves the generator early.
    ``resume_state`` (a :class:`~app.jobs.messages.Checkpoint`'s ``state``, as kept) carries that
    run on at the step after it: ``model_config``, ``data`` and ``config`` must be the run's own;
    its weights replace ``model``'s. ``checkpoint_every_s`` spaces the checkpoints (0 or None: none).
    Raises :class:`~app.jobs.messages.TrainingProcessError` if the run fails or the child dies, and
    (before starting a child) when ``resume_state`` is not a readable checkpoint.
    """
    check_snapshots(snapshots)
    resume = _resume_state(resume_state)  # a damaged checkpoint is a sentence now, not in the child
    packed = None if resume is None else state_bytes(resume.to_dict())
    ctx = context()
    receive, send = ctx.Pipe(duplex=False)
    child_stop = ctx.Event()
    request = child.RunRequest(
        model_config, state_arrays(model), child.pack(data), config, max(0, min(19, nice)), snapshots,
        resume=packed, checkpoint_every_s=checkpoint_every_s,
    )  # fmt: skip
    proc = _start(ctx, (send, child_stop, request), receive)
    send.close()  # the child holds the only writing end: EOF here means it is gone
    finished = False
    try:
        while True:
            if stop is not None and (stop.is_set() if isinstance(stop, threading.Event) else stop()):
                child_stop.set()
            if not receive.poll(poll_s):
                continue
            try:
                message = from_wire(receive.recv())
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
