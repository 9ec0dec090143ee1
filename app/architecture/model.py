"""The Architecture page's model: the stack being edited, kept in the session, and its link.

The stack lives in ``st.session_state[state.AN_LAYERS]`` as ``(uid, LayerSpec)`` pairs, the one truth
the editor (:mod:`app.architecture.editor`) draws and changes. The browser keeps each row by its layer's
uid: a Load keeps every row's uid, so the browser updates the rows it has in place rather than building
them again, and moving a layer moves its row.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import streamlit as st

from app import state
from app.architecture import saved
from cnn_core import models
from cnn_core.models import DEFAULT_PRESET, LAYER_TYPES, PRESETS, LayerSpec, ModelConfig, Setting

# The editor's layer types, name -> the spec a new layer starts as (MaxPool and AvgPool are both PoolSpec).
DEFAULTS: dict[str, LayerSpec] = {
    name: spec for cls in LAYER_TYPES.values() for name, spec in cls.editor_variants().items()
}
TYPES = list(DEFAULTS)
NAME_PARAM = "name"  # the network's name in a link (only when the learner named it)
MAX_NAME = 60  # characters of a network's name
UNNAMED = "Custom network"  # the name of an edited network the learner has not named


def clean_name(text: object) -> str:
    """A name as typed or linked: printable characters only, spaces collapsed, at most MAX_NAME."""
    spaced = "".join(ch if ch.isprintable() else " " for ch in str(text))
    return " ".join(spaced.split())[:MAX_NAME]


def own_name(config: ModelConfig) -> str:
    """The name the learner gave ``config``; "" when it is just a preset's or the unnamed default."""
    name = clean_name(config.name)
    if name == UNNAMED or (name in PRESETS and PRESETS[name].layers == config.layers):
        return ""
    return name


def type_of(spec: LayerSpec) -> str:
    """The editor's type name of a spec."""
    return spec.editor_variant()


def clamp(value: object, lo: int, hi: int) -> int:
    """A link may hold values the widgets cannot show (stride 0): bring them into the widget's range."""
    try:
        return min(max(int(value), lo), hi)
    except (TypeError, ValueError):
        return lo


def shown_value(spec: LayerSpec, f: dataclasses.Field, s: Setting) -> Any:
    """The value the editor's widget shows for field ``f`` of ``spec``: brought into the widget's range, and
    among its choices (a link may hold values the widgets cannot show)."""
    value = getattr(spec, f.name)
    if s.choices is not None:
        if s.hi is not None and not isinstance(value, str):
            value = clamp(value, int(s.lo), int(s.hi))
        return value if value in s.choices else s.choices[0]
    if isinstance(f.default, float):  # a float widget (dropout's rate)
        return float(min(max(value, s.lo), s.hi))
    return clamp(value, int(s.lo), int(s.hi))


def load(config: ModelConfig) -> None:
    """Replace the edited stack and input shape by ``config``. Row i keeps the uid it had (new rows get fresh
    ones), so the browser keeps its rows and only their values change."""
    ss = st.session_state
    start = ss.get(state.AN_NEXT_UID, 0)
    kept = [uid for uid, _ in ss.get(state.AN_LAYERS, [])][: len(config.layers)]
    fresh = range(start, start + len(config.layers) - len(kept))
    ss[state.AN_LAYERS] = list(zip([*kept, *fresh], config.layers, strict=True))
    ss[state.AN_NEXT_UID] = start + len(fresh)
    c, h, w = config.input_shape
    ss[state.AN_IN_C] = clamp(c, 1, models.MAX_INPUT_CHANNELS)
    ss[state.AN_IN_H], ss[state.AN_IN_W] = clamp(h, 1, models.MAX_INPUT_SIDE), clamp(w, 1, models.MAX_INPUT_SIDE)
    ss[state.AN_INPUT_SHAPE] = (ss[state.AN_IN_C], ss[state.AN_IN_H], ss[state.AN_IN_W])


def init_state() -> None:
    """First run of a session: the network from the link if there is one, else the one kept in the
    learner's workspace, else the course MNIST CNN."""
    ss = st.session_state
    if state.AN_LAYERS in ss:
        # Widget values are dropped while another page is shown: put them back.
        for key, value in zip((state.AN_IN_C, state.AN_IN_H, state.AN_IN_W), ss[state.AN_INPUT_SHAPE], strict=True):
            ss.setdefault(key, value)
        ss.setdefault(state.AN_PRESET, ss.get(state.AN_PRESET_KEPT, DEFAULT_PRESET))
        ss.setdefault(state.AN_NAME, ss.get(state.AN_NAME_KEPT, ""))
        return
    config = PRESETS[DEFAULT_PRESET]
    params = st.query_params.to_dict()
    if "net" in params or "in" in params:
        try:
            config = models.from_query(params)
            if name := clean_name(params.get(NAME_PARAM, "")):
                config = ModelConfig(name, config.input_shape, config.layers)
        except ValueError as exc:
            ss[state.AN_LINK_ERROR] = f"{exc} Showing the course MNIST CNN instead."
        else:
            if (err := models.validate(config)) is not None:  # a layer's problem is said at the layer, not here
                what = f"{err}" if err.index < 0 else "what is wrong is said in an error message at the layer below."
                ss[state.AN_LINK_ERROR] = (
                    f"The network in the link does not work as it is: {what} Values the editor cannot show were "
                    "brought into its range."
                )
    elif (kept := saved.saved_network()) is not None:
        config = kept
    ss[state.AN_PRESET] = config.name if config.name in PRESETS else DEFAULT_PRESET
    load(config)
    ss[state.AN_NAME] = own_name(config)
    ss.pop(state.AN_KEPT, None)  # the first run's network is what the page opened with: no change


def load_preset() -> None:
    """Callback of the Load button: the preset, under its own name."""
    load(PRESETS[st.session_state[state.AN_PRESET]])
    st.session_state[state.AN_NAME] = ""


def move(uid: int, delta: int) -> None:
    """A layer's up / down button."""
    layers = st.session_state[state.AN_LAYERS]
    i = next(i for i, (u, _) in enumerate(layers) if u == uid)
    j = i + delta
    if 0 <= j < len(layers):
        layers[i], layers[j] = layers[j], layers[i]


def remove(uid: int) -> None:
    """A layer's remove button."""
    st.session_state[state.AN_LAYERS] = [(u, s) for u, s in st.session_state[state.AN_LAYERS] if u != uid]


def add() -> None:
    """Callback of Add layer: the type picked, inserted after the layer picked."""
    ss = st.session_state
    layers = ss[state.AN_LAYERS]
    pos = min(int(ss.get(state.AN_ADD_AFTER.format(n=len(layers)), len(layers))), len(layers))
    layers.insert(pos, (ss.get(state.AN_NEXT_UID, 0), DEFAULTS[ss[state.AN_ADD_TYPE]]))
    ss[state.AN_NEXT_UID] = ss.get(state.AN_NEXT_UID, 0) + 1


def current_config(layers: list[LayerSpec]) -> ModelConfig:
    """The edited network, under the name the learner gave it, else the preset's it equals (if any)."""
    ss = st.session_state
    shape = (int(ss[state.AN_IN_C]), int(ss[state.AN_IN_H]), int(ss[state.AN_IN_W]))
    ss[state.AN_INPUT_SHAPE] = shape
    ss[state.AN_PRESET_KEPT] = ss.get(state.AN_PRESET, DEFAULT_PRESET)
    ss[state.AN_NAME_KEPT] = name = clean_name(ss.get(state.AN_NAME, ""))
    if name:
        return ModelConfig(name, shape, tuple(layers))
    for preset in PRESETS.values():
        if preset.input_shape == shape and preset.layers == tuple(layers):
            return preset
    return ModelConfig(UNNAMED, shape, tuple(layers))


def publish_to_url(config: ModelConfig) -> None:
    """Keep the link in the address bar equal to the network on screen (its name included)."""
    wanted = models.to_query(config)
    if name := own_name(config):
        wanted[NAME_PARAM] = name
    elif NAME_PARAM in st.query_params:
        del st.query_params[NAME_PARAM]
    for k, v in wanted.items():
        if st.query_params.get(k) != v:
            st.query_params[k] = v
