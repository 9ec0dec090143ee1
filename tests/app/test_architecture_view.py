"""The Architecture page's cached results: the summary on the meta device equals the CPU's, the caches are
keyed by the network's link, and the table's cells are written as the page shows them."""

from __future__ import annotations

import base64
import html
import re

import pytest

from app.architecture import view
from app.plots import diagram
from cnn_core import models
from cnn_core.summary import summarize

SMALL = ["Course MNIST CNN (Keras notes)", "Course CIFAR-10 CNN with batch norm", "ResNet-8 (28x28)",
         "Small inception net (28x28)"]  # fmt: skip


@pytest.mark.parametrize("name", SMALL)
def test_the_summary_worked_out_on_the_meta_device_is_the_cpus(name: str) -> None:
    config = models.PRESETS[name]
    assert view.summary_of(config) == summarize(models.build(config), config.input_shape)


def test_the_cache_key_is_the_link_and_changes_with_any_setting() -> None:
    config = models.PRESETS["LeNet-5"]
    key = view.link_key(config)
    assert key == "in=1x32x32&net=" + models.to_query(config)["net"]
    assert view.link_key(models.ModelConfig("Our LeNet", config.input_shape, config.layers)) == key  # name aside
    assert view.link_key(models.ModelConfig(config.name, (1, 28, 28), config.layers)) != key
    assert view.diagram_of(models.plan(config), 1.0) is view.diagram_of(models.plan(config), 1.0)  # built once
    assert view.diagram_of(models.plan(config), 1.5) is not view.diagram_of(models.plan(config), 1.0)


def test_the_table_writes_counts_with_separators_and_leaves_a_blocks_memory_blank() -> None:
    config = models.PRESETS["ResNet-8 (28x28)"]
    plan = models.plan(config)
    frame = view.summary_frame(view.summary_of(config), plan)
    html = view.summary_styler(frame).to_html()
    assert "77,754" in html and "77754" not in html  # the total
    assert frame["Memory (KiB)"].isna().any()  # the block rows have no memory of their own ...
    assert "nan" not in html and "None" not in html  # ... and show a blank cell


def test_a_long_networks_diagram_comes_in_parts_that_name_every_map_once() -> None:
    plan = models.plan(models.PRESETS["GoogLeNet (ImageNet, for reading)"])
    blocks = view.diagram_blocks(plan)
    parts = diagram.diagram_parts(blocks, 1.5)
    assert [len(p.labels) for p in parts] == [5, 5, 4, 5] and len(blocks) == 19
    named = [t.lines[0] for p in parts for t in p.labels]
    assert named == [b[0] for b in blocks]  # each map's label once, in order
    assert all(p.font >= 16 for p in parts)  # on a projector
    assert len({round(p.height / (p.y_range[1] - p.y_range[0]), 6) for p in parts}) == 1  # drawn to one scale
    titles = [t for p in parts for t in p.titles]
    assert sum(t.startswith("branch ") for t in titles) == 9 * 4  # every inception branch can still be pointed at
    page = view.diagram_of(plan, 1.5)
    assert page.count('<figure class="an-dg"') == 4 and page.count('class="an-dg-label"') == 19
    assert all(f'title="{html.escape(t)}"' in page for t in titles)
    assert view.diagram_of(models.plan(models.PRESETS["LeNet-5"]), 1.0).count("<figure") == 1  # a short one: one


def test_a_part_that_starts_with_a_residual_block_takes_its_shortcut_from_over_its_left_edge() -> None:
    plan = models.plan(models.PRESETS["ResNet-18 (ImageNet, for reading)"])
    parts = diagram.diagram_parts(view.diagram_blocks(plan))
    assert [p.labels[0].lines[0] for p in parts] == ["Input", "4. Residual", "9. Residual"]
    for p in parts[1:]:
        first = next(s for s in p.shapes if s.arc)
        (x_start, y_start), (x_end, _) = first.line[0], first.line[-1]
        assert x_start == pytest.approx(p.x_range[0])  # it comes in over the edge, from the map of the part above
        assert y_start == max(y for _, y in first.line)  # as the second half of an arc: its top stands on the edge
        assert x_end > 0 and "part above" in first.title
        assert all(s.line[0][0] >= 0 for s in p.shapes if s.arc and s is not first)  # the others start on a map
    opening = next(s for s in parts[0].shapes if s.arc)
    assert opening.line[0][0] >= 0 and "part above" not in opening.title  # the first part has its map before


def test_the_diagram_is_a_picture_of_its_boxes_under_the_texts_a_page_keeps() -> None:
    """st.html keeps no inline <svg> (its sanitiser's HTML profile drops it, and the figure came out as bare
    text): the boxes travel as an SVG picture, the labels, notes and tooltips as plain HTML."""
    plan = models.plan(models.PRESETS["ResNet-8 (28x28)"])
    page = view.diagram_of(plan, 1.0)
    assert "<svg" not in page and page.count('<img src="data:image/svg+xml;base64,') == 1
    svg = base64.b64decode(re.search(r"base64,([^\"]+)", page).group(1)).decode()
    assert svg.startswith('<svg xmlns="http://www.w3.org/2000/svg" viewBox=') and svg.count("<polygon") == 5 * 3 + 2  # five boxes of three faces, two bars
    assert svg.count('stroke-dasharray="2 3"') == 3  # the three shortcuts' arcs
    assert "+ x" in page and page.count("+ 1×1") == 2  # each shortcut named
    lefts = [float(v) for v in re.findall(r'class="an-dg-label" style="position: absolute; left: ([\d.]+)%', page)]
    assert lefts == sorted(lefts) and 0 <= lefts[0] and lefts[-1] <= 100  # left to right, inside the figure
    assert 'alt="The maps, in order: Input 1×28×28; 1. Conv-BN 16×28×28;' in page  # what a screen reader hears
