"""ConvLab's server: Streamlit's own (``st.App``) around ``streamlit_app.py``, plus two middlewares: one
answers the classroom box's watch address (app/server/class_watch.py), one tells the browser where the
server is, so a page opened on its own address does not probe for it."""

import streamlit as st
from starlette.middleware import Middleware

from app.server.backend_base import BackendBase
from app.server.class_watch import ClassWatch

app = st.App("streamlit_app.py", middleware=[Middleware(ClassWatch), Middleware(BackendBase)])
