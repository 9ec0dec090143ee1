"""Safe decoding of untrusted uploads: every bad-input case of DESIGN.md that concerns images."""

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from cnn_core import images
from cnn_core.images import ImageError, load_image


def encode(img: Image.Image, fmt: str = "PNG", **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that declares huge dimensions but carries almost no data (a decompression bomb's header)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP", "BMP", "GIF", "TIFF"])
def test_every_accepted_format_decodes(fmt):
    rgb = Image.fromarray(np.full((6, 9, 3), (200, 100, 50), np.uint8))
    out = load_image(encode(rgb, fmt), mode="rgb")
    assert out.pixels.shape == (6, 9, 3) and out.pixels.dtype == np.float32
    assert out.pixels.min() >= 0 and out.pixels.max() <= 1


@pytest.mark.parametrize(
    "data,words",
    [
        (b"", "empty"),
        (b"%PDF-1.4 this is not a picture", "not an image"),
        (b"\x89PNG\r\n\x1a\n" + b"\0" * 40, "not an image ConvLab can read"),
    ],
)
def test_non_images_and_empty_files_are_refused(data, words):
    with pytest.raises(ImageError, match=words):
        load_image(data)


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_truncated_files_are_refused(fmt):
    noisy = Image.fromarray(np.random.default_rng(0).integers(0, 255, (64, 64, 3), dtype=np.uint8))
    data = encode(noisy, fmt)
    with pytest.raises(ImageError, match="damaged or cut short"):
        load_image(data[: len(data) // 2])


def test_corrupt_bytes_in_the_middle_are_refused():
    data = bytearray(encode(Image.fromarray(np.zeros((32, 32), np.uint8))))
    data[40:60] = b"\xff" * 20
    with pytest.raises(ImageError):
        load_image(bytes(data))


def test_decompression_bomb_and_huge_dimensions_refused_before_decoding():
    with pytest.raises(ImageError, match=r"declares too many pixels to decode safely \(a decompression bomb\?\)"):
        load_image(png_header_only(10_000, 10_000))  # past Pillow's own bomb limit
    with pytest.raises(ImageError, match=r"7000 x 7000 = 49 megapixels; ConvLab accepts up to 40 megapixels"):
        load_image(png_header_only(7_000, 7_000))  # under Pillow's limit, over ConvLab's
    with pytest.raises(ImageError, match="each side may be at most"):
        load_image(png_header_only(30_000, 1))


def test_oversized_file_refused():
    with pytest.raises(ImageError, match="MB"):
        load_image(b"\0" * 100, max_bytes=50)


def test_16_bit_is_rescaled_not_clipped():
    a = np.array([[0, 1000, 30000, 65535]], dtype=np.uint16)
    out = load_image(encode(Image.fromarray(a)))
    np.testing.assert_allclose(out.pixels, a / 65535, atol=1e-6)
    assert out.is_gray and any("16-bit" in n for n in out.notes)


def test_float_images_are_rescaled():
    f = Image.fromarray(np.array([[-2.0, 0.0, 6.0]], dtype=np.float32))
    out = load_image(encode(f, "TIFF"))
    np.testing.assert_allclose(out.pixels, [[0, 0.25, 1]])


def test_rgba_is_composited_on_white():
    rgba = np.zeros((2, 2, 4), np.uint8)
    rgba[0, 0] = (255, 0, 0, 255)  # opaque red
    rgba[0, 1] = (0, 0, 0, 0)  # fully transparent
    rgba[1, 0] = (0, 0, 0, 128)  # half-transparent black
    out = load_image(encode(Image.fromarray(rgba, "RGBA")))
    np.testing.assert_allclose(out.pixels[0, 0], [1, 0, 0])
    np.testing.assert_allclose(out.pixels[0, 1], [1, 1, 1])
    np.testing.assert_allclose(out.pixels[1, 0], [127 / 255] * 3, atol=1e-3)
    assert any("white" in n for n in out.notes)


def test_palette_and_cmyk_become_rgb():
    p = Image.new("P", (3, 3))
    p.putpalette([0, 0, 0, 10, 200, 30] + [0] * 762)
    p.putpixel((1, 1), 1)
    out = load_image(encode(p))
    np.testing.assert_allclose(out.pixels[1, 1], np.array([10, 200, 30]) / 255, atol=1e-6)
    cmyk = load_image(encode(Image.new("CMYK", (2, 2), (0, 255, 255, 0)), "JPEG"))
    assert cmyk.original_mode == "CMYK" and cmyk.pixels.shape == (2, 2, 3)
    assert cmyk.pixels[0, 0, 0] > 0.9 and cmyk.pixels[0, 0, 1] < 0.2  # cyan+magenta-free -> red


def test_exif_rotation_is_applied():
    img = Image.fromarray(np.zeros((2, 4, 3), np.uint8))  # 4 wide, 2 tall
    exif = img.getexif()
    exif[0x0112] = 6  # rotate 90 degrees to be upright
    out = load_image(encode(img, "JPEG", exif=exif))
    assert out.pixels.shape[:2] == (4, 2)
    assert any("EXIF" in n for n in out.notes)


def test_animated_images_use_the_first_frame():
    frames = [Image.new("RGB", (8, 8), c) for c in ((255, 0, 0), (0, 0, 255))]
    buf = io.BytesIO()
    frames[0].save(buf, "GIF", save_all=True, append_images=frames[1:])
    out = load_image(buf.getvalue(), mode="rgb")
    assert out.pixels[0, 0, 0] > 0.9 and out.pixels[0, 0, 2] < 0.1
    assert any("2 frames" in n for n in out.notes)


def test_slivers_and_single_pixels_decode():
    assert load_image(encode(Image.new("L", (1, 1), 255))).pixels.shape == (1, 1)
    assert load_image(encode(Image.new("RGB", (500, 1)))).pixels.shape == (1, 500, 3)


def test_gray_and_rgb_modes():
    rgb = encode(Image.new("RGB", (2, 2), (255, 0, 0)))
    assert load_image(rgb, mode="gray").pixels[0, 0] == pytest.approx(0.299, abs=1e-3)
    assert load_image(encode(Image.new("L", (2, 2))), mode="rgb").pixels.shape == (2, 2, 3)


def test_every_bundled_sample_loads():
    for name in images.SAMPLES:
        assert load_image(images.sample_bytes(name)).pixels.size > 0


def test_working_copy_and_display_helpers():
    big = np.random.default_rng(0).random((300, 1200, 3)).astype(np.float32)
    small = images.resize_to_fit(big, 600)
    assert small.shape == (150, 600, 3) and abs(small.mean() - big.mean()) < 0.01
    v = np.array([-2.0, 0.0, 1.0, 4.0])
    np.testing.assert_allclose(images.display_range(v, "clip"), [0, 0, 1, 1])
    np.testing.assert_allclose(images.display_range(v, "stretch"), [0, 1 / 3, 0.5, 1])
    # abs / signed scale by the 99.5th percentile, so one extreme pixel cannot wash out the rest.
    edges = np.concatenate([np.full(999, -2.0), np.full(999, 2.0), [0.0, 500.0]])
    shown = images.display_range(edges, "abs")
    assert shown[0] == pytest.approx(1.0) and shown[-2] == 0.0 and shown[-1] == 1.0
    signed = images.display_range(edges, "signed")
    assert signed[0] == pytest.approx(0.0) and signed[-2] == 0.5 and signed[999] == pytest.approx(1.0)
    np.testing.assert_allclose(images.display_range(np.array([0.2, 0.5]), "abs"), [0.2, 0.5])


def test_display_sizes():
    assert images.fit_scale((512, 512), 440) == pytest.approx(440 / 512)
    assert images.fit_scale((28, 28), 440) == 1.0  # never enlarged
    assert images.scaled_shape((480, 640), 0.5) == (240, 320)
    assert images.scaled_shape((1, 600), 0.01) == (1, 6)  # at least one pixel
    assert images.fit_width((512, 512), 100) == (100, 100)
    assert images.fit_width((100, 300), 200) == (67, 200)
    assert images.fit_width((100, 300), 400) == (100, 300)


def test_to_picture_draws_each_display_mode():
    v = np.array([[-1.0, 0.0, 1.0, 0.5]])
    signed = images.to_picture(v, "signed")
    assert signed.shape == (1, 4, 3) and signed.dtype == np.uint8
    assert tuple(signed[0, 1]) == (255, 255, 255)  # zero is white
    assert tuple(signed[0, 0]) == tuple(images.to_uint8(np.array(images.SIGNED_NEGATIVE)))  # most negative: red
    assert tuple(signed[0, 2]) == tuple(images.to_uint8(np.array(images.SIGNED_POSITIVE)))  # most positive: blue
    halfway = 1 + 0.5 * (np.array(images.SIGNED_POSITIVE) - 1)  # half the largest: half-way to blue
    np.testing.assert_array_equal(signed[0, 3], images.to_uint8(halfway))
    np.testing.assert_array_equal(images.to_picture(v, "clip"), [[0, 0, 255, 128]])
    rgb = np.stack([v, -v, v], axis=-1)  # (1, 4, 3): signed colours need one channel, so abs
    np.testing.assert_array_equal(images.to_picture(rgb, "signed"), images.to_picture(rgb, "abs"))


def test_signed_colours_are_white_plus_t_times_the_way_to_red_or_blue():
    """The channel-by-channel ``signed`` picture is the formula's own bytes: white + |t| (end - white)."""
    from cnn_core.images import SIGNED_NEGATIVE, SIGNED_POSITIVE, display_range, to_picture, to_uint8

    rng = np.random.default_rng(3)
    for values in (rng.normal(size=(61, 47)), rng.normal(size=(1, 9)) * 1e-4, np.array([[-0.0, 0.0, -2.0, 2.0]])):
        t = (display_range(values, "signed") * 2 - 1)[..., None]  # (H, W, 1)
        white = np.ones(3, np.float32)
        neg, pos = np.array(SIGNED_NEGATIVE, np.float32), np.array(SIGNED_POSITIVE, np.float32)
        want = to_uint8(np.where(t < 0, white + (-t) * (neg - white), white + t * (pos - white)))
        got = to_picture(values, "signed")
        assert got.dtype == np.uint8 and got.shape == (*values.shape, 3)
        np.testing.assert_array_equal(got, want)
