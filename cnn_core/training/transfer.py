"""Transfer learning: ConvLab's own pretrained backbone, a new head, and which layers train.

The backbone (:func:`backbone_config`) is a small CNN for 32 x 32 colour images, pretrained by
``scripts/pretrain_backbone.py`` on five CIFAR-10 classes and shipped in ``assets/backbone``
(:data:`BACKBONE_FILE`, saved with :func:`cnn_core.training.save_model`). :func:`load_backbone`
reads it safely (a sentence for a missing or corrupt file); :func:`with_new_head` gives the same
network with a fresh last layer for the learner's classes and the pretrained weights everywhere
else; :func:`trainable_layers` says which layers a :data:`FreezeMode` trains, as the value of
:attr:`TrainConfig.train_only`, so the one training loop (:func:`cnn_core.training.train`) does
fine-tuning too. :func:`as_backbone_input` makes any :class:`ImageSet` 3 x 32 x 32 and
:func:`check_few_shot` refuses a set the comparison cannot use (one class, one image per class).
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Any, Literal

import torch
import torch.nn.functional as F
from torch import nn

from cnn_core import models
from cnn_core.data import DatasetUnavailable, ImageSet
from cnn_core.models.layers import BatchNormSpec, Conv2dSpec, DenseSpec, GlobalAvgPoolSpec
from cnn_core.training.config import TrainConfig
from cnn_core.training.files import ModelFileError, load_model

__all__ = [
    "BACKBONE_FILE",
    "BACKBONE_NAME",
    "BACKBONE_SIZE",
    "FREEZE_MODES",
    "MIN_CLASSES",
    "MIN_PER_CLASS",
    "Backbone",
    "BackboneError",
    "FreezeMode",
    "as_backbone_input",
    "backbone_config",
    "frozen_modules",
    "check_few_shot",
    "few_shot_run",
    "load_backbone",
    "scratch_model",
    "trainable_layers",
    "with_new_head",
]

BACKBONE_FILE = Path(__file__).resolve().parents[2] / "assets" / "backbone" / "backbone.pt"
BACKBONE_NAME = "ConvLab CIFAR backbone"
BACKBONE_SIZE = 32  # input side in pixels; a learner's images are resized to it
MIN_CLASSES, MIN_PER_CLASS = 2, 2

FreezeMode = Literal["frozen", "last_block", "all"]
FREEZE_MODES: dict[FreezeMode, str] = {
    "frozen": "frozen: new head only",
    "last_block": "last block unfrozen",
    "all": "all unfrozen",
}


class BackboneError(ValueError):
    """The pretrained backbone cannot be used; the message says why."""


def backbone_config(num_classes: int = 5, widths: tuple[int, int, int] = (32, 64, 128)) -> models.ModelConfig:
    """The backbone network: three blocks of 3x3 conv, 2x2 max pool, batch norm, ReLU; global average; Dense.

    The same block as :func:`cnn_core.models.fast_config`; the global average pooling before the
    single Dense layer makes the features one number per feature map, which a new head reads well
    from a few images.
    """
    blocks = tuple(
        layer
        for w in widths
        for layer in (
            Conv2dSpec(w, 3, padding="same", activation="none"),
            models.PoolSpec("max", 2),
            BatchNormSpec(),
            models.ActivationSpec("relu"),
        )
    )
    layers = blocks + (GlobalAvgPoolSpec(), DenseSpec(num_classes, "none"))
    return models.ModelConfig(BACKBONE_NAME, (3, BACKBONE_SIZE, BACKBONE_SIZE), layers)


@dataclasses.dataclass(frozen=True)
class Backbone:
    """A loaded backbone: its network config, its weights and the model card's facts (``meta``)."""

    config: models.ModelConfig
    state: dict[str, torch.Tensor]
    meta: dict[str, Any]


def load_backbone(source: bytes | str | Path | None = None) -> Backbone:
    """Read the pretrained backbone (default :data:`BACKBONE_FILE`) with ``weights_only=True``.

    Raises
    ------
    BackboneError
        When the file is missing, empty, corrupt, carries code or is not a backbone.
    """
    src: bytes | str | Path = BACKBONE_FILE if source is None else source
    if isinstance(src, (str, Path)) and not Path(src).is_file():
        raise BackboneError(
            f"The pretrained backbone {Path(src).name} is missing; run scripts/pretrain_backbone.py to make it. "
            "Training from scratch still works."
        )
    try:
        model, cfg, meta = load_model(src, lambda c: models.build(models.from_dict(c)))
    except ModelFileError as err:
        raise BackboneError(
            f"The pretrained backbone cannot be read: {err} Training from scratch still works."
        ) from None
    config = models.from_dict(cfg)
    if config.input_shape != (3, BACKBONE_SIZE, BACKBONE_SIZE):
        raise BackboneError(f"The backbone file takes {config.input_shape} images, not 3 x 32 x 32.")
    return Backbone(config, {k: v.clone() for k, v in model.state_dict().items()}, meta)


def _head_name(config: models.ModelConfig) -> str:
    names = [m.name for m in models.plan(config).modules if m.name.startswith("fc")]
    if not names:
        raise BackboneError("The backbone has no Dense layer to replace with a new head.")
    return names[-1]


def with_new_head(backbone: Backbone, num_classes: int, seed: int = 0) -> tuple[models.ModelConfig, dict]:
    """The backbone with a fresh Dense head of ``num_classes`` outputs: (config, starting state dict).

    Every tensor but the head's is the pretrained one; the head is initialised as torch does,
    from ``seed``.
    """
    config = dataclasses.replace(
        models.with_num_classes(backbone.config, num_classes), name=f"{BACKBONE_NAME}, fine-tuned"
    )
    head = _head_name(config)
    torch.manual_seed(seed)
    fresh = models.build(config).state_dict()
    state = {k: (v if k.startswith(head + ".") else backbone.state[k]) for k, v in fresh.items()}
    return config, state


def scratch_model(config: models.ModelConfig, num_classes: int) -> models.ModelConfig:
    """The same network as ``config`` (a backbone's), with ``num_classes`` outputs, to train from random weights."""
    return dataclasses.replace(models.with_num_classes(config, num_classes), name=f"{BACKBONE_NAME}, from scratch")


def trainable_layers(config: models.ModelConfig, mode: FreezeMode) -> tuple[str, ...]:
    """Module names whose parameters train in ``mode`` (``()``: all), for ``TrainConfig.train_only``.

    ``"frozen"``: the head only; ``"last_block"``: the last convolution and everything after it;
    ``"all"``: every layer.
    """
    if mode not in FREEZE_MODES:
        raise ValueError(f"Unknown freeze mode {mode!r}; choose one of {', '.join(FREEZE_MODES)}.")
    if mode == "all":
        return ()
    names = [m.name for m in models.plan(config).modules]
    if mode == "frozen":
        return (_head_name(config),)
    last_conv = max(i for i, n in enumerate(names) if n.startswith("conv"))
    return tuple(names[last_conv:])


# Peak learning rates of the few-shot recipe: a new head alone takes big steps, pretrained layers small ones.
FEW_SHOT_LR: dict[FreezeMode | None, float] = {"frozen": 1e-2, "last_block": 3e-3, "all": 1e-3, None: 3e-3}


FEW_SHOT_EPOCHS = 4  # a few-shot run's steps are spread over this many passes, each over the images repeated


def few_shot_run(
    data: ImageSet, mode: FreezeMode | None, config: models.ModelConfig | None = None, steps: int = 120, seed: int = 0
) -> tuple[ImageSet, TrainConfig]:
    """The training set and recipe of a few-shot run of about ``steps`` steps: fine-tuning in ``mode``, or scratch (None).

    A few dozen images make epochs of one or two steps (and an evaluation and a checkpoint after
    each), so the images are repeated to make :data:`FEW_SHOT_EPOCHS` longer epochs; augmentation
    (random flips, 2-pixel shifts) makes the repeats differ. Batches of up to 32 images, ConvLab's
    one-cycle AdamW with the mode's peak learning rate (:data:`FEW_SHOT_LR`); fine-tuning trains
    only :func:`trainable_layers` of ``config`` (default: the backbone's). Runs with the same
    ``data``, ``steps`` and ``seed`` take the same steps over the same images, whatever the mode.
    """
    n = int(data.x_train.shape[0])
    if n == 0:
        raise DatasetUnavailable("The few-shot set has no training images.")
    bs = max(1, min(32, n))
    epochs = max(1, min(FEW_SHOT_EPOCHS, steps))
    per_epoch = max(1, math.ceil(steps / epochs))
    times = math.ceil(per_epoch * bs / n)
    x = data.x_train.repeat(times, 1, 1, 1)[: per_epoch * bs]  # (per_epoch * bs, C, H, W)
    y = data.y_train.repeat(times)[: per_epoch * bs]
    tiled = dataclasses.replace(data, x_train=x.contiguous(), y_train=y.contiguous())
    train_only = () if mode is None else trainable_layers(config or backbone_config(), mode)
    cfg = TrainConfig(
        lr=FEW_SHOT_LR[mode], batch_size=bs, epochs=epochs, augment_flip=True, augment_shift=2, seed=seed,
        evals_per_epoch=min(3, per_epoch), eval_samples=500, train_only=train_only,
    )  # fmt: skip
    return tiled, cfg


def as_backbone_input(data: ImageSet) -> ImageSet:
    """``data`` as 3 x 32 x 32 images (grey repeated to RGB, resized with antialiasing), new statistics."""
    c, h, w = data.input_shape
    if (c, h, w) == (3, BACKBONE_SIZE, BACKBONE_SIZE):
        return data

    def fit(x: torch.Tensor) -> torch.Tensor:
        if x.shape[0] == 0:
            return torch.zeros((0, 3, BACKBONE_SIZE, BACKBONE_SIZE), dtype=torch.uint8)
        xf = x.float()
        if xf.shape[1] == 1:
            xf = xf.expand(-1, 3, -1, -1)
        if xf.shape[-2:] != (BACKBONE_SIZE, BACKBONE_SIZE):
            xf = F.interpolate(xf, size=(BACKBONE_SIZE, BACKBONE_SIZE), mode="bilinear", antialias=True)
        return xf.round().clamp(0, 255).to(torch.uint8).contiguous()

    x_tr, x_te = fit(data.x_train), fit(data.x_test)
    xf = x_tr.float().div_(255.0)
    mean = tuple(float(m) for m in xf.mean(dim=(0, 2, 3)))
    std = tuple(max(float(s), 1e-3) for s in xf.std(dim=(0, 2, 3)))
    note = f"Resized from {c} x {h} x {w} to 3 x {BACKBONE_SIZE} x {BACKBONE_SIZE} for the backbone."
    return dataclasses.replace(data, x_train=x_tr, x_test=x_te, mean=mean, std=std, notes=(*data.notes, note))


def check_few_shot(data: ImageSet) -> None:
    """Raise :class:`DatasetUnavailable` with a sentence unless ``data`` has 2+ classes with 2+ images each.

    Both splits count: a class needs an image to learn from and one to be tested on.
    """
    if data.num_classes < MIN_CLASSES:
        raise DatasetUnavailable(
            f"The set has {data.num_classes} class; fine-tuning compares at least {MIN_CLASSES} classes. "
            "Add a folder (or photos) for another class."
        )
    counts = torch.bincount(data.y_train, minlength=data.num_classes) + torch.bincount(
        data.y_test, minlength=data.num_classes
    )
    few = [f"{data.classes[k]} ({int(n)})" for k, n in enumerate(counts) if n < MIN_PER_CLASS]
    if few:
        raise DatasetUnavailable(
            f"Each class needs at least {MIN_PER_CLASS} images (one to learn from, one to test on); "
            f"too few in: {', '.join(few)}."
        )
    missing = [
        data.classes[k] for k, n in enumerate(torch.bincount(data.y_train, minlength=data.num_classes)) if n == 0
    ]
    if missing or data.x_test.shape[0] == 0:
        raise DatasetUnavailable("Each class needs images in both the training and the test split; add a few more.")


def frozen_modules(model: nn.Module, train_only: tuple[str, ...]) -> list[nn.Module]:
    """Set ``requires_grad`` by ``train_only`` (module names; empty: all train); return frozen norm layers.

    The frozen batch-norm layers returned are kept in eval mode while training, so their running
    statistics stay the pretrained ones.
    """
    keep = tuple(train_only)
    children = dict(model.named_children())
    unknown = [n for n in keep if n not in children]
    if unknown:
        raise ValueError(f"The model has no layer named {', '.join(unknown)} to train; it has {', '.join(children)}.")
    frozen: list[nn.Module] = []
    for name, module in model.named_children():
        trains = not keep or name in keep
        for p in module.parameters():
            p.requires_grad_(trains)
        if not trains and isinstance(module, nn.modules.batchnorm._BatchNorm):
            frozen.append(module)
    return frozen
