"""The workspace store: items, runs, model files, quota, expiry, forget, and every kind of bad state.

Each test gets its own store under ``tmp_path``. The tests that use the ``make``/``store`` fixtures
run twice: on the SQLite file and on a fresh database of a real PostgreSQL server on loopback
(:class:`tests.server.services.PgServer`, one per module; skipped with the reason printed where it
cannot start); the tests of the SQLite file going bad run on SQLite only. The running user is root on the test machines, for
whom ``chmod`` does not stop writes, so an unwritable folder is made by pointing the store's root at
a path under a regular file (no folder can be created there), and a full disk by SQLite's own
``max_page_count`` limit (the real SQLITE_FULL error) and an ``OSError(ENOSPC)`` from the file
write; the chmod test runs only where the user is not root.
"""

from __future__ import annotations

import errno
import os
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import torch

from app.workspace import RunRecord, StoreError, WorkspaceStore
from app.workspace import files as ws_files
from app.workspace.runs import OWNER
from tests.server.services import PgServer, start_or_skip

ROOT = Path(__file__).resolve().parents[2]
WS = "ws-alice_0123456789"
UNSAVED = "Your work could not be saved on the server"


def run(store: WorkspaceStore, ws: str = WS, *, status: str = "finished", created: float | None = None, **kw) -> RunRecord:
    now = time.time() if created is None else created
    record = RunRecord(store.new_run_id(), ws, "ConvLab fast on Shapes, 2 epochs", status, now, now, **kw)
    store.save_run(record)
    return record


@pytest.fixture(scope="module")
def pg() -> Iterator[PgServer]:
    server = start_or_skip(PgServer())
    yield server  # type: ignore[misc]
    server.stop()


@pytest.fixture(params=["sqlite", "postgres"])
def make(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[..., WorkspaceStore]]:
    """Stores on one backend, all on the same database (the SQLite file under ``tmp_path``, or a fresh PostgreSQL one)."""
    url = request.getfixturevalue("pg").fresh_url() if request.param == "postgres" else ""
    made: list[WorkspaceStore] = []

    def build(**kw: Any) -> WorkspaceStore:
        made.append(WorkspaceStore(tmp_path / "state", database_url=url, **kw))
        return made[-1]

    yield build
    for s in made:
        s.db.close()


@pytest.fixture
def store(make: Callable[..., WorkspaceStore]) -> WorkspaceStore:
    return make()


@pytest.fixture
def sqlite_store(tmp_path: Path) -> WorkspaceStore:
    return WorkspaceStore(tmp_path / "state", database_url="")


def raw(store: WorkspaceStore, sql: str, params: tuple[Any, ...] = ()) -> None:
    """Change the database behind the store's back (what a damaged row looks like)."""
    if store.shared:
        store.db.connection().execute(sql, params)
        return
    with sqlite3.connect(store.database) as conn:
        conn.execute(sql, params)


# --- items ---


def test_items_round_trip_replace_and_delete(store: WorkspaceStore) -> None:
    assert store.get_item(WS, "kernel") is None
    store.put_item(WS, "kernel", "", {"rows": [[1, 0, -1], [2, 0, -2]], "name": "Sobel"})
    assert store.get_item(WS, "kernel") == {"rows": [[1, 0, -1], [2, 0, -2]], "name": "Sobel"}
    store.put_item(WS, "kernel", "", [[1]])
    assert store.get_item(WS, "kernel") == [[1]]
    store.put_item(WS, "quiz", "conv-1", {"right": 3})
    store.put_item(WS, "quiz", "pool-2", {"right": 1})
    assert store.items(WS, "quiz") == {"conv-1": {"right": 3}, "pool-2": {"right": 1}}
    assert store.items("someone-else", "quiz") == {}
    store.delete_item(WS, "quiz", "conv-1")
    assert store.items(WS, "quiz") == {"pool-2": {"right": 1}}
    assert store.root == store.database.parent and store.database.name == "convlab.sqlite3"
    assert store.db.kind == ("postgres" if store.shared else "sqlite")


@pytest.mark.parametrize("bad", ["", "a" * 65, "../etc", "a b", "ws/1", None])
def test_bad_workspace_ids_are_refused_with_a_sentence(store: WorkspaceStore, bad: object) -> None:
    with pytest.raises(ValueError, match="A workspace id is 1 to 64 letters"):
        store.get_item(bad, "kernel")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="run id"):
        store.load_model(WS, "../../x")


def test_a_corrupt_item_is_dropped_with_a_sentence_and_nothing_else_is(store: WorkspaceStore) -> None:
    store.put_item(WS, "kernel", "", [[1, 2]])
    store.put_item(WS, "network", "", {"name": "LeNet-5"})
    raw(store, "UPDATE items SET value='{not json' WHERE kind='kernel'")
    with pytest.raises(StoreError, match="Your saved kernel could not be read .* removed"):
        store.get_item(WS, "kernel")
    assert store.get_item(WS, "kernel") is None  # dropped: a fresh start for that item only
    assert store.get_item(WS, "network") == {"name": "LeNet-5"}
    raw(store, "INSERT INTO items VALUES (?, 'quiz', 'a', '[1', 0)", (WS,))
    raw(store, "INSERT INTO items VALUES (?, 'quiz', 'b', '[2]', 0)", (WS,))
    assert store.items(WS, "quiz") == {"b": [2]}


# --- runs, models and checkpoints ---


def test_runs_round_trip_newest_first(store: WorkspaceStore) -> None:
    old = run(store, created=time.time() - 100, settings={"dataset": "Shapes"}, curve=[{"step": 1, "loss": 2.3}])
    new = run(store, status="running", summary={"test_acc": 0.9})
    assert [r.run_id for r in store.runs(WS)] == [new.run_id, old.run_id]
    got = store.get_run(WS, old.run_id)
    assert got is not None and got.settings == {"dataset": "Shapes"} and got.curve == [{"step": 1, "loss": 2.3}]
    assert got.has_model is False and got.checkpoint_step is None
    store.save_run(replace(new, status="finished", curve=[{"step": 5}]))
    assert store.get_run(WS, new.run_id).status == "finished"  # type: ignore[union-attr]
    assert store.get_run("other-workspace", new.run_id) is None  # runs never cross workspaces
    store.delete_run(WS, old.run_id)
    assert [r.run_id for r in store.runs(WS)] == [new.run_id]


def test_model_and_checkpoint_files(store: WorkspaceStore) -> None:
    r = run(store, status="running")
    weights = {"conv.weight": torch.arange(6.0).reshape(1, 1, 2, 3), "conv.bias": torch.zeros(1)}
    store.save_model(WS, r.run_id, weights)
    store.save_checkpoint(WS, r.run_id, 120, {"model": weights, "optimizer": {"lr": 0.01}, "step": 120})
    got = store.get_run(WS, r.run_id)
    assert got is not None and got.has_model and got.checkpoint_step == 120
    store.save_run(replace(r, status="finished"))  # a later save of the record keeps the file facts
    got = store.get_run(WS, r.run_id)
    assert got is not None and got.has_model and got.checkpoint_step == 120
    loaded = store.load_model(WS, r.run_id)
    assert torch.equal(loaded["conv.weight"], weights["conv.weight"])
    assert store.load_checkpoint(WS, r.run_id)["step"] == 120
    assert not list(store.model_dir(WS).glob("*.tmp"))  # atomic writes leave no temp files
    assert store.model_path(WS, r.run_id).exists() != store.shared  # PostgreSQL: bytes in the database
    store.delete_run(WS, r.run_id)
    assert not store.model_path(WS, r.run_id).exists() and not store.checkpoint_path(WS, r.run_id).exists()
    assert store.blobs.present(WS) == set()


def test_a_truncated_model_file_is_a_sentence_and_other_runs_keep_theirs(store: WorkspaceStore) -> None:
    a, b = run(store), run(store)
    for r in (a, b):
        store.save_model(WS, r.run_id, {"w": torch.randn(200, 200)})
    if store.shared:
        raw(store, "UPDATE blobs SET data = substring(data from 1 for 1000) WHERE run_id=? AND kind='model'", (a.run_id,))
    else:
        path = store.model_path(WS, a.run_id)
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(StoreError, match="saved trained model of this run was damaged .* other runs are kept"):
        store.load_model(WS, a.run_id)
    assert store.get_run(WS, a.run_id).has_model is False  # type: ignore[union-attr]
    assert store.get_run(WS, a.run_id).title == a.title  # type: ignore[union-attr]  # the run and its curve stay
    assert store.load_model(WS, b.run_id)["w"].shape == (200, 200)
    with pytest.raises(StoreError, match="no longer on the server"):
        store.load_model(WS, a.run_id)


def test_a_model_file_carrying_code_is_refused(sqlite_store: WorkspaceStore) -> None:
    store = sqlite_store
    r = run(store)
    store.model_dir(WS).mkdir(parents=True, exist_ok=True)
    torch.save({"w": torch.ones(1), "evil": ws_files.BadFile("x")}, store.model_path(WS, r.run_id))  # an arbitrary class
    with pytest.raises(StoreError, match="damaged"):
        store.load_model(WS, r.run_id)


def test_a_corrupt_run_row_is_dropped_alone(store: WorkspaceStore) -> None:
    a, b = run(store), run(store)
    raw(store, "UPDATE runs SET curve='[{' WHERE run_id=?", (a.run_id,))
    with pytest.raises(StoreError, match="could not be read .* your other runs are kept"):
        store.get_run(WS, a.run_id)
    assert [r.run_id for r in store.runs(WS)] == [b.run_id]


def test_interrupted_runs_are_those_whose_process_is_gone(store: WorkspaceStore) -> None:
    mine = run(store, status="running")
    gone, done = run(store, status="queued"), run(store, status="finished")
    raw(store, "UPDATE runs SET owner=? WHERE run_id IN (?, ?)", (OWNER.rsplit(":", 2)[0] + ":999999999:1", gone.run_id, done.run_id))
    assert [r.run_id for r in store.interrupted_runs()] == [gone.run_id]
    assert mine.run_id not in {r.run_id for r in store.interrupted_runs()}  # this process still runs it
    assert [r.run_id for r in store.active_runs()] == [mine.run_id]  # what the console lists from any process


def test_old_runs_beyond_max_runs_are_dropped(make: Callable[..., WorkspaceStore]) -> None:
    store = make(max_runs=3)
    made = [run(store, created=1000.0 + i) for i in range(5)]
    assert [r.run_id for r in store.runs(WS)] == [r.run_id for r in reversed(made[2:])]


# --- quota, expiry, forget, summary ---


def test_quota_prunes_oldest_model_files_first_then_oldest_runs(make: Callable[..., WorkspaceStore]) -> None:
    store = make(quota_bytes=700_000)
    runs = [run(store, created=1000.0 + i) for i in range(3)]
    for r in runs[:2]:
        store.save_model(WS, r.run_id, {"w": torch.zeros(50_000)})  # about 200 kB each
    store.save_model(WS, runs[2].run_id, {"w": torch.zeros(50_000)})
    assert [r.has_model for r in store.runs(WS)] == [True, True, True]
    newest = run(store, created=2000.0)
    store.save_model(WS, newest.run_id, {"w": torch.zeros(50_000)})
    kept = {r.run_id: r.has_model for r in store.runs(WS)}
    assert kept == {newest.run_id: True, runs[2].run_id: True, runs[1].run_id: True, runs[0].run_id: False}
    assert store.summary(WS).bytes_used <= 700_000
    tight = make(quota_bytes=3_000)  # now even the rows do not fit: oldest runs go
    tight.put_item(WS, "kernel", "", [[1]])
    assert len(tight.runs(WS)) < 5 and tight.get_item(WS, "kernel") == [[1]]
    with pytest.raises(StoreError, match="workspace on the server is full"):
        tight.save_model(WS, newest.run_id, {"w": torch.zeros(50_000)})


def test_summary_forget_and_expiry(make: Callable[..., WorkspaceStore]) -> None:
    store = make(expiry_days=1)
    store.put_item(WS, "kernel", "", [[1]])
    store.put_item(WS, "quiz", "a", 1)
    r = run(store)
    store.save_model(WS, r.run_id, {"w": torch.ones(10)})
    s = store.summary(WS)
    assert (s.items, s.runs, s.models, s.quota_bytes) == ({"kernel": 1, "quiz": 1}, 1, 1, 200_000_000)
    assert s.bytes_used > 10 * 4 and s.last_used > time.time() - 60
    store.put_item("bob-0123456789abcdef", "kernel", "", [[2]])
    store.forget(WS)
    assert store.summary(WS).runs == 0 and store.get_item(WS, "kernel") is None and not store.model_dir(WS).exists()
    assert store.get_item("bob-0123456789abcdef", "kernel") == [[2]]  # forgetting one never touches another
    raw(store, "UPDATE workspaces SET last_used=? WHERE ws='bob-0123456789abcdef'", (time.time() - 2 * 86400,))
    store.touch(WS)  # already touched within the minute: no write, and WS has no row any more
    assert store.expire() == 1 and store.get_item("bob-0123456789abcdef", "kernel") is None


def test_limits_follow_a_callable(tmp_path: Path) -> None:
    store = WorkspaceStore(tmp_path, limits=lambda: (1234, 2.0))
    assert (store.quota_bytes, store.expiry_days) == (1234, 2.0)
    assert WorkspaceStore(tmp_path, limits=lambda: (None, None)).quota_bytes == 200_000_000


# --- the database file going bad ---


def test_a_deleted_database_is_recreated_and_files_stay(sqlite_store: WorkspaceStore) -> None:
    store = sqlite_store
    store.put_item(WS, "kernel", "", [[1]])
    r = run(store)
    store.save_model(WS, r.run_id, {"w": torch.ones(3)})
    for tail in ("", "-wal", "-shm"):
        Path(f"{store.database}{tail}").unlink(missing_ok=True)
    assert store.get_item(WS, "kernel") is None  # what was in it is gone, nothing raises
    store.put_item(WS, "kernel", "", [[2]])
    assert store.get_item(WS, "kernel") == [[2]] and store.database.exists()
    assert store.load_model(WS, r.run_id)["w"].sum() == 3  # the model file is untouched


def test_a_deleted_state_folder_is_recreated(sqlite_store: WorkspaceStore) -> None:
    store = sqlite_store
    store.put_item(WS, "kernel", "", [[1]])
    ws_files.remove_tree(store.root)
    store.put_item(WS, "kernel", "", [[3]])
    assert store.get_item(WS, "kernel") == [[3]]


def test_a_corrupt_database_file_is_set_aside_once(sqlite_store: WorkspaceStore) -> None:
    store = sqlite_store
    store.put_item(WS, "kernel", "", [[1]])
    store.db.close()
    for tail in ("-wal", "-shm"):
        Path(f"{store.database}{tail}").unlink(missing_ok=True)
    store.database.write_bytes(os.urandom(8192))
    with pytest.raises(StoreError, match=r"damaged, so it was set aside \(as convlab\.sqlite3\.corrupt-"):
        store.get_item(WS, "kernel")
    assert store.get_item(WS, "kernel") is None  # once: then a fresh, working database
    store.put_item(WS, "kernel", "", [[4]])
    assert store.get_item(WS, "kernel") == [[4]]
    assert len(list(store.root.glob("convlab.sqlite3.corrupt-*"))) == 1


def test_a_database_corrupted_under_an_open_connection(sqlite_store: WorkspaceStore) -> None:
    store = sqlite_store
    store.put_item(WS, "kernel", "", [[1]])
    fresh = store.database.with_name("garbage")
    fresh.write_bytes(b"this is not a database" * 500)
    os.replace(fresh, store.database)  # another inode: the open connection notices and reopens
    with pytest.raises(StoreError, match="set aside"):
        store.put_item(WS, "kernel", "", [[2]])
    store.put_item(WS, "kernel", "", [[2]])
    assert store.get_item(WS, "kernel") == [[2]]


def test_an_unwritable_root_reads_nothing_and_writes_raise_a_sentence(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    store = WorkspaceStore(blocker / "state")  # no folder can ever be made here, even by root
    assert store.get_item(WS, "kernel") is None and store.runs(WS) == [] and store.items(WS, "quiz") == {}
    assert store.summary(WS).runs == 0 and store.interrupted_runs() == []
    assert store.problem() is not None and UNSAVED in store.problem()  # type: ignore[operator]
    with pytest.raises(StoreError, match=f"{UNSAVED} .*kept in this tab until you close it"):
        store.put_item(WS, "kernel", "", [[1]])
    with pytest.raises(StoreError, match=UNSAVED):
        store.save_model(WS, "run-1", {"w": torch.ones(1)})
    store.touch(WS)  # never raises: the page runs on from memory


def test_a_full_disk_is_a_sentence(sqlite_store: WorkspaceStore, monkeypatch: pytest.MonkeyPatch) -> None:
    store = sqlite_store
    store.put_item(WS, "kernel", "", [[1]])
    conn = store.db.connection()
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.execute(f"PRAGMA max_page_count = {pages}")  # SQLite's own SQLITE_FULL on the next growth
    with pytest.raises(StoreError, match=rf"{UNSAVED} \(the server's disk is full\)"):
        store.put_item(WS, "network", "", {"layers": ["x" * 4096] * 100})
    assert store.get_item(WS, "kernel") == [[1]]  # reads still work, nothing else lost
    r = run(store)

    def full(*args: object, **kw: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(ws_files.os, "replace", full)
    with pytest.raises(StoreError, match=rf"{UNSAVED} \(the server's disk is full\)"):
        store.save_model(WS, r.run_id, {"w": torch.ones(1)})
    assert not list(store.model_dir(WS).iterdir())  # no half file, no temp file left


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root ignores chmod; the test above covers it")
def test_a_read_only_folder_is_a_sentence(sqlite_store: WorkspaceStore) -> None:
    store = sqlite_store
    store.put_item(WS, "kernel", "", [[1]])
    store.db.close()
    for path in (store.root, *store.root.iterdir()):
        path.chmod(0o555 if path.is_dir() else 0o444)
    try:
        with pytest.raises(StoreError, match=UNSAVED):
            store.put_item(WS, "kernel", "", [[2]])
    finally:
        for path in (store.root, *store.root.iterdir()):
            path.chmod(0o755 if path.is_dir() else 0o644)


# --- several writers ---


def test_two_threads_write_at_once(store: WorkspaceStore) -> None:
    def writer(n: int) -> None:
        for i in range(100):
            store.put_item(WS, "quiz", f"{n}-{i}", i)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(store.items(WS, "quiz")) == 200


WRITER = """
import sys
from pathlib import Path
from app.workspace import WorkspaceStore
store = WorkspaceStore(Path(sys.argv[1]), database_url=sys.argv[3])
for i in range(150):
    store.put_item("shared-ws", "quiz", sys.argv[2] + str(i), i)
"""


def test_two_processes_write_at_once(make: Callable[..., WorkspaceStore], tmp_path: Path) -> None:
    store = make()
    url = getattr(store.db, "url", "")
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(tmp_path / "state"), tag, url], cwd=ROOT) for tag in ("a", "b")]
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    assert len(store.items("shared-ws", "quiz")) == 300


PEEK = "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); print(c.execute(sys.argv[2]).fetchone()[0]); c.close()"


def test_a_second_connection_of_this_process_keeps_the_locks_of_the_first(tmp_path: Path) -> None:
    """The server has two pools on one file (the store's and the classroom's) and opens more connections under
    load. Opening one read the file's header through a descriptor of its own, and closing it dropped the
    process's SQLite locks: a short-lived process (a command line posting a banner) then closed as if it were the
    last, deleted the WAL, and the server's later writes went into the deleted file, unseen by anyone else."""
    from app.workspace.db import Database

    path = tmp_path / "convlab.sqlite3"
    first, second = Database(path), Database(path)
    first.run(lambda c: c.execute("SELECT COUNT(*) FROM schema_version").fetchone(), write=False)
    second.run(lambda c: c.execute("SELECT 1").fetchone(), write=False)  # a second connection in this process
    peek = [sys.executable, "-c", PEEK, str(path)]
    subprocess.run([*peek, "SELECT COUNT(*) FROM sqlite_master"], check=True, capture_output=True)
    assert Path(f"{path}-wal").exists()  # the other process saw it was not the last one
    first.run(lambda c: c.execute("INSERT INTO schema_version VALUES (99)"), write=True)
    seen = subprocess.run([*peek, "SELECT COUNT(*) FROM schema_version"], check=True, capture_output=True, text=True)
    assert seen.stdout.strip() == "2"  # what this process wrote is what another process reads


def test_connections_are_reused_across_short_lived_threads(store: WorkspaceStore, monkeypatch: pytest.MonkeyPatch) -> None:
    store.put_item(WS, "kernel", "", [[1]])
    opened = []
    real = store.db._open
    monkeypatch.setattr(store.db, "_open", lambda: opened.append(1) or real())
    for _ in range(20):  # Streamlit runs every page run in a new thread
        t = threading.Thread(target=store.get_item, args=(WS, "kernel"))
        t.start()
        t.join()
    assert opened == []  # the pooled connection served them all
