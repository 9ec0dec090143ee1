"""Kernel Lab in a real Chromium: upload a photo, change the kernel, read the output and the inspector."""

from __future__ import annotations

import re

import numpy as np
from PIL import Image
from playwright.sync_api import Page, expect

from tests.e2e.conftest import SHOTS
from tests.e2e.dom import wait_for_app


def choose(page: Page, label: str, option: str) -> None:
    page.get_by_label(label, exact=True).first.click()
    page.get_by_role("option", name=option, exact=True).click()


def enter_number(page: Page, label: str, value: int) -> None:
    box = page.get_by_label(label, exact=True)
    box.fill(str(value))
    box.press("Enter")


def test_upload_change_kernel_and_inspect(page: Page, server: str, tmp_path) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    img = np.zeros((120, 160, 3), np.uint8)
    img[:, 80:] = 255  # one vertical edge down the middle
    path = tmp_path / "edge.png"
    Image.fromarray(img).save(path)

    page.goto(f"{server}/kernel_lab")
    wait_for_app(page)
    page.get_by_text("Upload", exact=True).click()
    page.locator('input[type="file"]').set_input_files(str(path))
    expect(page.get_by_text("Output size: 120 x 160 in, 120 x 160 out")).to_be_visible()

    feature_map = page.locator('[data-testid="stImage"] img').last
    page.wait_for_function(  # the feature map drawn is the upload's (4:3), not the sample's (1:1)
        """() => {
            const im = [...document.querySelectorAll('[data-testid="stImage"] img')].pop();
            return !!im && im.complete && im.naturalHeight > 0 && Math.abs(im.naturalWidth / im.naturalHeight - 4 / 3) < 0.02;
        }"""
    )
    before = feature_map.get_attribute("src")
    choose(page, "Kernel", "Box blur")
    expect(page.get_by_text("plain average of its 3x3 neighbourhood")).to_be_visible()
    expect(feature_map).not_to_have_attribute("src", before or "")  # the feature map changed with the kernel
    expect(page).to_have_url(re.compile(r"preset=Box(\+|%20)blur"))  # the view is a shareable link

    # Inspector: pick the output pixel on the edge; box blur over 0 | 255 columns.
    value = page.get_by_text(re.compile(r"^Feature map value at "))
    enter_number(page, "Output row", 60)
    expect(value).to_contain_text("Feature map value at (60, ")
    enter_number(page, "Output column", 80)
    expect(value).to_contain_text("Feature map value at (60, 80): 170 ")
    # window columns 79, 80, 81 hold 0, 255, 255 -> sum = 6 * 255 / 9 = 170
    expect(page.get_by_text(re.compile(r"Sum of the products = "))).to_have_text(re.compile(r"= 170\b"))
    page.screenshot(path=str(SHOTS / "kernel_lab_upload.png"), full_page=True)


def test_clicking_the_photo_moves_the_inspector(page: Page, server: str) -> None:
    page.goto(f"{server}/kernel_lab")
    wait_for_app(page)
    row = page.get_by_label("Output row", exact=True)
    expect(row).not_to_have_value("")
    assert int(row.input_value()) >= 30  # the inspector starts away from the corner clicked below
    frame = page.frame_locator('iframe[title*="streamlit_image_coordinates"]').first
    frame.locator("img").click(position={"x": 10, "y": 10})
    expect(row).to_have_value(re.compile(r"^([0-9]|[12][0-9])$"))  # a row near the top, under 30
