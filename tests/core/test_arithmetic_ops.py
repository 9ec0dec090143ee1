"""The Arithmetic page's operations against torch: conv1d, conv2d layers, transposed conv, pooling."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cnn_core import geometry, ops

RNG = np.random.default_rng(1234)


def _t(a: np.ndarray) -> torch.Tensor:
    return torch.tensor(a, dtype=torch.float64)


def _random_conv_cases(n: int):
    cases = []
    while len(cases) < n:
        c, m = int(RNG.integers(1, 4)), int(RNG.integers(1, 4))
        h, w = (int(v) for v in RNG.integers(1, 12, size=2))
        kh, kw = (int(v) for v in RNG.integers(1, 5, size=2))
        s = tuple(int(v) for v in RNG.integers(1, 4, size=2))
        d = tuple(int(v) for v in RNG.integers(1, 3, size=2))
        p = tuple(int(v) for v in RNG.integers(0, 3, size=2))
        if any(di * (k - 1) + 1 > n + 2 * pi for n, k, pi, di in zip((h, w), (kh, kw), p, d, strict=True)):
            continue
        cases.append((c, m, h, w, kh, kw, s, d, p))
    return cases


@pytest.mark.parametrize(("c", "m", "h", "w", "kh", "kw", "s", "d", "p"), _random_conv_cases(60))
@pytest.mark.parametrize("activation", ["none", "relu"])
def test_conv2d_layer_matches_torch(c, m, h, w, kh, kw, s, d, p, activation):
    x = RNG.normal(size=(c, h, w))
    k = RNG.normal(size=(m, c, kh, kw))
    b = RNG.normal(size=m)
    ours, tr = ops.conv2d_layer(x, k, b, stride=s, padding=p, dilation=d, activation=activation, trace=True)
    ref = F.conv2d(_t(x)[None], _t(k), _t(b), stride=s, padding=p, dilation=d)[0]
    if activation == "relu":
        ref = F.relu(ref)
    np.testing.assert_allclose(ours, ref.numpy(), atol=1e-10)
    # the trace agrees with the output cell by cell, and per-channel sums add up to it
    for mi in range(m):
        for r in range(ours.shape[1]):
            for col in range(ours.shape[2]):
                assert tr.activated(mi, r, col) == pytest.approx(ours[mi, r, col])
                sums = tr.channel_sums(mi, r, col)
                assert sums.shape == (c,)
                pre = sums.sum() + b[mi]
                assert (max(pre, 0) if activation == "relu" else pre) == pytest.approx(ours[mi, r, col])


@pytest.mark.parametrize("seed", range(40))
def test_conv1d_matches_torch(seed):
    rng = np.random.default_rng(seed)
    c, length, k = int(rng.integers(1, 4)), int(rng.integers(3, 20)), int(rng.integers(1, 5))
    s, d, p = int(rng.integers(1, 4)), int(rng.integers(1, 3)), int(rng.integers(0, 3))
    if d * (k - 1) + 1 > length + 2 * p:
        pytest.skip("kernel does not fit")
    x, ker, b = rng.normal(size=(c, length)), rng.normal(size=(c, k)), float(rng.normal())
    ours = ops.conv1d(x, ker, stride=s, padding=p, dilation=d, bias=b)
    ref = F.conv1d(_t(x)[None], _t(ker)[None], _t(np.array([b])), stride=s, padding=p, dilation=d)[0, 0]
    np.testing.assert_allclose(ours, ref.numpy(), atol=1e-10)


def test_conv1d_same_padding_is_tensorflow_style_and_traced():
    x = np.arange(10.0)
    y, tr = ops.conv1d(x, np.array([1.0, 0.0, -1.0, 2.0]), padding="same", trace=True)
    assert y.shape == (10,)
    assert tr.pad == ((0, 0), (1, 2))  # uneven total 3: the extra cell goes after
    ref = F.conv1d(F.pad(_t(x)[None, None], (1, 2)), _t(np.array([[[1.0, 0.0, -1.0, 2.0]]])))[0, 0]
    np.testing.assert_allclose(y, ref.numpy())
    assert tr.step_at(0, 3).cols == (3, 4, 5, 6)


@pytest.mark.parametrize("seed", range(60))
def test_conv_transpose2d_matches_torch(seed):
    rng = np.random.default_rng(seed)
    c, h, w = int(rng.integers(1, 3)), int(rng.integers(1, 6)), int(rng.integers(1, 6))
    kh, kw = (int(v) for v in rng.integers(1, 5, size=2))
    s = tuple(int(v) for v in rng.integers(1, 4, size=2))
    d = tuple(int(v) for v in rng.integers(1, 3, size=2))
    p = tuple(int(v) for v in rng.integers(0, 3, size=2))
    op = tuple(int(rng.integers(0, max(si, di))) for si, di in zip(s, d, strict=True))
    x, k, b = rng.normal(size=(c, h, w)), rng.normal(size=(c, kh, kw)), float(rng.normal())
    try:
        sizes = [
            geometry.transposed_output_size(n, kk, stride=si, padding=pi, output_padding=oi, dilation=di)
            for n, kk, si, pi, oi, di in zip((h, w), (kh, kw), s, p, op, d, strict=True)
        ]
    except ValueError:
        pytest.skip("padding crops away the whole output")
    ours, tr = ops.conv_transpose2d(x, k, stride=s, padding=p, output_padding=op, dilation=d, bias=b, trace=True)
    ref = F.conv_transpose2d(
        _t(x)[None], _t(k)[:, None], _t(np.array([b])), stride=s, padding=p, output_padding=op, dilation=d
    )[0, 0]
    assert list(ours.shape) == sizes
    np.testing.assert_allclose(ours, ref.numpy(), atol=1e-10)
    # scatter view: the stamps x[c, i, j] * kernel[c] on the output, added up, give the same output
    stamps = [tr.stamp(i) for i in range(len(tr.scatter))]
    assert len(stamps) == c * h * w
    np.testing.assert_allclose(b + sum(st.values for st in stamps), ours, atol=1e-10)
    for st in stamps:
        assert st.values.shape == st.reached.shape == ours.shape
        assert not st.values[~st.reached].any()
        assert st.reached.sum() == len(st.rows) * len(st.cols)
        assert all(0 <= r < ours.shape[0] for r in st.rows) and all(0 <= col < ours.shape[1] for col in st.cols)
    # gather view: input values sit every `stride` cells of the spread-out grid
    assert tr.is_input.sum() <= c * h * w
    np.testing.assert_array_equal(tr.flipped_kernel, k[:, ::-1, ::-1])


def test_transposed_stamp_places_value_times_kernel_and_crops_by_the_padding():
    x = np.array([[1.0, 2.0], [3.0, 4.0]])
    k = np.array([[1.0, 0.0, -1.0], [2.0, 1.0, 0.0], [0.0, 1.0, 1.0]])
    out, tr = ops.conv_transpose2d(x, k, stride=2, padding=1, trace=True)  # 3x3 output
    assert out.shape == (3, 3)
    st = tr.stamp(3)  # the value 4 at input (1, 1): its taps land on rows/cols 1, 2, 3; 3 is cropped
    assert st.step.in_index == (0, 1, 1) and st.step.value == 4.0
    assert st.rows == (1, 2) and st.cols == (1, 2)
    np.testing.assert_array_equal(st.values, [[0, 0, 0], [0, 4, 0], [0, 8, 4]])  # 4 * k[:2, :2]
    np.testing.assert_array_equal(st.reached, [[False] * 3, [False, True, True], [False, True, True]])
    first = tr.stamp(0)  # the value 1 at (0, 0): only the taps k[1:, 1:] survive the crop
    np.testing.assert_array_equal(first.values, [[1, 0, 0], [1, 1, 0], [0, 0, 0]])


def test_transposed_is_the_backward_pass_of_a_convolution():
    """The gradient of conv2d with respect to its input is conv_transpose2d of the output gradient."""
    rng = np.random.default_rng(7)
    x = _t(rng.normal(size=(1, 1, 7, 7))).requires_grad_()
    k = rng.normal(size=(3, 3))
    y = F.conv2d(x, _t(k)[None, None], stride=2, padding=1)
    g = rng.normal(size=y.shape[2:])
    y.backward(_t(g)[None, None])
    ours = ops.conv_transpose2d(g, k, stride=2, padding=1, output_padding=0)
    np.testing.assert_allclose(ours, x.grad[0, 0].numpy(), atol=1e-10)


def _random_pool_cases(n: int):
    cases = []
    while len(cases) < n:
        h, w = (int(v) for v in RNG.integers(1, 12, size=2))
        k = (int(RNG.integers(1, 4)), int(RNG.integers(1, 4)))
        s = (int(RNG.integers(1, 4)), int(RNG.integers(1, 4)))
        p = (int(RNG.integers(0, k[0] // 2 + 1)), int(RNG.integers(0, k[1] // 2 + 1)))
        if k[0] > h + 2 * p[0] or k[1] > w + 2 * p[1]:
            continue
        cases.append((h, w, k, s, p))
    return cases


@pytest.mark.parametrize(("h", "w", "k", "s", "p"), _random_pool_cases(50))
@pytest.mark.parametrize("mode", ["max", "avg", "min", "sum"])
def test_pool2d_matches_torch(h, w, k, s, p, mode):
    x = RNG.normal(size=(2, h, w))
    ours = ops.pool2d(x, k, stride=s, padding=p, mode=mode)
    tx = _t(x)[None]
    if mode == "max":
        ref = F.max_pool2d(tx, k, s, p)
    elif mode == "min":
        ref = -F.max_pool2d(-tx, k, s, p)
    elif mode == "avg":
        ref = F.avg_pool2d(tx, k, s, p, count_include_pad=True)
    else:
        ref = F.avg_pool2d(tx, k, s, p, count_include_pad=True) * (k[0] * k[1])
    np.testing.assert_allclose(ours, ref[0].numpy(), atol=1e-10)


def test_global_pooling_matches_torch():
    x = RNG.normal(size=(3, 5, 7))
    np.testing.assert_allclose(ops.global_pool2d(x, "max"), F.adaptive_max_pool2d(_t(x), 1).numpy())
    np.testing.assert_allclose(ops.global_pool2d(x, "avg"), F.adaptive_avg_pool2d(_t(x), 1).numpy())
    y, tr = ops.global_pool2d(x[0], "avg", trace=True)
    assert y.shape == (1, 1) and len(tr.steps) == 1 and tr.steps[0].window.shape == (5, 7)


def test_pool_kept_cell_points_at_the_max_and_min():
    x = np.array([[1, 3, 2, 4], [5, 6, 8, 7], [4, 2, 1, 3], [2, 5, 7, 8]], dtype=float)
    _, tr = ops.pool2d(x, 2, mode="max", trace=True)
    assert [ops.pool_kept_cell(s, "max") for s in tr.steps] == [(1, 1), (1, 2), (3, 1), (3, 3)]
    _, tr = ops.pool2d(x, 2, mode="min", trace=True)
    assert ops.pool_kept_cell(tr.steps[0], "min") == (0, 0)
    assert ops.pool_kept_cell(tr.steps[0], "avg") is None


def test_explain_conv_step_writes_products_sum_bias_and_relu():
    x = np.array([[1, 2, 3, 1, 3, 5], [2, 2, 5, 4, 2, 5], [0, 6, 9, 6, 2, 2]], dtype=float)
    k = np.array([[1, 0, -1]] * 3, dtype=float)
    _, tr = ops.conv2d(x, k, bias=-1.5, trace=True)
    lines = ops.explain_conv_step(tr.step_at(0, 0), k[None], activation="relu")
    assert lines[0] == "1×1 + 2×0 + 3×(-1) + 2×1 + 2×0 + 5×(-1) + 0×1 + 6×0 + 9×(-1) = -14"
    assert lines[1] == "(-14) + bias (-1.5) = -15.5"
    assert lines[2] == "ReLU(-15.5) = max(0, -15.5) = 0"


def test_explain_conv_step_multichannel_sums_channels():
    x = np.ones((2, 2, 2))
    k = np.stack([np.ones((2, 2)), 2 * np.ones((2, 2))])
    _, tr = ops.conv2d(x, k, bias=1, trace=True)
    lines = ops.explain_conv_step(tr.steps[0], k)
    assert lines[0].startswith("channel 0: 1×1 + 1×1") and lines[0].endswith("= 4")
    assert lines[1].endswith("= 8")
    assert lines[2] == "sum over channels: 4 + 8 + bias 1 = 13"


def test_explain_pool_step():
    x = np.array([[2, 2, 7, 3], [9, 4, 6, 1], [8, 5, 2, 4], [3, 1, 2, 6]], dtype=float)
    _, tr = ops.pool2d(x, 2, mode="avg", trace=True)
    assert ops.explain_pool_step(tr.steps[0], "avg") == "(2 + 2 + 9 + 4) / 4 = 4.25"
    _, tr = ops.pool2d(x, 2, mode="max", padding=((0, 1), (0, 1)), stride=3, trace=True)
    assert ops.explain_pool_step(tr.steps[-1], "max") == "max(6, -∞, -∞, -∞) = 6"


def test_working_lines_are_structured_and_write_the_text():
    x = np.ones((2, 2, 2))
    k = np.stack([np.ones((2, 2)), 2 * np.ones((2, 2))])
    _, tr = ops.conv2d(x, k, bias=-1, trace=True)
    lines = ops.conv_working(tr.steps[0], k, activation="relu")
    assert [line.kind for line in lines] == ["products", "products", "channels", "relu"]
    assert [line.result for line in lines] == [4.0, 8.0, 11.0, 11.0]
    assert lines[2].inputs == (4.0, 8.0) and lines[2].bias == -1
    assert lines[0].pairs == ((1.0, 1.0),) * 4 and lines[1].channel == 1
    assert [line.text() for line in lines] == ops.explain_conv_step(tr.steps[0], k, activation="relu")
    assert lines[2].text() == "sum over channels: 4 + 8 + bias (-1) = 11"
    pool = ops.pool_working(ops.pool2d(np.arange(4.0).reshape(2, 2), 2, mode="min", trace=True)[1].steps[0], "min")
    assert (pool.kind, pool.inputs, pool.result, pool.text()) == (
        "pool",
        (0.0, 1.0, 2.0, 3.0),
        0.0,
        "min(0, 1, 2, 3) = 0",
    )


def test_trace_centre_is_in_input_coordinates():
    _, tr = ops.conv1d(np.arange(5.0), np.ones(3), padding=1, trace=True)
    assert [tr.centre(s) for s in tr.steps] == [(0.0, float(t)) for t in range(5)]


def test_format_number():
    assert ops.format_number(3.0) == "3"
    assert ops.format_number(0.1 + 0.2) == "0.3"
    assert ops.format_number(-0.25) == "-0.25"
    assert ops.format_number(1 / 3) == "0.3333"
    assert ops.format_number(-np.inf) == "-∞"


def test_bad_input_gives_sentences():
    with pytest.raises(ValueError, match="one bias per kernel"):
        ops.conv2d_layer(np.ones((1, 3, 3)), np.ones((2, 1, 2, 2)), np.ones(3))
    with pytest.raises(ValueError, match="larger than the padded input"):
        ops.conv1d(np.ones(3), np.ones(5))
    with pytest.raises(ValueError, match="Output padding"):
        ops.conv_transpose2d(np.ones((2, 2)), np.ones((2, 2)), stride=1, output_padding=1)
    with pytest.raises(ValueError, match="stride"):
        ops.conv2d_layer(np.ones((1, 3, 3)), np.ones((1, 1, 2, 2)), stride=0)
