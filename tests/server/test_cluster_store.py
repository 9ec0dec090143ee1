"""The shared store on a real PostgreSQL server on loopback: what several machines rely on.

Two stores with different state folders stand for two machines: only the database is shared, so a
model saved through one is read through the other from the database's bytes, not from a file. The
classroom on PostgreSQL carries settings, banner, pushed link, polls, presence and cancels from one
process's :class:`Classroom` to another's; a run kept by a process on another machine counts as live
while that process's heartbeat is recent; a server that cannot be reached is a sentence.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

from app.workspace import Classroom, ClassSettings, RunRecord, StoreError, WorkspaceStore
from app.workspace import store as store_module
from tests.server.services import PgServer, free_port, start_or_skip

WS = "ws-carol_0123456789"


@pytest.fixture(scope="module")
def pg() -> Iterator[PgServer]:
    server = start_or_skip(PgServer())
    yield server  # type: ignore[misc]
    server.stop()


def test_two_machines_share_a_workspace_and_its_model(pg: PgServer, tmp_path: Path) -> None:
    url = pg.fresh_url()
    here, there = WorkspaceStore(tmp_path / "a", database_url=url), WorkspaceStore(tmp_path / "b", database_url=url)
    now = time.time()
    record = RunRecord(here.new_run_id(), WS, "ConvLab fast on Shapes, 1 epoch", "finished", now, now, summary={"test_acc": 0.9})
    here.save_run(record)
    here.save_model(WS, record.run_id, {"w": torch.arange(4.0)})
    here.save_checkpoint(WS, record.run_id, 7, {"model": {"w": torch.ones(2)}, "step": 7})
    got = there.get_run(WS, record.run_id)
    assert got is not None and got.has_model and got.checkpoint_step == 7 and got.summary == {"test_acc": 0.9}
    assert torch.equal(there.load_model(WS, record.run_id)["w"], torch.arange(4.0))
    assert not (tmp_path / "a" / "models").exists()  # the bytes are in the database, not beside one machine
    there.forget(WS)
    assert here.runs(WS) == [] and here.blobs.present(WS) == set()


def test_a_run_of_another_machine_is_live_while_its_process_beats(pg: PgServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = WorkspaceStore(tmp_path, database_url=pg.fresh_url())
    now = time.time()
    record = RunRecord(store.new_run_id(), WS, "a run", "running", now, now)
    store.save_run(record)
    other = "node-b:4242:123"
    conn = store.db.connection()
    conn.execute("UPDATE runs SET owner=? WHERE run_id=?", (other, record.run_id))
    conn.execute("INSERT INTO processes (owner, beat) VALUES (?, ?)", (other, time.time()))
    assert [r.run_id for r in store.active_runs()] == [record.run_id] and store.interrupted_runs() == []
    conn.execute("UPDATE processes SET beat=? WHERE owner=?", (time.time() - store_module.ALIVE_S - 5, other))
    assert [r.run_id for r in store.interrupted_runs()] == [record.run_id]  # its machine went quiet


def test_the_classroom_reaches_another_process(pg: PgServer) -> None:
    url = pg.fresh_url()
    here, there = Classroom(Path("unused.sqlite3"), database_url=url), Classroom(Path("unused.sqlite3"), database_url=url)
    chosen = ClassSettings(uploads=False, pages=("Kernel Lab", "Training"), max_epochs=5, max_minutes=2.5)
    here.put_settings(chosen)
    here.post_banner("Look at slide 4", seconds=60)
    here.push_link("/kernel_lab?kernel=Sobel+y", "Sobel")
    poll = here.open_poll("Output size of a 3x3 conv on 28x28?", answer="26")
    deadline = time.monotonic() + 3
    while there.settings() != chosen:
        assert time.monotonic() < deadline, "the other process never saw the settings"
        time.sleep(0.05)
    assert there.banner() is not None and there.banner().text == "Look at slide 4"  # type: ignore[union-attr]
    assert there.pushed_link() is not None and there.pushed_link().url == "/kernel_lab?kernel=Sobel+y"  # type: ignore[union-attr]
    current = there.current_poll()
    assert current is not None and current.poll_id == poll.poll_id > 0
    there.answer_poll(poll.poll_id, "ws-a", "26")
    there.answer_poll(poll.poll_id, "ws-b", "24")
    there.answer_poll(poll.poll_id, "ws-b", "26")  # a changed answer replaces the first
    assert here.poll_answers(poll.poll_id) == {"26": 2}
    there.beat("session-1", page="Training")
    here.beat("session-2", page="Kernel Lab")
    assert [p.label for p in here.sessions()] == ["Student 1", "Student 2"]
    here.request_cancel("run-1")
    assert there.cancel_requested("run-1") and not there.cancel_requested("run-2")


def test_an_unreachable_server_reads_nothing_and_writes_raise_a_sentence(tmp_path: Path) -> None:
    store = WorkspaceStore(tmp_path, database_url=f"postgresql://convlab@127.0.0.1:{free_port()}/none?connect_timeout=1")
    assert store.get_item(WS, "kernel") is None and store.runs(WS) == []
    with pytest.raises(StoreError, match="could not be saved on the server .*database server cannot be reached"):
        store.put_item(WS, "kernel", "", [[1]])
    assert Classroom(tmp_path / "x", database_url=store.db.url).settings() == ClassSettings()  # type: ignore[attr-defined]


def test_a_queued_run_sees_its_place_across_processes_and_a_wait(pg: PgServer, tmp_path: Path) -> None:
    from app.jobs.ray_runner import RayCluster
    from app.jobs.registry import Job

    url = pg.fresh_url()
    a, b = WorkspaceStore(tmp_path / "a", database_url=url), WorkspaceStore(tmp_path / "b", database_url=url)
    now = time.time()
    done = RunRecord(a.new_run_id(), "ws-0", "done", "finished", now - 200, now - 100, summary={"seconds": 40.0})
    a.save_run(done)
    queued = []
    for i, store in enumerate((a, b, a)):  # three runs queued through two app processes
        record = RunRecord(store.new_run_id(), f"ws-{i + 1}", "waiting", "queued", now + i, now + i)
        store.save_run(record)
        queued.append(record)
    cluster = RayCluster(lambda: b, cpus_per_run=2)  # no Ray address here: one slot
    jobs = [Job(id=i, owner=r.workspace, label="x", run_id=r.run_id) for i, r in enumerate(queued)]
    assert [cluster.position(j) for j in jobs] == [1, 2, 3]
    assert [cluster.wait(j) for j in jobs] == [40.0, 80.0, 120.0]  # the finished runs' time, one slot
    b.save_run(RunRecord(queued[0].run_id, "ws-1", "waiting", "running", now, time.time()))
    assert [cluster.position(j) for j in jobs] == [None, 1, 2]


def test_the_console_counts_the_whole_class_runs_on_ray(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from app.instructor.live import _counts
    from app.jobs import JobRegistry
    from app.jobs.ray_runner import RayCluster
    from app.workspace import identity

    # A store of its own (SQLite): the counts come from the store, and the test run's shared one can still hold
    # a run another test's process left running (CI once counted "2 of 1").
    store = WorkspaceStore(tmp_path, database_url="")
    monkeypatch.setattr(identity, "store", lambda: store)
    now = time.time()
    for i, status in enumerate(("running", "queued", "queued", "finished")):
        store.save_run(RunRecord(store.new_run_id(), f"ws-console-{i}", "a run", status, now + i, now + i))
    local = JobRegistry(slots=2)
    assert _counts(local) == ("0 of 2", 0, "Runs training now, of the slots")  # one machine: this process's slots
    on_ray = JobRegistry(slots=2, cluster=RayCluster(identity.store, cpus_per_run=1))
    training, waiting, _ = _counts(on_ray)
    assert (training, waiting) == ("1 of 1", 2)  # every live process's runs; no Ray address here: one slot
