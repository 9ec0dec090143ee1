"""The Architecture page's own widgets around the layer editor (:mod:`app.architecture.editor`): adding a
layer and naming the network."""

from __future__ import annotations

import streamlit as st

from app import state
from app.architecture.model import MAX_NAME, TYPES, UNNAMED, add


def add_controls() -> None:
    """New layer, Insert after layer and Add layer, under the rows."""
    layers = st.session_state[state.AN_LAYERS]
    a, b, c = st.columns([2.2, 1.4, 2.4], vertical_alignment="bottom")  # "Conv2d" whole on a projector
    a.selectbox("New layer", TYPES, key=state.AN_ADD_TYPE)
    b.number_input(
        "Insert after layer",
        0,
        len(layers),
        len(layers),
        key=state.AN_ADD_AFTER.format(n=len(layers)),
        help="0 puts the new layer first.",
    )
    c.button("Add layer", on_click=add, icon=":material/add:", key="an_add")


def name_widget() -> None:
    """The network's name (empty: the preset's name, or "Custom network"); kept and in the link."""
    st.text_input(
        "Network name",
        key=state.AN_NAME,
        max_chars=MAX_NAME,
        placeholder="optional",  # the help says what an empty name becomes (a longer text was cut at 1024 presenting)
        help=f"Name your network: the name is kept with it, shown on the Training page and put in the link. Left "
        f"empty, it is the famous network's name, or {UNNAMED} once you have changed it.",
    )
