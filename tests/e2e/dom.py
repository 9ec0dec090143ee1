"""What a browser test reads from the page: Streamlit's run state and plotly charts' rendered SVG.

Everything here is public DOM: the run state on Streamlit's app root and the status widget it shows while a
script runs, and a chart's SVG as plotly renders it (its title, the axis tick labels, the outline shapes),
measured with ``getBoundingClientRect``. No test reads plotly's private ``_fullLayout``. A cell of a chart
is named by the tick labels of its row and column, as a learner reads it.
"""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from bench.load_protocol import IDLE_JS

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


def presentation_on(page: Page) -> None:
    """Switch presentation mode on, unless this browser's workspace already starts its sessions in it (the
    choice is kept: a reload at the projector stays large), and wait for the large text."""
    side = page.locator('[data-testid="stSidebar"]')
    switch = side.get_by_role("switch", name="Presentation mode")
    switch.wait_for()  # drawn by the page's first run, already in the state the workspace keeps
    if not switch.is_checked():
        side.get_by_text("Presentation mode", exact=True).click()
    expect(switch).to_be_checked()
    page.wait_for_function("() => getComputedStyle(document.documentElement).fontSize === '20px'")


def wait_for_app(page: Page, timeout: float = 60_000) -> None:
    """Wait until the app is on screen and no script run is in progress or asked for (``IDLE_JS``: Streamlit's
    run state on its app root, and no status widget; the widget alone showed only half a second into a run, so
    a page just opened passed for idle while its first run was still drawing it).

    This is not a wait for what a click causes (its run may not have begun yet): tests wait for
    that state itself, with ``expect``.
    """
    page.wait_for_function(IDLE_JS, timeout=timeout, polling=100)  # IDLE_JS also needs the app on screen


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


# -- Every screen: what a learner would see cut, truncated, broken inside a word or overlapping --------------------

# The controls whose text must show whole, by kind (the kind names a failure). Material icons are ligature
# text ("arrow_forward") drawn as one glyph: they are left out of every text measured here.
_CONTROLS = {
    "button": '[data-testid="stMain"] button, [data-testid="stSidebar"] button, [data-testid="stPageLink-NavLink"]',
    "nav link": '[data-testid="stSidebarNav"] a',
    "tab": '[role="tab"]',
    "table header": "th",
    "table cell": "td",  # an HTML table's body cell (st.table, markdown); a canvas grid's hidden cells are 0 px wide
    "widget label": '[data-testid="stWidgetLabel"]',
    "metric": '[data-testid="stMetricLabel"], [data-testid="stMetricValue"]',
    "selectbox value": '[data-testid="stSelectbox"] .react-aria-ComboBox, [data-testid="stSelectbox"] [data-baseweb="select"], '
    '[data-testid="stMultiSelect"] [data-baseweb="select"], [data-testid="stMultiSelect"] .react-aria-ComboBox',
    "option": '[data-testid="stRadio"] label, [data-testid="stCheckbox"] label, [data-testid="stToggle"] label',
    "expander": '[data-testid="stExpander"] summary',
    "heading": '[data-testid="stMain"] h1, [data-testid="stMain"] h2, [data-testid="stMain"] h3, [data-testid="stMain"] h4',
    "text": '[data-testid="stMain"] [data-testid="stMarkdownContainer"] p, [data-testid="stMain"] [data-testid="stCaptionContainer"]',
}

_LAYOUT_JS = """
(controls) => {
  const ICON = '[data-testid="stIconMaterial"], .material-symbols-rounded';
  const shown = el => { const b = el.getBoundingClientRect(); if (b.width <= 1) return false;  // on screen: not in a collapsed sidebar, not scrolled off sideways
    return b.width > 0 && b.height > 0 && b.right > 0 && getComputedStyle(el).visibility !== 'hidden'
      && !el.closest('[data-testid="stSidebar"][data-collapsed="true"], [aria-hidden="true"]')
      && !(el.closest('details:not([open])') && !el.closest('summary')); };  // inside a closed expander: not shown
  const textOf = el => { const c = el.cloneNode(true); c.querySelectorAll(ICON).forEach(i => i.remove());
                         return c.textContent.replace(/\\s+/g, ' ').trim(); };
  const where = el => { const names = []; for (let e = el; e && names.length < 3; e = e.parentElement) {
                          const id = e.getAttribute && e.getAttribute('data-testid'); if (id && !names.includes(id)) names.push(id); }
                        const b = el.getBoundingClientRect();
                        return `${names.join(' < ')} at x=${Math.round(b.left)} y=${Math.round(b.top)} w=${Math.round(b.width)}`; };
  const clipped = el => {  // the element or one inside it hides part of its text
    for (const e of [el, ...el.querySelectorAll('*')]) {
      if (e.closest(ICON) || e instanceof SVGElement || !e.textContent.trim() || e.getBoundingClientRect().width <= 1) continue;  // <= 1: a screen reader's text
      const s = getComputedStyle(e);
      const hidesX = s.overflowX !== 'visible' || s.textOverflow === 'ellipsis';
      if (hidesX && e.scrollWidth > e.clientWidth + 1 && e.clientWidth > 0) return `clipped (${e.scrollWidth}px of text in ${e.clientWidth}px)`;
      if (s.overflowY !== 'visible' && e.clientHeight > 0) {  // a whole line of its text below its bottom edge
        const r = document.createRange(); r.selectNodeContents(e);
        const bottom = e.getBoundingClientRect().top + e.clientTop + e.clientHeight;
        const lost = [...r.getClientRects()].filter(b => b.width > 0 && b.top >= bottom - 2).length;
        if (lost) return `clipped (${lost} line(s) of text below its ${e.clientHeight}px height)`;
      }
    }
    return null;
  };
  const brokenWord = el => {  // a word whose letters sit on two lines
    const walk = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
    for (let n = walk.nextNode(); n; n = walk.nextNode()) {
      if (n.parentElement.closest(ICON) || n.parentElement.closest('code, pre, a[href^="http"]')) continue;
      for (const m of n.data.matchAll(/[^\\s\\-\\u2010-\\u2015\\/]{2,}/g)) {
        const r = document.createRange(); r.setStart(n, m.index); r.setEnd(n, m.index + m[0].length);
        const rects = [...r.getClientRects()].filter(b => b.width > 0);
        if (rects.length < 2) continue;
        const tops = rects.map(b => b.top), h = Math.min(...rects.map(b => b.height));
        if (Math.max(...tops) - Math.min(...tops) > h / 2) return `"${m[0]}" broken across ${new Set(tops.map(Math.round)).size} lines`;
      }
    }
    return null;
  };
  const valueCut = el => {  // a selectbox shows its value in an <input>: is the value wider than the box?
    const input = el.querySelector('input');
    if (!input || !input.value) return null;
    const s = getComputedStyle(input), ctx = document.createElement('canvas').getContext('2d');
    ctx.font = `${s.fontWeight} ${s.fontSize} ${s.fontFamily}`;
    const room = input.clientWidth - parseFloat(s.paddingLeft) - parseFloat(s.paddingRight);
    const need = ctx.measureText(input.value).width;
    return need > room + 1 ? `value "${input.value}" cut (${Math.round(need)}px of text in ${Math.round(room)}px)` : null;
  };
  const spills = el => el.scrollWidth > el.clientWidth + 1 && el.clientWidth > 0
    ? `its text runs out of it (${el.scrollWidth}px of content in ${el.clientWidth}px)` : null;
  const out = [], seen = new Set(), boxes = [];
  for (const [kind, selector] of Object.entries(controls)) {
    for (const el of document.querySelectorAll(selector)) {
      if (seen.has(el) || !shown(el)) continue;
      seen.add(el);
      if (kind === 'selectbox value') { const cut = valueCut(el); if (cut) out.push(`${kind}: ${cut}; ${where(el)}`); continue; }
      const text = textOf(el);
      if (!text) continue;
      if (kind === 'button' || kind === 'tab') boxes.push([el, text]);
      const why = (kind === 'text' || kind === 'heading' ? null : clipped(el) || (kind === 'button' ? spills(el) : null))
        || brokenWord(el);
      if (why) out.push(`${kind} "${text.slice(0, 70)}": ${why}; ${where(el)}`);
    }
  }
  for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {  // buttons drawn over each other
    const [a, ta] = boxes[i], [b, tb] = boxes[j];
    if (a.contains(b) || b.contains(a)) continue;
    const r = a.getBoundingClientRect(), q = b.getBoundingClientRect();
    const w = Math.min(r.right, q.right) - Math.max(r.left, q.left), h = Math.min(r.bottom, q.bottom) - Math.max(r.top, q.top);
    if (w > 2 && h > 2) out.push(`button "${ta.slice(0, 40)}" overlaps button "${tb.slice(0, 40)}" (${Math.round(w)}x${Math.round(h)}px); ${where(a)}`);
  }
  return out;
}
"""

_CHARTS_JS = """
() => {
  const overlap = (a, b) => Math.max(0, Math.min(a.right, b.right) - Math.max(a.left, b.left))
                          * Math.max(0, Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top));
  const out = [];
  for (const plot of document.querySelectorAll('.js-plotly-plot')) {
    const box = plot.getBoundingClientRect();
    if (box.width === 0 || box.height === 0) continue;
    const keyed = plot.closest('[class*="st-key-"]');
    const named = keyed ? [...keyed.classList].find(c => c.startsWith('st-key-')) : null;
    const title = [...plot.querySelectorAll('.gtitle, .xtitle')].map(t => t.textContent.trim()).join(' / ')
      || `(untitled${named ? ', in ' + named : ''}, ${(plot.data || []).map(d => d.type).join('+')})`;
    const texts = [...plot.querySelectorAll('text')].filter(t => t.textContent.trim())
      .map(t => [t.textContent.trim(), t.getBoundingClientRect()]).filter(([, b]) => b.width > 0);
    const cell = plot.closest('[data-testid="stElementContainer"]');
    if (cell) {
      const c = cell.getBoundingClientRect(), clip = cell.closest('[data-testid="stColumn"], [data-testid="stMain"]');
      const edge = clip ? Math.min(c.right, clip.getBoundingClientRect().right) : c.right;
      if (box.right > edge + 1) out.push(`chart "${title}": ${Math.round(box.width)}px wide, its right ${Math.round(box.right - edge)}px cut off by its column`);
    }
    const bar = plot.querySelector('.modebar');
    if (bar && bar.children.length) {
      const b = bar.getBoundingClientRect();
      for (const [t, r] of texts) if (overlap(b, r) > 0) { out.push(`chart "${title}": the toolbar covers "${t}"`); break; }
    }
    for (const [t, r] of texts) {
      if (r.left < box.left - 1 || r.right > box.right + 1) { out.push(`chart "${title}": "${t}" runs out of the chart`); break; }
    }
    if (texts.length > 400) continue;
    let clashes = 0;
    for (let i = 0; i < texts.length && clashes < 3; i++) for (let j = i + 1; j < texts.length && clashes < 3; j++) {
      const [ta, a] = texts[i], [tb, b] = texts[j];
      const small = Math.min(a.width * a.height, b.width * b.height);
      if (overlap(a, b) > 0.3 * small) { out.push(`chart "${title}": "${ta}" overlaps "${tb}"`); clashes++; }
    }
  }
  return out;
}
"""


def layout_problems(page: Page) -> list[str]:
    """Every control on screen whose text is clipped, truncated with an ellipsis or broken inside a word.

    Each problem reads ``<kind> "<text>": <what is wrong>; <data-testid chain> at x= y= w=``. Buttons,
    navigation links, tabs, HTML table headers and body cells, widget labels, metrics, selectbox values, radio / checkbox /
    toggle labels and expanders are checked for both; headings and the main area's text for broken words.
    A selectbox's value (an ``<input>``) is measured against its box, a button's content against the
    button, and buttons or tabs drawn over one another are named in pairs.
    """
    return page.evaluate(_LAYOUT_JS, _CONTROLS)


_FRAMES_JS = """
(sidewaysOk) => {
  const out = [], rect = el => el.getBoundingClientRect();
  const shown = el => { const b = rect(el); return b.width > 1 && b.height > 0 && b.right > 0
    && !el.closest('[data-testid="stSidebar"][data-collapsed="true"], details:not([open]), [aria-hidden="true"]'); };
  const at = el => { const b = rect(el); return `at x=${Math.round(b.left)} y=${Math.round(b.top)} w=${Math.round(b.width)}`; };
  const ctx = document.createElement('canvas').getContext('2d');
  for (const frame of document.querySelectorAll('[data-testid="stMain"] [data-testid="stDataFrame"]')) {
    const scroller = frame.querySelector('.dvn-scroller'), grid = frame.querySelector('.stDataFrameGlideDataEditor');
    if (!scroller || !grid || !shown(frame)) continue;
    const heads = [...frame.querySelectorAll('th')].map(th => th.textContent.trim());  // the columns in view
    const name = `st.dataframe "${heads.slice(0, 3).join(' | ').slice(0, 60) || '(no column drawn yet)'}"`;
    const total = Number(frame.querySelector('table')?.getAttribute('aria-colcount')) || heads.length;
    if (!sidewaysOk && scroller.scrollWidth > scroller.clientWidth + 1)
      out.push(`${name}: scrolls sideways (${scroller.scrollWidth}px of columns in ${scroller.clientWidth}px, `
               + `${heads.length} of ${total} columns in view); ${at(frame)}`);
    // The columns are as wide as the grid's content (scrollWidth); each header needs its text and the padding on
    // both sides, and none may be wider than the widest column Streamlit sizes by itself (31.25rem).
    const s = getComputedStyle(grid), pad = 2 * (parseFloat(s.getPropertyValue('--gdg-cell-horizontal-padding')) || 8);
    ctx.font = `${s.getPropertyValue('--gdg-header-font-style')} ${s.getPropertyValue('--gdg-font-family')}`;
    const need = heads.map(h => ctx.measureText(h).width + pad);
    const widest = 31.25 * parseFloat(getComputedStyle(document.documentElement).fontSize);
    const long = heads.find((h, i) => need[i] > widest);
    if (long) out.push(`${name}: header "${long}" cut (${Math.round(ctx.measureText(long).width)}px of text in a column of at most ${widest}px); ${at(frame)}`);
    else if (heads.length === total && need.reduce((a, b) => a + b, 0) > scroller.scrollWidth + 1)
      out.push(`${name}: headers cut (${Math.round(need.reduce((a, b) => a + b, 0))}px of header text and padding in `
               + `${scroller.scrollWidth}px of columns); ${at(frame)}`);
  }
  const metrics = [...document.querySelectorAll('[data-testid="stMetric"]')].filter(shown);
  for (const m of metrics) {
    const label = m.querySelector('[data-testid="stMetricLabel"]');
    if (!label) continue;
    const a = rect(label), icon = label.querySelector('[data-testid="stTooltipIcon"], [data-testid="stTooltipHoverTarget"], svg');
    if (icon) {  // its help icon drawn over its own words
      const r = document.createRange(), walk = document.createTreeWalker(label, NodeFilter.SHOW_TEXT), i = rect(icon);
      for (let t = walk.nextNode(); t; t = walk.nextNode()) {
        if (icon.contains(t)) continue;
        r.selectNodeContents(t);
        const hit = [...r.getClientRects()].find(b => Math.min(b.right, i.right) - Math.max(b.left, i.left) > 2
                                                      && Math.min(b.bottom, i.bottom) - Math.max(b.top, i.top) > 2);
        if (hit) { out.push(`metric "${label.textContent.trim().slice(0, 50)}": its help icon covers its label; ${at(label)}`); break; }
      }
    }
    const words = document.createRange(); words.selectNodeContents(label);
    const boxes = [a, ...[...words.getClientRects()].filter(b => b.width > 0)];  // its box, and its text where it runs out
    for (const n of metrics) {
      if (n === m || n.contains(m) || m.contains(n)) continue;
      const b = rect(n), a = boxes.find(x => Math.min(x.right, b.right) - Math.max(x.left, b.left) > 2
                                             && Math.min(x.bottom, b.bottom) - Math.max(x.top, b.top) > 2) || boxes[0], w = Math.min(a.right, b.right) - Math.max(a.left, b.left), h = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
      if (w > 2 && h > 2) { out.push(`metric "${label.textContent.trim().slice(0, 50)}": its label overlaps the metric `
                                     + `"${n.querySelector('[data-testid="stMetricLabel"]')?.textContent.trim().slice(0, 40)}" (${Math.round(w)}x${Math.round(h)}px); ${at(label)}`); break; }
    }
  }
  return out;
}
"""


_UNDRAWN_JS = """
(scrollTo) => {  // with a number: scroll that st.dataframe into view; without: the shown ones whose grid is not drawn
  const frames = [...document.querySelectorAll('[data-testid="stMain"] [data-testid="stDataFrame"]')];
  if (scrollTo !== null) { frames[scrollTo].scrollIntoView({block: 'center'}); return []; }
  return frames.map((f, i) => [f, i]).filter(([f]) => f.getBoundingClientRect().width > 1 && !f.closest('details:not([open])')
                                            && !(f.querySelector('.dvn-scroller') && f.querySelector('th'))).map(([, i]) => i);
}
"""


def frame_problems(page: Page, *, sideways_ok: bool = False) -> list[str]:
    """Canvas tables (``st.dataframe``, drawn by glide-data-grid) whose columns are wider than their frame, so
    the table scrolls sideways (unless ``sideways_ok``: on a phone a wide table may scroll), or whose header
    text is cut; and metrics whose label box overlaps a neighbouring metric or whose help icon covers its label.

    A canvas grid has no text boxes to measure: the columns in view are read from its accessibility table
    (``th``, one per column drawn), the scrolling from its scroller (``.dvn-scroller``: scrollWidth against
    clientWidth), and a header's width is measured in the grid's own header font.
    """
    undrawn, top = [], page.evaluate("() => document.querySelector('[data-testid=\"stMain\"]').scrollTop")
    for i in page.evaluate(_UNDRAWN_JS, None):  # a canvas grid is drawn only once it has been scrolled into view
        page.evaluate(_UNDRAWN_JS, i)
        try:
            page.wait_for_function(f"() => !({_UNDRAWN_JS})(null).includes({i})", timeout=15_000, polling=100)
        except PlaywrightTimeout:
            undrawn.append(
                f"st.dataframe number {i + 1} of the page: its columns were not drawn 15 s after it was scrolled into view"
            )
    page.evaluate("(top) => document.querySelector('[data-testid=\"stMain\"]').scrollTo(0, top)", top)
    return undrawn + page.evaluate(_FRAMES_JS, sideways_ok)


def chart_problems(page: Page) -> list[str]:
    """Plotly charts on screen whose toolbar covers text, whose text runs out of the chart, or whose
    texts overlap one another (tick labels, annotations, numbers in cells), each named by the chart's title.

    A problem is reported only if it is still there once the charts have settled again: plotly places some
    texts a moment after a redraw, and CI reported an untitled Inside chart's "0" and a diagram label out of
    their charts that were whole on every rerun."""
    found = page.evaluate(_CHARTS_JS)
    if not found:
        return []
    page.evaluate("() => { window.__convlabCharts = null; }")  # three fresh frames of unchanged charts
    wait_for_charts(page)
    again = set(page.evaluate(_CHARTS_JS))
    return [p for p in found if p in again]


def wait_for_charts(page: Page, timeout: float = 30_000) -> None:
    """Wait until every plotly chart shown has drawn its SVG and kept its size for three frames in a
    row (after a resize, plotly redraws a moment later)."""
    page.wait_for_function(
        """() => {
             const sizes = [...document.querySelectorAll('[data-testid="stPlotlyChart"]')].map(c => {
               const svg = c.querySelector('.main-svg');
               if (c.getBoundingClientRect().width === 0) return 'hidden';
               return svg ? `${Math.round(svg.getBoundingClientRect().width)}x${Math.round(svg.getBoundingClientRect().height)}` : null;
             });
             if (sizes.includes(null)) { window.__convlabCharts = null; return false; }
             const now = sizes.join(','), last = window.__convlabCharts;
             window.__convlabCharts = last && last.sizes === now ? {sizes: now, same: last.same + 1} : {sizes: now, same: 0};
             return window.__convlabCharts.same >= 3;
           }""",
        timeout=timeout,
        polling="raf",
    )


_DIAGRAM_JS = """
(min) => {
  const out = [], rect = el => el.getBoundingClientRect();
  const apart = (a, b) => a.right <= b.left + 0.5 || b.right <= a.left + 0.5 || a.bottom <= b.top + 0.5 || b.bottom <= a.top + 0.5;
  document.querySelectorAll('[data-testid="stMain"] figure.an-dg').forEach((fig, i) => {
    const box = rect(fig), img = fig.querySelector('img');
    if (!img || !(img.complete && img.naturalWidth > 0)) out.push(`diagram ${i + 1}: its picture is not drawn`);
    const texts = [...fig.querySelectorAll('.an-dg-label, .an-dg-note')].filter(t => rect(t).width > 0);
    if (!texts.length) out.push(`diagram ${i + 1}: no label drawn`);
    texts.forEach((t, j) => {
      const r = rect(t), name = `diagram ${i + 1}: "${t.textContent.trim().slice(0, 30)}"`;
      if (r.left < box.left - 0.5 || r.right > box.right + 0.5) out.push(`${name} runs out of the figure`);
      if (min && t.matches('.an-dg-label') && parseFloat(getComputedStyle(t).fontSize) < min)
        out.push(`${name}: ${getComputedStyle(t).fontSize} text`);
      texts.slice(j + 1).forEach(u => { if (!apart(r, rect(u))) out.push(`${name} overlaps "${u.textContent.trim().slice(0, 30)}"`); });
    });
  });
  return out;
}
"""


def diagram_problems(page: Page, min_px: float = 0) -> list[str]:
    """The Architecture diagram's figures (``figure.an-dg``): a picture not drawn, a label or note over another
    or running out of its figure, and (``min_px``) a map's label smaller than that. Waits for the pictures to be
    decoded first."""
    page.wait_for_function(
        "() => [...document.querySelectorAll('figure.an-dg img')].every(im => im.complete && im.naturalWidth > 0)"
    )
    return page.evaluate(_DIAGRAM_JS, min_px)


_SMALL_JS = """
(min) => {
  const out = [];
  const size = el => parseFloat(getComputedStyle(el).fontSize);
  for (const plot of document.querySelectorAll('[data-testid="stMain"] .js-plotly-plot')) {
    if (plot.getBoundingClientRect().width === 0) continue;
    const title = [...plot.querySelectorAll('.gtitle, .xtitle')].map(t => t.textContent.trim()).join(' / ') || '(untitled)';
    const small = [...plot.querySelectorAll('text')].filter(t => t.textContent.trim() && t.getBoundingClientRect().width > 0
                                                           && !t.closest('.hoverlayer') && size(t) < min);
    if (small.length) out.push(`chart "${title}": ${small.length} texts under ${min}px, e.g. "${small[0].textContent.trim().slice(0, 30)}" at ${size(small[0])}px`);
  }
  for (const c of document.querySelectorAll('[data-testid="stMain"] [data-testid="stCaptionContainer"]')) {
    if (c.getBoundingClientRect().width > 0 && size(c) < min)
      out.push(`caption "${c.textContent.trim().slice(0, 50)}": ${size(c)}px`);
  }
  return out;
}
"""


def small_text(page: Page, min_px: float) -> list[str]:
    """Chart texts (tick labels, numbers in cells, annotations, titles) and captions in the main area
    drawn smaller than ``min_px``: what presentation mode must have enlarged."""
    return page.evaluate(_SMALL_JS, min_px)
