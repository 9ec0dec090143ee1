"""The instructor's banner reaches a student on a phone, whose sidebar (where the classroom box lives) is
folded away: a copy over the page's title comes and goes with the banner (and an open poll, answered right
there), without the student touching the page, and is hidden wherever the sidebar is open and shows the
banner itself."""

from __future__ import annotations

from playwright.sync_api import Browser, expect

from app import state
from app.workspace.classroom import Classroom
from tests.e2e.conftest import SHOTS
from tests.e2e.dom import wait_for_app

PHONE = {"viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True, "device_scale_factor": 2}
TEXT = "Pens down: eyes on the projector."
QUESTION = "How many weights in a 3x3 kernel over 3 channels?"


def test_a_phone_shows_the_banner_over_the_page_and_a_wide_screen_only_in_its_sidebar(
    browser: Browser, server: str, room: Classroom
) -> None:
    phone, wide = browser.new_context(**PHONE), browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        pages = []
        for context in (phone, wide):
            pg = context.new_page()
            pg.set_default_timeout(30_000)
            pg.goto(f"{server}/kernel_lab")
            wait_for_app(pg)
            pages.append(pg)
        on_phone, on_wide = pages
        copy = f".st-key-{state.CL_PAGE_BANNER}"
        expect(on_phone.locator(copy)).to_have_count(0)

        room.post_banner(TEXT, seconds=300)
        # the sidebar open: its box announces the banner with a toast (for a few seconds)
        expect(on_wide.get_by_test_id("stToastContainer").get_by_text(TEXT)).to_be_visible()
        expect(on_phone.locator(copy)).to_contain_text(TEXT)  # the box's watch reran the page: nobody touched it
        expect(on_phone.locator(copy)).to_be_visible()
        box = on_phone.locator(copy).bounding_box()
        title = on_phone.get_by_role("heading", name="Kernel Lab").bounding_box()
        assert box is not None and title is not None and box["y"] + box["height"] <= title["y"]  # over the title
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390  # within the phone's width
        on_phone.screenshot(path=str(SHOTS / "class_banner_phone.png"))

        sidebar = on_wide.locator('[data-testid="stSidebar"]')
        expect(sidebar.get_by_text(TEXT)).to_be_visible()  # the open sidebar shows it ...
        expect(on_wide.locator(copy)).to_have_count(1)
        expect(on_wide.locator(copy)).to_be_hidden()  # ... so the page's copy is not shown twice

        room.clear_banner()
        expect(on_phone.locator(copy)).to_have_count(0)  # gone with the banner, again untouched
        expect(on_phone.get_by_role("heading", name="Kernel Lab")).to_be_visible()

        poll = room.open_poll(QUESTION, answer="27")  # a poll is answered right there, in the page's copy
        expect(on_phone.locator(copy)).to_contain_text(f"Poll: {QUESTION}")
        toast = on_phone.get_by_text("The instructor opened a poll")
        expect(toast).to_have_count(1)  # the sidebar's box announced it, as on a wide screen ...
        # ... but with the sidebar folded no toast covers the copy, which says the same (checked at once: a toast
        # goes by itself after a few seconds, which an auto-waiting to_be_hidden would wait for)
        assert not toast.is_visible()
        answer = on_phone.locator(copy).get_by_label("Your answer")
        expect(answer).to_be_visible()
        field = answer.bounding_box()
        assert field is not None and field["x"] >= 0 and field["x"] + field["width"] <= 390
        answer.fill("27")
        on_phone.locator(copy).get_by_role("button", name="Submit").click()
        expect(on_phone.locator(copy).get_by_text("Your answer: 27.")).to_be_visible()
        assert room.poll_answers(poll.poll_id) == {"27": 1}  # the instructor's count has it
        on_phone.screenshot(path=str(SHOTS / "class_poll_phone.png"))
        room.reveal_poll(poll.poll_id)
        expect(on_phone.locator(copy)).to_contain_text("The answer: 27")
        expect(on_phone.locator(copy).get_by_text("Your answer: 27, right.")).to_be_visible()
        expect(on_phone.locator(copy).get_by_label("Your answer")).to_have_count(0)
        room.close_poll()
        expect(on_phone.locator(copy)).to_have_count(0)
    finally:
        phone.close()
        wide.close()
