"""A page opened at its own address (``/kernel_lab``) asks the server at the root at once: no probe of
``/kernel_lab/_stcore/health`` or ``host-config`` and no 404 (streamlit/streamlit#7074; ``serve.py``)."""

from __future__ import annotations

from tests.e2e.dom import wait_for_app


def test_a_page_opened_at_its_own_address_asks_the_root_and_gets_no_404(browser, server):
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    failed, stcore = [], []
    page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    page.on("request", lambda r: stcore.append(r.url.removeprefix(server)) if "/_stcore/" in r.url else None)
    try:
        page.goto(f"{server}/kernel_lab")
        page.get_by_role("heading", name="Kernel Lab").first.wait_for(timeout=60_000)
        wait_for_app(page)
    finally:
        context.close()
    assert failed == []
    assert "/_stcore/health" in stcore and not any(u.startswith("/kernel_lab/") for u in stcore), stcore


def test_the_chart_library_is_evaluated_while_idle_and_streamlit_uses_that_copy(page, server):
    from app.server import warm_charts

    name = warm_charts.chunk()
    loads = []
    page.on("request", lambda r: loads.append(r.url) if r.url.endswith(f"/{name}") else None)
    page.goto(f"{server}/inside")  # no model yet: a page without a chart, whose charts come after a click
    wait_for_app(page)
    page.wait_for_function(f"() => window.{warm_charts.FLAG} === 'done'", timeout=60_000)
    assert len(loads) == 1, loads
    page.get_by_role("link", name="Architecture").first.click()  # inside the app: the same document
    page.get_by_text("The receptive field on a picture, layer by layer").click()  # the page's one plotly chart
    page.locator(".js-plotly-plot .main-svg").first.wait_for(timeout=60_000)  # drawn
    assert len(loads) == 1, f"Streamlit loaded its own copy of the chart module: {loads}"
