"""Bare peer of Arithmetic's Next: a button that swaps one small picture for the next.

The framework's floor for "click Next, see the next step": one button, one text, one image.
"""

import numpy as np
import streamlit as st

st.set_page_config(page_title="bare swap", layout="wide")
step = st.session_state.setdefault("step", 0)
if st.button("Next"):
    step = st.session_state["step"] = step + 1
picture = np.zeros((7, 7), np.uint8)
picture.flat[step % 49] = 255  # the "current cell" lights up
st.markdown(f"**Step {step + 1} of 49**")
st.image(picture, width=280)
