"""The instructor console with two students, each in their own browser, against one server.

The key is required and a wrong one refused; a banner and a shown link reach both students; a poll
collects both answers (the console's histogram says 2); switching uploads off takes the Kernel
Lab's Upload choice away from a student at once, without them touching the page; a cancel stops a
student's run. The class is put back to its defaults afterwards, for the other browser tests.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from app.workspace.classroom import Classroom
from tests.e2e.conftest import INSTRUCTOR_KEY, SHOTS
from tests.e2e.dom import wait_for_app


def open_pages(browser: Browser, server: str, n: int) -> Iterator[list[Page]]:
    contexts = [browser.new_context(viewport={"width": 1280, "height": 900}) for _ in range(n)]
    pages = [c.new_page() for c in contexts]
    for p in pages:
        p.set_default_timeout(30_000)
    expect.set_options(timeout=30_000)
    try:
        yield pages
    finally:
        for c in contexts:
            c.close()


@pytest.fixture
def people(browser: Browser, server: str) -> Iterator[list[Page]]:
    """An instructor and two students, each a browser of their own (own cookies, own workspace)."""
    yield from open_pages(browser, server, 3)


def sidebar(page: Page):
    return page.locator('[data-testid="stSidebar"]')


def unlock(page: Page, key: str) -> None:
    box = page.get_by_label("Instructor key", exact=True)
    box.fill(key)
    page.get_by_role("button", name="Open the console").click()


def test_the_instructor_runs_the_room(people: list[Page], server: str, room: Classroom) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    teacher, ada, bob = people
    for student, path in ((ada, "/kernel_lab"), (bob, "/training")):
        student.goto(f"{server}{path}")
        wait_for_app(student)

    # The key is required, a wrong one refused, and it never reaches the address bar.
    teacher.goto(f"{server}/instructor")
    wait_for_app(teacher)
    expect(teacher.get_by_role("heading", name="Instructor console")).to_be_visible()
    expect(teacher.get_by_text("The class now")).to_have_count(0)
    expect(teacher.locator('[data-testid="stSidebarNav"]')).not_to_contain_text("Instructor")
    unlock(teacher, "not-the-key")
    expect(teacher.get_by_text("That is not the instructor key.")).to_be_visible()
    expect(teacher.get_by_text("The class now")).to_have_count(0)
    unlock(teacher, INSTRUCTOR_KEY)
    expect(teacher.get_by_text("The class now")).to_be_visible()
    assert INSTRUCTOR_KEY not in teacher.url
    expect(teacher.get_by_role("cell", name="Kernel Lab")).to_be_visible()  # Ada's page, live
    expect(teacher.get_by_role("cell", name="Training")).to_be_visible()

    # A banner and a shown link reach both students' pages without them doing anything.
    teacher.get_by_label("Banner text").fill("Pens down, eyes on the projector.")
    teacher.get_by_role("button", name="Show the banner to the class").click()
    teacher.get_by_role("textbox", name="Or paste the address of your view").fill(f"{server}/kernel_lab?preset=Sobel+x")
    teacher.get_by_label("What it shows (students read this)").fill("The Sobel x kernel")
    teacher.get_by_role("button", name="Show this to the class").click()
    for student in (ada, bob):
        expect(sidebar(student).get_by_text("Pens down, eyes on the projector.")).to_be_visible()
        expect(sidebar(student).get_by_text("The Sobel x kernel")).to_be_visible()
        expect(sidebar(student).get_by_role("link", name="Open")).to_have_attribute(
            "href", "./kernel_lab?preset=Sobel+x"
        )
    ada.screenshot(path=str(SHOTS / "instructor_student_view.png"))

    # A poll: both answers are counted, anonymously.
    teacher.get_by_role("tab", name="Live poll").click()
    teacher.get_by_label("Question").fill("Output width of a 3x3 kernel on 28 pixels, no padding?")
    teacher.get_by_label("The right answer (optional, shown when you reveal it)").fill("26")
    teacher.get_by_role("button", name="Open the poll").click()
    for student, answer in ((ada, "26"), (bob, "25")):
        box = sidebar(student).get_by_label("Your answer")
        expect(box).to_be_visible()
        box.fill(answer)
        sidebar(student).get_by_role("button", name="Submit").click()
        expect(sidebar(student).get_by_text(f"Your answer: {answer}.")).to_be_visible()
    expect(teacher.locator(".gtitle").filter(has_text="(2 answers)")).to_be_visible()
    teacher.get_by_role("button", name="Reveal the answer").click()
    expect(sidebar(ada).get_by_text("The answer: 26")).to_be_visible()
    expect(sidebar(bob).get_by_text("Your answer: 25, not this time.")).to_be_visible()
    teacher.screenshot(path=str(SHOTS / "instructor_poll.png"), full_page=True)

    # Uploads off: Ada's Kernel Lab loses its Upload choice at once.
    expect(ada.get_by_text("Upload", exact=True)).to_be_visible()
    expect(bob.get_by_text("Load a saved model")).to_be_visible()
    teacher.get_by_role("tab", name="Class settings").click()
    teacher.get_by_text("Students may upload photos and model files").click()
    teacher.get_by_role("button", name="Save the class settings").click()
    expect(ada.get_by_text("The instructor turned uploads off for this class.")).to_be_visible()
    expect(ada.get_by_text("Upload", exact=True)).to_have_count(0)
    assert not room.settings().uploads

    # Bob's Training page follows the settings too (no model file to load), and its rerun is over: while it ran,
    # the page held its old and its new "Epochs" box at once (a CI run once saw two).
    expect(bob.get_by_text("Load a saved model")).to_have_count(0)
    wait_for_app(bob)

    # A cancel stops Bob's run.
    epochs = bob.get_by_label("Epochs", exact=True)
    expect(epochs).to_have_count(1)
    epochs.fill("30")
    epochs.press("Enter")
    bob.get_by_role("button", name="Start training").click()
    expect(sidebar(bob).get_by_text(re.compile(r"Training: epoch \d+/30"))).to_be_visible(timeout=60_000)
    cancel = teacher.get_by_role("button", name="Cancel")
    expect(cancel).to_have_count(1)
    cancel.click()
    expect(sidebar(bob).get_by_text("The instructor stopped this run.")).to_be_visible(timeout=60_000)
    expect(teacher.get_by_text("No training runs right now.")).to_be_visible()
    bob.screenshot(path=str(SHOTS / "instructor_cancelled.png"))

    # The console fits a projector (1024x768) and a phone (390x844) without sideways scrolling.
    for width, height in ((1024, 768), (390, 844)):
        teacher.set_viewport_size({"width": width, "height": height})
        expect(teacher.get_by_text("The class now")).to_be_visible()
        teacher.wait_for_function("() => document.documentElement.scrollWidth <= window.innerWidth")
    teacher.screenshot(path=str(SHOTS / "instructor_phone.png"), full_page=True)
