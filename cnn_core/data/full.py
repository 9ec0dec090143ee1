"""The full MNIST, Fashion-MNIST and CIFAR-10 sets, read through ``torchvision.datasets``.

They come from a data folder (the ``root`` argument, else ``$CONVLAB_DATA_DIR``, else
``~/.cache/convlab/datasets``) and are downloaded where the network allows (``$CONVLAB_DOWNLOAD=0``
forbids it). CIFAR-10 may also be a ``cifar10-jpeg.zip`` of class folders, decoded once and cached
as ``.npz`` (``$CONVLAB_CACHE_DIR``, default the system temp folder). This module also holds the
catalogue of these sets: their display names, class names and licenses.
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
import zipfile
from pathlib import Path, PurePosixPath

import numpy as np

from cnn_core.data.imageset import DatasetUnavailable, ImageSet, make_set

__all__ = [
    "CACHE_ENV",
    "CIFAR10_CLASSES",
    "DATA_DIR_ENV",
    "DOWNLOAD_ENV",
    "FASHION_CLASSES",
    "FULL",
    "LICENSES",
    "MNIST_CLASSES",
    "NICE",
    "default_data_root",
    "load_full",
]

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

FULL = ("mnist", "fashion_mnist", "cifar10")
NICE = {"mnist": "MNIST", "fashion_mnist": "Fashion-MNIST", "cifar10": "CIFAR-10"}  # display names
LICENSES = {"mnist": "CC BY-SA 3.0, Y. LeCun and C. Cortes", "fashion_mnist": "MIT, Zalando Research"}
CIFAR10_SOURCE = "Krizhevsky (2009), Learning Multiple Layers of Features from Tiny Images"


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
        f"{NICE[key]} is not in {root} and could not be downloaded. Put {files} in that folder, or point "
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
    return make_set(
        NICE[key], train.data, train.targets, test.data, test.targets, classes, source=f"{root_p} ({LICENSES[key]})"
    )


def _cache_dir() -> Path:
    env = os.environ.get(CACHE_ENV)
    return Path(env) if env else Path(tempfile.gettempdir()) / "convlab-cache"


def _load_cifar10(root: Path, download: bool) -> ImageSet:
    """CIFAR-10 from ``cifar10-jpeg.zip`` (decoded once, then cached as .npz) or torchvision's folder."""
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
            return make_set(
                NICE["cifar10"], xs[0], d["y_train"], xs[1], d["y_test"], CIFAR10_CLASSES, f"{zpath} ({CIFAR10_SOURCE})"
            )
    from torchvision import datasets

    try:
        train = datasets.CIFAR10(str(root), train=True, download=download)
        test = datasets.CIFAR10(str(root), train=False, download=download)
    except Exception as exc:
        raise DatasetUnavailable(_how_to_provide("cifar10", root) + f" ({exc})") from None
    return make_set(
        NICE["cifar10"],
        train.data.transpose(0, 3, 1, 2),  # (N, H, W, C) -> (N, C, H, W)
        np.array(train.targets),
        test.data.transpose(0, 3, 1, 2),
        np.array(test.targets),
        CIFAR10_CLASSES,
        f"{root} ({CIFAR10_SOURCE})",
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
