"""Step through a convolution on the Arithmetic page in a real Chromium: highlighted window, equation, clicks."""

from __future__ import annotations

import re
import time

import pytest

from tests.e2e.conftest import SHOTS, wait_for_app

pytestmark = pytest.mark.e2e

# Window shapes drawn by app.plots.arithmetic_grid: the outer black rectangle of the kernel window.
WINDOW_JS = """
() => {
  const plots = [...document.querySelectorAll('[data-testid="stMain"] .js-plotly-plot')];
  const title = p => ((p.layout.title && p.layout.title.text) || '').replace(/<[^>]+>/g, '');
  const input = plots.find(p => p.layout && title(p).startsWith('Input'));
  if (!input) return [];
  const rects = (input.layout.shapes || []).filter(s => s.line && s.line.color === 'black');
  return rects.map(s => [s.x0, s.x1, s.y0, s.y1]);
}
"""

CELL_XY_JS = """
([row, col]) => {
  const plots = [...document.querySelectorAll('[data-testid="stMain"] .js-plotly-plot')];
  const title = p => ((p.layout.title && p.layout.title.text) || '').replace(/<[^>]+>/g, '');
  const out = plots.find(p => title(p) === 'Output');
  out.scrollIntoView({block: 'center'});
  const fl = out._fullLayout, box = out.getBoundingClientRect();
  return [box.left + fl.xaxis._offset + fl.xaxis.l2p(col), box.top + fl.yaxis._offset + fl.yaxis.l2p(row)];
}
"""


def _window_is(pg, edges: list[float]) -> bool:
    """Wait (up to 20 s) until the input grid's window outline has these edges [x0, x1, y0, y1]."""
    deadline = time.time() + 20
    while time.time() < deadline:
        if edges in pg.evaluate(WINDOW_JS):
            return True
        time.sleep(0.3)
    return False


def _step_text(pg) -> str:
    return pg.get_by_text(re.compile(r"^Step \d+ of \d+")).first.inner_text()


def _equation(pg) -> str:
    return pg.locator('[data-testid="stCode"]').filter(has_text="×").first.inner_text()


def _wait_step(pg, text: str) -> None:
    pg.get_by_text(text, exact=False).first.wait_for(timeout=30_000)
    wait_for_app(pg)
    time.sleep(0.8)


def test_step_through_a_convolution(page, server):
    pg = page
    pg.goto(server)
    wait_for_app(pg)
    pg.goto(f"{server}/arithmetic")
    wait_for_app(pg)
    _wait_step(pg, "Step 1 of 16")
    assert _step_text(pg).startswith("Step 1 of 16: output cell row 1, column 1 = -14")
    assert "9×(-1) = -14" in _equation(pg)
    # the window covers columns 1-3 and rows 1-3 of the input: cells 0..2 -> edges -0.5..2.5
    assert _window_is(pg, [-0.5, 2.5, -0.5, 2.5])

    pg.get_by_role("button", name="Next").click()
    _wait_step(pg, "Step 2 of 16")
    assert _step_text(pg).startswith("Step 2 of 16: output cell row 1, column 2 = -1")
    assert _equation(pg).startswith("2×1 + 3×0 + 1×(-1)")
    assert _window_is(pg, [0.5, 3.5, -0.5, 2.5])  # moved one column right
    assert "cell=1" in pg.url

    # click output cell (row 4, column 4) -> jump to step 16, the cell the notes get wrong
    pg.evaluate(CELL_XY_JS, [3, 3])  # scrolls the output grid into view
    time.sleep(0.8)
    x, y = pg.evaluate(CELL_XY_JS, [3, 3])
    pg.mouse.move(x, y)
    pg.mouse.click(x, y)
    _wait_step(pg, "Step 16 of 16")
    assert _step_text(pg).startswith("Step 16 of 16: output cell row 4, column 4 = 11")
    assert _window_is(pg, [2.5, 5.5, 2.5, 5.5])
    assert pg.get_by_text("The notes print 10 here; the correct value is 11.").count() == 1
    SHOTS.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(SHOTS / "arithmetic_step16.png"), full_page=True)

    # the URL holds the exact step: a fresh tab opens it
    url = pg.url
    assert "cell=15" in url
    pg.goto(url)
    wait_for_app(pg)
    _wait_step(pg, "Step 16 of 16")
    assert "7×1 + 1×0 + 5×(-1) = 11" in _equation(pg)


def test_play_advances_the_step(page, server):
    pg = page
    pg.goto(server)
    wait_for_app(pg)
    pg.goto(
        f"{server}/arithmetic?ex=4x4+max+pooling+2x2%2C+stride+2&op=pool&x=1,3,2,4;5,6,8,7;4,2,1,3;2,5,7,8&s=2,2&ps=2,2&cell=0"
    )
    wait_for_app(pg)
    _wait_step(pg, "Step 1 of 4")
    pg.get_by_text("Play", exact=True).click()
    # 1 s per step by default: after a few seconds play has reached the last step and stopped there
    pg.get_by_text("Step 4 of 4").first.wait_for(timeout=30_000)
    pooled = pg.locator('[data-testid="stCode"]').filter(has_text="max(").first.inner_text()
    assert pooled.strip() == "max(1, 3, 7, 8) = 8"
    time.sleep(2.5)
    assert "Step 4 of 4" in _step_text(pg)  # stopped, did not wrap around
