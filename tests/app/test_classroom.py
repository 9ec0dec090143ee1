"""The classroom state: settings, presence, banner, pushed link, polls, cancels and key attempts.

Two :class:`Classroom` objects over one file stand for two server processes; one subprocess test
checks that a setting saved in one process is read in another.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from app.workspace import Classroom, ClassSettings, StoreError, WorkspaceStore
from app.workspace import classroom as classroom_module

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def db(tmp_path: Path) -> Path:
    store = WorkspaceStore(tmp_path)
    assert store.problem() is None  # opens (creates) the file
    return store.database  # the classroom shares the store's file


def test_settings_default_save_and_reach_another_process_within_a_second(db: Path) -> None:
    here, there = Classroom(db), Classroom(db)
    assert here.settings() == ClassSettings() and there.settings().max_epochs == 50
    chosen = ClassSettings(uploads=False, camera=False, pages=("Kernel Lab", "Training"), max_epochs=5, max_minutes=2.5)
    here.put_settings(chosen)
    assert here.settings() == chosen  # at once in the process that saved it
    deadline = time.monotonic() + 3
    while there.settings() != chosen:  # the other process's cache lasts about a second
        assert time.monotonic() < deadline, "the other process never saw the new settings"
        time.sleep(0.05)
    assert Classroom(db).settings().pages == ("Kernel Lab", "Training")


def test_settings_are_cached_for_about_a_second(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(classroom_module, "SETTINGS_TTL_S", 60.0)  # a slow machine's pause must not end the window
    room = Classroom(db)
    room.settings()
    calls = []
    real = room.db.run
    monkeypatch.setattr(room.db, "run", lambda fn, write: calls.append(write) or real(fn, write=write))
    for _ in range(50):
        room.settings()
    assert calls == []  # fifty page runs, no database read


def test_bad_settings_are_refused_and_damaged_ones_read_as_defaults(db: Path) -> None:
    room = Classroom(db)
    with pytest.raises(ValueError, match="whole number from 1 to 10000"):
        room.put_settings(ClassSettings(max_epochs=0))
    with pytest.raises(ValueError, match="Unknown page 'Secrets'"):
        room.put_settings(ClassSettings(pages=("Secrets",)))
    with sqlite3.connect(db) as conn:
        conn.execute("INSERT OR REPLACE INTO settings VALUES (1, '{\"uploads\": false, \"max_epochs\": \"lots\", \"pages\": [\"Training\", \"x\"]}', 0)")
    got = Classroom(db).settings()
    assert (got.uploads, got.max_epochs, got.pages) == (False, 50, ("Training",))  # good fields kept, bad ones default
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE settings SET value='{broken'")
    assert Classroom(db).settings() == ClassSettings()


def test_presence_labels_nicknames_and_pruning(db: Path) -> None:
    room = Classroom(db)
    room.beat("p-a", page="Kernel Lab")
    room.beat("p-b", page="Training", training="running 45% (epoch 2/5)")
    room.beat("p-c", page="Home", nickname="  Ada  ")
    got = {p.session: p for p in room.sessions()}
    assert [got[s].label for s in ("p-a", "p-b", "p-c")] == ["Student 1", "Student 2", "Ada"]
    assert got["p-b"].training == "running 45% (epoch 2/5)" and got["p-a"].page == "Kernel Lab"
    assert room.label("p-b") == "Student 2" and room.label("nobody") is None
    room.beat("p-a", page="Arithmetic")
    assert {p.session: p.page for p in room.sessions()}["p-a"] == "Arithmetic"
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE presence SET last_seen=? WHERE session='p-a'", (time.time() - 120,))
        conn.execute("UPDATE presence SET last_seen=? WHERE session='p-b'", (time.time() - 7200,))
    assert [p.session for p in room.sessions(within_s=30)] == ["p-c"]
    room.beat("p-d", page="Home")  # a write prunes rows older than an hour; numbers are reused
    with sqlite3.connect(db) as conn:
        assert {r[0] for r in conn.execute("SELECT session FROM presence")} == {"p-a", "p-c", "p-d"}
    assert room.label("p-d") == "Student 2"


def test_banner_and_pushed_link(db: Path) -> None:
    room, other = Classroom(db), Classroom(db)
    assert other.banner() is None and other.pushed_link() is None
    room.post_banner("Restarting in 60 seconds, your work is saved.", seconds=60)
    b = other.banner()
    assert b is not None and b.text.startswith("Restarting in 60") and 59 < b.until - b.posted <= 60
    room.post_banner("gone soon", seconds=0.01)
    time.sleep(0.05)
    assert other.banner() is None  # past its time
    with pytest.raises(ValueError, match="Write the message"):
        room.post_banner("   ")
    room.push_link("/kernel_lab?kernel=Sobel+y", "Sobel y on the cat")
    assert other.pushed_link().url == "/kernel_lab?kernel=Sobel+y"  # type: ignore[union-attr]
    for bad in ("https://evil.example/", "//evil.example/x", "javascript:alert(1)", "/x\n<script>"):
        with pytest.raises(ValueError, match="a path on this server"):
            room.push_link(bad, "x")
    room.clear_link()
    room.clear_banner()
    assert other.pushed_link() is None and other.banner() is None


def test_a_number_poll_counts_one_answer_per_workspace(db: Path) -> None:
    room = Classroom(db)
    poll = room.open_poll("Output height of a 28x28 input, 5x5 kernel, stride 1, valid?", answer="24.0")
    assert poll.answer == "24" and not poll.revealed and room.current_poll() == poll
    room.answer_poll(poll.poll_id, "ws-a", "24")
    room.answer_poll(poll.poll_id, "ws-b", " 48/2 ")  # the same number, another spelling
    room.answer_poll(poll.poll_id, "ws-c", "23")
    room.answer_poll(poll.poll_id, "ws-c", "25")  # a new answer replaces the old
    assert room.poll_answers(poll.poll_id) == {"24": 2, "25": 1}
    assert room.my_answer(poll.poll_id, "ws-c") == "25" and room.my_answer(poll.poll_id, "ws-z") is None
    with pytest.raises(ValueError, match="number"):
        room.answer_poll(poll.poll_id, "ws-d", "twenty")
    room.reveal_poll(poll.poll_id)
    assert room.current_poll().revealed  # type: ignore[union-attr]
    room.close_poll()
    assert room.current_poll() is None and room.get_poll(poll.poll_id).answer == "24"  # type: ignore[union-attr]
    with pytest.raises(StoreError, match="This poll has closed"):
        room.answer_poll(poll.poll_id, "ws-e", "24")


def test_a_choice_poll_and_one_open_poll_at_a_time(db: Path) -> None:
    room = Classroom(db)
    first = room.open_poll("Which kernel finds vertical edges?", kind="choice", choices=("Sobel x", "Sobel y", "Box blur"))
    second = room.open_poll("Pick one", kind="choice", choices=("A", "B", "A", ""))
    assert second.choices == ("A", "B") and room.current_poll().poll_id == second.poll_id  # type: ignore[union-attr]
    with pytest.raises(StoreError, match="closed"):
        room.answer_poll(first.poll_id, "ws-a", "Sobel x")
    room.answer_poll(second.poll_id, "ws-a", "B")
    with pytest.raises(ValueError, match="Pick one of the choices: A, B"):
        room.answer_poll(second.poll_id, "ws-b", "C")
    assert room.poll_answers(second.poll_id) == {"B": 1}
    with pytest.raises(ValueError, match="at least two"):
        room.open_poll("?", kind="choice", choices=("only",))
    with pytest.raises(ValueError, match="a number or a choice"):
        room.open_poll("?", kind="essay")


def test_cancels_and_key_attempts(db: Path) -> None:
    room, other = Classroom(db), Classroom(db)
    assert not other.cancel_requested("run-1")
    room.request_cancel("run-1")
    assert other.cancel_requested("run-1") and not other.cancel_requested("run-2")
    for _ in range(3):
        room.record_key_attempt("127.0.0.1", False)
    room.record_key_attempt("10.0.0.9", False)
    assert other.failed_key_attempts("127.0.0.1") == 3 and other.failed_key_attempts("10.0.0.9") == 1
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE key_attempts SET at=at-1000 WHERE client='10.0.0.9'")
    assert other.failed_key_attempts("10.0.0.9") == 0  # outside the window
    room.record_key_attempt("127.0.0.1", True)
    assert other.failed_key_attempts("127.0.0.1") == 0  # a success starts the count again


def test_an_unwritable_database_reads_defaults_and_writes_raise(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    room = Classroom(blocker / "convlab.sqlite3")
    assert room.settings() == ClassSettings() and room.banner() is None and room.sessions() == []
    assert room.current_poll() is None and room.failed_key_attempts("x") == 0
    with pytest.raises(StoreError, match="could not be saved on the server"):
        room.beat("p-a", page="Home")
    with pytest.raises(StoreError, match="could not be saved"):
        room.put_settings(replace(ClassSettings(), uploads=False))


SETTER = """
import sys
from app.workspace import Classroom, ClassSettings
Classroom(sys.argv[1]).put_settings(ClassSettings(full_datasets=False, max_minutes=3.0))
"""


def test_settings_saved_by_another_process(db: Path) -> None:
    Classroom(db).settings()  # the file exists before the other process opens it
    subprocess.run([sys.executable, "-c", SETTER, str(db)], cwd=ROOT, check=True, timeout=60)
    got = Classroom(db).settings()
    assert (got.full_datasets, got.max_minutes) == (False, 3.0)
    assert classroom_module.PAGE_NAMES == got.pages
