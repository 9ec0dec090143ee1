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
