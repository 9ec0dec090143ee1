"""Kernel Lab in a real Chromium: upload a photo, change the kernel, read the output and the inspector."""

from __future__ import annotations

import re

import numpy as np
from PIL import Image

from tests.e2e.conftest import SHOTS, wait_for_app


def feature_map_src(page) -> str:
    imgs = page.locator('[data-testid="stImage"] img')
    return imgs.last.get_attribute("src")


def choose(page, label: str, option: str) -> None:
    page.get_by_label(label, exact=True).first.click()
    page.get_by_role("option", name=option, exact=True).click()
    wait_for_app(page)


def test_upload_change_kernel_and_inspect(page, server, tmp_path):
    SHOTS.mkdir(parents=True, exist_ok=True)
    img = np.zeros((120, 160, 3), np.uint8)
    img[:, 80:] = 255  # one vertical edge down the middle
    path = tmp_path / "edge.png"
    Image.fromarray(img).save(path)

    page.goto(f"{server}/kernel_lab")
    wait_for_app(page)
    page.get_by_text("Upload", exact=True).click()
    wait_for_app(page)
    page.locator('input[type="file"]').set_input_files(str(path))
    wait_for_app(page)
    page.get_by_text("Output size: 120 x 160 in, 120 x 160 out").wait_for()

    before = feature_map_src(page)
    choose(page, "Kernel", "Box blur")
    page.get_by_text("plain average of its 3x3 neighbourhood").wait_for()
    after = feature_map_src(page)
    assert after and after != before, "the feature map did not change with the kernel"
    assert re.search(r"preset=Box(\+|%20)blur", page.url), page.url  # the view is a shareable link

    # Inspector: pick the output pixel on the edge; box blur over 0 | 255 columns.
    row = page.get_by_label("Output row", exact=True)
    row.fill("60")
    row.press("Enter")
    wait_for_app(page)
    col = page.get_by_label("Output column", exact=True)
    col.fill("80")
    col.press("Enter")
    wait_for_app(page)
    text = page.get_by_text(re.compile(r"Sum of the products = ")).inner_text()
    # window columns 79, 80, 81 hold 0, 255, 255 -> sum = 6 * 255 / 9 = 170
    assert "= 170" in text, text
    page.screenshot(path=str(SHOTS / "kernel_lab_upload.png"), full_page=True)


def test_clicking_the_photo_moves_the_inspector(page, server):
    page.goto(f"{server}/kernel_lab")
    wait_for_app(page)
    frame = page.frame_locator('iframe[title*="streamlit_image_coordinates"]').first
    frame.locator("img").click(position={"x": 10, "y": 10})
    wait_for_app(page)
    page.wait_for_function(
        "() => [...document.querySelectorAll('input[aria-label=\"Output row\"]')].some(e => Number(e.value) < 30)"
    )
    assert int(page.get_by_label("Output row", exact=True).input_value()) < 30
