"""Step through a convolution on the Arithmetic page in a real Chromium: highlighted window, equation, clicks."""

from __future__ import annotations

import re

from playwright.sync_api import Locator, Page, expect

from tests.e2e.conftest import SHOTS
from tests.e2e.dom import click_cell, wait_for_app, wait_for_outline


def step_line(pg: Page) -> Locator:
    return pg.get_by_text(re.compile(r"^Step \d+ of \d+")).first


def equation(pg: Page) -> Locator:
    return pg.locator('[data-testid="stCode"]').filter(has_text="×").first


def starts_with(text: str) -> re.Pattern[str]:
    return re.compile("^" + re.escape(text))


def open_arithmetic(pg: Page, server: str, query: str = "") -> None:
    pg.goto(server)  # the app's entry first, so st.navigation owns the page list
    wait_for_app(pg)
    pg.goto(f"{server}/arithmetic{query}")
    wait_for_app(pg)


def test_step_through_a_convolution(page: Page, server: str) -> None:
    pg = page
    open_arithmetic(pg, server)
    expect(step_line(pg)).to_have_text("Step 1 of 16: output cell row 1, column 1 = -14", timeout=60_000)
    expect(equation(pg)).to_contain_text("9×(-1) = -14")
    # the window covers rows 1-3 and columns 1-3 of the input
    wait_for_outline(pg, "Input", rows=["1", "2", "3"], cols=["1", "2", "3"])

    pg.get_by_role("button", name="Next").click()
    expect(step_line(pg)).to_have_text("Step 2 of 16: output cell row 1, column 2 = -1")
    expect(equation(pg)).to_have_text(starts_with("2×1 + 3×0 + 1×(-1)"))
    wait_for_outline(pg, "Input", rows=["1", "2", "3"], cols=["2", "3", "4"])  # moved one column right
    expect(pg).to_have_url(re.compile(r"[?&]cell=1(&|$)"))

    # click output cell (row 4, column 4) -> jump to step 16, the cell the notes get wrong
    click_cell(pg, "Output", row="4", col="4")
    expect(step_line(pg)).to_have_text("Step 16 of 16: output cell row 4, column 4 = 11")
    wait_for_outline(pg, "Input", rows=["4", "5", "6"], cols=["4", "5", "6"])
    expect(pg.get_by_text("The notes print 10 here; the correct value is 11.")).to_have_count(1)
    SHOTS.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(SHOTS / "arithmetic_step16.png"), full_page=True)

    # the URL holds the exact step: a fresh tab opens it
    expect(pg).to_have_url(re.compile(r"[?&]cell=15(&|$)"))
    pg.goto(pg.url)
    expect(step_line(pg)).to_have_text("Step 16 of 16: output cell row 4, column 4 = 11", timeout=60_000)
    expect(equation(pg)).to_contain_text("7×1 + 1×0 + 5×(-1) = 11")


def test_play_advances_the_step_and_stops_at_the_last(page: Page, server: str) -> None:
    pg = page
    open_arithmetic(
        pg,
        server,
        "?ex=4x4+max+pooling+2x2%2C+stride+2&op=pool&x=1,3,2,4;5,6,8,7;4,2,1,3;2,5,7,8&s=2,2&ps=2,2&cell=0",
    )
    expect(step_line(pg)).to_have_text(starts_with("Step 1 of 4"), timeout=60_000)
    play = pg.get_by_role("switch", name="Play")
    pg.get_by_text("Play", exact=True).click()
    expect(play).to_be_checked()
    # 1 s per step by default: play reaches the last step, then switches itself off there
    expect(step_line(pg)).to_have_text(starts_with("Step 4 of 4"))
    expect(pg.locator('[data-testid="stCode"]').filter(has_text="max(").first).to_have_text("max(1, 3, 7, 8) = 8")
    expect(play).not_to_be_checked()
    expect(step_line(pg)).to_have_text(starts_with("Step 4 of 4"))  # stopped, did not wrap around
