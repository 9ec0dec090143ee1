"""Experiments in a real Chromium: one click runs a ready-made experiment's arms and shows the comparison."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.e2e.conftest import SHOTS
from tests.e2e.dom import frame_problems, layout_problems, presentation_on, wait_for_app, wait_for_charts


def test_one_click_runs_the_learning_rate_experiment_to_its_comparison(page: Page, server: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.goto(f"{server}/experiments")
    wait_for_app(page)
    page.locator('[data-testid="stSelectbox"]').filter(has_text="Experiment").first.click()
    page.get_by_role("option", name="Learning rates").click()
    expect(page.get_by_text("4 runs, each trained once", exact=False)).to_be_visible()
    run = page.get_by_role("button", name="Run this experiment")
    expect(run).to_be_enabled()
    run.click()
    # while it runs: which arm is training, and Run is disabled until the experiment ends
    expect(page.get_by_text(re.compile(r"Training arm [1-4] of 4")).first).to_be_visible(timeout=60_000)
    expect(run).to_be_disabled()
    verdict = page.get_by_text(re.compile(r"^Best held-out accuracy: lr "))
    expect(verdict).to_be_visible(timeout=180_000)  # four short arms, each in its own training process
    expect(run).to_be_enabled()
    expect(page.locator(".js-plotly-plot").first).to_be_visible()  # the arms' curves
    page.screenshot(path=str(SHOTS / "experiments_done.png"))

    # The results at 1024x768 in presentation mode (walks saw this table scroll sideways there): every cell
    # whole, no word broken, no canvas table wider than its frame.
    page.set_viewport_size({"width": 1024, "height": 768})
    presentation_on(page)
    page.wait_for_function("() => getComputedStyle(document.documentElement).fontSize === '20px'")
    wait_for_app(page)
    wait_for_charts(page)
    expect(page.locator('[data-testid="stTable"]').filter(has_text="held-out acc.")).to_be_visible()
    problems = layout_problems(page) + frame_problems(page)
    assert not problems, "\n".join(problems)
