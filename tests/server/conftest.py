"""Live-server fixtures: ConvLab under a real ``streamlit run`` on 127.0.0.1, driven without a browser.

The server reads the repository's ``.streamlit/config.toml`` (the hosting defaults) and gets two
training slots of one torch thread each. Sessions speak Streamlit's websocket protocol through
:mod:`bench.load_protocol`. Ports come from 8651-8659 (else the OS picks one); every server a
test starts is stopped by the fixture that started it.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any

import pytest

from bench.load_protocol import RunResult, Session, StreamlitServer, descendants, free_port, proc_stats

ROOT = Path(__file__).resolve().parents[2]
PORTS = range(8651, 8660)
SERVER_ENV = {
    "CONVLAB_TRAINING_SLOTS": "2",
    "CONVLAB_TORCH_THREADS": "1",
    "CONVLAB_DOWNLOAD": "0",
    "CONVLAB_SESSION_GRACE_S": "10",  # a closed tab's run stops 10 s after its last heartbeat, not 75
    "CONVLAB_STATE_DIR": os.environ["CONVLAB_STATE_DIR"],  # the run's fresh folder (tests/conftest.py)
}
LOGS = ROOT / "out" / "server_tests"
SHAPES = "Shapes (generated: lines, circles, squares, triangles, crosses)"


def run(coro: Coroutine[Any, Any, Any], timeout: float = 150.0) -> Any:
    """Run one asyncio scenario with an overall time cap, in a thread of its own.

    A thread of its own because Playwright's sync API (tests/e2e) keeps an event loop running in
    the main thread for the rest of a pytest session, and asyncio.run() refuses to nest in it.
    """
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, asyncio.wait_for(coro, timeout)).result()


def start_server(name: str, port: int | None = None, **kw: Any) -> StreamlitServer:
    LOGS.mkdir(parents=True, exist_ok=True)
    env = {**SERVER_ENV, **kw.pop("env", {})}
    port = port or free_port(PORTS)
    return StreamlitServer(port, env=env, log_path=LOGS / f"{name}.log", **kw).start()


@pytest.fixture(scope="session")
def server() -> Iterator[StreamlitServer]:
    """One ConvLab server shared by the tests that do not restart it."""
    srv = start_server("shared")
    yield srv
    srv.stop()


def training_processes(server_pid: int) -> list[int]:
    """The server's training runs: children of the fork server (a child of the server)."""
    return sorted({pid for child in descendants(server_pid) for pid in descendants(child)})


async def wait_for_training_processes(server_pid: int, count: int, timeout: float = 30.0) -> list[int]:
    """Poll until the server has ``count`` training processes (the first start also starts the
    fork server, which imports torch: seconds on a cold machine); returns their pids."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while len(training_processes(server_pid)) != count and loop.time() < deadline:
        await asyncio.sleep(0.25)
    return training_processes(server_pid)


async def wait_for_cpu(pid: int, seconds: float, timeout: float = 60.0) -> None:
    """Poll until process ``pid`` has used ``seconds`` of CPU time (it is working, not starting)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while proc_stats(pid).cpu_s < seconds:
        assert loop.time() < deadline, f"process {pid} used under {seconds} s of CPU in {timeout} s"
        await asyncio.sleep(0.25)


def slot_sentence(r: RunResult) -> str:
    """The Training page's 'This server trains N run(s) at a time; R running, W waiting.'"""
    return next((t for t in r.texts() if "This server trains" in t), "")


async def slots(url: str) -> str:
    s = Session(url)
    try:
        return slot_sentence(await s.open("training"))
    finally:
        await s.close()


async def wait_for_slots(url: str, wanted: str, timeout: float) -> str:
    """Poll the slot sentence with fresh sessions until it contains ``wanted``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    seen = ""
    while loop.time() < deadline:
        seen = await slots(url)
        if wanted in seen:
            return seen
        await asyncio.sleep(0.5)
    raise AssertionError(f"waited {timeout:.0f} s for {wanted!r}; the page says {seen!r}")


async def start_training(url: str, *, epochs: int, seed: int = 0, source: str = SHAPES) -> tuple[Session, RunResult]:
    """A session that opens the Training page, picks data and presses Start training."""
    s = Session(url)
    await s.open("training")
    await s.rerun(tr_source=source)
    await s.rerun(tr_epochs=float(epochs), tr_seed=float(seed))
    r = await s.rerun(tr_start=True)
    return s, r


def nginx_binary() -> str | None:
    return shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if Path(p).exists()), None)
