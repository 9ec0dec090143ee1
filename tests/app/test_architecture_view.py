"""The Architecture page's cached results: the summary on the meta device equals the CPU's, the caches are
keyed by the network's link, and the table's cells are written as the page shows them."""

from __future__ import annotations

import pytest

from app.architecture import view
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


def test_a_long_networks_diagram_comes_in_parts_of_a_few_traces_that_name_every_map_once() -> None:
    plan = models.plan(models.PRESETS["GoogLeNet (ImageNet, for reading)"])
    blocks = view.diagram_blocks(plan)
    parts = view.diagram_of(plan, 1.5)
    assert [len(p.layout.annotations) for p in parts] == [5, 5, 4, 5] and len(blocks) == 19
    named = [a.text.split("</b>")[0].removeprefix("<b>") for p in parts for a in p.layout.annotations]
    assert named == [b[0] for b in blocks]  # each map's label once, in order
    assert all(len(p.data) <= 12 for p in parts)  # one trace per colour and face, not three per box (161 in all)
    assert all(a.font.size >= 16 for p in parts for a in p.layout.annotations)  # on a projector
    hover = [t for p in parts for tr in p.data if tr.hovertext for t in tr.hovertext]
    assert sum(t.startswith("branch ") for t in hover) == 9 * 4  # every inception branch can still be pointed at
    assert len(view.diagram_of(models.plan(models.PRESETS["LeNet-5"]), 1.0)) == 1  # a short one: one figure
