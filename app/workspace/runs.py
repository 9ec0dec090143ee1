"""The training runs of the workspace store: rows, their model and checkpoint files, quota pruning.

:class:`RunRows` holds the bodies behind :class:`~app.workspace.store.WorkspaceStore`'s run and
model methods. A run row remembers the process that saved it (host, pid and the process's start
time), so :meth:`RunRows.interrupted` lists only runs whose process is gone, whichever process asks
(on PostgreSQL, a process on another machine counts as there while its heartbeat is recent).
Model and checkpoint bytes go through the store's ``blobs`` (:mod:`app.workspace.blobs`).
Quota pruning takes the oldest finished runs' files first, then the oldest runs; a run that is
queued or running, and the one being written, are never pruned.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.workspace import files
from app.workspace.db import StoreError, reason_of, unsaved_sentence

if TYPE_CHECKING:
    from app.workspace.store import RunRecord, WorkspaceStore

__all__ = ["ALIVE_S", "OWNER", "RunRows", "owner_alive"]

ACTIVE = ("queued", "running")
BEAT_EVERY_S = 20.0  # on PostgreSQL a process stamps its heartbeat at most this often
ALIVE_S = 90.0  # ... and counts as gone (its runs interrupted) after this long without one
QUEUED_KEEP_S = 6 * 3600.0  # a run queued longer than this is not counted ahead of others
COLUMNS = "run_id, ws, title, status, created, updated, settings, summary, curve, has_model, checkpoint_step"


def _start_time(pid: int) -> str:
    """The process's start time in clock ticks since boot ("" where /proc does not say)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return ""


OWNER = f"{socket.gethostname()}:{os.getpid()}:{_start_time(os.getpid())}"


def owner_alive(owner: str) -> bool:
    """Whether the process that wrote ``owner`` (see :data:`OWNER`) still runs on this machine."""
    host, _, rest = owner.partition(":")
    pid_text, _, started = rest.partition(":")
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return _start_time(pid) == started


class RunRows:
    """Run rows and files of one :class:`WorkspaceStore`."""

    def __init__(self, store: WorkspaceStore) -> None:
        self.store = store
        self._beat_at = 0.0

    # --- processes and the queue across them ---

    def beat(self) -> None:
        """On PostgreSQL, stamp this process's heartbeat (so other machines see its runs are alive)."""
        now = time.time()
        if not self.store.shared or now - self._beat_at < BEAT_EVERY_S:
            return
        self._beat_at = now
        try:
            self.store.db.run(lambda c: c.execute("INSERT OR REPLACE INTO processes (owner, beat) VALUES (?, ?)", (OWNER, now)), write=False)
        except StoreError:
            pass

    def live_owners(self) -> set[str]:
        if not self.store.shared:
            return set()
        cutoff = time.time() - ALIVE_S
        return {r[0] for r in self.store.read(lambda c: c.execute("SELECT owner FROM processes WHERE beat >= ?", (cutoff,)).fetchall(), [])}

    def queued_ahead(self, run_id: str) -> int | None:
        def tx(c: sqlite3.Connection) -> int | None:
            row = c.execute("SELECT created FROM runs WHERE run_id=? AND status='queued'", (run_id,)).fetchone()
            if row is None:
                return None
            since = time.time() - QUEUED_KEEP_S  # older queued rows are a gone process's leftovers
            ahead = c.execute(
                "SELECT COUNT(*) FROM runs WHERE status='queued' AND run_id<>? AND created>=? AND created<?", (run_id, since, row[0])
            ).fetchone()
            return int(ahead[0])

        return self.store.read(tx, None)

    def typical_seconds(self) -> float | None:
        rows = self.store.read(
            lambda c: c.execute("SELECT summary FROM runs WHERE status='finished' ORDER BY updated DESC LIMIT 20").fetchall(), []
        )
        seconds = []
        for (text,) in rows:
            try:
                value = json.loads(text).get("seconds")
            except (TypeError, ValueError, AttributeError):
                continue
            if isinstance(value, int | float) and value > 0:
                seconds.append(float(value))
        return sum(seconds) / len(seconds) if seconds else None

    # --- rows ---

    def save(self, r: RunRecord) -> None:
        from app.workspace.store import check_id

        ws, run_id = check_id(r.workspace), check_id(r.run_id, "run id")
        texts = json.dumps(r.settings), json.dumps(r.summary), json.dumps(r.curve)
        has_model = self.store.blobs.exists(ws, run_id, False)
        has_ckpt = self.store.blobs.exists(ws, run_id, True)

        def tx(c: sqlite3.Connection) -> list[str]:
            old = c.execute("SELECT checkpoint_step FROM runs WHERE run_id=?", (run_id,)).fetchone()
            step = (r.checkpoint_step if r.checkpoint_step is not None else (old[0] if old else None)) if has_ckpt else None
            c.execute(
                f"INSERT OR REPLACE INTO runs ({COLUMNS}, owner) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (run_id, ws, r.title, r.status, r.created, r.updated, *texts, int(has_model), step, OWNER),
            )
            active = ",".join("?" * len(ACTIVE))
            extra = c.execute(
                f"SELECT run_id FROM runs WHERE ws=? AND run_id<>? AND status NOT IN ({active}) ORDER BY created DESC LIMIT -1 OFFSET ?",
                (ws, run_id, *ACTIVE, max(self.store.max_runs - 1, 0)),
            ).fetchall()
            for (old_id,) in extra:
                c.execute("DELETE FROM runs WHERE run_id=?", (old_id,))
            return [old_id for (old_id,) in extra]

        for old_id in self.store.write(ws, tx):  # their files after the transaction (a database's blobs take their own)
            self._remove_files(ws, old_id)
        self.enforce_quota(ws, keep=run_id)

    def _record(self, row: tuple[Any, ...], present: set[tuple[str, str]] | None = None) -> RunRecord:
        from app.workspace.store import RunRecord

        run_id, ws, title, status, created, updated, settings, summary, curve, _, step = row
        settings, summary, curve = json.loads(settings), json.loads(summary), json.loads(curve)
        if not (isinstance(settings, dict) and isinstance(summary, dict) and isinstance(curve, list)):
            raise ValueError("wrong shape")
        present = self.store.blobs.present(ws) if present is None else present
        has_model, has_ckpt = (run_id, "model") in present, (run_id, "ckpt") in present
        return RunRecord(run_id, ws, title, status, created, updated, settings, summary, curve, has_model, step if has_ckpt else None)

    def get(self, ws: str, run_id: str) -> RunRecord | None:
        row = self.store.read(lambda c: c.execute(f"SELECT {COLUMNS} FROM runs WHERE ws=? AND run_id=?", (ws, run_id)).fetchone(), None)
        if row is None:
            return None
        try:
            return self._record(row)
        except (TypeError, ValueError):
            self._drop(ws, run_id)
            raise StoreError(
                f"The saved run \u201c{row[2]}\u201d could not be read (it was damaged on the server), "
                "so it was removed; your other runs are kept."
            ) from None

    def list(self, ws: str) -> list[RunRecord]:
        rows = self.store.read(lambda c: c.execute(f"SELECT {COLUMNS} FROM runs WHERE ws=? ORDER BY created DESC, rowid DESC", (ws,)).fetchall(), [])
        found = []
        present = self.store.blobs.present(ws) if rows else set()
        for row in rows:
            try:
                found.append(self._record(row, present))
            except (TypeError, ValueError):
                self._drop(ws, row[0])
        return found

    def delete(self, ws: str, run_id: str) -> None:
        self.store.write(ws, lambda c: c.execute("DELETE FROM runs WHERE ws=? AND run_id=?", (ws, run_id)))
        self._remove_files(ws, run_id)

    def _drop(self, ws: str, run_id: str) -> None:
        try:
            self.delete(ws, run_id)
        except StoreError:
            pass

    def interrupted(self) -> list[RunRecord]:
        return self._active(alive=False)

    def active(self) -> list[RunRecord]:
        return self._active(alive=True)

    def _active(self, *, alive: bool) -> list[RunRecord]:
        """Runs kept as queued or running whose saving process is (``alive``) or is not still there."""
        active = ",".join("?" * len(ACTIVE))
        rows = self.store.read(
            lambda c: c.execute(f"SELECT {COLUMNS}, owner FROM runs WHERE status IN ({active}) ORDER BY created", ACTIVE).fetchall(), []
        )
        found = []
        beating = self.store.live_owners() if rows else set()
        for row in rows:
            if (owner_alive(row[-1]) or row[-1] in beating) != alive:
                continue
            try:
                found.append(self._record(row[:-1]))
            except (TypeError, ValueError):
                self._drop(row[1], row[0])
        return found

    # --- files ---

    def _remove_files(self, ws: str, run_id: str) -> int:
        return self.store.blobs.remove(ws, run_id, False) + self.store.blobs.remove(ws, run_id, True)

    def save_file(self, ws: str, run_id: str, state: dict[str, Any], *, checkpoint_step: int | None) -> None:
        checkpoint = checkpoint_step is not None
        try:
            self.store.blobs.write(ws, run_id, checkpoint, state)
        except OSError as exc:
            raise StoreError(unsaved_sentence(reason_of(exc))) from exc
        if checkpoint:
            self.store.write(ws, lambda c: c.execute("UPDATE runs SET checkpoint_step=? WHERE ws=? AND run_id=?", (checkpoint_step, ws, run_id)))
        else:
            self.store.write(ws, lambda c: c.execute("UPDATE runs SET has_model=1 WHERE ws=? AND run_id=?", (ws, run_id)))
        if not self.enforce_quota(ws, keep=run_id):
            self.store.blobs.remove(ws, run_id, checkpoint)
            mb = self.store.quota_bytes / 1_000_000
            raise StoreError(unsaved_sentence(f"your workspace on the server is full at {mb:g} MB; delete some runs to make space"))

    def load_file(self, ws: str, run_id: str, *, checkpoint: bool) -> dict[str, Any]:
        what = "checkpoint" if checkpoint else "trained model"
        try:
            return self.store.blobs.read(ws, run_id, checkpoint)
        except files.BadFile as exc:
            missing = str(exc) == "missing"
            if not missing:
                self.store.blobs.remove(ws, run_id, checkpoint)
            column = "checkpoint_step=NULL" if checkpoint else "has_model=0"
            try:
                self.store.write(ws, lambda c: c.execute(f"UPDATE runs SET {column} WHERE ws=? AND run_id=?", (ws, run_id)))
            except StoreError:
                pass
            if missing:
                raise StoreError(f"The {what} of this run is no longer on the server; its curves and your other runs are kept.") from None
            raise StoreError(
                f"The saved {what} of this run was damaged on the server and could not be read, so it was removed; "
                "its curves and your other runs are kept."
            ) from None

    def model_files(self, ws: str) -> int:
        return self.store.blobs.models(ws)

    def bytes_used(self, ws: str) -> int:
        rows = self.store.read(
            lambda c: c.execute(
                "SELECT (SELECT COALESCE(SUM(LENGTH(value)), 0) FROM items WHERE ws=?) + "
                "(SELECT COALESCE(SUM(LENGTH(settings) + LENGTH(summary) + LENGTH(curve)), 0) FROM runs WHERE ws=?)",
                (ws, ws),
            ).fetchone()[0],
            0,
        )
        return int(rows) + self.store.blobs.bytes(ws)

    # --- quota ---

    def enforce_quota(self, ws: str, keep: str | None = None) -> bool:
        """Prune the oldest runs' files, then the oldest runs, until ``ws`` fits; whether it does."""
        quota = self.store.quota_bytes
        if self.bytes_used(ws) <= quota:
            return True
        active = ",".join("?" * len(ACTIVE))
        old = self.store.read(
            lambda c: c.execute(
                f"SELECT run_id FROM runs WHERE ws=? AND run_id<>? AND status NOT IN ({active}) ORDER BY created, rowid",
                (ws, keep or "", *ACTIVE),
            ).fetchall(),
            [],
        )
        old_ids = [r[0] for r in old]
        for run_id in old_ids:
            if self._remove_files(ws, run_id):
                self.store.write(ws, lambda c, r=run_id: c.execute("UPDATE runs SET has_model=0, checkpoint_step=NULL WHERE run_id=?", (r,)))
                if self.bytes_used(ws) <= quota:
                    return True
        for run_id in old_ids:
            self.store.write(ws, lambda c, r=run_id: c.execute("DELETE FROM runs WHERE run_id=?", (r,)))
            if self.bytes_used(ws) <= quota:
                return True
        return False
