"""The workspace database file: connections, schema, and what happens when the file goes bad.

One SQLite file (``convlab.sqlite3``) holds the students' workspaces and the classroom. A call
borrows a connection from a small pool, so each connection serves one thread at a time (WAL journal,
``busy_timeout`` 5 s, foreign keys on) and several threads and several server processes read and
write the file at once. Before each use a connection checks that the file it opened is still the
one on disk: a deleted file is re-created (with the schema), a replaced one is reopened. A file that is not a database (garbage bytes) is moved aside as
``convlab.sqlite3.corrupt-<time>`` and a fresh one started; the call that found it raises
:class:`StoreError` with a sentence, once. Creating and setting aside hold an ``flock`` on
``convlab.sqlite3.lock`` so two processes never do it at once. A folder or disk that cannot be
written raises :class:`StoreError` with a sentence; it never crashes the caller. The header is read with a
descriptor of its own only before this process first connects to the file (see :data:`_OPENED`).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

__all__ = ["SCHEMA_VERSION", "Database", "StoreError", "StoreUnavailable", "database_url", "open_database", "unsaved_sentence"]

T = TypeVar("T")
SCHEMA_VERSION = 1
BUSY_TIMEOUT_MS = 5000

# The database files (device, inode) this process has opened a connection to. SQLite's locks are POSIX locks,
# and closing any descriptor of a file drops all of the process's locks on it: reading the header of a file the
# process already has connections to (has_header) let another process's closing connection think it was the last,
# checkpoint and delete the WAL under them, and later writes went into the deleted file, unseen by other processes.
_OPENED: set[tuple[int, int]] = set()
POOL_SIZE = 8  # idle connections kept per process

SCHEMA = """
CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS workspaces (
    ws TEXT PRIMARY KEY, created REAL NOT NULL, last_used REAL NOT NULL);
CREATE TABLE IF NOT EXISTS items (
    ws TEXT NOT NULL REFERENCES workspaces(ws) ON DELETE CASCADE,
    kind TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, updated REAL NOT NULL,
    PRIMARY KEY (ws, kind, key));
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY,
    ws TEXT NOT NULL REFERENCES workspaces(ws) ON DELETE CASCADE,
    title TEXT NOT NULL, status TEXT NOT NULL, created REAL NOT NULL, updated REAL NOT NULL,
    settings TEXT NOT NULL, summary TEXT NOT NULL, curve TEXT NOT NULL,
    has_model INTEGER NOT NULL, checkpoint_step INTEGER, owner TEXT NOT NULL DEFAULT '');
CREATE INDEX IF NOT EXISTS runs_by_ws ON runs (ws, created);
CREATE INDEX IF NOT EXISTS runs_by_status ON runs (status);
CREATE TABLE IF NOT EXISTS settings (id INTEGER PRIMARY KEY CHECK (id = 1), value TEXT NOT NULL, updated REAL NOT NULL);
CREATE TABLE IF NOT EXISTS presence (
    session TEXT PRIMARY KEY, number INTEGER NOT NULL, nickname TEXT, page TEXT NOT NULL,
    training TEXT, first_seen REAL NOT NULL, last_seen REAL NOT NULL);
CREATE TABLE IF NOT EXISTS banner (id INTEGER PRIMARY KEY CHECK (id = 1), text TEXT NOT NULL, posted REAL NOT NULL, until REAL NOT NULL);
CREATE TABLE IF NOT EXISTS link (id INTEGER PRIMARY KEY CHECK (id = 1), url TEXT NOT NULL, label TEXT NOT NULL, posted REAL NOT NULL);
CREATE TABLE IF NOT EXISTS polls (
    poll_id INTEGER PRIMARY KEY AUTOINCREMENT, question TEXT NOT NULL, kind TEXT NOT NULL,
    choices TEXT NOT NULL, answer TEXT, revealed INTEGER NOT NULL DEFAULT 0, opened REAL NOT NULL,
    closed REAL);
CREATE TABLE IF NOT EXISTS answers (
    poll_id INTEGER NOT NULL REFERENCES polls(poll_id) ON DELETE CASCADE,
    workspace TEXT NOT NULL, answer TEXT NOT NULL, at REAL NOT NULL,
    PRIMARY KEY (poll_id, workspace));
CREATE TABLE IF NOT EXISTS cancels (run_id TEXT PRIMARY KEY, at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS key_attempts (client TEXT NOT NULL, ok INTEGER NOT NULL, at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS key_attempts_by_client ON key_attempts (client, at);
"""

# sqlite3 messages that mean "this file or folder cannot be written (or opened) now"
UNWRITABLE = ("readonly", "read-only", "disk i/o", "disk is full", "unable to open", "locked")
# ... and those that mean "this file is not a (sound) database"
CORRUPT = ("not a database", "malformed", "file is encrypted", "corrupt")


class StoreError(RuntimeError):
    """The workspace could not read or write something; the message is a sentence for the student."""


class StoreUnavailable(StoreError):
    """The database cannot be opened or written at all (folder missing, read-only, disk full)."""


def unsaved_sentence(reason: str) -> str:
    return f"Your work could not be saved on the server ({reason}). It is kept in this tab until you close it."


def reason_of(exc: BaseException) -> str:
    """A short human reason for an OSError or sqlite3 error."""
    text = str(exc).lower()
    errno = getattr(exc, "errno", None)
    if errno == 28 or "full" in text:
        return "the server's disk is full"
    if errno in (13, 30) or "readonly" in text or "read-only" in text or "permission" in text:
        return "the server's storage folder is read-only"
    if "locked" in text or "busy" in text:
        return "the storage is busy"
    return "the server's storage folder is missing or cannot be written"


class Database:
    """The SQLite file at ``path``, re-created when it goes away.

    Connections are pooled: a call borrows one (each used by one thread at a time), checks it still
    points at the file on disk, and gives it back. Streamlit runs each script run in a new thread,
    so a connection per thread would be opened afresh for every page run.
    """

    kind = "sqlite"

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._idle: list[tuple[sqlite3.Connection, int]] = []  # (connection, inode of its file)
        self._lock = threading.Lock()  # guards _idle and _pending
        self._create_lock = threading.Lock()  # with the flock: creating or setting aside the file
        self._pending: str | None = None  # a sentence the next call raises once (the file was set aside)
        self.notices: list[str] = []  # what happened to the file (set aside), newest last

    # --- connections ---

    @contextlib.contextmanager
    def _file_lock(self) -> Iterator[None]:
        """Process- and thread-exclusive while creating or setting aside the file."""
        with self._create_lock, open(self.path.with_name(self.path.name + ".lock"), "a") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False)

    def _open(self) -> tuple[sqlite3.Connection, int]:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self._file_lock():
                if not self.path.exists():
                    for tail in ("-wal", "-shm", "-journal"):  # a deleted database's leftovers must not replay
                        with contextlib.suppress(FileNotFoundError):
                            os.unlink(f"{self.path}{tail}")
                elif _file_id(self.path) not in _OPENED and not has_header(self.path):
                    self._set_aside()  # garbage, whatever an old journal beside it would mask
                conn = self._connect()
                try:
                    self._prepare(conn)
                except sqlite3.DatabaseError as exc:
                    conn.close()
                    if not is_corrupt(exc):
                        raise
                    self._set_aside()
                    conn = self._connect()
                    self._prepare(conn)
                opened = _file_id(self.path)
                _OPENED.add(opened)  # under the flock, which every opening in this process takes
                return conn, opened[1]
        except (OSError, sqlite3.OperationalError) as exc:
            raise StoreUnavailable(unsaved_sentence(reason_of(exc))) from exc

    def _prepare(self, conn: sqlite3.Connection) -> None:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA journal_mode = WAL").fetchone()
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
        row = conn.execute("SELECT name FROM sqlite_master WHERE name = 'schema_version'").fetchone()
        if row is None:
            conn.execute("BEGIN IMMEDIATE")
            for statement in SCHEMA.split(";"):
                if statement.strip():
                    conn.execute(statement)
            if conn.execute("SELECT COUNT(*) FROM schema_version").fetchone()[0] == 0:
                conn.execute("INSERT INTO schema_version VALUES (?)", (SCHEMA_VERSION,))
            conn.execute("COMMIT")

    def _set_aside(self) -> None:
        """Move a corrupt file aside (the caller holds the file lock); the next call says so, once."""
        aside = self.path.with_name(f"{self.path.name}.corrupt-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}")
        os.replace(self.path, aside)
        for tail in ("-wal", "-shm", "-journal"):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(f"{self.path}{tail}")
        sentence = (
            "The class database on the server was damaged, so it was set aside "
            f"(as {aside.name}) and a fresh one started: work saved before this is not in it."
        )
        self.notices.append(sentence)
        with self._lock:
            self._pending = sentence

    def _borrow(self) -> tuple[sqlite3.Connection, int]:
        """An idle connection to the file now at ``path``, or a new one."""
        try:
            ino = os.stat(self.path).st_ino
        except OSError:
            ino = -1
        stale = []
        with self._lock:
            while self._idle:
                conn, conn_ino = self._idle.pop()
                if conn_ino == ino:
                    break
                stale.append(conn)
            else:
                conn = None
        for old in stale:  # the file was deleted or replaced under them
            with contextlib.suppress(sqlite3.Error):
                old.close()
        return (conn, ino) if conn is not None else self._open()

    def _give_back(self, conn: sqlite3.Connection, ino: int) -> None:
        with self._lock:
            if len(self._idle) < POOL_SIZE:
                self._idle.append((conn, ino))
                return
        conn.close()

    def connection(self) -> sqlite3.Connection:
        """An idle connection of the pool (opened if there is none), left in the pool: for tests."""
        conn, ino = self._borrow()
        self._give_back(conn, ino)
        return conn

    def close(self) -> None:
        """Close the idle connections."""
        with self._lock:
            idle, self._idle = self._idle, []
        for conn, _ in idle:
            with contextlib.suppress(sqlite3.Error):
                conn.close()

    # --- transactions ---

    def run(self, fn: Callable[[sqlite3.Connection], T], *, write: bool) -> T:
        """Call ``fn(conn)`` in a transaction (``BEGIN IMMEDIATE`` for writes) and return its result.

        Raises :class:`StoreUnavailable` when the file cannot be opened or written and
        :class:`StoreError` (once) when it was corrupt and has been replaced.
        """
        for attempt in (0, 1):
            conn, ino = self._borrow()
            with self._lock:
                pending, self._pending = self._pending, None
            if pending:
                self._give_back(conn, ino)
                raise StoreError(pending)
            try:
                conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
                try:
                    result = fn(conn)
                except BaseException:
                    with contextlib.suppress(sqlite3.Error):
                        conn.execute("ROLLBACK")
                    raise
                conn.execute("COMMIT")
            except sqlite3.DatabaseError as exc:
                with contextlib.suppress(sqlite3.Error):
                    conn.close()
                if is_corrupt(exc):
                    if self._recover_corrupt(ino):
                        raise StoreError(self._take_pending() or self.notices[-1]) from exc
                    if attempt == 0:
                        continue  # another process already replaced it: try the new file
                if isinstance(exc, sqlite3.OperationalError) and "no such table" in str(exc).lower() and attempt == 0:
                    continue  # the file was emptied under us: a new connection re-creates the schema
                if isinstance(exc, (sqlite3.OperationalError, sqlite3.IntegrityError)) and not is_unwritable(exc):
                    raise
                raise StoreUnavailable(unsaved_sentence(reason_of(exc))) from exc
            except BaseException:
                self._give_back(conn, ino)
                raise
            self._give_back(conn, ino)
            return result
        raise AssertionError("unreachable")

    def _take_pending(self) -> str | None:
        with self._lock:
            pending, self._pending = self._pending, None
        return pending

    def _recover_corrupt(self, ino: int) -> bool:
        """Set the corrupt file aside unless another process already has; whether this call did."""
        try:
            with self._file_lock():
                try:
                    same = os.stat(self.path).st_ino == ino
                except FileNotFoundError:
                    same = False
                if same:
                    self._set_aside()
                return same
        except OSError as exc:
            raise StoreUnavailable(unsaved_sentence(reason_of(exc))) from exc


def database_url() -> str:
    """``CONVLAB_DATABASE_URL`` (a PostgreSQL server for several machines), or "" for the SQLite file."""
    return os.environ.get("CONVLAB_DATABASE_URL", "").strip()


def open_database(path: Path, url: str | None = None) -> Database:
    """The SQLite file at ``path``, or the PostgreSQL database at ``url`` (default: :func:`database_url`)."""
    url = database_url() if url is None else url
    if url:
        from app.workspace.pg import PgDatabase

        return PgDatabase(url, path)  # type: ignore[return-value]  # the same run()/close()/path
    return Database(path)


def _file_id(path: Path) -> tuple[int, int]:
    st = os.stat(path)
    return st.st_dev, st.st_ino


def has_header(path: Path) -> bool:
    """Whether the file is empty or starts as an SQLite database does."""
    with open(path, "rb") as fh:
        head = fh.read(16)
    return not head or head == b"SQLite format 3\x00"


def is_corrupt(exc: BaseException) -> bool:
    text = str(exc).lower()
    return any(word in text for word in CORRUPT)


def is_unwritable(exc: BaseException) -> bool:
    text = str(exc).lower()
    return any(word in text for word in UNWRITABLE)
