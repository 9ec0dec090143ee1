"""Fine-tuning in a real Chromium: upload a generated few-shot zip on the Training page, fine-tune the
shipped backbone (frozen, new head only) and train the same network from scratch, then read both
accuracies from the page."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.app.test_transfer_page import few_shot_zip
from tests.e2e.conftest import SHOTS
from tests.e2e.dom import wait_for_app

RESULT = re.compile(r"fine-tuned (\d+\.\d)%, from scratch (\d+\.\d)%")


def test_fine_tune_a_few_shot_zip_and_compare_with_scratch(page: Page, server: str, tmp_path) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.goto(f"{server}/training")
    wait_for_app(page)
    backbone = page.get_by_text(re.compile(r"Backbone: ConvLab CIFAR backbone, \d+\.\d% test accuracy"))
    expect(backbone).to_be_visible(timeout=60_000)  # the page below the fold is drawn last
    few = tmp_path / "few.zip"
    few.write_bytes(few_shot_zip(12))  # 3 classes of colour patches, 12 images each
    uploader = page.locator('[data-testid="stFileUploader"]').filter(has_text="10-50 images each")
    uploader.locator('input[type="file"]').set_input_files(str(few))
    expect(page.get_by_text("few.zip: training on red (10), green (10), blue (10)")).to_be_visible(timeout=90_000)
    expect(page.get_by_role("radio", name="frozen: new head only")).to_be_checked()
    steps = page.get_by_label("Steps per run", exact=True)
    steps.fill("20")
    steps.press("Enter")
    go = page.get_by_role("button", name="Fine-tune and train from scratch")
    expect(go).to_be_enabled()
    go.click()
    expect(go).to_be_disabled(timeout=30_000)  # both runs queue through the registry, one after the other
    result = page.get_by_text(RESULT)
    expect(result).to_be_visible(timeout=120_000)
    tuned, scratch = (float(v) for v in RESULT.search(result.inner_text()).groups())
    assert 0 <= tuned <= 100 and 0 <= scratch <= 100
    metrics = page.locator('[data-testid="stMetricValue"]')
    expect(metrics).to_have_count(2)
    assert [m.inner_text() for m in metrics.all()] == [f"{scratch:.1f}%", f"{tuned:.1f}%"]
    expect(page.get_by_text("Validation accuracy: same images, same steps").first).to_be_visible()
    expect(go).to_be_enabled()
    page.screenshot(path=str(SHOTS / "training_transfer.png"), full_page=True)
