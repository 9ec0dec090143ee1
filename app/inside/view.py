"""The model being looked at: a frozen copy of the session's model and its test-set answers, cached
in the session until the model finishes training or a fresh copy is asked for; and the status line."""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st
from torch import nn

from app import state
from app.trained import TrainedBundle
from cnn_core import inspection

MAX_TEST = 10_000  # test images the confusion matrix and mistakes use


@dataclass(eq=False)
class View:
    """A frozen moment of the session's model: an eval-mode CPU copy and its test-set answers."""

    bundle: TrainedBundle
    model: nn.Module
    preds: inspection.Predictions
    step: int | None  # training step when the copy was taken (None: unknown)
    version: tuple


def _last_step(bundle: TrainedBundle) -> int | None:
    steps = [getattr(e, "step", None) for e in list(bundle.events)]
    steps = [s for s in steps if s is not None]
    return steps[-1] if steps else None


def current_view(bundle: TrainedBundle) -> View:
    """The cached :class:`View`, renewed when the model finished training or a fresh copy was asked for."""
    version = (bundle.finished, st.session_state.get(state.IN_REFRESH, 0))
    view = st.session_state.get(state.IN_CACHE)
    if not isinstance(view, View) or view.bundle is not bundle or view.version != version:
        model, step = bundle.model_copy_and_step()
        preds = inspection.predict_test_set(model, bundle.data, n=MAX_TEST)
        view = View(bundle, model, preds, _last_step(bundle) if step is None else step, version)
        st.session_state[state.IN_CACHE] = view
    return view


def _refresh() -> None:
    st.session_state[state.IN_REFRESH] = st.session_state.get(state.IN_REFRESH, 0) + 1


def snapshot_note(bundle, n: int) -> str:
    """Why *Over time* may show another figure for the same model: its snapshots count fewer test images."""
    counts = {int(snap.confusion.sum()) for snap in bundle.snapshots_now()}
    fewer = sorted(c for c in counts if 0 < c < n)
    if not fewer:
        return ""
    return (
        f" (*Over time* measures each snapshot on the first {fewer[-1]:,} of them, so its figure for the same "
        "moment can differ a little.)"
    )


def status(view: View) -> None:
    """One line on which model this is; while it trains, which step the copy is from and a refresh button."""
    b = view.bundle
    note = st.session_state.pop(state.IN_DEMO_NOTE, None)
    if note:
        st.success(note, icon=":material/check_circle:")
    n = len(view.preds.y_true)
    line = (
        f"Model **{b.model_config.name}** on **{b.data.name}**: {view.preds.accuracy:.1%} of all {n:,} test images "
        f"classified correctly.{snapshot_note(b, n)}"
    )
    if b.finished:
        st.caption(line)
        return
    now = _last_step(b)
    st.info(
        f"{line} The model is still training (step {now if now is not None else 0} now); you are looking at a copy "
        f"taken at step {view.step if view.step is not None else 0}.",
        icon=":material/hourglass_top:",
    )
    st.button("Take a fresh copy of the model", key="in_refresh_btn", on_click=_refresh)
