"""What each student made, kept on the server: items, training runs, model files and checkpoints.

Layout under ``root`` (``CONVLAB_STATE_DIR``; default ``$XDG_STATE_HOME/convlab`` or
``~/.local/state/convlab``): ``convlab.sqlite3`` (WAL journal, ``busy_timeout``, one connection per
thread, safe with several server processes; see :mod:`app.workspace.db`) and
``models/<workspace>/<run_id>.pt`` and ``.../<run_id>.ckpt.pt`` written atomically (temp file +
rename; see :mod:`app.workspace.files`). Models are state dicts saved with ``torch.save`` and read
with ``torch.load(weights_only=True)``.

With ``CONVLAB_DATABASE_URL`` (or ``database_url``) the same tables live on a PostgreSQL server
(:mod:`app.workspace.pg`) and the model and checkpoint bytes in its ``blobs`` table
(:mod:`app.workspace.blobs`), so app processes on several machines share every workspace.

Bad state never takes more than the item it hit: a corrupt row, a truncated or missing model file,
a deleted database (it is re-created), a full disk or a read-only folder raises :class:`StoreError`
with a sentence a student can read, after dropping just that item (for reads), and the app goes on
(in memory, for writes). Reads of a store that cannot be opened at all find nothing. Quota
(``CONVLAB_WORKSPACE_MB``, default 200 MB per workspace) and expiry (``CONVLAB_WORKSPACE_DAYS``,
default 30 days since last use) are enforced on write: the oldest runs' model files are pruned
first, then the oldest runs.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.workspace.blobs import DbBlobs, FileBlobs
from app.workspace.db import StoreError, StoreUnavailable, open_database, unsaved_sentence
from app.workspace.runs import ALIVE_S, RunRows

__all__ = ["ALIVE_S", "RunRecord", "StoreError", "WorkspaceStore", "WorkspaceSummary", "default_state_dir", "valid_id"]

JSON = Any  # what json.dumps accepts
ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
TOUCH_EVERY_S = 60.0  # touch() writes at most this often per workspace and process
EXPIRE_EVERY_S = 3600.0


def default_state_dir() -> Path:
    """``CONVLAB_STATE_DIR``, else ``$XDG_STATE_HOME/convlab``, else ``~/.local/state/convlab``."""
    if os.environ.get("CONVLAB_STATE_DIR"):
        return Path(os.environ["CONVLAB_STATE_DIR"]).expanduser()
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "convlab"


def valid_id(value: object) -> bool:
    """Whether ``value`` is a well-formed workspace (or run) id."""
    return isinstance(value, str) and ID.fullmatch(value) is not None


def check_id(value: str, what: str = "workspace id") -> str:
    if not valid_id(value):
        raise ValueError(f"A {what} is 1 to 64 letters, digits, '-' or '_'; {str(value)[:80]!r} is not one.")
    return value


def env_number(name: str, default: float) -> float:
    try:
        value = float(os.environ.get(name, "") or default)
    except ValueError:
        return default
    return value if value > 0 else default


@dataclass(frozen=True)
class RunRecord:
    """One training run of a workspace, as kept (settings, progress and the curve to redraw it)."""

    run_id: str
    workspace: str
    title: str  # e.g. "ConvLab fast on MNIST (bundled subset), 2 epochs"
    status: str  # "queued" | "running" | "finished" | "stopped" | "failed" | "interrupted"
    created: float  # time.time()
    updated: float
    settings: dict[str, JSON] = field(default_factory=dict)  # dataset, model config dict, TrainConfig dict
    summary: dict[str, JSON] = field(default_factory=dict)  # e.g. test_acc, val_acc, steps, seconds, message
    curve: list[dict[str, JSON]] = field(default_factory=list)  # compact events: step, epoch, loss, val_loss, accs
    has_model: bool = False
    checkpoint_step: int | None = None  # the step of the last checkpoint, None when there is none


@dataclass(frozen=True)
class WorkspaceSummary:
    """What a workspace holds, for the student's "Your workspace" panel."""

    workspace: str
    items: dict[str, int]  # kind -> how many
    runs: int
    models: int
    bytes_used: int
    quota_bytes: int
    last_used: float


class WorkspaceStore:
    """The embedded store. One instance per server process (``st.cache_resource``); thread-safe.

    ``ws`` arguments are workspace ids (opaque strings of at most 64 letters, digits, ``-`` and ``_``;
    anything else raises ``ValueError``). ``limits``, when given, is called on each write and returns
    ``(quota_bytes, expiry_days)`` (``None`` for the constructor's value), e.g. the class settings.
    """

    def __init__(
        self,
        root: Path | None = None,
        *,
        quota_bytes: int | None = None,
        expiry_days: float | None = None,
        max_runs: int = 30,
        limits: Callable[[], tuple[int | None, float | None]] | None = None,
        database_url: str | None = None,
    ) -> None:
        self._root = Path(root) if root is not None else default_state_dir()
        self._quota = int(quota_bytes) if quota_bytes else int(env_number("CONVLAB_WORKSPACE_MB", 200) * 1_000_000)
        self._days = float(expiry_days) if expiry_days else env_number("CONVLAB_WORKSPACE_DAYS", 30)
        self._limits = limits
        self.max_runs = max_runs
        self.db = open_database(self._root / "convlab.sqlite3", database_url)
        self.shared = self.db.kind == "postgres"  # several machines: bytes in the database, heartbeats
        self.blobs = DbBlobs(self) if self.shared else FileBlobs(self)
        self._rows = RunRows(self)
        self._touched: dict[str, float] = {}
        self._expired_at = 0.0
        self._lock = threading.Lock()

    @property
    def root(self) -> Path:
        return self._root

    @property
    def database(self) -> Path:
        """The SQLite file (``root / "convlab.sqlite3"``); the classroom shares it (on PostgreSQL: where it would be)."""
        return self.db.path

    @property
    def quota_bytes(self) -> int:
        quota = self._limits()[0] if self._limits else None
        return int(quota) if quota else self._quota

    @property
    def expiry_days(self) -> float:
        days = self._limits()[1] if self._limits else None
        return float(days) if days else self._days

    def problem(self) -> str | None:
        """None when the store can be read and written; else the sentence saying why not."""
        try:
            self.db.run(lambda c: None, write=True)  # takes the write lock, writes nothing
        except StoreError as exc:
            return str(exc)
        return None

    def model_dir(self, ws: str) -> Path:
        return self._root / "models" / check_id(ws)

    def model_path(self, ws: str, run_id: str) -> Path:
        return self.model_dir(ws) / f"{check_id(run_id, 'run id')}.pt"

    def checkpoint_path(self, ws: str, run_id: str) -> Path:
        return self.model_dir(ws) / f"{check_id(run_id, 'run id')}.ckpt.pt"

    # --- plumbing shared with app.workspace.runs ---

    def read(self, fn: Callable[[sqlite3.Connection], Any], empty: Any) -> Any:
        """``fn`` in a read transaction; ``empty`` when the database cannot be opened at all."""
        self._rows.beat()
        try:
            return self.db.run(fn, write=False)
        except StoreUnavailable:
            return empty

    def live_owners(self) -> set[str]:
        """The processes (any machine) whose heartbeat is recent; empty on SQLite (pids say it there)."""
        return self._rows.live_owners()

    def queued_ahead(self, run_id: str) -> int | None:
        """How many runs of any workspace and process wait before ``run_id`` (None: it is not queued)."""
        return self._rows.queued_ahead(run_id)

    def typical_run_seconds(self) -> float | None:
        """The average training time of the last 20 finished runs, or None before there are any."""
        return self._rows.typical_seconds()

    def write(self, ws: str, fn: Callable[[sqlite3.Connection], Any]) -> Any:
        """``fn`` in a write transaction that also marks ``ws`` used now."""
        now = time.time()

        def tx(conn: sqlite3.Connection) -> Any:
            conn.execute(
                "INSERT INTO workspaces (ws, created, last_used) VALUES (?, ?, ?) "
                "ON CONFLICT (ws) DO UPDATE SET last_used = excluded.last_used",
                (ws, now, now),
            )
            return fn(conn)

        self._rows.beat()
        result = self.db.run(tx, write=True)
        self._touched[ws] = now
        self._maybe_expire(now)
        return result

    # --- items: small JSON things a student made, by kind and key ---
    # kinds in use: "kernel" (Kernel Lab custom kernel), "network" (Architecture: name, input, layers
    # as cnn_core.models.to_dict), "quiz" (Arithmetic progress), "lesson" (lesson progress), "prefs".

    def get_item(self, ws: str, kind: str, key: str = "") -> JSON | None:
        """The stored value, or None. A corrupt row is deleted and raises StoreError."""
        check_id(ws)
        row = self.read(lambda c: c.execute("SELECT value FROM items WHERE ws=? AND kind=? AND key=?", (ws, kind, key)).fetchone(), None)
        if row is None:
            return None
        try:
            return json.loads(row[0])
        except (TypeError, ValueError):
            self._drop_item(ws, kind, key)
            raise StoreError(
                f"Your saved {kind} could not be read (it was damaged on the server), so it was removed; "
                "you start that afresh and nothing else is affected."
            ) from None

    def _drop_item(self, ws: str, kind: str, key: str) -> None:
        try:
            self.db.run(lambda c: c.execute("DELETE FROM items WHERE ws=? AND kind=? AND key=?", (ws, kind, key)), write=True)
        except StoreError:
            pass

    def put_item(self, ws: str, kind: str, key: str, value: JSON) -> None:
        """Store (replace) a value. Raises StoreError when it cannot be written (disk full, read-only)."""
        check_id(ws)
        text = json.dumps(value)
        if len(text) > self.quota_bytes:
            raise StoreError(unsaved_sentence(f"it is larger than your workspace's {self.quota_bytes // 1_000_000} MB"))
        self.write(
            ws,
            lambda c: c.execute(
                "INSERT INTO items (ws, kind, key, value, updated) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (ws, kind, key) DO UPDATE SET value = excluded.value, updated = excluded.updated",
                (ws, kind, key, text, time.time()),
            ),
        )
        self._rows.enforce_quota(ws)

    def delete_item(self, ws: str, kind: str, key: str = "") -> None:
        check_id(ws)
        self.write(ws, lambda c: c.execute("DELETE FROM items WHERE ws=? AND kind=? AND key=?", (ws, kind, key)))

    def items(self, ws: str, kind: str) -> dict[str, JSON]:
        """Every readable item of a kind (corrupt ones are dropped silently here)."""
        check_id(ws)
        rows = self.read(lambda c: c.execute("SELECT key, value FROM items WHERE ws=? AND kind=? ORDER BY key", (ws, kind)).fetchall(), [])
        found: dict[str, JSON] = {}
        for key, text in rows:
            try:
                found[key] = json.loads(text)
            except (TypeError, ValueError):
                self._drop_item(ws, kind, key)
        return found

    # --- training runs (bodies in app.workspace.runs) ---

    def new_run_id(self) -> str:
        return f"{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(4)}"

    def save_run(self, record: RunRecord) -> None:
        """Insert or replace a run (called as the run goes: status, curve, summary)."""
        self._rows.save(record)

    def get_run(self, ws: str, run_id: str) -> RunRecord | None:
        return self._rows.get(check_id(ws), check_id(run_id, "run id"))

    def runs(self, ws: str) -> list[RunRecord]:
        """The workspace's runs, newest first (corrupt rows dropped)."""
        return self._rows.list(check_id(ws))

    def delete_run(self, ws: str, run_id: str) -> None:
        """The run, its model and its checkpoint."""
        self._rows.delete(check_id(ws), check_id(run_id, "run id"))

    def interrupted_runs(self) -> list[RunRecord]:
        """Runs left "queued" or "running" by a server that went away (for marking them "interrupted").

        A run is kept with the process that saved it; runs of a process still alive on this machine
        (this one included) are not listed.
        """
        return self._rows.interrupted()

    def active_runs(self) -> list[RunRecord]:
        """Runs queued or running in a server process still alive on this machine, every workspace's:
        what the instructor console lists for the processes it does not run itself."""
        return self._rows.active()

    # --- model files (state dicts of tensors) and checkpoints ---

    def save_model(self, ws: str, run_id: str, state_dict: dict[str, Any]) -> None:
        self._rows.save_file(check_id(ws), check_id(run_id, "run id"), state_dict, checkpoint_step=None)

    def load_model(self, ws: str, run_id: str) -> dict[str, Any]:
        """weights_only=True. A missing or corrupt file raises StoreError (and the run is marked has_model=False)."""
        return self._rows.load_file(check_id(ws), check_id(run_id, "run id"), checkpoint=False)

    def save_checkpoint(self, ws: str, run_id: str, step: int, state: dict[str, Any]) -> None:
        """``state`` holds tensors and plain values only (model, optimizer, scheduler state dicts, step)."""
        self._rows.save_file(check_id(ws), check_id(run_id, "run id"), state, checkpoint_step=int(step))

    def load_checkpoint(self, ws: str, run_id: str) -> dict[str, Any]:
        return self._rows.load_file(check_id(ws), check_id(run_id, "run id"), checkpoint=True)

    # --- the whole workspace ---

    def summary(self, ws: str) -> WorkspaceSummary:
        check_id(ws)

        def tx(c: sqlite3.Connection) -> tuple[dict[str, int], int, float]:
            kinds = dict(c.execute("SELECT kind, COUNT(*) FROM items WHERE ws=? GROUP BY kind", (ws,)).fetchall())
            runs = c.execute("SELECT COUNT(*) FROM runs WHERE ws=?", (ws,)).fetchone()[0]
            row = c.execute("SELECT last_used FROM workspaces WHERE ws=?", (ws,)).fetchone()
            return kinds, runs, row[0] if row else 0.0

        kinds, runs, last_used = self.read(tx, ({}, 0, 0.0))
        models = self._rows.model_files(ws)
        return WorkspaceSummary(ws, kinds, runs, models, self._rows.bytes_used(ws), self.quota_bytes, last_used)

    def forget(self, ws: str) -> None:
        """Delete everything of the workspace: items, runs, files ("forget me")."""
        check_id(ws)
        self.blobs.remove_workspace(ws)
        try:
            self.db.run(lambda c: c.execute("DELETE FROM workspaces WHERE ws=?", (ws,)), write=True)
        except StoreUnavailable as exc:
            raise StoreError(
                "Your workspace could not be deleted on the server just now "
                f"({str(exc).split('(', 1)[-1].split(')', 1)[0]}); please try again in a moment."
            ) from exc
        self._touched.pop(ws, None)

    def touch(self, ws: str) -> None:
        """Mark the workspace used now (expiry counts from its last use); writes at most once a minute."""
        check_id(ws)
        if time.time() - self._touched.get(ws, 0.0) < TOUCH_EVERY_S:
            return
        try:
            self.write(ws, lambda c: None)
        except StoreUnavailable:
            self._touched[ws] = time.time()  # not again at once: the page still runs from memory

    def expire(self) -> int:
        """Delete workspaces unused for longer than the expiry; returns how many."""
        cutoff = time.time() - self.expiry_days * 86400

        def tx(c: sqlite3.Connection) -> list[str]:
            old = [r[0] for r in c.execute("SELECT ws FROM workspaces WHERE last_used < ?", (cutoff,)).fetchall()]
            c.executemany("DELETE FROM workspaces WHERE ws=?", [(w,) for w in old])
            return old

        old = self.db.run(tx, write=True)
        for ws in old:
            if valid_id(ws):
                self.blobs.remove_workspace(ws)
            self._touched.pop(ws, None)
        return len(old)

    def _maybe_expire(self, now: float) -> None:
        with self._lock:
            if now - self._expired_at < EXPIRE_EVERY_S:
                return
            self._expired_at = now
        try:
            self.expire()
        except StoreError:
            pass
