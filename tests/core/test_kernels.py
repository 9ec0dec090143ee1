"""The preset registry and the parsing of kernels typed by a person."""

import numpy as np
import pytest

from cnn_core import kernels

REQUIRED = [
    "Identity",
    "Box blur",
    "Gaussian blur 3x3",
    "Gaussian blur 5x5",
    "Sharpen",
    "Sobel x",
    "Sobel y",
    "Sobel magnitude",
    "Prewitt x",
    "Laplacian (4-neighbour)",
    "Laplacian (8-neighbour)",
    "Outline",
    "Emboss",
    "Vertical line 7x7",
    "Horizontal line 7x7",
]


def test_every_required_preset_has_a_matrix_and_a_sentence():
    for name in REQUIRED:
        p = kernels.PRESETS[name]
        assert p.kernel.ndim == 2 and np.isfinite(p.kernel).all()
        assert p.description.endswith(".") and len(p.description) > 20


def test_blurs_keep_brightness_and_edge_detectors_ignore_flat_areas():
    for name in ("Identity", "Box blur", "Gaussian blur 3x3", "Gaussian blur 5x5", "Sharpen"):
        assert kernels.PRESETS[name].kernel.sum() == pytest.approx(1.0)
    for name in ("Sobel x", "Sobel y", "Prewitt x", "Laplacian (4-neighbour)", "Laplacian (8-neighbour)", "Outline"):
        assert kernels.PRESETS[name].kernel.sum() == pytest.approx(0.0)


def test_line_detectors_are_7x7_lines():
    v = kernels.PRESETS["Vertical line 7x7"].kernel
    assert v.shape == (7, 7) and v[:, 3].sum() == 7 and v.sum() == 7
    np.testing.assert_array_equal(kernels.PRESETS["Horizontal line 7x7"].kernel, v.T)


def test_sobel_magnitude_is_a_pair():
    p = kernels.PRESETS["Sobel magnitude"]
    np.testing.assert_array_equal(p.kernel, kernels.PRESETS["Sobel x"].kernel)
    np.testing.assert_array_equal(p.partner, kernels.PRESETS["Sobel y"].kernel)


def test_presets_cannot_be_changed_by_accident():
    with pytest.raises(ValueError):
        kernels.PRESETS["Sharpen"].kernel[0, 0] = 9


def test_parse_accepts_numbers_text_and_fractions():
    k = kernels.parse_kernel([["1", " -2 ", "1/9"], [0.5, 3, "−1"]])
    np.testing.assert_allclose(k, [[1, -2, 1 / 9], [0.5, 3, -1]])
    assert kernels.parse_kernel([[7]]).shape == (1, 1)
    assert kernels.parse_kernel(np.ones((9, 4))).shape == (9, 4)


@pytest.mark.parametrize(
    "cells,words",
    [
        ([["1", ""]], "row 0, column 1 \\(counting from 0\\) is empty"),
        ([["1", None]], "empty"),
        ([["1", "abc"]], "'abc', which is not a number"),
        ([["nan", "1"]], "NaN"),
        ([["1"], ["inf"]], "row 1, column 0 \\(counting from 0\\) is infinite"),
        ([["1e999"]], "infinite"),
        ([["1/0"]], "not a number"),
        ([], "empty"),
        ([["1", "2"], ["3"]], "same number of cells"),
        (np.ones((10, 3)).tolist(), "at most 9x9"),
    ],
)
def test_parse_refuses_bad_cells_with_a_message(cells, words):
    with pytest.raises(ValueError, match=words):
        kernels.parse_kernel(cells)


def test_normalise():
    np.testing.assert_allclose(kernels.normalise(np.ones((3, 3))).sum(), 1.0)
    zero_sum = kernels.PRESETS["Sobel x"].kernel
    np.testing.assert_array_equal(kernels.normalise(zero_sum), zero_sum)


def test_grid_cells_read_numbers_with_the_one_number_grammar():
    from cnn_core.numbers import parse_number

    for text in ("1/9", "-3/4", "1e-3", "−0.5", " 2 "):
        assert kernels.parse_kernel([[text]])[0, 0] == parse_number(text)


def test_sums_to_zero_decides_what_normalise_can_do():
    assert kernels.sums_to_zero(kernels.PRESETS["Laplacian (8-neighbour)"].kernel)
    assert not kernels.sums_to_zero(kernels.PRESETS["Emboss"].kernel)
    np.testing.assert_allclose(kernels.normalise(np.array([[1.0, 3.0]])), [[0.25, 0.75]])


def test_resize_kernel_keeps_the_middle_in_the_middle():
    sharpen = kernels.PRESETS["Sharpen"].kernel
    grown = kernels.resize_kernel(sharpen, 5, 5)
    assert grown.shape == (5, 5) and grown[2, 2] == 5 and grown.sum() == sharpen.sum()
    np.testing.assert_array_equal(grown[1:4, 1:4], sharpen)
    np.testing.assert_array_equal(kernels.resize_kernel(grown, 3, 3), sharpen)
    np.testing.assert_array_equal(kernels.resize_kernel(sharpen, 3, 5)[:, 1:4], sharpen)
    np.testing.assert_array_equal(kernels.resize_kernel(sharpen, 1, 1), [[5]])


def test_auto_display_follows_what_the_kernel_does_to_brightness():
    assert kernels.auto_display(kernels.PRESETS["Box blur"].kernel, "gray") == "clip"
    assert kernels.auto_display(kernels.PRESETS["Sharpen"].kernel, "rgb") == "clip"
    assert kernels.auto_display(kernels.PRESETS["Sobel x"].kernel, "gray") == "signed"
    assert kernels.auto_display(kernels.PRESETS["Sobel x"].kernel, "rgb") == "abs"
    assert kernels.auto_display(kernels.PRESETS["Sobel x"].kernel, "gray", magnitude=True) == "abs"


@pytest.mark.parametrize("name", ["Vertical line 7x7", "Horizontal line 7x7"])
def test_all_positive_kernels_are_stretched_not_signed(name):
    """Line detectors never respond below zero: signed colours made them look like a negative."""
    k = kernels.PRESETS[name].kernel
    assert k.min() >= 0 and k.sum() > 1.5
    assert kernels.auto_display(k, "gray") == "stretch"
    assert kernels.auto_display(k, "rgb") == "stretch"
