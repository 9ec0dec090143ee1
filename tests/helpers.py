"""Helpers more than one test module needs: building zips, waiting for a page's training run, a fresh workspace."""

from __future__ import annotations

import io
import stat
import time
import zipfile
from pathlib import Path

from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]


def open_app_page(script: str, timeout: float = 120) -> AppTest:
    """AppTest of the whole app switched to ``script`` (e.g. ``"app_pages/training.py"``), run once, no exception."""
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=timeout)
    at.switch_page(script)
    at.run()
    assert not at.exception, at.exception
    return at


def make_zip(entries: dict[str, bytes], symlinks: tuple[str, ...] = ()) -> bytes:
    """A zip of ``entries`` (name -> bytes), plus ``symlinks`` pointing at /etc/passwd."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, blob in entries.items():
            zf.writestr(name, blob)
        for name in symlinks:
            info = zipfile.ZipInfo(name)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            zf.writestr(info, "/etc/passwd")
    return buf.getvalue()


def wait_until_finished(at: AppTest, timeout: float = 120) -> None:
    """Rerun the page, as its live fragment would, until its session's training job is over; then
    once more to show the end. Raises if the job is still active after ``timeout`` seconds."""
    from app import state  # here, so core tests can use make_zip without importing the app

    deadline = time.monotonic() + timeout
    at.run()
    while at.session_state[state.TR_JOB].active:
        if time.monotonic() > deadline:
            raise AssertionError(f"the run did not finish within {timeout:.0f} s")
        time.sleep(0.25)  # between reruns, as the page's fragment refreshes
        at.run()
    at.run()


class FreshWorkspace:
    """A learner's workspace in a fresh store: AppTests opened while it is patched in are that
    learner's new sessions (a reload, a second tab, a restart all look like this to a page)."""

    def __init__(self, monkeypatch, root: Path) -> None:
        from app.workspace import Classroom, WorkspaceStore, identity

        self.store = WorkspaceStore(root)
        self.classroom = Classroom(self.store.database)
        self.id = "learner-a"
        monkeypatch.setattr(identity, "store", lambda: self.store)
        monkeypatch.setattr(identity, "classroom", lambda: self.classroom)
        monkeypatch.setattr(identity, "workspace_id", lambda: self.id)
