"""The explainers: what batch norm does to a layer's feature maps, what dropout does to its values,
and what augmentation does to a batch of training images. Every number comes from
:mod:`cnn_core.inspection.regularisation` or :func:`cnn_core.training.experiments.augmentation_preview`
(the augmentation the training loop applies); the figures from :mod:`app.plots.experiments`."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st
import torch

from app import layout, plots, state
from app.training.data import shared_dataset
from cnn_core import training
from cnn_core.data import DatasetUnavailable
from cnn_core.inspection import regularisation as R
from cnn_core.training import experiments as X

BN_IMAGES = 4096  # the bundled digits the batch-norm batches are drawn from
DROP_VALUES = 12  # values in the dropout strip
AUG_IMAGES = 16


@st.cache_data(show_spinner=False, max_entries=32)
def bn_view(batches: int, size: int) -> R.BatchNormView:
    """``batches`` training batches of ``size`` digits through the preset kernels, then batch norm."""
    images = shared_dataset("bundled", "mnist").x_train[:BN_IMAGES]
    gen = torch.Generator().manual_seed(0)
    order = torch.randperm(images.shape[0], generator=gen)
    chunks = [images[order[(i * size) % BN_IMAGES :][:size]] for i in range(batches)]
    return R.batch_norm_view([R.kernel_feature_maps(c) for c in chunks])


def bn_table(view: R.BatchNormView, names: list[str]) -> pd.DataFrame:
    """The layer's statistics, one row per statistic and one column per channel (kernel)."""
    rows = {  # (values, decimals)
        "batch mean": (view.batch_mean, 4), "batch variance": (view.batch_var, 4),
        "running mean": (view.running_mean, 4), "running variance": (view.running_var, 4),
        "eval-mode mean": (view.eval_out.mean, 3), "eval-mode spread": (view.eval_out.std, 3),
    }  # fmt: skip
    frame = pd.DataFrame({"statistic": list(rows)})
    for i, name in enumerate(names):
        frame[name] = [f"{round(float(v[i]), d) + 0.0:.{d}f}" for v, d in rows.values()]  # + 0.0: no "-0.0000"
    return frame


def batch_norm_section() -> None:
    st.write(
        "A convolution's feature maps come out with any mean and spread. A **batch-norm** layer rescales each "
        "channel to mean 0 and spread 1, using the statistics of the current batch while training, then lets "
        "the network scale and shift it again with two learned numbers per channel (γ and β, here 1 and 0). "
        "Each training batch also nudges a **running** mean and variance; in **evaluation mode** the layer uses "
        "those instead, so an image gets the same answer whatever batch it comes in."
    )
    c1, c2 = st.columns(2)
    batches = c1.slider("Training batches the layer has seen", 1, 100, 1, key=state.EX_BN_BATCHES)
    size = c2.select_slider("Images per batch", [2, 8, 32, 128], value=32, key=state.EX_BN_SIZE)
    view = bn_view(int(batches), int(size))
    names = [n.replace(" (4-neighbour)", "") for n in R.BN_KERNELS]
    stages = ["before batch norm", "after, training mode", "after, evaluation mode"]
    means = [view.before.mean, view.train_out.mean, view.eval_out.mean]
    stds = [view.before.std, view.train_out.std, view.eval_out.std]
    layout.chart(plots.batch_norm_bars(names, means, stds, stages), key="ex_bn_bars")
    table = bn_table(view, names)
    st.table(table, hide_index=True, border="horizontal")  # one column per channel: fits a projector's half page
    share = 1 - (1 - view.momentum) ** view.batches_seen
    st.caption(
        f"Four preset kernels (one channel each) on {size} bundled MNIST digits per batch. With PyTorch's "
        f"momentum {view.momentum:g}, the running statistics have moved {share:.0%} of the way from their "
        f"start (mean 0, variance 1) after {view.batches_seen} batch{'es' if view.batches_seen != 1 else ''}, "
        "so evaluation mode matches training mode only once the layer has seen many batches. Keras writes the "
        "same momentum as 0.99."
    )


def dropout_section() -> None:
    st.write(
        "While training, **dropout** sets each value to 0 with probability **p** and multiplies the ones it keeps "
        "by **1 / (1 − p)**, so on average the next layer receives as much as before. A new random mask is drawn "
        "for every batch. In **evaluation mode** dropout does nothing: every value passes unchanged."
    )
    c1, c2, c3 = st.columns([2, 1, 1])
    p = c1.slider("Drop rate p", 0.0, 0.9, 0.5, 0.05, key=state.EX_DROP_P)
    if state.EX_DROP_SEED not in st.session_state:
        st.session_state[state.EX_DROP_SEED] = 0
    if c3.button("Draw a new mask", key=state.EX_DROP_NEW, icon=":material/casino:"):
        st.session_state[state.EX_DROP_SEED] = int(st.session_state[state.EX_DROP_SEED]) + 1
    seed = c2.number_input("Mask seed", 0, 10_000, step=1, key=state.EX_DROP_SEED)
    x = np.round(np.linspace(0.2, 2.4, DROP_VALUES), 2)
    view = R.dropout_view(x, p=float(p), seed=int(seed))
    fig = plots.dropout_strip(view.x, view.keep, view.train_out, view.eval_out)
    layout.chart(fig, key="ex_drop_strip")
    kept = int(view.keep.sum())
    st.markdown(
        f"Mask {int(seed)}: **{DROP_VALUES - kept} of {DROP_VALUES}** values dropped; the {kept} kept are multiplied "
        f"by 1 / (1 − {p:g}) = **{view.scale:.3g}**. Sum of the input: {view.x.sum():.2f}; while training: "
        f"{view.train_out.sum():.2f}; in evaluation mode: {view.eval_out.sum():.2f}."
    )
    st.caption("Over many masks the training sum averages out to the input's: that is what the scaling is for.")


@st.cache_data(show_spinner=False, max_entries=32)
def aug_images(dataset: str, flip: bool, shift: int, rotate: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    images = shared_dataset("bundled", dataset).x_train[:AUG_IMAGES]
    cfg = training.TrainConfig(augment_flip=flip, augment_shift=shift, augment_rotate=rotate)
    original, augmented = X.augmentation_preview(images, cfg, seed=seed)
    return original[:, 0].numpy(), augmented[:, 0].numpy()


def augmentation_section() -> None:
    st.write(
        "**Augmentation** shows the network a slightly different version of each training image every epoch "
        "(flipped, shifted, turned), with the same label, so it cannot simply memorise the pixels. This is one "
        "batch as training sees it, made by the same function the training loop calls."
    )
    c1, c2, c3, c4 = st.columns(4)
    dataset = c1.radio("Images", ["fashion_mnist", "mnist"], key=state.EX_AUG_DATA,
                       format_func={"fashion_mnist": "Fashion-MNIST", "mnist": "MNIST"}.get)  # fmt: skip
    flip = c2.toggle("Flip left-right", True, key=state.EX_AUG_FLIP)
    shift = c3.slider("Shift up to (pixels)", 0, 6, 3, key=state.EX_AUG_SHIFT)
    rotate = c4.slider("Rotate up to (degrees)", 0, 90, 10, 5, key=state.EX_AUG_ROTATE)
    if st.button("Augment again", key=state.EX_AUG_AGAIN, icon=":material/refresh:"):
        st.session_state[state.EX_AUG_SEED] = int(st.session_state.get(state.EX_AUG_SEED, 0)) + 1
    seed = int(st.session_state.get(state.EX_AUG_SEED, 0))
    try:
        original, augmented = aug_images(str(dataset), bool(flip), int(shift), float(rotate), seed)
    except DatasetUnavailable as err:
        st.error(str(err))
        return
    st.markdown("**The images as stored**")
    st.image(list(original), width=56)
    st.markdown(f"**The same batch augmented** (draw {seed + 1})")
    st.image(list(augmented), width=56)
    notes = []
    if flip and dataset == "mnist":
        notes.append(
            "a flipped digit is often no digit at all (a 2 or a 7 reversed), so flips suit clothing, not digits"
        )
    if rotate >= 45:
        notes.append(f"turns of up to {rotate}° (the course notes' CIFAR example uses 90) lay shirts on their side")
    if notes:
        st.caption("Careful: " + "; ".join(notes) + ".")
