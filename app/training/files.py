"""What a learner keeps from a run: the history as a table (CSV), the model as a ``.pt`` file, and
loading such a file back (weights only, checked against the chosen dataset; the page's upload panel)."""

from __future__ import annotations

import dataclasses
import io
from collections.abc import Iterable

import pandas as pd
import streamlit as st

from app import state
from app.trained import TrainedBundle
from app.training.data import SERVER_CAP
from cnn_core import data as datasets
from cnn_core import inspection, models, training

MAX_MODEL_BYTES = min(20_000_000, SERVER_CAP)


def history_frame(events: Iterable[training.Event]) -> pd.DataFrame:
    """The evaluations of a run as a table (the CSV learners can download)."""
    rows = [dataclasses.asdict(e) for e in events if isinstance(e, training.EvalEvent)]
    return pd.DataFrame(rows)


def model_file(bundle: TrainedBundle) -> bytes:
    """The trained model as a ``.pt`` file: state dict, network config and dataset facts."""
    meta = {
        "dataset": bundle.data.name,
        "classes": list(bundle.data.classes),
        "mean": list(bundle.data.mean),
        "std": list(bundle.data.std),
        "train_config": dataclasses.asdict(bundle.train_config),
    }
    buf = io.BytesIO()
    training.save_model(bundle.model_copy(), models.to_dict(bundle.model_config), buf, meta=meta)
    return buf.getvalue()


def load_model_file(raw: bytes, data: datasets.ImageSet) -> TrainedBundle:
    """Read an uploaded ``.pt`` file (weights only, checked) and pair it with the chosen dataset."""
    model, cfg_dict, meta = training.load_model(raw, lambda d: models.build(models.from_dict(d)))
    cfg = models.from_dict(cfg_dict)
    if tuple(cfg.input_shape) != tuple(data.input_shape) or cfg.num_classes != data.num_classes:
        raise training.ModelFileError(
            f"This model takes {cfg.input_shape} images with {cfg.num_classes} classes, but {data.name} has "
            f"{data.input_shape} images with {data.num_classes} classes. Choose the dataset it was trained on "
            f"({meta.get('dataset', 'unknown')})."
        )
    tc = training.TrainConfig(**meta["train_config"]) if isinstance(meta.get("train_config"), dict) else None
    bundle = TrainedBundle(model=model, model_config=cfg, data=data, train_config=tc or training.TrainConfig())
    bundle.finished = True
    bundle.add_snapshot(inspection.take_snapshot(bundle.model_copy(), data, epoch=0, step=0))
    return bundle


def load_panel(data: datasets.ImageSet) -> None:
    """"Load a saved model": upload a ``.pt`` file and make it this session's model."""
    with st.expander("Load a saved model"):
        st.caption("A .pt file saved from this page. It is read as weights only: files carrying code are refused.")
        up = st.file_uploader("Model file", type=["pt"], key=state.TR_LOAD)
        if up is None or not st.button("Load it", key=state.TR_LOAD_GO):
            return
        if up.size > MAX_MODEL_BYTES:
            st.error(f"{up.name} is {up.size / 1e6:.0f} MB; model files are limited to {MAX_MODEL_BYTES // 1_000_000} MB.")
            return
        try:
            st.session_state[state.TR_BUNDLE] = load_model_file(up.getvalue(), data)
            st.success(f"Loaded {up.name}. It is now this session's model.")
        except (training.ModelFileError, ValueError, TypeError) as err:
            st.error(f"{up.name}: {err}")
