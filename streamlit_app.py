"""ConvLab entry point: page config, navigation over pages/, and the shared sidebar."""

import streamlit as st

from app import layout

st.set_page_config(page_title="ConvLab", page_icon=":material/grid_on:", layout="wide")

PAGES = [
    st.Page("pages/home.py", title="Home", icon=":material/home:", default=True),
    st.Page("pages/kernel_lab.py", title="Kernel Lab", icon=":material/filter:"),
    st.Page("pages/arithmetic.py", title="Arithmetic", icon=":material/calculate:"),
    st.Page("pages/architecture.py", title="Architecture", icon=":material/account_tree:"),
    st.Page("pages/training.py", title="Training", icon=":material/model_training:"),
    st.Page("pages/inside.py", title="Inside the model", icon=":material/visibility:"),
]

page = st.navigation(PAGES)
layout.sidebar()
page.run()
