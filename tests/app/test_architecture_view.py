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
