"""Where a workspace's model and checkpoint bytes are kept: files on this machine, or the database.

:class:`FileBlobs` (the SQLite store) keeps ``models/<workspace>/<run_id>.pt`` and
``<run_id>.ckpt.pt`` under the state folder (atomic writes, :mod:`app.workspace.files`).
:class:`DbBlobs` (the PostgreSQL store) keeps the same ``torch.save`` bytes in the ``blobs`` table,
so an app process on any machine reads a model trained through another. Both read weights-only
and raise :class:`~app.workspace.files.BadFile` for what cannot be read; :class:`FileBlobs` raises
OSError and :class:`DbBlobs` :class:`~app.workspace.db.StoreError` when a write fails.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.workspace import files

if TYPE_CHECKING:
    from app.workspace.store import WorkspaceStore

__all__ = ["DbBlobs", "FileBlobs"]


def kind_of(checkpoint: bool) -> str:
    return "ckpt" if checkpoint else "model"


class FileBlobs:
    """Model and checkpoint files under the store's root."""

    def __init__(self, store: WorkspaceStore) -> None:
        self.store = store

    def _path(self, ws: str, run_id: str, checkpoint: bool) -> Path:
        return self.store.checkpoint_path(ws, run_id) if checkpoint else self.store.model_path(ws, run_id)

    def present(self, ws: str) -> set[tuple[str, str]]:
        """``(run_id, "model" | "ckpt")`` of every file the workspace has."""
        try:
            names = [p.name for p in self.store.model_dir(ws).iterdir()]
        except (FileNotFoundError, NotADirectoryError):
            return set()
        found = set()
        for name in names:
            if name.endswith(".ckpt.pt"):
                found.add((name[: -len(".ckpt.pt")], "ckpt"))
            elif name.endswith(".pt"):
                found.add((name[: -len(".pt")], "model"))
        return found

    def exists(self, ws: str, run_id: str, checkpoint: bool) -> bool:
        return self._path(ws, run_id, checkpoint).exists()

    def write(self, ws: str, run_id: str, checkpoint: bool, state: dict[str, Any]) -> None:
        files.write_state(self._path(ws, run_id, checkpoint), state)

    def read(self, ws: str, run_id: str, checkpoint: bool) -> dict[str, Any]:
        return files.read_state(self._path(ws, run_id, checkpoint))

    def remove(self, ws: str, run_id: str, checkpoint: bool) -> int:
        return files.remove(self._path(ws, run_id, checkpoint))

    def models(self, ws: str) -> int:
        return sum(1 for _, kind in self.present(ws) if kind == "model")

    def bytes(self, ws: str) -> int:
        return files.folder_bytes(self.store.model_dir(ws))

    def remove_workspace(self, ws: str) -> None:
        files.remove_tree(self.store.root / "models" / ws)


class DbBlobs:
    """Model and checkpoint bytes in the database's ``blobs`` table (PostgreSQL)."""

    def __init__(self, store: WorkspaceStore) -> None:
        self.store = store

    def present(self, ws: str) -> set[tuple[str, str]]:
        rows = self.store.read(lambda c: c.execute("SELECT run_id, kind FROM blobs WHERE ws=?", (ws,)).fetchall(), [])
        return {(r[0], r[1]) for r in rows}

    def exists(self, ws: str, run_id: str, checkpoint: bool) -> bool:
        row = self.store.read(
            lambda c: c.execute("SELECT 1 FROM blobs WHERE ws=? AND run_id=? AND kind=?", (ws, run_id, kind_of(checkpoint))).fetchone(),
            None,
        )
        return row is not None

    def write(self, ws: str, run_id: str, checkpoint: bool, state: dict[str, Any]) -> None:
        data = files.state_bytes(state)
        self.store.write(
            ws,
            lambda c: c.execute(
                "INSERT INTO blobs (ws, run_id, kind, data, updated) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (ws, run_id, kind) DO UPDATE SET data = EXCLUDED.data, updated = EXCLUDED.updated",
                (ws, run_id, kind_of(checkpoint), data, time.time()),
            ),
        )

    def read(self, ws: str, run_id: str, checkpoint: bool) -> dict[str, Any]:
        row = self.store.read(
            lambda c: c.execute("SELECT data FROM blobs WHERE ws=? AND run_id=? AND kind=?", (ws, run_id, kind_of(checkpoint))).fetchone(),
            None,
        )
        if row is None:
            raise files.BadFile("missing")
        return files.state_from(bytes(row[0]))

    def remove(self, ws: str, run_id: str, checkpoint: bool) -> int:
        def tx(c: Any) -> int:
            row = c.execute("SELECT LENGTH(data) FROM blobs WHERE ws=? AND run_id=? AND kind=?", (ws, run_id, kind_of(checkpoint))).fetchone()
            c.execute("DELETE FROM blobs WHERE ws=? AND run_id=? AND kind=?", (ws, run_id, kind_of(checkpoint)))
            return int(row[0]) if row else 0

        return int(self.store.db.run(tx, write=True))

    def models(self, ws: str) -> int:
        return sum(1 for _, kind in self.present(ws) if kind == "model")

    def bytes(self, ws: str) -> int:
        row = self.store.read(lambda c: c.execute("SELECT COALESCE(SUM(LENGTH(data)), 0) FROM blobs WHERE ws=?", (ws,)).fetchone(), (0,))
        return int(row[0])

    def remove_workspace(self, ws: str) -> None:
        """Nothing to do: deleting the workspace's row deletes its blobs (ON DELETE CASCADE)."""
