"""Bare peer with the Kernel Lab's elements: the lab's widgets, text and two pictures in plain Streamlit.

Not a target's peer (issue #15 measures against ``filter.py`` and ``reload.py``): it says what Streamlit
itself costs for a page of this many elements, so that ``bench_browser --floor`` can tell ConvLab's own
overhead from the framework's. Eight pages in the navigation and a sidebar with the same kinds of
widgets; the lab is written the plainest way: no fragment, no custom component, no cache, each picture
an ``st.image`` of a numpy array, each grid a markdown table.
"""

import cv2
import numpy as np
import streamlit as st

from cnn_core import images, kernels

NAMES = [name for name, p in kernels.PRESETS.items() if p.kernel.shape == (3, 3) and p.partner is None]


def grid(values: np.ndarray) -> str:
    rows = [" | ".join(f"{v:.3g}" for v in row) for row in values]
    return "\n".join(["| " + " | ".join(" " for _ in values[0]) + " |", "|" + "---|" * len(values[0])] +
                     [f"| {r} |" for r in rows])  # fmt: skip


def lab() -> None:
    st.title("Kernel Lab")
    st.write("A kernel is a small grid of weights; the sum of pixel × weight at every position makes a feature map.")
    photo = images.load_image(images.sample_bytes("Cameraman"), mode="gray").pixels.astype(np.float32)
    pictures = st.container()
    bar = st.container(horizontal=True)
    name = bar.selectbox("Kernel", NAMES, index=NAMES.index("Sobel x"), width=220)
    stride = bar.number_input("Stride", 1, 8, width=120)
    bar.selectbox("Padding", ["same", "valid", "custom"], width=130)
    bar.number_input("Cells per side", 0, 10, disabled=True, width=150)
    bar.selectbox("Padding holds", ["zeros", "reflect", "replicate"], width=150)
    bar.number_input("Dilation", 1, 5, width=120)
    photos = st.container(horizontal=True)
    photos.radio("Image", ["Sample photo", "Upload", "Camera"], horizontal=True, width="content")
    photos.selectbox("Sample photo", list(images.SAMPLES), width=200)
    photos.radio("Channels", ["Grayscale", "RGB"], horizontal=True, width="content")
    photos.radio("Show output values as", ["Automatic", "Signed", "Absolute"])
    st.caption("The display mode and why.")
    kernel = kernels.PRESETS[name].kernel.astype(np.float32)
    out = cv2.filter2D(photo, cv2.CV_32F, kernel, borderType=cv2.BORDER_CONSTANT)[::stride, ::stride]
    with pictures:
        st.caption("Input: click a pixel. Feature map at the same scale.")
        left, right = st.columns(2)
        left.image(photo, caption="Cameraman")
        right.container(key="bare_map").image(np.clip(out, 0, 1), caption=f"{name} on the Cameraman")
    kernel_box, size_box = st.columns(2)
    with kernel_box:
        st.subheader("The kernel")
        st.write(kernels.PRESETS[name].description)
        st.markdown(grid(kernel))
    with size_box, st.expander("Output size", expanded=True):
        st.text(f"Height: floor((512 + 2 - 3) / {stride}) + 1 = {out.shape[0]}")
    st.subheader("The dot product behind one pixel")
    row = st.container(horizontal=True)
    r = row.number_input("Output row", 0, out.shape[0] - 1, value=out.shape[0] // 2, width=150)
    c = row.number_input("Output column", 0, out.shape[1] - 1, value=out.shape[1] // 2, width=150)
    window = np.pad(photo, 1)[r * stride : r * stride + 3, c * stride : c * stride + 3] * 255
    st.markdown(grid(window) + "\n\n" + grid(kernel) + "\n\n" + grid(window * kernel))
    st.markdown(f"**Sum** of the products = **{float((window * kernel).sum()):.4g}**")
    with st.expander("The whole sum written out"):
        st.text(" + ".join(f"{v:.3g}×{k:.3g}" for v, k in zip(window.ravel(), kernel.ravel(), strict=True)))
    st.caption(f"Feature map value at ({r}, {c}).")
    st.download_button("Download the feature map", b"", file_name="map.png")


def other() -> None:
    st.title("Another page")


st.set_page_config(page_title="bare lab page", layout="wide")
titles = ["Home", "Lessons", "Arithmetic", "Architecture", "Training", "Inside", "Experiments"]
page = st.navigation(
    [st.Page(lab, title="Kernel Lab", default=True)] + [st.Page(other, title=t, url_path=t.lower()) for t in titles]
)
with st.sidebar:
    st.markdown("**Class**: not in a class")
    st.text_input("Class code")
    st.button("Join")
    st.caption("ConvLab: learn convolutional neural networks by touching every step.")
    st.toggle("Presentation mode")
    st.checkbox("Keep my work here")
page.run()
