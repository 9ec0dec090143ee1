"""Two ConvLab server processes on one machine share the students' workspaces (one SQLite file).

Both servers use the same ``CONVLAB_STATE_DIR``; browserless sessions carry a fixed
``convlab_workspace`` cookie, as a browser that has been here before does. What a student makes
through one process is found through the other; another workspace finds none of it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from app.workspace import WorkspaceStore
from bench.load_protocol import Session
from tests.server.conftest import run, start_server

pytestmark = pytest.mark.slow

WS = "two-process-workspace-0001"
OTHER = "two-process-workspace-0002"
KEPT = "Your custom kernel is kept"


def session(url: str, ws: str) -> Session:
    s = Session(url)
    s.cookies["convlab_workspace"] = ws
    return s


def test_a_kernel_made_through_one_process_is_found_through_the_other(tmp_path: Path) -> None:
    state = tmp_path / "state"
    env = {"CONVLAB_STATE_DIR": str(state)}
    first, second = start_server("ws-first", env=env), start_server("ws-second", env=env)
    try:

        async def scenario() -> None:
            s = session(first.url, WS)
            await s.open("kernel_lab")
            await s.rerun(kl_preset="Custom…")
            r = await s.rerun(kl_paste="1 0 -1\n2 0 -2\n1 0 -1", kl_paste_apply=True)
            assert not r.exceptions, r.exceptions
            await s.close()
            assert WorkspaceStore(state).get_item(WS, "kernel") == {"kernel": "1,0,-1;2,0,-2;1,0,-1"}

            again = session(second.url, WS)  # the same browser, served by the other process
            r = await again.open("kernel_lab")
            await again.close()
            assert not r.exceptions and r.contains(KEPT), r.texts()

            stranger = session(second.url, OTHER)
            r = await stranger.open("kernel_lab")
            await stranger.close()
            assert not r.exceptions and not r.contains(KEPT)

        run(scenario())
    finally:
        first.stop()
        second.stop()
