"""Practice exercises: reproducible from a seed, answers computed by ops, typed answers marked."""

from __future__ import annotations

import numpy as np
import pytest

from cnn_core import ops, quiz


def test_same_seed_same_exercise_and_different_seeds_vary():
    a, b = quiz.make_exercise(5), quiz.make_exercise(5)
    np.testing.assert_array_equal(a.x, b.x)
    assert a.kind == b.kind and a.stride == b.stride
    shapes = {quiz.make_exercise(s).x.shape for s in range(30)}
    assert len(shapes) > 3
    assert {quiz.make_exercise(s).kind for s in range(30)} == {"conv", "pool"}


@pytest.mark.parametrize("seed", range(40))
def test_exercises_are_small_and_answers_come_from_ops(seed):
    ex = quiz.make_exercise(seed)
    ans = ex.answer()
    assert ans.shape == ex.output_shape()
    assert max(ans.shape) <= 5
    if ex.kind == "conv":
        np.testing.assert_array_equal(ans, ops.conv2d(ex.x, ex.kernel, stride=ex.stride, padding=ex.padding))
    assert np.isfinite(ans).all()
    assert str(ex.x.shape[0]) in ex.prompt()


def test_kind_can_be_forced():
    assert quiz.make_exercise(1, "pool").kind == "pool"
    assert quiz.make_exercise(1, "conv").kernel is not None
    with pytest.raises(ValueError):
        quiz.make_exercise(1, "dense")  # type: ignore[arg-type]


@pytest.mark.parametrize(("text", "value"), [("7", 7), (" -2.5 ", -2.5), ("17/4", 4.25), ("−1", -1)])
def test_parse_answer(text, value):
    assert quiz.parse_answer(text) == value


@pytest.mark.parametrize("text", ["abc", "1/0", "nan", "inf", "1,5"])
def test_parse_answer_refuses_non_numbers(text):
    with pytest.raises(ValueError, match="number"):
        quiz.parse_answer(text)


def test_mark_value_and_grid():
    assert quiz.mark_value(4.25, "17/4").right
    assert quiz.mark_value(4.25, "4.25").symbol() == "✓"
    assert quiz.mark_value(11, "10").status == "wrong"
    assert quiz.mark_value(11, "").status == "blank"
    assert quiz.mark_value(11, "eleven").status == "unreadable"
    marks = quiz.mark_grid(np.array([[1, 2], [3, 4]]), [["1", "5"], ["3"]])
    assert [[m.status for m in row] for row in marks] == [["right", "wrong"], ["right", "blank"]]


def _hidden(x, k, *, bias=0.0, activation="none"):
    _, tr = ops.conv2d(x, k, bias=bias, trace=True)
    step = tr.steps[0]
    return quiz.hide_cell((0, 0, 0), ops.conv_working(step, k, activation=activation), max(step.value, 0.0))


def test_hide_cell_one_channel_hides_the_results_and_keeps_the_numbers_given():
    x = np.array([[1.0, 2.0], [3.0, 4.0]])
    k = np.array([[1.0, -1.0], [0.0, 2.0]])
    cell = _hidden(x, k)
    assert cell.text() == ["1×1 + 2×(-1) + 3×0 + 4×2 = ?"]
    assert cell.answer == 7.0 and cell.cell == (0, 0, 0)
    assert cell.working[0].pairs == ((1.0, 1.0), (2.0, -1.0), (3.0, 0.0), (4.0, 2.0))
    assert cell.hidden_terms == []


def test_hide_cell_hides_the_sum_before_the_bias_and_relu():
    x = np.array([[1.0, 2.0], [3.0, 4.0]])
    k = np.array([[1.0, -1.0], [0.0, 2.0]])
    cell = _hidden(x, k, bias=-10.0, activation="relu")
    assert cell.text() == ["1×1 + 2×(-1) + 3×0 + 4×2 = ?", "? + bias -10 = ?", "ReLU(?) = max(0, ?) = ?"]
    assert cell.answer == 0.0
    assert cell.hidden_terms == [(1, 0), (2, 0)]
    assert all(line.result is None for line in cell.working)


def test_hide_cell_several_channels_hides_the_channel_sums():
    x = np.ones((2, 2, 2))
    k = np.stack([np.ones((2, 2)), 2 * np.ones((2, 2))])
    cell = _hidden(x, k, bias=1.0)
    assert cell.text()[0] == "channel 0: 1×1 + 1×1 + 1×1 + 1×1 = ?"
    assert cell.text()[-1] == "sum over channels + bias 1 = ?"
    assert cell.answer == 13.0 and cell.hidden_terms == [(2, 0), (2, 1)]


def test_hide_cell_pooling_keeps_the_window_values():
    _, tr = ops.pool2d(np.array([[2.0, 2.0], [9.0, 4.0]]), 2, mode="avg", trace=True)
    cell = quiz.hide_cell((0, 0, 0), (ops.pool_working(tr.steps[0], "avg"),), tr.steps[0].value)
    assert cell.text() == ["(2 + 2 + 9 + 4) / 4 = ?"]
    assert cell.answer == 4.25 and cell.working[0].inputs == (2.0, 2.0, 9.0, 4.0)
