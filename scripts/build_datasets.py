"""Build the bundled MNIST and Fashion-MNIST subsets in ``assets/datasets/``.

The subsets let ConvLab train offline with nothing downloaded. They are taken, deterministically,
from the full IDX files (the layout ``torchvision.datasets.MNIST(root, download=False)`` expects)::

    python scripts/build_datasets.py --root ../shared/datasets

For each class the first ``--train-per-class`` training images and the first ``--test-per-class``
test images (in the files' own order) are kept, then both splits are shuffled with a fixed seed so
that classes are interleaved. The result is written with ``numpy.savez_compressed`` as uint8 arrays
``x_train (N, 28, 28)``, ``y_train (N,)``, ``x_test``, ``y_test`` plus ``classes``.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
OUT_DIR = ROOT / "assets" / "datasets"

SETS = {
    "mnist": ("MNIST", tuple(str(i) for i in range(10))),
    "fashion_mnist": (
        "FashionMNIST",
        ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"),
    ),
}


def read_idx(path: Path) -> np.ndarray:
    """Read an IDX file (optionally ``.gz``) into a numpy array of its declared shape."""
    if not path.exists() and path.with_suffix(path.suffix + ".gz").exists():
        path = path.with_suffix(path.suffix + ".gz")
    raw = gzip.open(path, "rb").read() if path.suffix == ".gz" else path.read_bytes()
    if raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise ValueError(f"{path} is not an unsigned-byte IDX file")
    ndim = raw[3]
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    return data.reshape(shape)


def pick(y: np.ndarray, per_class: int) -> np.ndarray:
    """Indices of the first ``per_class`` samples of every class, in file order."""
    idx = np.concatenate([np.flatnonzero(y == c)[:per_class] for c in range(10)])
    return np.sort(idx)


def build(name: str, root: Path, train_per_class: int, test_per_class: int, seed: int) -> Path:
    folder, classes = SETS[name]
    raw = root / folder / "raw"
    x_tr, y_tr = read_idx(raw / "train-images-idx3-ubyte"), read_idx(raw / "train-labels-idx1-ubyte")
    x_te, y_te = read_idx(raw / "t10k-images-idx3-ubyte"), read_idx(raw / "t10k-labels-idx1-ubyte")
    rng = np.random.default_rng(seed)
    i_tr = rng.permutation(pick(y_tr, train_per_class))
    i_te = rng.permutation(pick(y_te, test_per_class))
    out = OUT_DIR / f"{name}_subset.npz"
    np.savez_compressed(
        out,
        x_train=x_tr[i_tr],
        y_train=y_tr[i_tr],
        x_test=x_te[i_te],
        y_test=y_te[i_te],
        classes=np.array(classes),
    )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=ROOT.parent / "shared" / "datasets")
    parser.add_argument("--train-per-class", type=int, default=1000)
    parser.add_argument("--test-per-class", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    for name in SETS:
        out = build(name, args.root, args.train_per_class, args.test_per_class, args.seed)
        digest = hashlib.sha256(out.read_bytes()).hexdigest()[:16]
        print(f"{out.relative_to(ROOT)}: {out.stat().st_size / 1e6:.2f} MB, sha256 {digest}")


if __name__ == "__main__":
    main()
