"""The workspace store's bad states on a real server: a truncated model file, the database deleted,
the database replaced by garbage, all while the server runs (and the model file read again after a restart).

One server with its own ``CONVLAB_STATE_DIR`` (under ``tmp_path``); browserless sessions
(``bench.load_protocol.Session``) carry a fixed ``convlab_workspace`` cookie, as a browser that has
been here before does, so every new session is the same student coming back. After each fault the
Kernel Lab and the Training page still answer without an exception, the student reads a sentence
where their model was lost, and what the fault did not touch (another workspace's kernel, the run's
record) is still there.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from app.workspace import WorkspaceStore
from bench.load_protocol import RunResult, Session
from tests.server.conftest import SHAPES, run, start_server

pytestmark = pytest.mark.slow

WS = "fault-test-workspace-0001"
OTHER = "fault-test-workspace-0002"


def session(url: str) -> Session:
    s = Session(url)
    s.cookies["convlab_workspace"] = WS
    return s


async def pages_answer(url: str) -> dict[str, RunResult]:
    """Open the Kernel Lab and the Training page in fresh sessions; neither shows an exception."""
    seen = {}
    for page in ("kernel_lab", "training"):
        s = session(url)
        try:
            r = await s.open(page)
        finally:
            await s.close()
        assert not r.exceptions, f"{page}: {r.exceptions}"
        assert r.texts(), f"{page} showed nothing"
        seen[page] = r
    return seen


async def wait_for(predicate, what: str, timeout: float) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        assert loop.time() < deadline, f"waited {timeout:.0f} s for {what}"
        await asyncio.sleep(0.25)


async def train_one_epoch(url: str) -> None:
    s = session(url)
    await s.open("training")
    await s.rerun(tr_source=SHAPES)
    await s.rerun(tr_epochs=1.0, tr_seed=0)
    await s.rerun(tr_start=True)
    s.follow_auto_reruns()
    try:
        for _ in range(240):
            r = await s.rerun()
            assert not r.exceptions, r.exceptions
            if any("Training finished" in t for t in r.texts()):
                return
            await asyncio.sleep(0.5)
        raise AssertionError("the run did not finish in 2 minutes")
    finally:
        await s.close()


def test_the_app_survives_a_truncated_model_a_deleted_and_a_corrupt_database(tmp_path: Path) -> None:
    state_dir = tmp_path / "state"
    store = WorkspaceStore(state_dir)  # the test's own view of the same files, as a second process
    store.put_item(OTHER, "kernel", "", [[0, 1, 0], [1, -4, 1], [0, 1, 0]])
    database = store.database
    models = state_dir / "models" / WS
    servers = [start_server("workspace_faults", env={"CONVLAB_STATE_DIR": str(state_dir)})]
    try:

        async def scenario() -> None:
            url = servers[0].url
            await pages_answer(url)
            await train_one_epoch(url)
            await wait_for(lambda: any(p.name.endswith(".pt") and ".ckpt" not in p.name for p in models.glob("*.pt")), "the model file", 30)
            (kept,) = [r for r in store.runs(WS) if r.has_model]

            # 1. The model file is cut in half. While the server runs, the finished job still holds
            # the model, so the pages answer as before; after a restart the file is all there is:
            # a sentence, the run's record stays, nothing else is lost.
            for path in models.glob("*.pt"):
                path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
            await pages_answer(url)
            port = servers[0].port
            servers[0].stop()
            servers[0] = start_server("workspace_faults", port=port, env={"CONVLAB_STATE_DIR": str(state_dir)})
            seen = await pages_answer(url)
            assert any("damaged" in t for t in seen["training"].texts()), seen["training"].texts()
            again = store.get_run(WS, kept.run_id)
            assert again is not None and again.title == kept.title and not again.has_model
            assert store.get_item(OTHER, "kernel") == [[0, 1, 0], [1, -4, 1], [0, 1, 0]]

            # 2. The database file is deleted: the next page runs re-create it.
            for tail in ("", "-wal", "-shm"):
                Path(f"{database}{tail}").unlink(missing_ok=True)
            await pages_answer(url)
            assert database.exists()

            # 3. The database file is replaced by garbage: set aside, a fresh one, the pages answer.
            garbage = database.with_name("garbage")
            garbage.write_bytes(os.urandom(16384))
            os.replace(garbage, database)
            await pages_answer(url)
            await pages_answer(url)
            assert list(state_dir.glob("convlab.sqlite3.corrupt-*")), sorted(p.name for p in state_dir.iterdir())
            assert database.read_bytes()[:16] == b"SQLite format 3\x00"

        run(scenario(), timeout=240)
    finally:
        servers[0].stop()
