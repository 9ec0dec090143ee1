"""The one dataset type every loader returns, :class:`ImageSet`, and the one way loaders build it.

Images are kept as uint8 tensors ``(N, C, H, W)`` so that training slices batches straight out of
memory (no per-sample PIL work); :meth:`ImageSet.normalize` turns them into model inputs.
Anything that cannot be loaded raises :class:`DatasetUnavailable` (a ``ValueError``) with a
sentence a person can act on.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

__all__ = ["DatasetUnavailable", "ImageSet", "make_set"]


class DatasetUnavailable(ValueError):
    """A dataset cannot be loaded; the message says why and what to do about it."""


@dataclass(frozen=True, eq=False)
class ImageSet:
    """A whole image-classification dataset held in memory.

    Attributes
    ----------
    name : str
        Short display name, e.g. ``"MNIST (bundled subset)"``.
    x_train, x_test : torch.Tensor
        uint8 images ``(N, C, H, W)``, values 0..255.
    y_train, y_test : torch.Tensor
        int64 class indices ``(N,)``.
    classes : tuple of str
        Class names; ``classes[y]`` names label ``y``.
    mean, std : tuple of float
        Per-channel statistics of ``x_train / 255`` used by :meth:`normalize`.
    source : str
        Where the data came from (file, folder, generator) and its license when known.
    notes : tuple of str
        Things a person should know (skipped files, resizing, ...).
    """

    name: str
    x_train: torch.Tensor  # (N, C, H, W) uint8
    y_train: torch.Tensor  # (N,) int64
    x_test: torch.Tensor  # (M, C, H, W) uint8
    y_test: torch.Tensor  # (M,) int64
    classes: tuple[str, ...]
    mean: tuple[float, ...]
    std: tuple[float, ...]
    source: str = ""
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    @property
    def input_shape(self) -> tuple[int, int, int]:
        """``(C, H, W)`` of one image."""
        _, c, h, w = self.x_train.shape
        return int(c), int(h), int(w)

    def normalize(self, x: torch.Tensor) -> torch.Tensor:
        """uint8 ``(B, C, H, W)`` -> float32 ``(x / 255 - mean) / std`` on ``x``'s device."""
        mean = torch.tensor(self.mean, dtype=torch.float32, device=x.device).view(1, -1, 1, 1)
        std = torch.tensor(self.std, dtype=torch.float32, device=x.device).view(1, -1, 1, 1)
        return (x.float().div_(255.0) - mean) / std

    def subset(self, n_train: int | None = None, n_test: int | None = None) -> ImageSet:
        """The first ``n_train`` / ``n_test`` samples (handy for quick demos and tests)."""
        return ImageSet(
            name=self.name,
            x_train=self.x_train[:n_train],
            y_train=self.y_train[:n_train],
            x_test=self.x_test[:n_test],
            y_test=self.y_test[:n_test],
            classes=self.classes,
            mean=self.mean,
            std=self.std,
            source=self.source,
            notes=self.notes,
        )


def make_set(
    name: str,
    x_train: np.ndarray | torch.Tensor,
    y_train: np.ndarray | torch.Tensor,
    x_test: np.ndarray | torch.Tensor,
    y_test: np.ndarray | torch.Tensor,
    classes: tuple[str, ...],
    source: str,
    notes: tuple[str, ...] = (),
) -> ImageSet:
    """Build an :class:`ImageSet`, adding the channel axis and computing mean/std."""

    def imgs(a: np.ndarray | torch.Tensor) -> torch.Tensor:
        t = torch.as_tensor(np.ascontiguousarray(a) if isinstance(a, np.ndarray) else a).to(torch.uint8)
        if t.ndim == 3:  # (N, H, W) -> (N, 1, H, W)
            t = t.unsqueeze(1)
        return t.contiguous()

    def labels(a: np.ndarray | torch.Tensor) -> torch.Tensor:
        return torch.as_tensor(np.asarray(a, dtype=np.int64) if isinstance(a, np.ndarray) else a).long()

    xt = imgs(x_train)
    xf = xt.float().div_(255.0)
    mean = tuple(float(m) for m in xf.mean(dim=(0, 2, 3)))
    std = tuple(max(float(s), 1e-3) for s in xf.std(dim=(0, 2, 3)))
    return ImageSet(name, xt, labels(y_train), imgs(x_test), labels(y_test), tuple(classes), mean, std, source, notes)
