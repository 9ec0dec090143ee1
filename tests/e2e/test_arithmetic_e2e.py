"""Step through a convolution on the Arithmetic page in a real Chromium: the browser stepper (no rerun per step),
its highlighted window, working and clicks, the step reported to the server, Play, the keys, presentation mode."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Locator, Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests.e2e.conftest import SHOTS
from tests.e2e.dom import presentation_on, wait_for_app


def step_line(pg: Page) -> Locator:
    return pg.get_by_text(re.compile(r"^Step \d+ of \d+")).first


def equation(pg: Page) -> Locator:
    return pg.locator(".ar-stepper .ar-work")


def starts_with(text: str) -> re.Pattern[str]:
    return re.compile("^" + re.escape(text))


def open_arithmetic(pg: Page, server: str, query: str = "") -> None:
    pg.goto(server)  # the app's entry first, so st.navigation owns the page list
    wait_for_app(pg)
    pg.goto(f"{server}/arithmetic{query}")
    wait_for_app(pg)


# The window on a grid of the browser stepper, as a learner reads it: the row and column labels of the outlined cells.
_WINDOW = """(name) => {
  const t = [...document.querySelectorAll('.ar-stepper table')].find(t => t.caption.textContent.trim() === name);
  if (!t) return null;
  const cols = [...t.tHead.rows[0].cells].map(c => c.textContent.trim());
  const rows = new Set(), cs = new Set();
  [...t.tBodies[0].rows].forEach(r => [...r.cells].forEach((c, j) => {
    if (c.classList.contains('ar-win')) { rows.add(r.cells[0].textContent.trim()); cs.add(cols[j]); }
  }));
  return {rows: [...rows], cols: [...cs]};
}"""


def wait_for_window(pg: Page, grid: str, rows: list[str], cols: list[str]) -> None:
    pg.wait_for_function(
        f"([n, rows, cols]) => {{ const w = ({_WINDOW})(n); return !!w && JSON.stringify(w) === JSON.stringify({{rows, cols}}); }}",
        arg=[grid, rows, cols],
    )


def click_cell(pg: Page, grid: str, row: str, col: str) -> None:
    """Click the cell (row, col) of the stepper's grid ``grid``, named by its row and column labels."""
    table = pg.locator(".ar-stepper table").filter(
        has=pg.locator("caption", has_text=re.compile(rf"^{re.escape(grid)}$"))
    )
    j = table.locator("thead th").all_inner_texts().index(col)
    body_row = table.locator("tbody tr").filter(has=pg.locator("th", has_text=re.compile(rf"^{re.escape(row)}$")))
    body_row.locator("th, td").nth(j).click()


def server_runs(pg: Page) -> int:
    """How many times the server has drawn the stepper in this session (the stepper's data says)."""
    return int(pg.locator(".ar-stepper").get_attribute("data-server-runs"))


def wait_for_cell_in_url(pg: Page, cell: int) -> None:
    pg.wait_for_function("(c) => new URLSearchParams(location.search).get('cell') === String(c)", arg=cell)


_NEXT_AT_ONCE = """() => {
  const runs = document.querySelector('.ar-stepper').dataset.serverRuns;
  const next = [...document.querySelectorAll('.ar-stepper button')].find(b => b.textContent.startsWith('Next'));
  next.click();
  const line = document.querySelector('.ar-stepper .ar-line').textContent;
  return {runs, line, after: document.querySelector('.ar-stepper').dataset.serverRuns};
}"""


def test_step_through_a_convolution(page: Page, server: str) -> None:
    pg = page
    open_arithmetic(pg, server)
    expect(step_line(pg)).to_have_text("Step 1 of 16: output cell row 0, column 0 = -14", timeout=60_000)
    expect(equation(pg)).to_contain_text("9×(-1) = -14")
    # the window covers rows 0-2 and columns 0-2 of the input (counted from 0, as the page says)
    wait_for_window(pg, "Input", rows=["0", "1", "2"], cols=["0", "1", "2"])
    wait_for_app(pg)
    runs = server_runs(pg)
    pg.evaluate("() => { document.querySelector('.ar-stepper').dataset.mark = 'drawn once'; }")

    # Next draws the next step in the same task as the click: nothing went to the server and back
    seen = pg.evaluate(_NEXT_AT_ONCE)
    assert seen["line"] == "Step 2 of 16: output cell row 0, column 1 = -1", seen
    assert seen["runs"] == seen["after"] == str(runs), seen
    expect(equation(pg)).to_have_text(starts_with("2×1 + 3×0 + 1×(-1)"))
    wait_for_window(pg, "Input", rows=["0", "1", "2"], cols=["1", "2", "3"])  # moved one column right
    pg.get_by_role("button", name="Next").click()
    pg.keyboard.press("ArrowRight")
    expect(step_line(pg)).to_have_text(starts_with("Step 4 of 16"))
    # once the stepper rests, the step goes to the server: the link holds it, after one quick run
    wait_for_cell_in_url(pg, 3)
    wait_for_app(pg)
    assert server_runs(pg) > runs
    expect(step_line(pg)).to_have_text(starts_with("Step 4 of 16"))  # the run did not move the picture
    expect(pg.locator(".ar-stepper")).to_have_attribute("data-mark", "drawn once")  # nor draw it again

    # click output cell (row 3, column 3) -> jump to step 16, the cell the notes get wrong
    click_cell(pg, "Output", row="3", col="3")
    expect(step_line(pg)).to_have_text("Step 16 of 16: output cell row 3, column 3 = 11")
    wait_for_window(pg, "Input", rows=["3", "4", "5"], cols=["3", "4", "5"])
    expect(pg.get_by_text("The notes print 10 here; the correct value is 11.")).to_have_count(1)
    SHOTS.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(SHOTS / "arithmetic_step16.png"), full_page=True)

    # the URL holds the exact step: a reload opens it
    wait_for_cell_in_url(pg, 15)
    pg.reload()
    expect(step_line(pg)).to_have_text("Step 16 of 16: output cell row 3, column 3 = 11", timeout=60_000)
    expect(equation(pg)).to_contain_text("7×1 + 1×0 + 5×(-1) = 11")


def test_the_jump_box_moves_the_browser_stepper(page: Page, server: str) -> None:
    """The server's own step change (Go to cell) reaches the stepper, which had stepped on its own before."""
    pg = page
    open_arithmetic(pg, server)
    expect(step_line(pg)).to_have_text(starts_with("Step 1 of 16"), timeout=60_000)
    wait_for_app(pg)
    pg.get_by_role("button", name="Next").click()
    wait_for_cell_in_url(pg, 1)
    wait_for_app(pg)
    pg.get_by_text(re.compile("^Jump to an output cell")).click()
    pg.get_by_label("row", exact=True).fill("2")
    pg.get_by_label("column", exact=True).fill("1")
    pg.get_by_label("column", exact=True).press("Enter")
    wait_for_app(pg)
    pg.get_by_role("button", name="Go to cell").click()
    expect(step_line(pg)).to_have_text("Step 10 of 16: output cell row 2, column 1 = -10")
    wait_for_cell_in_url(pg, 9)


def test_play_advances_the_step_and_stops_at_the_last(page: Page, server: str) -> None:
    pg = page
    open_arithmetic(
        pg,
        server,
        "?ex=4x4+max+pooling+2x2%2C+stride+2&op=pool&x=1,3,2,4;5,6,8,7;4,2,1,3;2,5,7,8&s=2,2&ps=2,2&cell=0",
    )
    expect(step_line(pg)).to_have_text(starts_with("Step 1 of 4"), timeout=60_000)
    wait_for_app(pg)
    pg.get_by_label("Seconds per step").select_option("0.5")
    play = pg.get_by_role("button", name="Play")
    play.click()
    expect(pg.get_by_role("button", name="Pause")).to_have_attribute("aria-pressed", "true")
    # play reaches the last step, then switches itself off there
    expect(step_line(pg)).to_have_text(starts_with("Step 4 of 4"))
    expect(equation(pg)).to_have_text("max(1, 3, 7, 8) = 8")
    expect(play).to_have_attribute("aria-pressed", "false")
    wait_for_cell_in_url(pg, 3)  # reported once it stopped
    expect(step_line(pg)).to_have_text(starts_with("Step 4 of 4"))  # stopped, did not wrap around


def test_step_the_backward_pass_with_the_keyboard(page: Page, server: str) -> None:
    pg = page
    open_arithmetic(pg, server, "?op=backward")
    expect(step_line(pg)).to_have_text("Step 1 of 25: dL/dx cell row 0, column 0 = 1", timeout=60_000)
    wait_for_app(pg)
    pg.get_by_role("button", name=re.compile("Next")).first.focus()
    pg.keyboard.press("ArrowRight")
    expect(step_line(pg)).to_have_text("Step 2 of 25: dL/dx cell row 0, column 1 = 2")
    pg.keyboard.press("End")
    expect(step_line(pg)).to_have_text("Step 25 of 25: dL/dx cell row 4, column 4 = 0.5")
    pg.keyboard.press("ArrowLeft")
    expect(step_line(pg)).to_have_text("Step 24 of 25: dL/dx cell row 4, column 3 = 0")
    pg.keyboard.press("Home")
    expect(step_line(pg)).to_have_text(starts_with("Step 1 of 25"))
    # the centre input cell: reached by all four dL/dy cells, through four different (flipped) taps
    click_cell(pg, "dL/dx", row="2", col="2")
    expect(step_line(pg)).to_have_text("Step 13 of 25: dL/dx cell row 2, column 2 = -1.5")
    # the terms panel follows on the server once the step is reported
    terms = pg.locator('[data-testid="stCode"]').filter(has_text="dL/dx[2, 2]").first
    expect(terms).to_have_text("dL/dx[2, 2] = 1×1 + (-1)×3 + 2×0 + 0.5×1 = -1.5")
    expect(pg.get_by_text("dL/dy spread out by the stride", exact=True).first).to_be_visible()
    wait_for_cell_in_url(pg, 12)
    SHOTS.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(SHOTS / "arithmetic_backward.png"), full_page=True)


_GRIDS_FIT = """() => {
  const tables = [...document.querySelectorAll('.ar-stepper table')];
  const named = n => tables.find(t => t.caption.textContent.trim() === n);
  const [kernel, input, output] = ['Kernel', 'Input', 'Output'].map(named);
  if (!kernel || !input || !output) return null;
  const main = document.querySelector('[data-testid="stMainBlockContainer"]').getBoundingClientRect();
  const apart = (a, b) => a.right <= b.left + 1 || b.right <= a.left + 1 || a.bottom <= b.top + 1 || b.bottom <= a.top + 1;
  const box = kernel.getBoundingClientRect();
  const px = parseFloat(getComputedStyle(kernel.querySelector('td')).fontSize);
  const cols = kernel.tBodies[0].rows[0].cells.length - 1;
  return {mainRight: main.right, right: Math.max(...tables.map(t => t.getBoundingClientRect().right)), px, cols,
          apart: apart(box, input.getBoundingClientRect()) && apart(box, output.getBoundingClientRect())};
}"""

_KEY_HINTS_APART = """() => [...document.querySelectorAll('.ar-stepper button')]
  .filter(b => b.querySelector('kbd')).map(b => {
    const k = b.querySelector('kbd').getBoundingClientRect(), r = b.getBoundingClientRect();
    const text = document.createRange(); text.selectNodeContents(b.firstChild); const p = text.getBoundingClientRect();
    return {text: b.innerText, inside: k.right <= r.right + 0.5 && p.left >= r.left - 0.5,
            apart: k.left >= p.right - 0.5 || k.right <= p.left + 0.5 || k.top >= p.bottom - 0.5 || k.bottom <= p.top + 0.5};
  })"""


def test_the_grids_fit_at_1024_in_presentation_mode_with_large_numbers(browser, server: str) -> None:
    context = browser.new_context(viewport={"width": 1024, "height": 768})
    pg = context.new_page()
    open_arithmetic(pg, server)
    presentation_on(pg)
    pg.wait_for_function("() => getComputedStyle(document.documentElement).fontSize === '20px'")
    wait_for_app(pg)
    fits = (
        "() => { const g = (" + _GRIDS_FIT + ")(); return !!g && g.cols === 3 && g.px >= 20 && g.apart && "
        "g.right <= g.mainRight + 1; }"
    )
    try:  # wait for the settled layout (the font grows after the first drawing), not for a fixed time
        pg.wait_for_function(fits, polling=200, timeout=20_000)
    except PlaywrightTimeout:
        SHOTS.mkdir(parents=True, exist_ok=True)
        pg.screenshot(path=str(SHOTS / "arithmetic_1024_presentation_failed.png"), full_page=True)
        pytest.fail(f"the grids do not fit at 1024 presenting: {pg.evaluate(_GRIDS_FIT)}")
    # First, Back, Next, Last: each key hint ("Home") beside its label ("First") and inside its button
    buttons = pg.evaluate(_KEY_HINTS_APART)
    assert len(buttons) == 4 and all(b["apart"] and b["inside"] for b in buttons), buttons
    SHOTS.mkdir(parents=True, exist_ok=True)
    pg.locator(".ar-stepper .ar-grids").scroll_into_view_if_needed()
    pg.screenshot(path=str(SHOTS / "arithmetic_1024_presentation.png"))
    context.close()


def test_the_chain_grids_keep_their_full_size_at_1024_in_presentation_mode(browser, server: str) -> None:
    """conv -> ReLU -> pool: the three grids wrap at full size; in three columns a projector squeezed them
    until "-8" and "10" ran over their cells."""
    context = browser.new_context(viewport={"width": 1024, "height": 768})
    pg = context.new_page()
    open_arithmetic(pg, server, "?op=chain")
    presentation_on(pg)
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
