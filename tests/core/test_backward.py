"""The backward pass and the rest of the notes' operations against torch: conv2d_backward vs autograd,
1x1 convolution vs a 1x1 ``F.conv2d``, 3-D convolution vs ``F.conv3d``, conv -> ReLU -> pool vs torch."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cnn_core import ops

RNG = np.random.default_rng(2026)


def _t(a: np.ndarray, grad: bool = False) -> torch.Tensor:
    return torch.tensor(np.asarray(a), dtype=torch.float64, requires_grad=grad)


def _cases(n: int):
    """Seeded random settings: channels, sizes, kernel, stride, dilation, per-side padding."""
    cases = []
    while len(cases) < n:
        c = int(RNG.integers(1, 4))
        h, w = (int(v) for v in RNG.integers(1, 10, size=2))
        kh, kw = (int(v) for v in RNG.integers(1, 4, size=2))
        s = tuple(int(v) for v in RNG.integers(1, 4, size=2))
        d = tuple(int(v) for v in RNG.integers(1, 3, size=2))
        p = tuple(int(v) for v in RNG.integers(0, 3, size=2))
        if any(di * (k - 1) + 1 > size + 2 * pi for size, k, pi, di in zip((h, w), (kh, kw), p, d, strict=True)):
            continue
        cases.append((c, h, w, kh, kw, s, d, p))
    return cases


def _autograd(x, k, g, s, p, d):
    xt, kt = _t(x, True), _t(k, True)
    y = F.conv2d(xt[None], kt[None], stride=s, padding=p, dilation=d)[0, 0]
    (y * _t(g)).sum().backward()
    return xt.grad.numpy(), kt.grad.numpy()


@pytest.mark.parametrize(("c", "h", "w", "kh", "kw", "s", "d", "p"), _cases(40))
def test_conv2d_backward_matches_autograd(c, h, w, kh, kw, s, d, p):
    x = RNG.normal(size=(c, h, w))
    k = RNG.normal(size=(c, kh, kw))
    oh, ow = ops.conv2d(x, k, stride=s, padding=p, dilation=d).shape
    g = RNG.normal(size=(oh, ow))
    gx, gk, tr = ops.conv2d_backward(x, k, g, stride=s, padding=p, dilation=d, trace=True)
    want_x, want_k = _autograd(x, k, g, s, p, d)
    np.testing.assert_allclose(gx, want_x, atol=1e-10)
    np.testing.assert_allclose(gk, want_k, atol=1e-10)
    assert tr.grad_bias == pytest.approx(g.sum())
    for ch in range(c):
        for r in range(h):
            for q in range(w):
                step = tr.dx[ch].step_at(r, q)  # the gather view's step: window × flipped kernel
                assert step.total == pytest.approx(gx[ch, r, q], abs=1e-10)
                assert sum(t.product for t in tr.dx_terms(ch, r, q)) == pytest.approx(gx[ch, r, q], abs=1e-10)
        for a in range(kh):
            for b in range(kw):
                assert tr.dw[ch].step_at(a, b).total == pytest.approx(gk[ch, a, b], abs=1e-10)
                assert sum(t.product for t in tr.dw_terms(ch, a, b)) == pytest.approx(gk[ch, a, b], abs=1e-10)


def test_conv2d_backward_single_channel_and_uneven_same_padding():
    x = RNG.normal(size=(6, 5))
    k = RNG.normal(size=(2, 2))
    y = ops.conv2d(x, k, stride=2, padding="same")
    g = RNG.normal(size=y.shape)
    gx, gk = ops.conv2d_backward(x, k, g, stride=2, padding="same")
    assert gx.shape == x.shape and gk.shape == k.shape
    pad = ops.resolve_padding_2d("same", x.shape, k.shape, (2, 2), (1, 1))
    (top, bottom), (left, right) = pad
    assert (top, bottom, left, right) == (0, 0, 0, 1)  # SAME puts the uneven cell on the right
    base = _t(x[None, None], True)
    kt = _t(k[None, None], True)
    out = F.conv2d(F.pad(base, (left, right, top, bottom)), kt, stride=2)[0, 0]
    (out * _t(g)).sum().backward()
    np.testing.assert_allclose(gx, base.grad[0, 0].numpy(), atol=1e-10)
    np.testing.assert_allclose(gk, kt.grad[0, 0].numpy(), atol=1e-10)


def test_backward_stride_two_spreads_the_gradient_and_flips_the_kernel():
    x = np.arange(25.0).reshape(5, 5)
    k = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]])
    g = np.array([[1.0, 2.0], [3.0, 4.0]])
    _, _, tr = ops.conv2d_backward(x, k, g, stride=2, trace=True)
    np.testing.assert_array_equal(tr.spread, [[1, 0, 2], [0, 0, 0], [3, 0, 4]])
    np.testing.assert_array_equal(tr.dx_kernel[0], k[::-1, ::-1])
    assert tr.dx[0].padded.shape == (1, 7, 7)  # 3 spread + 2 × 2 full padding
    # the centre input cell (2, 2) is reached by all four output cells, each through a different tap
    terms = tr.dx_terms(0, 2, 2)
    assert {(t.out_index, t.tap) for t in terms} == {
        ((0, 0), (2, 2)),
        ((0, 1), (2, 0)),
        ((1, 0), (0, 2)),
        ((1, 1), (0, 0)),
    }
    assert sum(t.product for t in terms) == 1 * 9 + 2 * 7 + 3 * 3 + 4 * 1


def test_backward_refuses_a_gradient_of_the_wrong_shape():
    with pytest.raises(ValueError, match="output's shape 2x2"):
        ops.conv2d_backward(np.ones((3, 3)), np.ones((2, 2)), np.ones((3, 3)))
    with pytest.raises(ValueError, match="finite"):
        ops.conv2d_backward(np.ones((3, 3)), np.ones((2, 2)), np.array([[1.0, np.nan], [0.0, 0.0]]))


@pytest.mark.parametrize("seed", range(5))
def test_conv1x1_is_a_1x1_conv2d(seed):
    rng = np.random.default_rng(seed)
    c, m = int(rng.integers(1, 5)), int(rng.integers(1, 5))
    x = rng.normal(size=(c, 4, 5))
    w = rng.normal(size=(m, c))
    b = rng.normal(size=m)
    out, tr = ops.conv1x1(x, w, b, trace=True)
    want = F.conv2d(_t(x[None]), _t(w[:, :, None, None]), _t(b))[0].numpy()
    np.testing.assert_allclose(out, want, atol=1e-12)
    step = tr.maps[m - 1].step_at(2, 3)
    np.testing.assert_array_equal(step.window[:, 0, 0], x[:, 2, 3])  # the pixel's channel vector
    assert step.value == pytest.approx(float(w[m - 1] @ x[:, 2, 3] + b[m - 1]))


@pytest.mark.parametrize("seed", range(6))
def test_conv3d_matches_torch(seed):
    rng = np.random.default_rng(100 + seed)
    x = rng.normal(size=tuple(int(v) for v in rng.integers(3, 7, size=3)))
    k = rng.normal(size=tuple(int(v) for v in rng.integers(1, 3, size=3)))
    s = tuple(int(v) for v in rng.integers(1, 3, size=3))
    p = tuple(int(v) for v in rng.integers(0, 2, size=3))
    out, tr = ops.conv3d(x, k, stride=s, padding=p, bias=0.5, trace=True)
    want = F.conv3d(_t(x[None, None]), _t(k[None, None]), _t(np.array([0.5])), stride=s, padding=p)[0, 0].numpy()
    np.testing.assert_allclose(out, want, atol=1e-12)
    for z, sl in enumerate(tr.slices):
        assert tr.depth_index[z] == tuple(z * s[0] + t for t in range(k.shape[0]))
        assert sl.step_at(0, 0).value == pytest.approx(out[z, 0, 0])


def test_conv3d_refuses_a_2d_input():
    with pytest.raises(ValueError, match="volume"):
        ops.conv3d(np.ones((3, 3)), np.ones((2, 2)))


@pytest.mark.parametrize("seed", range(5))
def test_conv_relu_pool_matches_torch(seed):
    rng = np.random.default_rng(200 + seed)
    x = rng.normal(size=(8, 7))
    k = rng.normal(size=(3, 3))
    r = ops.conv_relu_pool(x, k, bias=0.25, pool_size=2, pool_stride=1)
    y = F.conv2d(_t(x[None, None]), _t(k[None, None]), _t(np.array([0.25])))
    want = F.max_pool2d(F.relu(y), 2, stride=1)[0, 0].numpy()
    np.testing.assert_allclose(r.conv, y[0, 0].numpy(), atol=1e-12)
    np.testing.assert_allclose(r.pooled, want, atol=1e-12)
    assert r.conv.shape == (6, 5) and r.pooled.shape == (5, 4)
    assert (r.relu >= 0).all() and r.pool_trace.step_at(0, 0).value == pytest.approx(r.relu[:2, :2].max())
