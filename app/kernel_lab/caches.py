"""The Kernel Lab's server-wide caches: decoded photos, working copies, filter outputs and the
encoded pictures a rerun sends, each made once per photo and setting and shared read-only.

They hold one object for the whole server: a class of 30 on the same sample photo shares one
decoded copy, and a rerun gets it without the pickle round trip ``st.cache_data`` makes (which, for
a 12-megapixel upload, copied ~150 MB on every rerun). They are :class:`SharedCache` s keyed on
Python's own hash of small tuples (the photo's digest, the colour mode, the :class:`FilterSpec`):
``st.cache_resource`` hashed each call's arguments with its own hasher, ~2 ms a call and a fifth of
a preset change's run on the server (issue #15).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import io
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable

import numpy as np
from PIL import Image

from app.kernel_lab.model import CACHE_TTL, WORKING_SIDE, FilterSpec
from app.pictures import png_bytes
from cnn_core import filters, images

EXACT_PIXELS = 200 * 200  # pictures up to this size are sent as PNG (exact pixels); larger as JPEG
WINDOW_COLOUR = (230, 159, 0)  # Okabe-Ito orange: the kernel's window on the input photo

_last_digest = threading.local()  # per script thread: the photo bytes last hashed, and their digest


def digest(data: bytes) -> str:
    """The photo's identity in every cache below.

    A rerun hands the same bytes object to every helper here, so it is hashed once per rerun
    (a 20 MB upload takes tens of milliseconds to hash), not once per call.
    """
    last = getattr(_last_digest, "pair", None)
    if last is not None and last[0] is data:
        return last[1]
    key = hashlib.sha1(data).hexdigest()[:16]
    _last_digest.pair = (data, key)
    return key


class SharedCache:
    """A server-wide cache of read-only objects, made once per key (``make(*key, data)``).

    At most ``max_entries`` objects, the least recently used dropped first, and none kept that nobody
    used for :data:`~app.kernel_lab.model.CACHE_TTL` seconds. Two sessions asking for the same missing
    key wait for one making it; different keys are made at the same time.
    """

    def __init__(self, make: Callable, max_entries: int) -> None:
        self._make, self._max = make, max_entries
        self._items: OrderedDict[Hashable, tuple[object, float]] = OrderedDict()  # key -> (object, last used)
        self._lock = threading.Lock()
        self._making: dict[Hashable, threading.Lock] = {}

    def _get(self, key: Hashable, now: float):
        hit = self._items.get(key)
        if hit is None or now - hit[1] >= CACHE_TTL:
            return None
        self._items[key] = (hit[0], now)
        self._items.move_to_end(key)
        return hit

    def __call__(self, *key: Hashable, data: bytes):
        with self._lock:
            if hit := self._get(key, time.monotonic()):
                return hit[0]
            making = self._making.setdefault(key, threading.Lock())
        with making:
            with self._lock:
                if hit := self._get(key, time.monotonic()):
                    return hit[0]
            try:
                value = self._make(*key, data)
            finally:
                with self._lock:
                    self._making.pop(key, None)
            with self._lock:
                now = time.monotonic()
                self._items[key] = (value, now)
                self._items.move_to_end(key)
                for old in [k for k, (_, used) in self._items.items() if now - used >= CACHE_TTL]:
                    del self._items[old]
                while len(self._items) > self._max:
                    self._items.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


def shared(max_entries: int) -> Callable[[Callable], SharedCache]:
    """Decorator: ``make(*key, data)`` becomes a :class:`SharedCache` called as ``cache(*key, data=data)``."""
    return lambda make: SharedCache(make, max_entries)


def _frozen(a: np.ndarray) -> np.ndarray:
    a.flags.writeable = False  # shared by every session that shows this photo: nobody may edit it
    return a


@shared(32)
def _decode(key: str, color: str, _data: bytes) -> images.LoadedImage:
    loaded = images.load_image(_data, mode="gray" if color == "gray" else "rgb")
    _frozen(loaded.pixels)
    return loaded


def decode(data: bytes, color: str) -> images.LoadedImage:
    """Decode once per (file, colour mode); raises ImageError with a message to show."""
    return _decode(digest(data), color, data=data)


@shared(32)
def _working_copy(key: str, color: str, _data: bytes) -> np.ndarray:
    return _frozen(images.resize_to_fit(decode(_data, color).pixels, WORKING_SIDE))


def working_copy(data: bytes, color: str) -> np.ndarray:
    """The display-sized copy the page filters live (read-only)."""
    return _working_copy(digest(data), color, data=data)


@shared(64)
def _filtered(key: str, color: str, spec: FilterSpec, _data: bytes) -> np.ndarray:
    return _frozen(_apply(working_copy(_data, color), spec))


def filtered(data: bytes, color: str, spec: FilterSpec) -> np.ndarray:
    """Filter the working copy (cached on the photo and the spec; read-only)."""
    return _filtered(digest(data), color, spec, data=data)


def _map_picture(data: bytes, color: str, spec: FilterSpec, display: str, width: int) -> Image.Image:
    picture = Image.fromarray(images.to_picture(filtered(data, color, spec), display))
    rows, cols = images.fit_width((picture.height, picture.width), width)
    if cols != picture.width:  # shrink it here, once, as st.image would on every rerun (same filter)
        picture = picture.resize((cols, rows), Image.BILINEAR)
    return picture


@shared(64)
def _feature_map_png(key: str, color: str, spec: FilterSpec, display: str, width: int, _data: bytes) -> bytes:
    return png_bytes(_map_picture(_data, color, spec, display, width), compress_level=1)


def feature_map_png(data: bytes, color: str, spec: FilterSpec, display: str, width: int) -> bytes:
    """The live feature map as PNG bytes at most ``width`` pixels wide, exact pixels, encoded once per setting."""
    return _feature_map_png(digest(data), color, spec, display, width, data=data)


@shared(64)
def _feature_map_picture(
    key: str, color: str, spec: FilterSpec, display: str, width: int, _data: bytes
) -> EncodedPicture:
    return _encoded(np.asarray(_map_picture(_data, color, spec, display, width)))


def feature_map_picture(data: bytes, color: str, spec: FilterSpec, display: str, width: int) -> EncodedPicture:
    """The live feature map at most ``width`` pixels wide, encoded once per setting, as the page sends it.

    Exact PNG for a small map, JPEG (4:4:4, quality 92) for a photo-sized one, like the input photo.
    Handed to ``st.image`` with its own format, the bytes go out as they are: given PNG bytes of a
    picture without alpha, ``st.image`` decoded them and encoded a JPEG on every rerun.
    """
    return _feature_map_picture(digest(data), color, spec, display, width, data=data)


def full_resolution_png(data: bytes, color: str, spec: FilterSpec, display: str) -> bytes:
    """The result on the full-resolution photo, as PNG bytes (made only when downloaded)."""
    return png_bytes(images.to_picture(_apply(decode(data, color).pixels, spec), display))


def _apply(pixels: np.ndarray, spec: FilterSpec) -> np.ndarray:
    kw = dict(stride=spec.stride, padding=spec.padding, padding_mode=spec.padding_mode, dilation=spec.dilation)
    out = filters.apply_kernel(pixels, np.array(spec.kernel, dtype=np.float64), **kw)
    if spec.partner is not None:
        out = np.hypot(out, filters.apply_kernel(pixels, np.array(spec.partner, dtype=np.float64), **kw))
    return out


def mark_window(picture: np.ndarray, rows: tuple[int, ...], cols: tuple[int, ...]) -> np.ndarray:
    """Outline, in orange, the input pixels under the kernel (clipped to the picture)."""
    out = picture if picture.ndim == 3 else np.repeat(picture[..., None], 3, axis=2)
    out = out.copy()
    h, w = out.shape[:2]
    r0, r1 = max(min(rows) - 1, 0), min(max(rows) + 1, h - 1)
    c0, c1 = max(min(cols) - 1, 0), min(max(cols) + 1, w - 1)
    colour = np.array(WINDOW_COLOUR, np.uint8)
    for t in range(2):  # two pixels thick, drawn outside the window
        out[max(r0 - t, 0), c0 : c1 + 1] = colour
        out[min(r1 + t, h - 1), c0 : c1 + 1] = colour
        out[r0 : r1 + 1, max(c0 - t, 0)] = colour
        out[r0 : r1 + 1, min(c1 + t, w - 1)] = colour
    return out


class EncodedPicture:
    """Already-encoded image bytes, and the same bytes as a ``data:`` address for the photo component.

    The address is made once with the picture (and shared from the cache), so a rerun that keeps
    the window sends the same string and the browser keeps the picture it has decoded.
    """

    def __init__(self, data: bytes, fmt: str) -> None:
        self.data, self.format = data, fmt

    @functools.cached_property
    def data_url(self) -> str:
        return f"data:image/{self.format.lower()};base64,{base64.b64encode(self.data).decode('ascii')}"

    def save(self, fp, format: str | None = None, **_: object) -> None:  # noqa: A002 (PIL's name)
        """Write the bytes as they are (for a caller that saves pictures like PIL's)."""
        fp.write(self.data)


@shared(128)
def _input_picture(key: str, color: str, box: tuple[int, int, int, int], _data: bytes) -> EncodedPicture:
    picture = images.to_uint8(working_copy(_data, color))
    return _encoded(mark_window(picture, (box[0], box[1]), (box[2], box[3])))


def _encoded(picture: np.ndarray) -> EncodedPicture:
    """A uint8 picture as exact PNG when small (digits, drawings, small crops), else as JPEG."""
    if picture.shape[0] * picture.shape[1] <= EXACT_PIXELS:
        return EncodedPicture(png_bytes(picture, compress_level=1), "PNG")
    # A photo: high-quality JPEG is ~10x smaller than PNG, and faster to make; 4:4:4 keeps the orange box crisp.
    buf = io.BytesIO()
    Image.fromarray(picture).save(buf, format="JPEG", quality=92, subsampling=0)
    return EncodedPicture(buf.getvalue(), "JPEG")


def input_picture(data: bytes, color: str, rows: tuple[int, ...], cols: tuple[int, ...]) -> EncodedPicture:
    """The working copy with the kernel's window outlined, encoded once per (photo, window)."""
    return _input_picture(digest(data), color, (min(rows), max(rows), min(cols), max(cols)), data=data)
