"""Architecture: stack layers and read each layer's shape, parameters, MACs and receptive field."""

from dataclasses import replace

import streamlit as st

from app import architecture as an
from app import state
from app.layout import PROJECTOR_SCALE, chart, presenting
from app.plots.diagram import receptive_field_picture
from app.training import link as train_link
from cnn_core import models

st.title("Architecture")
st.write(
    "Build a network layer by layer, or load a famous one, and read the table that Keras' `model.summary()` "
    "prints, and more: every number below is measured on the real PyTorch model, and the parameter column "
    "shows the formula with your numbers in it."
)
an.init_state()


@st.fragment
def network() -> None:
    """Everything below the title: a Load, an edit or a table setting reruns this, not the page around it (the
    sidebar, the navigation), so the browser redraws the network's part only (issue #15)."""
    if link_error := st.session_state.pop(state.AN_LINK_ERROR, None):
        st.warning(link_error, icon=":material/link_off:")

    top = st.columns([3, 1], vertical_alignment="bottom")  # Load's own room: in a fifth of the row its label ran out
    # Picking a network changes nothing until Load: no rerun of the page (issue #15: one ran, the page faded, while
    # the learner reached for Load, and Load waited for it).
    top[0].selectbox("Start from a famous network", list(models.PRESETS), key=state.AN_PRESET, on_change="ignore")
    top[1].button("Load", key="an_load", on_click=an.load_preset, type="primary", icon=":material/download:")
    dims = st.columns([1, 1, 1, 2], vertical_alignment="bottom")
    dims[0].number_input("Input channels", 1, models.MAX_INPUT_CHANNELS, key=state.AN_IN_C, help="1 for gray, 3 for RGB.")
    dims[1].number_input("Input height", 1, models.MAX_INPUT_SIDE, key=state.AN_IN_H)
    dims[2].number_input("Input width", 1, models.MAX_INPUT_SIDE, key=state.AN_IN_W)
    with dims[3]:
        an.name_widget()
    about = st.empty()

    st.session_state[state.AN_LAYERS] = layers = [(uid, an.shown(spec)) for uid, spec in st.session_state[state.AN_LAYERS]]
    config = an.current_config([spec for _, spec in layers])
    if config.name in models.PRESET_NOTES:
        about.caption(f"**{config.name}.** {models.PRESET_NOTES[config.name]}")
    else:
        about.caption(
            "**Your own network** (edited, or opened from a link). Pick a famous network above and press **Load** "
            "to start again from it."
        )
    an.publish_to_url(config)
    error = models.validate(config)
    an.keep_network(config, valid=error is None)

    st.subheader("Layers")
    with st.container(height=560 if len(layers) > 9 else "content", border=len(layers) > 9):
        # the error is said once, at the layer to change (issue #13 saw it three times)
        an.layer_editor((error.index, str(error)) if error is not None and error.index >= 0 else None)
        an.add_controls()

    st.subheader(f"Summary: {config.name}")
    if error is None:
        if config.layers:
            st.session_state[state.AN_MODEL_CONFIG] = config
        shown = config
    else:
        shown = replace(config, layers=config.layers[: max(error.index, 0)])
        if error.index < 0:
            st.error(str(error), icon=":material/block:")
        if error.index < 1:
            st.caption("Nothing to summarise until the first layer fits: do what the error message at that layer says.")
            return
        st.caption(f"The table and diagram below show layers 1–{error.index}, the part of the stack that works. "
                   f"Layer {error.index + 1} has an error message above: change it, or remove it, to see the rest.")  # fmt: skip
    if not shown.layers:
        return

    plan = models.plan(shown)
    table = an.summary_of(shown)
    row = st.container(horizontal=True, gap="medium")  # a wrapping row: in five columns a projector ran "Parameters"
    for label, value, tip in an.metrics(table):  # over "MACs"; as wide as "62,378,344" at the metric's size
        row.metric(label, value, help=tip, width=240 if presenting() else 200)
    if table.running_values:
        st.info(
            f"Keras' summary of this network would print **Total params: {table.keras_total_params:,}** with "
            f"{table.running_values:,} non-trainable. The difference is batch normalisation: besides its learned "
            "scale γ and shift β, it keeps a running mean and variance per channel (2 numbers per channel, "
            f"{table.running_values:,} here). Keras lists them as non-trainable parameters; PyTorch stores them as "
            "buffers, saved with the model but not parameters, because no gradient ever changes them.",
            icon=":material/balance:",
        )

    keras_order = st.toggle(
        "Show shapes in Keras order (H × W × C)",
        key="an_keras_order",
        help="PyTorch stores a feature map as C × H × W, Keras as H × W × C. Same numbers.",
    )
    frame = an.summary_frame(table, plan, keras_shapes=keras_order)
    # An HTML table that wraps its cells (st.dataframe's canvas scrolled sideways at 1024 presenting), a group of
    # columns at a time: all of them fit a wide screen only.
    group = st.radio("Columns", list(an.COLUMN_GROUPS), horizontal=True, key="an_columns")
    st.container(key="an_table").table(an.summary_styler(an.columns_of(frame, group)), hide_index=True)
    st.caption("Params: the numbers a layer learns. MACs: multiply-accumulates for one image. Memory: the output's "
               "values × 4 bytes (float32). Receptive field: the input pixels one output cell depends on (per side). "
               "Jump: the input pixels between two neighbouring output cells.")  # fmt: skip

    st.html(an.diagram_of(plan, scale=PROJECTOR_SCALE if presenting() else 1.0), width="stretch")  # sized for a projector
    st.caption(
        "Each box is a feature map: its height follows H, its depth W and its thickness the number of channels "
        "(sizes compressed so that big and small maps fit). Thin bars are flat vectors; point at a box or bar for its "
        "shape. An inception module's branches stand side by side before their maps are stacked; a dotted arc is a "
        "residual block's shortcut, added to what the block computes: F(x) + x."
    )
    if (saving := an.bottlenecks(plan)) is not None:
        st.markdown("**What the 1×1 bottlenecks save.** Each inception module's 3×3 and k×k branches, with their 1×1 "
                    "reductions and, for comparison, applied straight to all the input channels (plain convolutions "
                    "with a bias each):")  # fmt: skip
        st.container(key="an_bottlenecks").table(an.bottleneck_styler(saving), hide_index=True)
    rf_box = st.expander("The receptive field on a picture, layer by layer", key="an_rf_open", on_change="rerun")
    if rf_box.open:  # worked out only while open: a closed expander costs the run nothing
        with rf_box:
            st.caption("Each rectangle: the input pixels that the unit at the centre of that layer's map depends on.")
            chart(receptive_field_picture(*an.receptive_fields(plan)), key="an_rf")

    how_box = st.expander("How each number is computed", key="an_how_open", on_change="rerun")
    if how_box.open:
        with how_box:
            st.markdown(an.HOW_COMPUTED)
            st.markdown("**The output-height formula of each convolution and pooling layer, with its numbers:**")
            workings = "\n".join(an.shape_workings(plan)) or "(no convolution or pooling layers)"
            st.code(workings, language=None, wrap_lines=True)

    st.subheader("PyTorch code" if error is None else f"PyTorch code of layers 1–{error.index}")
    st.code(an.code_of(shown), language="python")
    if error is None:
        if config.num_classes is None:
            st.caption("This network does not end with a Dense layer, so it gives no class scores to train on.")
        elif isinstance(config.layers[-1], models.DenseSpec) and config.layers[-1].activation != "none":
            st.caption(
                "The last Dense layer has an activation. For classification it should be *none*: it gives raw "
                "scores (logits) and the loss applies softmax."
            )
        st.page_link("app_pages/training.py", label="Train this network on the Training page", icon=":material/school:",
                     query_params=train_link.from_architecture(config))  # fmt: skip


network()
