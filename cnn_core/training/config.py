"""How a model is trained: :class:`TrainConfig`, the typed, frozen settings of one run."""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

Optimizer = Literal["sgd", "adam", "adamw"]
Schedule = Literal["none", "onecycle", "cosine", "step"]
Device = Literal["auto", "cpu", "cuda"]
Precision = Literal["auto", "fp32", "bf16"]
StopFlag = threading.Event | Callable[[], bool] | None


@dataclass(frozen=True)
class TrainConfig:
    """Everything that decides how a model is trained (the model itself is built elsewhere).

    The defaults are ConvLab's fast recipe: AdamW with a one-cycle learning-rate schedule that
    warms up to 8e-3 in the first 15 % of its single epoch and then falls in a straight line to
    almost 0 at its end, batches of 128, bfloat16 autocast where the hardware has it and
    channels-last layout. With :func:`fast_cnn` on the full datasets it reaches 99 % on MNIST
    within that epoch and about 90 % on Fashion-MNIST at its end (``bench/bench_training.py``
    times both against the course notes' model).
    """

    optimizer: Optimizer = "adamw"  # "sgd" (with momentum), "adam" or "adamw"
    lr: float = 8e-3  # peak learning rate (the schedule scales it)
    momentum: float = 0.9  # SGD momentum; beta1 for Adam/AdamW
    weight_decay: float = 5e-4  # L2 (SGD, Adam) or decoupled (AdamW) weight decay
    batch_size: int = 128  # images per step
    epochs: int = 1  # passes over the training set
    schedule: Schedule = "onecycle"  # learning-rate schedule over the whole run
    step_size_epochs: int = 1  # "step" schedule: multiply lr by step_gamma every this many epochs
    step_gamma: float = 0.3
    label_smoothing: float = 0.0  # 0 = plain cross-entropy
    augment_flip: bool = False  # random horizontal flips (clothing, CIFAR; not digits)
    augment_shift: int = 0  # random shifts of up to this many pixels (0 = off)
    augment_rotate: float = 0.0  # random rotations of up to this many degrees (0 = off)
    seed: int = 0  # same seed, same data order and augmentation
    device: Device = "auto"  # "auto" uses CUDA when available
    precision: Precision = "auto"  # "auto": bfloat16 autocast on CUDA / CPUs with AMX, else fp32
    channels_last: bool = True  # NHWC memory layout (faster convolutions on CPU)
    threads: int | None = None  # torch threads for this run (None: leave as set)
    evals_per_epoch: int = 2  # validation checks per epoch (the last at the end of the epoch)
    eval_samples: int | None = 2000  # validate on the first N test images (None = all)
    log_every_steps: int | None = None  # StepEvent period (None: about 50 per epoch)
    max_seconds: float | None = None  # stop with reason "time_limit" after this much training time
    train_only: tuple[str, ...] = ()  # names of the model's layers that train (empty: all; fine-tuning)

    def __post_init__(self) -> None:
        object.__setattr__(self, "train_only", tuple(self.train_only))  # a list from JSON is a tuple here
        checks = [
            (self.optimizer in ("sgd", "adam", "adamw"), f"unknown optimizer {self.optimizer!r}"),
            (self.schedule in ("none", "onecycle", "cosine", "step"), f"unknown schedule {self.schedule!r}"),
            (self.device in ("auto", "cpu", "cuda"), f"unknown device {self.device!r}"),
            (self.precision in ("auto", "fp32", "bf16"), f"unknown precision {self.precision!r}"),
            (math.isfinite(self.lr) and self.lr > 0, f"the learning rate must be a positive number, not {self.lr}"),
            (self.batch_size >= 1, f"the batch size must be at least 1, not {self.batch_size}"),
            (self.epochs >= 1, f"train for at least 1 epoch, not {self.epochs}"),
            (self.weight_decay >= 0, "weight decay cannot be negative"),
            (0 <= self.momentum < 1, "momentum must be in [0, 1)"),
            (0 <= self.label_smoothing < 1, "label smoothing must be in [0, 1)"),
            (self.augment_shift >= 0 and self.augment_rotate >= 0, "augmentation amounts cannot be negative"),
            (self.evals_per_epoch >= 1, "evaluate at least once per epoch"),
            (self.step_size_epochs >= 1 and 0 < self.step_gamma <= 1, "step schedule needs size >= 1, 0 < gamma <= 1"),
            (self.threads is None or self.threads >= 1, "threads must be at least 1"),
        ]
        for ok, msg in checks:
            if not ok:
                raise ValueError(msg[0].upper() + msg[1:] + ".")
