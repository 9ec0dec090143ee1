"""The class around the students, kept in the workspace database so every server process sees it.

Everything is stored in the same SQLite file as :mod:`app.workspace.store`
(``WorkspaceStore.database``, through :class:`app.workspace.db.Database`), or on the PostgreSQL
server of ``CONVLAB_DATABASE_URL`` (:mod:`app.workspace.pg`) when several machines serve the class,
so the instructor's settings, banners, pushed links and polls reach every student whichever
process serves them, and survive a restart. :meth:`Classroom.settings` runs on every page run of every student, so its parsed
value is kept for about a second per process (a change made in this process shows at once).
Reads never raise: a database that cannot be opened reads as the defaults and nothing posted; writes
raise :class:`~app.workspace.db.StoreError` with a sentence.
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from app.workspace.db import StoreError, open_database

T = TypeVar("T")
SETTINGS_TTL_S = 1.0
PRESENCE_KEEP_S = 3600.0  # presence rows older than this are pruned on write
KEY_ATTEMPTS_KEEP_S = 86400.0

__all__ = ["Banner", "ClassSettings", "Classroom", "Poll", "Presence", "PushedLink"]

PAGE_NAMES = ("Lessons", "Kernel Lab", "Arithmetic", "Architecture", "Training", "Experiments", "Inside the model")


@dataclass(frozen=True)
class ClassSettings:
    """What the instructor allows; takes effect at once in every process."""

    uploads: bool = True  # photo and model uploads
    camera: bool = True
    own_datasets: bool = True  # a learner's zip of class folders
    full_datasets: bool = True  # full MNIST / Fashion-MNIST / CIFAR-10
    pages: tuple[str, ...] = PAGE_NAMES  # the pages students see (Home always)
    max_epochs: int = 50
    max_minutes: float = 30.0  # a run is stopped with a sentence after this long
    workspace_mb: float | None = None  # per-workspace quota; None: the server's CONVLAB_WORKSPACE_MB
    workspace_days: float | None = None  # expiry after last use; None: the server's CONVLAB_WORKSPACE_DAYS


@dataclass(frozen=True)
class Presence:
    """One open session as the instructor sees it (anonymous unless the student chose a nickname)."""

    session: str  # the session's id (not the workspace id)
    label: str  # "Student 3" or the nickname
    page: str
    last_seen: float
    training: str | None  # e.g. "running 45% (epoch 2/5)", "queued #2", None


@dataclass(frozen=True)
class Banner:
    text: str
    posted: float
    until: float  # time.time() after which it is no longer shown


@dataclass(frozen=True)
class PushedLink:
    url: str  # a path with query, e.g. "/kernel_lab?kernel=Sobel+y"
    label: str
    posted: float


@dataclass(frozen=True)
class Poll:
    poll_id: int
    question: str
    kind: str  # "number" or "choice"
    choices: tuple[str, ...]  # for "choice"
    answer: str | None  # the right answer as text, None if none
    revealed: bool
    opened: float




def settings_from_dict(data: object) -> ClassSettings:
    """A :class:`ClassSettings` from stored JSON; unknown keys and bad values fall back to the defaults."""
    base = ClassSettings()
    if not isinstance(data, dict):
        return base
    values: dict[str, Any] = {}
    for f in dataclasses.fields(ClassSettings):
        if f.name not in data:
            continue
        value, default = data[f.name], getattr(base, f.name)
        if isinstance(default, bool):
            ok = isinstance(value, bool)
        elif f.name == "pages":
            ok = isinstance(value, list) and all(isinstance(v, str) for v in value)
            value = tuple(v for v in PAGE_NAMES if ok and v in value)
        elif f.name in ("workspace_mb", "workspace_days"):
            ok = value is None or (isinstance(value, int | float) and not isinstance(value, bool) and value > 0)
        else:
            ok = isinstance(value, int | float) and not isinstance(value, bool) and value > 0
            value = int(value) if isinstance(default, int) and ok else value
        if ok:
            values[f.name] = value
    return dataclasses.replace(base, **values)


def check_settings(s: ClassSettings) -> None:
    """Raise ValueError with a sentence when a setting cannot be used."""
    unknown = [p for p in s.pages if p not in PAGE_NAMES]
    if unknown:
        raise ValueError(f"Unknown page {unknown[0]!r}; the pages are {', '.join(PAGE_NAMES)}.")
    if not (isinstance(s.max_epochs, int) and 1 <= s.max_epochs <= 10_000):
        raise ValueError("The maximum number of epochs per run is a whole number from 1 to 10000.")
    if not (0 < float(s.max_minutes) <= 24 * 60):
        raise ValueError("The maximum minutes per run is more than 0 and at most 1440 (a day).")
    for name in ("workspace_mb", "workspace_days"):
        value = getattr(s, name)
        if value is not None and not float(value) > 0:
            raise ValueError(f"{name.replace('_', ' ').capitalize()} must be more than 0 (or left to the server's default).")


def normal_answer(poll: Poll, answer: str) -> str:
    """The answer as counted: a number in one spelling ("4", "4.0", "8/2" are "4"), or the chosen choice."""
    text = str(answer).strip()
    if poll.kind == "choice":
        if text not in poll.choices:
            raise ValueError(f"Pick one of the choices: {', '.join(poll.choices)}.")
        return text
    from cnn_core.numbers import format_number, parse_number

    value = parse_number(text)  # ValueError with a sentence
    return str(int(value)) if float(value).is_integer() and abs(value) < 1e15 else format_number(value, 6)


def check_link(url: str) -> str:
    url = str(url).strip()
    if not url.startswith("/") or url.startswith("//") or "\\" in url or any(ch in url for ch in "\r\n\t<>\"'"):
        raise ValueError("A pushed link is a path on this server, such as /kernel_lab?kernel=Sobel+y.")
    return url


class Classroom:
    """Class-wide state over the workspace database (thread- and process-safe)."""

    def __init__(self, database: Path, *, database_url: str | None = None) -> None:
        self.db = open_database(Path(database), database_url)
        self._cache: tuple[float, ClassSettings] | None = None
        self._lock = threading.Lock()
        self.news_version = 0  # +1 on each banner, link or poll change made through this object (readers' caches)

    def _read(self, fn: Callable[[sqlite3.Connection], T], empty: T) -> T:
        try:
            return self.db.run(fn, write=False)
        except StoreError:
            return empty

    def _write(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        return self.db.run(fn, write=True)

    def _write_news(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """A write that changes the banner, the link or the poll: readers' caches of them are out of date."""
        out = self._write(fn)
        with self._lock:
            self.news_version += 1
        return out

    # settings
    def settings(self) -> ClassSettings:
        """The class settings (cached about a second per process; defaults when none are stored)."""
        now = time.monotonic()
        cached = self._cache
        if cached is not None and now - cached[0] < SETTINGS_TTL_S:
            return cached[1]
        row = self._read(lambda c: c.execute("SELECT value FROM settings WHERE id=1").fetchone(), None)
        try:
            value = settings_from_dict(json.loads(row[0])) if row else ClassSettings()
        except (TypeError, ValueError):
            value = ClassSettings()  # a damaged row: the defaults, until the instructor saves again
        self._cache = (now, value)
        return value

    def put_settings(self, settings: ClassSettings) -> None:
        check_settings(settings)
        text = json.dumps({**dataclasses.asdict(settings), "pages": list(settings.pages)})
        self._write(lambda c: c.execute("INSERT OR REPLACE INTO settings (id, value, updated) VALUES (1, ?, ?)", (text, time.time())))
        self._cache = (time.monotonic(), settings)

    # presence: every open page beats about every 5 s
    def beat(self, session: str, *, page: str, nickname: str | None = None, training: str | None = None) -> None:
        now = time.time()
        nick = (nickname or "").strip()[:40] or None

        def tx(c: sqlite3.Connection) -> None:
            c.execute("DELETE FROM presence WHERE last_seen < ?", (now - PRESENCE_KEEP_S,))
            row = c.execute("SELECT number FROM presence WHERE session=?", (session,)).fetchone()
            if row is None:
                used = {r[0] for r in c.execute("SELECT number FROM presence")}
                number = next(n for n in range(1, len(used) + 2) if n not in used)
                c.execute(
                    "INSERT INTO presence (session, number, nickname, page, training, first_seen, last_seen) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (session, number, nick, page, training, now, now),
                )
            else:
                c.execute(
                    "UPDATE presence SET nickname=?, page=?, training=?, last_seen=? WHERE session=?", (nick, page, training, now, session)
                )

        self._write(tx)

    def sessions(self, within_s: float = 30.0) -> list[Presence]:
        rows = self._read(
            lambda c: c.execute(
                "SELECT session, number, nickname, page, last_seen, training FROM presence WHERE last_seen >= ? ORDER BY number",
                (time.time() - within_s,),
            ).fetchall(),
            [],
        )
        return [Presence(s, nick or f"Student {n}", page, seen, training) for s, n, nick, page, seen, training in rows]

    def label(self, session: str) -> str | None:
        """The session's label on the console ("Student 3" or its nickname); None before its first beat."""
        row = self._read(lambda c: c.execute("SELECT number, nickname FROM presence WHERE session=?", (session,)).fetchone(), None)
        return None if row is None else (row[1] or f"Student {row[0]}")

    # broadcasts
    def post_banner(self, text: str, *, seconds: float = 600.0) -> None:
        text = str(text).strip()
        if not text:
            raise ValueError("Write the message to show before posting it.")
        if len(text) > 500:
            raise ValueError(f"A banner holds at most 500 characters; this one has {len(text)}.")
        if not 0 < seconds <= 86400:
            raise ValueError("A banner is shown for more than 0 seconds and at most a day.")
        now = time.time()
        self._write_news(lambda c: c.execute("INSERT OR REPLACE INTO banner (id, text, posted, until) VALUES (1, ?, ?, ?)", (text, now, now + seconds)))

    def banner(self) -> Banner | None:
        row = self._read(lambda c: c.execute("SELECT text, posted, until FROM banner WHERE id=1").fetchone(), None)
        if row is None or row[2] < time.time():
            return None
        return Banner(*row)

    def clear_banner(self) -> None:
        self._write_news(lambda c: c.execute("DELETE FROM banner"))

    def push_link(self, url: str, label: str) -> None:
        url = check_link(url)
        label = str(label).strip()[:120] or url
        self._write_news(lambda c: c.execute("INSERT OR REPLACE INTO link (id, url, label, posted) VALUES (1, ?, ?, ?)", (url, label, time.time())))

    def pushed_link(self) -> PushedLink | None:
        row = self._read(lambda c: c.execute("SELECT url, label, posted FROM link WHERE id=1").fetchone(), None)
        return None if row is None else PushedLink(*row)

    def clear_link(self) -> None:
        self._write_news(lambda c: c.execute("DELETE FROM link"))

    # live polls: one open at a time; one answer per workspace (a new answer replaces the old)
    def open_poll(self, question: str, *, kind: str = "number", choices: tuple[str, ...] = (), answer: str | None = None) -> Poll:
        question = str(question).strip()
        if not question:
            raise ValueError("Write the question before opening the poll.")
        if kind not in ("number", "choice"):
            raise ValueError(f"A poll asks for a number or a choice, not {kind!r}.")
        choices = tuple(dict.fromkeys(str(ch).strip() for ch in choices if str(ch).strip()))
        if kind == "choice" and len(choices) < 2:
            raise ValueError("A multiple-choice poll needs at least two different choices.")
        draft = Poll(0, question, kind, choices if kind == "choice" else (), None, False, time.time())
        right = None if answer is None or not str(answer).strip() else normal_answer(draft, str(answer))
        poll = dataclasses.replace(draft, answer=right)

        def tx(c: sqlite3.Connection) -> int:
            c.execute("UPDATE polls SET closed=? WHERE closed IS NULL", (poll.opened,))
            cur = c.execute(
                "INSERT INTO polls (question, kind, choices, answer, revealed, opened) VALUES (?, ?, ?, ?, 0, ?)",
                (poll.question, poll.kind, json.dumps(list(poll.choices)), poll.answer, poll.opened),
            )
            return int(cur.lastrowid or 0)

        return dataclasses.replace(poll, poll_id=self._write_news(tx))

    def _poll(self, where: str, args: tuple[Any, ...]) -> Poll | None:
        row = self._read(
            lambda c: c.execute(f"SELECT poll_id, question, kind, choices, answer, revealed, opened FROM polls WHERE {where}", args).fetchone(),
            None,
        )
        if row is None:
            return None
        try:
            choices = tuple(str(ch) for ch in json.loads(row[3]))
        except (TypeError, ValueError):
            choices = ()
        return Poll(row[0], row[1], row[2], choices, row[4], bool(row[5]), row[6])

    def current_poll(self) -> Poll | None:
        return self._poll("closed IS NULL ORDER BY poll_id DESC LIMIT 1", ())

    def answer_poll(self, poll_id: int, workspace: str, answer: str) -> None:
        """Count ``answer`` for ``workspace``; ValueError with a sentence for an unreadable answer."""
        poll = self.current_poll()
        if poll is None or poll.poll_id != poll_id:
            raise StoreError("This poll has closed, so your answer was not counted.")
        text = normal_answer(poll, answer)
        self._write(
            lambda c: c.execute(
                "INSERT OR REPLACE INTO answers (poll_id, workspace, answer, at) VALUES (?, ?, ?, ?)", (poll_id, workspace, text, time.time())
            )
        )

    def poll_answers(self, poll_id: int) -> dict[str, int]:
        """answer text -> how many workspaces gave it."""
        rows = self._read(
            lambda c: c.execute(
                "SELECT answer, COUNT(*) AS n FROM answers WHERE poll_id=? GROUP BY answer ORDER BY n DESC, answer", (poll_id,)
            ).fetchall(),
            [],
        )
        return dict(rows)

    def my_answer(self, poll_id: int, workspace: str) -> str | None:
        row = self._read(lambda c: c.execute("SELECT answer FROM answers WHERE poll_id=? AND workspace=?", (poll_id, workspace)).fetchone(), None)
        return None if row is None else row[0]

    def get_poll(self, poll_id: int) -> Poll | None:
        """A poll by id, open or closed."""
        return self._poll("poll_id=?", (poll_id,))

    def reveal_poll(self, poll_id: int) -> None:
        self._write_news(lambda c: c.execute("UPDATE polls SET revealed=1 WHERE poll_id=?", (poll_id,)))

    def close_poll(self) -> None:
        self._write_news(lambda c: c.execute("UPDATE polls SET closed=? WHERE closed IS NULL", (time.time(),)))

    # run cancellation across processes: the console asks, the process running the run obeys
    def request_cancel(self, run_id: str) -> None:
        now = time.time()

        def tx(c: sqlite3.Connection) -> None:
            c.execute("DELETE FROM cancels WHERE at < ?", (now - 86400,))
            c.execute("INSERT OR REPLACE INTO cancels (run_id, at) VALUES (?, ?)", (run_id, now))

        self._write(tx)

    def cancel_requested(self, run_id: str) -> bool:
        return self._read(lambda c: c.execute("SELECT 1 FROM cancels WHERE run_id=?", (run_id,)).fetchone(), None) is not None

    # instructor key attempts, for rate limiting (by client address or session)
    def record_key_attempt(self, client: str, ok: bool) -> None:
        now = time.time()

        def tx(c: sqlite3.Connection) -> None:
            c.execute("DELETE FROM key_attempts WHERE at < ?", (now - KEY_ATTEMPTS_KEEP_S,))
            c.execute("INSERT INTO key_attempts (client, ok, at) VALUES (?, ?, ?)", (client, int(ok), now))

        self._write(tx)

    def failed_key_attempts(self, client: str, within_s: float = 300.0) -> int:
        """Failed attempts by ``client`` in the last ``within_s`` seconds (since its last success)."""

        def tx(c: sqlite3.Connection) -> int:
            since = time.time() - within_s
            last_ok = c.execute("SELECT MAX(at) FROM key_attempts WHERE client=? AND ok=1", (client,)).fetchone()[0]
            return c.execute(
                "SELECT COUNT(*) FROM key_attempts WHERE client=? AND ok=0 AND at >= ?", (client, max(since, last_ok or 0.0))
            ).fetchone()[0]

        return int(self._read(tx, 0))
