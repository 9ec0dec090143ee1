"""Sections on what the layers hold: the feature maps of the chosen image, and the learned kernels
next to the Kernel Lab's hand-made ones."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from app import layout, pictures, plots
from app.inside.common import CHART, download_csv, download_png, maps_figure
from app.inside.picker import Chosen
from app.inside.view import View
from cnn_core import inspection, kernels

MAX_MAPS = 64  # feature maps per layer drawn unless "show every channel" is ticked
SCALE_HELP = {
    "shared": "One colour scale for all maps of a layer: the same colour is the same number in every map, so "
    "strong and weak channels can be compared (weak ones look flat). Maps with negative values use blue for "
    "positive, red for negative and white for 0; maps that are never negative (after ReLU) go from dark blue (0) "
    "to yellow (largest).",
    "per_map": "Each map stretched to its own largest value: the pattern of even a weak channel shows, but "
    "colours cannot be compared between maps. Hover to read the real numbers.",
}


def feature_maps_section(view: View, chosen: Chosen) -> None:
    st.write(
        "Each layer turns the image into a stack of **feature maps**, one per channel. Early maps respond to edges "
        "and strokes; deeper ones are smaller and respond to larger parts of the digit."
    )
    a, b = st.columns([2, 1])
    scale = a.radio("Colour scale", ["shared", "per_map"], horizontal=True, key="in_fm_scale",
                    format_func={"shared": "Shared by the layer", "per_map": "Each map its own"}.get)  # fmt: skip
    show_all = b.checkbox(f"Show every channel (else the first {MAX_MAPS})", key="in_fm_all")
    st.caption(SCALE_HELP[scale])
    acts = inspection.feature_maps(view.model, chosen.x)
    c, h, w = view.bundle.data.input_shape
    st.markdown(f"**Input** · {chosen.label} · {c} x {h} x {w}")
    st.image(pictures.enlarge(pictures.picture_u8(chosen.picture), 112), alt=f"The input: {chosen.label}")
    classes = view.bundle.data.classes
    for i, act in enumerate(acts):
        shape = " x ".join(str(s) for s in act.shape)
        st.markdown(f"**{i + 1}. {act.name}** · {act.description} · output {shape}")
        if act.is_spatial:
            maps = act.values if show_all else act.values[:MAX_MAPS]
            if len(maps) < len(act.values):
                st.caption(f"Showing the first {len(maps)} of {len(act.values)} channels.")
            fig, make = maps_figure(maps, scale == "per_map", [f"channel {j + 1}" for j in range(len(maps))])
            layout.chart(fig, key=f"in_fm_fig_{i}", config=CHART, width="content")
            download_png("PNG", make, f"feature_maps_{i + 1}_{act.name}.png", key=f"in_fm_png_{i}")
        elif i == len(acts) - 1 and act.shape == (len(classes),):
            probs = inspection.softmax(act.values)
            st.caption("The last layer gives one score (logit) per class; softmax turns them into probabilities:")
            layout.chart(plots.probability_bars(list(classes), probs), key=f"in_fm_fig_{i}", config=CHART)
        else:
            st.caption("A flat vector: the numbers of the previous layer in one row (or dense-layer outputs).")
            fig, _ = maps_figure(act.values[None, None, :], scale == "per_map", ["vector"])
            layout.chart(fig, key=f"in_fm_fig_{i}", config=CHART, width="content")


def _similarity_table(weights: np.ndarray) -> pd.DataFrame:
    rows = []
    for o, k in enumerate(weights):
        m = inspection.nearest_preset(k)
        rows.append({"kernel": o + 1, "nearest preset": m.preset, "inverted": m.inverted,
                     "similarity": round(m.similarity, 3)})  # fmt: skip
    return pd.DataFrame(rows)


def kernels_section(view: View) -> None:
    conv_list = inspection.conv_layers(view.model)
    if not conv_list:
        st.info("This model has no convolution layer, so it has no kernels to show.")
        return
    name, conv = conv_list[0]
    w = inspection.kernel_weights(conv)  # (O, C, kh, kw)
    o, c, kh, kw = w.shape
    st.write(
        f"The first convolution (**{name}**) learned **{o} kernels** of {c} x {kh} x {kw} weights. Nobody wrote "
        "them: training found them. Blue weights are positive, red negative; hover to read the numbers."
    )
    if c == 3:
        stretched = inspection.stretch_each(w)  # each kernel onto [0, 1]
        pic = pictures.colour_tiles([inspection.tile(stretched[:, ch]) for ch in range(3)])
        st.image(pic, caption="Colour kernels: each stretched to its own range; red, green and blue weights as colour.",
                 alt="The first layer's colour kernels")  # fmt: skip
        download_png("PNG of the kernels", lambda: pictures.png_bytes(pic), "first_layer_kernels.png", key="in_k_png")
    else:
        fig, make = maps_figure(w[:, 0], False, [f"kernel {j + 1}" for j in range(o)], cols=8, cell_px=36)
        layout.chart(fig, key="in_k_fig", config=CHART, width="content")
        download_png("PNG of the kernels", make, "first_layer_kernels.png", key="in_k_png")

    st.subheader("Learned kernels next to the hand-made ones")
    st.write(
        "Each learned kernel is compared with the presets of the Kernel Lab by **cosine similarity** of their "
        "patterns (after subtracting each kernel's mean): +1 is the same pattern at any strength, -1 the same "
        "pattern inverted (dark and bright swapped), 0 unrelated. Colour kernels are compared through the sum of "
        "their three channels, which is what they do to a gray image."
    )
    table = _similarity_table(w)
    pick = st.columns(3)[0].number_input(f"Kernel (1 to {o})", 1, o, key="in_k_pick")
    match = inspection.nearest_preset(w[pick - 1])
    learned = inspection.gray_kernels(w[pick - 1])  # (kh, kw)
    a, b = st.columns(2)
    with a:
        layout.chart(plots.matrix_heatmap(learned, title=f"Learned kernel {pick}"), key="in_k_learned", config=CHART)
    with b:
        layout.chart(plots.matrix_heatmap(match.compared, title=match.preset), key="in_k_preset", config=CHART)
    st.success(f"Kernel {pick} {match.phrase}.", icon=":material/compare:")
    base = match.preset.split(" (")[0]
    if base in kernels.PRESETS:
        st.caption(f"{base}: {kernels.PRESETS[base].description}")
    if match.flat:
        st.caption("This kernel is mostly one constant value: it averages its neighbourhood, like a blur.")
    with st.expander("All first-layer kernels and their nearest presets"):
        st.dataframe(table, hide_index=True, key="in_k_table")
        download_csv("CSV", table, "kernel_matches.csv", key="in_k_csv")

    if len(conv_list) > 1:
        st.subheader("Deeper layers")
        names = [n for n, _ in conv_list[1:]]
        layer = st.selectbox("Convolution layer", names, key="in_k_layer")
        wd = inspection.kernel_weights(dict(conv_list)[layer])  # (O, I, kh, kw)
        oo, ii = min(16, wd.shape[0]), min(16, wd.shape[1])
        maps = wd[:oo, :ii].reshape(oo * ii, *wd.shape[2:])
        labels = [f"output {r + 1}, input {q + 1}" for r in range(oo) for q in range(ii)]
        st.caption(
            f"{wd.shape[0]} x {wd.shape[1]} kernels of {wd.shape[2]}x{wd.shape[3]}: row = the feature map it makes, "
            f"column = the input channel it reads"
            + (f" (the first {oo} x {ii} shown)." if (oo, ii) != wd.shape[:2] else ".")
        )
        fig, make = maps_figure(maps, False, labels, cols=ii)
        layout.chart(fig, key="in_k_deep_fig", config=CHART, width="content")
        download_png("PNG", make, f"kernels_{layer}.png", key="in_k_deep_png")
