"""Architecture page in a real browser: load a preset, read the table; open a link with an impossible stack."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.e2e.conftest import SHOTS
from tests.e2e.dom import wait_for_app


def open_architecture(page: Page, server: str, query: str = "") -> None:
    page.goto(server + "/")  # the app's entry first, so st.navigation owns the page list
    wait_for_app(page)
    page.goto(f"{server}/architecture{query}")
    page.wait_for_selector(f"{TABLE} table, [data-testid='stAlertContentError']", timeout=90_000)
    wait_for_app(page)
    if page.locator(TABLE).count():  # every column of the table (a group of them by default)
        page.locator('[data-testid="stRadio"]').get_by_text("All columns", exact=True).click()
        expect(page.locator(f"{TABLE} th").filter(has_text="How the params are counted")).to_be_visible()
        wait_for_app(page)


TABLE = ".st-key-an_table"  # the summary, an HTML table (st.table)


def table_cells(page: Page) -> list[str]:
    return [t.strip() for t in page.locator(f"{TABLE} td").all_text_contents()]


def wait_for_cells(page: Page, *texts: str) -> None:
    """Wait until the layer table holds a cell with each of these exact texts."""
    page.wait_for_function(
        """(wanted) => {
            const seen = new Set([...document.querySelectorAll('.st-key-an_table td')].map(td => td.textContent.trim()));
            return wanted.every(t => seen.has(t));
        }""",
        arg=list(texts),
    )


def test_load_lenet_and_read_the_table(page: Page, server: str) -> None:
    open_architecture(page, server)
    expect(page.get_by_text("93,322").first).to_be_visible()  # the course MNIST CNN is there by default
    page.locator('[data-testid="stSelectbox"]').filter(has_text="Start from a famous network").click()
    page.keyboard.type("LeNet")  # filtered: a long list's option may lie outside its scrolled window
    page.get_by_role("option", name="LeNet-5").click()
    page.get_by_role("button", name="Load", exact=True).click()
    expect(page.get_by_text("61,706").first).to_be_visible(timeout=60_000)
    wait_for_cells(page, "conv1 (Conv2d)", "6 × 28 × 28", "Total", "61,706")  # the new table, drawn
    cells = table_cells(page)
    assert "conv1 (Conv2d)" in cells and "6 × 28 × 28" in cells
    assert "(C_in·kh·kw + 1)·C_out = (1·5·5 + 1)·6 = 156" in cells
    assert "(C_in·kh·kw + 1)·C_out = (6·5·5 + 1)·16 = 2,416" in cells
    assert "(inputs + 1)·units = (120 + 1)·84 = 10,164" in cells
    total = cells.index("Total")
    assert cells[total + 2] == "61,706"  # '#', 'Layer (type)', 'Output shape' empty, then Params
    expect(page).to_have_url(re.compile(r"net=conv6-k5-tanh_avgpool2"))
    expect(page).to_have_url(re.compile(r"in=1x32x32"))
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "architecture_lenet.png"), full_page=True)


def test_link_with_impossible_stack_shows_the_layer_and_why(page: Page, server: str) -> None:
    net = "conv32-k5-relu_maxpool2_conv64-k5-relu_maxpool2_conv64-k5-relu_flatten_dense10"
    open_architecture(page, server, f"?in=1x28x28&net={net}")
    errors = page.locator('[data-testid="stAlertContentError"], .an-editor .an-error')  # the editor's, at the row
    expect(errors.filter(has_text="Layer 5 (Conv2d 64 filters 5x5, relu)").first).to_be_visible()
    expect(errors.filter(has_text="64x4x4").first).to_be_visible()
    expect(page.get_by_text("the part of the stack that works")).to_be_visible()
    text = " ".join(errors.all_inner_texts())
    assert "1 (Conv2d)" not in text
    assert "Traceback" not in page.content()
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "architecture_error.png"), full_page=True)


def test_a_named_network_survives_a_reload_and_a_second_tab_and_its_link_has_the_name(browser, server: str) -> None:
    first = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = first.new_page()
    open_architecture(page, server)
    page.locator('[data-testid="stSelectbox"]').filter(has_text="Start from a famous network").click()
    page.keyboard.type("LeNet")  # filtered: a long list's option may lie outside its scrolled window
    page.get_by_role("option", name="LeNet-5").click()
    page.get_by_role("button", name="Load", exact=True).click()
    expect(page.get_by_text("61,706").first).to_be_visible(timeout=60_000)
    name = page.get_by_label("Network name", exact=True)
    name.fill("Our LeNet")
    name.press("Enter")
    expect(page.get_by_role("heading", name="Summary: Our LeNet")).to_be_visible()
    expect(page).to_have_url(re.compile(r"name=Our(\+|%20)LeNet"))

    page.reload()  # the link holds the network and its name
    wait_for_app(page)
    expect(page.get_by_role("heading", name="Summary: Our LeNet")).to_be_visible(timeout=60_000)

    second = browser.new_context(viewport={"width": 1400, "height": 1000})  # same browser, bare link
    second.add_cookies(first.cookies())
    tab = second.new_page()
    open_architecture(tab, server)
    expect(tab.get_by_role("heading", name="Summary: Our LeNet")).to_be_visible()
    expect(tab.get_by_label("Network name", exact=True)).to_have_value("Our LeNet")
    expect(tab.get_by_text("61,706").first).to_be_visible()
    second.close()
    first.close()


def test_a_residual_network_is_summarised_and_train_this_network_opens_it_on_the_training_page(
    page: Page, server: str
) -> None:
    net = "cbn16-k3-same-relu_res16_res32-s2_res64-s2_gap_dense10"  # the ResNet-8 (28x28) preset
    open_architecture(page, server, f"?in=1x28x28&net={net}")
    expect(page.get_by_text("77,754").first).to_be_visible(timeout=60_000)
    wait_for_cells(page, "res1 (ResidualBlock)", "↳ conv1 (Conv2d)", "res2 (ResidualBlock)")
    assert "16·9·32 + 32·9·32 + 3·2·32 + 16·32 (1x1 projection) = 14,528" in " ".join(table_cells(page))
    page.get_by_role("link", name="Train this network on the Training page").click()
    expect(page).to_have_url(re.compile(r"/training\?.*model=architecture"), timeout=60_000)
    network = page.get_by_role("combobox", name="Network", exact=True)
    expect(network).to_have_value("My network from the Architecture page", timeout=90_000)
    expect(page.get_by_text(re.compile(r"outputs, [\d,]+ parameters")).first).to_be_visible(timeout=60_000)
    assert "Traceback" not in page.content()


def test_load_keeps_the_editors_widgets_and_edits_and_moves_after_it_work(page: Page, server: str) -> None:
    """Issue #15: a Load updates the editor's rows in place (the browser built every widget again, AlexNet's
    dozens, when each Load gave them fresh keys), and focus is kept."""
    open_architecture(page, server)
    filters = page.get_by_label("Filters", exact=True).first  # layer 1, a Conv2d in both networks
    expect(filters).to_have_value("32")
    filters.evaluate("el => { el.dataset.keptAcrossLoad = 'yes'; }")  # a mark a new widget would not carry
    page.locator('[data-testid="stSelectbox"]').filter(has_text="Start from a famous network").click()
    page.keyboard.type("LeNet")
    page.get_by_role("option", name="LeNet-5").click()
    page.get_by_role("button", name="Load", exact=True).click()
    expect(page.get_by_text("61,706").first).to_be_visible(timeout=60_000)
    kept = page.locator("input[data-kept-across-load='yes']")
    expect(kept).to_have_value("6")  # the same input, showing LeNet's 6 filters
    expect(kept).to_have_count(1)
    wait_for_app(page)
    kept.fill("8")  # an edit after the Load: (5·5 + 1)·8 = 208 parameters in layer 1
    kept.press("Enter")
    wait_for_cells(page, "(C_in·kh·kw + 1)·C_out = (1·5·5 + 1)·8 = 208")
    assert page.evaluate("() => document.activeElement.dataset.keptAcrossLoad") == "yes"  # focus stays in the input
    expect(page).to_have_url(re.compile(r"net=conv8-k5-tanh_avgpool2"), timeout=60_000)
    wait_for_app(page)
    page.get_by_role("button", name="Move layer 1 down", exact=True).click()  # a move: layer 1 (kept by Load) down
    expect(page).to_have_url(re.compile(r"net=avgpool2_conv8-k5-tanh"), timeout=60_000)
    wait_for_app(page)
    assert "Traceback" not in page.content()
