"""Networks with blocks train: through ``cnn_core.training.train`` and through the Training page, reached by
the Architecture page's "Train this network" link with the Architecture network chosen."""

from __future__ import annotations

import dataclasses
import re
import time
from pathlib import Path
from urllib.parse import parse_qsl

import pytest
from streamlit.testing.v1 import AppTest

from app import state
from app import training as tr
from cnn_core import models, training
from cnn_core.data import synthetic_shapes
from tests.helpers import open_app_page, wait_until_finished

ROOT = Path(__file__).resolve().parents[2]
SHAPES = "Shapes (generated: lines, circles, squares, triangles, crosses)"


@pytest.mark.parametrize("name", ["ResNet-8 (28x28)", "Small inception net (28x28)"])
def test_a_block_network_trains_a_few_steps_in_the_core(name: str) -> None:
    data = synthetic_shapes(n_per_class=24, size=28)
    config = models.with_num_classes(
        dataclasses.replace(models.PRESETS[name], input_shape=data.input_shape), data.num_classes
    )
    model = models.build(config)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    # schedule "none": with only a few steps, torch's OneCycleLR divides by zero (see the report)
    cfg = training.TrainConfig(
        epochs=1, batch_size=32, schedule="none", device="cpu", eval_samples=64, evals_per_epoch=1
    )
    events = list(training.train(model, data, cfg, checkpoint_every_s=None))
    finished = events[-1]
    assert isinstance(finished, training.RunFinished) and finished.reason == "completed", finished
    assert finished.test_acc is not None and finished.step >= 3
    block = "res1.conv1.weight" if name.startswith("ResNet") else "inception1.b3x3.conv.weight"
    assert not model.state_dict()[block].equal(before[block])  # the weights inside the block learned


def open_architecture() -> AppTest:
    return open_app_page("app_pages/architecture.py")


def follow_train_link(at: AppTest) -> AppTest:
    """What a click on "Train this network" does: the Training page with the link's query string."""
    link = next(p for p in at.get("page_link") if p.proto.label == "Train this network on the Training page")
    assert link.proto.page == "training"
    at.query_params.clear()
    for k, v in parse_qsl(link.proto.query_string):
        at.query_params[k] = v
    at.switch_page("app_pages/training.py")
    at.run()
    assert not at.exception, at.exception
    return at


@pytest.mark.parametrize(("name", "train"), [("ResNet-8 (28x28)", True), ("Small inception net (28x28)", True)])
def test_train_this_network_opens_training_with_it_chosen_and_trains(name: str, train: bool) -> None:
    """Both are chosen, fitted and trained on the page for a few steps, then stopped."""
    at = open_architecture()
    at.selectbox(key=state.AN_PRESET).set_value(name)
    at.button(key="an_load").click().run()
    total = models.plan(models.PRESETS[name]).total_params
    assert next(m.value for m in at.metric if m.label == "Parameters") == f"{total:,}"
    at = follow_train_link(at)
    assert at.selectbox(key=state.TR_MODEL).value == tr.FROM_ARCHITECTURE
    at.selectbox(key="tr_source").set_value(SHAPES).run()
    assert at.selectbox(key=state.TR_MODEL).value == tr.FROM_ARCHITECTURE  # a rerun keeps it
    captions = " ".join(c.value for c in at.caption)
    n_classes = int(re.search(r"(\d+) classes", captions).group(1))
    fitted = models.plan(models.with_num_classes(models.PRESETS[name], n_classes)).total_params
    assert f"{n_classes} outputs, {fitted:,} parameters" in captions
    if not train:
        return
    at.number_input(key="tr_epochs").set_value(1)
    at.button(key="tr_start").click().run()
    assert not at.exception, at.exception
    job = at.session_state[state.TR_JOB]
    deadline = time.monotonic() + 120
    while not any(isinstance(e, training.StepEvent) for e in job.history):  # a few steps, then Stop
        assert job.active and time.monotonic() < deadline, "no training step in time"
        time.sleep(0.25)
    at.button(key=state.TR_STOP).click().run()
    wait_until_finished(at, timeout=120)
    assert not at.exception, at.exception
    bundle = at.session_state[state.TR_BUNDLE]
    finished = next(e for e in bundle.events if isinstance(e, training.RunFinished))
    assert bundle.finished and finished.step >= 1 and finished.test_acc is not None


def test_the_link_is_honoured_once_and_the_learner_can_pick_another_network() -> None:
    at = open_architecture()
    at.selectbox(key=state.AN_PRESET).set_value("Plain-8 (28x28)")
    at.button(key="an_load").click().run()
    at = follow_train_link(at)
    assert at.selectbox(key=state.TR_MODEL).value == tr.FROM_ARCHITECTURE
    at.selectbox(key=state.TR_MODEL).set_value("LeNet-5").run()
    assert at.selectbox(key=state.TR_MODEL).value == "LeNet-5"  # the link does not take it back
    at.selectbox(key="tr_source").set_value(SHAPES).run()
    assert at.selectbox(key=state.TR_MODEL).value == "LeNet-5"
