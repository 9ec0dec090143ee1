"""The Training page's choices: which network (a preset or the Architecture page's), fitted to the
data, and the training settings widgets that build a :class:`cnn_core.training.TrainConfig`."""

from __future__ import annotations

import dataclasses

import streamlit as st
import torch

from app import state
from cnn_core import data as datasets
from cnn_core import models, training

FAST_PRESET = models.FAST_PRESET
FROM_ARCHITECTURE = "My network from the Architecture page"
OPTIMIZERS = ["adamw", "adam", "sgd"]
SCHEDULES = ["onecycle", "cosine", "step", "none"]
BATCH_SIZES = [16, 32, 64, 128, 256, 512]


def architecture_network() -> models.ModelConfig | None:
    """The network built on the Architecture page, else the one a Training link carried."""
    built = st.session_state.get(state.AN_MODEL_CONFIG)
    return built if built is not None else st.session_state.get(state.TR_LINK_NET)


def model_options() -> list[str]:
    options = [FAST_PRESET, *(n for n in models.PRESETS if n != FAST_PRESET)]
    if architecture_network() is not None:
        options.insert(1, FROM_ARCHITECTURE)
    return options


def model_for(choice: str, data: datasets.ImageSet) -> models.ModelConfig:
    """The chosen network fitted to the dataset: its input shape and one output per class.

    Raises ValueError (with the layer and the reason) when the network cannot take this input.
    """
    base = architecture_network() if choice == FROM_ARCHITECTURE else models.PRESETS[choice]
    if base is None:  # the Architecture network is gone: its page was never opened in this session
        base = models.PRESETS[FAST_PRESET]
    cfg = dataclasses.replace(base, input_shape=data.input_shape)
    cfg = models.with_num_classes(cfg, data.num_classes)
    error = models.validate(cfg)
    if error is not None:
        raise ValueError(f"{cfg.name} does not fit {data.name} images {data.input_shape}: {error}")
    return cfg


LR_HELP = (
    "How big a step the optimizer takes against the gradient. Too small: learning crawls. Too large: the loss "
    "jumps around or becomes NaN and the run stops itself. Adam/AdamW like about 0.001–0.005, SGD about 0.01–0.1."
)


def settings_widget(data: datasets.ImageSet, max_epochs: int = 50) -> training.TrainConfig:
    """Training settings; defaults are the fast recipe. At most ``max_epochs`` (the instructor's limit)."""
    d = training.TrainConfig()
    max_epochs = max(1, int(max_epochs))
    if int(st.session_state.get(state.TR_EPOCHS, 0)) > max_epochs:  # the instructor lowered the limit
        st.session_state[state.TR_EPOCHS] = max_epochs
    c = [*st.columns(2), *st.columns(2)]  # two a row: four cut "onecycle" and "ADAMW" on a projector
    optimizer = c[0].selectbox("Optimizer", OPTIMIZERS, key=state.TR_OPT, format_func=str.upper.__call__)
    lr = c[1].number_input("Learning rate", 1e-5, 10.0, d.lr, format="%.4f", key=state.TR_LR, help=LR_HELP)
    batch = c[2].select_slider("Batch size", BATCH_SIZES, d.batch_size, key=state.TR_BATCH)
    epochs = c[3].number_input(
        "Epochs",
        1,
        max_epochs,
        min(d.epochs, max_epochs),
        key=state.TR_EPOCHS,
        help=f"Passes over the training images (at most {max_epochs} in this class).",
    )
    c = [*st.columns(2), *st.columns(2)]
    schedule = c[0].selectbox(
        "Learning-rate schedule",
        SCHEDULES,
        key=state.TR_SCHEDULE,
        help="onecycle: warm up, then decay to almost 0 (fast and stable); cosine: smooth decay; "
        "step: divide by ~3 every epoch; none: constant.",
    )
    wd = c[1].number_input("Weight decay", 0.0, 0.1, d.weight_decay, format="%.4f", key=state.TR_WD)
    seed = c[2].number_input("Seed", 0, 10_000, d.seed, key=state.TR_SEED, help="Same seed, same run.")
    devices = ["auto", "cpu", "cuda"] if torch.cuda.is_available() else ["cpu"]
    device = c[3].selectbox("Device", devices, key=state.TR_DEVICE)
    colour = data.input_shape[0] == 3
    with st.expander("Augmentation (random changes to training images)"):
        flip = st.checkbox(
            "Random horizontal flips",
            value=colour,
            key=state.TR_FLIP,
            help="Good for photos and clothing; not for digits.",
        )
        shift = st.slider("Random shifts (pixels)", 0, 4, 0, key=state.TR_SHIFT)
        rotate = st.slider("Random rotations (degrees)", 0, 30, 0, key=state.TR_ROTATE)
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
