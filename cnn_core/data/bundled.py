"""The bundled subsets: small MNIST and Fashion-MNIST sets shipped in ``assets/datasets``.

They need no network and no data folder, so the app always has something to train on. The files
are built by ``scripts/build_datasets.py``; ``assets/datasets/NOTICE.md`` holds their licenses.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from cnn_core.data.full import LICENSES, NICE
from cnn_core.data.imageset import DatasetUnavailable, ImageSet, make_set

__all__ = ["ASSETS", "BUNDLED", "load_bundled"]

ASSETS = Path(__file__).resolve().parents[2] / "assets" / "datasets"
BUNDLED = ("mnist", "fashion_mnist")


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
    return make_set(
        f"{NICE[key]} (bundled subset)",
        *arrays,
        classes=classes,
        source=f"assets/datasets/{path.name} ({LICENSES[key]})",
    )
