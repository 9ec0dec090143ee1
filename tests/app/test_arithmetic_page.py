"""AppTest of the Arithmetic page: drive every control and check the numbers shown."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import numpy as np
import pytest
from streamlit.proto.WidgetStates_pb2 import WidgetState
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1.element_tree import Block, UnknownElement, Widget

from tests.helpers import FreshWorkspace

ROOT = Path(__file__).resolve().parents[2]
PAGE = str(ROOT / "app_pages" / "arithmetic.py")


def _app(**params: str) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=60)
    for k, v in params.items():
        at.query_params[k] = v
    at.run()
    assert not at.exception, at.exception
    return at


def _stepper(at: AppTest) -> dict | None:
    """The browser stepper's data (every step, and the step it opens at), or None where the server steps (quiz)."""
    found = at.get("bidi_component")
    return json.loads(found[0].proto.json) if len(found) else None


def _shown(at: AppTest) -> dict:
    """The step the browser stepper shows."""
    data = _stepper(at)
    return data["steps"][data["step"]]


def _step_line(at: AppTest) -> str:
    if _stepper(at) is not None:
        return f"**{_shown(at)['line']}**"
    return next(m.value for m in at.markdown if m.value.startswith("**Step "))


def _equation(at: AppTest) -> str:
    if _stepper(at) is not None:
        return "\n".join(_shown(at)["work"])
    return next(c.value for c in at.code if not c.value.startswith(("Height", "Width")))


def _working(at: AppTest) -> str:
    return next(c.value for c in at.code if c.value.startswith(("Height", "Width")))


def _warnings(at: AppTest) -> list[str]:
    shown = [_shown(at)["warn"]] if _stepper(at) is not None and _shown(at)["warn"] else []
    return [w.value for w in at.warning] + shown


def _out(at: AppTest, m: int = 0) -> np.ndarray:
    """The output grid of map ``m`` as the browser stepper draws it."""
    return np.array(_stepper(at)["maps"][m]["out"], dtype=float)


def _chart_z(at: AppTest, key: str) -> np.ndarray:
    """The heatmap values of the plotly chart whose widget key is ``key``."""
    chart = next(c for c in at.get("plotly_chart") if c.proto.id.endswith(f"-{key}"))
    z = json.loads(chart.proto.spec)["data"][0]["z"]
    if isinstance(z, dict):  # plotly's typed-array form
        shape = [int(n) for n in str(z.get("shape", "-1")).split(",")]
        return np.frombuffer(base64.b64decode(z["bdata"]), dtype=z["dtype"]).reshape(shape)
    return np.array(z, dtype=float)


class _Report(Widget):
    """What the browser stepper sends when it rests on step ``k``: its state ``step`` = [k, a counter]."""

    def __init__(self, element: UnknownElement, k: int, seq: int) -> None:  # noqa: D107
        self.proto, self.root, self.type, self.key = element.proto, element.root, "bidi_component", element.key
        self.id, self.disabled, self._value = element.proto.id, False, [k, seq]

    @property
    def value(self) -> list[int]:
        return self._value

    @property
    def _widget_state(self) -> WidgetState:
        return WidgetState(id=self.id, json_value=json.dumps({"step": self._value}))


def report_step(at: AppTest, k: int) -> AppTest:
    """Run the page as after the browser stepper reported step ``k`` (its Next, a key, a click, the slider)."""

    def swap(block: Block) -> bool:
        for i, child in block.children.items():
            if isinstance(child, UnknownElement) and child.type == "bidi_component":
                block.children[i] = _Report(child, k, report_step.seq)
                return True
            if isinstance(child, Block) and swap(child):
                return True
        return False

    report_step.seq += 1
    assert swap(at._tree[0]), "no browser stepper on the page"
    at.run()
    assert not at.exception, at.exception
    return at


report_step.seq = 0
_GO = {
    "ar_first": lambda k, n: 0,
    "ar_back": lambda k, n: k - 1,
    "ar_next": lambda k, n: k + 1,
    "ar_last": lambda k, n: n - 1,
}


def _click(at: AppTest, key: str) -> AppTest:
    """Click a button; the browser stepper's First / Back / Next / Last are reported as the browser would."""
    data = _stepper(at)
    if key in _GO and data is not None:
        return report_step(at, _GO[key](data["step"], data["n"]))
    at.button(key=key).click().run()
    assert not at.exception, at.exception
    return at


def _example(at: AppTest, name: str) -> AppTest:
    at.selectbox(key="ar_w_example").select(name).run()
    assert not at.exception, at.exception
    return at


def test_default_page_steps_through_the_notes_example():
    at = _app()
    assert _step_line(at) == "**Step 1 of 16: output cell row 0, column 0 = -14**"
    assert _equation(at) == "1×1 + 2×0 + 3×(-1) + 2×1 + 2×0 + 5×(-1) + 0×1 + 6×0 + 9×(-1) = -14"
    assert any("notes print 10" in w and "correct value is 11" in w for w in _warnings(at))
    _click(at, "ar_next")
    assert _step_line(at).endswith("row 0, column 1 = -1**")
    _click(at, "ar_back")
    assert "Step 1 of 16" in _step_line(at)
    _click(at, "ar_last")
    assert _step_line(at) == "**Step 16 of 16: output cell row 3, column 3 = 11**"
    assert "The notes print 10 here; the correct value is 11." in _warnings(at)
    assert at.query_params["cell"] == "15"
    _click(at, "ar_first")
    assert "Step 1 of 16" in _step_line(at)


def test_jump_to_cell_and_slider():
    at = _app()
    at.number_input(key="ar_jump_r").set_value(2)
    at.number_input(key="ar_jump_c").set_value(1)
    _click(at, "ar_jump_go")
    assert _step_line(at) == "**Step 10 of 16: output cell row 2, column 1 = -10**"
    report_step(at, 3)  # the browser's slider at 4
    assert _step_line(at) == "**Step 4 of 16: output cell row 0, column 3 = -1**"
    assert at.query_params["cell"] == "3"


def test_url_opens_an_exact_step():
    at = _app(cell="13", ex="6x6 vertical edge, stride 1")
    assert _step_line(at) == "**Step 14 of 16: output cell row 3, column 1 = -16**"


def test_url_with_bad_values_falls_back_without_error():
    at = _app(s="x,y", op="nonsense", cell="-4")
    assert "Step 1 of" in _step_line(at)
    toasts = [t.value for t in at.toast]
    assert "The link's value op='nonsense' could not be read; the default is used." in toasts
    assert "The link's value s='x,y' could not be read; the default is used." in toasts


def test_stride_2_shows_formula_and_dropped_rows():
    at = _app()
    at.number_input(key="ar_w_sh").set_value(2)
    at.number_input(key="ar_w_sw").set_value(2).run()
    assert "Height: floor((6 + 2*0 - 1*(3 - 1) - 1) / 2) + 1 = floor(3 / 2) + 1 = 1 + 1 = 2" in _working(at)
    infos = [i.value for i in at.info]
    assert any("1 row at the bottom" in i for i in infos)
    assert any("1 column on the right" in i for i in infos)
    assert "Step 1 of 4" in _step_line(at)


def test_same_padding_and_custom_uneven_padding():
    at = _app()
    at.selectbox(key="ar_w_pad").select("same").run()
    assert "Height: floor((6 + 2*1 - 1*(3 - 1) - 1) / 1) + 1 = floor(5 / 1) + 1 = 5 + 1 = 6" in _working(at)
    assert "Step 1 of 36" in _step_line(at)
    assert _equation(at).startswith("0×1 + 0×0 + 0×(-1) + 0×1 + 1×0 + 2×(-1)")
    at.selectbox(key="ar_w_pad").select("custom").run()
    at.number_input(key="ar_w_ptop").set_value(2).run()
    assert "floor((6 + 2 + 0 - 1*(3 - 1) - 1) / 1) + 1" in _working(at)


@pytest.mark.parametrize(
    ("key", "value", "sentence"),
    [
        ("ar_w_sh", 0, "The stride must be at least 1, got 0"),
        ("ar_w_dh", 4, "kernel is larger than the padded input"),
    ],
)
def test_impossible_settings_give_a_sentence(key, value, sentence):
    at = _app()
    at.number_input(key=key).set_value(value).run()
    assert not at.exception
    assert any(sentence in w for w in _warnings(at))


def test_negative_padding_gives_a_sentence():
    at = _app()
    at.selectbox(key="ar_w_pad").select("custom").run()
    at.number_input(key="ar_w_pleft").set_value(-1).run()
    assert any("Padding cannot be negative" in w for w in _warnings(at))


def test_bad_kernel_cell_is_named():
    at = _app()
    at.text_area(key="ar_w_k0").input("1 0 -1\n1 x -1\n1 0 -1").run()
    assert not at.exception
    assert "kernel 0 holds 'x' at row 1, column 1 (counting from 0)" in at.error[0].value  # the middle cell


def test_bias_relu_and_preset():
    at = _app()
    at.number_input(key="ar_w_b0").set_value(2.5).run()
    assert "(-14) + bias 2.5 = -11.5" in _equation(at)
    at.checkbox(key="ar_w_relu").check().run()
    assert "ReLU(-11.5) = max(0, -11.5) = 0" in _equation(at)
    assert _step_line(at).endswith("= 0**")
    at.selectbox(key="ar_w_preset").select("Sobel x").run()
    assert at.text_area(key="ar_w_k0").value == "-1 0 1\n-2 0 2\n-1 0 1"
    assert _equation(at).startswith("1×(-1) + 2×0 + 3×1 + 2×(-2)")


def test_two_kernels_two_feature_maps_and_parameter_count():
    at = _app()
    at.number_input(key="ar_w_nk").set_value(2).run()
    params = next(m.value for m in at.markdown if "Parameters" in m.value)
    assert "(1 × 3 × 3 + 1) × 2 = 20 parameters" in params
    assert "Step 1 of 32" in _step_line(at)


def test_three_channel_example_sums_channels_plus_bias():
    at = _example(_app(), "3 channels, two kernels and a bias")
    assert "(3 × 3 × 3 + 1) × 2 = 56 parameters" in next(m.value for m in at.markdown if "Parameters" in m.value)
    eq = _equation(at)
    assert eq.splitlines()[0].startswith("channel 0: ")
    assert eq.splitlines()[-1] == "sum over channels: (-2) + 3 + 2 + bias 1 = 4"
    assert _step_line(at) == "**Step 1 of 8: output cell row 0, column 0 of feature map 0 = 4**"


@pytest.mark.parametrize(
    ("name", "equation"),
    [
        ("4x4 max pooling 2x2, stride 2", "max(1, 3, 5, 6) = 6"),
        ("4x4 average pooling 2x2, stride 2", "(2 + 2 + 9 + 4) / 4 = 4.25"),
        ("4x4 min pooling 2x2, stride 2", "min(20, 8, 6, 12) = 6"),
        ("5x5 of ones, SAME padding, 3x3 kernel", "0×1 + 0×1 + 0×1 + 0×1 + 1×1 + 1×1 + 0×1 + 1×1 + 1×1 = 4"),
        ("6x6 photo patch, first cell 429", "18×1 + 54×0 + 51×1 + 55×0 + 121×1 + 75×0 + 35×1 + 24×0 + 204×1 = 429"),
        ("1-D time series, change detector", "3×(-1) + 4×0 + 6×1 = 3"),
        ("Transposed convolution, 2x2 input, stride 2", "0×1 + 0×1 + 0×0 + 0×0 + 0×1 + 0×2 + 0×(-1) + 0×0 + 1×1 = 1"),
    ],
)
def test_worked_examples_load_and_show_the_first_step(name, equation):
    at = _example(_app(), name)
    assert _equation(at) == equation
    assert any(name in i.value for i in at.info)


def test_digit_example_shows_both_notes_mistakes():
    at = _example(_app(), "6x6 digit patch, cross kernel")
    ws = _warnings(at)
    assert any(
        "notes print 1 at output cell (row, column) = (0, 2), counting from 0; the correct value is 0.8" in w
        for w in ws
    )
    assert any("notes print 1.1" in w and "0.2" in w for w in ws)


def test_pooling_controls_global_and_comparison():
    at = _example(_app(), "4x4 max pooling 2x2, stride 2")
    assert any("Pooling next to a stride-2 convolution" in m.value for m in at.markdown)
    at.selectbox(key="ar_w_pool").select("sum").run()
    assert _equation(at) == "1 + 3 + 5 + 6 = 15"
    at.selectbox(key="ar_w_pool").select("gavg").run()
    assert "Step 1 of 1" in _step_line(at)
    assert _equation(at).endswith("/ 16 = 4.25")  # 68 / 16
    at.selectbox(key="ar_w_pool").select("max").run()
    at.number_input(key="ar_w_ph").set_value(3)
    at.number_input(key="ar_w_pw").set_value(3).run()
    assert "Step 1 of 1" in _step_line(at)  # floor((4 - 3) / 2) + 1 = 1
    assert any("1 row at the bottom" in i.value for i in at.info)


def test_operation_radio_switches_and_transposed_settings():
    at = _example(_app(), "Transposed convolution, 2x2 input, stride 2")
    assert "= 5" in _working(at)
    at.number_input(key="ar_w_pt").set_value(1).run()
    assert "(2 - 1)*2 - 2*1 + 1*(3 - 1) + 0 + 1 = 3" in _working(at)
    at.number_input(key="ar_w_oh").set_value(1).run()
    assert "+ 1 + 1 = 4" in _working(at)
    at.radio(key="ar_w_op").set_value("conv2d").run()
    assert not at.exception
    assert any("kernel is larger" in w for w in _warnings(at))


def test_random_input_and_tables():
    at = _app()
    before = at.text_area(key="ar_w_x").value
    at.number_input(key="ar_w_rand_h").set_value(5)
    at.number_input(key="ar_w_rand_w").set_value(7)
    _click(at, "ar_w_rand_go")
    after = at.text_area(key="ar_w_x").value
    assert after != before and len(after.splitlines()) == 5 and len(after.splitlines()[0].split()) == 7
    assert "Step 1 of 15" in _step_line(at)  # 3x5 output
    at.session_state["ar_tables_open"] = True  # the learner opens the tables
    at.run()
    assert len(at.dataframe) >= 3  # padded input, kernel and output as tables


def test_quiz_cells_hides_and_marks():
    at = _example(_app(), "4x4 average pooling 2x2, stride 2")
    at.radio(key="ar_w_quiz").set_value("cells").run()
    assert _equation(at) == "(2 + 2 + 9 + 4) / 4 = ?"
    assert _step_line(at).endswith("= ?**")
    at.text_input(key="ar_q_0_0_0").input("4.25")
    at.text_input(key="ar_q_0_0_1").input("17/4")
    at.text_input(key="ar_q_0_1_0").input("5")
    at.text_input(key="ar_q_0_1_1").input("abc")
    _click(at, "ar_check")
    assert any(m.value.startswith("**2 of 4 right.") for m in at.markdown)
    captions = " ".join(c.value for c in at.caption)
    assert "✗ row 1, column 0: wrong (you typed 5)" in captions
    at.toggle(key="ar_reveal").set_value(True).run()
    assert _equation(at) == "(2 + 2 + 9 + 4) / 4 = 4.25"
    assert "the answer is 4.25" in " ".join(c.value for c in at.caption)


def test_quiz_size_mode_and_new_exercise():
    at = _app()
    at.radio(key="ar_w_quiz").set_value("size").run()
    assert not any(c.value.startswith("Height") for c in at.code)  # the working is hidden
    at.text_input(key="ar_q_h").input("4")
    at.text_input(key="ar_q_w").input("5")
    _click(at, "ar_check")
    md = [m.value for m in at.markdown]
    assert "Height: ✓ **right**" in md and "Width: ✗ **wrong (you typed 5)**" in md
    _click(at, "ar_new_ex")
    assert at.query_params["seed"] not in ("0", ["0"])
    assert not at.exception


def test_quiz_hides_every_computed_number_of_a_convolution_step():
    at = _app()
    at.number_input(key="ar_w_b0").set_value(-2.5).run()
    at.checkbox(key="ar_w_relu").check().run()
    at.radio(key="ar_w_quiz").set_value("cells").run()
    assert _equation(at).splitlines() == [
        "1×1 + 2×0 + 3×(-1) + 2×1 + 2×0 + 5×(-1) + 0×1 + 6×0 + 9×(-1) = ?",
        "? + bias -2.5 = ?",
        "ReLU(?) = max(0, ?) = ?",
    ]
    assert _step_line(at).endswith("= ?**")
    at.text_input(key="ar_q_0_0_0").input("0")
    at.text_input(key="ar_q_0_0_1").input("-3.5")
    _click(at, "ar_check")
    assert any(m.value.startswith("**1 of 16 right.") for m in at.markdown)  # ReLU(-16.5) = 0; -1 - 2.5 < 0 too
    at.toggle(key="ar_reveal").set_value(True).run()
    assert _equation(at).splitlines()[1:] == ["(-14) + bias (-2.5) = -16.5", "ReLU(-16.5) = max(0, -16.5) = 0"]


def test_quiz_hides_the_channel_sums_of_a_multichannel_step():
    at = _example(_app(), "3 channels, two kernels and a bias")
    at.radio(key="ar_w_quiz").set_value("cells").run()
    lines = _equation(at).splitlines()
    assert lines[0].startswith("channel 0: ") and lines[0].endswith(" = ?")
    assert lines[-1] == "sum over channels + bias 1 = ?"
    assert not any("notes print" in w for w in _warnings(at))


def test_transposed_scatter_view_stamps_value_times_kernel():
    at = _example(_app(), "Transposed convolution, 2x2 input, stride 2")
    assert at.text_area(key="ar_w_x").value == "1 2\n3 4"
    kernel = np.array([[1, 0, -1], [2, 1, 0], [0, 1, 1]], dtype=float)
    assert at.text_area(key="ar_w_k0").value == "1 0 -1\n2 1 0\n0 1 1"
    at.selectbox(key="ar_scatter").set_value(3).run()  # the value 4 at row 1, column 1
    stamp = _chart_z(at, "ar_stamp_3")
    assert stamp.shape == (5, 5)
    np.testing.assert_array_equal(stamp[2:, 2:], 4 * kernel)  # stride 2: its copy starts at (2, 2)
    assert np.isnan(stamp[:2]).all() and np.isnan(stamp[:, :2]).all()


# --- the workspace: quiz progress is kept ---------------------------------------------------------


class Workspace(FreshWorkspace):
    """This page's view of a learner's fresh workspace."""


@pytest.fixture
def workspace(monkeypatch, tmp_path) -> Workspace:
    return Workspace(monkeypatch, tmp_path / "state")


def _progress(at: AppTest) -> list[str]:
    return [c.value for c in at.caption if c.value.startswith("You have done")]


def _pooling_quiz(at: AppTest, answers: tuple[str, str, str, str]) -> AppTest:
    at = _example(at, "4x4 average pooling 2x2, stride 2")
    at.radio(key="ar_w_quiz").set_value("cells").run()
    for (i, j), typed in zip(((0, 0), (0, 1), (1, 0), (1, 1)), answers, strict=True):
        at.text_input(key=f"ar_q_0_{i}_{j}").input(typed)
    return _click(at, "ar_check")


def test_quiz_progress_is_counted_kept_and_found_by_a_new_session(workspace):
    at = _app()
    at.radio(key="ar_w_quiz").set_value("cells").run()
    assert _progress(at) == []  # nothing done yet: the panel is as before
    at = _pooling_quiz(at, ("4.25", "17/4", "5", "abc"))  # 2 of 4 right
    assert _progress(at) == ["You have done 1 exercise, 2 of 4 cells right."]
    at.text_input(key="ar_q_0_1_0").input("4.25").run()
    assert _progress(at) == ["You have done 1 exercise, 2 of 4 cells right."]  # typing is not checking
    _click(at, "ar_check")  # the same exercise checked again: its latest check counts
    assert _progress(at) == ["You have done 1 exercise, 3 of 4 cells right."]
    at.radio(key="ar_w_quiz").set_value("size").run()
    at.text_input(key="ar_q_h").input("2")
    at.text_input(key="ar_q_w").input("3")
    _click(at, "ar_check")  # a second exercise: the output size, two answers
    assert _progress(at) == ["You have done 2 exercises, 4 of 6 cells right."]
    assert len(workspace.store.items(workspace.id, "quiz")) == 2
    again = _app(**{k: v for k, v in at.query_params.items()})  # a reload: a new session
    assert _progress(again) == ["You have done 2 exercises, 4 of 6 cells right."]
    workspace.id = "learner-b"
    other = _app(quiz="cells")
    assert _progress(other) == []


def test_damaged_progress_items_are_skipped(workspace):
    workspace.store.put_item(workspace.id, "quiz", "a", {"right": 3, "total": 4, "mode": "cells"})
    workspace.store.put_item(workspace.id, "quiz", "b", {"right": "x", "total": 4})
    workspace.store.put_item(workspace.id, "quiz", "c", [1, 2])
    at = _app(quiz="cells")
    assert _progress(at) == ["You have done 1 exercise, 3 of 4 cells right."]


def test_a_store_that_cannot_write_is_a_sentence_and_the_session_keeps_counting(workspace, monkeypatch):
    from app.workspace import StoreError

    def refuse(*_args, **_kwargs):
        raise StoreError("Your work could not be saved: the server's disk is full.")

    monkeypatch.setattr(workspace.store, "put_item", refuse)
    at = _pooling_quiz(_app(), ("4.25", "17/4", "5", "abc"))
    assert [t.value for t in at.toast] == ["Your work could not be saved: the server's disk is full."]
    assert _progress(at) == ["You have done 1 exercise, 2 of 4 cells right."]


# --- the later modes, each opened by its link -------------------------------------------------------------------


def _torch_backward(x: np.ndarray, k: np.ndarray, g: np.ndarray, stride: int) -> tuple[np.ndarray, np.ndarray]:
    import torch
    import torch.nn.functional as F

    xt = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    kt = torch.tensor(k, dtype=torch.float64, requires_grad=True)
    (F.conv2d(xt[None, None], kt[None, None], stride=stride)[0, 0] * torch.tensor(g)).sum().backward()
    return xt.grad.numpy(), kt.grad.numpy()


BACK_X = np.array([[1, 2, 0, 1, 3], [0, 1, 2, 3, 1], [2, 0, 1, 0, 2], [1, 3, 0, 1, 0], [0, 1, 2, 1, 1]], dtype=float)
BACK_K = np.array([[1, 2, 0], [0, 1, -1], [3, 0, 1]], dtype=float)
BACK_G = np.array([[1, -1], [2, 0.5]])


def test_backward_mode_opens_by_its_link_and_steps_dl_dx():
    at = _app(op="backward")
    assert _step_line(at) == "**Step 1 of 25: dL/dx cell row 0, column 0 = 1**"
    assert _equation(at).endswith("0×2 + 1×1 = 1")  # the spread, padded dL/dy × the flipped kernel
    at.number_input(key="ar_jump_r").set_value(2)
    at.number_input(key="ar_jump_c").set_value(2)
    _click(at, "ar_jump_go")
    assert _step_line(at) == "**Step 13 of 25: dL/dx cell row 2, column 2 = -1.5**"
    codes = [c.value for c in at.code]
    assert "dL/dx[2, 2] = 1×1 + (-1)×3 + 2×0 + 0.5×1 = -1.5" in codes  # the four dL/dy cells and their taps
    terms = next(d.value for d in at.dataframe if "kernel tap" in d.value.columns)
    assert list(terms["kernel tap"]) == ["(2, 2)", "(2, 0)", "(0, 2)", "(0, 0)"]  # one per dL/dy cell, in order
    assert list(terms["flipped tap"]) == ["(0, 0)", "(0, 2)", "(2, 0)", "(2, 2)"]
    np.testing.assert_array_equal(_chart_z(at, "ar_spread"), [[1, 0, -1], [0, 0, 0], [2, 0, 0.5]])
    _click(at, "ar_last")
    want_x, _ = _torch_backward(BACK_X, BACK_K, BACK_G, 2)
    np.testing.assert_allclose(_out(at, 0), want_x, atol=1e-12)  # every cell, as autograd
    assert any("dL/db = the sum of dL/dy = 2.5" in m.value for m in at.markdown)
    assert any("counting from 0" in i.value or "stride 1 only" in i.value for i in at.info)


def test_backward_mode_steps_dl_dw_and_refuses_a_gradient_of_the_wrong_shape():
    at = _app(op="backward", wrt="w")
    assert _step_line(at) == "**Step 1 of 9: dL/dW tap row 0, column 0 = 5.5**"
    assert _equation(at) == "1×1 + 0×(-1) + 2×2 + 1×0.5 = 5.5"  # x under dL/dy, spread by the stride
    _click(at, "ar_last")
    _, want_k = _torch_backward(BACK_X, BACK_K, BACK_G, 2)
    np.testing.assert_allclose(_out(at, 0), want_k, atol=1e-12)
    at.text_area(key="ar_w_grad").input("1 2 3").run()
    assert not at.exception
    assert "dL/dy must have the forward output's shape, 2x2" in at.error[0].value


def test_conv1x1_mode_mixes_the_channels_of_one_pixel():
    import torch
    import torch.nn.functional as F

    at = _app(op="conv1x1", cell="5")
    assert _step_line(at) == "**Step 6 of 32: pixel row 1, column 1 of output map 0 = 1.5**"
    assert _equation(at).splitlines() == [
        "channel 0: 1×0.5 = 0.5",
        "channel 1: 1×0.25 = 0.25",
        "channel 2: 3×0.25 = 0.75",
        "sum over channels: 0.5 + 0.25 + 0.75 + bias 0 = 1.5",
    ]
    assert any("output map 0 at pixel (1, 1) = 0.5·x[0, 1, 1]" in c.value for c in at.caption)
    _click(at, "ar_last")
    x = torch.tensor([[[1, 2, 0, 3], [4, 1, 2, 2], [0, 3, 1, 4], [2, 2, 4, 1]], [[3, 0, 2, 1], [1, 1, 0, 4], [2, 4, 3, 0], [0, 1, 2, 2]], [[0, 1, 4, 2], [2, 3, 1, 0], [1, 0, 2, 3], [4, 2, 0, 1]]], dtype=torch.float64)  # fmt: skip
    w = torch.tensor([[0.5, 0.25, 0.25], [1, -1, 0]], dtype=torch.float64)[:, :, None, None]
    want = F.conv2d(x[None], w)[0].numpy()
    np.testing.assert_allclose(_out(at, 1), want[1], atol=1e-12)


def test_conv3d_mode_slides_in_depth_too():
    import torch
    import torch.nn.functional as F

    at = _app(op="conv3d", cell="13")
    assert _step_line(at).startswith("**Step 14 of 27: output cell row 1, column 1 of output slice 1 = ")
    assert _equation(at).splitlines()[0].startswith("slice 0: ") and "sum over slices" in _equation(at)
    assert any(c.value.startswith("Depth: ") for c in at.code)
    _click(at, "ar_last")
    vol = np.array([[[1, 0, 2, 1], [0, 1, 0, 2], [2, 1, 1, 0], [1, 0, 2, 1]], [[0, 2, 1, 0], [1, 1, 2, 0], [0, 1, 0, 1], [2, 0, 1, 1]], [[1, 1, 0, 2], [2, 0, 1, 1], [0, 2, 1, 0], [1, 1, 0, 2]], [[2, 0, 1, 1], [0, 1, 2, 0], [1, 0, 1, 2], [0, 2, 0, 1]]], dtype=float)  # fmt: skip
    k = np.array([[[1, 0], [0, 1]], [[0, 1], [1, 0]]], dtype=float)
    want = F.conv3d(torch.tensor(vol)[None, None], torch.tensor(k)[None, None])[0, 0].numpy()
    np.testing.assert_allclose(_out(at, 2), want[2], atol=1e-12)
    value = float(_step_line(at).split("= ")[-1].rstrip("*"))
    assert value == want[2, 2, 2]
    _click(at, "ar_w_rand_go")  # a random 6x6 volume is made deeper than the 2-slice kernel: 2 x 5 x 5 outputs
    assert _step_line(at).startswith("**Step 1 of 50: output cell row 0, column 0 of output slice 0 = ")


def test_chain_mode_is_the_notes_practice_exercise():
    import torch
    import torch.nn.functional as F

    at = _app(op="chain")
    assert _step_line(at) == "**Step 1 of 30: feature-map cell row 0, column 0 = 1**"
    assert _equation(at).splitlines()[-1] == "ReLU(1) = max(0, 1) = 1"
    assert any("Practice" in i.value and "Deep Learning (BS elective)" in i.value for i in at.info)
    assert not any(".txt" in i.value for i in at.info)  # the notes by their title, not their file name
    at.radio(key="ar_w_stage").set_value("pool").run()
    assert _step_line(at) == "**Step 1 of 20: pooled cell row 0, column 0 = 3**"
    assert _equation(at) == "max(1, 0, 0, 3) = 3"
    x = torch.tensor(np.array(_chart_z(at, "ar_chain_Feature map")))
    k = torch.tensor([[0, 1, 0], [1, -4, 1], [0, 1, 0]], dtype=torch.float64)
    del x, k
    img = torch.tensor([[3, 1, 0, 2, 5, 6, 1], [4, 2, 1, 0, 3, 7, 2], [5, 3, 2, 1, 0, 4, 6], [1, 0, 6, 7, 2, 1, 3], [0, 2, 7, 9, 4, 0, 1], [2, 1, 3, 8, 5, 2, 0], [6, 4, 1, 2, 1, 3, 5], [7, 5, 2, 0, 1, 4, 6]], dtype=torch.float64)  # fmt: skip
    lap = torch.tensor([[0, 1, 0], [1, -4, 1], [0, 1, 0]], dtype=torch.float64)
    want = F.max_pool2d(F.relu(F.conv2d(img[None, None], lap[None, None])), 2, stride=1)[0, 0].numpy()
    np.testing.assert_allclose(_chart_z(at, "ar_chain_Pooled"), want, atol=1e-12)
    at.checkbox(key="ar_w_relu").uncheck().run()  # the notes' question as asked: no ReLU
    no_relu = F.max_pool2d(F.conv2d(img[None, None], lap[None, None]), 2, stride=1)[0, 0].numpy()
    np.testing.assert_allclose(_chart_z(at, "ar_chain_Pooled"), no_relu, atol=1e-12)


def test_switching_operation_to_a_later_mode_loads_its_numbers_and_back():
    at = _app()
    at.radio(key="ar_w_op").set_value("backward").run()
    assert not at.exception
    assert _step_line(at).startswith("**Step 1 of 25: dL/dx cell")
    assert at.query_params["op"] == "backward" and at.query_params["wrt"] == "x"
    at.radio(key="ar_w_op").set_value("conv2d").run()
    assert _step_line(at) == "**Step 1 of 16: output cell row 0, column 0 = -14**"


def test_the_page_states_its_index_convention_once():
    at = _app()
    said = [c.value for c in at.caption if "count from 0, as in NumPy and PyTorch" in c.value]
    assert len(said) == 1


def test_stepping_never_computes_the_operation_again(monkeypatch):
    from app.arithmetic import view

    calls, original = [], view.build_problem

    def counting(cfg):
        calls.append(cfg.cell)
        return original(cfg)

    view._problem.clear()
    monkeypatch.setattr(view, "build_problem", counting)
    at = _app(op="backward")
    for _ in range(3):
        _click(at, "ar_next")
    at.number_input(key="ar_jump_c").set_value(4)
    _click(at, "ar_jump_go")
    assert _step_line(at) == "**Step 5 of 25: dL/dx cell row 0, column 4 = 0**"
    assert calls == [0]  # computed once, for every step; Next and Go only pick the step to show
    at.text_area(key="ar_w_grad").input("1 1\n1 1").run()
    assert len(calls) == 2  # new numbers: computed again


def test_the_grids_as_tables_are_built_when_their_expander_is_opened_and_follow_the_step():
    at = _app()
    assert [e.label for e in at.expander if "tables of numbers" in e.label] == ["Read these grids as tables of numbers"]
    assert len(at.dataframe) == 0  # closed: nothing built
    at.session_state["ar_tables_open"] = True  # the learner opens it
    at.run()
    assert len(at.dataframe) == 3  # the padded input, the kernel and the output so far, in that order
    padded, out = at.dataframe[0].value, at.dataframe[2].value
    assert padded.iloc[0, 0] == "[1]" and padded.iloc[0, 3] == "1" and padded.iloc[2, 2] == "[9]"  # step 1's window
    assert out.iloc[0, 0] == "-14" and out.iloc[0, 1] == "·"
    report_step(at, 1)
    padded, out = at.dataframe[0].value, at.dataframe[2].value
    assert padded.iloc[0, 0] == "1" and padded.iloc[0, 1] == "[2]" and padded.iloc[1, 3] == "[4]"
    assert out.iloc[0, 1] == "-1"
