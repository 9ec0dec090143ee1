"""ConvLab's own browser components (Streamlit's Components v2), registered one way.

Each component's code sits beside the module that uses it: ``editor.py`` with ``editor.js`` and
``editor.css``. Its styles are not isolated (a component is drawn in the page, not in an iframe,
and styles itself under its own class names), so the page's fonts and colours reach it.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st


def source(beside: str, name: str) -> str:
    """The text of the file ``name`` in the folder of the module file ``beside`` (its ``__file__``)."""
    return (Path(beside).parent / name).read_text(encoding="utf-8")


def register(name: str, beside: str, stem: str, *, css: str | None = None):
    """Register the component ``name`` from ``<stem>.js`` and ``<stem>.css`` next to ``beside``.

    ``css`` replaces the stylesheet file, for a component with no file of its own. Returns Streamlit's
    component callable (call it with ``data=``, ``key=`` and its ``on_*_change`` callbacks)."""
    return st.components.v2.component(
        name,
        js=source(beside, f"{stem}.js"),
        css=source(beside, f"{stem}.css") if css is None else css,
        isolate_styles=False,
    )
