"""Model and checkpoint files of the workspace store: atomic writes, safe reads, sizes.

A file is written to a temporary name in its own folder, flushed to disk and renamed over the old
one, so a crash or a full disk never leaves half a file under the real name. It is read with
``torch.load(weights_only=True, map_location="cpu")``: a file that carries code, is truncated or is
not a torch file raises :class:`BadFile`. torch is imported inside the functions, never at module
level (the Home page must not import it).
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

__all__ = ["BadFile", "folder_bytes", "read_state", "remove", "remove_tree", "state_bytes", "state_from", "write_state"]


class BadFile(Exception):
    """The file is missing, truncated or not a weights-only torch file."""


def write_state(path: Path, state: dict[str, Any]) -> int:
    """Save ``state`` with ``torch.save`` atomically at ``path``; returns the file's size.

    Raises OSError (disk full, read-only folder) with nothing left behind.
    """
    import torch

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            torch.save(state, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return path.stat().st_size


def read_state(path: Path) -> dict[str, Any]:
    """The dict saved at ``path``, read weights-only onto the CPU; :class:`BadFile` if it cannot be."""
    try:
        with open(path, "rb") as fh:
            return _load(fh)
    except FileNotFoundError as exc:
        raise BadFile("missing") from exc


def state_bytes(state: dict[str, Any]) -> bytes:
    """``state`` as ``torch.save`` bytes (what the database store keeps)."""
    import torch

    buf = io.BytesIO()
    torch.save(state, buf)
    return buf.getvalue()


def state_from(data: bytes) -> dict[str, Any]:
    """The dict in ``torch.save`` bytes, read weights-only; :class:`BadFile` if it cannot be."""
    return _load(io.BytesIO(data))


def _load(fh: Any) -> dict[str, Any]:
    import torch

    try:
        state = torch.load(fh, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise
    except Exception as exc:  # torch raises many kinds (EOFError, RuntimeError, UnpicklingError...)
        raise BadFile(str(exc) or type(exc).__name__) from exc
    if not isinstance(state, dict):
        raise BadFile("not a dictionary of weights")
    return state


def remove(path: Path) -> int:
    """Delete a file if it is there; returns the bytes freed."""
    try:
        size = path.stat().st_size
        path.unlink()
    except FileNotFoundError:
        return 0
    return size


def remove_tree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


def folder_bytes(path: Path) -> int:
    """The total size of the plain files directly in ``path`` (0 when there is no such folder)."""
    try:
        with os.scandir(path) as entries:
            return sum(e.stat().st_size for e in entries if e.is_file(follow_symlinks=False))
    except (FileNotFoundError, NotADirectoryError):
        return 0
