"""Issue #13 on a tablet and from the keyboard: a tap picks a pixel of the Kernel Lab's photo, the camera
(Chromium's fake camera) feeds the Kernel Lab and the Training page's fine-tune photos, the Arithmetic stepper is reached by Tab and stepped by the
arrow keys, and a custom kernel is typed with the keyboard only."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, SHOTS
from tests.e2e.dom import wait_for_app

TABLET = {"viewport": {"width": 820, "height": 1180}, "has_touch": True, "is_mobile": True}
CAMERA_ARGS = ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"]

# Where the photo's <img> lies on the page (the photo component draws it in the page, no iframe), once it is drawn.
PHOTO_BOX = """() => {
    const img = document.querySelector('.st-key-kl_photo_box img.kl-photo-img');
    if (!img || !img.complete || img.naturalWidth === 0 || img.height < 10) return null;
    const i = img.getBoundingClientRect();
    return [i.left, i.top, i.width, i.height];
}"""


@pytest.fixture(scope="module")
def camera_browser(browser: Browser) -> Iterator[Browser]:
    """A second Chromium (of the session's Playwright: one per process) whose camera is the fake
    device (a test pattern), allowed without asking."""
    b = browser.browser_type.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS + CAMERA_ARGS)
    yield b
    b.close()


def open_page(pg: Page, server: str, path: str) -> None:
    pg.goto(server)  # the app's entry first, so st.navigation owns the page list
    wait_for_app(pg)
    pg.goto(f"{server}/{path}")
    wait_for_app(pg)


def input_size(pg: Page) -> tuple[int, int]:
    caption = pg.get_by_text(re.compile(r"^Input \(\d+ x \d+, ")).first
    expect(caption).to_be_visible()
    h, w = re.search(r"Input \((\d+) x (\d+),", caption.inner_text()).groups()
    return int(h), int(w)


def tab_until(pg: Page, test: str, most: int = 80) -> None:
    """Press Tab until the focused element passes ``test`` (a JS function of it); fail after ``most``."""
    for _ in range(most):
        pg.keyboard.press("Tab")
        if pg.evaluate(f"() => {{ const el = document.activeElement; return !!el && ({test})(el); }}"):
            return
    raise AssertionError(f"{most} Tab presses never reached the control: {test}")


def touch_page(browser: Browser, server: str, device: dict, path: str) -> Page:
    """``path`` open in a fresh touch context shaped like ``device`` (close its ``context`` when done)."""
    pg = browser.new_context(**device).new_page()
    pg.set_default_timeout(30_000)
    expect.set_options(timeout=30_000)
    open_page(pg, server, path)
    return pg


def test_a_tap_on_the_photo_picks_that_pixel_on_a_tablet(browser: Browser, server: str) -> None:
    pg = touch_page(browser, server, TABLET, "kernel_lab")
    h, w = input_size(pg)
    pg.locator(".st-key-kl_photo_box img.kl-photo-img").scroll_into_view_if_needed()
    left, top, width, height = pg.wait_for_function(PHOTO_BOX, polling=100).json_value()
    fy, fx = 0.2, 0.75  # a point away from where the inspector starts (the middle)
    want_r, want_c = int(fy * h), int(fx * w)
    value = pg.get_by_text(re.compile(r"^Feature map value at \("))
    expect(value).not_to_contain_text(re.compile(rf"^Feature map value at \({want_r}, "))
    pg.touchscreen.tap(left + fx * width, top + fy * height)
    # Sharpen 3x3 with same padding: the output pixel is the input pixel tapped (within a pixel of rounding).
    near = lambda n: "|".join(str(v) for v in range(n - 1, n + 2))  # noqa: E731
    expect(value.last).to_have_text(re.compile(rf"^Feature map value at \(({near(want_r)}), ({near(want_c)})\)"))
    expect(pg.get_by_label("Output row", exact=True).last).to_have_value(re.compile(rf"^({near(want_r)})$"))
    expect(pg.get_by_text("Neighbourhood (0–255)").first).to_be_visible()
    pg.screenshot(path=str(SHOTS / "touch_tablet_pixel_tap.png"))
    pg.context.close()


def wait_for_video(pg: Page) -> None:
    """The fake camera's stream is playing: a photo taken before its first frame is empty."""
    pg.wait_for_function(
        "() => [...document.querySelectorAll('video')].some(v => v.readyState >= 2 && v.videoWidth > 0)"
    )


def test_the_camera_feeds_the_kernel_lab_on_a_tablet(camera_browser: Browser, server: str) -> None:
    context = camera_browser.new_context(**TABLET)
    context.grant_permissions(["camera"])
    pg = context.new_page()
    pg.set_default_timeout(30_000)
    expect.set_options(timeout=30_000)
    open_page(pg, server, "kernel_lab")
    expect(pg.get_by_text(re.compile(r"^Input \(\d+ x \d+, Cameraman\)"))).to_be_visible()
    fmap = pg.locator('[data-testid="stMain"] [data-testid="stImage"] img').last
    before = fmap.get_attribute("src")
    pg.get_by_text("Camera", exact=True).tap()
    expect(pg.get_by_text("No picture yet: showing the sample photo.")).to_be_visible()
    shoot = pg.get_by_role("button", name="Take Photo")
    expect(shoot).to_be_enabled()
    wait_for_video(pg)
    shoot.tap()
    expect(pg.get_by_text(re.compile(r"^Input \(\d+ x \d+, camera picture\)"))).to_be_visible(timeout=60_000)
    expect(pg.get_by_text("No picture yet: showing the sample photo.")).to_have_count(0)
    expect(fmap).not_to_have_attribute("src", before or "")  # the feature map is drawn from the photo
    pg.screenshot(path=str(SHOTS / "touch_tablet_camera.png"))
    context.close()


def test_the_training_pages_camera_counts_a_photo_on_a_tablet(camera_browser: Browser, server: str) -> None:
    context = camera_browser.new_context(**TABLET)
    context.grant_permissions(["camera"])
    pg = context.new_page()
    pg.set_default_timeout(30_000)
    expect.set_options(timeout=30_000)
    open_page(pg, server, "training")
    backbone = pg.get_by_text(re.compile(r"Backbone: ConvLab CIFAR backbone"))
    expect(backbone).to_be_visible(timeout=60_000)  # the page below the fold is drawn last
    pg.get_by_text("Photos from the camera", exact=True).tap()
    name = pg.get_by_label("Class of the next photo", exact=True)
    name.fill("mug")
    name.press("Enter")
    wait_for_app(pg)  # the run the name started is over before the photo (a user reads the page between)
    add = pg.get_by_role("button", name="Add this photo")
    expect(add).to_be_disabled()  # no photo taken yet
    shoot = pg.get_by_role("button", name="Take Photo")
    expect(shoot).to_be_enabled()
    wait_for_video(pg)
    shoot.tap()
    expect(pg.get_by_role("button", name="Clear photo")).to_be_visible()  # the camera shows what it took
    expect(add).to_be_enabled()
    add.tap()
    expect(pg.get_by_text("Photos so far: mug (1)", exact=True)).to_be_visible()
    pg.screenshot(path=str(SHOTS / "touch_tablet_finetune_camera.png"))
    context.close()


STEP = re.compile(r"^Step \d+ of \d+")


def test_the_stepper_by_tab_and_arrow_keys(page: Page, server: str) -> None:
    open_page(page, server, "arithmetic")
    line = page.get_by_text(STEP).first
    expect(line).to_have_text(re.compile(r"^Step 1 of 16: "), timeout=60_000)
    wait_for_app(page)  # the page's run over before the first Tab
    tab_until(page, "el => el.tagName === 'BUTTON' && el.textContent.includes('Next')")
    page.keyboard.press("Enter")  # the focused button
    expect(line).to_have_text(re.compile(r"^Step 2 of 16: output cell row 0, column 1 = "))
    page.keyboard.press("ArrowRight")
    expect(line).to_have_text(re.compile(r"^Step 3 of 16: "))
    page.keyboard.press("End")
    expect(line).to_have_text(re.compile(r"^Step 16 of 16: output cell row 3, column 3 = 11$"))
    page.keyboard.press("ArrowLeft")
    expect(line).to_have_text(re.compile(r"^Step 15 of 16: "))
    page.keyboard.press("Home")
    expect(line).to_have_text(re.compile(r"^Step 1 of 16: "))


def test_a_custom_kernel_typed_with_the_keyboard_only(page: Page, server: str) -> None:
    open_page(page, server, "kernel_lab")
    # the whole lab drawn (its last line) and its run over, before the first Tab
    expect(page.get_by_text(re.compile(r"^Feature map value at \("))).to_be_visible()
    wait_for_app(page)
    tab_until(page, "el => el.getAttribute('aria-label') === 'Kernel'")  # the preset box
    page.keyboard.type("Custom")
    page.keyboard.press("Enter")
    expect(page.get_by_label("Rows", exact=True)).to_have_value("3")  # the editor opens with Sharpen
    page.wait_for_function(KERNEL_CELLS + ".join(' ') === '0 -1 0 -1 5 -1 0 -1 0'")
    tab_until(page, "el => el.tagName === 'SUMMARY' && el.textContent.includes('Paste a kernel as text')")
    page.keyboard.press("Enter")
    tab_until(page, "el => el.tagName === 'TEXTAREA'")
    page.keyboard.type("1 2 1")
    page.keyboard.press("Shift+Enter")
    page.keyboard.type("-1 -2 -1")
    page.keyboard.press("Control+Enter")  # commits the text
    wait_for_app(page)
    tab_until(page, "el => el.tagName === 'BUTTON' && el.textContent.includes('Use this kernel')")
    page.keyboard.press("Enter")
    expect(page.get_by_label("Rows", exact=True)).to_have_value("2")
    expect(page.get_by_label("Columns", exact=True)).to_have_value("3")
    page.wait_for_function(KERNEL_CELLS + ".join(' ') === '1 2 1 -1 -2 -1'")


def test_the_kernel_grid_is_edited_from_the_keyboard(page: Page, server: str) -> None:
    open_page(page, server, "kernel_lab?preset=Custom%E2%80%A6")
    expect(page.get_by_label("Rows", exact=True)).to_have_value("3")
    page.wait_for_function(KERNEL_CELLS + ".join(' ') === '0 -1 0 -1 5 -1 0 -1 0'")  # Sharpen
    wait_for_app(page)
    # Tab onto the grid (its first cell is selected), the arrows to the middle cell, type, Enter
    tab_until(page, "el => el.getAttribute('aria-label') === 'Columns'")
    tab_until(page, "el => el.tagName === 'CANVAS' && !!el.closest('[data-testid=\"stDataFrame\"]')", most=12)
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("7")
    expect(page.locator(".gdg-input").first).to_have_value("7")  # the cell's editor opened with the key typed
    page.keyboard.press("Enter")
    page.wait_for_function(KERNEL_CELLS + ".join(' ') === '0 -1 0 -1 7 -1 0 -1 0'")


# The numbers of the "× Kernel" grid of the dot product, row by row (an expression).
KERNEL_CELLS = """[...document.querySelectorAll('[data-testid="stMain"] .kl-grid-title')]
    .filter(t => t.textContent.trim() === '× Kernel')
    .flatMap(t => [...t.parentElement.querySelectorAll('table.kl-grid td')].map(td => td.textContent.trim()))"""


PHONE = {"viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True}


def test_a_tap_on_a_layer_settings_question_mark_shows_its_help_on_a_phone(browser: Browser, server: str) -> None:
    """A touch screen has no hover: the layer editor's "?" shows its field's help in the row when tapped."""
    pg = touch_page(browser, server, PHONE, "architecture")
    row = pg.locator(".an-editor .an-row").first
    mark = row.locator("button.an-help").first
    expect(mark).to_be_visible()
    tip = row.locator(".an-tip")
    expect(tip).to_be_hidden()
    mark.scroll_into_view_if_needed()
    mark.tap()
    expect(tip).to_be_visible()
    expect(tip).to_have_text(mark.get_attribute("data-tip"))
    assert ": " in tip.inner_text() and mark.get_attribute("aria-expanded") == "true"
    pg.screenshot(path=str(SHOTS / "touch_phone_layer_help.png"))
    mark.tap()
    expect(tip).to_be_hidden()
    expect(mark).to_have_attribute("aria-expanded", "false")
    pg.context.close()
