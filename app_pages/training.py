"""Training: pick data and a network, train it live, stop any time; every run is kept in the
workspace (load or delete an earlier one, resume one a restart interrupted); the link holds the view."""

import streamlit as st

from app import state
from app import training as tr
from app.training import link, live, runs_view, transfer_view
from app.training.settings import architecture_network
from cnn_core import models
from cnn_core.summary import summarize

st.title("Training")
st.write(
    "Training shows a network thousands of labelled images. After each small **batch** it measures how wrong it "
    "was (the **loss**) and nudges every weight a little in the direction that would have made it less wrong. "
    "Watch the loss fall and the accuracy rise; the **validation** curves use images the network never trains on."
)

rules = tr.class_settings()
tr.restore_session()  # a reload or a new tab: the running job, or the workspace's latest model
link.seed_from_link(rules)
for key in (state.TR_LINK_ERROR, state.TR_NOTE):
    if note := st.session_state.pop(key, None):
        st.warning(note, icon=":material/link_off:" if key == state.TR_LINK_ERROR else ":material/cloud_off:")
job = st.session_state.get(state.TR_JOB)
active = job is not None and job.active
runs = runs_view.my_runs()
runs_view.interrupted_panel(runs, active)

st.subheader("1. Data")
data = tr.dataset_widget(rules)
if data is None:
    st.stop()
shape = "x".join(map(str, data.input_shape))
st.caption(
    f"{data.name}: {len(data.y_train):,} training and {len(data.y_test):,} test images of {shape} (C x H x W), "
    f"{data.num_classes} classes. {' '.join(data.notes)}"
)
with st.expander("Look at the data", expanded=False):
    for name, pics in tr.sample_rows(data):  # the class name above its row: under 56 px images it broke
        st.caption(name)
        st.image(pics, width=56)
    st.dataframe(tr.class_counts(data), hide_index=True)

st.subheader("2. Network")
choice = st.selectbox("Network", tr.model_options(), key=state.TR_MODEL)
st.caption(models.PRESET_NOTES.get(choice, "The network you built on the Architecture page."))
try:
    model_cfg = tr.model_for(choice, data)
except ValueError as err:
    st.error(f"{err} Pick another network or change it on the Architecture page.", icon=":material/block:")
    st.stop()
n_params = summarize(models.build(model_cfg), model_cfg.input_shape).total_params
st.caption(f"Fitted to this data: input {shape}, {data.num_classes} outputs, {n_params:,} parameters.")

st.subheader("3. Settings")
try:
    cfg = tr.settings_widget(data, rules.max_epochs)
except ValueError as err:
    st.error(str(err))
    st.stop()
link.publish(
    link.to_query(
        st.session_state[state.TR_SOURCE],
        choice,
        cfg,
        architecture_network(),
        flip_default=data.input_shape[0] == 3,
    )
)

st.subheader("4. Train")
reg = tr.registry()
buttons = st.container(horizontal=True, gap="small")  # each button as wide as its label (columns cut it)
if buttons.button("Start training", type="primary", disabled=active, key=state.TR_START, icon=":material/play_arrow:"):
    try:
        tr.start_run(model_cfg, data, cfg)
    except RuntimeError as err:
        st.error(str(err))
    else:
        st.rerun()  # redraw with Start disabled and Stop enabled
if buttons.button("Stop", disabled=not active, key=state.TR_STOP, icon=":material/stop:"):
    reg.stop(job)
live.counts()
live.panel(active, live.start_hint(len(data.y_train), cfg))

bundle = st.session_state.get(state.TR_BUNDLE)
if bundle is not None and not active:
    st.subheader("5. Keep the result")
    keep = st.container(horizontal=True, gap="small")  # as wide as their labels
    history = tr.history_frame(bundle.events)
    keep.download_button(
        "History (CSV)", history.to_csv(index=False), "training_history.csv", "text/csv", icon=":material/table:"
    )
    keep.download_button(
        "Model (.pt)",
        lambda: tr.model_file(bundle),
        "convlab_model.pt",
        "application/octet-stream",
        icon=":material/download:",
    )
    keep.page_link("app_pages/inside.py", label="Look inside the model", icon=":material/visibility:")
runs_view.runs_panel(runs, active)
if rules.uploads:  # the instructor can switch uploads off
    tr.load_panel(data)
transfer_view.section(rules)
