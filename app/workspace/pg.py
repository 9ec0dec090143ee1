"""The workspace database on a PostgreSQL server, for app processes on several machines.

Chosen by ``CONVLAB_DATABASE_URL`` (e.g. ``postgresql://convlab:secret@db:5432/convlab``); without
it the store and the classroom use the SQLite file (:mod:`app.workspace.db`) as before. A
:class:`PgDatabase` has the SQLite :class:`~app.workspace.db.Database`'s one method that callers
use, ``run(fn, write=...)``: ``fn`` gets a connection whose ``execute`` takes the same SQL the
SQLite code writes (``?`` placeholders, ``INSERT OR REPLACE``, ``LIMIT -1``, ``lastrowid``); the
few SQLite spellings are translated here, once per statement. A write transaction first takes one
advisory lock, so writers go one at a time as SQLite's ``BEGIN IMMEDIATE`` makes them; a ``run``
called inside another on the same thread joins its transaction.

Model and checkpoint bytes live in the ``blobs`` table (``bytea``), so every machine reads them
(:class:`~app.workspace.blobs.DbBlobs`); ``processes`` holds each app process's heartbeat, so a run
kept by a live process on another machine is not taken for interrupted. A server that cannot be
reached raises :class:`~app.workspace.db.StoreUnavailable` with a sentence (one retry on a fresh
connection first: the server may have restarted); psycopg is imported only here, when the
variable is set.
"""

from __future__ import annotations

import contextlib
import functools
import re
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

from app.workspace.db import SCHEMA_VERSION, StoreError, StoreUnavailable, unsaved_sentence

__all__ = ["PgDatabase", "translate"]

T = TypeVar("T")
POOL_SIZE = 8
WRITE_LOCK = 74_110  # the advisory lock every write transaction takes
SCHEMA_LOCK = 74_111

SCHEMA = """
CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS workspaces (
    ws TEXT PRIMARY KEY, created DOUBLE PRECISION NOT NULL, last_used DOUBLE PRECISION NOT NULL);
CREATE TABLE IF NOT EXISTS items (
    ws TEXT NOT NULL REFERENCES workspaces(ws) ON DELETE CASCADE,
    kind TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, updated DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (ws, kind, key));
CREATE TABLE IF NOT EXISTS runs (
    rowid BIGSERIAL, run_id TEXT PRIMARY KEY,
    ws TEXT NOT NULL REFERENCES workspaces(ws) ON DELETE CASCADE,
    title TEXT NOT NULL, status TEXT NOT NULL, created DOUBLE PRECISION NOT NULL, updated DOUBLE PRECISION NOT NULL,
    settings TEXT NOT NULL, summary TEXT NOT NULL, curve TEXT NOT NULL,
    has_model INTEGER NOT NULL, checkpoint_step INTEGER, owner TEXT NOT NULL DEFAULT '');
CREATE INDEX IF NOT EXISTS runs_by_ws ON runs (ws, created);
CREATE INDEX IF NOT EXISTS runs_by_status ON runs (status);
CREATE TABLE IF NOT EXISTS blobs (
    ws TEXT NOT NULL REFERENCES workspaces(ws) ON DELETE CASCADE,
    run_id TEXT NOT NULL, kind TEXT NOT NULL, data BYTEA NOT NULL, updated DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (ws, run_id, kind));
CREATE TABLE IF NOT EXISTS processes (owner TEXT PRIMARY KEY, beat DOUBLE PRECISION NOT NULL);
CREATE TABLE IF NOT EXISTS settings (id INTEGER PRIMARY KEY CHECK (id = 1), value TEXT NOT NULL, updated DOUBLE PRECISION NOT NULL);
CREATE TABLE IF NOT EXISTS presence (
    session TEXT PRIMARY KEY, number INTEGER NOT NULL, nickname TEXT, page TEXT NOT NULL,
    training TEXT, first_seen DOUBLE PRECISION NOT NULL, last_seen DOUBLE PRECISION NOT NULL);
CREATE TABLE IF NOT EXISTS banner (id INTEGER PRIMARY KEY CHECK (id = 1), text TEXT NOT NULL,
    posted DOUBLE PRECISION NOT NULL, until DOUBLE PRECISION NOT NULL);
CREATE TABLE IF NOT EXISTS link (id INTEGER PRIMARY KEY CHECK (id = 1), url TEXT NOT NULL, label TEXT NOT NULL,
    posted DOUBLE PRECISION NOT NULL);
CREATE TABLE IF NOT EXISTS polls (
    poll_id BIGSERIAL PRIMARY KEY, question TEXT NOT NULL, kind TEXT NOT NULL,
    choices TEXT NOT NULL, answer TEXT, revealed INTEGER NOT NULL DEFAULT 0, opened DOUBLE PRECISION NOT NULL,
    closed DOUBLE PRECISION);
CREATE TABLE IF NOT EXISTS answers (
    poll_id BIGINT NOT NULL REFERENCES polls(poll_id) ON DELETE CASCADE,
    workspace TEXT NOT NULL, answer TEXT NOT NULL, at DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (poll_id, workspace));
CREATE TABLE IF NOT EXISTS cancels (run_id TEXT PRIMARY KEY, at DOUBLE PRECISION NOT NULL);
CREATE TABLE IF NOT EXISTS key_attempts (client TEXT NOT NULL, ok INTEGER NOT NULL, at DOUBLE PRECISION NOT NULL);
CREATE INDEX IF NOT EXISTS key_attempts_by_client ON key_attempts (client, at);
"""

# the conflict target of each table the SQLite code writes with INSERT OR REPLACE
PRIMARY_KEYS = {"answers": "poll_id, workspace", "processes": "owner", "runs": "run_id", "settings": "id", "banner": "id", "link": "id", "cancels": "run_id"}
RETURNING = {"polls": "poll_id"}  # tables whose inserts the callers read lastrowid of
REPLACE = re.compile(r"INSERT OR REPLACE INTO (\w+) \(([^)]*)\)(.*)", re.S)
INSERT = re.compile(r"\s*INSERT INTO (\w+) ")


@functools.lru_cache(maxsize=512)
def translate(sql: str) -> tuple[str, str | None]:
    """SQLite's SQL as PostgreSQL's, and the column to return as ``lastrowid`` (or None)."""
    match = REPLACE.fullmatch(sql.strip())
    if match:
        table, cols, rest = match.groups()
        key = PRIMARY_KEYS[table]
        keys = {k.strip() for k in key.split(",")}
        names = [c.strip() for c in cols.split(",")]
        sets = ", ".join(f"{c} = EXCLUDED.{c}" for c in names if c not in keys)
        sql = f"INSERT INTO {table} ({cols}){rest} ON CONFLICT ({key}) DO UPDATE SET {sets}"
    sql = sql.replace("%", "%%").replace("?", "%s").replace("LIMIT -1", "LIMIT ALL")
    insert = INSERT.match(sql)
    returning = RETURNING.get(insert.group(1)) if insert else None
    if returning:
        sql = f"{sql} RETURNING {returning}"
    return sql, returning


class Cursor:
    """What ``execute`` returns: SQLite's cursor methods over a psycopg cursor."""

    def __init__(self, raw: Any, lastrowid: int | None = None) -> None:
        self._raw, self.lastrowid = raw, lastrowid

    @property
    def rowcount(self) -> int:
        return int(self._raw.rowcount)

    def fetchone(self) -> tuple[Any, ...] | None:
        return self._raw.fetchone() if self._raw.description else None

    def fetchall(self) -> list[tuple[Any, ...]]:
        return self._raw.fetchall() if self._raw.description else []

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        return iter(self.fetchall())


class Connection:
    """A psycopg connection that speaks the SQLite code's SQL (see :func:`translate`)."""

    def __init__(self, raw: Any) -> None:
        self.raw = raw

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Cursor:
        text, returning = translate(sql)
        cur = self.raw.execute(text, tuple(params))
        if returning:
            row = cur.fetchone()
            return Cursor(cur, int(row[0]) if row else None)
        return Cursor(cur)

    def executemany(self, sql: str, seq: Sequence[Sequence[Any]]) -> None:
        text, _ = translate(sql)
        with self.raw.cursor() as cur:
            cur.executemany(text, [tuple(p) for p in seq])


def reason_of(exc: BaseException) -> str:
    text = str(exc).lower()
    if "no space" in text or "disk full" in text:
        return "the database server's disk is full"
    if "read-only" in text or "read only" in text:
        return "the database server is read-only"
    return "the class database server cannot be reached"


class PgDatabase:
    """The PostgreSQL database at ``url``; the same ``run`` as the SQLite ``Database``."""

    kind = "postgres"

    def __init__(self, url: str, path: Path | None = None) -> None:
        self.url = url
        self.path = Path(path) if path is not None else Path("postgresql")  # where the SQLite file would be
        self.notices: list[str] = []
        self._idle: list[Any] = []
        self._lock = threading.Lock()
        self._ready = False
        self._local = threading.local()  # the connection of the transaction this thread is in

    def _open(self) -> Any:
        import psycopg

        conn = psycopg.connect(self.url, connect_timeout=5, autocommit=False)
        if not self._ready:
            with conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK,))
                for statement in SCHEMA.split(";"):
                    if statement.strip():
                        conn.execute(statement)
                if conn.execute("SELECT COUNT(*) FROM schema_version").fetchone()[0] == 0:
                    conn.execute("INSERT INTO schema_version VALUES (%s)", (SCHEMA_VERSION,))
            self._ready = True
        return conn

    def _borrow(self) -> Any:
        with self._lock:
            while self._idle:
                conn = self._idle.pop()
                if not conn.closed:
                    return conn
        return self._open()

    def _give_back(self, conn: Any) -> None:
        with self._lock:
            if len(self._idle) < POOL_SIZE and not conn.closed:
                self._idle.append(conn)
                return
        with contextlib.suppress(Exception):
            conn.close()

    def connection(self) -> Connection:
        """A connection of the pool, left in it: for tests (its statements commit as it goes)."""
        conn = self._borrow()
        conn.autocommit = True
        return Connection(conn)

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            with contextlib.suppress(Exception):
                conn.close()

    def run(self, fn: Callable[[Any], T], *, write: bool) -> T:
        """``fn(conn)`` in one transaction (writes one at a time); its result.

        Raises :class:`StoreUnavailable` (a sentence) when the server cannot be reached.
        """
        import psycopg

        inner = getattr(self._local, "conn", None)
        if inner is not None:  # inside a transaction of this thread: join it (a second one would wait on the lock)
            return fn(Connection(inner))
        for attempt in (0, 1):
            try:
                conn = self._borrow()
            except psycopg.Error as exc:
                if attempt == 0:
                    continue
                raise StoreUnavailable(unsaved_sentence(reason_of(exc))) from exc
            try:
                conn.autocommit = False
                if write:
                    conn.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK,))
                self._local.conn = conn
                try:
                    result = fn(Connection(conn))
                finally:
                    self._local.conn = None
                conn.commit()
            except psycopg.OperationalError as exc:  # the connection broke: the server restarted or is gone
                with contextlib.suppress(Exception):
                    conn.close()
                if attempt == 0 and not isinstance(exc, psycopg.errors.DiskFull):
                    continue
                raise StoreUnavailable(unsaved_sentence(reason_of(exc))) from exc
            except psycopg.errors.ReadOnlySqlTransaction as exc:
                self._rollback(conn)
                raise StoreUnavailable(unsaved_sentence(reason_of(exc))) from exc
            except BaseException:
                self._rollback(conn)
                raise
            self._give_back(conn)
            return result
        raise StoreError(unsaved_sentence("the class database server cannot be reached"))

    def _rollback(self, conn: Any) -> None:
        try:
            conn.rollback()
        except Exception:
            with contextlib.suppress(Exception):
                conn.close()
            return
        self._give_back(conn)
