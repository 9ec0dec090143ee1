"""A new session finds the student's work: the running job to reattach to, or the latest model kept.

A reload, a pasted link, a second tab or a server restart starts a new session with an empty
session state. :func:`restore_session` (once per session, on any page) looks in the registry for
the workspace's job: a running one is reattached (its bundle and its one event history, so the live
curves carry on). Otherwise the workspace's latest run with a model becomes "the model"
(:func:`bundle_from_record`: the network from the record's settings, the weights from the store,
the dataset loaded again). Anything that cannot be read gives a sentence; the session goes on.
"""

from __future__ import annotations

import dataclasses

import streamlit as st

from app import state
from app.trained import TrainedBundle
from app.training.data import shared_dataset
from app.training.keep import decode_events
from app.training.run import owner_id, registry, workspace_store
from app.workspace import RunRecord, StoreError, WorkspaceStore
from cnn_core import data as datasets
from cnn_core import inspection, models, training


def record_data(record: RunRecord) -> datasets.ImageSet:
    """The dataset a kept run trained on, loaded again; ValueError with a sentence when it cannot be."""
    ds = record.settings.get("dataset") if isinstance(record.settings, dict) else None
    ds = ds if isinstance(ds, dict) else {}
    kind, name, title = ds.get("kind"), ds.get("name"), ds.get("title", "your own images")
    if kind in ("bundled", "shapes", "full"):
        return shared_dataset(str(kind), None if name is None else str(name))
    own = st.session_state.get(state.TR_OWN_DATA)
    if own is not None and own.name == title:
        return own
    raise ValueError(
        f"“{record.title}” was trained on {title}, which the server does not keep: upload that zip again "
        "on the Training page, then load the run."
    )


def train_config_of(record: RunRecord) -> training.TrainConfig:
    raw = record.settings.get("train") if isinstance(record.settings, dict) else None
    names = {f.name for f in dataclasses.fields(training.TrainConfig)}
    try:
        return training.TrainConfig(**{k: v for k, v in (raw or {}).items() if k in names})
    except (TypeError, ValueError):
        return training.TrainConfig()


def model_config_of(record: RunRecord) -> models.ModelConfig:
    """The run's network; ValueError with a sentence when the record's network cannot be read."""
    try:
        return models.from_dict(record.settings["model"])
    except (KeyError, TypeError, ValueError) as err:
        raise ValueError(f"The network of “{record.title}” could not be read ({err}).") from None


def bundle_from_record(store: WorkspaceStore, record: RunRecord) -> TrainedBundle:
    """The kept run as this session's model. Raises StoreError or ValueError with a sentence."""
    cfg = model_config_of(record)
    data = record_data(record)
    model = models.build(cfg)
    try:
        model.load_state_dict(store.load_model(record.workspace, record.run_id))
    except (RuntimeError, KeyError) as err:  # weights of another shape: a damaged or mismatched file
        if isinstance(err, StoreError):
            raise
        raise StoreError(f"The model file of “{record.title}” does not fit its network; it cannot be loaded.") from None
    bundle = TrainedBundle(
        model=model, model_config=cfg, data=data, train_config=train_config_of(record), run_id=record.run_id
    )
    for event in decode_events(record.curve):
        bundle.events.append(event)
    bundle.finished = True
    last = max((getattr(e, "step", 0) for e in bundle.events), default=0)
    epochs = max((e.epoch for e in bundle.events if isinstance(e, training.EpochEnd)), default=0)
    bundle.add_snapshot(inspection.take_snapshot(bundle.model_copy(), data, epoch=epochs, step=last))
    return bundle


def reattach() -> bool:
    """Make this workspace's job in the registry (running, or finished and not yet forgotten) this
    session's run; True when there was one."""
    job = registry().latest_for(owner_id())
    if job is None or not isinstance(job.context, TrainedBundle):
        return False
    if not job.active and st.session_state.get(state.TR_BUNDLE) is not None:
        return False
    st.session_state[state.TR_JOB] = job
    st.session_state[state.TR_BUNDLE] = job.context
    st.session_state[state.TR_WAS_ACTIVE] = job.active
    return True


def restore_session() -> None:
    """Once per session: reattach to the workspace's run, or load its latest kept model."""
    ss = st.session_state
    if ss.get(state.TR_RESTORED):
        return
    ss[state.TR_RESTORED] = True
    if reattach() or ss.get(state.TR_BUNDLE) is not None:
        return
    store = workspace_store()
    if store is None:
        return
    try:
        latest = next((r for r in store.runs(owner_id()) if r.has_model), None)
    except StoreError as err:
        ss[state.TR_NOTE] = f"{err} Starting without your earlier runs."
        return
    if latest is not None:
        load_record(store, latest)


def load_record(store: WorkspaceStore, record: RunRecord) -> bool:
    """Make a kept run this session's model; False (with the sentence kept for the page) when it cannot be."""
    try:
        st.session_state[state.TR_BUNDLE] = bundle_from_record(store, record)
    except (StoreError, ValueError) as err:
        st.session_state[state.TR_NOTE] = str(err)
        return False
    st.session_state.pop(state.TR_JOB, None)
    return True
