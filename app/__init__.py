"""Streamlit-facing glue shared by the pages: state keys, widgets, plot builders, caching.

Importing this package also guards against a Streamlit quirk: because the project keeps its
pages in a folder named ``pages/``, a freshly started server serves the very first request for
``/<page>`` in the legacy multipage mode, running the page file without ``streamlit_app.py`` (no
navigation, no page config), and stays in that mode. Every page imports ``app``, so the first
such run switches the server to ``st.navigation`` and reruns through the entry point.

It also makes idle torch worker threads sleep instead of spin (``OMP_WAIT_POLICY=PASSIVE``,
which must be set before torch is imported): with several sessions on a 2-core server, spinning
OpenMP threads made training up to 10x slower.
"""

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import streamlit as st  # noqa: E402
from streamlit.runtime.pages_manager import PagesManager  # noqa: E402

if PagesManager.uses_pages_directory:
    PagesManager.uses_pages_directory = False
    st.rerun()
