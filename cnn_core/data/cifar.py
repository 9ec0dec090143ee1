"""CIFAR-10 for transfer learning: some of its classes, and few-shot tasks drawn from the others.

The full set comes from :func:`cnn_core.data.full.load_full` (``cifar10-jpeg.zip`` in a data folder,
decoded once and cached). This module finds that zip (an explicit root, ``$CONVLAB_DATA_DIR``, or the
lab's ``../shared/datasets`` beside the project), keeps only some classes relabelled ``0..k-1``
(:func:`cifar_classes`) and draws a seeded few-shot training set of ``n`` images per class whose test
split is all of those classes' CIFAR test images (:func:`few_shot`). The pretrained backbone of
``assets/backbone`` learns :data:`PRETRAIN_CLASSES`; its few-shot bench uses :data:`HELD_OUT_CLASSES`.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch

from cnn_core.data.full import CIFAR10_CLASSES, DATA_DIR_ENV, load_full
from cnn_core.data.imageset import DatasetUnavailable, ImageSet

__all__ = [
    "HELD_OUT_CLASSES",
    "PRETRAIN_CLASSES",
    "cifar_classes",
    "cifar_root",
    "cifar_unavailable_reason",
    "few_shot",
]

PRETRAIN_CLASSES = ("airplane", "automobile", "bird", "cat", "deer")  # what the backbone learns
HELD_OUT_CLASSES = ("dog", "frog", "horse", "ship", "truck")  # never seen in pretraining
_LAB_DATASETS = Path(__file__).resolve().parents[3] / "shared" / "datasets"  # ../shared/datasets


def cifar_root(root: str | os.PathLike[str] | None = None) -> Path | None:
    """The first folder holding ``cifar10-jpeg.zip``: ``root``, ``$CONVLAB_DATA_DIR``, ``../shared/datasets``."""
    env = os.environ.get(DATA_DIR_ENV)
    candidates = [Path(root).expanduser()] if root is not None else []
    candidates += [Path(env).expanduser()] if env else []
    candidates.append(_LAB_DATASETS)
    for folder in candidates:
        if (folder / "cifar10-jpeg.zip").is_file():
            return folder
    return None


def cifar_unavailable_reason(root: str | os.PathLike[str] | None = None) -> str | None:
    """None when the CIFAR-10 zip can be found, else a sentence saying where it was looked for."""
    if cifar_root(root) is not None:
        return None
    return (
        f"cifar10-jpeg.zip is not in the given folder, ${DATA_DIR_ENV} or {_LAB_DATASETS}; "
        "put it in one of them to use CIFAR-10."
    )


def cifar_classes(classes: tuple[str, ...], root: str | os.PathLike[str] | None = None) -> ImageSet:
    """CIFAR-10 restricted to ``classes`` (in that order, relabelled ``0..k-1``), train and test.

    Mean and std are those of the chosen classes' training images.

    Raises
    ------
    DatasetUnavailable
        When the zip cannot be found or a class name is not a CIFAR-10 class.
    """
    unknown = [c for c in classes if c not in CIFAR10_CLASSES]
    if unknown or len(classes) < 2:
        raise DatasetUnavailable(
            f"Choose at least two CIFAR-10 classes from {', '.join(CIFAR10_CLASSES)}; not {', '.join(unknown) or classes}."
        )
    folder = cifar_root(root)
    if folder is None:
        raise DatasetUnavailable(cifar_unavailable_reason(root) or "")
    full = load_full("cifar10", folder, download=False)
    return _keep(full, classes, f"CIFAR-10: {', '.join(classes)}")


def _keep(full: ImageSet, classes: tuple[str, ...], name: str) -> ImageSet:
    ids = torch.tensor([full.classes.index(c) for c in classes])
    remap = torch.full((len(full.classes),), -1, dtype=torch.long)
    remap[ids] = torch.arange(len(classes))

    def pick(x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mask = torch.isin(y, ids)
        return x[mask].contiguous(), remap[y[mask]]

    x_tr, y_tr = pick(full.x_train, full.y_train)
    x_te, y_te = pick(full.x_test, full.y_test)
    xf = x_tr.float().div_(255.0)
    mean = tuple(float(m) for m in xf.mean(dim=(0, 2, 3)))
    std = tuple(max(float(s), 1e-3) for s in xf.std(dim=(0, 2, 3)))
    return ImageSet(name, x_tr, y_tr, x_te, y_te, tuple(classes), mean, std, full.source, full.notes)


def few_shot(data: ImageSet, per_class: int, seed: int = 0, name: str | None = None) -> ImageSet:
    """``per_class`` training images of each class, drawn with ``seed``; the test split is kept whole.

    Mean and std stay those of ``data`` (a few images give noisy statistics).

    Raises
    ------
    DatasetUnavailable
        When a class has fewer than ``per_class`` training images or ``per_class < 1``.
    """
    if per_class < 1:
        raise DatasetUnavailable(f"Ask for at least one image per class, not {per_class}.")
    gen = torch.Generator().manual_seed(seed)
    picks = []
    for k, cls in enumerate(data.classes):
        idx = torch.nonzero(data.y_train == k).flatten()
        if idx.numel() < per_class:
            raise DatasetUnavailable(f"Class {cls!r} has {idx.numel()} training images, fewer than {per_class}.")
        picks.append(idx[torch.randperm(idx.numel(), generator=gen)[:per_class]])
    order = torch.cat(picks)
    order = order[torch.randperm(order.numel(), generator=gen)]
    return ImageSet(
        name or f"{data.name}, {per_class} per class",
        data.x_train[order].contiguous(),
        data.y_train[order].contiguous(),
        data.x_test,
        data.y_test,
        data.classes,
        data.mean,
        data.std,
        data.source,
        data.notes,
    )
