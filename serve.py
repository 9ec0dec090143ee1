"""ConvLab's server: Streamlit's own (``st.App``) around ``streamlit_app.py``, plus one middleware that
tells the browser where the server is, so a page opened on its own address does not probe for it."""

import streamlit as st
from starlette.middleware import Middleware

from app.server.backend_base import BackendBase

app = st.App("streamlit_app.py", middleware=[Middleware(BackendBase)])
