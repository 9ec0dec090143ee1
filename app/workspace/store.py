"""What each student made, kept on the server: items, training runs, model files and checkpoints.

The CONTRACT below is what the pages code against; the bodies are being written now.

Layout under ``root`` (``CONVLAB_STATE_DIR``; default ``$XDG_STATE_HOME/convlab`` or
``~/.local/state/convlab``): ``convlab.sqlite3`` (WAL journal, ``busy_timeout``, one connection per
thread, safe with several server processes) and ``models/<workspace>/<run_id>.pt`` and
``.../<run_id>.ckpt.pt`` written atomically (temp file + rename). Models are state dicts saved with
``torch.save`` and read with ``torch.load(weights_only=True)``.

Bad state never takes more than the item it hit: a corrupt row, a truncated or missing model file,
a deleted database (it is re-created), a full disk or a read-only folder raises :class:`StoreError`
with a sentence a student can read, after dropping just that item (for reads), and the app goes on
(in memory, for writes). Quota (``CONVLAB_WORKSPACE_MB``, default 200 MB per workspace) and expiry
(``CONVLAB_WORKSPACE_DAYS``, default 30 days since last use) are enforced on write: the oldest runs'
model files are pruned first, then the oldest runs.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["RunRecord", "StoreError", "WorkspaceStore", "WorkspaceSummary", "default_state_dir"]

JSON = Any  # what json.dumps accepts


class StoreError(RuntimeError):
    """The workspace could not read or write something; the message is a sentence for the student."""


def default_state_dir() -> Path:
    """``CONVLAB_STATE_DIR``, else ``$XDG_STATE_HOME/convlab``, else ``~/.local/state/convlab``."""
    if os.environ.get("CONVLAB_STATE_DIR"):
        return Path(os.environ["CONVLAB_STATE_DIR"]).expanduser()
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "convlab"


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
    anything else raises ``ValueError``).
    """

    def __init__(
        self,
        root: Path | None = None,
        *,
        quota_bytes: int | None = None,
        expiry_days: float | None = None,
        max_runs: int = 30,
    ) -> None:
        raise NotImplementedError

    @property
    def root(self) -> Path:
        raise NotImplementedError

    @property
    def database(self) -> Path:
        """The SQLite file (``root / "convlab.sqlite3"``); the classroom shares it."""
        raise NotImplementedError

    # --- items: small JSON things a student made, by kind and key ---
    # kinds in use: "kernel" (Kernel Lab custom kernel), "network" (Architecture: name, input, layers
    # as cnn_core.models.to_dict), "quiz" (Arithmetic progress), "lesson" (lesson progress), "prefs".

    def get_item(self, ws: str, kind: str, key: str = "") -> JSON | None:
        """The stored value, or None. A corrupt row is deleted and raises StoreError."""
        raise NotImplementedError

    def put_item(self, ws: str, kind: str, key: str, value: JSON) -> None:
        """Store (replace) a value. Raises StoreError when it cannot be written (disk full, read-only)."""
        raise NotImplementedError

    def delete_item(self, ws: str, kind: str, key: str = "") -> None:
        raise NotImplementedError

    def items(self, ws: str, kind: str) -> dict[str, JSON]:
        """Every readable item of a kind (corrupt ones are dropped silently here)."""
        raise NotImplementedError

    # --- training runs ---

    def new_run_id(self) -> str:
        raise NotImplementedError

    def save_run(self, record: RunRecord) -> None:
        """Insert or replace a run (called as the run goes: status, curve, summary)."""
        raise NotImplementedError

    def get_run(self, ws: str, run_id: str) -> RunRecord | None:
        raise NotImplementedError

    def runs(self, ws: str) -> list[RunRecord]:
        """The workspace's runs, newest first (corrupt rows dropped)."""
        raise NotImplementedError

    def delete_run(self, ws: str, run_id: str) -> None:
        """The run, its model and its checkpoint."""
        raise NotImplementedError

    def interrupted_runs(self) -> list[RunRecord]:
        """Runs left "queued" or "running" by a server that went away (for marking them "interrupted")."""
        raise NotImplementedError

    # --- model files (state dicts of tensors) and checkpoints ---

    def save_model(self, ws: str, run_id: str, state_dict: dict[str, Any]) -> None:
        raise NotImplementedError

    def load_model(self, ws: str, run_id: str) -> dict[str, Any]:
        """weights_only=True. A missing or corrupt file raises StoreError (and the run is marked has_model=False)."""
        raise NotImplementedError

    def save_checkpoint(self, ws: str, run_id: str, step: int, state: dict[str, Any]) -> None:
        """``state`` holds tensors and plain values only (model, optimizer, scheduler state dicts, step)."""
        raise NotImplementedError

    def load_checkpoint(self, ws: str, run_id: str) -> dict[str, Any]:
        raise NotImplementedError

    # --- the whole workspace ---

    def summary(self, ws: str) -> WorkspaceSummary:
        raise NotImplementedError

    def forget(self, ws: str) -> None:
        """Delete everything of the workspace: items, runs, files ("forget me")."""
        raise NotImplementedError

    def touch(self, ws: str) -> None:
        """Mark the workspace used now (expiry counts from its last use)."""
        raise NotImplementedError

    def expire(self) -> int:
        """Delete workspaces unused for longer than the expiry; returns how many."""
        raise NotImplementedError
