"""Sections on how the model does on the test set: accuracy and kernels over a run's snapshots,
the confusion matrix whose cells open their images (precision, recall and F1 per class beside it), and the
most confident mistakes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from app import layout, plots, state
from app.inside.common import download_csv, download_png, gallery
from app.inside.confusion_grid import confusion_grid, fixed_confusion_grid
from app.inside.view import View, remember
from app.pictures import confusion_png
from cnn_core import inspection


def _snap_label(s: inspection.Snapshot) -> str:
    return "before training" if s.step == 0 else f"epoch {s.epoch}, step {s.step}"


def snapshots_section(view: View) -> None:
    snaps: dict[int, inspection.Snapshot] = {}
    for s in view.bundle.snapshots_now():
        snaps[s.step] = s  # the last one taken at a step wins
    items = [snaps[k] for k in sorted(snaps)]
    if not items:
        st.info("No snapshots yet: a training run records the first-layer kernels and the confusion matrix "
                "after every epoch, and they appear here.")  # fmt: skip
        return
    labels = [_snap_label(s) for s in items]
    if st.session_state.get(state.IN_SNAP) not in labels:
        st.session_state[state.IN_SNAP] = labels[-1]
    if len(items) > 1:
        chosen = st.select_slider("Moment of training", labels, key=state.IN_SNAP)
    else:
        chosen = labels[0]
        st.caption("Only one snapshot so far; more appear as training goes on.")
    i = labels.index(chosen)
    s = items[i]
    moments = tuple((x.step, x.epoch, x.val_acc) for x in items)  # the snapshots these figures are drawn from
    acc_fig, k_fig = remember(view, ("over time", moments, i), lambda: _moment_figures(items, labels, i))
    layout.chart(acc_fig, key="in_snap_acc")
    n, total = int(s.confusion.sum()), len(view.bundle.data.y_test)
    counted = f"the first {n:,} of the {total:,} test images" if n < total else f"all {n:,} test images"
    st.markdown(f"At **{chosen}**: {s.val_acc:.1%} of {counted} right.")
    # Stacked, full width: side by side, the small matrix's numbers overlapped (and more so on a projector).
    st.markdown("**First-layer kernels** (one colour scale for all moments)")
    if k_fig is not None:
        layout.chart(k_fig, key="in_snap_k", width="content")
    st.markdown("**Confusion matrix** (share of each true class)")
    fixed_confusion_grid(s.confusion, view.bundle.data.classes, key="in_snap_cm")
    frame = pd.DataFrame({"moment": labels, "epoch": [x.epoch for x in items], "step": [x.step for x in items],
                          "accuracy": [round(x.val_acc, 4) for x in items]})  # fmt: skip
    download_csv("CSV of accuracy over time", frame, "accuracy_over_time.csv", key="in_snap_csv")


def _moment_figures(items: list[inspection.Snapshot], labels: list[str], i: int) -> tuple:
    """(accuracy over time, first-layer kernels or None) at snapshot ``i``."""
    s = items[i]
    acc = plots.accuracy_over_time(labels, [x.val_acc for x in items], i)
    kernels = None
    if s.first_kernels.size:
        k2 = inspection.gray_kernels(s.first_kernels)  # (O, kh, kw)
        top = inspection.kernel_range(items)
        t = inspection.tile(k2, cols=8)
        kernels = plots.tiled_maps(t.values, t.values, t.index, diverging=True, zrange=(-top, top), name="kernel",
                                   max_width_px=420, max_cell_px=24)  # fmt: skip
    return acc, kernels


def _confusion(view: View) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    """(counts, row shares, per-class scores) of the view's test-set answers."""
    preds, classes = view.preds, view.bundle.data.classes
    cm = inspection.confusion_matrix(preds.y_true, preds.y_pred, len(classes))
    rep = inspection.class_report(cm)
    table = pd.DataFrame({"class": list(classes), "precision": rep.precision.round(3), "recall": rep.recall.round(3),
                          "F1": rep.f1.round(3), "test images": rep.support})  # fmt: skip
    return cm, inspection.row_normalise(cm), table


def _scores_styler(table: pd.DataFrame):
    """The per-class scores as the HTML table shows them: three decimals, "n/a" where a class was never
    predicted or never present (an HTML table: the data grid's canvas and its code cost a tab visit more)."""
    return table.style.format({"precision": "{:.3f}", "recall": "{:.3f}", "F1": "{:.3f}"}, na_rep="n/a")


def confusion_section(view: View) -> None:
    data, preds = view.bundle.data, view.preds
    classes, k = data.classes, data.num_classes
    cm, share, table = remember(view, ("confusion",), lambda: _confusion(view))
    st.write(
        f"Each row is a true class, each column what the model answered, on {len(preds.y_true):,} test images it "
        "never trained on. The diagonal holds the right answers; everything else is a confusion."
    )
    if state.IN_CM_TRUE not in st.session_state:  # start on the most common confusion
        st.session_state[state.IN_CM_TRUE], st.session_state[state.IN_CM_PRED] = inspection.most_confused(cm)
    mode = st.radio("Show", ["counts", "share"], horizontal=True, key="in_cm_mode",
                    format_func={"counts": "Counts", "share": "Share of each true class (row-normalised)"}.get)  # fmt: skip
    sel = (int(st.session_state[state.IN_CM_TRUE]), int(st.session_state[state.IN_CM_PRED]))
    # The per-class scores beside the matrix they are read from; under it on a projector, where it needs the width.
    chart, scores = (st.container(), st.container()) if layout.presenting() else st.columns([3, 2])
    with chart:
        confusion_grid(cm, classes, normalised=mode == "share", selected=sel)
    with scores:
        st.markdown("**Per class**")
        st.table(remember(view, ("per class",), lambda: _scores_styler(table)), hide_index=True)
        st.caption(
            "**Precision**: of the images the model called this class, the share that really were (the "
            "diagonal cell over its column). **Recall**: of the images that really are this class, the share "
            "the model found (over its row). **F1**: their harmonic mean, high only when both are."
        )
    st.caption("Click a cell, or choose the two classes below, to see the test images behind it.")
    a, b = st.columns(2)
    t = a.selectbox("True class", range(k), format_func=lambda i: classes[i], key=state.IN_CM_TRUE)
    p = b.selectbox("Predicted as", range(k), format_func=lambda i: classes[i], key=state.IN_CM_PRED)
    idx = remember(view, ("cell", t, p), lambda: inspection.cell_examples(preds, t, p))
    what = "correctly classified" if t == p else f"predicted as **{classes[p]}**"
    st.markdown(
        f"**{len(idx)}** test images of **{classes[t]}** were {what}"
        + (" (most confident first):" if len(idx) else ".")
    )
    shown = idx[:24]
    if len(shown):
        st.caption("Under each image: its number in the test set and how sure the model was of its answer.")
    gallery(view, shown, [f"#{i} · {preds.confidence[i]:.0%}" for i in shown])

    c1, c2, c3 = st.columns(3)
    with c1:
        download_csv("Per-class CSV", table, "per_class.csv", key="in_cm_csv")
    with c2:
        cm_frame = pd.DataFrame(cm, index=list(classes), columns=list(classes)).reset_index(names="true \\ predicted")
        download_csv("Confusion matrix CSV", cm_frame, "confusion_matrix.csv", key="in_cm_csv2")
    with c3:
        download_png("Confusion matrix PNG", lambda: confusion_png(cm, share, classes), "confusion_matrix.png",
                     "in_cm_png")  # fmt: skip


SHORT_HEADERS = {"test image": "image", "probability of predicted": "p(predicted)", "probability of true": "p(true)"}


def mistakes_section(view: View) -> None:
    data, preds = view.bundle.data, view.preds
    wrong = remember(view, ("mistakes",), lambda: inspection.confident_mistakes(preds))
    st.write(
        f"The model got **{len(wrong)}** of {len(preds.y_true):,} test images wrong. Here are the mistakes it was "
        "surest about: often a badly written or oddly cropped image, sometimes a label a person would argue with."
    )
    if len(wrong) == 0:
        st.success("No mistakes on these test images.")
        return
    n = st.slider("How many", 4, min(64, max(4, len(wrong))), min(16, len(wrong)), step=4, key="in_mis_n")
    shown = wrong[:n]
    caps = [
        f"{data.classes[preds.y_true[i]]} → {data.classes[preds.y_pred[i]]} {preds.confidence[i]:.0%}" for i in shown
    ]
    st.caption("Each caption: true class → predicted class, and how sure the model was.")
    gallery(view, shown, caps)
    frame = pd.DataFrame({
        "test image": shown, "true": [data.classes[i] for i in preds.y_true[shown]],
        "predicted": [data.classes[i] for i in preds.y_pred[shown]],
        "probability of predicted": preds.confidence[shown].round(4),
        "probability of true": preds.true_confidence[shown].round(4),
    })  # fmt: skip
    # short headers, so the five columns fit a projector's page; an HTML table (the data grid's canvas and code
    # cost each visit to the tab more than the rest of it)
    shown_frame = frame.rename(columns=SHORT_HEADERS)
    st.table(shown_frame.style.format({h: "{:.4f}" for h in ("p(predicted)", "p(true)")}), hide_index=True)
    st.caption("image: its number in the test set; p(predicted): the probability the model gave its answer; "
               "p(true): the one it gave the true class.")  # fmt: skip
    download_csv("CSV", frame, "mistakes.csv", key="in_mis_csv")
