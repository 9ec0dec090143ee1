"""Training runs on a server: the registry that schedules them and the processes they train in.

:mod:`~app.jobs.registry` caps how many runs train at once, queues the rest and stops runs
whose session is gone (a heartbeat watchdog); :mod:`~app.jobs.history` is a run's one event
history; :mod:`~app.jobs.relay` trains in a child process started from
:mod:`~app.jobs.forkserver` and running :mod:`~app.jobs.child`, and relays its
:mod:`~app.jobs.messages` back. Nothing here imports streamlit (a training process imports
this package), and the core, :mod:`cnn_core.training`, knows nothing of any of it.
"""

from app.jobs.forkserver import warm_up
from app.jobs.history import EventHistory
from app.jobs.messages import Checkpoint, Message, SnapshotTaken, TrainingProcessError, Weights, apply_weights, watch
from app.jobs.registry import Job, JobRegistry, RunFn, Status, lower_thread_priority
from app.jobs.relay import train_in_child

__all__ = [
    "Checkpoint",
    "EventHistory",
    "Job",
    "JobRegistry",
    "Message",
    "RunFn",
    "SnapshotTaken",
    "Status",
    "TrainingProcessError",
    "Weights",
    "apply_weights",
    "lower_thread_priority",
    "train_in_child",
    "warm_up",
    "watch",
]
