"""The worked examples of the course notes: computed values, torch agreement, and the notes' mistakes."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cnn_core import geometry
from cnn_core.worked_examples import EXAMPLES, NOTE_TITLES, compute, discrepancies
from tests.conftest import SHARED

NOTES = SHARED / "course-notes"


def test_required_examples_are_preloaded():
    names = set(EXAMPLES)
    for required in [
        "6x6 vertical edge, stride 1",
        "6x6 vertical edge, stride 2",
        "5x5 of ones, SAME padding, 3x3 kernel",
        "4x4 max pooling 2x2, stride 2",
        "4x4 average pooling 2x2, stride 2",
        "4x4 min pooling 2x2, stride 2",
        "3 channels, two kernels and a bias",
    ]:
        assert required in names


def test_vertical_edge_stride_1_and_the_notes_mistake():
    ex = EXAMPLES["6x6 vertical edge, stride 1"]
    y = compute(ex)[0]
    np.testing.assert_array_equal(y, [[-14, -1, 10, -1], [-11, -11, 7, 12], [-7, -10, 1, 13], [5, -16, -4, 11]])
    (d,) = discrepancies(ex)
    assert d.cell == (0, 3, 3) and d.printed == 10 and d.correct == 11
    assert "the notes print 10" in d.sentence().lower() and "correct value is 11" in d.sentence()


def test_vertical_edge_stride_2_agrees_with_the_notes():
    ex = EXAMPLES["6x6 vertical edge, stride 2"]
    np.testing.assert_array_equal(compute(ex)[0], [[-14, 10], [-7, 1]])
    assert discrepancies(ex) == []


def test_same_padding_of_ones_counts_real_cells():
    ex = EXAMPLES["5x5 of ones, SAME padding, 3x3 kernel"]
    y = compute(ex)[0]
    assert y.shape == (5, 5)
    assert y[0, 0] == 4 and y[0, 2] == 6 and y[2, 2] == 9
    assert geometry.same_padding(5, 3) == (1, 1)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("4x4 max pooling 2x2, stride 2", [[6, 8], [5, 8]]),
        ("4x4 average pooling 2x2, stride 2", [[4.25, 4.25], [4.25, 3.5]]),
        ("4x4 min pooling 2x2, stride 2", [[6, 8], [9, 5]]),
    ],
)
def test_pooling_examples(name, expected):
    ex = EXAMPLES[name]
    np.testing.assert_allclose(compute(ex), expected)
    assert discrepancies(ex) == []


def test_digit_patch_mistakes_are_found():
    ex = EXAMPLES["6x6 digit patch, cross kernel"]
    found = {d.cell: (d.printed, d.correct) for d in discrepancies(ex)}
    assert found.keys() == {(0, 0, 2), (0, 3, 2)}
    assert found[(0, 0, 2)] == pytest.approx((1.0, 0.8))
    assert found[(0, 3, 2)] == pytest.approx((1.1, 0.2))
    pooled = EXAMPLES["Max pooling of the digit's convolved matrix"]
    np.testing.assert_allclose(compute(pooled), [[0.5, 1.6], [0.4, 1.7]])
    assert len(discrepancies(pooled)) == 2


def test_first_cell_429():
    ex = EXAMPLES["6x6 photo patch, first cell 429"]
    assert compute(ex)[0, 0, 0] == 429
    assert discrepancies(ex) == []


def test_three_channel_example_sums_channels_plus_bias_and_counts_params():
    ex = EXAMPLES["3 channels, two kernels and a bias"]
    assert ex.x.shape[0] == 3 and ex.kernels.shape[:2] == (2, 3) and ex.constructed
    y = compute(ex)
    ref = F.conv2d(torch.tensor(ex.x)[None], torch.tensor(ex.kernels), torch.tensor(ex.biases, dtype=torch.float64))[0]
    np.testing.assert_allclose(y, ref.numpy())
    assert geometry.conv_params(3, 3, 3, 2) == 56


def test_same_pooling_pads_bottom_right_only():
    ex = EXAMPLES["5x5 max pooling with SAME padding"]
    assert geometry.same_padding(5, 2, stride=2) == (0, 1)
    np.testing.assert_allclose(compute(ex), [[3, 5, 7], [5, 7, 2], [5, 2, 2]])


@pytest.mark.parametrize("name", list(EXAMPLES))
def test_every_example_agrees_with_torch(name):
    ex = EXAMPLES[name]
    y = compute(ex)
    x = torch.tensor(ex.x, dtype=torch.float64)
    if ex.operation == "conv2d":
        pad = ex.padding if isinstance(ex.padding, int) else geometry.resolve_padding(ex.padding, 1, 1)[0]
        if ex.padding == "same":
            pad = geometry.same_padding(ex.x.shape[-1], ex.kernels.shape[-1], stride=ex.stride)[0]
        ref = F.conv2d(
            x[None],
            torch.tensor(ex.kernels),
            torch.tensor(ex.biases, dtype=torch.float64),
            stride=ex.stride,
            padding=pad,
        )[0]
    elif ex.operation == "conv1d":
        ref = F.conv1d(x[None, None], torch.tensor(ex.kernels)[None, None], stride=ex.stride)[0, 0]
    elif ex.operation == "chain":
        conv = F.conv2d(x[None], torch.tensor(ex.kernels), stride=ex.stride) + ex.biases[0]
        ref = F.max_pool2d(F.relu(conv), ex.pool_size, ex.pool_stride)[0, 0]
    elif ex.operation == "backward":
        xg = x.clone().requires_grad_(True)
        y_t = F.conv2d(xg[None], torch.tensor(ex.kernels), stride=ex.stride)[0, 0]
        (y_t * torch.tensor(ex.grad_out)).sum().backward()
        ref = xg.grad
    elif ex.operation == "transposed":
        ref = F.conv_transpose2d(x[None, None], torch.tensor(ex.kernels)[None, None], stride=ex.stride)[0, 0]
    else:
        pt, pb = geometry.resolve_padding(ex.padding, ex.x.shape[0], ex.pool_size, stride=ex.stride)
        pl, pr = geometry.resolve_padding(ex.padding, ex.x.shape[1], ex.pool_size, stride=ex.stride)
        fill = {"max": -np.inf, "min": np.inf}.get(ex.pool_mode, 0.0)
        xp = F.pad(x[None, None], (pl, pr, pt, pb), value=fill)
        if ex.pool_mode == "max":
            ref = F.max_pool2d(xp, ex.pool_size, ex.stride)
        elif ex.pool_mode == "min":
            ref = -F.max_pool2d(-xp, ex.pool_size, ex.stride)
        else:
            ref = F.avg_pool2d(xp, ex.pool_size, ex.stride)
        ref = ref[0, 0]
    np.testing.assert_allclose(y, ref.numpy(), atol=1e-10)


def _contains_run(seq: list[float], row: list[float]) -> bool:
    n = len(row)
    return any(seq[i : i + n] == row for i in range(len(seq) - n + 1))


@pytest.mark.skipif(not NOTES.exists(), reason="../shared/course-notes not present")
@pytest.mark.parametrize("name", [n for n, e in EXAMPLES.items() if not e.constructed])
def test_numbers_come_from_the_named_notes_file(name):
    """Every non-constructed example's input rows appear, as runs of numbers, in the notes file it names."""
    ex = EXAMPLES[name]
    text = (NOTES / ex.source).read_text()
    numbers = [float(t) for t in re.findall(r"-?\d+(?:\.\d+)?", text)]
    rows = np.asarray(ex.x).reshape(-1, np.asarray(ex.x).shape[-1]).tolist()
    if name.startswith("5x5 of ones"):
        rows = [[0, 1, 1, 1, 1, 1, 0]]  # the notes' padded 7x7 grid shows the 5x5 of ones
    elif name.startswith("5x5 max pooling with SAME"):
        rows = [[1.5, 5.0, 5.0, 3.0, 2.0, 0.0, 3.0, 5.0, 7.0, 1.5, 0.0, 0.0]]  # rows 3-4 + pad
    missing = [r for r in rows if not _contains_run(numbers, [float(v) for v in r])]
    assert not missing, f"{name}: rows {missing} not found in {ex.source}"


def test_the_practice_exercise_conv_relu_pool():
    """The notes' practice exercise: 8x7 -> 3x3 conv -> 6x5 -> ReLU -> 2x2 max pool, stride 1 -> 5x4."""
    ex = EXAMPLES["Practice: 8x7 image, 3x3 conv, ReLU, 2x2 max pool stride 1"]
    assert ex.x.shape == (1, 8, 7) and ex.constructed and ex.notes_printed is None
    y = compute(ex)
    assert y.shape == (5, 4)
    assert y[0, 0] == 3 and y[2, 1] == 0  # a window of four negative conv values pools to 0 after ReLU
    assert "untick ReLU" in ex.about


def test_the_backward_example_says_where_the_notes_are_wrong():
    ex = EXAMPLES["Backward pass, 5x5 input, 3x3 kernel, stride 2"]
    gx = compute(ex)
    assert gx.shape == (1, 5, 5) and gx[0, 2, 2] == -1.5  # 1×1 + (-1)×3 + 2×0 + 0.5×1, one term per dL/dy cell
    assert "stride 1 only" in ex.about and "spread out" in ex.about


@pytest.mark.skipif(not NOTES.exists(), reason="../shared/course-notes not present")
def test_every_source_is_named_by_the_title_its_notes_open_with():
    for name, title in NOTE_TITLES.items():
        head = " ".join((NOTES / name).read_text().split()[:400]).lower()
        words = [w for w in re.findall(r"[a-z]{4,}", title.lower()) if w not in ("tutorial", "article", "elective")]
        assert all(w in head for w in words), (name, [w for w in words if w not in head])
    for ex in EXAMPLES.values():
        assert ex.source_title == NOTE_TITLES[ex.source] and ".txt" not in ex.source_title


def test_discrepancy_sentence_counts_from_zero():
    (d,) = discrepancies(EXAMPLES["6x6 vertical edge, stride 1"])
    assert "(row, column) = (3, 3), counting from 0" in d.sentence()
