"""Real-browser fixtures: a `streamlit run` on 127.0.0.1 and Debian's Chromium driven by Playwright.

Tests here are skipped, with the reason printed, only where no Chromium is installed. They are
marked ``e2e`` (and ``slow``) by tests/conftest.py; what they read from a page is in
:mod:`tests.e2e.dom`. The server's output goes to out/e2e/server.log.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from app.workspace.classroom import Classroom, ClassSettings
from app.workspace.store import default_state_dir
from bench.load_protocol import CHROMIUM_ARGS, StreamlitServer, free_port

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "out" / "e2e"  # screenshots and the server log
FAILURES = SHOTS / "failures"  # every open page of a failed test, as it was when it failed
INSTRUCTOR_KEY = "e2e-instructor-key-4c1d"  # CONVLAB_INSTRUCTOR_KEY of the test server
CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)


@pytest.fixture(scope="session")
def server() -> Iterator[str]:
    """Start ConvLab with `streamlit run` on a free loopback port; yield its base URL.

    The server is :class:`bench.load_protocol.StreamlitServer`, the one the server tests and the
    load bench start; its output goes to out/e2e/server.log.
    """
    if CHROMIUM is None:
        pytest.skip("no Chromium installed (apt-get install chromium): browser tests skipped")
    SHOTS.mkdir(parents=True, exist_ok=True)
    env = {
        "CONVLAB_STATE_DIR": os.environ["CONVLAB_STATE_DIR"],  # the run's fresh folder (tests/conftest.py)
        "CONVLAB_INSTRUCTOR_KEY": INSTRUCTOR_KEY,  # the console opens with it (tests/e2e/test_instructor_e2e.py)
    }
    srv = StreamlitServer(free_port(range(8900, 9000)), env=env, log_path=SHOTS / "server.log").start(timeout=60)
    yield srv.url
    srv.stop()


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the whole session; every ``expect`` waits up to 30 s (its own default of 5 s
    is too short for a page's first run on a loaded 2-core machine), unless a test asks for longer."""
    if CHROMIUM is None:
        pytest.skip("no Chromium installed (apt-get install chromium): browser tests skipped")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        expect.set_options(timeout=30_000)
        yield b
        b.close()


@pytest.fixture
def room() -> Iterator[Classroom]:
    """The test server's classroom (same state folder), reset before and after: no banner, link or poll,
    the default class settings, and nobody present (an earlier test's closed tabs stay in the console's
    table for 30 s: its "Kernel Lab" cell matched three students)."""
    r = Classroom(default_state_dir() / "convlab.sqlite3")

    def reset() -> None:
        r.clear_banner()
        r.clear_link()
        r.close_poll()
        r.put_settings(ClassSettings())
        r.db.run(lambda c: c.execute("DELETE FROM presence"), write=True)

    reset()
    yield r
    reset()


@pytest.fixture
def page(browser, server):
    """A fresh browser page (own session) of a 1400x1000 window; screenshots go to out/e2e/."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = context.new_page()
    pg.set_default_timeout(30_000)
    expect.set_options(timeout=30_000)
    yield pg
    context.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A failed browser test leaves a screenshot and the address of each page it had open in out/e2e/failures/,
    taken before its fixtures close them (CI keeps out/e2e: .ci/run)."""
    outcome = yield
    report = outcome.get_result()
    if report.when != "call" or not report.failed:
        return
    pages: list[Page] = []
    for value in item.funcargs.values():
        if isinstance(value, Page):
            pages.append(value)
        elif isinstance(value, Browser):
            pages += [pg for ctx in value.contexts for pg in ctx.pages]
    FAILURES.mkdir(parents=True, exist_ok=True)
    for i, pg in enumerate(dict.fromkeys(pages)):
        stem = FAILURES / f"{item.name}-{i}"
        try:
            stem.with_suffix(".txt").write_text(pg.url + "\n")
            pg.screenshot(path=str(stem.with_suffix(".png")), full_page=True)
        except Exception as err:  # a closed or crashed page: the report above says why the test failed
            stem.with_suffix(".txt").write_text(f"{pg.url}\nno screenshot: {err}\n")
