"""The Training page's data: the dataset choice (bundled, generated, full sets, a learner's zip,
as the instructor allows), the upload cap, where a dataset came from (for keeping a run), and the
sample grid and class counts the page shows."""

from __future__ import annotations

import os
import weakref

import numpy as np
import pandas as pd
import streamlit as st

from app import state
from app.workspace import ClassSettings
from cnn_core import data as datasets

SOURCES: dict[str, tuple[str, str | None]] = {
    "MNIST digits (bundled subset, 10,000 images)": ("bundled", "mnist"),
    "Fashion-MNIST clothing (bundled subset, 10,000 images)": ("bundled", "fashion_mnist"),
    "Shapes (generated: lines, circles, squares, triangles, crosses)": ("shapes", None),
    "MNIST (full 70,000, from the data folder)": ("full", "mnist"),
    "Fashion-MNIST (full 70,000, from the data folder)": ("full", "fashion_mnist"),
    "CIFAR-10 (full 60,000 colour images, from the data folder)": ("full", "cifar10"),
    "My own images (a zip of class folders)": ("zip", None),
}
# The page's own caps (the browser's check can be bypassed), never above what the server accepts.
SERVER_CAP = int(st.get_option("server.maxUploadSize")) * 1_000_000
MAX_ZIP_BYTES = min(int(os.environ.get("CONVLAB_MAX_DATASET_MB", "25")) * 1_000_000, SERVER_CAP)
# Where each shared dataset came from, so a kept run can load the same one again.
_SOURCE_OF: weakref.WeakKeyDictionary[datasets.ImageSet, tuple[str, str | None]] = weakref.WeakKeyDictionary()


def source_of(data: datasets.ImageSet) -> tuple[str, str | None]:
    """(kind, name) as in :data:`SOURCES` for a dataset this page loaded; ("zip", None) for any other."""
    return _SOURCE_OF.get(data, ("zip", None))


def allowed_sources(settings: ClassSettings) -> list[str]:
    """The dataset choices the instructor allows: own zips and the full sets can be switched off."""
    off = {"zip"} if not settings.own_datasets else set()
    off |= {"full"} if not settings.full_datasets else set()
    return [label for label, (kind, _) in SOURCES.items() if kind not in off]


@st.cache_resource(show_spinner="Loading the dataset…", max_entries=8)
def shared_dataset(kind: str, name: str | None) -> datasets.ImageSet:
    """Read-only datasets shared by every session (bundled, generated and full sets)."""
    if kind == "bundled":
        data = datasets.load_bundled(name)
    elif kind == "shapes":
        data = datasets.synthetic_shapes(n_per_class=600, seed=0)
    else:
        data = datasets.load_full(name)
    _SOURCE_OF[data] = (kind, name)
    return data


def dataset_widget(settings: ClassSettings | None = None) -> datasets.ImageSet | None:
    """Pick a dataset (among those the instructor allows); None (with a message shown) when it cannot be had."""
    options = allowed_sources(settings or ClassSettings())
    if st.session_state.get(state.TR_SOURCE) not in (None, *options):
        st.info(f"The instructor has switched off “{st.session_state[state.TR_SOURCE]}” for this class.")
        del st.session_state[state.TR_SOURCE]
    choice = st.selectbox("Dataset", options, key=state.TR_SOURCE)
    kind, name = SOURCES[choice]
    if kind != "zip":
        try:
            return shared_dataset(kind, name)
        except datasets.DatasetUnavailable as err:
            st.warning(str(err), icon=":material/cloud_off:")
            return None
    up = st.file_uploader(
        f"A zip with one folder per class (class_name/*.png or *.jpg), up to {MAX_ZIP_BYTES // 1_000_000} MB",
        type=["zip"],
        key=state.TR_ZIP,
    )
    if up is None:
        st.caption("For example cats/001.jpg, cats/002.jpg, dogs/001.jpg, … At least two classes.")
        return st.session_state.get(state.TR_OWN_DATA)
    if up.size > MAX_ZIP_BYTES:
        st.error(f"{up.name} is {up.size / 1e6:.0f} MB; the limit is {MAX_ZIP_BYTES // 1_000_000} MB.")
        return None
    try:
        own = datasets.load_zip(up.getvalue(), datasets.ZipLimits(max_bytes=MAX_ZIP_BYTES), name=up.name)
    except datasets.DatasetUnavailable as err:
        st.error(str(err), icon=":material/folder_off:")
        return None
    st.session_state[state.TR_OWN_DATA] = own
    return own


def sample_rows(data: datasets.ImageSet, per_class: int = 6) -> list[tuple[str, list[np.ndarray]]]:
    """The first ``per_class`` training images of each class, (H, W[, 3]) uint8, one row per class: a class
    name under each small image broke "horizontal line" across lines, a name above its row does not."""
    y = data.y_train.numpy()
    rows = []
    for k, name in enumerate(data.classes):
        x = data.x_train[np.flatnonzero(y == k)[:per_class]].numpy()  # (n, C, H, W)
        x = x[:, 0] if x.shape[1] == 1 else np.moveaxis(x, 1, -1)
        rows.append((name, list(x)))
    return rows


def class_counts(data: datasets.ImageSet) -> pd.DataFrame:
    k = data.num_classes
    return pd.DataFrame(
        {
            "class": list(data.classes),
            "training images": np.bincount(data.y_train.numpy(), minlength=k),
            "test images": np.bincount(data.y_test.numpy(), minlength=k),
        }
    )
