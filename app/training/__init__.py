"""The Training page's glue, one module per part of the page.

:mod:`~app.training.data` (the dataset choice and its preview), :mod:`~app.training.settings`
(the network fitted to the data, the training settings), :mod:`~app.training.run` (the server's
registry, the workspace id and heartbeat, the instructor's limits, starting or resuming a run),
:mod:`~app.training.keep` (a run saved in the workspace as it goes), :mod:`~app.training.restore`
(a new session reattaches to its run or loads its latest model), :mod:`~app.training.link` (the
page's link), :mod:`~app.training.live` (the live panel and queue), :mod:`~app.training.runs_view`
("Your runs", resuming an interrupted run) and :mod:`~app.training.files` (the history CSV and the
model file, saving and loading). The page script stays thin; the worker
thread that runs a training never calls ``st.*`` (see :mod:`app.jobs`).
"""

from app.training.data import MAX_ZIP_BYTES, SOURCES, class_counts, dataset_widget, sample_rows, shared_dataset
from app.training.files import MAX_MODEL_BYTES, history_frame, load_model_file, load_panel, model_file
from app.training.restore import bundle_from_record, load_record, restore_session
from app.training.run import (
    SESSION_GRACE_S,
    STOPPED_BY_INSTRUCTOR,
    class_settings,
    follow,
    keep_earlier_model_after_blow_up,
    mirror,
    owner_id,
    registry,
    session_id,
    start_run,
    time_limit_sentence,
)
from app.training.settings import FAST_PRESET, FROM_ARCHITECTURE, LR_HELP, model_for, model_options, settings_widget

__all__ = [
    "FAST_PRESET",
    "FROM_ARCHITECTURE",
    "LR_HELP",
    "MAX_MODEL_BYTES",
    "MAX_ZIP_BYTES",
    "SESSION_GRACE_S",
    "SOURCES",
    "STOPPED_BY_INSTRUCTOR",
    "bundle_from_record",
    "class_settings",
    "class_counts",
    "dataset_widget",
    "follow",
    "history_frame",
    "keep_earlier_model_after_blow_up",
    "load_model_file",
    "load_panel",
    "load_record",
    "mirror",
    "model_file",
    "model_for",
    "model_options",
    "owner_id",
    "registry",
    "restore_session",
    "sample_rows",
    "session_id",
    "settings_widget",
    "shared_dataset",
    "start_run",
    "time_limit_sentence",
]
