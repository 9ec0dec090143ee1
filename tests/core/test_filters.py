"""cnn_core.filters: the fast whole-photo path gives torch's numbers, refuses bad settings clearly."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cnn_core import geometry, ops
from cnn_core.filters import apply_kernel, apply_preset, separable_factors
from cnn_core.kernels import PRESETS

TORCH_PAD_MODE = {"zeros": "constant", "reflect": "reflect", "replicate": "replicate"}


def _pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


def torch_filter(img, kernel, *, stride=1, padding="same", padding_mode="zeros", dilation=1):
    """The oracle: F.pad(mode=...) then conv2d in float64, every channel as its own batch item."""
    x = torch.from_numpy(np.asarray(img, dtype=np.float64))
    x = (x[:, :, None] if x.ndim == 2 else x).permute(2, 0, 1)[:, None]  # (C, 1, H, W)
    s, d = _pair(stride), _pair(dilation)
    (top, bottom), (left, right) = ops.resolve_padding_2d(padding, x.shape[-2:], kernel.shape, s, d)
    x = F.pad(x, (left, right, top, bottom), mode=TORCH_PAD_MODE[padding_mode])
    y = F.conv2d(x, torch.from_numpy(np.array(kernel, dtype=np.float64))[None, None], stride=s, dilation=d)
    y = y[:, 0].permute(1, 2, 0).numpy()  # (H', W', C)
    return y[:, :, 0] if np.ndim(img) == 2 else y


def assert_close(ours, ref):
    assert ours.dtype == np.float32
    assert ours.shape == ref.shape
    scale = max(1.0, float(np.max(np.abs(ref))))
    np.testing.assert_allclose(ours, ref, rtol=0, atol=2e-6 * scale)


def random_kernel(rng, kh, kw):
    """Kernels of every kind the planner treats differently."""
    kind = int(rng.integers(0, 6))
    if kind == 0:  # general floats: not separable
        return rng.normal(size=(kh, kw))
    if kind == 1:  # separable small integers over a power of two (exact, cascaded stages)
        return np.outer(rng.integers(-3, 4, kh), rng.integers(-3, 4, kw)) / float(rng.choice([1, 4, 16]))
    if kind == 2:  # separable floats
        return np.outer(rng.normal(size=kh), rng.normal(size=kw))
    if kind == 3:  # integers with repeated weights and zeros
        return rng.integers(-2, 3, (kh, kw)).astype(float)
    if kind == 4:  # binomial (Gaussian-like) rows and columns
        return np.outer(np.poly1d([1, 1]) ** (kh - 1), np.poly1d([1, 1]) ** (kw - 1)).astype(float)
    return np.outer(rng.integers(1, 3, kh), rng.normal(size=kw)) / 9.0


def random_padding(rng):
    choice = int(rng.integers(0, 6))
    small = lambda: int(rng.integers(0, 4))  # noqa: E731
    return ["same", "valid", "full", small(), (small(), small()), ((small(), small()), (small(), small()))][choice]


@pytest.mark.parametrize("seed", range(12))
def test_matches_torch_over_random_settings(seed):
    rng = np.random.default_rng(seed)
    checked = 0
    for _ in range(40):
        h, w = (int(v) for v in rng.integers(1, 30, 2))
        channels = int(rng.choice([0, 1, 3, 4]))
        shape = (h, w) if channels == 0 else (h, w, channels)
        img = rng.integers(0, 256, shape).astype(np.uint8) if rng.random() < 0.5 else rng.normal(size=shape) * 50
        kh, kw = (int(v) for v in rng.integers(1, 10, 2))
        kernel = random_kernel(rng, kh, kw)
        settings = dict(
            stride=tuple(int(v) for v in rng.integers(1, 4, 2)),
            dilation=tuple(int(v) for v in rng.integers(1, 3, 2)),
            padding=random_padding(rng),
            padding_mode=str(rng.choice(["zeros", "reflect", "replicate"])),
        )
        try:
            ref = torch_filter(img, kernel, **settings)
        except (RuntimeError, ValueError):
            with pytest.raises(ValueError):
                apply_kernel(img, kernel, **settings)
            continue
        assert_close(apply_kernel(img, kernel, **settings), ref)
        checked += 1
    assert checked >= 15


@pytest.mark.parametrize("mode", ["zeros", "reflect", "replicate"])
@pytest.mark.parametrize("name", list(PRESETS))
def test_every_preset_matches_torch(name, mode):
    rng = np.random.default_rng(1)
    img = rng.integers(0, 256, (23, 31, 3)).astype(np.uint8)
    kernel = PRESETS[name].kernel
    assert_close(apply_kernel(img, kernel, padding_mode=mode), torch_filter(img, kernel, padding_mode=mode))


@pytest.mark.parametrize("ksize", [(1, 1), (2, 3), (3, 3), (5, 5), (4, 7), (9, 9), (9, 2)])
@pytest.mark.parametrize("stride,dilation", [(1, 1), (2, 1), (1, 2), ((3, 2), (2, 3))])
def test_kernel_sizes_strides_dilations_all_modes(ksize, stride, dilation):
    rng = np.random.default_rng(hash((ksize, str(stride))) % 2**32)
    img = rng.integers(0, 256, (37, 41, 3)).astype(np.uint8)
    kernel = rng.normal(size=ksize)
    for mode in ("zeros", "reflect", "replicate"):
        for padding in ("same", "valid", "full"):
            settings = dict(stride=stride, dilation=dilation, padding=padding, padding_mode=mode)
            try:
                ref = torch_filter(img, kernel, **settings)
            except (RuntimeError, ValueError):
                continue  # reflect wider than the image: tested below
            assert_close(apply_kernel(img, kernel, **settings), ref)


def test_same_numbers_as_the_reference_conv2d():
    rng = np.random.default_rng(2)
    img = rng.integers(0, 256, (15, 17)).astype(np.uint8)
    kernel = rng.normal(size=(3, 4))
    for settings in (dict(), dict(stride=2), dict(dilation=(2, 1)), dict(stride=(1, 3), padding="full")):
        settings.setdefault("padding", "same")
        np.testing.assert_allclose(
            apply_kernel(img, kernel, **settings), ops.conv2d(img, kernel, **settings), atol=1e-3
        )


@pytest.mark.parametrize(
    "n,k,stride,dilation", [(13, 6, 5, 1), (6, 2, 1, 1), (10, 3, 3, 2), (7, 7, 2, 1), (1, 1, 1, 1)]
)
def test_output_size_is_geometrys(n, k, stride, dilation):
    img = np.zeros((n, n + 3), dtype=np.uint8)
    for padding in ("same", "valid", "full", 2, (1, 3), ((0, 2), (3, 1))):
        try:
            out = apply_kernel(img, np.ones((k, k)), stride=stride, dilation=dilation, padding=padding)
        except ValueError as err:
            assert "larger than the padded input" in str(err)
            continue
        pads = ops.resolve_padding_2d(padding, (n, n + 3), (k, k), (stride, stride), (dilation, dilation))
        expected = tuple(
            geometry.output_size(size, k, stride=stride, dilation=dilation, padding=pad)
            for size, pad in zip((n, n + 3), pads, strict=True)
        )
        assert out.shape == expected


def test_same_padding_puts_the_extra_cell_bottom_right():
    img = np.arange(36, dtype=np.uint8).reshape(6, 6)
    out = apply_kernel(img, np.ones((2, 2)), padding="same")
    np.testing.assert_array_equal(out, torch_filter(np.pad(img, ((0, 1), (0, 1))), np.ones((2, 2)), padding="valid"))
    assert out[0, 0] == 0 + 1 + 6 + 7
    assert out[5, 5] == 35


def test_uint8_photo_keeps_its_units_without_clipping():
    img = np.full((8, 9, 3), 200, dtype=np.uint8)
    img[:, 4:] = 10
    out = apply_kernel(img, PRESETS["Sharpen"].kernel, padding_mode="replicate")
    assert out.dtype == np.float32 and out.shape == img.shape
    assert out.max() > 255 and out.min() < 0  # overshoot on both sides of the step
    assert out[4, 1, 0] == 200.0  # flat areas keep their 0..255 value exactly
    sobel = apply_kernel(img, PRESETS["Sobel x"].kernel, padding_mode="replicate")
    assert sobel.min() == -4 * 190  # bright-to-dark from left to right is strongly negative


def test_integer_kernels_are_exact_on_8_bit_photos():
    rng = np.random.default_rng(3)
    img = rng.integers(0, 256, (40, 50, 3)).astype(np.uint8)
    for name in ("Gaussian blur 3x3", "Gaussian blur 5x5", "Sobel y", "Laplacian (8-neighbour)", "Emboss"):
        kernel = PRESETS[name].kernel
        exact = np.stack([ops.conv2d(img[:, :, c], kernel, padding="same") for c in range(3)], axis=-1)
        np.testing.assert_array_equal(apply_kernel(img, kernel), exact.astype(np.float32))


def test_identity_returns_the_image_and_leaves_the_input_alone():
    rng = np.random.default_rng(4)
    img = rng.integers(0, 256, (30, 20, 3)).astype(np.uint8)
    before = img.copy()
    img.flags.writeable = False  # the Kernel Lab's shared working copy is read-only
    out = apply_kernel(img, PRESETS["Identity"].kernel)
    np.testing.assert_array_equal(out, img.astype(np.float32))
    np.testing.assert_array_equal(img, before)


def test_channels_are_filtered_independently_with_the_same_kernel():
    rng = np.random.default_rng(5)
    img = rng.normal(size=(19, 23, 4)) * 10
    kernel = rng.normal(size=(3, 5))
    together = apply_kernel(img, kernel, padding_mode="reflect")
    for c in range(4):
        alone = apply_kernel(img[:, :, c], kernel, padding_mode="reflect")
        assert alone.shape == (19, 23)
        np.testing.assert_allclose(together[:, :, c], alone, atol=1e-5)
    one = apply_kernel(img[:, :, :1], kernel)
    assert one.shape == (19, 23, 1)


@pytest.mark.parametrize(
    "dtype", [np.uint8, np.int8, np.uint16, np.int16, np.int64, np.float16, np.float32, np.float64, bool]
)
def test_any_numeric_dtype(dtype):
    rng = np.random.default_rng(6)
    img = (rng.normal(size=(12, 14, 3)) * 100).astype(dtype)
    kernel = PRESETS["Gaussian blur 5x5"].kernel
    assert_close(apply_kernel(img, kernel, padding_mode="reflect"), torch_filter(img, kernel, padding_mode="reflect"))


def test_full_range_16_bit_images_match_torch_and_stay_exact():
    img = np.full((12, 13, 3), 65535, dtype=np.uint16)
    img[3:7, 2:9] = 0
    big = np.arange(1001.0, 1082.0).reshape(9, 9)  # sums far beyond 32-bit integers; 81 cells: OpenCV's DFT path
    assert_close(apply_kernel(img, big), torch_filter(img, big))
    flat = np.full((12, 13, 3), 65535, dtype=np.uint16)
    small = PRESETS["Gaussian blur 5x5"].kernel  # weights n / 256: every partial sum fits float32 exactly
    np.testing.assert_array_equal(apply_kernel(flat, small, padding_mode="replicate"), np.float32(65535))


def test_non_contiguous_views_give_the_same_result():
    rng = np.random.default_rng(7)
    img = rng.integers(0, 256, (25, 30, 3)).astype(np.uint8)
    kernel = PRESETS["Sobel x"].kernel
    for view in (img[:, ::-1], img[..., ::-1], img[::2, 3:], np.asfortranarray(img)):
        np.testing.assert_array_equal(apply_kernel(view, kernel), apply_kernel(np.ascontiguousarray(view), kernel))


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32])
@pytest.mark.parametrize("channels", [0, 1, 3])
@pytest.mark.parametrize("mode", ["zeros", "reflect", "replicate"])
def test_every_mode_stride_dilation_and_kernel_parity_matches_torch(dtype, channels, mode):
    """Odd and even, square and oblong, separable and general kernels, under every padding kind."""
    rng = np.random.default_rng(abs(hash((np.dtype(dtype).name, channels, mode))) % 2**32)
    shape = (23, 19) if channels == 0 else (23, 19, channels)
    top = {np.uint8: 255, np.uint16: 65535}.get(dtype, 1.0)
    img = (rng.random(shape) * top).astype(dtype)
    kernels = [
        rng.normal(size=(3, 3)),
        rng.normal(size=(2, 2)),
        rng.normal(size=(4, 3)),
        rng.normal(size=(1, 5)),
        np.outer(rng.normal(size=4), rng.normal(size=2)),  # separable, even
        PRESETS["Gaussian blur 5x5"].kernel,  # separable, odd
    ]
    paddings = ["same", "valid", "full", 1, (2, 0), ((0, 3), (2, 1)), ((4, 0), (0, 4))]
    checked = 0
    for kernel in kernels:
        for stride in (1, 2, (3, 1)):
            for dilation in (1, 2, (1, 3)):
                for padding in paddings:
                    settings = dict(stride=stride, dilation=dilation, padding=padding, padding_mode=mode)
                    try:
                        ref = torch_filter(img, kernel, **settings)
                    except (RuntimeError, ValueError):
                        with pytest.raises(ValueError):
                            apply_kernel(img, kernel, **settings)
                        continue
                    assert_close(apply_kernel(img, kernel, **settings), ref)
                    checked += 1
    assert checked > 300


def test_large_and_dilated_kernels_match_torch():
    """Kernels of 50 cells or more: OpenCV computes those through the DFT."""
    rng = np.random.default_rng(13)
    for dtype, top in ((np.uint8, 255), (np.uint16, 65535), (np.float32, 1.0)):
        img = (rng.random((40, 57, 3)) * top).astype(dtype)
        for kernel, dilation in ((rng.normal(size=(9, 9)), 1), (rng.normal(size=(5, 5)), 3), (np.ones((7, 8)), 2)):
            for mode in ("zeros", "reflect", "replicate"):
                settings = dict(dilation=dilation, padding_mode=mode)
                assert_close(apply_kernel(img, kernel, **settings), torch_filter(img, kernel, **settings))


@pytest.mark.parametrize("channels", [5, 9, 300])
def test_more_channels_than_opencv_takes_at_once(channels):
    rng = np.random.default_rng(14)
    img = rng.integers(0, 256, (9, 11, channels)).astype(np.uint8)
    kernel = rng.normal(size=(3, 4))
    out = apply_kernel(img, kernel, stride=2, padding_mode="reflect")
    assert out.shape[2] == channels
    assert_close(out, torch_filter(img, kernel, stride=2, padding_mode="reflect"))


def test_callers_in_parallel_get_their_own_correct_results():
    """Several app sessions filtering at once (OpenCV releases the GIL): every caller gets its own result."""
    from concurrent.futures import ThreadPoolExecutor

    rng = np.random.default_rng(11)
    images = [rng.integers(0, 256, (90, 70, 3)).astype(np.uint8) for _ in range(6)]
    names = ["Gaussian blur 5x5", "Sharpen", "Sobel y", "Emboss", "Box blur", "Outline"]
    with ThreadPoolExecutor(6) as callers:
        results = list(callers.map(lambda i: apply_kernel(images[i], PRESETS[names[i]].kernel), range(6)))
    for img, name, out in zip(images, names, results, strict=True):
        assert_close(out, torch_filter(img, PRESETS[name].kernel))


def test_photo_sized_image_matches_opencv():
    import cv2

    rng = np.random.default_rng(9)
    img = rng.integers(0, 256, (700, 900, 3)).astype(np.uint8)
    for name in ("Gaussian blur 3x3", "Gaussian blur 5x5", "Sobel x", "Outline"):
        kernel = PRESETS[name].kernel
        for mode, border in (("zeros", cv2.BORDER_CONSTANT), ("reflect", cv2.BORDER_REFLECT_101)):
            ref = cv2.filter2D(img, cv2.CV_32F, kernel.astype(np.float32), borderType=border)
            np.testing.assert_allclose(apply_kernel(img, kernel, padding_mode=mode), ref, atol=1e-3)
        ref = cv2.filter2D(img, cv2.CV_32F, kernel.astype(np.float32), borderType=cv2.BORDER_REPLICATE)
        np.testing.assert_allclose(apply_kernel(img, kernel, padding_mode="replicate"), ref, atol=1e-3)


def test_the_pixel_inspector_explains_the_numbers_we_compute():
    """Kernel Lab shows apply_kernel's image and cnn_core.pixel's working for one pixel: they must agree."""
    from cnn_core.pixel import explain_pixel

    rng = np.random.default_rng(12)
    img = rng.integers(0, 256, (17, 19, 3)).astype(np.uint8)
    for name in ("Gaussian blur 5x5", "Sobel x", "Emboss"):
        kernel = PRESETS[name].kernel
        for settings in (dict(), dict(stride=2, padding_mode="reflect"), dict(dilation=2, padding_mode="replicate")):
            out = apply_kernel(img, kernel, **settings)
            for r, c in ((0, 0), (out.shape[0] - 1, out.shape[1] - 1), (out.shape[0] // 2, 1)):
                working = explain_pixel(img[:, :, 1], kernel, (r, c), **settings)
                assert abs(working.total - out[r, c, 1]) <= 1e-3


def test_sobel_magnitude_preset_combines_the_pair():
    rng = np.random.default_rng(10)
    img = rng.integers(0, 256, (20, 24, 3)).astype(np.uint8)
    preset = PRESETS["Sobel magnitude"]
    out = apply_preset(img, preset, padding_mode="reflect")
    gx = torch_filter(img, preset.kernel, padding_mode="reflect")
    gy = torch_filter(img, preset.partner, padding_mode="reflect")
    assert_close(out, np.hypot(gx, gy))
    assert out.min() >= 0
    plain = apply_preset(img, PRESETS["Emboss"], stride=2)
    np.testing.assert_array_equal(plain, apply_kernel(img, PRESETS["Emboss"].kernel, stride=2))


def test_separable_factors():
    for name in ("Box blur", "Gaussian blur 3x3", "Gaussian blur 5x5", "Sobel x", "Prewitt y", "Vertical line 7x7"):
        kernel = PRESETS[name].kernel
        col, row = separable_factors(kernel)
        np.testing.assert_allclose(np.outer(col, row), kernel, atol=1e-15)
    for name in ("Sharpen", "Laplacian (4-neighbour)", "Outline", "Emboss"):
        assert separable_factors(PRESETS[name].kernel) is None
    assert separable_factors(np.zeros((3, 3))) is None


def test_whole_number_kernels_stay_exact_with_stride_dilation_and_every_padding():
    """Separable presets (OpenCV's two-pass filter) and the others give exactly the reference's sums."""
    rng = np.random.default_rng(15)
    img = rng.integers(0, 256, (33, 29)).astype(np.uint8)
    names = ("Box blur", "Gaussian blur 3x3", "Gaussian blur 5x5", "Sobel x", "Prewitt y", "Vertical line 7x7")
    for name in (*names, "Sharpen", "Emboss"):
        kernel = PRESETS[name].kernel * (9 if name == "Box blur" else 1)  # the box as whole numbers
        for settings in (dict(), dict(stride=2, padding="full"), dict(dilation=2, padding=((3, 0), (1, 2)))):
            exact = ops.conv2d(img, kernel, **{"padding": "same", **settings})
            np.testing.assert_array_equal(apply_kernel(img, kernel, **settings), exact.astype(np.float32))


@pytest.mark.parametrize(
    "kwargs, words",
    [
        (dict(stride=0), "stride must be at least 1"),
        (dict(stride=(1, -2)), "stride must be at least 1"),
        (dict(stride=1.5), "whole number"),
        (dict(stride=(1, 2, 3)), "pair"),
        (dict(dilation=0), "dilation must be at least 1"),
        (dict(padding=-1), "cannot be negative"),
        (dict(padding=((1, -1), (0, 0))), "cannot be negative"),
        (dict(padding="middle"), "Unknown padding"),
        (dict(padding=None), "Padding must be"),
        (dict(padding_mode="wrap"), "Unknown padding mode"),
        (dict(padding="valid", dilation=3), "larger than the padded input"),
        (dict(padding=4, padding_mode="reflect"), "Reflect padding"),
    ],
)
def test_bad_settings_raise_a_readable_value_error(kwargs, words):
    img = np.zeros((4, 5, 3), dtype=np.uint8)
    with pytest.raises(ValueError, match=words):
        apply_kernel(img, np.ones((3, 3)), **kwargs)


def test_reflect_padding_message_names_the_sizes():
    with pytest.raises(ValueError) as err:
        apply_kernel(np.zeros((3, 10)), np.ones((9, 1)), padding_mode="reflect")
    text = str(err.value)
    assert "4 cells of padding" in text and "3 pixels tall" in text and "'replicate'" in text
    out = apply_kernel(np.zeros((3, 10)), np.ones((9, 1)), padding_mode="replicate")  # replicate has no limit
    assert out.shape == (3, 10)


@pytest.mark.parametrize(
    "kernel, words",
    [
        (np.array([[1.0, np.nan], [0.0, 1.0]]), "NaN"),
        (np.array([[1.0, np.inf]]), "infinite"),
        (np.zeros((0, 3)), "empty"),
        ([], "empty"),
        (np.ones(3), "2-D"),
        (np.ones((2, 2, 2)), "2-D"),
        ([["a", "b"]], "grid of numbers"),
    ],
)
def test_bad_kernels_raise_a_readable_value_error(kernel, words):
    with pytest.raises(ValueError, match=words):
        apply_kernel(np.zeros((5, 5), dtype=np.uint8), kernel)


@pytest.mark.parametrize(
    "image, words",
    [
        (np.zeros((0, 4, 3), dtype=np.uint8), "empty"),
        (np.zeros(5), "height, width"),
        (np.zeros((2, 2, 2, 2)), "height, width"),
        (np.array([["a", "b"]]), "real numbers"),
        (np.ones((2, 2), dtype=complex), "real numbers"),
    ],
)
def test_bad_images_raise_a_readable_value_error(image, words):
    with pytest.raises(ValueError, match=words):
        apply_kernel(image, np.ones((1, 1)))


def test_nan_pixels_spread_like_torch():
    """Uploads are always finite (cnn_core.images); in a notebook a NaN pixel spreads as in torch and OpenCV."""
    img = np.zeros((6, 7), dtype=np.float32)
    img[2, 3] = np.nan
    out = apply_kernel(img, PRESETS["Box blur"].kernel)
    np.testing.assert_array_equal(np.isnan(out), np.isnan(torch_filter(img, PRESETS["Box blur"].kernel)))
    assert np.isnan(out).sum() == 9


@pytest.mark.parametrize("kernel", [np.ones((9, 9)), np.arange(1.0, 170.0).reshape(13, 13) % 7 - 3.5])
def test_nan_pixels_stay_local_with_large_kernels(kernel):
    """OpenCV's DFT (used for large kernels) would spread one NaN over the whole output; ours stays torch's."""
    rng = np.random.default_rng(16)
    img = rng.random((30, 33, 3)).astype(np.float32)
    img[12, 20, 1] = np.nan
    img[3, 4, 0] = np.inf
    ref = torch_filter(img, kernel, padding_mode="reflect")
    out = apply_kernel(img, kernel, padding_mode="reflect")
    np.testing.assert_array_equal(np.isnan(out), np.isnan(ref))
    np.testing.assert_array_equal(np.isinf(out), np.isinf(ref))
    finite = np.isfinite(ref)
    assert finite.mean() > 0.5
    np.testing.assert_allclose(out[finite], ref[finite], atol=1e-4)
