"""The classroom's watch address: each student's tab asks it every few seconds instead of rerunning its page.

The sidebar's classroom box (:mod:`app.instructor.in_class`) registers its tab here under a random
token (:func:`register`) and mounts a small browser component that GETs ``<page>/_convlab/class?t=<token>``
every :data:`EVERY_S` seconds. :class:`ClassWatch`, an ASGI middleware in front of Streamlit, answers
it in a worker thread: it beats the tab's presence into the classroom (written when the row changed,
else every :data:`BEAT_EVERY_S` seconds; the console counts a page present for 30 s), keeps the tab's
training run alive (the heartbeat a closed tab stops giving) and returns ``{"stamp": ...}``, a digest of
what the box shows (class settings, banner, pushed link, open poll, the training line). The browser
reruns the box only when the stamp differs from the one it was drawn with, so an idle class costs one
small HTTP request per tab and no Streamlit run. An unknown token gets 404 and the box is redrawn.
The banner, link and poll are read once per :data:`NEWS_TTL_S` per process, whatever the class size.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import sys
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import astuple, dataclass, field
from typing import Any
from urllib.parse import parse_qs

from app.workspace import StoreError
from app.workspace.classroom import Banner, Classroom, ClassSettings, Poll, PushedLink

PATH = "/_convlab/class"
EVERY_S = 3.0  # how often a tab asks (what a tab's sidebar showed was refreshed this often before)
BEAT_EVERY_S = 10.0  # an unchanged presence row is rewritten this often
NEWS_TTL_S = 1.0
FORGET_S = 600.0  # a token not heard of for this long is dropped (the tab is long closed)


@dataclass(frozen=True)
class News:
    """What every student's box shows from the class: the banner, the pushed link, the open poll."""

    banner: Banner | None
    link: PushedLink | None
    poll: Poll | None


@dataclass
class Tab:
    """One open tab's classroom box, as the watch address needs it (registered by each draw of the box)."""

    room: Classroom
    workspace: str
    presence: str  # the one-way name the console shows (in_class.presence_id)
    page: str
    nickname: str | None
    job: Any = None  # this tab's own training run (app.jobs.Job), if any
    status: Callable[[Any, Any], str | None] = lambda job, jobs: None  # (job, registry) -> the training line
    heard: float = field(default_factory=time.monotonic)
    beat_row: tuple | None = None  # the presence row last written, and when
    beat_at: float = 0.0


_TABS: dict[str, Tab] = {}
_NEWS: weakref.WeakKeyDictionary[Classroom, tuple[float, int, News]] = (
    weakref.WeakKeyDictionary()
)  # room -> (monotonic s, the room's news_version then, news)
_LOCK = threading.Lock()


def register(token: str, tab: Tab) -> Tab:
    """Keep ``tab`` under ``token`` (the presence row it last wrote carries over); returns the kept tab."""
    now = time.monotonic()
    with _LOCK:
        old = _TABS.get(token)
        if old is not None:
            tab.beat_row, tab.beat_at = old.beat_row, old.beat_at
        _TABS[token] = tab
        if len(_TABS) > 256:
            for gone in [t for t, v in _TABS.items() if now - v.heard > FORGET_S]:
                del _TABS[gone]
    return tab


def tab_of(token: str) -> Tab | None:
    with _LOCK:
        return _TABS.get(token)


def read_news(room: Classroom) -> News:
    """The banner, link and open poll as they are in the database now."""
    return News(room.banner(), room.pushed_link(), room.current_poll())


def news(room: Classroom) -> News:
    """:func:`read_news`, read at most once per :data:`NEWS_TTL_S` per process, and again at once after this
    process changed them (``room.news_version``). The watch address asks this, and so does a drawn box: both
    show the same news, so a box redrawn because the stamp moved shows what moved it, and 100 tabs' reruns
    cost three reads a second, not three each (issue #15)."""
    now = time.monotonic()
    version = room.news_version
    with _LOCK:
        cached = _NEWS.get(room)
    if cached is not None and now - cached[0] < NEWS_TTL_S and cached[1] == version:
        value = cached[2]
        if value.banner is not None and value.banner.until < time.time():
            value = News(None, value.link, value.poll)
        return value
    value = read_news(room)
    with _LOCK:
        _NEWS[room] = (now, version, value)
    return value


def registry() -> Any:
    """The server's training registry, or None while no page of this process has imported training (torch)."""
    if "app.training" not in sys.modules:
        return None
    from app.training import registry as training_registry

    return training_registry()


def current_job(tab: Tab, jobs: Any) -> Any:
    """The tab's own run, or an active run of the same workspace started in another tab."""
    job = tab.job
    if jobs is not None and (job is None or not job.active):
        other = jobs.latest_for(tab.workspace)
        if other is not None and (other.active or job is None):
            job = other
    return job


def stamp(settings: ClassSettings, shown: News, training: str | None, reachable: bool = True) -> str:
    """A short digest of what the box shows: it changes exactly when the box should be redrawn."""
    parts = [
        reachable,  # False: the box says the classroom is out of reach
        astuple(settings),
        None if shown.banner is None else (shown.banner.text, shown.banner.posted),
        None if shown.link is None else astuple(shown.link),
        None if shown.poll is None else (shown.poll.poll_id, shown.poll.revealed),
        training,
    ]
    return hashlib.sha256(json.dumps(parts, default=str).encode()).hexdigest()[:16]


def beat(tab: Tab, training: str | None, *, force: bool = False) -> None:
    """Write the tab's presence when it changed, when forced, or every :data:`BEAT_EVERY_S` seconds."""
    row = (tab.presence, tab.page, tab.nickname, training)
    now = time.monotonic()
    with _LOCK:
        if not force and row == tab.beat_row and now - tab.beat_at < BEAT_EVERY_S:
            return
        tab.beat_row, tab.beat_at = row, now
    try:
        tab.room.beat(tab.presence, page=tab.page, nickname=tab.nickname, training=training)
    except StoreError:
        with _LOCK:
            tab.beat_row = None  # not written: the next ask tries again
        raise


def answer(token: str) -> dict[str, Any] | None:
    """What the watch address says to ``token``'s tab (None: no such tab in this process)."""
    tab = tab_of(token)
    if tab is None:
        return None
    tab.heard = time.monotonic()
    jobs = registry()
    job = current_job(tab, jobs)
    if job is not None:
        job.mark_seen()  # the run's heartbeat: this tab is open, on whatever page
    if jobs is not None:
        jobs.beat(tab.workspace)
    training = tab.status(job, jobs) if job is not None and jobs is not None else None
    try:
        beat(tab, training)
        reachable = True
    except StoreError:
        reachable = False  # the box is redrawn and says the classroom is out of reach
    return {"stamp": stamp(tab.room.settings(), news(tab.room), training, reachable)}


class ClassWatch:
    """Pure ASGI middleware: answers GET ``.../_convlab/class?t=<token>``, passes everything else on."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or not scope.get("path", "").endswith(PATH):
            await self.app(scope, receive, send)
            return
        token = (parse_qs(scope.get("query_string", b"").decode("latin-1")).get("t") or [""])[0][:64]
        body = await asyncio.to_thread(answer, token) if scope.get("method") == "GET" and token else None
        status = 200 if body is not None else 404
        payload = json.dumps(body if body is not None else {"stamp": None}).encode()
        headers = [
            (b"content-type", b"application/json"),
            (b"cache-control", b"no-store"),
            (b"content-length", str(len(payload)).encode()),
        ]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": payload})
