"""The classroom box's watch address (app/server/class_watch.py): what it answers, what it writes, and on a
live server that a student's page names it and its stamp moves when the instructor posts something.

The browser side (the component that asks it and reruns the box) is checked by
``tests/e2e/test_instructor_e2e.py``: a banner and a pushed link reach both students without a click.
"""

from __future__ import annotations

import asyncio
import json
import threading
from pathlib import Path

import pytest

from app.server import class_watch
from app.server.class_watch import ClassWatch, Tab
from app.workspace import Classroom, WorkspaceStore


@pytest.fixture
def room(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Classroom:
    monkeypatch.setattr(class_watch, "registry", lambda: None)  # no training registry (torch) in these checks
    store = WorkspaceStore(tmp_path)
    assert store.problem() is None
    return Classroom(store.database)


class FakeJob:
    active = True

    def __init__(self) -> None:
        self.seen = 0

    def mark_seen(self) -> None:
        self.seen += 1


def _get(path: str, query: bytes) -> tuple[int, dict, bool]:
    """One request through the middleware (in a thread of its own: Playwright may hold this one's loop)."""
    sent: list[dict] = []
    passed: list[str] = []

    async def inner(scope, receive, send):
        passed.append(scope["path"])
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    async def send(message):
        sent.append(message)

    async def receive():
        return {"type": "http.request"}

    scope = {"type": "http", "method": "GET", "path": path, "query_string": query, "headers": []}
    t = threading.Thread(target=asyncio.run, args=(ClassWatch(inner)(scope, receive, send),))
    t.start()
    t.join()
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return sent[0]["status"], (json.loads(body) if body else {}), bool(passed)


def test_other_addresses_pass_through_and_an_unknown_tab_gets_404():
    assert _get("/kernel_lab", b"") == (204, {}, True)
    assert _get("/_stcore/health", b"") == (204, {}, True)
    assert _get("/kernel_lab/_convlab/class", b"t=nobody-has-this-token") == (404, {"stamp": None}, False)
    assert _get("/_convlab/class", b"")[0] == 404


def test_an_ask_beats_presence_and_the_run_and_its_stamp_follows_what_the_box_shows(room: Classroom, monkeypatch):
    job = FakeJob()
    tab = class_watch.register("tok-1", Tab(room, "ws-1", "p-one", "Kernel Lab", "Ada", job))
    status, body, passed = _get("/kernel_lab/_convlab/class", b"t=tok-1")
    assert status == 200 and not passed and job.seen == 1
    drawn = class_watch.stamp(room.settings(), class_watch.read_news(room), None)
    assert body["stamp"] == drawn  # nothing changed since the box was drawn: no rerun
    [me] = room.sessions()
    assert (me.session, me.label, me.page) == ("p-one", "Ada", "Kernel Lab")

    room.post_banner("Pens down.", seconds=60)
    monkeypatch.setattr(class_watch, "NEWS_TTL_S", 0.0)  # the next ask reads the database (else within a second)
    changed = _get("/kernel_lab/_convlab/class", b"t=tok-1")[1]["stamp"]
    assert changed != drawn
    assert changed == class_watch.stamp(room.settings(), class_watch.read_news(room), None)
    assert tab.beat_row is not None


def test_an_unchanged_presence_row_is_written_every_ten_seconds_not_on_every_ask(room: Classroom, monkeypatch):
    writes: list[str] = []
    real = room.beat
    monkeypatch.setattr(room, "beat", lambda s, **kw: writes.append(kw["page"]) or real(s, **kw))
    tab = class_watch.register("tok-2", Tab(room, "ws-2", "p-two", "Arithmetic", None))
    for _ in range(5):
        assert _get("/arithmetic/_convlab/class", b"t=tok-2")[0] == 200
    assert writes == ["Arithmetic"]
    tab.beat_at -= class_watch.BEAT_EVERY_S  # ten seconds later
    _get("/arithmetic/_convlab/class", b"t=tok-2")
    assert writes == ["Arithmetic", "Arithmetic"]
    class_watch.register("tok-2", Tab(room, "ws-2", "p-two", "Training", None))  # the tab went to another page
    class_watch.beat(class_watch.tab_of("tok-2"), None)
    assert writes[-1] == "Training" and room.sessions()[0].page == "Training"


def test_news_is_read_once_a_second_and_again_at_once_after_this_process_changed_it(tmp_path, monkeypatch) -> None:
    room = Classroom(tmp_path / "class.sqlite3")
    reads = []
    real = class_watch.read_news
    monkeypatch.setattr(class_watch, "read_news", lambda r: reads.append(1) or real(r))
    monkeypatch.setattr(class_watch, "NEWS_TTL_S", 60.0)  # a slow machine's pause must not end the window here
    assert class_watch.news(room).banner is None
    assert class_watch.news(room).banner is None
    assert len(reads) == 1  # within the second: every tab's rerun shares one read
    room.post_banner("Quiz in 5 minutes")
    assert class_watch.news(room).banner.text == "Quiz in 5 minutes"  # this process's change: read again at once
    room.open_poll("How many parameters?")
    assert class_watch.news(room).poll.question == "How many parameters?"
    assert len(reads) == 3
