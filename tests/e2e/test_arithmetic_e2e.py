"""Step through a convolution on the Arithmetic page in a real Chromium: highlighted window, equation, clicks."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Locator, Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeout

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
    expect(step_line(pg)).to_have_text("Step 1 of 16: output cell row 0, column 0 = -14", timeout=60_000)
    expect(equation(pg)).to_contain_text("9×(-1) = -14")
    # the window covers rows 0-2 and columns 0-2 of the input (counted from 0, as the page says)
    wait_for_outline(pg, "Input", rows=["0", "1", "2"], cols=["0", "1", "2"])

    pg.get_by_role("button", name="Next").click()
    expect(step_line(pg)).to_have_text("Step 2 of 16: output cell row 0, column 1 = -1")
    expect(equation(pg)).to_have_text(starts_with("2×1 + 3×0 + 1×(-1)"))
    wait_for_outline(pg, "Input", rows=["0", "1", "2"], cols=["1", "2", "3"])  # moved one column right
    expect(pg).to_have_url(re.compile(r"[?&]cell=1(&|$)"))

    # click output cell (row 3, column 3) -> jump to step 16, the cell the notes get wrong
    click_cell(pg, "Output", row="3", col="3")
    expect(step_line(pg)).to_have_text("Step 16 of 16: output cell row 3, column 3 = 11")
    wait_for_outline(pg, "Input", rows=["3", "4", "5"], cols=["3", "4", "5"])
    expect(pg.get_by_text("The notes print 10 here; the correct value is 11.")).to_have_count(1)
    SHOTS.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(SHOTS / "arithmetic_step16.png"), full_page=True)

    # the URL holds the exact step: a fresh tab opens it
    expect(pg).to_have_url(re.compile(r"[?&]cell=15(&|$)"))
    pg.goto(pg.url)
    expect(step_line(pg)).to_have_text("Step 16 of 16: output cell row 3, column 3 = 11", timeout=60_000)
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


def test_step_the_backward_pass_with_the_keyboard(page: Page, server: str) -> None:
    pg = page
    open_arithmetic(pg, server, "?op=backward")
    expect(step_line(pg)).to_have_text("Step 1 of 25: dL/dx cell row 0, column 0 = 1", timeout=60_000)
    # Focus on the stepper's Next button (off the text boxes, whose keys are their own): a shortcut key is
    # then taken by the page as soon as it is drawn; press only once no run is redrawing the stepper.
    wait_for_app(pg)
    pg.get_by_role("button", name=re.compile("Next")).first.focus()
    pg.keyboard.press("ArrowRight")
    expect(step_line(pg)).to_have_text("Step 2 of 25: dL/dx cell row 0, column 1 = 2")
    wait_for_app(pg)
    pg.keyboard.press("End")
    expect(step_line(pg)).to_have_text("Step 25 of 25: dL/dx cell row 4, column 4 = 0.5")
    wait_for_app(pg)
    pg.keyboard.press("ArrowLeft")
    expect(step_line(pg)).to_have_text("Step 24 of 25: dL/dx cell row 4, column 3 = 0")
    wait_for_app(pg)
    pg.keyboard.press("Home")
    expect(step_line(pg)).to_have_text(starts_with("Step 1 of 25"))
    # the centre input cell: reached by all four dL/dy cells, through four different (flipped) taps
    click_cell(pg, "dL/dx", row="2", col="2")
    expect(step_line(pg)).to_have_text("Step 13 of 25: dL/dx cell row 2, column 2 = -1.5")
    terms = pg.locator('[data-testid="stCode"]').filter(has_text="dL/dx[2, 2]").first
    expect(terms).to_have_text("dL/dx[2, 2] = 1×1 + (-1)×3 + 2×0 + 0.5×1 = -1.5")
    # the window on the spread-out, padded dL/dy: rows and columns 2-4 of that grid are p, 0, p ... labelled
    expect(pg.get_by_text("dL/dy spread out by the stride", exact=True).first).to_be_visible()
    expect(pg).to_have_url(re.compile(r"[?&]cell=12(&|$)"))
    SHOTS.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(SHOTS / "arithmetic_backward.png"), full_page=True)


_KERNEL_FITS = """() => {
  const plots = [...document.querySelectorAll('[data-testid="stMain"] .js-plotly-plot')];
  const named = name => plots.find(p => [...p.querySelectorAll('.gtitle')].some(t => t.textContent.trim() === name));
  const [kernel, input, output] = ['Kernel', 'Input', 'Output'].map(named);
  if (!kernel || !input || !output) return null;
  const main = document.querySelector('[data-testid="stMainBlockContainer"]').getBoundingClientRect();
  const box = kernel.getBoundingClientRect();
  const heat = kernel.querySelector('.heatmaplayer image, .heatmaplayer .hm').getBoundingClientRect();
  const ticks = [...kernel.querySelectorAll('.xaxislayer-above .xtick text')].map(t => t.getBoundingClientRect().right);
  const apart = (a, b) => a.right <= b.left + 1 || b.right <= a.left + 1 || a.bottom <= b.top + 1 || b.bottom <= a.top + 1;
  return {mainRight: main.right, plotRight: box.right, heatRight: heat.right, heatWidth: heat.width, ticks, n: ticks.length,
          apart: apart(box, input.getBoundingClientRect()) && apart(box, output.getBoundingClientRect())};
}"""


_KEY_HINTS_APART = """() => [...document.querySelectorAll('[data-testid="stMain"] button')]
  .filter(b => b.querySelector('kbd')).map(b => {
    const k = b.querySelector('kbd').getBoundingClientRect(), p = b.querySelector('p').getBoundingClientRect();
    const r = b.getBoundingClientRect();
    return {text: b.innerText, inside: k.right <= r.right + 0.5 && p.left >= r.left - 0.5,
            apart: k.left >= p.right - 0.5 || k.right <= p.left + 0.5 || k.top >= p.bottom - 0.5 || k.bottom <= p.top + 0.5};
  })"""


def test_kernel_grid_keeps_its_third_column_at_1024_in_presentation_mode(browser, server: str) -> None:
    context = browser.new_context(viewport={"width": 1024, "height": 768})
    pg = context.new_page()
    open_arithmetic(pg, server)
    pg.locator('[data-testid="stSidebar"]').get_by_text("Presentation mode", exact=True).click()
    pg.wait_for_function("() => getComputedStyle(document.documentElement).fontSize === '20px'")
    wait_for_app(pg)
    fits = (
        "() => { const g = (" + _KERNEL_FITS + ")(); return !!g && g.n === 3 && g.heatWidth >= 66 && g.apart && "
        "Math.max(...g.ticks) <= g.plotRight + 1 && g.heatRight <= g.plotRight + 1 && g.plotRight <= g.mainRight + 1; }"
    )
    try:  # wait for the settled layout (the font grows after the first drawing), not for a fixed time
        pg.wait_for_function(fits, polling=200, timeout=20_000)
    except PlaywrightTimeout:
        SHOTS.mkdir(parents=True, exist_ok=True)
        pg.screenshot(path=str(SHOTS / "arithmetic_1024_presentation_failed.png"), full_page=True)
        pytest.fail(f"the kernel grid runs out of its column: {pg.evaluate(_KERNEL_FITS)}")
    # First, Back, Next, Last: each key hint ("Home") beside its label ("First") and inside its button; in four
    # equal columns the projector's large type ran "Home" over "First"
    buttons = pg.evaluate(_KEY_HINTS_APART)
    assert len(buttons) == 4 and all(b["apart"] and b["inside"] for b in buttons), buttons
    SHOTS.mkdir(parents=True, exist_ok=True)
    pg.locator('[data-testid="stMain"] .js-plotly-plot').filter(has_text="Kernel").first.scroll_into_view_if_needed()
    pg.screenshot(path=str(SHOTS / "arithmetic_1024_presentation.png"))
    context.close()


def test_the_chain_grids_keep_their_full_size_at_1024_in_presentation_mode(browser, server: str) -> None:
    """conv -> ReLU -> pool: the three grids wrap at full size; in three columns a projector squeezed them
    until "-8" and "10" ran over their cells."""
    context = browser.new_context(viewport={"width": 1024, "height": 768})
    pg = context.new_page()
    open_arithmetic(pg, server, "?op=chain")
    pg.locator('[data-testid="stSidebar"]').get_by_text("Presentation mode", exact=True).click()
    pg.wait_for_function("() => getComputedStyle(document.documentElement).fontSize === '20px'")
    wait_for_app(pg)
    widths = """() => {
      const plots = [...document.querySelectorAll('[data-testid="stMain"] .js-plotly-plot')];
      const named = n => plots.find(p => [...p.querySelectorAll('.gtitle')].some(t => t.textContent.trim() === n));
      const found = ['Feature map', 'After ReLU', 'Pooled'].map(named);
      return found.every(Boolean) ? found.map(p => p.querySelector('.heatmaplayer image, .heatmaplayer .hm')
        .getBoundingClientRect().width) : null;
    }"""
    try:
        pg.wait_for_function(
            f"() => {{ const w = ({widths})(); return !!w && w.every(x => x >= 250); }}", timeout=30_000
        )
    except PlaywrightTimeout:
        pytest.fail(f"the chain's grids are squeezed: heatmap widths {pg.evaluate(widths)} px (want >= 250)")
    context.close()
