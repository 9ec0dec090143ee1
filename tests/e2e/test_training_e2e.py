"""Training in a real Chromium: start a run, see the curves move, stop it."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.e2e.conftest import SHOTS
from tests.e2e.dom import (
    chart_problems,
    frame_problems,
    layout_problems,
    presentation_on,
    small_text,
    wait_for_app,
    wait_for_charts,
)


def test_train_watch_and_stop(page: Page, server: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.goto(f"{server}/training")
    wait_for_app(page)
    epochs = page.get_by_label("Epochs", exact=True)
    epochs.fill("10")  # long enough to stop by hand
    epochs.press("Enter")  # the click below sends every widget's value with it
    start = page.get_by_role("button", name="Start training")
    expect(start).to_be_enabled()
    start.click()

    progress = page.locator('[data-testid="stMain"] [data-testid="stProgress"]').first
    expect(progress).to_contain_text(re.compile(r"Epoch \d+/10 · step [1-9]"), timeout=60_000)
    first = progress.inner_text()
    expect(progress).not_to_have_text(first)  # the progress moves on while the page is open
    expect(page.locator(".js-plotly-plot").first).to_be_visible()  # the live curves
    page.screenshot(path=str(SHOTS / "training_live.png"))

    page.get_by_role("button", name="Stop").click()
    expect(page.get_by_text(re.compile("stopped", re.I)).first).to_be_visible(timeout=60_000)
    expect(page.get_by_role("button", name="Start training")).to_be_enabled()
    expect(page.get_by_text("Model (.pt)")).to_be_visible()
    page.screenshot(path=str(SHOTS / "training_stopped.png"))


def test_a_reload_keeps_the_model_and_curves_and_reattaches_mid_run(page: Page, server: str) -> None:
    page.goto(f"{server}/training?data=shapes&epochs=1")
    wait_for_app(page)
    page.get_by_role("button", name="Start training").click()
    expect(page.get_by_text("Training finished").first).to_be_visible(timeout=120_000)
    expect(page).to_have_url(re.compile(r"data=shapes"))  # the link holds the page's data and settings

    page.reload()  # a new session: the workspace cookie finds the model and its curves
    wait_for_app(page)
    expect(page.get_by_text("Training finished").first).to_be_visible()
    expect(page.locator(".js-plotly-plot").first).to_be_visible()
    expect(page.get_by_text("Model (.pt)")).to_be_visible()
    expect(page.get_by_text(re.compile(r"Your runs \(1 kept"))).to_be_visible()

    epochs = page.get_by_label("Epochs", exact=True)
    epochs.fill("20")
    epochs.press("Enter")
    page.get_by_role("button", name="Start training").click()
    running = re.compile(r"Epoch \d+/20 · step [1-9]")  # the new run's line, not the finished run's "Ended after"
    progress = page.locator('[data-testid="stMain"] [data-testid="stProgress"]').first
    expect(progress).to_contain_text(running, timeout=60_000)
    page.reload()  # mid-run: the same run, its progress carrying on
    wait_for_app(page)
    progress = page.locator('[data-testid="stMain"] [data-testid="stProgress"]').first
    expect(progress).to_contain_text(running, timeout=30_000)
    first = progress.inner_text()
    expect(progress).not_to_have_text(first)
    expect(page.get_by_role("button", name="Start training")).to_be_disabled()
    page.get_by_role("button", name="Stop").click()
    expect(page.get_by_role("button", name="Start training")).to_be_enabled(timeout=60_000)
    page.screenshot(path=str(SHOTS / "training_reattached.png"))


def test_after_a_run_the_page_fits_a_projector(page: Page, server: str) -> None:
    """What the every-screen check cannot see (it never trains): the buttons, samples and runs of a
    finished run at 1024x768 in presentation mode, nothing cut or broken inside a word."""
    page.set_viewport_size({"width": 1024, "height": 768})
    page.goto(f"{server}/training?data=shapes&epochs=1")
    wait_for_app(page)
    presentation_on(page)
    page.wait_for_function("() => getComputedStyle(document.documentElement).fontSize === '20px'")
    wait_for_app(page)
    page.get_by_role("button", name="Start training").click()
    expect(page.get_by_text("Training finished").first).to_be_visible(timeout=120_000)
    expect(page.get_by_text("Look inside the model")).to_be_visible()
    page.get_by_text("Look at the data").click()  # the samples: class names over their rows
    page.get_by_text(re.compile(r"Your runs \(1 kept")).click()  # the table, the picker, Load and Delete
    expect(page.get_by_role("button", name="Load this run")).to_be_visible()
    wait_for_app(page)
    wait_for_charts(page)
    problems = layout_problems(page) + chart_problems(page) + small_text(page, 16)  # the curves too
    problems += frame_problems(page)  # the runs and class-count tables: no sideways scrolling, no cut header
    assert not problems, "\n".join(problems)
