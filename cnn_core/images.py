"""Safe decoding of untrusted image bytes into a normalised float array.

:func:`load_image` is the only way uploaded bytes become pixels in ConvLab. It refuses, with a
sentence a student can read, anything that is not a readable image, and it refuses oversized
files and decompression bombs *before* decoding pixels. What it accepts comes out as float32 in
[0, 1], (H, W, 3) RGB or (H, W) grayscale, upright (EXIF rotation applied), with transparency
composited on white and 16-bit or float data rescaled rather than clipped.

The way back to a picture lives here too: :func:`resize_to_fit` and :func:`fit_scale` (working and
display sizes), :func:`display_range` and :func:`to_picture` (filter output -> the uint8 picture
each display mode draws, signed colours included).
"""

from __future__ import annotations

import io
import struct
import warnings
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Literal

import numpy as np
from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

__all__ = [
    "SAMPLES",
    "ImageError",
    "LoadedImage",
    "display_range",
    "fit_scale",
    "fit_width",
    "load_image",
    "resize_to_fit",
    "sample_bytes",
    "scaled_shape",
    "to_picture",
    "to_uint8",
]

MAX_BYTES = 20_000_000  # 20 MB per upload
MAX_PIXELS = 40_000_000  # refuse anything bigger than 40 megapixels before decoding
MAX_SIDE = 20_000  # refuse absurd dimensions such as 1 x 10,000,000
Image.init()
FORMATS = tuple(f for f in ("PNG", "JPEG", "MPO", "WEBP", "BMP", "GIF", "TIFF") if f in Image.OPEN)

ImageFile.LOAD_TRUNCATED_IMAGES = False


class ImageError(ValueError):
    """An upload that cannot be used as an image; ``str(err)`` is the message to show."""


@dataclass(frozen=True)
class LoadedImage:
    """A decoded image and what was done to it on the way in."""

    pixels: np.ndarray  # float32 in [0, 1]; (H, W, 3) RGB or (H, W) grayscale
    format: str  # e.g. "PNG"
    original_mode: str  # Pillow mode before conversion, e.g. "RGBA", "I;16", "CMYK"
    notes: tuple[str, ...] = field(default=())  # plain sentences: "Rotated upright (EXIF).", ...

    @property
    def shape(self) -> tuple[int, ...]:
        return self.pixels.shape

    @property
    def is_gray(self) -> bool:
        return self.pixels.ndim == 2


def load_image(
    data: bytes,
    *,
    mode: Literal["rgb", "gray", "auto"] = "auto",
    max_bytes: int = MAX_BYTES,
    max_pixels: int = MAX_PIXELS,
) -> LoadedImage:
    """Decode untrusted image bytes safely.

    Parameters
    ----------
    data : bytes
        The file's contents.
    mode : "rgb", "gray" or "auto"
        Output layout; "auto" keeps grayscale files grayscale and makes everything else RGB.
    max_bytes, max_pixels : int
        Caps checked before any pixel is decoded.

    Returns
    -------
    LoadedImage

    Raises
    ------
    ImageError
        Empty, oversized, non-image, truncated or corrupt files, decompression bombs.
    """
    if not data:
        raise ImageError("The file is empty: there is no image in it.")
    if len(data) > max_bytes:
        raise ImageError(
            f"The file is {len(data) / 1e6:.1f} MB; ConvLab accepts images up to {max_bytes / 1e6:.0f} MB."
        )
    notes: list[str] = []
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data), formats=FORMATS)
            width, height = img.size
            _check_dimensions(width, height, max_pixels)
            frames = getattr(img, "n_frames", 1)
            if frames > 1:
                img.seek(0)
                notes.append(f"This is an animated image with {frames} frames; ConvLab uses the first one.")
            img.load()
            original_mode = img.mode
            fmt = img.format or "image"
            img = _upright(img, notes)
            pixels = _to_array(img, mode, notes)
    except ImageError:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning) as err:
        if isinstance(err, UnidentifiedImageError):
            raise ImageError(
                "This file is not an image ConvLab can read. Use a PNG, JPEG, WebP, BMP, GIF or TIFF file."
            ) from None
        raise ImageError("This image declares too many pixels to decode safely (a decompression bomb?).") from None
    except (OSError, SyntaxError, ValueError, EOFError, IndexError, MemoryError, struct.error):
        raise ImageError(
            "This image file is damaged or cut short, so it cannot be decoded. Try saving it again."
        ) from None
    return LoadedImage(pixels=pixels, format=fmt, original_mode=original_mode, notes=tuple(notes))


def _check_dimensions(width: int, height: int, max_pixels: int) -> None:
    if width < 1 or height < 1:
        raise ImageError("This image has no pixels.")
    if width > MAX_SIDE or height > MAX_SIDE:
        raise ImageError(f"This image is {width} x {height} pixels; each side may be at most {MAX_SIDE:,}.")
    if width * height > max_pixels:
        raise ImageError(
            f"This image is {width} x {height} = {width * height / 1e6:.0f} megapixels; "
            f"ConvLab accepts up to {max_pixels / 1e6:.0f} megapixels."
        )


def _upright(img: Image.Image, notes: list[str]) -> Image.Image:
    try:
        orientation = img.getexif().get(0x0112, 1)
    except Exception:  # a broken EXIF block is no reason to refuse the pixels
        return img
    if orientation not in (None, 1):
        img = ImageOps.exif_transpose(img)
        notes.append("Rotated upright as its camera (EXIF) data asks.")
    return img


def _to_array(img: Image.Image, mode: str, notes: list[str]) -> np.ndarray:
    """Convert any Pillow mode to float32 [0, 1], (H, W) or (H, W, 3)."""
    m = img.mode
    if m == "P" or m == "PA":
        img = img.convert("RGBA")
        m = "RGBA"
    if m in ("RGBA", "LA", "RGBa", "La"):
        if m.endswith("a"):
            img = img.convert(m[:-1] + "A")
        rgba = np.asarray(img.convert("RGBA"), dtype=np.float32) / 255.0  # (H, W, 4)
        alpha = rgba[..., 3:4]
        if (alpha < 1).any():
            notes.append("Transparent areas were placed on a white background.")
        arr = rgba[..., :3] * alpha + (1.0 - alpha)
        gray_source = m.startswith("L")
    elif m in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        arr = _rescale_high_depth(np.asarray(img), m, notes)
        gray_source = True
    elif m == "CMYK":
        arr = np.asarray(img.convert("RGB"), dtype=np.float32) / 255.0
        notes.append("Converted from CMYK (print colours) to RGB.")
        gray_source = False
    elif m in ("1", "L"):
        arr = np.asarray(img.convert("L"), dtype=np.float32) / 255.0
        gray_source = True
    else:  # RGB, YCbCr, LAB, HSV, RGBX, ...
        arr = np.asarray(img.convert("RGB"), dtype=np.float32) / 255.0
        gray_source = False
    want_gray = mode == "gray" or (mode == "auto" and gray_source)
    if want_gray and arr.ndim == 3:
        arr = arr @ np.array([0.299, 0.587, 0.114], dtype=np.float32)  # ITU-R 601 luma, as Pillow's "L"
    elif not want_gray and arr.ndim == 2:
        arr = np.repeat(arr[..., None], 3, axis=2)
    return np.ascontiguousarray(np.clip(arr, 0.0, 1.0), dtype=np.float32)


def _rescale_high_depth(raw: np.ndarray, mode: str, notes: list[str]) -> np.ndarray:
    arr = raw.astype(np.float64)
    if mode == "F":
        finite = np.isfinite(arr)
        if not finite.all():
            notes.append("Some pixels were not finite numbers and were set to 0.")
            arr = np.where(finite, arr, 0.0)
        lo, hi = float(arr.min()), float(arr.max())
        if lo >= 0.0 and hi <= 1.0:
            notes.append("Floating-point image used as it is (values already in 0..1).")
            return arr.astype(np.float32)
        notes.append(f"Floating-point image rescaled from [{lo:.3g}, {hi:.3g}] to [0, 1].")
        return ((arr - lo) / (hi - lo if hi > lo else 1.0)).astype(np.float32)
    lo, hi = float(arr.min()), float(arr.max())
    if lo >= 0 and hi <= 65535:
        notes.append("16-bit image rescaled to 0..1 (divided by 65535), not clipped.")
        return (arr / 65535.0).astype(np.float32)
    notes.append(f"32-bit image rescaled from [{lo:.0f}, {hi:.0f}] to [0, 1].")
    return ((arr - lo) / (hi - lo if hi > lo else 1.0)).astype(np.float32)


def fit_scale(shape: tuple[int, ...], max_side: int) -> float:
    """The factor that shrinks a picture of ``shape`` (H, W, ...) so its longer side is at most
    ``max_side``; 1.0 when it already fits (pictures are never enlarged)."""
    return min(1.0, max_side / max(shape[0], shape[1]))


def scaled_shape(shape: tuple[int, ...], scale: float) -> tuple[int, int]:
    """(H, W) of a picture of ``shape`` drawn at ``scale``, at least one pixel each way."""
    return max(1, round(shape[0] * scale)), max(1, round(shape[1] * scale))


def fit_width(shape: tuple[int, ...], width: int) -> tuple[int, int]:
    """(H, W) of a picture of ``shape`` shrunk, keeping its proportions, to at most ``width`` wide."""
    h, w = shape[0], shape[1]
    return (h, w) if w <= width else (max(1, round(h * width / w)), width)


def resize_to_fit(pixels: np.ndarray, max_side: int) -> np.ndarray:
    """A display-sized working copy: shrink so the longer side is at most ``max_side`` (never enlarge)."""
    scale = fit_scale(pixels.shape, max_side)
    if scale >= 1:
        return pixels
    rows, cols = scaled_shape(pixels.shape, scale)
    size = (cols, rows)
    if pixels.ndim == 2:
        out = np.asarray(Image.fromarray(pixels.astype(np.float32), mode="F").resize(size, Image.Resampling.BOX))
    else:
        out = np.stack(
            [
                np.asarray(
                    Image.fromarray(pixels[..., c].astype(np.float32), mode="F").resize(size, Image.Resampling.BOX)
                )
                for c in range(pixels.shape[2])
            ],
            axis=-1,
        )
    return np.ascontiguousarray(out, dtype=np.float32)


def to_uint8(pixels: np.ndarray) -> np.ndarray:
    """Float [0, 1] -> uint8 [0, 255], rounding and clipping."""
    return np.clip(np.rint(np.asarray(pixels) * 255.0), 0, 255).astype(np.uint8)


DisplayMode = Literal["clip", "abs", "stretch", "signed"]


def display_range(values: np.ndarray, how: DisplayMode) -> np.ndarray:
    """Map filter output (any real values) to [0, 1] for showing as a picture.

    ``clip`` cuts at 0 and 1 (right for blurs and sharpening, which keep brightness);
    ``abs`` shows the strength of a response whatever its sign (edge detectors);
    ``stretch`` maps the smallest value to black and the largest to white;
    ``signed`` maps 0 to mid-grey, negatives darker and positives brighter, so a diverging
    colour scale can show the sign. ``abs`` and ``signed`` scale by the 99.5th percentile of the
    magnitudes rather than the single largest one, so a few extreme pixels cannot wash out the rest.
    """
    v = np.asarray(values, dtype=np.float32)
    if how == "clip":
        return np.clip(v, 0.0, 1.0)
    if how == "abs":
        a = np.abs(v)
        top = _robust_top(a)
        return np.clip(a / top, 0.0, 1.0) if top > 1.0 else np.clip(a, 0.0, 1.0)
    if how == "stretch":
        lo, hi = (float(v.min()), float(v.max())) if v.size else (0.0, 0.0)
        return (v - lo) / (hi - lo) if hi > lo else np.zeros_like(v)
    if how == "signed":
        top = _robust_top(np.abs(v))
        return np.clip(0.5 + 0.5 * v / top, 0.0, 1.0) if top > 0 else np.full_like(v, 0.5)
    raise ValueError(f"Unknown display mode {how!r}: use 'clip', 'abs', 'stretch' or 'signed'.")


# Red - white - blue, the diverging scale of the kernel grids (plotly's RdBu): negative red,
# positive blue. Red against blue stays distinct for red-green colour blindness.
SIGNED_NEGATIVE = (0.698, 0.094, 0.169)  # RdBu's dark red, RGB in [0, 1]
SIGNED_POSITIVE = (0.129, 0.400, 0.675)  # RdBu's dark blue


def to_picture(values: np.ndarray, display: DisplayMode) -> np.ndarray:
    """Filter output -> uint8 picture (H, W) or (H, W, 3) as ``display`` draws it.

    ``signed`` on a single channel is drawn in colour: zero white, negatives towards
    :data:`SIGNED_NEGATIVE`, positives towards :data:`SIGNED_POSITIVE`. It needs one channel, so an
    (H, W, 3) output shows as ``abs``.
    """
    if display == "signed" and values.ndim == 2:
        t = display_range(values, "signed") * 2 - 1  # (H, W) in -1 .. 1
        below = t < 0
        size = np.where(below, -t, t)  # |t|
        rgb = np.empty((*t.shape, 3), dtype=np.uint8)  # (H, W, 3)
        one = np.float32(1)
        for c, (neg, pos) in enumerate(zip(SIGNED_NEGATIVE, SIGNED_POSITIVE, strict=True)):
            # white + |t| * (end - white), one channel at a time: a 2-D pass each is ~10x faster than
            # broadcasting over a trailing axis of 3, with the same float32 arithmetic (the same bytes)
            towards = np.where(below, np.float32(neg) - one, np.float32(pos) - one)
            rgb[..., c] = to_uint8(one + size * towards)
        return rgb
    return to_uint8(display_range(values, "abs" if display == "signed" else display))


def _robust_top(magnitudes: np.ndarray) -> float:
    """The 99.5th percentile of the magnitudes, or their maximum when that percentile is 0."""
    if magnitudes.size == 0:
        return 0.0
    top = float(np.percentile(magnitudes, 99.5))
    return top if top > 0 else float(magnitudes.max())


SAMPLES_DIR = Path(__file__).resolve().parents[1] / "assets" / "images"
SAMPLES: dict[str, tuple[str, str]] = {
    "Cameraman": ("camera.png", "A man with a camera, grayscale: strong edges and a smooth sky."),
    "Chelsea the cat": ("chelsea.png", "A cat: fur texture, whiskers and soft edges."),
    "Coins": ("coins.png", "Greek coins, grayscale: round edges on a flat background."),
    "Brick wall": ("brick.png", "A brick wall, grayscale: repeating horizontal and vertical lines."),
    "Hand-drawn text": ("text.png", "Text and corners, grayscale: thin strokes in every direction."),
    "Astronaut": ("astronaut.png", "Eileen Collins, NASA portrait: colour, faces and fine detail."),
    "Coffee": ("coffee.png", "A cup of coffee: smooth colour gradients."),
    "Rocket": ("rocket.jpg", "A Falcon 9 launch: a bright plume against the sky."),
    "Horse": ("horse.png", "A horse silhouette with transparency (shown on white)."),
}
"""Bundled photos: name -> (file in ``assets/images``, one sentence). Licenses in ``LICENSES.md`` there."""


@lru_cache(maxsize=len(SAMPLES))
def sample_bytes(name: str) -> bytes:
    """The raw file of a bundled sample photo (read from the disk once per process: bytes cannot change)."""
    return (SAMPLES_DIR / SAMPLES[name][0]).read_bytes()
