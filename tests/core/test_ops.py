"""cnn_core.ops against torch.nn.functional, and the course notes' worked examples (computed, not copied)."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cnn_core import ops

EDGE_INPUT = np.array(
    [
        [1, 2, 3, 1, 3, 5],
        [2, 2, 5, 4, 2, 5],
        [0, 6, 9, 6, 2, 2],
        [2, 0, 1, 9, 4, 0],
        [5, 5, 4, 6, 7, 6],
        [6, 1, 3, 7, 1, 5],
    ],
    dtype=float,
)
VERTICAL_EDGE = np.array([[1, 0, -1]] * 3, dtype=float)


def _torch_conv(x, k, bias, **kw):
    t = F.conv2d(torch.tensor(x)[None], torch.tensor(k)[None], bias=torch.tensor([bias], dtype=torch.float64), **kw)
    return t[0, 0].numpy()


def test_conv2d_matches_torch_over_random_settings():
    rng = np.random.default_rng(0)
    checked = 0
    for _ in range(400):
        c = int(rng.integers(1, 4))
        h, w = (int(v) for v in rng.integers(1, 12, 2))
        kh, kw = (int(v) for v in rng.integers(1, 5, 2))
        s, d, p = (tuple(int(v) for v in rng.integers(lo, hi, 2)) for lo, hi in ((1, 4), (1, 3), (0, 3)))
        x, k = rng.normal(size=(c, h, w)), rng.normal(size=(c, kh, kw))
        try:
            ours = ops.conv2d(x, k, stride=s, padding=p, dilation=d, bias=0.25)
        except ValueError as err:
            assert "larger than the padded input" in str(err)
            with pytest.raises(RuntimeError):
                _torch_conv(x, k, 0.25, stride=s, padding=p, dilation=d)
            continue
        np.testing.assert_allclose(ours, _torch_conv(x, k, 0.25, stride=s, padding=p, dilation=d), atol=1e-10)
        checked += 1
    assert checked > 200


def test_same_padding_uneven_as_tensorflow():
    x = np.arange(36.0).reshape(6, 6)
    k = np.ones((2, 2))
    ours = ops.conv2d(x, k, padding="same")  # total padding 1: none before, one after
    ref = _torch_conv(np.pad(x, ((0, 1), (0, 1)))[None], k[None], 0.0)
    np.testing.assert_allclose(ours, ref)
    assert ours.shape == (6, 6)


def test_vertical_edge_worked_example_stride_1_and_2():
    out = ops.conv2d(EDGE_INPUT, VERTICAL_EDGE)
    np.testing.assert_array_equal(
        out, [[-14, -1, 10, -1], [-11, -11, 7, 12], [-7, -10, 1, 13], [5, -16, -4, 11]]
    )  # the notes print 10 in the bottom-right cell; 4+9+1 - (6+7+5) ... computed: 11
    np.testing.assert_array_equal(ops.conv2d(EDGE_INPUT, VERTICAL_EDGE, stride=2), [[-14, 10], [-7, 1]])


def test_trace_records_window_products_and_sum():
    out, trace = ops.conv2d(EDGE_INPUT, VERTICAL_EDGE, stride=2, bias=1.0, trace=True)
    step = trace.step_at(1, 1)
    assert step.rows == (2, 3, 4) and step.cols == (2, 3, 4)
    np.testing.assert_array_equal(step.window[0], EDGE_INPUT[2:5, 2:5])
    np.testing.assert_array_equal(step.products[0], EDGE_INPUT[2:5, 2:5] * VERTICAL_EDGE)
    assert step.total == 1.0 and step.value == 2.0 == out[1, 1]
    assert len(trace.steps) == 4


def test_trace_marks_padding_cells():
    _, trace = ops.conv2d(np.ones((3, 3)), np.ones((3, 3)), padding="same", trace=True)
    assert trace.padded.shape == (1, 5, 5)
    assert trace.is_padding(0, 0) and not trace.is_padding(1, 1) and trace.is_padding(4, 2)
    assert trace.step_at(0, 0).total == 4.0  # corner sees 4 input ones and 5 zeros of padding


def _torch_pool(t, mode, k, s, p):
    if mode == "max":
        return F.max_pool2d(t, k, s, p)
    if mode == "min":
        return -F.max_pool2d(-t, k, s, p)
    avg = F.avg_pool2d(t, k, s, p, count_include_pad=True)
    return avg if mode == "avg" else avg * k * k


@pytest.mark.parametrize("mode", ["max", "avg", "min", "sum"])
def test_pool2d_matches_torch(mode):
    rng = np.random.default_rng(1)
    for _ in range(100):
        h, w = (int(v) for v in rng.integers(2, 10, 2))
        k = int(rng.integers(1, 4))
        s = int(rng.integers(1, 4))
        p = int(rng.integers(0, k // 2 + 1))  # torch allows padding up to half the window
        if h + 2 * p < k or w + 2 * p < k:
            continue
        x = rng.normal(size=(2, h, w))
        ref = _torch_pool(torch.tensor(x)[None], mode, k, s, p)[0].numpy()
        np.testing.assert_allclose(ops.pool2d(x, k, stride=s, padding=p, mode=mode), ref, atol=1e-10)


def test_pooling_worked_examples():
    np.testing.assert_array_equal(
        ops.pool2d(np.array([[1, 3, 2, 4], [5, 6, 8, 7], [4, 2, 1, 3], [2, 5, 7, 8]]), 2, stride=2), [[6, 8], [5, 8]]
    )
    np.testing.assert_array_equal(
        ops.pool2d(np.array([[2, 2, 7, 3], [9, 4, 6, 1], [8, 5, 2, 4], [3, 1, 2, 6]]), 2, mode="avg"),
        [[4.25, 4.25], [4.25, 3.5]],
    )
    np.testing.assert_array_equal(
        ops.pool2d(np.array([[20, 8, 12, 15], [6, 12, 9, 8], [9, 12, 10, 6], [18, 10, 5, 9]]), 2, mode="min"),
        [[6, 8], [9, 5]],
    )


def test_global_pooling_is_a_window_the_size_of_the_input():
    x = np.arange(12.0).reshape(3, 4)
    assert ops.pool2d(x, x.shape, mode="max").item() == 11.0
    assert ops.pool2d(x, x.shape, mode="avg").item() == 5.5


def test_pool_trace():
    out, trace = ops.pool2d(np.array([[1, 3, 2, 4], [5, 6, 8, 7], [4, 2, 1, 3], [2, 5, 7, 8]]), 2, trace=True)
    step = trace.step_at(0, 1)
    np.testing.assert_array_equal(step.window, [[2, 4], [8, 7]])
    assert step.value == 8 == out[0, 1] and step.products is None


@pytest.mark.parametrize(
    "call,words",
    [
        (lambda: ops.conv2d(np.ones((3, 3)), np.ones((5, 5))), "larger than the padded input"),
        (lambda: ops.conv2d(np.ones((3, 3)), np.ones((2, 2)), stride=0), "stride must be at least 1"),
        (lambda: ops.conv2d(np.ones((3, 3)), np.ones((2, 2)), padding=-1), "cannot be negative"),
        (lambda: ops.conv2d(np.ones((2, 3, 3)), np.ones((3, 2, 2))), "channels"),
        (lambda: ops.conv2d(np.ones((3, 3)), np.full((2, 2), np.nan)), "finite"),
        (lambda: ops.pool2d(np.ones((3, 3)), 2, mode="median"), "Unknown pooling"),
        (lambda: ops.conv2d(np.ones((3, 3)), np.ones((2, 2)), padding="half"), "Unknown padding"),
    ],
)
def test_bad_settings_give_readable_errors(call, words):
    with pytest.raises(ValueError, match=words):
        call()
