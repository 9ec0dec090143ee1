"""A learner's own zip of class folders (``class_name/*.png|jpg``), checked before it touches disk.

The checks, in the order they run: the zip's own size; per entry, absolute paths, ``..`` and
symbolic links (path escapes), the number of files, declared uncompressed sizes and compression
ratios (zip bombs); then the layout (one folder per class, one wrapping folder allowed, system
clutter ignored); then, while reading, the actual sizes. Every image goes through
:func:`cnn_core.images.load_image`, the one safe decoder of uploads, and is written under a name of
our own to a temporary folder that ``torchvision``'s ``ImageFolder`` reads back.
"""

from __future__ import annotations

import io
import stat
import tempfile
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from cnn_core.data.imageset import DatasetUnavailable, ImageSet, make_set

__all__ = ["ZipLimits", "load_zip"]

_IMAGE_EXT = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff")
_CLUTTER = ("thumbs.db", "desktop.ini")  # besides __MACOSX/ and hidden files

Member = tuple[zipfile.ZipInfo, tuple[str, ...]]  # an entry and its path parts


@dataclass(frozen=True)
class ZipLimits:
    """Caps applied to an uploaded dataset zip before anything is written to disk."""

    max_bytes: int = 50_000_000  # size of the zip itself
    max_files: int = 5_000  # entries (files) in the zip
    max_uncompressed: int = 200_000_000  # total declared (and actual) uncompressed size
    max_member: int = 20_000_000  # one file, uncompressed
    max_ratio: float = 200.0  # uncompressed / compressed for any member larger than 1 MB
    max_pixels: int = 25_000_000  # one image, width x height, checked before decoding


def load_zip(
    data: bytes,
    limits: ZipLimits | None = None,
    image_size: int | None = None,
    test_fraction: float = 0.2,
    seed: int = 0,
    name: str = "My dataset",
) -> ImageSet:
    """Read a learner's zip of class folders (``class_name/*.png|jpg``) into an :class:`ImageSet`.

    The zip is checked before anything is written: its size, the number of files, declared and
    actual uncompressed sizes and compression ratios (zip bombs), absolute paths, ``..`` and
    symlinks (path escapes), and folders nested deeper than ``class/file`` (one wrapping folder is
    allowed). Every member is decoded with :func:`cnn_core.images.load_image`; those that are not
    readable images are skipped and counted in ``notes``. The decoded images are written, under
    names of our own, to a temporary folder and read back with ``torchvision``'s
    ``ImageFolder``, converted to grayscale when every image is gray (else RGB), and resized to
    ``image_size`` (default 28 for grayscale, 32 for colour).

    Parameters
    ----------
    data : bytes
        The zip file's bytes.
    limits : ZipLimits, optional
        Caps; default ``ZipLimits()``.
    image_size : int, optional
        Side of the square images after resizing.
    test_fraction : float
        Share of each class held out for testing (each class with 2+ images keeps at least one).
    seed : int
        Seed of the train/test split.
    name : str
        Display name.

    Raises
    ------
    DatasetUnavailable
        With a readable reason: not a zip, too big, bomb, path escape, too few classes, no images.
    """
    lim = limits or ZipLimits()
    if len(data) == 0:
        raise DatasetUnavailable("The zip file is empty.")
    if len(data) > lim.max_bytes:
        raise DatasetUnavailable(f"The zip is {len(data) / 1e6:.1f} MB; the limit is {lim.max_bytes / 1e6:.0f} MB.")
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError):
        raise DatasetUnavailable("This file is not a readable zip archive.") from None

    with zf:
        members = _checked_members(zf, lim)
        files, ignored, loose = _class_files(members)
        with tempfile.TemporaryDirectory(prefix="convlab-zip-") as tmp:
            base = Path(tmp).resolve()
            class_dirs, skipped, gray = _extract_images(zf, files, lim, base)
            size = image_size or (28 if gray else 32)
            x, y, folders = _read_image_folder(base, size, gray)
    names = {folder: cls for cls, folder in class_dirs.items()}
    classes = tuple(names[f] for f in folders)

    notes = []
    if skipped:
        notes.append(f"{skipped} file(s) were not readable images and were skipped.")
    if loose:
        notes.append(f"{loose} file(s) outside any class folder were ignored.")
    if ignored:
        notes.append(f"{ignored} system file(s) (e.g. __MACOSX, hidden files) were ignored.")
    notes.append(f"Images were resized to {size}x{size} {'grayscale' if gray else 'RGB'}.")
    tr, te = _stratified_split(y, test_fraction, seed)
    return make_set(name, x[tr], y[tr], x[te], y[te], classes, source="uploaded zip", notes=tuple(notes))


def _member_parts(name: str) -> tuple[str, ...]:
    """Path parts of a zip member name, refusing names that could escape the folder."""
    norm = name.replace("\\", "/")
    if norm.startswith("/") or (len(norm) > 1 and norm[1] == ":"):
        raise DatasetUnavailable(f"The zip holds an absolute path ({name!r}); refusing it.")
    parts = tuple(p for p in norm.split("/") if p not in ("", "."))
    if ".." in parts:
        raise DatasetUnavailable(f"The zip holds a path that climbs out of its folder ({name!r}); refusing it.")
    return parts


def _checked_members(zf: zipfile.ZipFile, lim: ZipLimits) -> list[Member]:
    """The zip's files with their path parts, after the checks its listing allows (escapes, bombs)."""
    members: list[Member] = []
    declared = 0
    for info in zf.infolist():
        parts = _member_parts(info.filename)
        if stat.S_ISLNK(info.external_attr >> 16):
            raise DatasetUnavailable(f"The zip holds a symbolic link ({info.filename!r}); refusing it.")
        if info.flag_bits & 0x1:
            raise DatasetUnavailable(
                f"The zip is password-protected ({info.filename!r} is encrypted); please send it without a password."
            )
        if info.is_dir() or not parts:
            continue
        members.append((info, parts))
        if len(members) > lim.max_files:
            raise DatasetUnavailable(f"The zip holds more than {lim.max_files} files; please send fewer images.")
        declared += info.file_size
        if info.file_size > lim.max_member or declared > lim.max_uncompressed:
            raise DatasetUnavailable(
                f"The zip unpacks to more than {min(lim.max_member, lim.max_uncompressed) / 1e6:.0f} MB; "
                "please send smaller images or fewer of them."
            )
        if info.file_size > 1_000_000 and info.file_size > lim.max_ratio * max(info.compress_size, 1):
            raise DatasetUnavailable(
                f"{info.filename!r} is compressed {info.file_size / max(info.compress_size, 1):.0f}:1, which "
                "only decompression bombs do; refusing the zip."
            )
    return members


def _class_files(members: list[Member]) -> tuple[list[Member], int, int]:
    """The ``class/file`` entries, with the counts of system files and of loose files ignored.

    macOS/Windows clutter is dropped, then one wrapping folder is allowed: data/cat/1.png -> cat/1.png.
    """
    kept = [
        (i, p) for i, p in members if p[0] != "__MACOSX" and not p[-1].startswith(".") and p[-1].lower() not in _CLUTTER
    ]
    ignored = len(members) - len(kept)
    tops = {p[0] for _, p in kept if len(p) > 1}
    if len(tops) == 1 and all(len(p) >= 3 for _, p in kept):
        kept = [(i, p[1:]) for i, p in kept]
    too_deep = [i.filename for i, p in kept if len(p) > 2]
    if too_deep:
        raise DatasetUnavailable(
            f"Folders are nested too deeply (e.g. {too_deep[0]!r}); the zip should hold one folder per class "
            "with the images directly inside: class_name/image.png."
        )
    files = [(i, p) for i, p in kept if len(p) == 2]
    return files, ignored, len(kept) - len(files)


def _extract_images(
    zf: zipfile.ZipFile, files: list[Member], lim: ZipLimits, base: Path
) -> tuple[dict[str, str], int, bool]:
    """Decode every image and write it as ``base/<class folder>/<n>.png``, all names our own.

    Returns the class name in the zip -> its folder under ``base``, how many files were skipped
    as unreadable, and whether every image was gray. Refuses zips with fewer than two classes.
    """
    from PIL import Image

    skipped, total_actual, written, all_gray = 0, 0, 0, True
    class_dirs: dict[str, str] = {}
    for info, (cls, filename) in files:
        blob = _read_capped(zf, info, lim.max_member)
        total_actual += len(blob or b"")
        if total_actual > lim.max_uncompressed:
            raise DatasetUnavailable("The zip unpacks to more than its allowed size; refusing it.")
        is_image = blob is not None and filename.lower().endswith(_IMAGE_EXT)
        pixels = _decode_member(blob, lim.max_pixels) if is_image else None
        if pixels is None:
            skipped += 1
            continue
        all_gray = all_gray and pixels.ndim == 2
        written += 1
        folder = class_dirs.setdefault(cls, f"{len(class_dirs):04d}")
        target = (base / folder / f"{written:06d}.png").resolve()
        if base not in target.parents:  # belt and braces: never write outside base
            raise DatasetUnavailable(f"{info.filename!r} would land outside the folder; refusing it.")
        target.parent.mkdir(exist_ok=True)
        Image.fromarray(pixels).save(target, format="PNG", compress_level=1)
    found = sorted(class_dirs)
    if not found:
        raise DatasetUnavailable(
            "No images were found in class folders. The zip should hold one folder per class, "
            "e.g. cats/1.png, dogs/7.jpg."
        )
    if len(found) < 2:
        raise DatasetUnavailable(
            f"Only one class was found ({found[0]!r}); a classifier needs at least two class folders."
        )
    return class_dirs, skipped, all_gray


def _read_capped(zf: zipfile.ZipFile, info: zipfile.ZipInfo, cap: int) -> bytes | None:
    """Read one member, stopping as soon as it grows past ``cap`` or its declared size.

    Returns None for a damaged member (its data does not unpack or fails its checksum).
    """
    limit = min(cap, info.file_size)
    chunks, total = [], 0
    try:
        with zf.open(info) as f:
            while chunk := f.read(1 << 16):
                total += len(chunk)
                if total > limit:
                    raise DatasetUnavailable(
                        f"{info.filename!r} unpacks to more than its declared or allowed size: the zip looks like a "
                        "decompression bomb; refusing it."
                    )
                chunks.append(chunk)
    except NotImplementedError:
        raise DatasetUnavailable(
            f"{info.filename!r} is packed with a compression method this app cannot read; please make the zip "
            "with ordinary (deflate) compression."
        ) from None
    except (zipfile.BadZipFile, zlib.error, EOFError):
        return None
    return b"".join(chunks)


def _decode_member(data: bytes, max_pixels: int) -> np.ndarray | None:
    """uint8 pixels ``(H, W)`` or ``(H, W, 3)`` of an image member, or None if it is not a usable image.

    Decoding goes through :func:`cnn_core.images.load_image` (caps checked before decoding, EXIF
    rotation, transparency on white, 16-bit rescaled).
    """
    from cnn_core import images

    try:
        loaded = images.load_image(data, mode="auto", max_bytes=max(len(data), 1), max_pixels=max_pixels)
    except images.ImageError:
        return None
    return images.to_uint8(loaded.pixels)


def _gray_loader(path: str):
    from PIL import Image

    with Image.open(path) as im:
        return im.convert("L")


def _rgb_loader(path: str):
    from PIL import Image

    with Image.open(path) as im:
        return im.convert("RGB")


def _read_image_folder(base: Path, size: int, gray: bool) -> tuple[torch.Tensor, np.ndarray, tuple[str, ...]]:
    """Read an extracted class-folder tree with ``ImageFolder`` into uint8 ``(N, C, size, size)``."""
    from torchvision import datasets, transforms

    tf = transforms.Compose([transforms.Resize((size, size), antialias=True), transforms.PILToTensor()])
    folder = datasets.ImageFolder(str(base), transform=tf, loader=_gray_loader if gray else _rgb_loader)
    xs, ys = [], []
    for img, label in folder:
        xs.append(img)  # (C, size, size) uint8
        ys.append(label)
    return torch.stack(xs), np.array(ys, dtype=np.int64), tuple(folder.classes)


def _stratified_split(y: np.ndarray, test_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices for train and test, holding out ``test_fraction`` of each class with 2+ samples."""
    rng = np.random.default_rng(seed)
    tr, te = [], []
    for c in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == c))
        n_test = 0 if len(idx) < 2 else min(len(idx) - 1, max(1, round(len(idx) * test_fraction)))
        te.extend(idx[:n_test])
        tr.extend(idx[n_test:])
    return rng.permutation(np.array(tr, dtype=np.int64)), rng.permutation(np.array(te, dtype=np.int64))
