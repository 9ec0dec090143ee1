"""The training-job registry: slots, queue order, stopping, failures, the heartbeat watchdog and
the one event history a job records into."""

from __future__ import annotations

import threading
import time

import pytest

from app.jobs import EventHistory, JobRegistry


def ticker(n: int, gate: threading.Event | None = None, dt: float = 0.01):
    """A fake training run: yields n steps, waiting on ``gate`` before finishing."""

    def run(stop: threading.Event):
        for i in range(n):
            if stop.is_set():
                return
            yield i
            time.sleep(dt)
        while gate is not None and not gate.is_set() and not stop.is_set():
            time.sleep(0.01)

    return run


def wait_until(cond, timeout: float = 5.0) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if cond():
            return
        time.sleep(0.01)
    raise AssertionError("condition not reached in time")


@pytest.fixture
def registry():
    reg = JobRegistry(slots=2)
    yield reg
    reg.shutdown()


def test_runs_beyond_the_slots_wait_in_order(registry):
    gate = threading.Event()
    jobs = [registry.submit(f"s{i}", "run", ticker(3, gate)) for i in range(4)]
    wait_until(lambda: registry.running_count == 2)
    assert [j.status for j in jobs] == ["running", "running", "queued", "queued"]
    assert [registry.queue_position(j) for j in jobs] == [None, None, 1, 2]
    gate.set()
    wait_until(lambda: all(j.status == "done" for j in jobs))
    assert all(j.events() == [0, 1, 2] for j in jobs)
    assert registry.running_count == 0 and registry.queued_count == 0


def test_stop_a_running_and_a_queued_run(registry):
    gate = threading.Event()
    a, b, c = (registry.submit(s, "run", ticker(1000, gate)) for s in ("a", "b", "c"))
    wait_until(lambda: a.status == "running" and b.status == "running")
    registry.stop(c)
    wait_until(lambda: c.status == "stopped")
    assert c.events() == [] and c.stop_reason == "user"
    registry.stop(a)
    wait_until(lambda: a.status == "stopped")
    assert 0 < len(a.events()) < 1000
    registry.stop(b)


def test_one_active_run_per_session(registry):
    registry.submit("s", "run", ticker(1000))
    with pytest.raises(RuntimeError, match="already has a training run"):
        registry.submit("s", "again", ticker(1))


def test_a_failing_run_reports_a_sentence(registry):
    def broken(stop):
        yield 1
        raise ValueError("loss became NaN")

    job = registry.submit("s", "run", broken)
    wait_until(lambda: not job.active)
    assert job.status == "failed" and "loss became NaN" in job.error and job.events() == [1]
    assert registry.running_count == 0


def test_watchdog_stops_runs_whose_session_stopped_beating():
    reg = JobRegistry(slots=2, watchdog_interval=0.05, grace=0.3)
    beating = threading.Event()
    try:
        keep = reg.submit("open", "run", ticker(10_000))
        gone = reg.submit("closed", "run", ticker(10_000))

        def heartbeat() -> None:  # what an open tab's fragments do
            while not beating.is_set():
                keep.mark_seen()
                time.sleep(0.05)

        threading.Thread(target=heartbeat, daemon=True).start()
        wait_until(lambda: keep.status == "running" and gone.status == "running")
        gone.mark_seen()  # the tab's last beat; then it closes
        time.sleep(0.1)
        assert gone.status == "running"  # a short silence is forgiven
        wait_until(lambda: gone.status == "stopped")
        assert gone.stop_reason == "session closed"
        assert keep.status == "running"  # the open tab's run goes on
        wait_until(lambda: not gone.thread.is_alive())
        wait_until(lambda: gone not in reg.jobs())  # the finished job of a departed session is dropped
        assert keep in reg.jobs()
    finally:
        beating.set()
        reg.shutdown()
    assert not keep.thread.is_alive()


def test_without_a_grace_nothing_is_stopped_for_silence():
    reg = JobRegistry(slots=1)  # no watchdog: a notebook or a test drives the registry
    try:
        job = reg.submit("s", "run", ticker(10_000))
        job.last_seen -= 3600  # an hour without a heartbeat
        wait_until(lambda: job.status == "running")
        time.sleep(0.2)
        assert job.status == "running"
    finally:
        reg.shutdown()


def test_a_job_records_into_the_history_it_is_given(registry):
    history = EventHistory()
    job = registry.submit("s", "run", ticker(3), history=history)
    wait_until(lambda: job.status == "done")
    assert job.history is history and list(history) == [0, 1, 2] == job.events()
    copy = job.events()
    copy.append(99)  # a reader's copy is its own
    assert len(history) == 3 and history[-1] == 2


def test_training_threads_run_at_a_lower_cpu_priority():
    import os

    seen: list[int] = []

    def run(stop: threading.Event):
        seen.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))
        yield 0

    reg = JobRegistry(slots=1, nice=7)
    job = reg.submit("a", "niced", run)
    wait_until(lambda: not job.active)
    base = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    assert seen == [min(19, base + 7)]
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == base  # the caller is untouched


def test_a_job_keeps_its_run_id_and_owner_and_the_class_view_lists_active_jobs(registry):
    gate = threading.Event()
    a = registry.submit("ws-a", "run a", ticker(3, gate), run_id="r-a")
    b = registry.submit("ws-b", "run b", ticker(3, gate), run_id="r-b")
    c = registry.submit("ws-c", "run c", ticker(3, gate), run_id="r-c")
    wait_until(lambda: registry.running_count == 2)
    assert [(j.owner, j.run_id, j.status) for j in registry.active_jobs()] == [
        ("ws-a", "r-a", "running"),
        ("ws-b", "r-b", "running"),
        ("ws-c", "r-c", "queued"),
    ]
    assert registry.find_run("r-b") is b and registry.find_run("nope") is None
    assert registry.latest_for("ws-c") is c
    gate.set()
    wait_until(lambda: not a.active and not b.active and not c.active)
    assert registry.active_jobs() == []


def _started(total: int, epochs: int = 2):
    from cnn_core.training import RunStarted

    return RunStarted(total, total // epochs, epochs, 32, 100, 10, "cpu", "fp32", 1)


def _step(step: int, elapsed: float, eta: float):
    from cnn_core.training import StepEvent

    return StepEvent(step, 1, 0.5, 1.0, 1e-3, 100.0, elapsed, elapsed, eta)


def test_progress_comes_from_the_events():
    history = EventHistory([_started(100), _step(25, 10.0, 30.0)])
    p = history.progress()
    assert (p.step, p.total_steps, p.epoch, p.epochs, p.fraction, p.eta_s) == (25, 100, 1, 2, 0.25, 30.0)
    assert p.expected_finish == pytest.approx(p.at + 30.0)
    assert EventHistory().progress() is None


def test_a_queued_run_is_told_how_long_it_should_wait():
    gate = threading.Event()

    def scripted(events):
        def run(stop):
            yield from events
            while not gate.is_set() and not stop.is_set():
                time.sleep(0.01)

        return run

    reg = JobRegistry(slots=2)
    try:
        reg.submit("a", "a", scripted([_started(100), _step(50, 20.0, 20.0)]))  # 20 s left, 40 s in all
        reg.submit("b", "b", scripted([_started(100), _step(10, 5.0, 60.0)]))  # 60 s left, 65 s in all
        first = reg.submit("c", "c", scripted([]))
        second = reg.submit("d", "d", scripted([]))
        wait_until(lambda: reg.running_count == 2 and all(j.progress() and j.progress().step for j in reg.jobs()[:2]))
        assert reg.wait_estimate(first) == pytest.approx(20.0, abs=1.0)  # the first slot to free up
        # the second waits for the first queued run too: 20 s + (40 + 65) / 2 s, or the 60 s slot
        assert reg.wait_estimate(second) == pytest.approx(60.0, abs=1.0)
        assert reg.wait_estimate(reg.jobs()[0]) is None  # a running job is not waiting
    finally:
        gate.set()
        reg.shutdown()


def test_the_stop_rule_stops_a_running_job_with_its_sentence():
    verdicts: dict[str, tuple[str, str]] = {}
    reg = JobRegistry(slots=1, watchdog_interval=0.05, stop_rule=lambda job: verdicts.get(job.run_id))
    try:
        job = reg.submit("ws", "run", ticker(100_000), run_id="r1")
        wait_until(lambda: job.status == "running")
        time.sleep(0.2)
        assert job.status == "running"  # no verdict, no stop
        verdicts["r1"] = ("instructor", "Stopped by the instructor.")
        wait_until(lambda: job.status == "stopped")
        assert (job.stop_reason, job.stop_message) == ("instructor", "Stopped by the instructor.")
    finally:
        reg.shutdown()


def test_any_tab_of_a_workspace_keeps_its_run():
    reg = JobRegistry(slots=1, watchdog_interval=0.05, grace=0.3)
    try:
        job = reg.submit("ws", "run", ticker(100_000))
        wait_until(lambda: job.status == "running")
        deadline = time.time() + 1.0
        while time.time() < deadline:  # a second tab beats for the workspace, not for the job object
            reg.beat("ws")
            time.sleep(0.05)
        assert job.status == "running"
        with pytest.raises(RuntimeError, match="already has a training run"):
            reg.submit("ws", "second tab", ticker(1))
    finally:
        reg.shutdown()


EMBEDDED = """
import os, sys
os.environ.pop("CONVLAB_RAY_ADDRESS", None); os.environ.pop("CONVLAB_DATABASE_URL", None)
import app.jobs, app.workspace, app.training.run
from app.workspace import WorkspaceStore
store = WorkspaceStore(sys.argv[1])
store.put_item("ws-1", "kernel", "", [[1]])
assert store.db.kind == "sqlite", store.db.kind
print(",".join(m for m in ("ray", "psycopg") if m in sys.modules))
"""


def test_the_embedded_setup_never_imports_ray_or_psycopg(tmp_path) -> None:
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-c", EMBEDDED, str(tmp_path)], cwd=root, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-500:]
    assert done.stdout.strip() == ""  # neither was imported


def test_a_cluster_registry_keeps_a_run_queued_until_it_is_placed() -> None:
    class Cluster:  # stands in for RayCluster: its place and wait
        def position(self, job):  # noqa: ANN001, ANN201
            return 3

        def wait(self, job, fallback_s=None):  # noqa: ANN001, ANN201
            return 42.0

    placed = threading.Event()
    reg = JobRegistry(slots=1, cluster=Cluster())
    box: list = []

    def run(stop: threading.Event):  # noqa: ANN202
        placed.wait(10)
        reg.started(box[0])
        yield from ()

    try:
        a = reg.submit("ws-a", "a", run)
        box.append(a)
        b = reg.submit("ws-b", "b", lambda stop: iter(()))  # more than the slots: the cluster queues, not this process
        time.sleep(0.3)
        assert a.status == "queued" and reg.queue_position(a) == 3 and reg.wait_estimate(a) == 42.0
        placed.set()
        deadline = time.monotonic() + 10
        while a.active or b.active:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert a.started_at is not None and a.status == "done" and b.status == "done"
        assert reg.queue_position(a) is None and reg.queued_count == 0 and reg.running_count == 0
    finally:
        reg.shutdown()


def test_a_ray_cluster_that_cannot_be_reached_is_a_sentence(monkeypatch: pytest.MonkeyPatch) -> None:
    from app.jobs import TrainingProcessError
    from app.jobs import ray_runner as R
    from cnn_core import data as D
    from cnn_core import models
    from cnn_core import training as T

    def refuse() -> None:
        raise ConnectionError("Could not find any running Ray instance")

    monkeypatch.setattr(R, "connect", refuse)
    cfg = models.fast_config(1, 7, image_size=16, widths=(4, 8, 8))
    run = T.TrainConfig(batch_size=16, epochs=1, device="cpu", threads=1)
    with pytest.raises(TrainingProcessError, match="training cluster cannot be reached just now"):
        next(R.train_on_ray(models.build(cfg), cfg, D.synthetic_shapes(10, size=16, seed=0), run))
