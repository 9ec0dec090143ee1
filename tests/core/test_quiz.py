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
