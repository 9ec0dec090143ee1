"""How a model does on the test split: predictions, the confusion matrix, per-class scores, the
images behind a cell, the most confident mistakes, and snapshots taken while a run trains.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from cnn_core.data import ImageSet
from cnn_core.inspection.layers import eval_mode, first_conv, gray_kernels, kernel_weights, model_device
from cnn_core.training.recipe import use_bf16  # the same precision rule as training


@dataclass(frozen=True, eq=False)
class Predictions:
    """The model's answers on the first ``n`` test images."""

    y_true: np.ndarray  # (n,) int64
    y_pred: np.ndarray  # (n,) int64
    probs: np.ndarray  # (n, K) float32, softmax of the logits

    @property
    def confidence(self) -> np.ndarray:
        """(n,) probability the model gave its own answer."""
        return self.probs[np.arange(len(self.y_pred)), self.y_pred]

    @property
    def true_confidence(self) -> np.ndarray:
        """(n,) probability the model gave the true class."""
        return self.probs[np.arange(len(self.y_true)), self.y_true]

    @property
    def accuracy(self) -> float:
        return float(np.mean(self.y_true == self.y_pred)) if len(self.y_true) else 0.0


@torch.inference_mode()
def _logits(model: nn.Module, data: ImageSet, x: torch.Tensor, batch_size: int, fast: bool) -> torch.Tensor:
    dev = model_device(model)
    bf16 = fast and use_bf16("auto", dev)
    outs = []
    for i in range(0, int(x.shape[0]), batch_size):
        xb = data.normalize(x[i : i + batch_size].to(dev))  # (B, C, H, W) float32
        if fast:
            xb = xb.contiguous(memory_format=torch.channels_last)
        with torch.autocast(dev.type, dtype=torch.bfloat16, enabled=bf16):
            outs.append(model(xb).float().cpu())
    return torch.cat(outs) if outs else torch.zeros(0, data.num_classes)


def predict_test_set(
    model: nn.Module, data: ImageSet, n: int | None = None, batch_size: int = 500, fast: bool = False
) -> Predictions:
    """Run ``model`` on the first ``n`` test images (all when ``None``), in eval mode, without gradients.

    ``fast=True`` uses channels-last inputs and bfloat16 autocast where the hardware has it (as
    training does): about three times quicker on such CPUs, probabilities good to 2-3 digits.
    """
    x, y = data.x_test[:n], data.y_test[:n]
    with eval_mode(model):
        logits = _logits(model, data, x, batch_size, fast)  # (n, K)
    probs = torch.softmax(logits, dim=1).numpy().astype(np.float32)
    return Predictions(y.numpy().astype(np.int64), probs.argmax(axis=1).astype(np.int64), probs)


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, num_classes: int) -> np.ndarray:
    """Counts ``(K, K)`` int64: row = true class, column = predicted class."""
    t = np.asarray(y_true, dtype=np.int64)
    p = np.asarray(y_pred, dtype=np.int64)
    if t.shape != p.shape:
        raise ValueError(f"y_true and y_pred differ in length ({t.shape} vs {p.shape}).")
    if t.size and (min(t.min(), p.min()) < 0 or max(t.max(), p.max()) >= num_classes):
        raise ValueError(f"Class indices must lie in 0..{num_classes - 1}.")
    return np.bincount(t * num_classes + p, minlength=num_classes * num_classes).reshape(num_classes, num_classes)


def row_normalise(confusion: np.ndarray) -> np.ndarray:
    """Each row divided by its total (the share of each true class predicted as each class); empty rows stay 0."""
    c = np.asarray(confusion, dtype=np.float64)
    totals = c.sum(axis=1, keepdims=True)
    return np.divide(c, totals, out=np.zeros_like(c), where=totals > 0)


@dataclass(frozen=True)
class ClassReport:
    """Per-class precision, recall and F1 from a confusion matrix (NaN where undefined)."""

    precision: np.ndarray  # (K,) correct / predicted as this class
    recall: np.ndarray  # (K,) correct / truly this class
    f1: np.ndarray  # (K,) harmonic mean of the two
    support: np.ndarray  # (K,) int64 test images truly of this class
    accuracy: float


def class_report(confusion: np.ndarray) -> ClassReport:
    """Precision, recall, F1 and support per class; NaN when a class was never predicted / never present."""
    c = np.asarray(confusion, dtype=np.float64)
    tp = np.diag(c)
    predicted, support = c.sum(axis=0), c.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(predicted > 0, tp / predicted, np.nan)
        recall = np.where(support > 0, tp / support, np.nan)
        denom = precision + recall
        f1 = np.where(denom > 0, 2 * precision * recall / denom, np.where(np.isnan(denom), np.nan, 0.0))
    total = float(c.sum())
    return ClassReport(precision, recall, f1, support.astype(np.int64), float(tp.sum() / total) if total else 0.0)


def cell_examples(pred: Predictions, true_class: int, pred_class: int, limit: int | None = None) -> np.ndarray:
    """Indices of test images of ``true_class`` predicted as ``pred_class``, most confident first."""
    idx = np.flatnonzero((pred.y_true == true_class) & (pred.y_pred == pred_class))
    idx = idx[np.argsort(-pred.confidence[idx], kind="stable")]
    return idx[:limit]


def confident_mistakes(pred: Predictions, limit: int | None = None) -> np.ndarray:
    """Indices of wrongly classified test images, the most confident mistakes first."""
    idx = np.flatnonzero(pred.y_true != pred.y_pred)
    idx = idx[np.argsort(-pred.confidence[idx], kind="stable")]
    return idx[:limit]


def most_confused(confusion: np.ndarray) -> tuple[int, int]:
    """(true, predicted) of the largest off-diagonal count: the commonest confusion; (0, 0) when there is none."""
    off = confusion - np.diag(np.diag(confusion))
    if not off.any():
        return 0, 0
    t, p = np.unravel_index(int(np.argmax(off)), off.shape)
    return int(t), int(p)


@dataclass(frozen=True)
class Snapshot:
    """What a training run looked like at one moment (see :func:`take_snapshot`)."""

    epoch: int
    step: int
    val_acc: float  # accuracy on the images used for ``confusion``
    first_kernels: np.ndarray  # (O, C, kh, kw) float32; (0, 0, 0, 0) when the model has no convolution
    confusion: np.ndarray  # (K, K) int64 counts, rows = true class


def take_snapshot(model: nn.Module, data: ImageSet, *, epoch: int, step: int, n_eval: int = 1000) -> Snapshot:
    """Record the first-layer kernels, the confusion matrix and the accuracy of ``model`` now.

    Runs on the model's own device, in eval mode and without gradients, on at most ``n_eval``
    test images (bfloat16 where training would use it); the model's train/eval mode is restored.
    """
    conv = first_conv(model)
    kernels = kernel_weights(conv) if conv is not None else np.zeros((0, 0, 0, 0), np.float32)
    pred = predict_test_set(model, data, n=n_eval, batch_size=n_eval, fast=True)
    cm = confusion_matrix(pred.y_true, pred.y_pred, data.num_classes)
    return Snapshot(int(epoch), int(step), pred.accuracy, kernels.astype(np.float32), cm)


def kernel_range(snapshots: Sequence[Snapshot]) -> float:
    """The largest magnitude of any first-layer kernel (summed over its input channels) in ``snapshots``.

    One colour scale for all moments of a run, so a kernel that grows looks stronger; 1.0 when
    every kernel is zero or there are none.
    """
    tops = [float(np.abs(gray_kernels(s.first_kernels)).max()) for s in snapshots if s.first_kernels.size]
    return max(tops, default=0.0) or 1.0
