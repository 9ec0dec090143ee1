"""Architecture page, Load (issue #15): a Load keeps each editor row's uid (row i keeps its uid) and only changes
its values, so the browser updates its rows in place instead of building the editor again."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from app import state
from cnn_core import models
from tests.app.layer_editor import click, field, report, rows, set_field, set_type, types
from tests.app.test_architecture_page import metric, open_page

MNIST = "Course MNIST CNN (Keras notes)"


def row_keys(at: AppTest) -> list[int]:
    """The uid of every layer row, in page order (the browser keeps a row by it)."""
    return [r["uid"] for r in rows(at)]


def load(at: AppTest, name: str) -> AppTest:
    at.selectbox(key=state.AN_PRESET).set_value(name)
    at.button(key="an_load").click().run()
    assert not at.exception, at.exception
    return at


def test_load_keeps_every_row_and_its_widgets_and_shows_the_loaded_values() -> None:
    at = open_page()
    before = row_keys(at)
    set_field(at, 0, "filters", 16)
    assert metric(at, "Parameters") != "93,322"
    load(at, MNIST)  # the same network again: the edit is undone, in the same widget
    assert row_keys(at) == before
    assert field(at, 0, "filters")["value"] == 32
    assert metric(at, "Parameters") == "93,322"
    assert at.session_state[state.AN_MODEL_CONFIG] == models.PRESETS[MNIST]


def test_a_longer_network_keeps_the_rows_it_had_and_adds_the_rest() -> None:
    at = open_page()
    before = row_keys(at)
    load(at, "AlexNet")
    after = row_keys(at)
    n = len(models.PRESETS["AlexNet"].layers)
    assert len(after) == n > len(before) and after[: len(before)] == before
    assert len(set(after)) == n  # the new rows have keys of their own
    assert types(at) == [models.PRESETS["AlexNet"].layers[i].editor_variant() for i in range(n)]
    assert metric(at, "Parameters") == "62,378,344"
    first = models.PRESETS["AlexNet"].layers[0]
    assert field(at, 0, "filters")["value"] == first.filters == 96  # in row 1, kept
    load(at, "LeNet-5")  # and back to a shorter one: its rows keep the first keys
    assert row_keys(at) == after[: len(models.PRESETS["LeNet-5"].layers)]
    assert metric(at, "Parameters") == "61,706"
    assert at.session_state[state.AN_MODEL_CONFIG] == models.PRESETS["LeNet-5"]


def test_a_row_whose_type_changes_on_load_shows_the_new_types_settings() -> None:
    at = open_page()  # the course CNN: Conv2d, MaxPool, Conv2d, MaxPool, Conv2d, Flatten, Dense, Dense
    load(at, "LeNet-5")  # row 2 stays a pooling layer, but average: its own widgets, LeNet's values
    layers = models.PRESETS["LeNet-5"].layers
    assert types(at) == [s.editor_variant() for s in layers]
    assert [f["name"] for f in rows(at)[1]["fields"]] == ["size", "stride"]
    assert metric(at, "Parameters") == "61,706"
    assert at.query_params["net"].startswith("conv6-k5-tanh_avgpool2")
    assert at.number_input(key=state.AN_IN_H).value == 32


def test_edits_moves_removes_and_adds_after_a_load_work() -> None:
    at = load(open_page(), "LeNet-5")
    set_field(at, 0, "filters", 8)  # conv1: 6 -> 8 filters
    conv1, conv2 = (5 * 5 + 1) * 8, (8 * 5 * 5 + 1) * 16
    assert metric(at, "Parameters") == f"{conv1 + conv2 + 48_120 + 10_164 + 850:,}"
    click(at, "down", 0)  # conv1 below its pooling layer: 32 -> 16 -> 12
    assert at.query_params["net"].startswith("avgpool2_conv8-k5-tanh")
    click(at, "up", 1)  # and back
    assert metric(at, "Parameters") == f"{conv1 + conv2 + 48_120 + 10_164 + 850:,}"
    n = len(row_keys(at))
    click(at, "remove", n - 1)  # the last Dense
    assert len(row_keys(at)) == n - 1
    at.selectbox(key=state.AN_ADD_TYPE).set_value("Dense")
    at.button(key="an_add").click().run()
    assert not at.exception, at.exception
    assert len(set(row_keys(at))) == n  # the added row has a key of its own
    set_type(at, 0, "MaxPool")  # a type change: the new type's defaults
    assert at.query_params["net"].startswith("maxpool2_avgpool2")
    load(at, "LeNet-5")  # Load undoes it all
    assert metric(at, "Parameters") == "61,706"
    assert at.session_state[state.AN_MODEL_CONFIG] == models.PRESETS["LeNet-5"]


def test_picking_a_network_changes_nothing_until_load() -> None:
    at = open_page()
    at.selectbox(key=state.AN_PRESET).set_value("AlexNet")
    at.run()  # a rerun by anything else does not load it
    assert metric(at, "Parameters") == "93,322"
    at.button(key="an_load").click().run()
    assert metric(at, "Parameters") == "62,378,344"


def test_the_editor_refuses_what_a_browser_could_send_wrongly() -> None:
    """Edits the page never sends as such (a hand-made or stale report) change nothing, and a number out of the
    field's range is brought into it: never a traceback."""
    at = open_page()
    before = at.session_state[state.AN_MODEL_CONFIG]
    uid = rows(at)[0]["uid"]
    for bad in (
        ["set", 0, "filters", "many"],  # not a number
        ["set", 0, "filters", True],  # a bool is no count
        ["set", 0, "warp", 3],  # no such field
        ["set", 0, "padding", 99],  # no such choice
        ["type", 0, "Transformer"],  # no such type
        ["jump", 0],  # no such operation
    ):
        at = report(at, bad[0], 0, *bad[2:])
        assert at.session_state[state.AN_MODEL_CONFIG] == before, bad
    at = report(at, "set", 0, "kernel", 10_000)  # clamped into the editor's range (1..64): too big to fit
    assert field(at, 0, "kernel")["value"] == 64
    at = report(at, "set", 0, "kernel", 2.6)  # whole numbers only: 3
    assert field(at, 0, "kernel")["value"] == 3 and rows(at)[0]["uid"] == uid
    assert at.session_state[state.AN_MODEL_CONFIG] == before
