"""Training as a generator of small frozen events; evaluation; saving and loading trained models.

A notebook needs nothing else::

    from cnn_core import training
    accuracies = []
    for event in training.train(model, data, training.TrainConfig(epochs=1)):
        match event:
            case training.EvalEvent(val_acc=acc):
                accuracies.append(acc)  # plot them, or show them as they come
            case training.RunFinished(message=message):
                summary = message

The parts: :mod:`~cnn_core.training.config` (:class:`TrainConfig`), :mod:`~cnn_core.training.events`
(the event dataclasses and :data:`Event`, their union), :mod:`~cnn_core.training.recipe` (device,
precision, optimizer, schedule, augmentation, the fast default network),
:mod:`~cnn_core.training.loop` (:func:`train`, :func:`evaluate`),
:mod:`~cnn_core.training.resume` (:class:`ResumeState`, what a :class:`CheckpointEvent` carries) and
:mod:`~cnn_core.training.files` (:func:`save_model`, :func:`load_model`). Training in a child
process, for a server, is the app's business (``app.jobs``), not the core's.
"""

from cnn_core.training.config import Device, Optimizer, Precision, Schedule, StopFlag, TrainConfig
from cnn_core.training.events import (
    CheckpointEvent,
    EpochEnd,
    EvalEvent,
    EvalResult,
    Event,
    RunFinished,
    RunStarted,
    StepEvent,
)
from cnn_core.training.files import FORMAT, ModelFileError, load_model, save_model
from cnn_core.training.loop import evaluate, train
from cnn_core.training.recipe import fast_cnn, resolve_device, seed_everything
from cnn_core.training.resume import ResumeState

__all__ = [
    "FORMAT",
    "CheckpointEvent",
    "Device",
    "EpochEnd",
    "EvalEvent",
    "EvalResult",
    "Event",
    "ModelFileError",
    "Optimizer",
    "Precision",
    "RunFinished",
    "ResumeState",
    "RunStarted",
    "Schedule",
    "StepEvent",
    "StopFlag",
    "TrainConfig",
    "evaluate",
    "fast_cnn",
    "load_model",
    "resolve_device",
    "save_model",
    "seed_everything",
    "train",
]
