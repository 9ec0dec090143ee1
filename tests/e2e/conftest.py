"""Real-browser fixtures: a `streamlit run` on 127.0.0.1 and Debian's Chromium driven by Playwright.

Tests here are skipped, with the reason printed, only where no Chromium is installed. They are
marked ``e2e`` (and ``slow``) by tests/conftest.py; what they read from a page is in
:mod:`tests.e2e.dom`. The server's output goes to out/e2e/server.log.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "out" / "e2e"  # screenshots and the server log
INSTRUCTOR_KEY = "e2e-instructor-key-4c1d"  # CONVLAB_INSTRUCTOR_KEY of the test server
CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless=new",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def server() -> Iterator[str]:
    """Start ConvLab with `streamlit run` on a free loopback port; yield its base URL."""
    if CHROMIUM is None:
        pytest.skip("no Chromium installed (apt-get install chromium): browser tests skipped")
    port = _free_port()
    # CONVLAB_STATE_DIR: the run's fresh folder from tests/conftest.py, never the user's own store
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "CONVLAB_STATE_DIR": os.environ["CONVLAB_STATE_DIR"]}
    env["CONVLAB_INSTRUCTOR_KEY"] = INSTRUCTOR_KEY  # the console opens with it (tests/e2e/test_instructor_e2e.py)
    SHOTS.mkdir(parents=True, exist_ok=True)
    log = open(SHOTS / "server.log", "wb")  # noqa: SIM115 - closed after the server stops
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            "streamlit_app.py",
            "--server.address=127.0.0.1",
            f"--server.port={port}",
            "--server.headless=true",
            "--browser.gatherUsageStats=false",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while not _healthy(url):  # polls the server's own health endpoint, bounded by the deadline
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            log.close()
            raise RuntimeError("streamlit did not answer within 60 s:\n" + (SHOTS / "server.log").read_text(errors="replace"))
        time.sleep(0.2)
    yield url
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the whole session."""
    if CHROMIUM is None:
        pytest.skip("no Chromium installed (apt-get install chromium): browser tests skipped")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, server):
    """A fresh browser page (own session) of a 1400x1000 window; screenshots go to out/e2e/."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = context.new_page()
    pg.set_default_timeout(30_000)
    expect.set_options(timeout=30_000)
    yield pg
    context.close()
