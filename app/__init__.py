"""Streamlit-facing glue shared by the pages: state keys, widgets, plot builders, caching.

Pages live in ``app_pages/`` (not ``pages/``: that folder name beside the entry point would put
Streamlit in its legacy multipage mode). The process environment (``OMP_WAIT_POLICY``) is set by
the entry point, ``streamlit_app.py``, before anything imports torch.
"""
