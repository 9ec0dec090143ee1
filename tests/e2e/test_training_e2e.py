"""Training in a real Chromium: start a run, see the curves move, stop it."""

from __future__ import annotations

import re
import time

from tests.e2e.conftest import SHOTS, wait_for_app


def progress_text(page) -> str:
    return page.locator('[data-testid="stProgress"]').first.inner_text()


def test_train_watch_and_stop(page, server):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.goto(f"{server}/training")
    wait_for_app(page)
    epochs = page.get_by_label("Epochs", exact=True)
    epochs.fill("10")  # long enough to stop by hand
    epochs.press("Enter")
    wait_for_app(page)
    page.get_by_role("button", name="Start training").click()

    page.wait_for_selector('[data-testid="stProgress"]', timeout=60_000)
    page.wait_for_function(
        "() => /step [1-9]/.test(document.querySelector('[data-testid=\"stProgress\"]')?.innerText || '')",
        timeout=60_000,
    )
    first = progress_text(page)
    time.sleep(4)
    later = progress_text(page)
    assert first != later, "the progress did not move"
    assert page.locator(".js-plotly-plot").count() >= 1  # the live curves
    page.screenshot(path=str(SHOTS / "training_live.png"))

    page.get_by_role("button", name="Stop").click()
    page.get_by_text(re.compile("stopped", re.I)).first.wait_for(timeout=60_000)
    wait_for_app(page)
    assert page.get_by_role("button", name="Start training").is_enabled()
    page.get_by_text("Model (.pt)").wait_for()
    page.screenshot(path=str(SHOTS / "training_stopped.png"))
