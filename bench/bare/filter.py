"""Bare peer of the Kernel Lab: a 512x512 photo filtered with the chosen 3x3 kernel and shown.

The framework's floor for "change a setting, see a new picture": one selectbox, one
``cv2.filter2D`` and one ``st.image`` of a numpy array per run, nothing cached, no sidebar.
"""

import cv2
import numpy as np
import streamlit as st

from cnn_core import images, kernels

st.set_page_config(page_title="bare filter", layout="wide")
NAMES = [name for name, p in kernels.PRESETS.items() if p.kernel.shape == (3, 3) and p.partner is None]
photo = images.load_image(images.sample_bytes("Cameraman"), mode="gray").pixels.astype(np.float32)  # (512, 512)
name = st.selectbox("Kernel", NAMES, index=NAMES.index("Sobel x"))
out = cv2.filter2D(photo, cv2.CV_32F, kernels.PRESETS[name].kernel.astype(np.float32), borderType=cv2.BORDER_CONSTANT)
st.image(np.clip(out, 0, 1), caption=f"{name} on the Cameraman")
