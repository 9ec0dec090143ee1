"""The Training page's data: the dataset choice (bundled, generated, full sets, a learner's zip),
the upload cap, and the sample grid and class counts the page shows."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import streamlit as st

from app import state
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


@st.cache_resource(show_spinner="Loading the dataset…", max_entries=8)
def shared_dataset(kind: str, name: str | None) -> datasets.ImageSet:
    """Read-only datasets shared by every session (bundled, generated and full sets)."""
    if kind == "bundled":
        return datasets.load_bundled(name)
    if kind == "shapes":
        return datasets.synthetic_shapes(n_per_class=600, seed=0)
    return datasets.load_full(name)


def dataset_widget() -> datasets.ImageSet | None:
    """Pick a dataset; returns None (with a message shown) when it cannot be had."""
    choice = st.selectbox("Dataset", list(SOURCES), key=state.TR_SOURCE)
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


def sample_grid(data: datasets.ImageSet, per_class: int = 6) -> tuple[np.ndarray, list[str]]:
    """The first ``per_class`` training images of each class, as (N, H, W[, 3]) uint8, with labels."""
    picks, labels = [], []
    y = data.y_train.numpy()
    for k, name in enumerate(data.classes):
        for i in np.flatnonzero(y == k)[:per_class]:
            picks.append(int(i))
            labels.append(name)
    x = data.x_train[picks].numpy()  # (N, C, H, W)
    x = x[:, 0] if x.shape[1] == 1 else np.moveaxis(x, 1, -1)
    return x, labels


def class_counts(data: datasets.ImageSet) -> pd.DataFrame:
    k = data.num_classes
    return pd.DataFrame(
        {
            "class": list(data.classes),
            "training images": np.bincount(data.y_train.numpy(), minlength=k),
            "test images": np.bincount(data.y_test.numpy(), minlength=k),
        }
    )
