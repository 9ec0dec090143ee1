"""Ready-made experiments as data: which runs (arms) to compare, how each differs, what is measured.

An :class:`Experiment` names a bundled dataset and how much of it (the same images, in the same
split, for every arm), and its :class:`Arm` s: each a network and a :class:`TrainConfig`, with one
sentence on what it changes against the first arm. Every arm is seeded with the same seed and
trained once, so the page says so (:meth:`Experiment.measured`): one seed, differences under about
a point may be noise.

:func:`arm_result` turns an arm's events and its training-set accuracy (measured after training in
evaluation mode, :func:`train_accuracy`; the curves' training accuracy is taken on the augmented
batches in training mode, with dropout on) into an :class:`ArmResult`; :func:`run_experiment`
trains every arm here, in this process (the bench and the tests; the app trains each arm in a
training process through its job registry, ``app.experiments``). :func:`verdict` says in one
sentence what the numbers show, computed, never assumed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import torch
from torch import nn

from cnn_core import data as datasets
from cnn_core import models
from cnn_core.models import ActivationSpec, BatchNormSpec, Conv2dSpec, DenseSpec, DropoutSpec, FlattenSpec, PoolSpec
from cnn_core.training.config import StopFlag, TrainConfig
from cnn_core.training.events import EpochEnd, EvalEvent, Event, RunFinished, RunStarted
from cnn_core.training.loop import evaluate, train
from cnn_core.training.recipe import augment

__all__ = [
    "EXPERIMENTS",
    "NOISE_POINTS",
    "Arm",
    "ArmResult",
    "Experiment",
    "arm_result",
    "augmentation_preview",
    "build_arm_model",
    "run_experiment",
    "small_cnn",
    "train_accuracy",
    "verdict",
]

NOISE_POINTS = 1.0  # accuracy points under which one seed's difference may be noise
STUCK_AT = 0.15  # held-out accuracy under which a finished arm of a ten-class experiment learned nothing (chance: 10%)
DATASET_NAMES = {"mnist": "MNIST", "fashion_mnist": "Fashion-MNIST"}


@dataclass(frozen=True)
class Arm:
    """One run of an experiment."""

    name: str  # short, e.g. "dropout 0.5"
    change: str  # what differs from the experiment's first arm, one sentence
    model: models.ModelConfig
    train: TrainConfig


@dataclass(frozen=True)
class Experiment:
    """A comparison of a few short runs on the same bundled images."""

    key: str  # stable id (links, the workspace)
    title: str
    question: str  # what it asks, one sentence
    dataset: str  # a bundled dataset name (cnn_core.data.BUNDLED)
    n_train: int  # the first n training images of the bundled subset
    n_test: int  # the first n test images: validation during training and the final test
    arms: tuple[Arm, ...]
    reading: str  # how to read the result; what it cannot show
    shows_gap: bool = True  # whether the train/held-out gap is the point (overfitting experiments)

    def data(self) -> datasets.ImageSet:
        """The images every arm trains and is measured on (the same split for all of them)."""
        return datasets.load_bundled(self.dataset).subset(self.n_train, self.n_test)

    def arm(self, name: str) -> Arm:
        found = next((a for a in self.arms if a.name == name), None)
        if found is None:
            raise KeyError(f"{self.title} has no arm called {name!r}.")
        return found

    def measured(self) -> str:
        """What was measured, honestly: images, epochs, seed, runs."""
        epochs = sorted({a.train.epochs for a in self.arms})
        seeds = sorted({a.train.seed for a in self.arms})
        ep = f"{epochs[0]}" if len(epochs) == 1 else "/".join(map(str, epochs))
        return (
            f"{len(self.arms)} runs, each trained once on the same {self.n_train:,} training images of the bundled "
            f"{DATASET_NAMES.get(self.dataset, self.dataset)} subset and measured on the same "
            f"{self.n_test:,} held-out images; {ep} epochs, seed {', '.join(map(str, seeds))}. One seed, so "
            f"differences under ~{NOISE_POINTS:g} point may be noise."
        )


@dataclass(frozen=True)
class ArmResult:
    """How one arm ended."""

    arm: str
    reason: str  # RunFinished.reason, or "failed" / "not run"
    train_acc: float | None  # the whole training set, evaluation mode, after training
    val_acc: float | None  # the held-out images at the last evaluation
    test_acc: float | None  # the held-out images after training
    val_loss: float | None
    train_loss: float | None  # the last epoch's mean training loss (training mode)
    seconds: float | None  # training time

    @property
    def gap(self) -> float | None:
        """Training minus held-out accuracy: how much of what it learned does not carry over."""
        if self.train_acc is None or self.test_acc is None:
            return None
        return self.train_acc - self.test_acc


def small_cnn(
    *,
    batch_norm: bool = False,
    dropout: float = 0.0,
    widths: tuple[int, int] = (16, 32),
    dense: int = 128,
    name: str = "Small CNN",
) -> models.ModelConfig:
    """Two 3x3 convolutions with 2x2 max pooling, a Dense layer and 10 outputs, for 28x28 grey images.

    ``batch_norm`` adds batch norm between each convolution and its ReLU; ``dropout`` adds dropout
    of that rate before each Dense layer (as AlexNet did with 0.5).
    """
    layers: list[models.LayerSpec] = []
    for filters in widths:
        if batch_norm:
            layers += [Conv2dSpec(filters, 3, activation="none"), BatchNormSpec(), ActivationSpec("relu")]
        else:
            layers.append(Conv2dSpec(filters, 3, activation="relu"))
        layers.append(PoolSpec("max", 2))
    drop = [DropoutSpec(dropout)] if dropout > 0 else []
    layers += [FlattenSpec(), *drop, DenseSpec(dense), *drop, DenseSpec(10, "none")]
    return models.ModelConfig(name, (1, 28, 28), tuple(layers))


# A small training set trained long enough to overfit: 500 Fashion-MNIST images, 30 epochs.
_OVERFIT = TrainConfig(epochs=30, batch_size=50, lr=2e-3, weight_decay=0.0, evals_per_epoch=1, eval_samples=None)
_LR = TrainConfig(
    optimizer="sgd",
    schedule="none",
    epochs=3,
    batch_size=64,
    lr=0.01,
    weight_decay=0.0,
    evals_per_epoch=2,
    eval_samples=None,
)

# Plain versus residual: 20 layers, narrow (8, 16, 32 filters) so that an arm trains in about a minute on 2 cores.
_RES_WIDTHS = (8, 16, 32)
_RES = TrainConfig(epochs=3, batch_size=64, lr=4e-3, evals_per_epoch=2, eval_samples=None)  # lr as designed

EXPERIMENTS: dict[str, Experiment] = {
    e.key: e
    for e in (
        Experiment(
            key="overfitting",
            title="Overfitting, and four remedies",
            question="A small training set trained for long: how far apart do training and held-out accuracy "
            "drift, and does dropout, augmentation, batch norm or weight decay pull them together?",
            dataset="fashion_mnist",
            n_train=500,
            n_test=1000,
            arms=(
                Arm("no remedy", "The small CNN, no regularisation at all.", small_cnn(), _OVERFIT),
                Arm(
                    "dropout 0.5",
                    "Dropout of 0.5 before each Dense layer (the rate AlexNet used).",
                    small_cnn(dropout=0.5, name="Small CNN + dropout"),
                    _OVERFIT,
                ),
                Arm(
                    "augmentation",
                    "Random flips, shifts of up to 3 pixels (a tenth of the width, as in the course "
                    "notes) and rotations of up to 10 degrees (the notes' 90 would turn clothing sideways).",
                    small_cnn(),
                    dataclasses.replace(_OVERFIT, augment_flip=True, augment_shift=3, augment_rotate=10.0),
                ),
                Arm(
                    "batch norm",
                    "Batch norm between each convolution and its ReLU.",
                    small_cnn(batch_norm=True, name="Small CNN + batch norm"),
                    _OVERFIT,
                ),
                Arm(
                    "weight decay 0.5",
                    "AdamW's decoupled weight decay 0.5: every step shrinks each weight by lr x 0.5 of itself.",
                    small_cnn(),
                    dataclasses.replace(_OVERFIT, weight_decay=0.5),
                ),
            ),
            reading="The gap is training accuracy (all 500 images, evaluation mode) minus held-out accuracy. "
            "A remedy that works narrows the gap, and ideally raises the held-out accuracy too; one that only "
            "lowers the training accuracy has just made the task harder.",
        ),
        Experiment(
            key="plain_vs_residual",
            title="Plain versus residual at the same depth",
            question="Two 20-layer networks with the same convolutions, one with shortcuts (F(x) + x) and one "
            "without: which learns more in the same three epochs?",
            dataset="fashion_mnist",
            n_train=1000,
            n_test=500,
            arms=(
                Arm(
                    "Plain-20",
                    "A 3x3 stem, nine blocks of two 3x3 convolutions with batch norm (8, 16, 32 filters), global "
                    "average pooling and Dense 10: 20 layers with weights, no shortcuts.",
                    models.small_resnet(3, plain=True, widths=_RES_WIDTHS, name="Plain-20 (narrow)"),
                    _RES,
                ),
                Arm(
                    "ResNet-20",
                    "The same layers, each block adding its input to its output (a 1x1 projection where the "
                    "width changes).",
                    models.small_resnet(3, widths=_RES_WIDTHS, name="ResNet-20 (narrow)"),
                    _RES,
                ),
            ),
            reading="Both have the same convolutions and nearly the same number of weights; only the shortcuts "
            "differ. Compare the held-out accuracy and how fast the training curve rises in the first epoch.",
            shows_gap=False,
        ),
        Experiment(
            key="learning_rates",
            title="Learning rates",
            question="The same network and data with four learning rates, ten times apart: which learns, which "
            "crawls and which blows up?",
            dataset="mnist",
            n_train=2000,
            n_test=1000,
            arms=tuple(
                Arm(
                    f"lr {lr:g}",
                    f"Plain SGD with momentum 0.9, constant learning rate {lr:g}.",
                    small_cnn(),
                    dataclasses.replace(_LR, lr=lr),
                )
                for lr in (0.001, 0.01, 0.1, 1.0)
            ),
            reading="Too small a learning rate barely moves the weights in three epochs; too large a one "
            "overshoots: the loss can become infinite (the run then stops and says so) or the network gets stuck "
            "answering one class (about 10%).",
            shows_gap=False,
        ),
    )
}


def build_arm_model(arm: Arm) -> nn.Module:
    """The arm's network, initialised from its seed (every arm of an experiment shares the seed)."""
    torch.manual_seed(arm.train.seed)
    return models.build(arm.model)


def train_accuracy(model: nn.Module, data: datasets.ImageSet) -> float:
    """Accuracy on the whole training split, in evaluation mode (no dropout, no augmentation)."""
    return evaluate(model, data, "train", device="cpu").acc


def arm_result(name: str, events: Sequence[Event], train_acc: float | None) -> ArmResult:
    """An :class:`ArmResult` from an arm's events (and its training accuracy, None when not measured)."""
    finished = next((e for e in reversed(events) if isinstance(e, RunFinished)), None)
    ev = next((e for e in reversed(events) if isinstance(e, EvalEvent)), None)
    ep = next((e for e in reversed(events) if isinstance(e, EpochEnd)), None)
    if finished is None:
        started = any(isinstance(e, RunStarted) for e in events)
        return ArmResult(name, "failed" if started else "not run", None, None, None, None, None, None)
    return ArmResult(
        name,
        finished.reason,
        train_acc if finished.reason != "diverged" else None,
        ev.val_acc if ev is not None else None,
        finished.test_acc,
        ev.val_loss if ev is not None else None,
        ep.train_loss if ep is not None else None,
        finished.train_s,
    )


def run_experiment(
    experiment: Experiment,
    stop: StopFlag = None,
    *,
    arms: Sequence[str] | None = None,
    on_event: Callable[[str, Event], None] | None = None,
    data: datasets.ImageSet | None = None,
) -> list[ArmResult]:
    """Train the experiment's arms (or those named) one after another in this process.

    ``on_event(arm_name, event)`` sees every event; ``stop`` ends the current arm and skips the rest.
    ``data`` replaces the experiment's images (tests pass a smaller set).
    """
    data = experiment.data() if data is None else data
    results = []
    for arm in experiment.arms:
        if arms is not None and arm.name not in arms:
            continue
        if _stopped(stop):
            results.append(arm_result(arm.name, [], None))
            continue
        model = build_arm_model(arm)
        events = list(_follow(arm.name, train(model, data, arm.train, stop, checkpoint_every_s=None), on_event))
        results.append(arm_result(arm.name, events, train_accuracy(model, data)))
    return results


def _follow(name: str, stream: Iterator[Event], on_event: Callable[[str, Event], None] | None) -> Iterator[Event]:
    for event in stream:
        if on_event is not None:
            on_event(name, event)
        yield event


def _stopped(stop: StopFlag) -> bool:
    if stop is None:
        return False
    return stop.is_set() if hasattr(stop, "is_set") else bool(stop())


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:.1f}%"


def verdict(experiment: Experiment, results: Sequence[ArmResult]) -> str:
    """One sentence on what the finished arms show: the best held-out accuracy and, where measured, the gaps."""
    done = [r for r in results if r.test_acc is not None]
    if not done:
        return "No arm has finished yet."
    best = max(done, key=lambda r: r.test_acc or 0.0)
    first = results[0]
    parts = [f"Best held-out accuracy: {best.arm}, {_pct(best.test_acc)}"]
    if first.test_acc is not None and best is not first:
        diff = 100 * ((best.test_acc or 0.0) - first.test_acc)
        parts[-1] += f", {diff:.1f} points above {first.arm}"
        if diff < NOISE_POINTS:
            parts[-1] += " (under a point: with one seed, that may be noise)"
    gaps = [r for r in done if r.gap is not None]
    if experiment.shows_gap and len(gaps) > 1:
        small = min(gaps, key=lambda r: r.gap or 0.0)
        large = max(gaps, key=lambda r: r.gap or 0.0)
        parts.append(
            f"the train/held-out gap is largest for {large.arm} ({100 * (large.gap or 0):.1f} points) and smallest "
            f"for {small.arm} ({100 * (small.gap or 0):.1f} points)"
        )
    blown = [r.arm for r in results if r.reason == "diverged"]
    if blown:
        parts.append(f"{', '.join(blown)} blew up (the loss became infinite)")
    stuck = [r for r in done if r.reason == "completed" and (r.test_acc or 0.0) < STUCK_AT]
    if stuck:
        named = ", ".join(f"{r.arm} ({_pct(r.test_acc)})" for r in stuck)
        parts.append(f"{named} learned nothing: with ten classes, guessing gets 10%")
    return "; ".join(parts) + "."


def augmentation_preview(images: torch.Tensor, config: TrainConfig, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """One batch of uint8 images ``(B, C, H, W)`` and the same batch as training augments it.

    Uses :func:`cnn_core.training.recipe.augment`, the function the training loop calls, with the
    flips, shifts and rotations of ``config`` and a generator seeded with ``seed``. Returns
    ``(original, augmented)``, both uint8 ``(B, C, H, W)``.
    """
    if images.ndim != 4:
        raise ValueError(f"Expected a batch of images (B, C, H, W), not {tuple(images.shape)}.")
    gen = torch.Generator().manual_seed(int(seed))
    x = images.float() / 255.0  # (B, C, H, W)
    out = augment(x, config, gen)
    return images, (out.clamp(0, 1) * 255).round().to(torch.uint8)
