"""The model being looked at: a frozen copy of the session's model and its test-set answers, cached
in the session until the model finishes training or a fresh copy is asked for; what the sections
computed from that copy (:func:`remember`); and the status line."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import TypeVar

import streamlit as st
from torch import nn

from app import state
from app.trained import TrainedBundle
from cnn_core import inspection

MAX_TEST = 10_000  # test images the confusion matrix and mistakes use
MEMO_ENTRIES = 32  # figures, tables and pictures a view keeps, least recently used out first (~3 MB at most)
T = TypeVar("T")


@dataclass(eq=False)
class View:
    """A frozen moment of the session's model: an eval-mode CPU copy and its test-set answers."""

    bundle: TrainedBundle
    model: nn.Module
    preds: inspection.Predictions
    step: int | None  # training step when the copy was taken (None: unknown)
    version: tuple
    memo: dict = field(default_factory=dict, repr=False)  # key -> what a section made from this copy


def remember(view: View, key: Hashable, make: Callable[[], T]) -> T:
    """What ``make()`` returns, made once per view (one copy of the model) and ``key``.

    The sections keep their figures, tables and encoded pictures here, so a return to a tab or a
    rerun of one rebuilds nothing whose inputs did not change; a new copy of the model starts an
    empty memo. Callers must not change what they get back (figures are copied before restyling).
    """
    memo = view.memo
    if key in memo:
        memo[key] = memo.pop(key)  # the most recently used last
        return memo[key]
    value = make()
    memo[key] = value
    while len(memo) > MEMO_ENTRIES:
        memo.pop(next(iter(memo)))
    return value


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
