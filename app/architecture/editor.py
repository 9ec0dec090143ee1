"""The layer-stack editor: one Streamlit Components v2 element (mounted in the page, no iframe) that draws
every layer's row (its type, its settings, move and remove) in plain HTML.

As one widget per setting, AlexNet's editor was some hundred Streamlit elements, and a Load made the
browser render them all again: 0.5-0.8 s of the 0.7-1.3 s a Load took (issue #15). Here the browser
draws the rows itself (``editor.js``, ``editor.css`` beside this module) and reports each edit as the
state ``edit`` = ``[op, uid, ...args, seq]``; :func:`apply_edit` changes the stack in the session,
which stays the one truth (:mod:`app.architecture.model`).

Which settings a layer type shows, their labels, ranges, help and widths come from the
:class:`~cnn_core.models.Setting` of its fields, so a new layer type needs nothing here.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import streamlit as st

from app import components, layout, state
from app.architecture.model import DEFAULTS, TYPES, move, remove, shown_value, type_of
from cnn_core.models import LayerSpec
from cnn_core.models.base import settings

_COMPONENT = components.register("convlab_layer_editor", __file__, "editor")


def _editable(spec: LayerSpec) -> list[tuple[dataclasses.Field, Any]]:
    return [(f, s) for f, s in settings(spec) if s.editor]


def shown(spec: LayerSpec) -> LayerSpec:
    """``spec`` as the editor shows it: each setting brought into its range and among its choices (a link
    may hold values the editor cannot show); the network on the page is the one shown."""
    values = {f.name: shown_value(spec, f, s) for f, s in _editable(spec)}
    return dataclasses.replace(spec, **values) if values else spec


def _field(f: dataclasses.Field, s: Any, value: Any) -> dict:
    item: dict[str, Any] = {"name": f.name, "label": s.label, "help": s.help or "", "width": s.width}
    if s.choices is not None:
        labels = [s.none_label if c is None else str(c) for c in s.choices]
        return {**item, "kind": "select", "options": labels, "value": list(s.choices).index(value)}
    if isinstance(f.default, float):
        return {**item, "kind": "float", "value": value, "lo": s.lo, "hi": s.hi, "step": s.step or 0.01}
    return {**item, "kind": "int", "value": int(value), "lo": int(s.lo), "hi": int(s.hi)}


def row(uid: int, spec: LayerSpec) -> dict:
    """One layer's row for the browser: its uid, type and settings (label, range, help, value)."""
    fields = [_field(f, s, getattr(spec, f.name)) for f, s in _editable(spec)]
    return {"uid": uid, "type": type_of(spec), "fields": fields, "note": "" if fields else spec.editor_help}


def payload(layers: list[tuple[int, LayerSpec]], error: tuple[int, str] | None) -> dict:
    """What the browser draws: every row, the types a row can take, and the error at its layer (if any)."""
    return {
        "types": TYPES,
        "rows": [row(uid, spec) for uid, spec in layers],
        "error": {"index": error[0], "message": error[1]} if error is not None else None,
        "presenting": layout.presenting(),
    }


def _coerce(spec: LayerSpec, name: str, raw: Any) -> LayerSpec | None:
    """``spec`` with field ``name`` set from the browser's ``raw`` value (a choice's index, or a number),
    brought into the field's range; None for a field the spec does not have or a value that is no number."""
    found = next(((f, s) for f, s in _editable(spec) if f.name == name), None)
    if found is None or isinstance(raw, bool) or not isinstance(raw, int | float):
        return None
    f, s = found
    if s.choices is not None:
        if not 0 <= int(raw) < len(s.choices):
            return None
        value: Any = s.choices[int(raw)]
    elif isinstance(f.default, float):
        value = round(float(min(max(raw, s.lo), s.hi)), 4)
    else:
        value = int(min(max(round(raw), s.lo), s.hi))
    return dataclasses.replace(spec, **{name: value})


def apply_edit(edit: Any) -> None:
    """Carry out one edit the browser reported: ``["set", uid, field, value, seq]``, ``["type", uid, type,
    seq]`` (the new type's defaults), ``["up" | "down" | "remove", uid, seq]``. Anything else is ignored."""
    if not isinstance(edit, list) or len(edit) < 3 or not isinstance(edit[1], int):
        return
    op, uid = edit[0], edit[1]
    layers = st.session_state[state.AN_LAYERS]
    pos = next((i for i, (u, _) in enumerate(layers) if u == uid), None)
    if pos is None:
        return
    if op in ("up", "down"):
        move(uid, -1 if op == "up" else 1)
    elif op == "remove":
        remove(uid)
    elif op == "type" and edit[2] in DEFAULTS:
        layers[pos] = (uid, DEFAULTS[edit[2]])
    elif op == "set" and len(edit) >= 4 and (changed := _coerce(layers[pos][1], str(edit[2]), edit[3])) is not None:
        layers[pos] = (uid, changed)


def _on_edit() -> None:
    apply_edit((st.session_state.get(state.AN_EDITOR) or {}).get("edit"))


def layer_editor(error: tuple[int, str] | None = None) -> None:
    """Draw the stack's rows (the error, if any, under its layer's row)."""
    _COMPONENT(
        key=state.AN_EDITOR,
        data=payload(st.session_state[state.AN_LAYERS], error),
        on_edit_change=_on_edit,
    )
