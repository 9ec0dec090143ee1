"""A student's workspace in a real Chromium: a trained model survives a reload, a pasted link, a
second tab and a server restart; a run interrupted by a restart resumes; two students never mix."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from bench.load_protocol import StreamlitServer, free_port
from tests.e2e.conftest import CHROMIUM, SHOTS
from tests.e2e.dom import wait_for_app

MODEL_SHOWN = re.compile(r"test images classified correctly")
NO_MODEL = "There is no model in this session yet"


@pytest.fixture
def restartable(tmp_path: Path) -> Iterator[StreamlitServer]:
    """A server of this test's own, on its own state folder, so the test can restart it."""
    if CHROMIUM is None:
        pytest.skip("no Chromium installed (apt-get install chromium): browser tests skipped")
    SHOTS.mkdir(parents=True, exist_ok=True)
    env = {"CONVLAB_STATE_DIR": str(tmp_path / "state"), "CONVLAB_TRAINING_SLOTS": "1", "CONVLAB_DOWNLOAD": "0"}
    srv = StreamlitServer(free_port(range(8700, 8800)), env=env, log_path=SHOTS / "workspace_server.log")
    srv.start()
    yield srv
    srv.stop()


def _page(browser: Browser) -> Page:
    page = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
    page.set_default_timeout(30_000)
    return page


def _open(page: Page, url: str) -> Page:
    page.goto(url)
    wait_for_app(page)
    return page


def _progress(page: Page):
    return page.locator('[data-testid="stMain"] [data-testid="stProgress"]').first


def test_the_model_survives_a_reload_a_link_a_second_tab_and_a_restart(browser: Browser, restartable) -> None:
    url = restartable.url
    student = _open(_page(browser), f"{url}/training?data=shapes&epochs=1")
    student.get_by_role("button", name="Start training").click()
    expect(student.get_by_text("Training finished").first).to_be_visible(timeout=120_000)

    student.reload()
    wait_for_app(student)
    expect(student.get_by_text("Model (.pt)")).to_be_visible()  # the model, not "no model yet"

    _open(student, f"{url}/kernel_lab?kernel=Sobel+y")  # a link the instructor shared, pasted in the same tab
    _open(student, f"{url}/inside")
    expect(student.get_by_text(MODEL_SHOWN).first).to_be_visible()

    second_tab = _open(student.context.new_page(), f"{url}/inside")
    expect(second_tab.get_by_text(MODEL_SHOWN).first).to_be_visible()

    other_student = _open(_page(browser), f"{url}/inside")  # another browser: another workspace
    expect(other_student.get_by_text(NO_MODEL)).to_be_visible()

    restartable.stop()
    restartable.start()
    _open(student, f"{url}/inside")
    expect(student.get_by_text(MODEL_SHOWN).first).to_be_visible()
    _open(student, f"{url}/training")
    expect(student.get_by_text(re.compile(r"Your runs \(1 kept"))).to_be_visible()
    student.screenshot(path=str(SHOTS / "workspace_after_restart.png"))
    _open(other_student, f"{url}/inside")
    expect(other_student.get_by_text(NO_MODEL)).to_be_visible()  # still nothing of the first student's
    student.context.close()
    other_student.context.close()


def test_a_run_interrupted_by_a_restart_resumes_from_its_checkpoint(browser: Browser, restartable) -> None:
    url = restartable.url
    student = _open(_page(browser), f"{url}/training?epochs=12")  # the bundled MNIST subset
    student.get_by_role("button", name="Start training").click()
    # The first checkpoint is taken at the end of epoch 1: wait until the run is past it.
    expect(_progress(student)).to_contain_text(re.compile(r"Epoch ([2-9]|1[01])/12"), timeout=180_000)

    restartable.stop()  # the server restarts mid-run
    restartable.start()
    _open(student, f"{url}/training")
    expect(student.get_by_text(re.compile(r"Your run was interrupted at step \d+"))).to_be_visible()
    resume = student.get_by_role("button", name=re.compile(r"Resume from step \d+"))
    step = int(re.search(r"\d+", resume.inner_text()).group())
    assert step > 0
    resume.click()
    expect(student.get_by_text("Training finished").first).to_be_visible(timeout=240_000)
    done = _progress(student).inner_text()
    total = re.search(r"step (\d+) of (\d+)", done)
    assert total and total.group(1) == total.group(2), done  # it ran to the end of the same run
    student.screenshot(path=str(SHOTS / "workspace_resumed.png"))
    student.context.close()
