"""Bare peer of the Inside the model tab switch: tabs that rerun the page, the open one drawing a picture.

The framework's floor for "open another tab, see its picture": ``st.tabs(on_change="rerun")`` with
seven tabs (as the Inside page has), only the open tab's 280 px picture computed and shown.
"""

import numpy as np
import streamlit as st

st.set_page_config(page_title="bare tabs", layout="wide")
names = ["Feature maps", "Learned kernels", "Over time", "Confusion matrix", "Mistakes", "Saliency", "Predict"]
for i, (name, tab) in enumerate(zip(names, st.tabs(names, key="tab", on_change="rerun"), strict=True)):
    if tab.open:
        with tab:
            picture = np.zeros((28, 28), np.uint8)
            picture[:, 4 * i : 4 * i + 4] = 255
            st.markdown(f"**{name}**")
            st.image(picture, width=280)
