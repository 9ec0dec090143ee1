"""Home: what ConvLab is and the learning path through its pages."""

import streamlit as st

from app.instructor import class_settings
from app.layout import PATH, presenting, shown

st.title("ConvLab")
st.markdown(
    "#### Learn how convolutional neural networks work by seeing and touching every step.\n"
    "Follow the path from a single kernel on a photo to a trained network you can look inside. "
    "Every number on every page is computed live, by the same code you can import in a notebook "
    "(`import cnn_core`)."
)

st.subheader("The path")
path = [step for step in PATH if shown(step[0], class_settings.current())]  # pages the instructor hid are left out
# Cards of one width that wrap into as many per row as fit (1 on a phone and on a 1024-pixel projector).
CARD_PX = 320 if presenting() else 250
with st.container(horizontal=True, gap="small"):
    for i, (title, target, what) in enumerate(path, start=1):
        with st.container(border=True, width=CARD_PX):
            st.markdown(f"**{i}. {title}**")
            st.caption(what)
            st.page_link(target, label=f"Open {title}", icon=":material/arrow_forward:")

st.subheader("How to use it")
st.markdown(
    "- **Studying alone:** go through the pages in order; each one starts with a short explanation and "
    "sensible defaults, so you can change one thing at a time and watch what happens.\n"
    "- **In a classroom:** every page keeps its settings in the address bar. Copy the link to share the "
    "exact kernel, step or network you are showing.\n"
    "- **On a shared server:** each student's work (their custom kernels, the network they built, their "
    "trained models and runs) is kept on the server in their own workspace, found again by this browser "
    "after a reload, in a second tab or after a server restart. The sidebar's *Your workspace* shows what "
    "is kept and can delete it all."
)
