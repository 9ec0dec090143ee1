"""ConvLab entry point: process environment, page config, navigation over app_pages/, and the shared sidebar."""

import os

# Idle torch worker threads sleep instead of spin; this must be set before torch is first imported.
# With several sessions on a 2-core server, spinning OpenMP threads made training up to 10x slower.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import streamlit as st  # noqa: E402

from app import layout  # noqa: E402

st.set_page_config(page_title="ConvLab", page_icon=":material/grid_on:", layout="wide")

PAGES = [
    st.Page("app_pages/home.py", title="Home", icon=":material/home:", default=True),
    st.Page("app_pages/kernel_lab.py", title="Kernel Lab", icon=":material/filter:"),
    st.Page("app_pages/arithmetic.py", title="Arithmetic", icon=":material/calculate:"),
    st.Page("app_pages/architecture.py", title="Architecture", icon=":material/account_tree:"),
    st.Page("app_pages/training.py", title="Training", icon=":material/model_training:"),
    st.Page("app_pages/inside.py", title="Inside the model", icon=":material/visibility:"),
]

page = st.navigation(PAGES)
layout.sidebar()
page.run()
