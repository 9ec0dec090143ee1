"""Every page at every screen a class uses: a projector, a laptop, a big screen, a tablet and a phone.

For each page (the seven of the path, Home, and the instructor's console) and each size
(1024x768 and 1920x1080 in presentation mode, 1024x768 and 1280x800 plain, a 390x844 touch phone,
an 820x1180 touch tablet) the page is loaded once per kind of browser and measured in place at each
of its sizes:

- no button, tab, table header or body cell, widget label, metric, selectbox value or option is clipped
  or cut with an ellipsis, and no word of them (nor of a heading or the main text) is broken across lines
  (:func:`tests.e2e.dom.layout_problems`);
- no ``st.dataframe`` (a canvas grid) scrolls sideways or cuts a header, and no metric's label runs over
  its neighbour (:func:`tests.e2e.dom.frame_problems`). On the phone a wide canvas table may scroll
  sideways inside its frame (a phone cannot show ten columns; swiping one table is what a phone user
  expects), so there only cut headers and metrics are checked;
- no chart's toolbar covers its text, no chart text runs out of it or overlaps other text
  (:func:`tests.e2e.dom.chart_problems`), and no picture runs past the page's edge or over another
  (:func:`tests.e2e.pictures.picture_problems`);
- in presentation mode no chart text (numbers in cells, ticks, labels) and no caption is under 16 px;
- axe-core (``axe-playwright-python``, which ships axe.min.js: nothing downloads) finds no serious or
  critical violation (run once per kind of browser: colours and names do not change with the size);
- every request the browser makes goes to the ConvLab server itself, and none is answered 404.

A failure lists every problem as ``<page> at <size>: <kind> "<text>": <what>; <where>``, so it names
the page, the size, the element and its text. Screenshots of each page at 1024x768 in presentation
mode are saved in out/e2e/screens/.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.e2e.conftest import INSTRUCTOR_KEY, SHOTS
from tests.e2e.dom import (
    chart_problems,
    frame_problems,
    layout_problems,
    presentation_on,
    small_text,
    wait_for_app,
    wait_for_charts,
)
from tests.e2e.pictures import picture_problems

SCREENS = SHOTS / "screens"

# page -> (path in the address bar, its heading once drawn)
PAGES = {
    "Home": ("", "ConvLab"),
    "Lessons": ("lessons", "Lessons"),
    "Kernel Lab": ("kernel_lab", "Kernel Lab"),
    "Arithmetic": ("arithmetic", "Arithmetic: convolution and pooling, cell by cell"),
    "Architecture": ("architecture", "Architecture"),
    "Training": ("training", "Training"),
    "Experiments": ("experiments", "Experiments"),
    "Inside the model": ("inside", "Inside the model"),
    "Instructor": ("instructor", "Instructor console"),
}

# The browsers: each is one context, its page loaded once and measured at each of its sizes in turn.
BROWSERS = {
    "presentation": {"sizes": [("1024x768 presentation", 1024, 768), ("1920x1080 presentation", 1920, 1080)]},
    "plain": {"sizes": [("1024x768", 1024, 768), ("1280x800", 1280, 800)]},
    "touch": {"sizes": [("390x844 touch phone", 390, 844), ("820x1180 touch tablet", 820, 1180)], "touch": True},
}

PHONE = "390x844 touch phone"  # the one size where a wide st.dataframe may scroll sideways


PROJECTOR_MIN_PX = 16  # in presentation mode no chart text or caption is smaller (plotly's default is 12 px)

# Every page but Home is opened on its own address (/kernel_lab). The server (serve.py) names the backend in
# each HTML page, so Streamlit's frontend no longer probes /kernel_lab/_stcore/health and host-config
# (streamlit/streamlit#7074): any 404, those included, is a problem of the page being loaded.


@dataclass
class Tab:
    """One browser context with its page and what it asked the network for."""

    context: BrowserContext
    page: Page
    origin: str
    where: list[str] = field(default_factory=lambda: ["(start)"])  # the page being loaded now
    foreign: list[str] = field(default_factory=list)
    not_found: list[str] = field(default_factory=list)

    def record(self) -> None:
        def on_request(request) -> None:
            parts = urlsplit(request.url)
            if parts.scheme in ("http", "https", "ws", "wss") and f"{parts.hostname}:{parts.port}" != self.origin:
                self.foreign.append(f"{self.where[0]}: a request to another origin: {request.url}")

        def on_response(response) -> None:
            if response.status == 404:
                self.not_found.append(f"{self.where[0]}: 404 for {response.url}")

        self.context.on("request", on_request)
        self.context.on("response", on_response)


@pytest.fixture(scope="module")
def tabs(browser: Browser, server: str) -> Iterator[dict[str, Tab]]:
    SCREENS.mkdir(parents=True, exist_ok=True)
    expect.set_options(timeout=60_000)
    origin = urlsplit(server)
    made = {}
    for name, spec in BROWSERS.items():
        _, w, h = spec["sizes"][0]
        touch = bool(spec.get("touch"))
        ctx = browser.new_context(viewport={"width": w, "height": h}, has_touch=touch, is_mobile=touch)
        pg = ctx.new_page()
        pg.set_default_timeout(60_000)
        tab = Tab(ctx, pg, f"{origin.hostname}:{origin.port}")
        tab.record()
        made[name] = tab
    yield made
    for tab in made.values():
        tab.context.close()


def open_page(tab: Tab, server: str, title: str, *, presentation: bool) -> None:
    """Load the page, wait for its heading and for Streamlit to finish; switch presentation mode on."""
    path, heading = PAGES[title]
    tab.where[0] = title
    pg = tab.page
    pg.goto(f"{server}/{path}")
    wait_for_app(pg)
    if title == "Instructor":
        pg.get_by_label("Instructor key", exact=True).fill(INSTRUCTOR_KEY)
        pg.get_by_role("button", name="Open the console").click()
        expect(pg.get_by_text("The class now")).to_be_visible()
    expect(pg.get_by_role("heading", name=heading, exact=True)).to_be_visible()
    if presentation:
        presentation_on(pg)
        pg.wait_for_function("() => getComputedStyle(document.documentElement).fontSize === '20px'")
    wait_for_app(pg)


# At 1024x768 presenting with the sidebar open (300 px), Streamlit's rem margins grew with the type to 100 px a
# side and left the page 524 px; ConvLab's presentation style keeps it over 640.
MIN_PROJECTOR_ROOM = 640
PAGE_ROOM = """() => { const b = document.querySelector('[data-testid="stMainBlockContainer"]'); const s = getComputedStyle(b);
    return b.clientWidth - parseFloat(s.paddingLeft) - parseFloat(s.paddingRight); }"""

# How far the page's title sits below the top of the page's content: nothing drawn over it takes room (an empty
# element over it, the workspace cookie's script on a first visit, once pushed it 16 px lower than on other pages).
TITLE_DROP = """() => { const b = document.querySelector('[data-testid="stMainBlockContainer"]');
    const h = b.querySelector('h1'); if (!h) return null;
    return h.getBoundingClientRect().top - b.getBoundingClientRect().top - parseFloat(getComputedStyle(b).paddingTop); }"""

SETTLED = """() => [...document.querySelectorAll('[data-testid="stElementContainer"]')]
    .every(el => el.dataset.stale !== 'true' && getComputedStyle(el).opacity === '1')"""


def axe_problems(pg: Page) -> list[str]:
    """Serious and critical axe-core violations, each with its rule, what it means and where."""
    from axe_playwright_python.sync_playwright import Axe

    # Streamlit fades an element while it is redrawn (a fragment's rerun, a component's report): colours measured
    # mid-fade fail contrast that the settled page passes. Axe looks once every element is fully opaque again.
    def serious() -> list[dict]:
        pg.wait_for_function(SETTLED, polling=100)
        return [v for v in Axe().run(pg).response["violations"] if v.get("impact") in ("serious", "critical")]

    found = serious() or serious()  # a fade may begin while axe looks (CI once): a real violation is there twice
    out = []
    for v in found:
        targets = ", ".join(" ".join(map(str, n["target"])) for n in v["nodes"][:3])
        out.append(f'axe {v["impact"]} "{v["id"]}": {v["help"]} ({len(v["nodes"])} elements: {targets})')
    return out


def screenshot(pg: Page, path, w: int, h: int) -> None:
    """The whole page: Streamlit scrolls inside its main area, so the window is made as tall as the page."""
    tall = pg.evaluate("() => document.querySelector('[data-testid=\"stMain\"]').scrollHeight")
    pg.set_viewport_size({"width": w, "height": max(h, min(int(tall), 8000))})
    wait_for_charts(pg)
    pg.screenshot(path=str(path))
    pg.set_viewport_size({"width": w, "height": h})


@pytest.mark.parametrize("title", list(PAGES))
def test_every_screen(tabs: dict[str, Tab], server: str, title: str) -> None:
    problems: list[str] = []
    for name, spec in BROWSERS.items():
        tab = tabs[name]
        pg = tab.page
        for i, (size, w, h) in enumerate(spec["sizes"]):
            pg.set_viewport_size({"width": w, "height": h})
            if i == 0:
                open_page(tab, server, title, presentation=name == "presentation")
            wait_for_app(pg)
            wait_for_charts(pg)
            found = layout_problems(pg) + chart_problems(pg) + frame_problems(pg, sideways_ok=size == PHONE)
            found += picture_problems(pg)
            if "presentation" in size:
                found += small_text(pg, PROJECTOR_MIN_PX)
            if i == 0:  # colours and names do not change with the window's size: axe once per browser
                found += axe_problems(pg)
            problems += [f"{title} at {size}: {p}" for p in found]
            drop = pg.evaluate(TITLE_DROP)
            if drop is None or abs(drop) > 1:
                problems.append(f"{title} at {size}: the title is {drop} px below the top of the page's content")
            if size == "1024x768 presentation":
                room = pg.evaluate(PAGE_ROOM)  # the page's own width, inside its margins, beside the open sidebar
                if room < MIN_PROJECTOR_ROOM:
                    problems.append(f"{title} at {size}: the page has {room:.0f} px inside its margins")
                screenshot(pg, SCREENS / f"{PAGES[title][0] or 'home'}.png", w, h)
        problems += tab.foreign + tab.not_found
        tab.foreign.clear()
        tab.not_found.clear()
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems)


# The checks themselves, on a page made to fail them: each must name what it was built to see.
_BAD_PAGE = """
<div data-testid="stMain" style="width: 600px; font: 16px sans-serif">
  <table><tr><th>head</th></tr><tr><td><div style="width: 60px; overflow: hidden; white-space: nowrap">
    a cell whose text is far too long</div></td></tr></table>
  <div data-testid="stDataFrame" style="width: 300px"><div class="stDataFrameGlideDataEditor"
       style="--gdg-header-font-style: 400 14px; --gdg-font-family: sans-serif; --gdg-cell-horizontal-padding: 8px">
    <div class="dvn-scroller" style="overflow-x: auto; height: 40px"><div style="width: 900px; height: 10px"></div></div>
    <table aria-colcount="6"><thead><tr><th>arm</th><th>what changes</th></tr></thead></table></div></div>
  <div style="display: flex; width: 300px">
    <div data-testid="stMetric" style="width: 100px"><label data-testid="stMetricLabel" style="display: block;
         width: 220px; white-space: nowrap">a label far wider than its metric</label><div>1</div></div>
    <div data-testid="stMetric" style="width: 100px"><label data-testid="stMetricLabel">next<span data-testid="stTooltipIcon"
         style="position: relative; left: -20px">?</span></label><div>2</div></div>
  </div>
  <div style="display: flex; width: 300px">
    <div data-testid="stImage" style="width: 100px"><img alt="first picture" style="width: 150px; height: 40px"></div>
    <div data-testid="stImage" style="width: 100px"><img alt="second picture" style="width: 150px; height: 40px"></div>
    <div data-testid="stImage" style="margin-left: 500px"><img alt="far picture" style="width: 150px; height: 40px"></div>
  </div>
</div>
"""


def test_the_checks_see_a_cut_cell_a_sideways_canvas_table_metrics_and_pictures_drawn_over(browser: Browser) -> None:
    ctx = browser.new_context(viewport={"width": 800, "height": 600})
    pg = ctx.new_page()
    try:
        pg.set_content(_BAD_PAGE)
        cells = [p for p in layout_problems(pg) if p.startswith('table cell "a cell whose text')]
        assert cells and "clipped" in cells[0], layout_problems(pg)
        found = frame_problems(pg)
        assert any(
            'st.dataframe "arm | what changes": scrolls sideways' in p and "2 of 6 columns" in p for p in found
        ), found
        assert any(
            'metric "a label far wider than its metric": its label overlaps the metric "next?"' in p for p in found
        ), found
        assert any('metric "next?": its help icon covers its label' in p for p in found), found
        assert not any("scrolls sideways" in p for p in frame_problems(pg, sideways_ok=True))  # the phone's leave
        pictures = picture_problems(pg)
        assert any('pictures "first picture" and "second picture" overlap by 50 x 40 px' in p for p in pictures), pictures
        assert any(p.startswith('picture "far picture" ends at') for p in pictures), pictures
    finally:
        ctx.close()
