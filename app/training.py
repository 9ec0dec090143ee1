"""Training page glue: dataset and model choice, settings widgets, the shared job registry, and
the run function that the worker thread iterates.

The page script stays thin; the worker never calls ``st.*`` (see :mod:`app.jobs`).
"""

from __future__ import annotations

import dataclasses
import io
import os
import threading
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st
import torch

from app import state
from app.jobs import Job, JobRegistry
from app.trained import TrainedBundle
from cnn_core import data as datasets
from cnn_core import inspection, models, training, training_process

FAST_PRESET = models.FAST_PRESET
FROM_ARCHITECTURE = "My network from the Architecture page"
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
_SERVER_CAP = int(st.get_option("server.maxUploadSize")) * 1_000_000
MAX_ZIP_BYTES = min(int(os.environ.get("CONVLAB_MAX_DATASET_MB", "25")) * 1_000_000, _SERVER_CAP)
MAX_MODEL_BYTES = min(20_000_000, _SERVER_CAP)


# --- the server-wide registry ----------------------------------------------------------------


def _session_alive(session_id: str) -> bool:
    from streamlit.runtime import Runtime

    if not Runtime.exists():  # AppTest and plain scripts: no server, nothing to watch
        return True
    return Runtime.instance().is_active_session(session_id)


@st.cache_resource(show_spinner=False)
def registry() -> JobRegistry:
    """One registry per server: ``CONVLAB_TRAINING_SLOTS`` runs at once (default: cores // 2).

    Each run trains in its own child process (:mod:`cnn_core.training_process`) with
    ``cores // slots`` torch threads, at a lower CPU priority (``CONVLAB_TRAINING_NICE``, default
    19, the lowest): the server's own interpreter stays free for page reruns, a class's clicks are served
    first, and training takes the CPU they leave.
    """
    cores = os.cpu_count() or 1
    slots = int(os.environ.get("CONVLAB_TRAINING_SLOTS", max(1, cores // 2)))
    threads = int(os.environ.get("CONVLAB_TORCH_THREADS", max(1, cores // slots)))
    nice = int(os.environ.get("CONVLAB_TRAINING_NICE", "19"))
    torch.set_num_threads(threads)
    # Runs train in child processes forked from a server that imports torch once: start it now.
    threading.Thread(target=training_process.warm_up, name="convlab-forkserver", daemon=True).start()
    return JobRegistry(slots=slots, threads_per_run=threads, is_alive=_session_alive, nice=nice)


def session_id() -> str:
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    return ctx.session_id if ctx is not None else "local"


# --- datasets --------------------------------------------------------------------------------


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
    choice = st.selectbox("Dataset", list(SOURCES), key="tr_source")
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
        key="tr_zip",
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


# --- models ----------------------------------------------------------------------------------


def model_options() -> list[str]:
    options = [FAST_PRESET, *(n for n in models.PRESETS if n != FAST_PRESET)]
    if st.session_state.get(state.AN_MODEL_CONFIG) is not None:
        options.insert(1, FROM_ARCHITECTURE)
    return options


def model_for(choice: str, data: datasets.ImageSet) -> models.ModelConfig:
    """The chosen network fitted to the dataset: its input shape and one output per class.

    Raises ValueError (with the layer and the reason) when the network cannot take this input.
    """
    base = st.session_state[state.AN_MODEL_CONFIG] if choice == FROM_ARCHITECTURE else models.PRESETS[choice]
    cfg = dataclasses.replace(base, input_shape=data.input_shape)
    cfg = models.with_num_classes(cfg, data.num_classes)
    error = models.validate(cfg)
    if error is not None:
        raise ValueError(f"{cfg.name} does not fit {data.name} images {data.input_shape}: {error}")
    return cfg


# --- settings --------------------------------------------------------------------------------

LR_HELP = (
    "How big a step the optimizer takes against the gradient. Too small: learning crawls. Too large: the loss "
    "jumps around or becomes NaN and the run stops itself. Adam/AdamW like about 0.001–0.005, SGD about 0.01–0.1."
)


def settings_widget(data: datasets.ImageSet) -> training.TrainConfig:
    """Training settings; defaults are the fast recipe."""
    d = training.TrainConfig()
    c = st.columns(4)
    optimizer = c[0].selectbox("Optimizer", ["adamw", "adam", "sgd"], key="tr_opt", format_func=str.upper.__call__)
    lr = c[1].number_input("Learning rate", 1e-5, 10.0, d.lr, format="%.4f", key="tr_lr", help=LR_HELP)
    batch = c[2].select_slider("Batch size", [16, 32, 64, 128, 256, 512], d.batch_size, key="tr_batch")
    epochs = c[3].number_input("Epochs", 1, 50, d.epochs, key="tr_epochs", help="Passes over the training images.")
    c = st.columns(4)
    schedule = c[0].selectbox(
        "Learning-rate schedule",
        ["onecycle", "cosine", "step", "none"],
        key="tr_schedule",
        help="onecycle: warm up, then decay to almost 0 (fast and stable); cosine: smooth decay; "
        "step: divide by ~3 every epoch; none: constant.",
    )
    wd = c[1].number_input("Weight decay", 0.0, 0.1, d.weight_decay, format="%.4f", key="tr_wd")
    seed = c[2].number_input("Seed", 0, 10_000, d.seed, key="tr_seed", help="Same seed, same run.")
    devices = ["auto", "cpu", "cuda"] if torch.cuda.is_available() else ["cpu"]
    device = c[3].selectbox("Device", devices, key="tr_device")
    colour = data.input_shape[0] == 3
    with st.expander("Augmentation (random changes to training images)"):
        flip = st.checkbox(
            "Random horizontal flips", value=colour, key="tr_flip", help="Good for photos and clothing; not for digits."
        )
        shift = st.slider("Random shifts (pixels)", 0, 4, 0, key="tr_shift")
        rotate = st.slider("Random rotations (degrees)", 0, 30, 0, key="tr_rotate")
    return training.TrainConfig(
        optimizer=optimizer,
        lr=float(lr),
        batch_size=int(batch),
        epochs=int(epochs),
        schedule=schedule,
        weight_decay=float(wd),
        seed=int(seed),
        device=device,
        augment_flip=bool(flip),
        augment_shift=int(shift),
        augment_rotate=float(rotate),
    )


# --- running ---------------------------------------------------------------------------------


def start_run(
    model_cfg: models.ModelConfig,
    data: datasets.ImageSet,
    cfg: training.TrainConfig,
    *,
    label: str | None = None,
    snapshots: str = "epoch",
) -> Job:
    """Build a fresh model, make it this session's bundle, and queue its training run.

    ``snapshots`` is ``"epoch"`` (one per epoch) or ``"eval"`` (one per evaluation, for short runs).
    Raises RuntimeError when this session already has a run going.
    """
    cfg = dataclasses.replace(cfg, threads=registry().threads_per_run)
    torch.manual_seed(cfg.seed)
    model = models.build(model_cfg)
    previous = st.session_state.get(state.TR_BUNDLE)
    bundle = TrainedBundle(
        model=model, model_config=model_cfg, data=data, train_config=cfg, previous=previous, weights_step=0
    )
    nice = registry().nice

    def run(stop: threading.Event) -> Iterator[Any]:
        messages = training_process.train_in_child(model, model_cfg, data, cfg, stop, nice=nice, snapshots=snapshots)
        yield from follow(bundle, messages)

    job = registry().submit(session_id(), label or f"{model_cfg.name} on {data.name}", run)
    st.session_state[state.TR_BUNDLE] = bundle
    st.session_state[state.TR_JOB] = job
    return job


def follow(bundle: TrainedBundle, messages: Iterator[Any]) -> Iterator[Any]:
    """Fill ``bundle`` from a child's messages; yields the training events (and marks the end)."""
    for message in messages:
        if isinstance(message, training_process.Weights):
            bundle.set_weights(message)
        elif isinstance(message, training_process.SnapshotTaken):
            bundle.add_snapshot(message.snapshot)
        else:
            bundle.events.append(message)
            yield message
    bundle.finished = True


def keep_earlier_model_after_blow_up(finished: training.RunFinished) -> bool:
    """A run that diverged hands the session's model back to the one trained before it, if any."""
    bundle = st.session_state.get(state.TR_BUNDLE)
    if finished.reason != "diverged" or bundle is None or bundle.previous is None:
        return False
    if not any(e is finished for e in bundle.events):  # already handed back on an earlier rerun
        return False
    st.session_state[state.TR_BUNDLE] = bundle.previous
    return True


def history_frame(events: list[Any]) -> pd.DataFrame:
    """The evaluations of a run as a table (the CSV learners can download)."""
    rows = [dataclasses.asdict(e) for e in events if isinstance(e, training.EvalEvent)]
    return pd.DataFrame(rows)


def model_file(bundle: TrainedBundle) -> bytes:
    """The trained model as a ``.pt`` file: state dict, network config and dataset facts."""
    meta = {
        "dataset": bundle.data.name,
        "classes": list(bundle.data.classes),
        "mean": list(bundle.data.mean),
        "std": list(bundle.data.std),
        "train_config": dataclasses.asdict(bundle.train_config),
    }
    buf = io.BytesIO()
    training.save_model(bundle.model_copy(), models.to_dict(bundle.model_config), buf, meta=meta)
    return buf.getvalue()


def load_model_file(raw: bytes, data: datasets.ImageSet) -> TrainedBundle:
    """Read an uploaded ``.pt`` file (weights only, checked) and pair it with the chosen dataset."""
    model, cfg_dict, meta = training.load_model(raw, lambda d: models.build(models.from_dict(d)))
    cfg = models.from_dict(cfg_dict)
    if tuple(cfg.input_shape) != tuple(data.input_shape) or cfg.num_classes != data.num_classes:
        raise training.ModelFileError(
            f"This model takes {cfg.input_shape} images with {cfg.num_classes} classes, but {data.name} has "
            f"{data.input_shape} images with {data.num_classes} classes. Choose the dataset it was trained on "
            f"({meta.get('dataset', 'unknown')})."
        )
    tc = training.TrainConfig(**meta["train_config"]) if isinstance(meta.get("train_config"), dict) else None
    bundle = TrainedBundle(model=model, model_config=cfg, data=data, train_config=tc or training.TrainConfig())
    bundle.finished = True
    bundle.add_snapshot(inspection.take_snapshot(bundle.model_copy(), data, epoch=0, step=0))
    return bundle
