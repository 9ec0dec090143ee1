"""Property-based tests of cnn_core.geometry, ops and filters against torch (hypothesis).

For arbitrary sizes, kernels, strides, paddings and dilations - valid or not - ConvLab's
functions must either give torch's answer or raise the documented ``ValueError`` with a
sentence; never another exception, never a silent wrong number. Invalid settings are drawn on
purpose (stride 0, negative padding, dilation 0, kernels larger than the padded input,
fractional sizes, NaN and infinite cells, empty arrays).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from cnn_core import geometry, ops

# No example database: nothing is written into the repository; failures print their example.
SETTINGS = settings(max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])

sizes = st.integers(-1, 14)
kernels = st.integers(-1, 8)
strides = st.integers(-1, 5)
paddings = st.integers(-2, 6)
dilations = st.integers(-1, 4)
fractions = st.sampled_from([0.5, 1.5, 2.25, 7.999])
non_finite = st.sampled_from([float("nan"), float("inf"), -float("inf")])
SETTING_NAMES = st.sampled_from(["n", "kernel", "stride", "padding", "dilation"])


def torch_out_len(n: int, k: int, s: int, p: int, d: int) -> int | None:
    """Output length torch computes for a real conv1d, or None when torch refuses the settings."""
    if n < 1 or k < 1:
        return None  # torch cannot build an empty input or kernel; ours must refuse too
    try:
        y = F.conv1d(torch.zeros(1, 1, n), torch.zeros(1, 1, k), stride=s, padding=p, dilation=d)
    except (RuntimeError, ValueError):
        return None
    return y.shape[-1]


def assert_readable(err: ValueError) -> None:
    text = str(err)
    assert text and text[0].isupper() and text.rstrip().endswith("."), text
    assert "Traceback" not in text


@SETTINGS
@given(n=sizes, k=kernels, s=strides, p=paddings, d=dilations)
def test_output_size_agrees_with_torch_or_refuses(n, k, s, p, d):
    expected = torch_out_len(n, k, s, p, d)
    try:
        got = geometry.output_size(n, k, stride=s, padding=p, dilation=d)
    except ValueError as err:
        assert_readable(err)
        assert expected is None or expected < 1, f"torch computes {expected} for n={n} k={k} s={s} p={p} d={d}"
        return
    assert expected == got, (n, k, s, p, d)
    assert isinstance(got, int) and got >= 1


@SETTINGS
@given(n=sizes, k=kernels, s=strides, p=paddings, d=dilations)
def test_explained_working_matches_its_own_size(n, k, s, p, d):
    try:
        w = geometry.explain_output_size(n, k, stride=s, padding=(p, p + 1), dilation=d)
    except ValueError as err:
        assert_readable(err)
        return
    # The formula string ends with the size it states, and the dropped cells really are left over.
    assert w.formula().endswith(f"= {w.size}")
    assert w.numerator == w.padded - w.effective_kernel
    assert 0 <= w.dropped < w.stride
    assert (w.size - 1) * w.stride + w.effective_kernel + w.dropped == w.padded


@SETTINGS
@given(n=st.integers(1, 14), k=st.integers(1, 6), s=st.integers(1, 4), d=st.integers(1, 3))
def test_same_padding_gives_ceil_n_over_s_and_full_padding_gives_n_plus_span(n, k, s, d):
    before, after = geometry.same_padding(n, k, stride=s, dilation=d)
    assert 0 <= after - before <= 1  # the extra cell goes after (bottom/right), as in TensorFlow
    eff = d * (k - 1) + 1
    if n + before + after >= eff:
        assert geometry.output_size(n, k, stride=s, padding=(before, after), dilation=d) == math.ceil(n / s)
    full = geometry.full_padding(k, dilation=d)
    assert geometry.output_size(n, k, padding=full, dilation=d) == n + eff - 1


def _output_size_with(which: str, value: float) -> int:
    args = {"n": 8, "kernel": 3, "stride": 1, "padding": 0, "dilation": 1, which: value}
    n, k = args.pop("n"), args.pop("kernel")
    return geometry.output_size(n, k, **args)


@SETTINGS
@given(value=fractions, which=SETTING_NAMES)
def test_fractional_settings_are_refused_with_a_sentence(value, which):
    with pytest.raises(ValueError) as info:
        _output_size_with(which, value)
    assert_readable(info.value)


@SETTINGS
@given(value=non_finite, which=SETTING_NAMES)
def test_nan_and_infinite_settings_are_refused_with_a_sentence(value, which):
    try:
        _output_size_with(which, value)
    except ValueError as err:
        assert_readable(err)
    else:
        raise AssertionError("accepted a non-finite setting")


@SETTINGS
@given(
    n=st.integers(-1, 10),
    k=kernels,
    s=strides,
    p=st.integers(-2, 4),
    op=st.integers(-1, 3),
    d=dilations,
)
def test_transposed_output_size_agrees_with_torch_or_refuses(n, k, s, p, op, d):
    expected = None
    if n >= 1 and k >= 1:
        try:
            y = F.conv_transpose1d(
                torch.zeros(1, 1, n), torch.zeros(1, 1, k), stride=s, padding=p, output_padding=op, dilation=d
            )
            expected = y.shape[-1]
        except (RuntimeError, ValueError):
            expected = None
    try:
        got = geometry.transposed_output_size(n, k, stride=s, padding=p, output_padding=op, dilation=d)
    except ValueError as err:
        assert_readable(err)
        assert expected is None or expected < 1, f"torch computes {expected} for {(n, k, s, p, op, d)}"
        return
    assert got == expected, (n, k, s, p, op, d)


@SETTINGS
@given(
    c_in=st.integers(1, 3),
    c_out=st.integers(1, 4),
    kh=st.integers(1, 7),
    kw=st.integers(1, 7),
    oh=st.integers(1, 9),
    ow=st.integers(1, 9),
    bias=st.booleans(),
)
def test_parameter_and_mac_counts_match_a_real_conv_layer(c_in, c_out, kh, kw, oh, ow, bias):
    layer = torch.nn.Conv2d(c_in, c_out, (kh, kw), bias=bias)
    assert geometry.conv_params(c_in, kh, kw, c_out, bias=bias) == sum(p.numel() for p in layer.parameters())
    # one multiply-accumulate per weight per output position
    assert geometry.conv_macs(c_in, kh, kw, c_out, oh, ow) == layer.weight.numel() * oh * ow


# --- ops against torch ------------------------------------------------------------------------

finite = st.floats(-4, 4, allow_nan=False, allow_infinity=False, width=32)
specials = st.sampled_from([float("nan"), float("inf"), -float("inf")])


@st.composite
def conv_case(draw):
    c = draw(st.integers(1, 2))
    h, w = draw(st.integers(0, 9)), draw(st.integers(0, 9))
    kh, kw = draw(st.integers(0, 5)), draw(st.integers(0, 5))
    x = draw(st.lists(finite, min_size=c * h * w, max_size=c * h * w))
    k = draw(st.lists(finite, min_size=c * kh * kw, max_size=c * kh * kw))
    x = np.array(x, dtype=np.float64).reshape(c, h, w)
    k = np.array(k, dtype=np.float64).reshape(c, kh, kw)
    if draw(st.booleans()) and x.size:  # sometimes poison one cell
        x.flat[draw(st.integers(0, x.size - 1))] = draw(specials)
    if draw(st.integers(0, 9)) == 0 and k.size:
        k.flat[draw(st.integers(0, k.size - 1))] = draw(specials)
    stride = draw(st.one_of(strides, st.tuples(strides, strides)))
    dilation = draw(st.one_of(dilations, st.tuples(dilations, dilations)))
    padding = draw(
        st.one_of(
            paddings,
            st.tuples(paddings, paddings),
            st.tuples(st.tuples(paddings, paddings), st.tuples(paddings, paddings)),
            st.sampled_from(["valid", "same", "full"]),
        )
    )
    bias = draw(finite)
    return x, k, stride, padding, dilation, bias


def _pairs(v):
    return (v, v) if isinstance(v, int) else tuple(v)


def torch_conv2d(x, k, stride, padding, dilation, bias):
    """torch's answer (explicit zero padding first), or None when torch refuses."""
    s, d = _pairs(stride), _pairs(dilation)
    if isinstance(padding, str):
        pad = tuple(
            geometry.resolve_padding(padding, n, kk, stride=si, dilation=di)
            for n, kk, si, di in zip(x.shape[1:], k.shape[1:], s, d, strict=True)
        )
    elif isinstance(padding, int):
        pad = ((padding, padding), (padding, padding))
    elif isinstance(padding[0], int):
        pad = ((padding[0], padding[0]), (padding[1], padding[1]))
    else:
        pad = padding
    if min(min(p) for p in pad) < 0:
        return None  # negative padding is a crop in F.pad, not a convolution setting
    xt = F.pad(torch.from_numpy(x)[None], (pad[1][0], pad[1][1], pad[0][0], pad[0][1]))
    try:
        y = F.conv2d(
            xt, torch.from_numpy(k)[None], bias=torch.tensor([bias], dtype=torch.float64), stride=s, dilation=d
        )
    except (RuntimeError, ValueError):
        return None
    return y[0, 0].numpy()


def _valid_numbers(x, k) -> bool:
    return x.size > 0 and k.size > 0 and np.isfinite(x).all() and np.isfinite(k).all()


@SETTINGS
@given(case=conv_case())
def test_conv2d_agrees_with_torch_or_refuses(case):
    x, k, stride, padding, dilation, bias = case
    try:
        got = ops.conv2d(x, k, stride=stride, padding=padding, dilation=dilation, bias=bias)
    except ValueError as err:
        assert_readable(err)
        if _valid_numbers(x, k) and min(_pairs(stride)) >= 1 and min(_pairs(dilation)) >= 1:
            try:
                expected = torch_conv2d(x, k, stride, padding, dilation, bias)
            except ValueError:  # our own padding resolution refused (e.g. negative): fine
                expected = None
            assert expected is None or expected.size == 0, f"torch computes a {expected.shape} output"
        return
    assert _valid_numbers(x, k), "NaN/inf/empty input was accepted"
    expected = torch_conv2d(x, k, stride, padding, dilation, bias)
    assert expected is not None, "torch refuses settings that conv2d accepted"
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-9)


# conv_case makes NaN, inf and empty inputs on purpose (the test above wants them); this one skips them, and on
# some draws that is most of the first inputs, which hypothesis would otherwise call a health problem.
@settings(SETTINGS, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(case=conv_case())
def test_conv2d_trace_replays_every_output_cell(case):
    x, k, stride, padding, dilation, bias = case
    assume(_valid_numbers(x, k))
    try:
        out, trace = ops.conv2d(x, k, stride=stride, padding=padding, dilation=dilation, bias=bias, trace=True)
    except ValueError:
        return
    assert trace.output_shape == out.shape
    for r in range(out.shape[0]):
        for c in range(out.shape[1]):
            step = trace.step_at(r, c)
            assert step.value == pytest.approx(float(step.products.sum()) + bias, abs=1e-9)
            assert step.value == pytest.approx(out[r, c], abs=1e-9)


@st.composite
def pool_case(draw):
    c = draw(st.integers(1, 2))
    h, w = draw(st.integers(0, 9)), draw(st.integers(0, 9))
    x = np.array(draw(st.lists(finite, min_size=c * h * w, max_size=c * h * w)), dtype=np.float64).reshape(c, h, w)
    if draw(st.integers(0, 5)) == 0 and x.size:
        x.flat[0] = draw(specials)
    size = draw(st.one_of(kernels, st.tuples(kernels, kernels)))
    stride = draw(st.one_of(st.none(), strides, st.tuples(strides, strides)))
    padding = draw(st.one_of(paddings, st.tuples(paddings, paddings), st.sampled_from(["valid", "same"])))
    mode = draw(st.sampled_from(["max", "avg", "min", "sum"]))
    return x, size, stride, padding, mode


def torch_pool(x, size, stride, padding, mode):
    k = _pairs(size)
    s = k if stride is None else _pairs(stride)
    if isinstance(padding, str):
        pad = tuple(
            geometry.resolve_padding(padding, n, kk, stride=si) for n, kk, si in zip(x.shape[1:], k, s, strict=True)
        )
    else:
        p = _pairs(padding)
        pad = ((p[0], p[0]), (p[1], p[1]))
    if min(min(q) for q in pad) < 0:
        return None
    fill = {"max": -math.inf, "min": math.inf, "avg": 0.0, "sum": 0.0}[mode]
    xt = F.pad(torch.from_numpy(x)[None], (pad[1][0], pad[1][1], pad[0][0], pad[0][1]), value=fill)
    try:
        if mode == "max":
            y = F.max_pool2d(xt, k, s)
        elif mode == "min":
            y = -F.max_pool2d(-xt, k, s)
        elif mode == "avg":
            y = F.avg_pool2d(xt, k, s)
        else:
            y = F.avg_pool2d(xt, k, s) * (k[0] * k[1])
    except (RuntimeError, ValueError):
        return None
    return y[0].numpy()


@SETTINGS
@given(case=pool_case())
def test_pool2d_agrees_with_torch_or_refuses(case):
    x, size, stride, padding, mode = case
    try:
        got = ops.pool2d(x, size, stride=stride, padding=padding, mode=mode)
    except ValueError as err:
        assert_readable(err)
        s_ok = stride is None or min(_pairs(stride)) >= 1
        if x.size and np.isfinite(x).all() and min(_pairs(size)) >= 1 and s_ok:
            try:
                expected = torch_pool(x, size, stride, padding, mode)
            except ValueError:
                expected = None
            assert expected is None or expected.size == 0, f"torch computes a {expected.shape} output"
        return
    assert x.size and np.isfinite(x).all(), "NaN/inf/empty input was accepted"
    expected = torch_pool(x, size, stride, padding, mode)
    assert expected is not None, "torch refuses settings that pool2d accepted"
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-9)


@SETTINGS
@given(
    n=st.integers(0, 12),
    k=st.integers(0, 5),
    s=strides,
    p=st.one_of(paddings, st.sampled_from(["valid", "same", "full"])),
    d=dilations,
    data=st.data(),
)
def test_conv1d_agrees_with_torch_or_refuses(n, k, s, p, d, data):
    x = np.array(data.draw(st.lists(finite, min_size=n, max_size=n)), dtype=np.float64)
    w = np.array(data.draw(st.lists(finite, min_size=k, max_size=k)), dtype=np.float64)
    try:
        got = ops.conv1d(x, w, stride=s, padding=p, dilation=d)
    except ValueError as err:
        assert_readable(err)
        return
    pair = geometry.resolve_padding(p, n, k, stride=s, dilation=d)
    xt = F.pad(torch.from_numpy(x)[None, None], pair)
    expected = F.conv1d(xt, torch.from_numpy(w)[None, None], stride=s, dilation=d)[0, 0].numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-9)


@SETTINGS
@given(
    h=st.integers(0, 5),
    w=st.integers(0, 5),
    k=st.integers(0, 4),
    s=strides,
    p=st.integers(-1, 3),
    op=st.integers(-1, 2),
    d=dilations,
    data=st.data(),
)
def test_conv_transpose2d_agrees_with_torch_or_refuses(h, w, k, s, p, op, d, data):
    x = np.array(data.draw(st.lists(finite, min_size=h * w, max_size=h * w)), dtype=np.float64).reshape(h, w)
    kern = np.array(data.draw(st.lists(finite, min_size=k * k, max_size=k * k)), dtype=np.float64).reshape(k, k)
    try:
        got = ops.conv_transpose2d(x, kern, stride=s, padding=p, output_padding=op, dilation=d)
    except ValueError as err:
        assert_readable(err)
        return
    expected = F.conv_transpose2d(
        torch.from_numpy(x)[None, None],
        torch.from_numpy(kern)[None, None],
        stride=s,
        padding=p,
        output_padding=op,
        dilation=d,
    )[0, 0].numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-9)


# --- filters (the whole-photo path) against torch -----------------------------------------------

TORCH_PADDING_MODES = {"zeros": "constant", "reflect": "reflect", "replicate": "replicate"}
few = st.integers(0, 4)


@st.composite
def filter_case(draw):
    """Mostly valid photo-filter settings (so most draws are computed), with some invalid ones."""
    h, w, c = draw(st.integers(1, 12)), draw(st.integers(1, 12)), draw(st.sampled_from([0, 1, 3, 5]))
    kh, kw = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    size = h * w * max(c, 1)
    img = np.array(draw(st.lists(finite, min_size=size, max_size=size)), dtype=np.float64)
    img = img.reshape((h, w) if c == 0 else (h, w, c))
    if draw(st.booleans()):
        img = np.round(np.abs(img) * 60).astype(draw(st.sampled_from([np.uint8, np.uint16])))
    kernel = np.array(draw(st.lists(finite, min_size=kh * kw, max_size=kh * kw)), dtype=np.float64).reshape(kh, kw)
    pair = st.tuples(st.integers(0, 3), st.integers(1, 3))
    stride = draw(st.one_of(st.integers(1, 3), pair))
    dilation = draw(st.one_of(st.integers(1, 3), pair))
    padding = draw(
        st.one_of(
            st.sampled_from(["valid", "same", "full"]),
            few,
            st.tuples(few, few),
            st.tuples(st.tuples(few, few), st.tuples(few, few)),
        )
    )
    return img, kernel, stride, padding, draw(st.sampled_from(sorted(TORCH_PADDING_MODES))), dilation


def torch_filter(img, kernel, stride, padding, mode, dilation):
    """torch's answer: F.pad with the mode, then conv2d, every channel on its own; None when torch refuses."""
    s, d = _pairs(stride), _pairs(dilation)
    x = np.asarray(img, dtype=np.float64)
    x = torch.from_numpy(x[:, :, None] if x.ndim == 2 else x).permute(2, 0, 1)[:, None]  # (C, 1, H, W)
    try:
        (top, bottom), (left, right) = ops.resolve_padding_2d(padding, img.shape[:2], kernel.shape, s, d)
        x = F.pad(x, (left, right, top, bottom), mode=TORCH_PADDING_MODES[mode])
        y = F.conv2d(x, torch.from_numpy(kernel)[None, None], stride=s, dilation=d)
    except (RuntimeError, ValueError):
        return None
    y = y[:, 0].permute(1, 2, 0).numpy()  # (H', W', C)
    return y[:, :, 0] if img.ndim == 2 else y


@SETTINGS
@given(case=filter_case())
def test_filters_agree_with_torch_or_refuse(case):
    """Any photo, kernel and setting: apply_kernel gives torch's numbers or refuses with a sentence torch agrees with."""
    from cnn_core.filters import apply_kernel

    img, kernel, stride, padding, mode, dilation = case
    try:
        got = apply_kernel(img, kernel, stride=stride, padding=padding, padding_mode=mode, dilation=dilation)
    except ValueError as err:
        assert_readable(err)
        if min(_pairs(stride)) >= 1:
            assert torch_filter(*case) is None, "torch computes what apply_kernel refused"
        return
    expected = torch_filter(*case)
    assert expected is not None, "torch refuses settings that apply_kernel accepted"
    assert got.dtype == np.float32 and got.shape == expected.shape
    scale = max(1.0, float(np.max(np.abs(img))) * float(np.sum(np.abs(kernel))))  # float32 rounding of the terms
    np.testing.assert_allclose(got, expected, rtol=0, atol=2e-6 * scale)
