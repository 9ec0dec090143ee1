"""Trainings on a real Ray head on 127.0.0.1 (two CPUs, no dashboard): one head for this module.

The test process is one Ray driver (an app process); the queue test starts two more as subprocesses
(two app processes), each asking for both CPUs, so the second waits in Ray's queue until the first
ends. Stop, a closed tab (the registry's watchdog) and a killed worker are checked on the actor's
own process, which runs on this machine. Skipped with the reason printed where Ray cannot start.
"""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

from app.jobs import JobRegistry, TrainingProcessError
from app.jobs import ray_runner as R
from app.trained import TrainedBundle
from app.training.keep import Recorder
from app.workspace import RunRecord, WorkspaceStore
from cnn_core import data as D
from cnn_core import models
from cnn_core import training as T
from tests.server.services import ROOT, RayHead, start_or_skip

CFG = models.fast_config(1, 7, image_size=16, widths=(4, 8, 8))
LONG = T.TrainConfig(batch_size=16, epochs=40, lr=3e-3, device="cpu", threads=1, evals_per_epoch=1, log_every_steps=2)
ENDLESS = dataclasses.replace(LONG, epochs=5000)  # outlasts any grace period, however fast the machine
pytestmark = pytest.mark.slow  # Ray workers start in seconds each on two busy cores


@pytest.fixture(scope="module")
def head() -> Iterator[RayHead]:
    server = start_or_skip(RayHead(cpus=2))
    patch = pytest.MonkeyPatch()
    patch.setenv("CONVLAB_RAY_ADDRESS", server.address)  # type: ignore[union-attr]
    patch.setenv("RAY_AUTH_MODE", "disabled")  # as the head (tests/server/services.py)
    yield server  # type: ignore[misc]
    import ray

    ray.shutdown()
    patch.undo()
    server.stop()


@pytest.fixture(scope="module")
def shapes() -> D.ImageSet:
    return D.synthetic_shapes(40, size=16, seed=0)


def model() -> torch.nn.Module:
    torch.manual_seed(0)
    return models.build(CFG)


def gone(pid: int, within_s: float = 20.0) -> bool:
    """Whether process ``pid`` ends within ``within_s`` seconds."""
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.2)
    return False


def test_stop_ends_the_run_and_its_actor(head: RayHead, shapes: D.ImageSet) -> None:
    stop, where = threading.Event(), []
    seen = []
    for message in R.train_on_ray(model(), CFG, shapes, LONG, stop, where=lambda node, pid: where.append(pid)):
        seen.append(message)
        if isinstance(message, T.StepEvent) and message.step >= 4:
            stop.set()  # the student's Stop
    finished = [m for m in seen if isinstance(m, T.RunFinished)]
    assert finished and finished[-1].reason == "stopped" and finished[-1].step < 14 * LONG.epochs
    assert where and gone(where[0]), "the Ray worker of a stopped run is still there"


def test_a_closed_tab_stops_a_running_ray_run(head: RayHead, shapes: D.ImageSet) -> None:
    registry = JobRegistry(slots=1, grace=4.0, watchdog_interval=0.3, cluster=R.RayCluster(lambda: None))
    where: list[int] = []
    box: list = []

    def run(stop: threading.Event) -> Iterator[T.Event]:
        on_start = lambda: registry.started(box[0])  # noqa: E731
        for message in R.train_on_ray(
            model(), CFG, shapes, ENDLESS, stop, on_start=on_start, where=lambda n, pid: where.append(pid)
        ):
            if isinstance(message, T.Event):
                yield message

    job = registry.submit("ws-closed-tab", "a run", run)
    box.append(job)
    assert registry.queue_position(job) == 1  # queued until its actor is placed (no store: first)
    deadline = time.monotonic() + 90
    while job.status == "queued":  # the tab is open while the run waits and starts ...
        assert time.monotonic() < deadline, "the run was never placed"
        job.mark_seen()
        time.sleep(0.1)
    assert registry.queue_position(job) is None
    while job.active:  # ... then nobody beats: the tab was closed
        assert time.monotonic() < deadline, "the run of a closed tab never stopped"
        time.sleep(0.2)
    assert job.status == "stopped" and job.stop_reason == "session closed"
    assert job.started_at is not None and where and gone(where[0])


def test_a_killed_worker_is_a_sentence_and_the_last_checkpoint_is_kept(
    head: RayHead, shapes: D.ImageSet, tmp_path: Path
) -> None:
    store = WorkspaceStore(tmp_path, database_url="")
    net = model()
    now = time.time()
    record = RunRecord(store.new_run_id(), "ws-killed", "ConvLab fast on Shapes", "queued", now, now)
    bundle = TrainedBundle(model=net, model_config=CFG, data=shapes, train_config=LONG, weights_step=0)
    recorder = Recorder(store, record, bundle)
    recorder.save(status="queued")
    where: list[int] = []
    stream = recorder.follow(R.train_on_ray(net, CFG, shapes, LONG, where=lambda n, pid: where.append(pid)))
    with pytest.raises(TrainingProcessError) as caught:
        for _ in stream:
            if recorder.record.checkpoint_step is not None and where:
                os.kill(where[0], signal.SIGKILL)  # the node's worker dies mid-run
                where.clear()
    assert str(caught.value) == R.LOST and "checkpoint is kept" in R.LOST
    recorder.finish(error=str(caught.value))
    kept = store.get_run("ws-killed", record.run_id)
    assert kept is not None and kept.status == "interrupted" and kept.checkpoint_step is not None
    assert kept.summary["message"] == R.LOST
    assert store.load_checkpoint("ws-killed", record.run_id)["step"] == kept.checkpoint_step


DRIVER = """
import json, sys, time, threading
from cnn_core import data as D, models, training as T
from app.jobs import ray_runner as R
import torch
torch.manual_seed(0)
cfg = models.fast_config(1, 7, image_size=16, widths=(4, 8, 8))
run = T.TrainConfig(batch_size=16, epochs=int(sys.argv[1]), lr=3e-3, device="cpu", threads=1, evals_per_epoch=1)
shapes = D.synthetic_shapes(40, size=16, seed=0)
say = lambda **kw: print(json.dumps({**kw, "at": time.time()}), flush=True)
say(event="submitted")
for m in R.train_on_ray(models.build(cfg), cfg, shapes, run, on_start=lambda: say(event="placed")):
    if isinstance(m, T.RunFinished):
        say(event="finished", reason=m.reason)
"""


def test_two_processes_queue_on_ray_in_order_and_both_finish(head: RayHead) -> None:
    env = {**os.environ, "CONVLAB_RAY_CPUS_PER_RUN": "2", "PYTHONPATH": str(ROOT)}  # each run takes the whole head

    def start(epochs: int) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-c", DRIVER, str(epochs)], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True
        )

    first = start(300)  # long enough to still be training when the second process has started (imported torch, Ray)
    lines = []
    for line in first.stdout:  # type: ignore[union-attr]
        lines.append(json.loads(line))
        if lines[-1]["event"] == "placed":
            break
    second = start(1)
    out_second, _ = second.communicate(timeout=240)
    out_first, _ = first.communicate(timeout=60)
    a = {e["event"]: e for e in lines + [json.loads(x) for x in out_first.splitlines()]}
    b = {e["event"]: e for e in (json.loads(x) for x in out_second.splitlines())}
    assert first.returncode == 0 and second.returncode == 0
    assert a["finished"]["reason"] == b["finished"]["reason"] == "completed"
    assert b["submitted"]["at"] < a["finished"]["at"]  # the second asked while the first trained ...
    assert b["placed"]["at"] >= a["finished"]["at"] - 0.5  # ... and Ray placed it only when the first had ended
