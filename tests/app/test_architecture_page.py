"""Architecture page through streamlit's AppTest: build, edit and load networks; check the numbers shown."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from app import state
from app.architecture import DEFAULTS, TYPES
from cnn_core import models
from cnn_core.models.base import settings
from tests.app.layer_editor import click, editor_error, field, rows, set_field, set_type, shown_value, types
from tests.helpers import FreshWorkspace

ROOT = Path(__file__).resolve().parents[2]


def open_page(query: dict[str, str] | None = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=90)
    for k, v in (query or {}).items():
        at.query_params[k] = v
    at.switch_page("app_pages/architecture.py")
    at.session_state["an_columns"] = "All columns"  # the table's every column (a group of them by default)
    at.run()
    assert not at.exception, at.exception
    return at


def metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def table_total(at: AppTest) -> int:
    frame = at.table[0].value
    return int(frame.loc[frame["Layer (type)"] == "Total", "Params"].iloc[0])


def test_default_network_shows_course_totals_and_link() -> None:
    at = open_page()
    assert metric(at, "Parameters") == "93,322"
    assert table_total(at) == 93_322
    frame = at.table[0].value
    conv1 = frame[frame["Layer (type)"] == "conv1 (Conv2d)"].iloc[0]
    assert conv1["Output shape"] == "32 × 26 × 26" and conv1["Params"] == 320
    assert conv1["How the params are counted"] == "(C_in·kh·kw + 1)·C_out = (1·3·3 + 1)·32 = 320"
    assert conv1["MACs"] == 194_688 and conv1["Receptive field"] == "3"
    assert at.query_params["net"] == ("conv32-k3-relu_maxpool2_conv64-k3-relu_maxpool2_conv64-k3-relu_flatten"
                                      "_dense64-relu_dense10")  # fmt: skip
    assert at.session_state[state.AN_MODEL_CONFIG] == models.PRESETS["Course MNIST CNN (Keras notes)"]
    assert any("nn.Conv2d(1, 32, kernel_size=3)" in c.value for c in at.code)
    working = "floor((28 + 2*0 - 1*(3 - 1) - 1) / 1) + 1"
    assert not any(working in c.value for c in at.code)  # "How each number is computed" is closed: not worked out
    at.session_state["an_how_open"] = True  # the learner opens it
    at.run()
    assert any(working in c.value for c in at.code)  # the shape working
    at.toggle(key="an_keras_order").set_value(True).run()
    frame = at.table[0].value
    assert frame.loc[frame["Layer (type)"] == "conv1 (Conv2d)", "Output shape"].iloc[0] == "26 × 26 × 32"


@pytest.mark.parametrize(
    ("name", "total"),
    [
        ("Course MNIST CNN, two 32-filter convolutions", "305,194"),
        ("Course CIFAR-10 CNN", "315,722"),
        ("Course CIFAR-10 CNN with batch norm", "293,034"),
        ("LeNet-5", "61,706"),
        ("AlexNet", "62,378,344"),
        ("TinyVGG (CNN Explainer)", "19,920"),
    ],
)
def test_load_preset(name: str, total: str) -> None:
    at = open_page()
    at.selectbox(key="an_preset").set_value(name)
    at.button(key="an_load").click().run()
    assert not at.exception
    assert metric(at, "Parameters") == total
    assert at.session_state[state.AN_MODEL_CONFIG] == models.PRESETS[name]
    assert at.number_input(key="an_in_h").value == models.PRESETS[name].input_shape[1]
    if "batch norm" in name:
        assert any("Total params: 293,930" in i.value for i in at.info)  # Keras adds the running statistics


def test_edit_filters_and_input_size() -> None:
    at = open_page()
    set_field(at, 0, "filters", 16)
    # conv1 (1*9+1)*16 = 160, conv2 (16*9+1)*64 = 9,280, rest unchanged
    assert metric(at, "Parameters") == f"{160 + 9_280 + 36_928 + 36_928 + 650:,}"
    at.number_input(key="an_in_h").set_value(32).run()
    at.number_input(key="an_in_w").set_value(32).run()
    # 32 -> 30 -> 15 -> 13 -> 6 -> 4: Flatten gives 64*4*4 = 1,024 inputs to Dense 64
    assert metric(at, "Parameters") == f"{160 + 9_280 + 36_928 + (1024 + 1) * 64 + 650:,}"
    assert at.caption[0].value.startswith("**Your own network** (edited, or opened from a link).")


def test_remove_flatten_gives_in_place_error_and_keeps_last_valid_config() -> None:
    at = open_page()
    click(at, "remove", 5)  # the Flatten layer (6th)
    # said once, in place at the layer (issue #13 saw one error printed three times)
    assert not at.error and editor_error(at).startswith("row 6: Layer 6 (Dense 64, relu)"), editor_error(at)
    assert "64x3x3 feature map" in editor_error(at)
    assert any("Layer 6 has an error message above" in c.value for c in at.caption)
    assert at.session_state[state.AN_MODEL_CONFIG] == models.PRESETS["Course MNIST CNN (Keras notes)"]
    assert table_total(at) == 320 + 18_496 + 36_928  # the part that works: layers 1-5


def test_move_and_add_layers() -> None:
    at = open_page()
    click(at, "up", 5)  # Flatten moves above conv3
    assert "row 6: Layer 6 (Conv2d 64 filters 3x3, relu)" in editor_error(at) and "flat vector" in editor_error(at)
    click(at, "down", 4)  # and back
    assert not at.error and editor_error(at) is None and metric(at, "Parameters") == "93,322"
    at.selectbox(key="an_add_type").set_value("BatchNorm")
    at.number_input(key="an_add_after_8").set_value(1)
    at.button(key="an_add").click().run()
    assert not at.exception
    assert metric(at, "Parameters") == f"{93_322 + 64:,}"
    frame = at.table[0].value
    assert "bn1 (BatchNorm2d)" in list(frame["Layer (type)"])
    assert any("Total params: 93,450" in i.value for i in at.info)
    assert at.query_params["net"].startswith("conv32-k3-relu_bn_maxpool2")


def test_change_layer_type() -> None:
    at = open_page()
    set_type(at, 1, "AvgPool")  # layer 2: MaxPool -> AvgPool, same shapes
    assert metric(at, "Parameters") == "93,322"
    assert "avgpool1 (AvgPool2d)" in list(at.table[0].value["Layer (type)"])
    set_type(at, 0, "Dense")  # Dense on the 28x28 input: refused, in place
    assert "row 1: Layer 1 (Dense 64, relu)" in editor_error(at) and "Flatten" in editor_error(at)
    assert [f["name"] for f in rows(at)[0]["fields"]] == ["units", "activation"]  # the new type's settings


def test_shared_link_opens_its_network() -> None:
    at = open_page({"in": "3x32x32", "net": "conv8-k3-s2-same-relu_gap_dense5"})
    # 3x32x32 -> same, stride 2 -> 8x16x16 -> GAP -> 8 -> Dense 5
    assert metric(at, "Parameters") == f"{(3 * 9 + 1) * 8 + (8 + 1) * 5:,}"
    frame = at.table[0].value
    assert frame.loc[frame["Layer (type)"] == "conv1 (Conv2d)", "Output shape"].iloc[0] == "8 × 16 × 16"
    # the long formulas last: at 1280x800 they pushed the receptive field and jump out of sight
    assert list(frame.columns)[-3:] == ["Receptive field", "Jump", "How the params are counted"]
    assert at.session_state[state.AN_MODEL_CONFIG].layers[0] == models.Conv2dSpec(8, 3, 2, "same", 1, "relu")


def test_bad_link_is_explained_and_falls_back() -> None:
    at = open_page({"in": "1x28x28", "net": "conv32-k3_warp9"})
    assert any("cannot be read" in w.value and "warp9" in w.value for w in at.warning)
    assert metric(at, "Parameters") == "93,322"


def test_link_with_impossible_values_is_explained_not_a_traceback() -> None:
    at = open_page({"in": "1x0x28", "net": "conv32-k3-s0"})
    assert any("input height must be at least 1" in w.value for w in at.warning)
    assert at.number_input(key="an_in_h").value == 1
    # a 1-pixel-high input cannot take a 3x3 kernel: the layer says so in place
    assert "row 1: Layer 1 (Conv2d 32 filters 3x3)" in editor_error(at) and "does not fit" in editor_error(at)
    assert shown_value(at, 0, "stride") == 1  # stride 0 brought into the editor's range


def test_link_with_too_small_input_for_the_network() -> None:
    at = open_page({"in": "1x8x8", "net": "conv8-k3-relu_maxpool2_conv8-k3-relu_maxpool2_flatten_dense10"})
    assert any("The network in the link does not work as it is" in w.value for w in at.warning)
    assert not any("MaxPool" in w.value for w in at.warning)  # the reason is not repeated in the warning
    assert not at.error and editor_error(at).startswith("row 4: Layer 4 (MaxPool 2x2)")


def test_build_from_an_empty_stack() -> None:
    at = open_page({"in": "1x28x28", "net": ""})
    assert rows(at) == []  # the editor says "No layers yet" itself
    assert state.AN_MODEL_CONFIG not in at.session_state
    for kind in ("Flatten", "Dense"):
        at.selectbox(key="an_add_type").set_value(kind)
        at.button(key="an_add").click().run()
        assert not at.exception
    assert metric(at, "Parameters") == f"{(784 + 1) * 64:,}"
    assert at.session_state[state.AN_MODEL_CONFIG].layers == (models.FlattenSpec(), models.DenseSpec(64, "relu"))


def test_network_survives_a_visit_to_another_page() -> None:
    at = open_page()
    at.selectbox(key="an_preset").set_value("LeNet-5")
    at.button(key="an_load").click().run()
    set_field(at, 0, "filters", 8)
    expected = metric(at, "Parameters")
    assert expected != "61,706"
    at.switch_page("app_pages/home.py").run()
    at.switch_page("app_pages/architecture.py").run()
    assert not at.exception
    assert metric(at, "Parameters") == expected
    assert at.number_input(key="an_in_h").value == 32
    assert at.selectbox(key="an_preset").value == "LeNet-5"


def test_every_layer_type_can_be_added_and_shows_the_widgets_its_fields_declare() -> None:
    at = open_page({"in": "1x28x28", "net": ""})
    for kind in TYPES:
        at.selectbox(key=state.AN_ADD_TYPE).set_value(kind)
        at.button(key="an_add").click().run()
        assert not at.exception, at.exception
    assert types(at) == TYPES
    for pos, kind in enumerate(TYPES):
        expected = [(f.name, s.label) for f, s in settings(DEFAULTS[kind]) if s.editor]
        assert [(f["name"], f["label"]) for f in rows(at)[pos]["fields"]] == expected, kind
        assert rows(at)[pos]["note"] == ("" if expected else DEFAULTS[kind].editor_help), kind
    assert field(at, 0, "activation")["label"] == "Activation" and field(at, 1, "stride")["label"] == "Stride"
    assert field(at, 1, "stride")["options"][0] == "= window"  # a None choice by its label
    set_field(at, TYPES.index("Dropout"), "p", 0.25)
    net = at.query_params["net"]
    assert net.startswith("conv32-k3-relu_maxpool2_avgpool2_bn_dropout0.25_flatten_gap_dense64-relu_act-relu"), net


# --- the workspace: the network being built is kept; the link holds its name -------------------


class Workspace(FreshWorkspace):
    """This page's view of a learner's fresh workspace."""

    def kept(self) -> models.ModelConfig | None:
        data = self.store.get_item(self.id, "network")
        return None if data is None else models.from_dict(data)


@pytest.fixture
def workspace(monkeypatch, tmp_path) -> Workspace:
    return Workspace(monkeypatch, tmp_path / "state")


def _summary_title(at: AppTest) -> str:
    return next(h.value for h in at.subheader if h.value.startswith("Summary: "))


def test_a_fresh_workspace_keeps_nothing_until_the_network_changes(workspace) -> None:
    at = open_page()
    at.toggle(key="an_keras_order").set_value(True).run()  # a view setting, not a change to the network
    assert workspace.kept() is None
    assert at.text_input(key=state.AN_NAME).value == ""
    assert _summary_title(at) == "Summary: Course MNIST CNN (Keras notes)"
    assert "name" not in at.query_params


def test_the_network_is_saved_on_every_valid_change_and_found_by_a_new_session(workspace) -> None:
    at = open_page()
    at.selectbox(key="an_preset").set_value("LeNet-5")
    at.button(key="an_load").click().run()
    assert workspace.kept() == models.PRESETS["LeNet-5"]
    set_field(at, 0, "filters", 8)
    expected = metric(at, "Parameters")
    kept = workspace.kept()
    assert kept is not None and kept.layers[0].filters == 8 and kept.input_shape == (1, 32, 32)
    again = open_page()  # a reload, a second tab, a restart: a new session of the same workspace
    assert metric(again, "Parameters") == expected
    assert again.number_input(key="an_in_h").value == 32
    assert again.session_state[state.AN_MODEL_CONFIG] == kept
    workspace.id = "learner-b"  # another learner starts from the course network
    assert metric(open_page(), "Parameters") == "93,322"


def test_an_invalid_edit_is_not_saved(workspace) -> None:
    at = open_page()
    set_field(at, 0, "filters", 16)
    good = workspace.kept()
    assert good is not None and good.layers[0].filters == 16
    click(at, "remove", 5)  # remove Flatten: Dense on a feature map is refused
    assert "Flatten" in editor_error(at)
    assert workspace.kept() == good
    again = open_page()
    assert again.session_state[state.AN_MODEL_CONFIG] == good


def test_the_network_name_is_kept_shown_and_in_the_link(workspace) -> None:
    at = open_page()
    at.text_input(key=state.AN_NAME).input("  My   tiny\tnet ").run()
    assert _summary_title(at) == "Summary: My tiny net"
    assert at.query_params["name"] in ("My tiny net", ["My tiny net"])
    assert workspace.kept().name == "My tiny net"
    assert at.session_state[state.AN_MODEL_CONFIG].name == "My tiny net"
    at.switch_page("app_pages/home.py").run()
    at.switch_page("app_pages/architecture.py").run()
    assert at.text_input(key=state.AN_NAME).value == "My tiny net"
    again = open_page()
    assert again.text_input(key=state.AN_NAME).value == "My tiny net"
    assert _summary_title(again) == "Summary: My tiny net"
    again.button(key="an_load").click().run()  # Load starts again from the preset, under its own name
    assert again.text_input(key=state.AN_NAME).value == ""
    assert _summary_title(again) == "Summary: Course MNIST CNN (Keras notes)"
    assert "name" not in again.query_params


def test_a_link_with_a_name_opens_the_named_network_and_keeps_the_saved_one_until_a_change(workspace) -> None:
    workspace.store.put_item(workspace.id, "network", "", models.to_dict(models.PRESETS["LeNet-5"]))
    at = open_page({"in": "3x32x32", "net": "conv8-k3-s2-same-relu_gap_dense5", "name": "Tiny RGB net"})
    assert _summary_title(at) == "Summary: Tiny RGB net"
    assert at.text_input(key=state.AN_NAME).value == "Tiny RGB net"
    assert at.query_params["name"] in ("Tiny RGB net", ["Tiny RGB net"])
    assert workspace.kept() == models.PRESETS["LeNet-5"]
    set_field(at, 0, "filters", 4)
    kept = workspace.kept()
    assert kept.name == "Tiny RGB net" and kept.layers[0].filters == 4 and kept.input_shape == (3, 32, 32)


def test_a_link_without_a_network_opens_the_saved_one(workspace) -> None:
    workspace.store.put_item(workspace.id, "network", "", models.to_dict(models.PRESETS["LeNet-5"]))
    at = open_page({"name": "ignored without a network"})
    assert _summary_title(at) == "Summary: LeNet-5"
    assert at.selectbox(key="an_preset").value == "LeNet-5"
    assert metric(at, "Parameters") == "61,706"


def test_a_damaged_saved_network_is_a_sentence_and_a_fresh_start(workspace) -> None:
    workspace.store.put_item(workspace.id, "network", "", {"name": "x", "input_shape": [1, 28], "layers": []})
    at = open_page()
    assert [t.value for t in at.toast] == [
        "The network saved in your workspace could not be read, so the page starts afresh."
    ]
    assert metric(at, "Parameters") == "93,322"


def test_a_store_that_cannot_write_is_a_sentence_once_and_the_network_stays(workspace, monkeypatch) -> None:
    from app.workspace import StoreError

    def refuse(*_args, **_kwargs):
        raise StoreError("Your work could not be saved: the server's disk is full.")

    monkeypatch.setattr(workspace.store, "put_item", refuse)
    at = open_page()
    set_field(at, 0, "filters", 16)
    assert [t.value for t in at.toast] == ["Your work could not be saved: the server's disk is full."]
    set_field(at, 0, "filters", 8)
    assert not at.toast  # told once
    assert at.session_state[state.AN_MODEL_CONFIG].layers[0].filters == 8


# --- blocks: residual and inception networks built, summarised, drawn and refused ---------------------


def test_a_residual_block_added_in_the_editor_is_summarised_and_a_bad_shortcut_is_a_sentence() -> None:
    at = open_page()
    at.selectbox(key=state.AN_ADD_TYPE).set_value("Residual block")
    at.number_input(key="an_add_after_8").set_value(1)  # after conv1: 32x26x26 in, 64 filters: a 1x1 projection
    at.button(key="an_add").click().run()
    assert not at.exception, at.exception
    block = 32 * 9 * 64 + 64 * 9 * 64 + 3 * 2 * 64 + 32 * 64  # two 3x3 convs, three batch norms, the projection
    conv2 = (64 * 9 + 1) * 64  # conv2 now takes 64 channels instead of 32
    assert metric(at, "Parameters") == f"{93_322 + block + conv2 - 18_496:,}" == f"{table_total(at):,}"
    frame = at.table[0].value
    row = frame[frame["Layer (type)"] == "res1 (ResidualBlock)"].iloc[0]
    assert row["#"] == "2" and row["Params"] == block and row["Output shape"] == "64 × 26 × 26"
    assert row["How the params are counted"].endswith(f"(1x1 projection) = {block:,}")
    assert row["Receptive field"] == "7"  # 3 after conv1, then two 3x3 convolutions: 3 + 2 + 2
    assert (
        list(frame["Layer (type)"]).index("↳ conv1 (Conv2d)")
        == list(frame["Layer (type)"]).index(row["Layer (type)"]) + 1
    )
    assert at.query_params["net"].startswith("conv32-k3-relu_res64_maxpool2")
    assert any("class ResidualBlock(nn.Module)" in c.value and "ResidualBlock(32, 64)" in c.value for c in at.code)
    kept = at.session_state[state.AN_MODEL_CONFIG]
    set_field(at, 1, "shortcut", "identity")
    assert "Layer 2 (Residual block 64 filters, identity shortcut)" in editor_error(at)
    assert "same shape" in editor_error(at)
    assert at.session_state[state.AN_MODEL_CONFIG] == kept  # the last valid network is kept
    assert len(at.session_state[state.AN_LAYERS]) == 9  # and nothing of the stack is lost
    set_field(at, 1, "shortcut", "auto")
    assert editor_error(at) is None and at.session_state[state.AN_MODEL_CONFIG] == kept


def test_an_inception_network_shows_its_branches_and_what_its_bottlenecks_save() -> None:
    name = "Small inception net (28x28)"
    config = models.PRESETS[name]
    at = open_page(models.to_query(config))
    assert at.session_state[state.AN_MODEL_CONFIG] == config
    assert metric(at, "Parameters") == "38,090" == f"{table_total(at):,}"
    frame = at.table[0].value
    row = frame[frame["Layer (type)"] == "inception1 (Inception)"].iloc[0]
    assert row["Params"] == 9_808 and row["Output shape"] == "80 × 14 × 14" and row["Receptive field"] == "12"
    saving = at.table[1].value
    expected = models.bottleneck_saving(config.layers[2], 32)
    first = saving.iloc[0]
    assert first["#"] == "3" and first["Saved"] == expected.saved == 22_064 - 8_648
    assert first["without them (straight from the input)"] == expected.formula_without
    (drawn,) = [h.proto.body for h in at.get("html") if 'class="an-dg"' in h.proto.body]
    tips = [html.unescape(t) for t in re.findall(r'<span title="([^"]*)"', drawn)]  # a tooltip per box and bar
    assert tips.count("branch 1x1: 16×14×14") == 1 and "branch 1x1→8, 5x5: 16×14×14" in tips  # drawn as branches
    assert "1x1→8, 5x5: 16 ch" in html.unescape(drawn)  # and each branch named in its bar


def test_googlenet_and_resnet18_presets_show_torchvisions_totals() -> None:
    at = open_page()
    for name, total in (("ResNet-18 (ImageNet, for reading)", "11,689,512"),
                        ("GoogLeNet (ImageNet, for reading)", "6,624,904")):  # fmt: skip
        at.selectbox(key="an_preset").set_value(name)
        at.button(key="an_load").click().run()
        assert not at.exception, at.exception
        assert metric(at, "Parameters") == total and f"{table_total(at):,}" == total


@pytest.mark.parametrize(
    ("net", "words"),
    [
        ("conv8-k3_inc8-r4-t8-q2-f4-p4-k4", "cannot be concatenated"),
        ("conv8-k3_res16-identity", "identity shortcut"),
        ("conv8-k3_inc8-r4", "is missing"),
        ("conv8-k3_res16-sideways", "'sideways' is not a residual block setting"),
    ],
)
def test_a_bad_block_in_a_link_is_a_sentence(net: str, words: str) -> None:
    at = open_page({"in": "1x28x28", "net": net})
    assert not at.exception
    everything = [m.value for m in [*at.warning, *at.error]] + [editor_error(at) or ""]
    said = [m for m in everything if words in m]
    assert len(said) == 1, everything  # a sentence, said once


def test_the_receptive_field_of_a_centre_unit_is_drawn_on_a_picture_layer_by_layer() -> None:
    config = models.PRESETS["ResNet-8 (28x28)"]
    at = open_page(models.to_query(config))
    assert not [c for c in at.get("plotly_chart") if '"Layer: its field"' in c.proto.spec]  # closed: not drawn
    at.session_state["an_rf_open"] = True  # the learner opens the expander
    at.run()
    chart = next(c for c in at.get("plotly_chart") if c.proto.spec and '"Layer: its field"' in c.proto.spec)
    traces = [t for t in json.loads(chart.proto.spec)["data"] if t.get("type") == "scatter"]
    assert [t["name"] for t in traces] == ["1. Conv-BN: 3×3", "2. Residual: 7×7", "3. Residual: 13×13",
                                           "4. Residual: 25×25"]  # fmt: skip
    region = models.unit_region(models.plan(config), 3, 3, 3)  # the centre of the 7x7 map
    top, bottom, left, right = region.clipped(28, 28)
    assert (
        (min(traces[-1]["x"]), max(traces[-1]["x"])) == (left - 0.5, right + 0.5) == (-0.5, 24.5)
    )  # -12 + 3·4 = 0 to 24
    assert (min(traces[-1]["y"]), max(traces[-1]["y"])) == (top - 0.5, bottom + 0.5)


def test_the_table_shows_a_group_of_columns_at_a_time_and_the_diagram_comes_in_parts() -> None:
    at = open_page(models.to_query(models.PRESETS["GoogLeNet (ImageNet, for reading)"]))
    assert len(at.table[0].value.columns) == 9  # "All columns"
    (drawn,) = [h.proto.body for h in at.get("html") if 'class="an-dg"' in h.proto.body]  # one element, ...
    assert drawn.count("<figure") == 4  # ... 19 maps in parts of 5 + 5 + 4 + 5, each with room for its labels
    assert not at.get("plotly_chart")  # no plotly chart on the page while the receptive field is closed
    at.session_state[state.PRESENTATION] = True
    at.radio(key="an_columns").set_value("Shape and parameters").run()
    assert list(at.table[0].value.columns) == ["#", "Layer (type)", "Output shape", "Params"]
    at.radio(key="an_columns").set_value("How the params are counted").run()
    frame = at.table[0].value
    assert list(frame.columns) == ["#", "Layer (type)", "How the params are counted"]
    assert "↳ b3x3.reduce_conv (Conv2d)" in list(frame["Layer (type)"])  # named inside its block, shorter
