"""The layer-stack editor: one row of widgets per layer, drawn from each spec's field settings.

Which widgets a layer type shows, their labels, ranges, help and widths come from the
:class:`~cnn_core.models.Setting` of its fields, so a new layer type needs nothing here.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import streamlit as st

from app import state
from app.architecture.model import (
    DEFAULTS,
    MAX_NAME,
    TYPES,
    UNNAMED,
    add,
    layer_key,
    move,
    remove,
    retype,
    type_of,
    widget_values,
)
from app.layout import presenting
from cnn_core.models import LayerSpec, Setting
from cnn_core.models.base import settings

ROW_WIDTH = 6.4  # units the settings of one row share (the rest is left empty)


def _setting_widget(col: Any, f: dataclasses.Field, s: Setting, key: str) -> Any:
    """One setting's widget; its value is in the session (:func:`~app.architecture.model.widget_values`)."""
    if s.choices is not None:
        none_label = s.none_label
        return col.selectbox(
            s.label, list(s.choices), key=key, help=s.help, format_func=lambda v: none_label if v is None else str(v)
        )
    if isinstance(f.default, float):
        x = col.number_input(s.label, float(s.lo), float(s.hi), step=s.step, key=key, format=s.fmt, help=s.help)
        return round(float(x), 4)
    return col.number_input(s.label, int(s.lo), int(s.hi), key=key, help=s.help)


def layer_row(pos: int, uid: int, spec: LayerSpec, n: int) -> LayerSpec:
    """Widgets of one layer; returns the spec they describe. Their values come from the session: set by a Load
    or a type change (callbacks), else, for a new row or after a visit to another page, from ``spec``."""
    ss = st.session_state
    kind = ss.get(layer_key(uid, "type"), type_of(spec))
    if kind != type_of(spec):  # the learner changed the type: the new type's defaults (set by retype)
        spec = DEFAULTS[kind]
    for key, value in widget_values(uid, spec).items():
        ss.setdefault(key, value)
    fields = [(f, s) for f, s in settings(DEFAULTS[kind]) if s.editor]
    # One line for the layer (its type, under its number, and buttons), then its settings on lines of at most
    # ROW_WIDTH units (half that on a projector): in one line with the type, a 1024-pixel screen cut "Conv2d",
    # "valid" and "= window" in their boxes, and a projector's large labels ran into each other.
    # On a projector the type gets more of the line: in 2.2 parts "Inception module" was cut in its box.
    # The number is the type's label and the buttons' column starts where they do (they sit at its right): a
    # column for the number and one for the room between cost every row three more elements for the browser to
    # draw again on each rerun (issue #15).
    head = st.columns([3.5, 2.5] if presenting() else [2.6, 3.4], vertical_alignment="bottom")
    per_line = ROW_WIDTH / 2 if presenting() else ROW_WIDTH * 0.75  # 0.75: room for "valid" on a tablet
    lines: list[list[float]] = [[]]
    for w in (s.width for _, s in fields):
        if lines[-1] and sum(lines[-1]) + w > per_line:
            lines.append([])
        lines[-1].append(w)
    setting_cols = []
    for line in lines:
        rest = round(per_line - sum(line), 6)
        setting_cols += st.columns([*line, rest] if rest > 0 else line, vertical_alignment="bottom")[: len(line)]
    cols = [head[0], *(setting_cols or [st.container()])]  # no settings: its caption on its own line
    holder = head[-1].container(horizontal=True, gap="small", horizontal_alignment="right")
    buttons = [holder] * 3
    cols[0].selectbox(f"Layer {pos + 1}", TYPES, key=layer_key(uid, "type"), on_change=retype, args=(uid,))
    values = {
        f.name: _setting_widget(col, f, s, layer_key(uid, f"{kind}_{s.key or f.name}"))
        for col, (f, s) in zip(cols[1:], [(f, s) for f, s in settings(spec) if s.editor], strict=False)
    }
    if values:
        spec = dataclasses.replace(spec, **values)
    else:
        cols[1].caption(spec.editor_help)
    for button, (what, icon, args, disabled, verb) in zip(
        buttons,
        (
            ("up", "arrow_upward", (uid, -1), pos == 0, "Move layer {} up"),
            ("down", "arrow_downward", (uid, 1), pos == n - 1, "Move layer {} down"),
            ("remove", "delete", (uid,), False, "Remove layer {}"),
        ),
        strict=True,
    ):
        button.button(
            "",
            key=layer_key(uid, what),
            on_click=remove if what == "remove" else move,
            args=args,
            disabled=disabled,
            icon=f":material/{icon}:",
            help=verb.format(pos + 1),
        )
    return spec


def layer_editor() -> tuple[list[LayerSpec], list]:
    """All layer rows; returns the specs and, per row, an empty slot for an in-place error."""
    layers = st.session_state[state.AN_LAYERS]
    specs, slots = [], []
    for pos, (uid, spec) in enumerate(layers):
        specs.append(layer_row(pos, uid, spec, len(layers)))
        slots.append(st.empty())
    st.session_state[state.AN_LAYERS] = [(u, s) for (u, _), s in zip(layers, specs, strict=True)]
    if not layers:
        st.info("No layers yet: add one below, or load a network above.", icon=":material/info:")
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
    return specs, slots


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
