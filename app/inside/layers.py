"""Sections on what the layers hold: the feature maps of the chosen image, and the learned kernels
next to the Kernel Lab's hand-made ones (both as the Kernel Lab's HTML grids, :mod:`app.html_grids`). Their
figures, tables and pictures are made once per model copy and image (:func:`app.inside.view.remember`)."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import streamlit as st

from app import html_grids, layout, pictures
from app.inside.common import (
    CHART,
    VECTOR_ROW,
    data_url,
    download_csv,
    download_png,
    maps_figure,
    maps_picture,
    vector_picture,
)
from app.inside.picker import Chosen
from app.inside.view import View, remember
from cnn_core import inspection, kernels

MAX_MAPS = 64  # feature maps per layer drawn unless "show every channel" is ticked
HOVER_LABEL = "Numbers on hover"
HOVER_HELP = (
    "Draws the maps as interactive charts: point at a pixel to read its number. Slower to draw; without it the "
    "maps are pictures (the PNGs their buttons save) with their colour scale written under them."
)
SCALE_HELP = {
    "shared": "One colour scale for all maps of a layer: the same colour is the same number in every map, so "
    "strong and weak channels can be compared (weak ones look flat). Maps with negative values use blue for "
    "positive, red for negative and white for 0; maps that are never negative (after ReLU) go from dark blue (0) "
    "to yellow (largest).",
    "per_map": "Each map stretched to its own largest value: the pattern of even a weak channel shows, but "
    "colours cannot be compared between maps. Switch on the numbers on hover to read the real numbers.",
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
    hover = b.toggle(HOVER_LABEL, key="in_fm_hover", help=HOVER_HELP)
    st.caption(SCALE_HELP[scale])
    image = image_key(chosen)
    acts = remember(view, ("acts", image), lambda: inspection.feature_maps(view.model, chosen.x))
    c, h, w = view.bundle.data.input_shape
    st.markdown(f"**Input** · {chosen.label} · {c} x {h} x {w}")
    shown = remember(
        view, ("input", image), lambda: data_url(pictures.enlarge(pictures.picture_u8(chosen.picture), 112))
    )
    st.image(shown, alt=f"The input: {chosen.label}")
    classes = view.bundle.data.classes
    figures = remember(view, ("maps", image, scale, show_all, hover),
                       lambda: _map_figures(acts, scale == "per_map", show_all, hover, classes))  # fmt: skip
    for i, (act, (kind, fig, make, words)) in enumerate(zip(acts, figures, strict=True)):
        shape = " x ".join(str(s) for s in act.shape)
        st.markdown(f"**{i + 1}. {act.name}** · {act.description} · output {shape}")
        if kind == "maps":
            shown_maps = len(act.values) if show_all else min(MAX_MAPS, len(act.values))
            more = (
                f" Showing the first {shown_maps} of {len(act.values)} channels."
                if shown_maps < len(act.values)
                else ""
            )
            if isinstance(fig, str):  # a picture, its colour scale in words
                st.image(fig, caption=words + more, alt=f"The {shown_maps} feature maps of {act.name}")
            else:
                if more:
                    st.caption(more.strip())
                layout.chart(fig, key=f"in_fm_fig_{i}", config=CHART, width="content")
            download_png("PNG", make, f"feature_maps_{i + 1}_{act.name}.png", key=f"in_fm_png_{i}")
        elif kind == "probabilities":
            st.caption("The last layer gives one score (logit) per class; softmax turns them into probabilities:")
            st.html(fig)
        else:
            st.caption("A flat vector: the numbers of the previous layer one after another (or a dense layer's outputs).")
            if isinstance(fig, str):  # a picture, its rows read left to right, its colour scale in words
                st.image(fig, caption=f"{words} Read left to right, {VECTOR_ROW} values a row.",
                         alt=f"The {act.shape[0]} values of {act.name}")  # fmt: skip
            else:
                layout.chart(fig, key=f"in_fm_fig_{i}", config=CHART, width="content")


def image_key(chosen: Chosen) -> str:
    """The identity of the image looked at (its model input), for the memo of the view."""
    x = chosen.x.detach().cpu().numpy()  # (1, C, H, W)
    return hashlib.sha1(x.tobytes() + str(x.shape).encode()).hexdigest()[:16]


def _map_figures(acts: list, per_map: bool, show_all: bool, hover: bool, classes: tuple[str, ...]) -> list:
    """(kind, figure or picture address, PNG maker or None, colour scale in words) for each layer's output:
    "maps" (tiled feature maps: a chart with ``hover``, else a picture), the last layer's class
    "probabilities", or a flat "vector"."""
    out = []
    for i, act in enumerate(acts):
        if act.is_spatial:
            maps = act.values if show_all else act.values[:MAX_MAPS]
            out.append(("maps", *maps_figure(maps, per_map, "channel"), "") if hover else
                       ("maps", *maps_picture(maps, per_map, side=112)))  # fmt: skip
        elif i == len(acts) - 1 and act.shape == (len(classes),):
            probs = html_grids.probability_html(list(classes), inspection.softmax(act.values))
            out.append(("probabilities", probs, None, ""))
        elif hover:
            out.append(("vector", maps_figure(act.values[None, None, :], per_map, "vector")[0], None, ""))
        else:
            address, words = vector_picture(act.values, per_map)
            out.append(("vector", address, None, words))
    return out


def _similarity_table(weights: np.ndarray) -> pd.DataFrame:
    rows = []
    for o, k in enumerate(weights):
        m = inspection.nearest_preset(k)
        rows.append({"kernel": o + 1, "nearest preset": m.preset, "inverted": m.inverted,
                     "similarity": round(m.similarity, 3)})  # fmt: skip
    return pd.DataFrame(rows)


def _first_layer(w: np.ndarray, hover: bool) -> tuple[object, object, str, pd.DataFrame]:
    """(figure or picture address, PNG maker, colour scale in words, nearest-preset table) of the first
    convolution's kernels: a chart with ``hover``, else a picture."""
    c = w.shape[1]
    if c == 3:
        stretched = inspection.stretch_each(w)  # each kernel onto [0, 1]
        pic = pictures.colour_tiles([inspection.tile(stretched[:, ch]) for ch in range(3)])
        return data_url(pic), lambda: pictures.png_bytes(pic), "", _similarity_table(w)
    if hover:
        return *maps_figure(w[:, 0], False, "kernel", cols=8, cell_px=36), "", _similarity_table(w)
    return *maps_picture(w[:, 0], False, cols=8, side=108), _similarity_table(w)


def _pick(w: np.ndarray, pick: int) -> tuple[tuple, tuple, inspection.KernelMatch]:
    """(learned kernel, its nearest preset as compared, the match): the two grids' values and the verdict."""
    match = inspection.nearest_preset(w[pick - 1])
    return html_grids.as_cells(inspection.gray_kernels(w[pick - 1])), html_grids.as_cells(match.compared), match  # (kh, kw) each


def _deeper(wd: np.ndarray, hover: bool) -> tuple[str, object, object, str]:
    oo, ii = min(16, wd.shape[0]), min(16, wd.shape[1])
    maps = wd[:oo, :ii].reshape(oo * ii, *wd.shape[2:])
    caption = (
        f"{wd.shape[0]} x {wd.shape[1]} kernels of {wd.shape[2]}x{wd.shape[3]}: row = the feature map it makes, "
        f"column = the input channel it reads"
        + (f" (the first {oo} x {ii} shown)." if (oo, ii) != wd.shape[:2] else ".")
    )
    if hover:
        return caption, *maps_figure(maps, False, cols=ii, grid=("output", "input")), ""
    return caption, *maps_picture(maps, False, cols=ii, side=36)


def kernels_section(view: View) -> None:
    conv_list = remember(view, ("convs",), lambda: inspection.conv_layers(view.model))
    if not conv_list:
        st.info("This model has no convolution layer, so it has no kernels to show.")
        return
    name, conv = conv_list[0]
    w = remember(view, ("weights", name), lambda: inspection.kernel_weights(conv))  # (O, C, kh, kw)
    o, c, kh, kw = w.shape
    st.write(
        f"The first convolution (**{name}**) learned **{o} kernels** of {c} x {kh} x {kw} weights. Nobody wrote "
        "them: training found them. Blue weights are positive, red negative; the kernel picked below has its "
        "numbers written in, and with numbers on hover every weight can be read."
    )
    hover = st.toggle(HOVER_LABEL, key="in_k_hover", help=HOVER_HELP) if c != 3 else False
    shown, make, words, table = remember(view, ("first", name, hover), lambda: _first_layer(w, hover))
    if c == 3:
        st.image(shown, caption="Colour kernels: each stretched to its own range; red, green and blue weights as colour.",
                 alt="The first layer's colour kernels")  # fmt: skip
    elif isinstance(shown, str):
        st.image(shown, caption=words, alt=f"The {o} kernels of {name}")
    else:
        layout.chart(shown, key="in_k_fig", config=CHART, width="content")
    download_png("PNG of the kernels", make, "first_layer_kernels.png", key="in_k_png")

    st.subheader("Learned kernels next to the hand-made ones")
    st.write(
        "Each learned kernel is compared with the presets of the Kernel Lab by **cosine similarity** of their "
        "patterns (after subtracting each kernel's mean): +1 is the same pattern at any strength, -1 the same "
        "pattern inverted (dark and bright swapped), 0 unrelated. Colour kernels are compared through the sum of "
        "their three channels, which is what they do to a gray image."
    )
    pick = st.columns(3)[0].number_input(f"Kernel (1 to {o})", 1, o, key="in_k_pick")
    learned, preset, match = remember(view, ("pick", name, int(pick)), lambda: _pick(w, int(pick)))
    # side by side (wrapping on a phone), every weight written in its cell: two HTML tables, not two charts
    html_grids.show_grids(st, (f"Learned kernel {pick}", learned, None, False), (match.preset, preset, None, False),
                          big=layout.presenting())  # fmt: skip
    st.success(f"Kernel {pick} {match.phrase}.", icon=":material/compare:")
    base = match.preset.split(" (")[0]
    if base in kernels.PRESETS:
        st.caption(f"{base}: {kernels.PRESETS[base].description}")
    if match.flat:
        st.caption("This kernel is mostly one constant value: it averages its neighbourhood, like a blur.")
    # Built only once opened (its state kept under its key): a tab switch does not mount a table nobody reads.
    box = st.expander("All first-layer kernels and their nearest presets", key="in_k_all", on_change="rerun")
    if box.open:
        with box:
            st.dataframe(table, hide_index=True, key="in_k_table")
            download_csv("CSV", table, "kernel_matches.csv", key="in_k_csv")

    if len(conv_list) > 1:
        st.subheader("Deeper layers")
        names = [n for n, _ in conv_list[1:]]
        layer = st.selectbox("Convolution layer", names, key="in_k_layer")
        caption, fig, make, words = remember(view, ("deeper", layer, hover),
                                             lambda: _deeper(inspection.kernel_weights(dict(conv_list)[layer]), hover))  # fmt: skip
        st.caption(caption)
        if isinstance(fig, str):
            st.image(fig, caption=words, alt=f"The kernels of {layer}")
        else:
            layout.chart(fig, key="in_k_deep_fig", config=CHART, width="content")
        download_png("PNG", make, f"kernels_{layer}.png", key="in_k_deep_png")
