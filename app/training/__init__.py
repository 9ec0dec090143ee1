"""The Training page's glue, one module per part of the page.

:mod:`~app.training.data` (the dataset choice and its preview), :mod:`~app.training.settings`
(the network fitted to the data, the training settings), :mod:`~app.training.run` (the server's
registry, this session's id and heartbeat, starting a run) and :mod:`~app.training.files` (the
history CSV and the model file, saving and loading). The page script stays thin; the worker
thread that runs a training never calls ``st.*`` (see :mod:`app.jobs`).
"""

from app.training.data import MAX_ZIP_BYTES, SOURCES, class_counts, dataset_widget, sample_grid, shared_dataset
from app.training.files import MAX_MODEL_BYTES, history_frame, load_model_file, model_file
from app.training.run import (
    SESSION_GRACE_S,
    follow,
    keep_earlier_model_after_blow_up,
    mirror,
    registry,
    session_id,
    start_run,
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
    "class_counts",
    "dataset_widget",
    "follow",
    "history_frame",
    "keep_earlier_model_after_blow_up",
    "load_model_file",
    "mirror",
    "model_file",
    "model_for",
    "model_options",
    "registry",
    "sample_grid",
    "session_id",
    "settings_widget",
    "shared_dataset",
    "start_run",
]
