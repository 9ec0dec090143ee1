"""The one number formatter and the one parser of typed numbers and matrices."""

import numpy as np
import pytest

from cnn_core import numbers, ops, quiz


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (3.0, "3"),
        (0.1 + 0.2, "0.3"),
        (-0.25, "-0.25"),
        (1 / 3, "0.3333"),
        (-np.inf, "-∞"),
        (np.inf, "∞"),
        (np.nan, "?"),
    ],
)
def test_format_number(value, text):
    assert numbers.format_number(value) == text


def test_format_number_digits():
    assert numbers.format_number(1 / 3, 6) == "0.333333"
    assert numbers.format_number(2.0000001, 6) == "2"


def test_ops_and_quiz_reexport_the_one_implementation():
    assert ops.format_number is numbers.format_number
    assert quiz.parse_answer is numbers.parse_number


@pytest.mark.parametrize(
    ("text", "value"),
    [("3", 3.0), ("-0.5", -0.5), ("1/9", 1 / 9), ("1e-3", 0.001), (" −2 ", -2.0), ("17 / 4", 4.25), ("+7", 7.0)],
)
def test_parse_number(text, value):
    assert numbers.parse_number(text) == pytest.approx(value)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("abc", "not a number"),
        ("1/0", "not a number"),
        ("1/2/3", "not a number"),
        ("nan", "not a finite number"),
        ("inf", "not a finite number"),
        ("-inf", "not a finite number"),
        ("1e999", "not a finite number"),
    ],
)
def test_parse_number_refuses_with_a_sentence(text, says):
    with pytest.raises(ValueError, match=says):
        numbers.parse_number(text)


def test_parse_matrix_rows_cells_and_channels():
    a = numbers.parse_matrix("1, 2\t3\n4 5 6\n\n  \n7 8 9\n1/2 -1 0", max_side=4, max_channels=2)
    assert a.shape == (2, 2, 3)
    np.testing.assert_array_equal(a[0], [[1, 2, 3], [4, 5, 6]])
    np.testing.assert_array_equal(a[1], [[7, 8, 9], [0.5, -1, 0]])


def test_parse_matrix_one_channel_by_default():
    assert numbers.parse_matrix("1 2\n3 4", max_side=2).shape == (1, 2, 2)
    with pytest.raises(ValueError, match="2 channels; at most 1"):
        numbers.parse_matrix("1\n\n2", max_side=2)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("", "The kernel is empty"),
        ("\n \n", "The kernel is empty"),
        ("1 2\n3", "same number of values"),
        ("1 2 3 4", "at most 3x3; it is 1x4"),
        ("1 x\n3 4", "holds 'x' at row 0, column 1 \\(counting from 0\\), which is not a finite number"),
        ("1 2\n3 nan", "holds 'nan' at row 1, column 1"),
        ("1 inf", "holds 'inf' at row 0, column 1"),
        ("1 2\n\n1 2 3", "same height and width"),
        ("1\n\n2\n\n3", "3 channels; at most 2"),
    ],
)
def test_parse_matrix_refuses_with_a_sentence(text, says):
    with pytest.raises(ValueError, match=says):
        numbers.parse_matrix(text, max_side=3, max_channels=2, what="kernel")


def test_parse_matrix_names_the_channel_of_a_bad_cell():
    with pytest.raises(ValueError, match="channel 1, row 0, column 0"):
        numbers.parse_matrix("1\n\n?", max_side=3, max_channels=2)
