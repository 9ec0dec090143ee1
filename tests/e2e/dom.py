"""What a browser test reads from the page: Streamlit's run state and plotly charts' rendered SVG.

Everything here is public DOM: the status widget Streamlit shows while a script runs, and a
chart's SVG as plotly renders it (its title, the axis tick labels, the outline shapes), measured
with ``getBoundingClientRect``. No test reads plotly's private ``_fullLayout``. A cell of a chart
is named by the tick labels of its row and column, as a learner reads it.
"""

from __future__ import annotations

import re

from playwright.sync_api import Page

# Helpers in scope of every script below. A chart is found by its title or its x-axis title.
_LIB = """
const findPlot = name => [...document.querySelectorAll('[data-testid="stMain"] .js-plotly-plot')].find(p => {
  const box = p.getBoundingClientRect();
  const names = [...p.querySelectorAll('.gtitle, .xtitle')].map(t => t.textContent.trim());
  return box.width > 0 && box.height > 0 && names.includes(name);
});
const centre = el => { const b = el.getBoundingClientRect(); return [(b.left + b.right) / 2, (b.top + b.bottom) / 2]; };
const ticks = (plot, axis) => [...plot.querySelectorAll(`.${axis}axislayer-above .${axis}tick text`)]
  .map(t => [t.textContent.trim(), centre(t)]);
const cellAt = (plot, row, col) => {
  const x = ticks(plot, 'x').find(([t]) => t === col), y = ticks(plot, 'y').find(([t]) => t === row);
  if (!x || !y) return null;
  const box = plot.getBoundingClientRect();
  return [x[1][0] - box.left, y[1][1] - box.top];
};
const outlinesOf = plot => {
  const cols = ticks(plot, 'x'), rows = ticks(plot, 'y');
  return [...plot.querySelectorAll('.shapelayer path')]
    .filter(p => getComputedStyle(p).stroke === 'rgb(0, 0, 0)')
    .map(p => {
      const b = p.getBoundingClientRect();
      return {
        rows: rows.filter(([, [, y]]) => y > b.top && y < b.bottom).map(([t]) => t),
        cols: cols.filter(([, [x]]) => x > b.left && x < b.right).map(([t]) => t),
      };
    });
};
const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);
"""


def _js(body: str) -> str:
    """A page function of one argument ``arg`` with the helpers above in scope."""
    return "(arg) => {" + _LIB + body + "}"


def wait_for_app(page: Page, timeout: float = 60_000) -> None:
    """Wait until the app is on screen and Streamlit shows no script run in progress.

    This is not a wait for what a click causes (its run may not have begun yet): tests wait for
    that state itself, with ``expect``.
    """
    page.wait_for_selector('[data-testid="stApp"]')
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=timeout, polling=100
    )


def click_cell(page: Page, chart: str, row: str, col: str) -> None:
    """Click the cell (row, col), named by its tick labels, of the chart named ``chart``."""
    title = page.locator(".gtitle, .xtitle").filter(has_text=re.compile(rf"^\s*{re.escape(chart)}\s*$"))
    target = page.locator('[data-testid="stMain"] .js-plotly-plot').filter(has=title, visible=True).first
    target.scroll_into_view_if_needed()
    page.wait_for_function(_js("const p = findPlot(arg[0]); return !!p && cellAt(p, arg[1], arg[2]) !== null;"),
                           arg=[chart, row, col])  # fmt: skip
    x, y = target.evaluate("(plot, [row, col]) => {" + _LIB + "return cellAt(plot, row, col); }", [row, col])
    target.click(position={"x": x, "y": y})


def wait_for_outline(page: Page, chart: str, rows: list[str], cols: list[str], timeout: float = 30_000) -> None:
    """Wait until the chart shows a black outline around exactly these rows and columns."""
    page.wait_for_function(
        _js("const p = findPlot(arg[0]); return !!p && outlinesOf(p).some(o => same(o.rows, arg[1]) && same(o.cols, arg[2]));"),
        arg=[chart, rows, cols],
        timeout=timeout,
    )  # fmt: skip
