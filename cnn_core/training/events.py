"""The events of a training run: small frozen dataclasses, and :data:`Event`, their union.

:func:`cnn_core.training.train` yields :class:`RunStarted`, then :class:`StepEvent` (every few
steps), :class:`EvalEvent` (a few times per epoch), :class:`EpochEnd`, :class:`CheckpointEvent`
(after every epoch but the last, and every so many seconds), and finally exactly one
:class:`RunFinished`. Consumers match them by type (``isinstance`` or ``match``), never by name;
a consumer that keeps no checkpoints ignores :class:`CheckpointEvent`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from cnn_core.training.resume import ResumeState


@dataclass(frozen=True)
class RunStarted:
    """The first event: the run's size and where it trains."""

    total_steps: int
    steps_per_epoch: int
    epochs: int
    batch_size: int
    n_train: int
    n_val: int
    device: str
    precision: str
    threads: int
    first_step: int = 0  # steps already done before this start (a run resumed from a checkpoint)


@dataclass(frozen=True)
class StepEvent:
    """Every few steps: the training loss, learning rate, throughput and time left."""

    step: int  # steps done so far (1-based)
    epoch: int  # current epoch, 1-based
    epoch_fraction: float  # epochs done, e.g. 1.5
    loss: float  # mean training loss over the steps since the previous StepEvent
    lr: float  # learning rate used by this step
    samples_per_s: float  # training throughput since the previous StepEvent
    elapsed_s: float  # wall time since the run started
    train_s: float  # time spent training (elapsed minus evaluation)
    eta_s: float  # estimated time left, evaluations included


@dataclass(frozen=True)
class EvalEvent:
    """A few times per epoch: training and validation loss and accuracy."""

    step: int
    epoch: int
    epoch_fraction: float
    train_loss: float  # running mean over the steps since the previous evaluation
    train_acc: float  # accuracy on those training batches (augmented, in train mode)
    val_loss: float
    val_acc: float
    elapsed_s: float
    train_s: float
    eval_s: float  # time this evaluation took


@dataclass(frozen=True)
class EpochEnd:
    """After each epoch: its training figures and the last validation."""

    epoch: int
    step: int
    train_loss: float  # over the whole epoch
    train_acc: float
    val_loss: float
    val_acc: float
    elapsed_s: float


@dataclass(frozen=True)
class RunFinished:
    """The last event, exactly once: why the run ended, and the test figures."""

    reason: Literal["completed", "stopped", "diverged", "time_limit"]
    message: str
    step: int
    epoch_fraction: float
    test_loss: float | None  # on the whole test split (None when diverged)
    test_acc: float | None
    elapsed_s: float
    train_s: float


@dataclass(frozen=True, eq=False)
class CheckpointEvent:
    """After every epoch but the last, and at most every ``checkpoint_every_s`` seconds: the run's
    state after ``step`` steps, which ``train(..., resume=state)`` carries on from."""

    step: int
    state: ResumeState


Event = RunStarted | StepEvent | EvalEvent | EpochEnd | CheckpointEvent | RunFinished
"""What :func:`cnn_core.training.train` yields; match it with ``isinstance`` or ``match``."""


@dataclass(frozen=True)
class EvalResult:
    """What :func:`cnn_core.training.evaluate` returns."""

    loss: float
    acc: float
    n: int
