"""Sections on one image's answer: which pixels and regions decided it (saliency, Grad-CAM), and
the prediction with every preprocessing stage of an upload or a drawing."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from app import html_grids, pictures, state
from app.inside.common import download_csv, download_png
from app.inside.picker import Chosen
from app.inside.view import View
from cnn_core import inspection


def saliency_section(view: View, chosen: Chosen) -> None:
    data = view.bundle.data
    probs = inspection.predict_proba(view.model, chosen.x)
    pred = int(np.argmax(probs))
    options = [-1, *range(data.num_classes)]

    def fmt(i: int) -> str:
        return f"the predicted class ({data.classes[pred]})" if i < 0 else f"{data.classes[i]} ({probs[i]:.1%})"

    a, b = st.columns(2)
    target = a.selectbox("Explain the score of", options, format_func=fmt, key="in_sal_class")
    target = pred if target < 0 else int(target)
    layers = inspection.spatial_layers(view.model, chosen.x)
    if not layers:
        st.info("This model has no layer with feature maps, so Grad-CAM cannot be computed.")
        return
    if st.session_state.get(state.IN_GC_LAYER) not in layers:
        st.session_state[state.IN_GC_LAYER] = inspection.default_cam_layer(view.model, layers)
    layer = b.selectbox("Grad-CAM layer", layers, key=state.IN_GC_LAYER,
                        help="Usually the last convolution (after its activation).")  # fmt: skip
    sal = inspection.scale_to_max(inspection.saliency(view.model, chosen.x, target))
    gc = inspection.grad_cam(view.model, chosen.x, target, layer=layer)
    pic = chosen.picture
    sal_img, sal_over = pictures.heat_pictures(pic, sal)
    gc_img, gc_over = pictures.heat_pictures(pic, gc.heatmap)
    shown = [
        (pictures.enlarge(pictures.picture_u8(pic), 168), chosen.label),
        (sal_img, "Saliency (bright = mattered most)"),
        (sal_over, "Saliency over the image"),
        (gc_img, f"Grad-CAM at {layer} ({gc.cam.shape[0]}x{gc.cam.shape[1]})"),
        (gc_over, "Grad-CAM over the image"),
    ]
    row = st.container(horizontal=True, gap="small")  # wraps: five 150 px columns ran over a projector's page
    for img, caption in shown:
        row.image(img, caption=caption, width=150, alt=caption)
    st.write(
        f"**Saliency** asks: if one pixel changed a little, how much would the score of **{data.classes[target]}** "
        "change? It is the size of that gradient, pixel by pixel, so it is sharp but noisy. **Grad-CAM** looks at "
        f"the feature maps of layer {layer} instead: it weighs each map by how much raising it would raise the "
        "score, adds them up and keeps the positive part, so it shows coarse regions that spoke *for* the class."
    )
    if gc.cam.max() == 0:
        st.caption("Grad-CAM is zero everywhere here: no region of this layer pushed this class's score up.")
    c1, c2 = st.columns(2)
    with c1:
        download_png("Saliency PNG", lambda: pictures.png_bytes(np.hstack([sal_img, sal_over])), "saliency.png",
                     "in_sal_png")  # fmt: skip
    with c2:
        download_png("Grad-CAM PNG", lambda: pictures.png_bytes(np.hstack([gc_img, gc_over])), "grad_cam.png",
                     "in_gc_png")  # fmt: skip


def predict_section(view: View, chosen: Chosen) -> None:
    data = view.bundle.data
    probs = inspection.predict_proba(view.model, chosen.x)
    c, h, w = data.input_shape
    if chosen.pre is None:
        st.write(f"{chosen.label} comes from the test set, so it is already {w}x{h} with {c} channel(s); it is only "
                 "normalised like every training image. Upload an image or draw one (top of the page) to see how "
                 "a picture of any size is made to look like the training data.")  # fmt: skip
    else:
        st.write("How your image was made to look like the training images, step by step:")
        row = st.container(horizontal=True, gap="small")  # wraps, as the saliency row does
        for stage in chosen.pre.stages:
            with row.container(width=140):
                st.image(
                    pictures.enlarge(pictures.picture_u8(stage.image), 140), caption=stage.name, width=120,
                    alt=stage.name,
                )
                st.caption(stage.note)
        for note in chosen.pre.notes:
            st.caption(note)
        if not chosen.pre.inverted:
            st.caption(chosen.pre.invert_reason)
    k = min(data.num_classes, 10)
    top = inspection.top_classes(probs, k)
    title = f"Top {k} classes for {chosen.label}"
    st.html(html_grids.probability_html([data.classes[i] for i in top], probs[top], title=title))
    frame = pd.DataFrame({"class": list(data.classes), "probability": probs.round(5)})
    a, b = st.columns(2)
    with a:
        download_csv("Probabilities CSV", frame, "prediction.csv", key="in_pred_csv")
    with b:
        download_png("Model input PNG", lambda: pictures.png_bytes(pictures.picture_u8(chosen.picture)),
                     "model_input.png", "in_pred_png")  # fmt: skip
