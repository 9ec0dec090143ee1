"""Datasets behind one interface: every loader returns an in-memory :class:`ImageSet`.

This module owns where training images come from and how they are held:

* :func:`load_bundled` - small MNIST / Fashion-MNIST subsets shipped in ``assets/datasets``
  (offline, always there; see ``assets/datasets/NOTICE.md`` for licenses);
* :func:`synthetic_shapes` - lines, circles, squares, triangles, crosses drawn on the fly, whose
  features are easy to spot in feature maps;
* :func:`load_full` - full MNIST, Fashion-MNIST and CIFAR-10 through ``torchvision.datasets`` from a
  data folder (``root`` argument, else ``$CONVLAB_DATA_DIR``), downloaded where allowed;
* :func:`load_zip` - a learner's own zip of class folders, extracted safely and read with
  torchvision's ``ImageFolder``.

Images are kept as uint8 tensors ``(N, C, H, W)`` so that training slices batches straight out of
memory (no per-sample PIL work); :meth:`ImageSet.normalize` turns them into model inputs.
Anything that cannot be loaded raises :class:`DatasetUnavailable` (a ``ValueError``) with a
sentence a person can act on.
"""

from __future__ import annotations

import hashlib
import io
import os
import stat
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import numpy as np
import torch

__all__ = [
    "BUNDLED",
    "DATA_DIR_ENV",
    "FULL",
    "SHAPE_CLASSES",
    "DatasetUnavailable",
    "ImageSet",
    "ZipLimits",
    "default_data_root",
    "load_bundled",
    "load_full",
    "load_zip",
    "synthetic_shapes",
]

ASSETS = Path(__file__).resolve().parents[1] / "assets" / "datasets"
DATA_DIR_ENV = "CONVLAB_DATA_DIR"  # folder holding MNIST/, FashionMNIST/, cifar10-jpeg.zip, ...
DOWNLOAD_ENV = "CONVLAB_DOWNLOAD"  # "0" forbids downloads
CACHE_ENV = "CONVLAB_CACHE_DIR"  # where decoded CIFAR-10 is cached (default: the system temp dir)

MNIST_CLASSES = tuple(str(i) for i in range(10))
FASHION_CLASSES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)
CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
SHAPE_CLASSES = ("horizontal line", "vertical line", "diagonal line", "circle", "square", "triangle", "cross")

BUNDLED = ("mnist", "fashion_mnist")
FULL = ("mnist", "fashion_mnist", "cifar10")
_NICE = {"mnist": "MNIST", "fashion_mnist": "Fashion-MNIST", "cifar10": "CIFAR-10", "shapes": "Synthetic shapes"}
_IMAGE_EXT = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff")


class DatasetUnavailable(ValueError):
    """A dataset cannot be loaded; the message says why and what to do about it."""


@dataclass(frozen=True, eq=False)
class ImageSet:
    """A whole image-classification dataset held in memory.

    Attributes
    ----------
    name : str
        Short display name, e.g. ``"MNIST (bundled subset)"``.
    x_train, x_test : torch.Tensor
        uint8 images ``(N, C, H, W)``, values 0..255.
    y_train, y_test : torch.Tensor
        int64 class indices ``(N,)``.
    classes : tuple of str
        Class names; ``classes[y]`` names label ``y``.
    mean, std : tuple of float
        Per-channel statistics of ``x_train / 255`` used by :meth:`normalize`.
    source : str
        Where the data came from (file, folder, generator) and its license when known.
    notes : tuple of str
        Things a person should know (skipped files, resizing, ...).
    """

    name: str
    x_train: torch.Tensor  # (N, C, H, W) uint8
    y_train: torch.Tensor  # (N,) int64
    x_test: torch.Tensor  # (M, C, H, W) uint8
    y_test: torch.Tensor  # (M,) int64
    classes: tuple[str, ...]
    mean: tuple[float, ...]
    std: tuple[float, ...]
    source: str = ""
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    @property
    def input_shape(self) -> tuple[int, int, int]:
        """``(C, H, W)`` of one image."""
        _, c, h, w = self.x_train.shape
        return int(c), int(h), int(w)

    def normalize(self, x: torch.Tensor) -> torch.Tensor:
        """uint8 ``(B, C, H, W)`` -> float32 ``(x / 255 - mean) / std`` on ``x``'s device."""
        mean = torch.tensor(self.mean, dtype=torch.float32, device=x.device).view(1, -1, 1, 1)
        std = torch.tensor(self.std, dtype=torch.float32, device=x.device).view(1, -1, 1, 1)
        return (x.float().div_(255.0) - mean) / std

    def subset(self, n_train: int | None = None, n_test: int | None = None) -> ImageSet:
        """The first ``n_train`` / ``n_test`` samples (handy for quick demos and tests)."""
        return ImageSet(
            name=self.name,
            x_train=self.x_train[:n_train],
            y_train=self.y_train[:n_train],
            x_test=self.x_test[:n_test],
            y_test=self.y_test[:n_test],
            classes=self.classes,
            mean=self.mean,
            std=self.std,
            source=self.source,
            notes=self.notes,
        )


def _make_set(
    name: str,
    x_train: np.ndarray | torch.Tensor,
    y_train: np.ndarray | torch.Tensor,
    x_test: np.ndarray | torch.Tensor,
    y_test: np.ndarray | torch.Tensor,
    classes: tuple[str, ...],
    source: str,
    notes: tuple[str, ...] = (),
) -> ImageSet:
    """Build an :class:`ImageSet`, adding the channel axis and computing mean/std."""

    def imgs(a: np.ndarray | torch.Tensor) -> torch.Tensor:
        t = torch.as_tensor(np.ascontiguousarray(a) if isinstance(a, np.ndarray) else a).to(torch.uint8)
        if t.ndim == 3:  # (N, H, W) -> (N, 1, H, W)
            t = t.unsqueeze(1)
        return t.contiguous()

    def labels(a: np.ndarray | torch.Tensor) -> torch.Tensor:
        return torch.as_tensor(np.asarray(a, dtype=np.int64) if isinstance(a, np.ndarray) else a).long()

    xt = imgs(x_train)
    xf = xt.float().div_(255.0)
    mean = tuple(float(m) for m in xf.mean(dim=(0, 2, 3)))
    std = tuple(max(float(s), 1e-3) for s in xf.std(dim=(0, 2, 3)))
    return ImageSet(name, xt, labels(y_train), imgs(x_test), labels(y_test), tuple(classes), mean, std, source, notes)


# --------------------------------------------------------------------------------------------
# Bundled subsets
# --------------------------------------------------------------------------------------------


def load_bundled(name: str = "mnist") -> ImageSet:
    """Load a bundled subset: 1,000 training and 200 test images per class.

    Parameters
    ----------
    name : {"mnist", "fashion_mnist"}

    Returns
    -------
    ImageSet
        10,000 training and 2,000 test images, 1 x 28 x 28.
    """
    key = name.lower().replace("-", "_")
    if key not in BUNDLED:
        raise DatasetUnavailable(f"There is no bundled dataset called {name!r}; choose one of {', '.join(BUNDLED)}.")
    path = ASSETS / f"{key}_subset.npz"
    if not path.exists():
        raise DatasetUnavailable(
            f"The bundled file {path.name} is missing; rebuild it with `python scripts/build_datasets.py`."
        )
    with np.load(path) as d:
        classes = tuple(str(c) for c in d["classes"])
        arrays = d["x_train"], d["y_train"], d["x_test"], d["y_test"]
    license_ = "CC BY-SA 3.0, Y. LeCun and C. Cortes" if key == "mnist" else "MIT, Zalando Research"
    return _make_set(
        f"{_NICE[key]} (bundled subset)", *arrays, classes=classes, source=f"assets/datasets/{path.name} ({license_})"
    )


# --------------------------------------------------------------------------------------------
# Synthetic shapes
# --------------------------------------------------------------------------------------------


def _draw_shape(kind: int, size: int, rng: np.random.Generator) -> np.ndarray:
    """One ``(size, size)`` uint8 image of shape class ``kind`` at a random place, size and width."""
    from PIL import Image, ImageDraw

    img = Image.new("L", (size, size), 0)
    d = ImageDraw.Draw(img)
    s = size
    r = rng.uniform(0.22, 0.4) * s  # half-extent of the shape
    cx, cy = rng.uniform(r + 1, s - r - 1, size=2)
    w = int(rng.integers(1, max(2, s // 10) + 1))  # stroke width
    ink = int(rng.integers(170, 256))
    name = SHAPE_CLASSES[kind]
    if name == "horizontal line":
        d.line([(cx - r, cy), (cx + r, cy)], fill=ink, width=w)
    elif name == "vertical line":
        d.line([(cx, cy - r), (cx, cy + r)], fill=ink, width=w)
    elif name == "diagonal line":
        sign = 1 if rng.random() < 0.5 else -1
        d.line([(cx - r, cy - sign * r), (cx + r, cy + sign * r)], fill=ink, width=w)
    elif name == "circle":
        d.ellipse([cx - r, cy - r, cx + r, cy + r], outline=ink, width=w)
    elif name == "square":
        d.rectangle([cx - r, cy - r, cx + r, cy + r], outline=ink, width=w)
    elif name == "triangle":
        pts = [(cx, cy - r), (cx + r, cy + r), (cx - r, cy + r)]
        d.line([*pts, pts[0]], fill=ink, width=w, joint="curve")
    else:  # cross
        d.line([(cx - r, cy), (cx + r, cy)], fill=ink, width=w)
        d.line([(cx, cy - r), (cx, cy + r)], fill=ink, width=w)
    a = np.asarray(img, dtype=np.float32)
    a += rng.normal(0.0, 12.0, size=a.shape)  # a little sensor noise
    return np.clip(a, 0, 255).astype(np.uint8)


def synthetic_shapes(n_per_class: int = 300, size: int = 28, seed: int = 0, test_fraction: float = 0.2) -> ImageSet:
    """Generate the synthetic shapes set (white outlines on black, with a little noise).

    Parameters
    ----------
    n_per_class : int
        Images per class in total (split into train and test).
    size : int
        Side of the square images, at least 12.
    seed : int
        Same seed -> same images.
    test_fraction : float
        Share of each class kept for testing.

    Returns
    -------
    ImageSet
        ``len(SHAPE_CLASSES)`` classes, 1 x size x size.
    """
    if size < 12:
        raise DatasetUnavailable(f"Shapes need at least 12 x 12 pixels to be recognisable; got {size}.")
    if n_per_class < 2:
        raise DatasetUnavailable("Ask for at least 2 images per class (one to train on, one to test).")
    rng = np.random.default_rng(seed)
    k = len(SHAPE_CLASSES)
    y = np.repeat(np.arange(k), n_per_class)
    x = np.stack([_draw_shape(int(c), size, rng) for c in y])  # (N, H, W)
    n_test = min(max(1, round(n_per_class * test_fraction)), n_per_class - 1)
    is_test = np.tile(np.arange(n_per_class) < n_test, k)
    tr, te = rng.permutation(np.flatnonzero(~is_test)), rng.permutation(np.flatnonzero(is_test))
    return _make_set(
        "Synthetic shapes", x[tr], y[tr], x[te], y[te], SHAPE_CLASSES, source=f"generated (seed {seed}, {size}x{size})"
    )


# --------------------------------------------------------------------------------------------
# Full datasets through torchvision
# --------------------------------------------------------------------------------------------


def default_data_root() -> Path:
    """The data folder: ``$CONVLAB_DATA_DIR`` when set, else ``~/.cache/convlab/datasets``."""
    env = os.environ.get(DATA_DIR_ENV)
    return Path(env).expanduser() if env else Path.home() / ".cache" / "convlab" / "datasets"


def _how_to_provide(key: str, root: Path) -> str:
    if key == "cifar10":
        files = "cifar10-jpeg.zip (train/<class>/*.jpg, test/<class>/*.jpg) or cifar-10-batches-py/"
    else:
        folder = "MNIST" if key == "mnist" else "FashionMNIST"
        files = f"{folder}/raw/ with the four IDX files (train-images-idx3-ubyte, ...)"
    return (
        f"{_NICE[key]} is not in {root} and could not be downloaded. Put {files} in that folder, or point "
        f"${DATA_DIR_ENV} at a folder that has them. The bundled subsets still work offline."
    )


def load_full(name: str, root: str | os.PathLike[str] | None = None, download: bool | None = None) -> ImageSet:
    """Load a full dataset with ``torchvision.datasets``.

    Parameters
    ----------
    name : {"mnist", "fashion_mnist", "cifar10"}
    root : path, optional
        Data folder; default :func:`default_data_root`.
    download : bool, optional
        Try to download when the files are absent; default: allowed unless ``$CONVLAB_DOWNLOAD=0``.

    Returns
    -------
    ImageSet
        MNIST / Fashion-MNIST: 60,000 + 10,000 images 1 x 28 x 28; CIFAR-10: 50,000 + 10,000, 3 x 32 x 32.

    Raises
    ------
    DatasetUnavailable
        When the files are absent and cannot be downloaded; the message says how to provide them.
    """
    key = name.lower().replace("-", "_")
    if key not in FULL:
        raise DatasetUnavailable(f"Unknown dataset {name!r}; choose one of {', '.join(FULL)}.")
    root_p = Path(root).expanduser() if root is not None else default_data_root()
    if download is None:
        download = os.environ.get(DOWNLOAD_ENV, "1") != "0"
    if key == "cifar10":
        return _load_cifar10(root_p, download)

    from torchvision import datasets

    cls = datasets.MNIST if key == "mnist" else datasets.FashionMNIST
    try:
        train = cls(str(root_p), train=True, download=False)
        test = cls(str(root_p), train=False, download=False)
    except RuntimeError:
        if not download:
            raise DatasetUnavailable(_how_to_provide(key, root_p)) from None
        try:
            root_p.mkdir(parents=True, exist_ok=True)
            train = cls(str(root_p), train=True, download=True)
            test = cls(str(root_p), train=False, download=True)
        except Exception as exc:  # network, permissions, checksum: all mean "not available"
            raise DatasetUnavailable(_how_to_provide(key, root_p) + f" (download failed: {exc})") from None
    classes = MNIST_CLASSES if key == "mnist" else FASHION_CLASSES
    license_ = "CC BY-SA 3.0, Y. LeCun and C. Cortes" if key == "mnist" else "MIT, Zalando Research"
    return _make_set(
        _NICE[key], train.data, train.targets, test.data, test.targets, classes, source=f"{root_p} ({license_})"
    )


def _cache_dir() -> Path:
    env = os.environ.get(CACHE_ENV)
    return Path(env) if env else Path(tempfile.gettempdir()) / "convlab-cache"


def _load_cifar10(root: Path, download: bool) -> ImageSet:
    """CIFAR-10 from ``cifar10-jpeg.zip`` (decoded once, then cached as .npz) or torchvision's folder."""
    source = "Krizhevsky (2009), Learning Multiple Layers of Features from Tiny Images"
    zpath = root / "cifar10-jpeg.zip"
    if zpath.exists():
        st_ = zpath.stat()
        tag = hashlib.sha256(f"{zpath.resolve()}|{st_.st_size}|{st_.st_mtime_ns}".encode()).hexdigest()[:16]
        cache = _cache_dir() / f"cifar10-{tag}.npz"
        if not cache.exists():
            arrays = _decode_cifar_zip(zpath)
            cache.parent.mkdir(parents=True, exist_ok=True)
            tmp = cache.with_suffix(".tmp.npz")
            np.savez(tmp, **arrays)
            os.replace(tmp, cache)
        with np.load(cache) as d:
            xs = [d[k].transpose(0, 3, 1, 2) for k in ("x_train", "x_test")]  # (N, H, W, C) -> (N, C, H, W)
            return _make_set(
                _NICE["cifar10"], xs[0], d["y_train"], xs[1], d["y_test"], CIFAR10_CLASSES, f"{zpath} ({source})"
            )
    from torchvision import datasets

    try:
        train = datasets.CIFAR10(str(root), train=True, download=download)
        test = datasets.CIFAR10(str(root), train=False, download=download)
    except Exception as exc:
        raise DatasetUnavailable(_how_to_provide("cifar10", root) + f" ({exc})") from None
    return _make_set(
        _NICE["cifar10"],
        train.data.transpose(0, 3, 1, 2),
        np.array(train.targets),
        test.data.transpose(0, 3, 1, 2),
        np.array(test.targets),
        CIFAR10_CLASSES,
        f"{root} ({source})",
    )


def _decode_cifar_zip(zpath: Path) -> dict[str, np.ndarray]:
    """Decode ``train/<class>/*.jpg`` and ``test/<class>/*.jpg`` straight from the zip (trusted data)."""
    from PIL import Image

    out: dict[str, list] = {"x_train": [], "y_train": [], "x_test": [], "y_test": []}
    index = {c: i for i, c in enumerate(CIFAR10_CLASSES)}
    with zipfile.ZipFile(zpath) as zf:
        for info in sorted(zf.infolist(), key=lambda i: i.filename):
            parts = PurePosixPath(info.filename).parts
            if info.is_dir() or len(parts) < 3 or parts[-3] not in ("train", "test") or parts[-2] not in index:
                continue
            with Image.open(io.BytesIO(zf.read(info))) as im:
                out[f"x_{parts[-3]}"].append(np.asarray(im.convert("RGB").resize((32, 32))))
            out[f"y_{parts[-3]}"].append(index[parts[-2]])
    if not out["x_train"] or not out["x_test"]:
        raise DatasetUnavailable(f"{zpath} does not have the train/<class>/*.jpg and test/<class>/*.jpg layout.")
    return {
        "x_train": np.stack(out["x_train"]),
        "y_train": np.array(out["y_train"], dtype=np.int64),
        "x_test": np.stack(out["x_test"]),
        "y_test": np.array(out["y_test"], dtype=np.int64),
    }


# --------------------------------------------------------------------------------------------
# A learner's own zip of class folders
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ZipLimits:
    """Caps applied to an uploaded dataset zip before anything is written to disk."""

    max_bytes: int = 50_000_000  # size of the zip itself
    max_files: int = 5_000  # entries (files) in the zip
    max_uncompressed: int = 200_000_000  # total declared (and actual) uncompressed size
    max_member: int = 20_000_000  # one file, uncompressed
    max_ratio: float = 200.0  # uncompressed / compressed for any member larger than 1 MB
    max_pixels: int = 25_000_000  # one image, width x height, checked before decoding


def _member_parts(name: str) -> tuple[str, ...]:
    """Path parts of a zip member name, refusing names that could escape the folder."""
    norm = name.replace("\\", "/")
    if norm.startswith("/") or (len(norm) > 1 and norm[1] == ":"):
        raise DatasetUnavailable(f"The zip holds an absolute path ({name!r}); refusing it.")
    parts = tuple(p for p in norm.split("/") if p not in ("", "."))
    if ".." in parts:
        raise DatasetUnavailable(f"The zip holds a path that climbs out of its folder ({name!r}); refusing it.")
    return parts


def _read_capped(zf: zipfile.ZipFile, info: zipfile.ZipInfo, cap: int) -> bytes:
    """Read one member, stopping as soon as it grows past ``cap`` or its declared size."""
    limit = min(cap, info.file_size)
    chunks, total = [], 0
    with zf.open(info) as f:
        while chunk := f.read(1 << 16):
            total += len(chunk)
            if total > limit:
                raise DatasetUnavailable(
                    f"{info.filename!r} unpacks to more than its declared or allowed size: the zip looks like a "
                    "decompression bomb; refusing it."
                )
            chunks.append(chunk)
    return b"".join(chunks)


def _decode_member(data: bytes, max_pixels: int) -> np.ndarray | None:
    """uint8 pixels ``(H, W)`` or ``(H, W, 3)`` of an image member, or None if it is not a usable image.

    Decoding goes through :func:`cnn_core.images.load_image`, the one safe decoder of uploads
    (caps checked before decoding, EXIF rotation, transparency on white, 16-bit rescaled).
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
        members: list[tuple[zipfile.ZipInfo, tuple[str, ...]]] = []
        declared = 0
        for info in zf.infolist():
            parts = _member_parts(info.filename)
            if stat.S_ISLNK(info.external_attr >> 16):
                raise DatasetUnavailable(f"The zip holds a symbolic link ({info.filename!r}); refusing it.")
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

        # Ignore macOS/Windows clutter, then allow one wrapping folder: data/cat/1.png -> cat/1.png.
        kept = [
            (i, p)
            for i, p in members
            if p[0] != "__MACOSX" and not p[-1].startswith(".") and p[-1].lower() not in ("thumbs.db", "desktop.ini")
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
        loose = sum(1 for _, p in kept if len(p) == 1)

        from PIL import Image

        skipped, total_actual, written, all_gray = 0, 0, 0, True
        with tempfile.TemporaryDirectory(prefix="convlab-zip-") as tmp:
            base = Path(tmp).resolve()
            class_dirs: dict[str, str] = {}  # class name in the zip -> our folder name
            for info, parts in kept:
                if len(parts) != 2:
                    continue
                blob = _read_capped(zf, info, lim.max_member)
                total_actual += len(blob)
                if total_actual > lim.max_uncompressed:
                    raise DatasetUnavailable("The zip unpacks to more than its allowed size; refusing it.")
                pixels = _decode_member(blob, lim.max_pixels) if parts[1].lower().endswith(_IMAGE_EXT) else None
                if pixels is None:
                    skipped += 1
                    continue
                all_gray = all_gray and pixels.ndim == 2
                written += 1  # folder and file names are ours: no name from the zip reaches the disk
                folder = class_dirs.setdefault(parts[0], f"{len(class_dirs):04d}")
                target = (base / folder / f"{written:06d}.png").resolve()
                if base not in target.parents:  # belt and braces: never write outside tmp
                    raise DatasetUnavailable(f"{info.filename!r} would land outside the folder; refusing it.")
                target.parent.mkdir(exist_ok=True)
                Image.fromarray(pixels).save(target, format="PNG", compress_level=1)
            classes_found = sorted(class_dirs)
            if not classes_found:
                raise DatasetUnavailable(
                    "No images were found in class folders. The zip should hold one folder per class, "
                    "e.g. cats/1.png, dogs/7.jpg."
                )
            if len(classes_found) < 2:
                raise DatasetUnavailable(
                    f"Only one class was found ({classes_found[0]!r}); a classifier needs at least two class folders."
                )
            gray = all_gray
            size = image_size or (28 if gray else 32)
            x, y, folders = _read_image_folder(base, size, gray)
            names = {folder: name for name, folder in class_dirs.items()}
            folder_classes = tuple(names[f] for f in folders)

    notes = []
    if skipped:
        notes.append(f"{skipped} file(s) were not readable images and were skipped.")
    if loose:
        notes.append(f"{loose} file(s) outside any class folder were ignored.")
    if ignored:
        notes.append(f"{ignored} system file(s) (e.g. __MACOSX, hidden files) were ignored.")
    notes.append(f"Images were resized to {size}x{size} {'grayscale' if gray else 'RGB'}.")
    tr, te = _stratified_split(y, test_fraction, seed)
    return _make_set(name, x[tr], y[tr], x[te], y[te], folder_classes, source="uploaded zip", notes=tuple(notes))


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
