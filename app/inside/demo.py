"""The quick demo of "Inside the model": a small CNN trained for at most 20 s on bundled MNIST.

On the page the demo trains like any run, through :mod:`app.training`'s registry (a server slot,
its own training process), and never holds up the script run: a fragment that refreshes itself
shows the run's progress from its events, stamps the session's heartbeat, and reruns the page
once the run is over. :func:`train_demo` trains in this thread instead, for tests and notebooks.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st
import torch

from app import state
from app import training as tr
from app.jobs import Job, watch
from app.trained import TrainedBundle
from cnn_core import data as datasets
from cnn_core import models, training

DEMO_CONFIG = models.ModelConfig(
    "Quick demo CNN",
    (1, 28, 28),
    (
        models.Conv2dSpec(16, 3, padding="same"),
        models.PoolSpec("max", 2),
        models.Conv2dSpec(32, 3, padding="same"),
        models.PoolSpec("max", 2),
        models.FlattenSpec(),
        models.DenseSpec(10, "none"),
    ),
)
DEMO_SECONDS = 20.0
# A constant learning rate: a schedule planned for whole epochs would be cut short by the time limit.
DEMO_TRAIN = training.TrainConfig(
    epochs=2, lr=3e-3, schedule="none", max_seconds=DEMO_SECONDS, evals_per_epoch=2, eval_samples=1000
)
PROGRESS_EVERY_S = 0.5  # how often the progress bar reads the run's events


def train_demo(*, data: datasets.ImageSet | None = None, config: training.TrainConfig = DEMO_TRAIN) -> TrainedBundle:
    """Train :data:`DEMO_CONFIG` here, in this thread (tests and notebooks; the page uses the registry).

    Bundled MNIST unless ``data`` is given, for at most ``config.max_seconds``. Snapshots are taken
    before training and at every evaluation, so "Over time" has something to replay.
    """
    data = data if data is not None else datasets.load_bundled("mnist")
    torch.manual_seed(config.seed)
    model = models.build(DEMO_CONFIG)
    bundle = TrainedBundle(model=model, model_config=DEMO_CONFIG, data=data, train_config=config)
    messages = watch(model, data, config, snapshots="eval", weights=False, checkpoint_every_s=0)
    for _ in tr.follow(bundle, messages):
        pass
    return bundle


@dataclass(frozen=True, eq=False)
class DemoRun:
    """The quick demo's run: its job, and the bundle it trains (the session's model while it is the demo's)."""

    job: Job
    bundle: TrainedBundle


def _outcome(job: Job) -> training.RunFinished | None:
    """The run's end when it trained to one (stopped or out of time counts); None when it failed."""
    events = job.events()
    fin = events[-1] if events else None
    return fin if job.status != "failed" and isinstance(fin, training.RunFinished) else None


def demo_pending() -> bool:
    """Whether the page shows the demo panel instead of a model: the demo is training, or it failed.

    A demo that has finished leaves its note for the status line (:data:`state.IN_DEMO_NOTE`) and
    is forgotten; so is one whose model is no longer the session's (a run started since).
    """
    demo: DemoRun | None = st.session_state.get(state.IN_DEMO_RUN)
    if demo is None:
        return False
    if st.session_state.get(state.TR_BUNDLE) is not demo.bundle:
        del st.session_state[state.IN_DEMO_RUN]
        return False
    if demo.job.active:
        return True
    fin = _outcome(demo.job)
    if fin is None:
        return True  # the panel says why and offers another try
    st.session_state[state.IN_DEMO_NOTE] = (
        f"Trained the quick demo CNN (two convolutions with 16 and 32 kernels of 3x3) for {fin.step} steps "
        f"({fin.epoch_fraction:.1f} epochs, {fin.train_s:.0f} s): {fin.message}"
    )
    del st.session_state[state.IN_DEMO_RUN]
    return False


def no_model_panel() -> None:
    """What the page shows when this session has no model: where to get one, and a quick demo."""
    st.info(
        "There is no model in this session yet. Train one on the **Training** page, or train a small demo "
        f"network here on the bundled MNIST digits (its training stops after {DEMO_TRAIN.max_seconds:.0f} s at most; "
        "waiting for a free training slot comes on top).",
        icon=":material/model_training:",
    )
    st.page_link("app_pages/training.py", label="Go to the Training page", icon=":material/model_training:")
    demo: DemoRun | None = st.session_state.get(state.IN_DEMO_RUN)
    running = demo is not None and demo.job.active
    if st.button(f"Train a quick demo model (up to {DEMO_TRAIN.max_seconds:.0f} s)", key="in_demo", type="primary",
                 disabled=running):  # fmt: skip
        if _start():
            st.rerun()  # drawn again with the button disabled and the progress bar
    if demo is None:
        return
    if demo.job.active:
        _progress(demo.job)
    else:
        st.error(demo.job.error or "The demo training did not finish.", icon=":material/error:")


def _start() -> bool:
    """Queue the demo like any run (a server slot, a training process); False (with a message) when it cannot."""
    try:
        job = tr.start_run(
            DEMO_CONFIG, tr.shared_dataset("bundled", "mnist"), DEMO_TRAIN, label="Quick demo", snapshots="eval"
        )
    except RuntimeError as err:  # this session already has a run going
        st.error(str(err))
        return False
    st.session_state[state.IN_DEMO_RUN] = DemoRun(job, st.session_state[state.TR_BUNDLE])
    return True


@st.fragment(run_every=PROGRESS_EVERY_S)
def _progress(job: Job) -> None:
    """The demo's progress bar, redrawn from the job's events on a timer; the page reruns when the run ends."""
    if not job.active:
        st.rerun()  # the page now shows the trained model, or why the run failed
    job.mark_seen()  # drawing the run is this session's heartbeat (see app.jobs)
    events = job.events()
    start = next((e for e in events if isinstance(e, training.RunStarted)), None)
    step = next((e for e in reversed(events) if isinstance(e, training.StepEvent)), None)
    if job.status == "queued":
        position = tr.registry().queue_position(job)
        st.progress(0.0, text=f"Waiting for a free training slot (number {position or 1} in the queue) …")
    elif step is None or start is None:
        st.progress(0.0, text="Starting the training process …")
    else:
        limit = DEMO_TRAIN.max_seconds or float("inf")
        done = min(max(step.step / start.total_steps, step.train_s / limit), 1.0)
        st.progress(done, text=f"Step {step.step}, loss {step.loss:.3f}")
