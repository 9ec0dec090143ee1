"""Architecture page glue: the layer-stack editor, config <-> link, and the summary as a table.

The stack being edited lives in ``st.session_state[state.AN_LAYERS]`` as ``(uid, LayerSpec)`` pairs;
each layer's widgets are keyed by its uid, so moving a layer up or down keeps its settings. Every
number shown comes from :mod:`cnn_core.models` and :mod:`cnn_core.summary`.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app import state
from cnn_core import models
from cnn_core.models import (
    ACTIVATIONS,
    DEFAULT_PRESET,
    PRESETS,
    ActivationSpec,
    BatchNormSpec,
    Conv2dSpec,
    DenseSpec,
    DropoutSpec,
    FlattenSpec,
    GlobalAvgPoolSpec,
    LayerSpec,
    ModelConfig,
    PoolSpec,
)
from cnn_core.summary import SummaryTable, param_formula, summarize

DEFAULTS: dict[str, LayerSpec] = {
    "Conv2d": Conv2dSpec(),
    "MaxPool": PoolSpec("max", 2),
    "AvgPool": PoolSpec("avg", 2),
    "BatchNorm": BatchNormSpec(),
    "Dropout": DropoutSpec(0.5),
    "Flatten": FlattenSpec(),
    "GlobalAvgPool": GlobalAvgPoolSpec(),
    "Dense": DenseSpec(64),
    "Activation": ActivationSpec("relu"),
}
TYPES = list(DEFAULTS)
PADDINGS: list[str | int] = ["valid", "same", *range(1, 17)]
POOL_STRIDES: list[int | None] = [None, *range(1, 17)]
HELP = {
    "BatchNorm": "Normalises each channel over the batch, then scales by γ and shifts by β (learned).",
    "Flatten": "Lays the C×H×W feature map out as one long vector, so Dense layers can use it.",
    "GlobalAvgPool": "Replaces each channel's whole map by its average: C×H×W becomes C numbers.",
}


def type_of(spec: LayerSpec) -> str:
    """The editor's type name of a spec (MaxPool and AvgPool are both PoolSpec)."""
    if isinstance(spec, PoolSpec):
        return "MaxPool" if spec.kind == "max" else "AvgPool"
    return next(k for k, v in DEFAULTS.items() if type(v) is type(spec))


# --------------------------------------------------------------------------- state and callbacks


def load(config: ModelConfig) -> None:
    """Replace the edited stack and input shape by ``config`` (fresh uids: fresh widgets)."""
    ss = st.session_state
    start = ss.get(state.AN_NEXT_UID, 0)
    ss[state.AN_LAYERS] = [(start + i, spec) for i, spec in enumerate(config.layers)]
    ss[state.AN_NEXT_UID] = start + len(config.layers)
    c, h, w = config.input_shape
    ss["an_in_c"] = _clamp(c, 1, models.MAX_INPUT_CHANNELS)
    ss["an_in_h"], ss["an_in_w"] = _clamp(h, 1, models.MAX_INPUT_SIDE), _clamp(w, 1, models.MAX_INPUT_SIDE)
    ss[state.AN_INPUT_SHAPE] = (ss["an_in_c"], ss["an_in_h"], ss["an_in_w"])


def init_state() -> None:
    """First run of a session: the network from the link if there is one, else the course MNIST CNN."""
    ss = st.session_state
    if state.AN_LAYERS in ss:
        # Widget values are dropped while another page is shown: put them back.
        for key, value in zip(("an_in_c", "an_in_h", "an_in_w"), ss[state.AN_INPUT_SHAPE], strict=True):
            ss.setdefault(key, value)
        ss.setdefault("an_preset", ss.get(state.AN_PRESET, DEFAULT_PRESET))
        return
    config = PRESETS[DEFAULT_PRESET]
    params = st.query_params.to_dict()
    if "net" in params or "in" in params:
        try:
            config = models.from_query(params)
        except ValueError as exc:
            st.session_state[state.AN_LINK_ERROR] = f"{exc} Showing the course MNIST CNN instead."
        else:
            if (err := models.validate(config)) is not None:
                st.session_state[state.AN_LINK_ERROR] = (
                    f"The network in the link has a problem. {err} Values the editor cannot show were brought into "
                    "its range."
                )
    st.session_state["an_preset"] = config.name if config.name in PRESETS else DEFAULT_PRESET
    load(config)


def load_preset() -> None:
    """Callback of the Load button."""
    load(PRESETS[st.session_state["an_preset"]])


def _move(uid: int, delta: int) -> None:
    layers = st.session_state[state.AN_LAYERS]
    i = next(i for i, (u, _) in enumerate(layers) if u == uid)
    j = i + delta
    if 0 <= j < len(layers):
        layers[i], layers[j] = layers[j], layers[i]


def _remove(uid: int) -> None:
    st.session_state[state.AN_LAYERS] = [(u, s) for u, s in st.session_state[state.AN_LAYERS] if u != uid]


def _add() -> None:
    ss = st.session_state
    layers = ss[state.AN_LAYERS]
    pos = min(int(ss.get(f"an_add_after_{len(layers)}", len(layers))), len(layers))
    layers.insert(pos, (ss.get(state.AN_NEXT_UID, 0), DEFAULTS[ss["an_add_type"]]))
    ss[state.AN_NEXT_UID] = ss.get(state.AN_NEXT_UID, 0) + 1


def current_config(layers: list[LayerSpec]) -> ModelConfig:
    """The edited network, named after the preset it equals (if any)."""
    ss = st.session_state
    shape = (int(ss["an_in_c"]), int(ss["an_in_h"]), int(ss["an_in_w"]))
    ss[state.AN_INPUT_SHAPE] = shape
    ss[state.AN_PRESET] = ss.get("an_preset", DEFAULT_PRESET)
    for preset in PRESETS.values():
        if preset.input_shape == shape and preset.layers == tuple(layers):
            return preset
    return ModelConfig("Custom network", shape, tuple(layers))


def publish_to_url(config: ModelConfig) -> None:
    """Keep the link in the address bar equal to the network on screen."""
    for k, v in models.to_query(config).items():
        if st.query_params.get(k) != v:
            st.query_params[k] = v


# --------------------------------------------------------------------------- the editor


def _clamp(value: object, lo: int, hi: int) -> int:
    """A link may hold values the widgets cannot show (stride 0): bring them into the widget's range."""
    try:
        return min(max(int(value), lo), hi)
    except (TypeError, ValueError):
        return lo


def _act(col, key: str, value: str) -> str:
    names = list(ACTIVATIONS)
    return col.selectbox(
        "Activation",
        names,
        index=names.index(value) if value in names else 0,
        key=key,
        help="none: the layer's output is used as it is (the last Dense layer gives logits).",
    )


FIELD_WIDTHS = {  # widths of each type's setting widgets; every row's settings take 6.4 units in all
    "Conv2d": [1, 1, 1, 1.1, 1, 1.3],
    "MaxPool": [1, 1.4, 4.0],
    "AvgPool": [1, 1.4, 4.0],
    "Dropout": [1.2, 5.2],
    "Dense": [1.2, 1.3, 3.9],
    "Activation": [1.3, 5.1],
}


def layer_row(pos: int, uid: int, spec: LayerSpec, n: int) -> LayerSpec:
    """Widgets of one layer; returns the spec they describe."""
    kind = st.session_state.get(f"an_{uid}_type", type_of(spec))
    widths = FIELD_WIDTHS.get(kind, [6.4])
    cols = st.columns([0.35, 1.4, *widths, 0.45, 0.45, 0.45], vertical_alignment="bottom")
    buttons, cols = cols[-3:], cols[:-3]
    cols[0].markdown(f"**{pos + 1}.**")
    kind = cols[1].selectbox("Layer", TYPES, index=TYPES.index(type_of(spec)), key=f"an_{uid}_type")
    if kind != type_of(spec):
        spec = DEFAULTS[kind]
    k = f"an_{uid}_{kind}_"
    if isinstance(spec, Conv2dSpec):
        pad = spec.padding if isinstance(spec.padding, str) else _clamp(spec.padding, 0, 16)
        pad_i = PADDINGS.index(pad) if pad in PADDINGS else 0
        spec = Conv2dSpec(
            filters=cols[2].number_input(
                "Filters",
                1,
                4096,
                _clamp(spec.filters, 1, 4096),
                key=k + "filters",
                help="Number of kernels = output channels.",
            ),
            kernel=cols[3].number_input(
                "Kernel", 1, 64, _clamp(spec.kernel, 1, 64), key=k + "kernel", help="k×k kernel"
            ),
            stride=cols[4].number_input("Stride", 1, 16, _clamp(spec.stride, 1, 16), key=k + "stride"),
            padding=cols[5].selectbox(
                "Padding",
                PADDINGS,
                index=pad_i,
                key=k + "padding",
                help="valid: none; same: Keras' padding, output = ceil(input / stride); "
                "a number: that many zero cells on each side.",
            ),
            dilation=cols[6].number_input("Dilation", 1, 16, _clamp(spec.dilation, 1, 16), key=k + "dilation"),
            activation=_act(cols[7], k + "act", spec.activation),
        )
    elif isinstance(spec, PoolSpec):
        stride_i = POOL_STRIDES.index(spec.stride) if spec.stride in POOL_STRIDES else 0
        spec = PoolSpec(
            kind=spec.kind,
            size=cols[2].number_input(
                "Window", 1, 64, _clamp(spec.size, 1, 64), key=k + "size", help="size×size window"
            ),
            stride=cols[3].selectbox(
                "Stride",
                POOL_STRIDES,
                index=stride_i,
                key=k + "stride",
                format_func=lambda s: "= window" if s is None else str(s),
            ),
        )
    elif isinstance(spec, DropoutSpec):
        p = cols[2].number_input(
            "Drop rate p", 0.0, 0.95, float(min(max(spec.p, 0.0), 0.95)), 0.05, key=k + "p", format="%.2f"
        )
        spec = DropoutSpec(p=round(float(p), 4))
    elif isinstance(spec, DenseSpec):
        units = cols[2].number_input("Units", 1, 100_000, _clamp(spec.units, 1, 100_000), key=k + "units")
        spec = DenseSpec(units=units, activation=_act(cols[3], k + "act", spec.activation))
    elif isinstance(spec, ActivationSpec):
        spec = ActivationSpec(_act(cols[2], k + "act", spec.activation))
    else:
        cols[2].caption(HELP[kind])
    buttons[0].button(
        "",
        key=f"an_{uid}_up",
        on_click=_move,
        args=(uid, -1),
        disabled=pos == 0,
        icon=":material/arrow_upward:",
        help=f"Move layer {pos + 1} up",
    )
    buttons[1].button(
        "",
        key=f"an_{uid}_down",
        on_click=_move,
        args=(uid, 1),
        disabled=pos == n - 1,
        icon=":material/arrow_downward:",
        help=f"Move layer {pos + 1} down",
    )
    buttons[2].button(
        "",
        key=f"an_{uid}_remove",
        on_click=_remove,
        args=(uid,),
        icon=":material/delete:",
        help=f"Remove layer {pos + 1}",
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
    a, b, c = st.columns([1.4, 1.4, 3], vertical_alignment="bottom")
    a.selectbox("New layer", TYPES, key="an_add_type")
    b.number_input(
        "Insert after layer",
        0,
        len(layers),
        len(layers),
        key=f"an_add_after_{len(layers)}",
        help="0 puts the new layer first.",
    )
    c.button("Add layer", on_click=_add, icon=":material/add:", key="an_add")
    return specs, slots


# --------------------------------------------------------------------------- results


@st.cache_data(max_entries=32, show_spinner="Building the network and running one image through it…")
def summary_of(config: ModelConfig) -> SummaryTable:
    """Build the real nn.Module of ``config`` and summarise it (cached per config)."""
    return summarize(models.build(config), config.input_shape)


def _shape(shape: tuple[int, ...] | None, keras: bool) -> str:
    if shape is None:
        return ""
    if keras and len(shape) == 3:
        shape = (*shape[1:], shape[0])
    return " × ".join(str(v) for v in shape)


def _pair(v: tuple[int, int] | None) -> str:
    if v is None:
        return "—"
    return str(v[0]) if v[0] == v[1] else f"{v[0]}×{v[1]}"


def summary_frame(table: SummaryTable, plan: models.Plan, *, keras_shapes: bool = False) -> pd.DataFrame:
    """The table shown on the page: one row per torch module, then a totals row."""
    owner = {name: lp.index + 1 for lp in plan.layers for name in lp.module_names}
    records = []
    for r in table.rows:
        records.append({
            "#": owner.get(r.name, ""),
            "Layer (type)": f"{r.name} ({r.type})",
            "Output shape": _shape(r.output_shape, keras_shapes),
            "Params": r.total_params,
            "How the params are counted": param_formula(r.terms),
            "MACs": r.macs,
            "Memory (KiB)": round(r.activation_bytes / 1024, 1),
            "Receptive field": _pair(r.rf),
            "Jump": _pair(r.jump),
        })  # fmt: skip
    records.append({
        "#": "", "Layer (type)": "Total", "Output shape": "",
        "Params": table.total_params, "How the params are counted": "", "MACs": table.total_macs,
        "Memory (KiB)": round(table.activation_bytes / 1024, 1), "Receptive field": "", "Jump": "",
    })  # fmt: skip
    return pd.DataFrame.from_records(records).astype({"#": str})


def diagram_blocks(plan: models.Plan) -> list[tuple[str, str, tuple[int, ...]]]:
    """Input plus every layer that changes the shape, for :func:`app.plots.architecture_diagram`."""
    kinds = {Conv2dSpec: "conv", PoolSpec: "pool", FlattenSpec: "flatten", GlobalAvgPoolSpec: "gap",
             DenseSpec: "dense"}  # fmt: skip
    blocks = [("Input", "input", tuple(plan.config.input_shape))]
    for lp in plan.layers:
        kind = kinds.get(type(lp.spec))
        if kind is not None:
            label = {"conv": "Conv", "pool": type_of(lp.spec), "flatten": "Flatten", "gap": "GAP", "dense": "Dense"}
            blocks.append((f"{lp.index + 1}. {label[kind]}", kind, lp.out_shape))
    return blocks


def count_text(n: int) -> str:
    """Large counts short enough for a metric: 2,794,240 -> "2.79 M", 1,135,256,032 -> "1.14 G"."""
    for unit, size in (("G", 10**9), ("M", 10**6)):
        if n >= size:
            return f"{n / size:.2f} {unit}"
    return f"{n:,}"


def memory_text(n_bytes: int) -> str:
    """Bytes as KiB / MiB / GiB."""
    for unit, size in (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if n_bytes >= size:
            return f"{n_bytes / size:.1f} {unit}"
    return f"{n_bytes} B"


def shape_workings(plan: models.Plan) -> list[str]:
    """The output-height formula of every convolution and pooling layer, with its numbers."""
    return [
        f"Layer {lp.index + 1} ({models.describe_layer(lp.spec)}): {lp.working.formula()}"
        for lp in plan.layers
        if lp.working is not None
    ]
