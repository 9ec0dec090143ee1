"""Training: pick data and a network, train it live, stop any time, save and load the result."""

import streamlit as st

from app import plots, state
from app import training as tr
from cnn_core import models, training
from cnn_core.summary import summarize

st.title("Training")
st.write(
    "Training shows a network thousands of labelled images. After each small **batch** it measures how wrong it "
    "was (the **loss**) and nudges every weight a little in the direction that would have made it less wrong. "
    "Watch the loss fall and the accuracy rise; the **validation** curves use images the network never trains on."
)

st.subheader("1. Data")
data = tr.dataset_widget()
if data is None:
    st.stop()
shape = "x".join(map(str, data.input_shape))
st.caption(
    f"{data.name}: {len(data.y_train):,} training and {len(data.y_test):,} test images of {shape} (C x H x W), "
    f"{data.num_classes} classes. {' '.join(data.notes)}"
)
with st.expander("Look at the data", expanded=False):
    pics, labels = tr.sample_grid(data)
    st.image(list(pics), caption=labels, width=56)
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
    cfg = tr.settings_widget(data)
except ValueError as err:
    st.error(str(err))
    st.stop()

st.subheader("4. Train")
reg = tr.registry()
job = st.session_state.get(state.TR_JOB)
active = job is not None and job.active
b1, b2, b3 = st.columns([1, 1, 3])
if b1.button("Start training", type="primary", disabled=active, key=state.TR_START, icon=":material/play_arrow:"):
    try:
        tr.start_run(model_cfg, data, cfg)
    except RuntimeError as err:
        st.error(str(err))
    else:
        st.rerun()  # redraw with Start disabled and Stop enabled
if b2.button("Stop", disabled=not active, key=state.TR_STOP, icon=":material/stop:"):
    reg.stop(job)
b3.caption(f"This server trains {reg.slots} run(s) at a time; {reg.running_count} running, {reg.queued_count} waiting.")


@st.fragment(run_every=2.0 if active else None)  # every 2 s: cheap for a shared server
def live() -> None:
    job = st.session_state.get(state.TR_JOB)
    if job is None:
        st.info("Press **Start training**. The default settings reach about 98–99% on the MNIST subset in a minute.")
        return
    job.mark_seen()  # the heartbeat: this tab is open (app.jobs stops runs whose tab has closed)
    events = job.events()
    started = next((e for e in events if isinstance(e, training.RunStarted)), None)
    steps = [e for e in events if isinstance(e, training.StepEvent)]
    evals = [e for e in events if isinstance(e, training.EvalEvent)]
    finished = next((e for e in events if isinstance(e, training.RunFinished)), None)
    if job.status == "queued":
        st.info(f"Waiting for a free training slot: you are number {reg.queue_position(job) or 1} in the queue.")
    elif job.active and started is None:
        st.progress(0.0, text="Starting the training process …")
    if started is not None:
        done = steps[-1] if steps else None
        frac = (done.step / started.total_steps) if done else 0.0
        text = "Starting…"
        if done:
            text = (
                f"Epoch {done.epoch}/{started.epochs} · step {done.step:,}/{started.total_steps:,} · "
                f"{done.elapsed_s:.0f} s elapsed · about {done.eta_s:.0f} s left · {done.samples_per_s:,.0f} images/s"
            )
        if finished is not None:
            frac = finished.step / started.total_steps
            text = (
                f"Ended after step {finished.step:,} of {started.total_steps:,} (epoch {finished.epoch_fraction:.2f}) "
                f"· {finished.train_s:.0f} s of training"
            )
        st.progress(min(frac, 1.0), text=text)
        st.caption(f"Running on {started.device} ({started.precision}, {started.threads} CPU threads).")
        st.plotly_chart(plots.training_curves(steps, evals, total_epochs=started.epochs), key="tr_curves")
    if finished is not None:
        message = {"completed": st.success, "stopped": st.info, "time_limit": st.info}.get(finished.reason, st.error)
        message(finished.message)
        if tr.keep_earlier_model_after_blow_up(finished):
            st.info("Your model from before this run is kept: it is still the one 'Inside the model' shows.")
    if job.error:
        st.error(job.error)
    if st.session_state.get(state.TR_WAS_ACTIVE) and not job.active:
        st.session_state[state.TR_WAS_ACTIVE] = False
        st.rerun()  # the run ended: redraw the whole page (buttons, downloads) once
    st.session_state[state.TR_WAS_ACTIVE] = job.active


live()

bundle = st.session_state.get(state.TR_BUNDLE)
if bundle is not None and not active:
    st.subheader("5. Keep the result")
    c1, c2, c3 = st.columns(3)
    history = tr.history_frame(bundle.events)
    c1.download_button(
        "History (CSV)", history.to_csv(index=False), "training_history.csv", "text/csv", icon=":material/table:"
    )
    c2.download_button(
        "Model (.pt)",
        lambda: tr.model_file(bundle),
        "convlab_model.pt",
        "application/octet-stream",
        icon=":material/download:",
    )
    c3.page_link("app_pages/inside.py", label="Look inside the model", icon=":material/visibility:")
with st.expander("Load a saved model"):
    st.caption("A .pt file saved from this page. It is read as weights only: files carrying code are refused.")
    up = st.file_uploader("Model file", type=["pt"], key=state.TR_LOAD)
    if up is not None and st.button("Load it", key=state.TR_LOAD_GO):
        if up.size > tr.MAX_MODEL_BYTES:
            st.error(
                f"{up.name} is {up.size / 1e6:.0f} MB; model files are limited to {tr.MAX_MODEL_BYTES // 1_000_000} MB."
            )
            st.stop()
        try:
            st.session_state[state.TR_BUNDLE] = tr.load_model_file(up.getvalue(), data)
            st.success(f"Loaded {up.name}. It is now this session's model.")
        except (training.ModelFileError, ValueError, TypeError) as err:
            st.error(f"{up.name}: {err}")
