"""Comparing any of the workspace's kept runs: their curves overlaid, and a table of settings against results.

Every run the student trained (on the Training page, or as an experiment's arm) is a
:class:`~app.workspace.RunRecord` with its settings and its curve (compact events, read back with
:func:`app.training.keep.decode_events`); nothing here writes to the workspace.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import pandas as pd
import streamlit as st

from app import layout, plots, state
from app.training.keep import decode_events
from app.training.runs_view import STATUS_WORDS, my_runs
from app.workspace import RunRecord
from cnn_core import training

METRICS = {
    "val_acc": ("Validation accuracy", "% correct", True),
    "train_acc": ("Training accuracy (batches)", "% correct", True),
    "val_loss": ("Validation loss", "cross-entropy", False),
    "train_loss": ("Training loss", "cross-entropy", False),
}
MAX_DEFAULT = 4  # runs picked at first: the newest ones


def _get(d: Any, *keys: str) -> Any:
    for k in keys:
        d = d.get(k) if isinstance(d, dict) else None
    return d


def augmentation_words(train: Any) -> str:
    parts = []
    if _get(train, "augment_flip"):
        parts.append("flips")
    if shift := _get(train, "augment_shift"):
        parts.append(f"shift ≤{shift} px")
    if rotate := _get(train, "augment_rotate"):
        parts.append(f"rotate ≤{rotate:g}°")
    return ", ".join(parts) or "none"


def _pct(x: Any) -> str:
    return f"{100 * x:.1f}%" if isinstance(x, int | float) else "–"


def settings_words(record: RunRecord) -> str:
    """A run's settings as one line that wraps: network, data, images, epochs, optimiser, lr, batch, weight decay,
    augmentation (one cell instead of nine columns, so the table fits a projector's half page)."""
    s, train = record.settings, _get(record.settings, "train")
    exp = _get(s, "experiment")
    images = (_get(exp, "n_train") if exp else None) or "all"
    wd = _get(train, "weight_decay")
    parts = [
        _get(s, "model", "name") or "–",
        _get(s, "dataset", "title") or "–",
        f"{images} training images",
        f"{_get(train, 'epochs') or '–'} epochs",
        f"{_get(train, 'optimizer') or '–'} lr {_get(train, 'lr') or '–'}",
        f"batch {_get(train, 'batch_size') or '–'}",
        f"weight decay {'–' if wd is None else wd}",
        f"augmentation: {augmentation_words(train)}",
    ]
    return " · ".join(str(p) for p in parts)


def settings_row(record: RunRecord) -> dict[str, Any]:
    """One run's settings and results, as the table shows them."""
    seconds = _get(record.summary, "seconds")
    return {
        "run": record.title,
        "when": dt.datetime.fromtimestamp(record.created).strftime("%d %b %H:%M"),
        "status": STATUS_WORDS.get(record.status, record.status),
        "settings": settings_words(record),
        "test acc.": _pct(_get(record.summary, "test_acc")),
        "last val. acc.": _pct(_get(record.summary, "val_acc")),
        "seconds": f"{seconds:.0f}" if isinstance(seconds, int | float) else "–",
    }


def settings_table(records: Sequence[RunRecord]) -> pd.DataFrame:
    frame = pd.DataFrame([settings_row(r) for r in records])
    return frame.astype(str)  # mixed numbers and dashes: one type per column


def curve(record: RunRecord, metric: str) -> tuple[list[float], list[float]]:
    """(epochs, values) of one metric from a kept run's evaluations."""
    evals = [e for e in decode_events(record.curve) if isinstance(e, training.EvalEvent)]
    return [e.epoch_fraction for e in evals], [float(getattr(e, metric)) for e in evals]


def section() -> None:
    runs = my_runs()
    if not runs:
        st.info("No runs kept yet. Train on the Training page, or run an experiment above: every run is kept here.")
        return
    by_id = {r.run_id: r for r in runs}
    if [i for i in st.session_state.get(state.EX_COMPARE, []) if i not in by_id]:
        st.session_state[state.EX_COMPARE] = [i for i in st.session_state[state.EX_COMPARE] if i in by_id]
    if state.EX_COMPARE not in st.session_state:
        st.session_state[state.EX_COMPARE] = [r.run_id for r in runs[:MAX_DEFAULT]]
    picked = st.multiselect(f"Runs to compare ({len(runs)} kept in your workspace)", list(by_id),
                            key=state.EX_COMPARE, format_func=lambda i: f"{by_id[i].title} · "
                            f"{dt.datetime.fromtimestamp(by_id[i].created):%d %b %H:%M}")  # fmt: skip
    if not picked:
        st.caption("Pick one or more runs.")
        return
    chosen = [by_id[i] for i in picked]
    metric = st.radio("Curve", list(METRICS), horizontal=True, key=state.EX_METRIC,
                      format_func=lambda m: METRICS[m][0])  # fmt: skip
    title, y_title, percent = METRICS[metric]
    xs, ys, labels = [], [], []
    for i, r in enumerate(chosen):
        x, y = curve(r, metric)
        if x:
            xs.append(x)
            ys.append(y)
            labels.append(f"{i + 1}. {r.title}")
    if labels:
        fig = plots.runs_overlay(labels, xs, ys, y_title=y_title, percent=percent)
        layout.chart(fig, key="ex_overlay")
    else:
        st.caption("None of these runs has reached its first evaluation yet.")
    st.table(settings_table(chosen), hide_index=True, border="horizontal")  # an HTML table: the settings wrap
    st.caption(f"{title} at each evaluation; the table's accuracies are at the end of each run.")
