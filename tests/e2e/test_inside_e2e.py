"""Inside the model in a real Chromium: train the quick demo, open every section, click a confusion cell,
draw a digit on the canvas and get a prediction."""

from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import SHOTS, wait_for_app

pytestmark = pytest.mark.slow

TABS = ["Learned kernels", "Over time", "Confusion matrix", "Mistakes", "Saliency & Grad-CAM", "Predict"]


def cell_centre(page, chart: int, row: int, col: int) -> tuple[float, float]:
    """Screen position of category cell (row, col) of the chart-th plotly chart, from plotly's own axes."""
    return page.evaluate(
        """([i, r, c]) => {
            const gd = document.querySelectorAll('.js-plotly-plot')[i];
            const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
            const box = gd.getBoundingClientRect();
            return [box.left + xa._offset + xa.l2p(c), box.top + ya._offset + ya.l2p(r)];
        }""",
        [chart, row, col],
    )


def draw_seven(page) -> None:
    canvas = page.locator('[data-testid="stBidiComponentRegular"] canvas, canvas').last
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    assert box is not None and box["width"] >= 200
    x0, y0 = box["x"], box["y"]
    page.mouse.move(x0 + 80, y0 + 70)
    page.mouse.down()
    for i in range(12):  # the top bar, left to right
        page.mouse.move(x0 + 80 + i * 10, y0 + 70)
    for i in range(16):  # the stem, down to the lower left
        page.mouse.move(x0 + 200 - i * 5, y0 + 70 + i * 11)
    page.mouse.up()


def test_demo_model_every_section_and_a_drawn_digit(page, server):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": 1400, "height": 1600})
    page.goto(f"{server}/inside")
    wait_for_app(page)
    page.get_by_text("There is no model in this session yet").wait_for()
    page.get_by_role("button", name=re.compile("Train a quick demo model")).click()
    page.get_by_text("Image to look at").wait_for(timeout=180_000)
    wait_for_app(page)
    page.get_by_text("Trained the quick demo CNN").wait_for()
    page.get_by_text("1. conv1").wait_for()
    page.screenshot(path=str(SHOTS / "inside_feature_maps.png"))

    for name in TABS:
        page.get_by_role("tab", name=name).click()
        wait_for_app(page)
        page.screenshot(path=str(SHOTS / f"inside_{name.split()[0].lower()}.png"))
        assert page.locator('[data-testid="stException"]').count() == 0, name
        if name == "Confusion matrix":
            page.get_by_text("were predicted as").first.wait_for()
            x, y = cell_centre(page, 0, 3, 5)  # true 3, predicted 5
            page.mouse.click(x, y)
            wait_for_app(page)
            page.get_by_text(re.compile(r"test images of 3 were predicted as 5")).wait_for()

    page.get_by_role("tab", name="Predict").click()
    wait_for_app(page)
    page.get_by_text("Draw", exact=True).click()
    wait_for_app(page)
    page.get_by_text("Draw a digit on the canvas").wait_for()
    draw_seven(page)
    page.get_by_text("What the model sees: Your drawing").wait_for(timeout=60_000)
    wait_for_app(page)
    page.get_by_text("How your image was made to look like the training images").wait_for()
    verdict = page.get_by_text("The model says").first.inner_text()
    m = re.search(r"The model says (\S+) \(([\d.]+)% sure\)", verdict)
    assert m is not None, verdict
    assert 0 < float(m.group(2)) <= 100
    page.screenshot(path=str(SHOTS / "inside_drawn_digit.png"))
    assert m.group(1) == "7", f"the demo model read the drawn 7 as {m.group(1)}"
