"""Looking inside a trained classifier: the numbers behind the "Inside the model" page.

This module owns everything ConvLab computes about a trained ``nn.Module`` once training is
done (or while it runs, on a copy):

* :func:`feature_maps` - every leaf layer's output for one image, by forward hooks;
* :func:`first_conv`, :func:`conv_layers` - the learned kernels;
* :func:`nearest_preset` - which hand-made kernel of :mod:`cnn_core.kernels` a learned kernel
  resembles, by cosine similarity of the zero-mean, unit-norm kernels (sign kept);
* :func:`predict_test_set`, :func:`confusion_matrix`, :func:`class_report`,
  :func:`cell_examples`, :func:`confident_mistakes` - how the model does on the test split;
* :func:`take_snapshot` / :class:`Snapshot` - first-layer kernels, confusion matrix and accuracy
  at one moment of a training run (the training worker calls it after every epoch);
* :func:`saliency` and :func:`grad_cam` - which pixels / regions mattered for a class, by autograd;
* :func:`preprocess` - a person's photo or drawing turned into exactly what the model was trained
  on (grayscale, invert, crop and centre like MNIST, resize, normalise), with every stage kept;
* :func:`tile` and :func:`per_map_scale` - laying many small maps out as one picture.

Every function works on plain ``nn.Module`` objects and tensors, restores the model's train/eval
mode, and never imports a UI library.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn

from cnn_core.data import ImageSet
from cnn_core.kernels import PRESETS
from cnn_core.training import _use_bf16  # the same precision rule as training

__all__ = [
    "ClassReport",
    "GradCam",
    "KernelMatch",
    "LayerActivation",
    "Predictions",
    "Preprocessed",
    "Snapshot",
    "Stage",
    "Tiled",
    "cell_examples",
    "class_report",
    "confident_mistakes",
    "confusion_matrix",
    "conv_layers",
    "describe_module",
    "feature_maps",
    "first_conv",
    "grad_cam",
    "leaf_modules",
    "nearest_preset",
    "per_map_scale",
    "predict_proba",
    "predict_test_set",
    "preprocess",
    "preset_similarities",
    "row_normalise",
    "saliency",
    "spatial_layers",
    "take_snapshot",
    "tile",
]

FLAT_SHARE = 0.8  # a kernel whose mean carries this share of its energy is "flat" (an average, a blur)


# --------------------------------------------------------------------------------------------
# Small helpers on modules
# --------------------------------------------------------------------------------------------


def _device(model: nn.Module) -> torch.device:
    p = next(iter(model.parameters()), None)
    return p.device if p is not None else torch.device("cpu")


@contextlib.contextmanager
def _eval_mode(model: nn.Module) -> Iterator[nn.Module]:
    """Put ``model`` in eval mode and switch off in-place activations; restore both afterwards."""
    was_training = model.training
    inplace = [m for m in model.modules() if getattr(m, "inplace", False) is True]
    for m in inplace:
        m.inplace = False  # an in-place ReLU would overwrite the previous layer's recorded output
    model.eval()
    try:
        yield model
    finally:
        for m in inplace:
            m.inplace = True
        model.train(was_training)


def first_conv(model: nn.Module) -> nn.Conv2d | None:
    """The first ``nn.Conv2d`` in ``model`` (in registration order), or ``None`` if it has none."""
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            return m
    return None


def conv_layers(model: nn.Module) -> list[tuple[str, nn.Conv2d]]:
    """Every ``nn.Conv2d`` of ``model`` as ``(qualified name, module)``, first to last."""
    return [(name, m) for name, m in model.named_modules() if isinstance(m, nn.Conv2d)]


def leaf_modules(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """Modules without children, in registration order (for ``nn.Sequential``: execution order)."""
    return [(name, m) for name, m in model.named_modules() if name and not any(True for _ in m.children())]


def describe_module(m: nn.Module) -> str:
    """A short description such as ``"Conv2d 1→16, 3x3"`` or ``"MaxPool2d 2x2"``."""
    if isinstance(m, nn.Conv2d):
        kh, kw = m.kernel_size
        extra = "" if m.stride == (1, 1) else f", stride {m.stride[0]}"
        return f"Conv2d {m.in_channels}→{m.out_channels}, {kh}x{kw}{extra}"
    if isinstance(m, nn.MaxPool2d | nn.AvgPool2d):
        k = m.kernel_size if isinstance(m.kernel_size, int) else m.kernel_size[0]
        return f"{type(m).__name__} {k}x{k}"
    if isinstance(m, nn.Linear):
        return f"Linear {m.in_features}→{m.out_features}"
    if isinstance(m, nn.BatchNorm2d | nn.BatchNorm1d):
        return f"{type(m).__name__} ({m.num_features})"
    return type(m).__name__


# --------------------------------------------------------------------------------------------
# Feature maps
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LayerActivation:
    """One leaf layer's output for one image."""

    name: str  # qualified module name, e.g. "conv1" or "0"
    description: str  # e.g. "Conv2d 1→16, 3x3"
    values: np.ndarray  # float32, (C, H, W) for feature maps or (N,) for a flat vector

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(int(s) for s in self.values.shape)

    @property
    def is_spatial(self) -> bool:
        return self.values.ndim == 3


@torch.no_grad()
def feature_maps(model: nn.Module, x: torch.Tensor) -> list[LayerActivation]:
    """The output of every leaf layer of ``model`` for one image, recorded by forward hooks.

    Parameters
    ----------
    model : nn.Module
        Its train/eval mode is restored afterwards (it runs in eval mode).
    x : torch.Tensor
        One normalised image ``(1, C, H, W)`` (or ``(C, H, W)``).

    Returns
    -------
    list of LayerActivation
        In the order the layers ran; values ``(C, H, W)`` for 4-D outputs, ``(N,)`` for flat ones.
    """
    if x.ndim == 3:
        x = x.unsqueeze(0)
    records: list[LayerActivation] = []
    handles = []

    def hook_for(name: str, m: nn.Module):
        def hook(_mod: nn.Module, _inp: object, out: object) -> None:
            if isinstance(out, torch.Tensor) and out.shape[0] == 1 and out.ndim in (2, 4):
                v = out[0].detach().float().cpu().numpy().copy()  # (C, H, W) or (N,)
                records.append(LayerActivation(name, describe_module(m), v))

        return hook

    with _eval_mode(model):
        for name, m in leaf_modules(model):
            handles.append(m.register_forward_hook(hook_for(name, m)))
        try:
            model(x.to(_device(model)))
        finally:
            for h in handles:
                h.remove()
    return records


def spatial_layers(model: nn.Module, x: torch.Tensor) -> list[str]:
    """Names of leaf layers whose output is a stack of feature maps (candidates for Grad-CAM)."""
    return [a.name for a in feature_maps(model, x) if a.is_spatial and a.shape[1] * a.shape[2] > 1]


# --------------------------------------------------------------------------------------------
# Laying maps out
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tiled:
    """Many ``(h, w)`` maps laid out in a grid, separated by NaN gaps."""

    values: np.ndarray  # (rows*(h+gap)-gap, cols*(w+gap)-gap) float, NaN in the gaps
    index: np.ndarray  # same shape, int: which map each cell belongs to (-1 in gaps)
    rows: int
    cols: int
    tile_shape: tuple[int, int]  # (h, w)


def tile(maps: np.ndarray, cols: int | None = None, gap: int = 1) -> Tiled:
    """Lay ``maps`` ``(N, h, w)`` out as one grid, row by row.

    ``cols`` defaults to 8 (16 for maps of 8 pixels or fewer), never more than ``N``.
    """
    maps = np.asarray(maps, dtype=np.float32)
    n, h, w = maps.shape
    if cols is None:
        cols = 16 if max(h, w) <= 8 else 8
    cols = max(1, min(cols, n))
    rows = math.ceil(n / cols)
    out = np.full((rows * (h + gap) - gap, cols * (w + gap) - gap), np.nan, dtype=np.float32)
    index = np.full(out.shape, -1, dtype=np.int64)
    for i in range(n):
        r, c = divmod(i, cols)
        y, xx = r * (h + gap), c * (w + gap)
        out[y : y + h, xx : xx + w] = maps[i]
        index[y : y + h, xx : xx + w] = i
    return Tiled(out, index, rows, cols, (h, w))


def per_map_scale(maps: np.ndarray) -> np.ndarray:
    """Divide each map ``(N, h, w)`` by its own largest magnitude, so each spans at most [-1, 1].

    Maps that are all zero stay zero. The pattern of a weak map becomes visible, at the cost of
    colours no longer being comparable between maps.
    """
    maps = np.asarray(maps, dtype=np.float32)
    top = np.abs(maps).reshape(len(maps), -1).max(axis=1) if maps.size else np.zeros(0)
    top = np.where(top > 0, top, 1.0).astype(np.float32)
    return maps / top[:, None, None]


# --------------------------------------------------------------------------------------------
# Learned kernels and the hand-made presets
# --------------------------------------------------------------------------------------------


def _fit(kernel: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Centre-crop or zero-pad ``kernel`` to ``shape`` (each axis separately)."""
    out = np.asarray(kernel, dtype=np.float64)
    for axis, want in enumerate(shape):
        have = out.shape[axis]
        if have > want:
            start = (have - want) // 2
            out = np.take(out, range(start, start + want), axis=axis)
        elif have < want:
            before = (want - have) // 2
            pad = [(0, 0), (0, 0)]
            pad[axis] = (before, want - have - before)
            out = np.pad(out, pad)
    return out


def _unit(k: np.ndarray) -> np.ndarray | None:
    z = np.asarray(k, dtype=np.float64) - float(np.mean(k))
    n = float(np.linalg.norm(z))
    return z / n if n > 1e-12 else None


def _candidates(shape: tuple[int, int]) -> dict[str, np.ndarray]:
    """Preset name -> preset kernel fitted to ``shape``; patterns equal after zero-mean kept once."""
    out: dict[str, np.ndarray] = {}
    seen: list[np.ndarray] = []
    for name, p in PRESETS.items():
        if p.partner is not None:  # Sobel magnitude is two kernels combined, not one pattern
            continue
        fitted = _fit(p.kernel, shape)
        u = _unit(fitted)
        if u is None or any(abs(float(np.sum(u * s))) > 1 - 1e-9 for s in seen):
            continue  # a constant kernel (box blur) has no pattern; duplicates / exact inverses kept once
        if p.kernel.shape != shape:
            how = "centre" if p.kernel.shape[0] > shape[0] else "padded to"
            name = f"{name} ({how} {shape[0]}x{shape[1]})"
        out[name] = fitted
        seen.append(u)
    return out


def _as_2d(kernel: np.ndarray) -> np.ndarray:
    k = np.asarray(kernel, dtype=np.float64)
    if k.ndim == 3:  # (C, kh, kw): the response to a gray image is that of the channel sum
        k = k.sum(axis=0)
    if k.ndim != 2 or k.size == 0:
        raise ValueError(f"A kernel must be (kh, kw) or (C, kh, kw), not shape {k.shape}.")
    return k


def preset_similarities(kernel: np.ndarray) -> dict[str, float]:
    """Signed cosine similarity of ``kernel``'s zero-mean pattern with every preset's.

    1 means the same pattern (up to scale and a constant offset), -1 the inverted pattern, 0
    unrelated. A ``(C, kh, kw)`` kernel is compared through its sum over channels (what it does to
    a gray image). Presets of another size are centre-cropped or zero-padded to the kernel's size.
    """
    k = _as_2d(kernel)
    u = _unit(k)
    cands = _candidates(k.shape)
    if u is None:
        return dict.fromkeys(cands, 0.0)
    return {name: float(np.sum(u * _unit(c))) for name, c in cands.items()}


@dataclass(frozen=True)
class KernelMatch:
    """The preset a learned kernel resembles most."""

    preset: str  # preset name, possibly with "(centre 3x3)" when it was cropped
    similarity: float  # signed cosine similarity in [-1, 1]
    compared: np.ndarray  # the preset kernel as compared (same shape as the learned kernel)
    flat: bool = False  # the kernel is mostly a constant: an average (blur) or its negative

    @property
    def inverted(self) -> bool:
        return self.similarity < 0

    @property
    def phrase(self) -> str:
        """E.g. ``"looks most like an inverted Sobel x (similarity -0.83)"``."""
        what = f"an inverted {self.preset}" if self.inverted else self.preset
        return f"looks most like {what} (similarity {self.similarity:+.2f})"


def nearest_preset(kernel: np.ndarray) -> KernelMatch:
    """The hand-made preset whose pattern is closest to ``kernel``, sign included.

    Kernels whose mean carries at least :data:`FLAT_SHARE` of their energy are mostly an average
    of their neighbourhood; they match "Box blur" with similarity ``±sqrt(share)`` (the cosine
    with a constant kernel). Otherwise the preset with the largest ``|similarity|`` of the
    zero-mean patterns wins (see :func:`preset_similarities`); on a tie the positive one.

    Parameters
    ----------
    kernel : np.ndarray
        ``(kh, kw)`` or ``(C, kh, kw)``.
    """
    k = _as_2d(kernel)
    energy = float(np.sum(k * k))
    share = k.size * float(np.mean(k)) ** 2 / energy if energy > 0 else 0.0
    if energy == 0 or share >= FLAT_SHARE:
        sim = math.copysign(math.sqrt(share), float(np.mean(k))) if energy > 0 else 0.0
        box = np.full(k.shape, 1.0 / k.size)
        return KernelMatch("Box blur", sim, box, flat=True)
    sims = preset_similarities(k)
    name = max(sims, key=lambda n: (round(abs(sims[n]), 9), sims[n] > 0))
    return KernelMatch(name, sims[name], _candidates(k.shape)[name])


# --------------------------------------------------------------------------------------------
# Test-set predictions and the confusion matrix
# --------------------------------------------------------------------------------------------


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
    def accuracy(self) -> float:
        return float(np.mean(self.y_true == self.y_pred)) if len(self.y_true) else 0.0


@torch.inference_mode()
def _logits(model: nn.Module, data: ImageSet, x: torch.Tensor, batch_size: int, fast: bool) -> torch.Tensor:
    dev = _device(model)
    bf16 = fast and _use_bf16("auto", dev)
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
    with _eval_mode(model):
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


# --------------------------------------------------------------------------------------------
# Snapshots during training
# --------------------------------------------------------------------------------------------


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
    kernels = (
        conv.weight.detach().float().cpu().numpy().copy() if conv is not None else np.zeros((0, 0, 0, 0), np.float32)
    )
    pred = predict_test_set(model, data, n=n_eval, batch_size=n_eval, fast=True)
    cm = confusion_matrix(pred.y_true, pred.y_pred, data.num_classes)
    return Snapshot(int(epoch), int(step), pred.accuracy, kernels.astype(np.float32), cm)


# --------------------------------------------------------------------------------------------
# Prediction, saliency and Grad-CAM for one image
# --------------------------------------------------------------------------------------------


def predict_proba(model: nn.Module, x: torch.Tensor) -> np.ndarray:
    """Class probabilities ``(K,)`` for one normalised image ``(1, C, H, W)``."""
    if x.ndim == 3:
        x = x.unsqueeze(0)
    with _eval_mode(model), torch.no_grad():
        logits = model(x.to(_device(model))).float().cpu()
    return torch.softmax(logits[0], dim=0).numpy()


def saliency(model: nn.Module, x: torch.Tensor, target: int) -> np.ndarray:
    """Vanilla gradient saliency: ``max over channels of |d logit[target] / d x|``, shape ``(H, W)``.

    A large value means that nudging that pixel changes the class score a lot.
    """
    if x.ndim == 3:
        x = x.unsqueeze(0)
    xi = x.detach().to(_device(model)).float().clone().requires_grad_(True)
    with _eval_mode(model), torch.enable_grad():
        score = model(xi)[0, int(target)]
        (grad,) = torch.autograd.grad(score, xi)
    return grad[0].abs().amax(dim=0).cpu().numpy()  # (H, W)


@dataclass(frozen=True)
class GradCam:
    """Grad-CAM of one class at one layer."""

    layer: str
    weights: np.ndarray  # (C,) mean gradient of the class score over each feature map
    cam: np.ndarray  # (h, w) ReLU(sum_c weights[c] * A[c]) at the layer's resolution
    heatmap: np.ndarray  # (H, W) cam resized to the input (bilinear) and scaled to [0, 1]


def grad_cam(model: nn.Module, x: torch.Tensor, target: int, layer: str | None = None) -> GradCam:
    """Grad-CAM (Selvaraju et al., 2017): where the feature maps of ``layer`` pushed class ``target`` up.

    Parameters
    ----------
    model : nn.Module
    x : torch.Tensor
        One normalised image ``(1, C, H, W)``.
    target : int
        Class index.
    layer : str, optional
        Qualified name of a leaf module with a ``(1, C, h, w)`` output; default the last ``nn.Conv2d``.

    Returns
    -------
    GradCam
        ``weights[c]`` = mean over positions of ``d score / d A[c]``; ``cam = ReLU(sum_c weights[c] A[c])``.
    """
    if x.ndim == 3:
        x = x.unsqueeze(0)
    modules = dict(model.named_modules())
    if layer is None:
        convs = conv_layers(model)
        if not convs:
            raise ValueError("Grad-CAM needs a layer with feature maps, and this model has no convolution.")
        layer = convs[-1][0]
    if layer not in modules:
        raise ValueError(f"The model has no layer called {layer!r}.")
    store: dict[str, torch.Tensor] = {}
    handle = modules[layer].register_forward_hook(lambda _m, _i, out: store.__setitem__("a", out))
    try:
        with _eval_mode(model), torch.enable_grad():
            xi = x.detach().to(_device(model)).float()
            score = model(xi)[0, int(target)]
            act = store.get("a")
            if not isinstance(act, torch.Tensor) or act.ndim != 4:
                raise ValueError(f"Layer {layer!r} does not output feature maps (B, C, H, W).")
            if not act.requires_grad:
                raise ValueError(f"The class score does not depend on layer {layer!r}.")
            (grad,) = torch.autograd.grad(score, act)
    finally:
        handle.remove()
    a, g = act[0].detach().float(), grad[0].float()  # (C, h, w)
    weights = g.mean(dim=(1, 2))  # (C,)
    cam = torch.relu((weights[:, None, None] * a).sum(dim=0))  # (h, w)
    up = F.interpolate(cam[None, None], size=tuple(x.shape[-2:]), mode="bilinear", align_corners=False)[0, 0]
    top = float(up.max())
    heat = (up / top).clamp(0, 1) if top > 0 else torch.zeros_like(up)
    return GradCam(layer, weights.cpu().numpy(), cam.cpu().numpy(), heat.cpu().numpy())


# --------------------------------------------------------------------------------------------
# Preprocessing a person's image like the training data
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Stage:
    """One step of :func:`preprocess`: a picture to show and a sentence on what was done."""

    name: str
    image: np.ndarray  # float32 in [0, 1], (H, W) or (H, W, 3)
    note: str


@dataclass(frozen=True, eq=False)
class Preprocessed:
    """A person's image made ready for the model, with every stage kept."""

    x: torch.Tensor  # (1, C, H, W) float32, normalised like the training data
    stages: tuple[Stage, ...]
    inverted: bool
    invert_reason: str
    notes: tuple[str, ...] = field(default_factory=tuple)


def _resize(img: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Resize float (h, w) or (h, w, 3) to ``size`` = (H, W), antialiased (box when shrinking)."""
    h, w = size
    method = Image.Resampling.BOX if img.shape[0] >= h and img.shape[1] >= w else Image.Resampling.BILINEAR
    chans = [img] if img.ndim == 2 else [img[..., c] for c in range(img.shape[2])]
    out = [np.asarray(Image.fromarray(c.astype(np.float32), mode="F").resize((w, h), method)) for c in chans]
    return np.clip(out[0] if img.ndim == 2 else np.stack(out, axis=-1), 0.0, 1.0).astype(np.float32)


def _border(img: np.ndarray) -> float:
    g = img if img.ndim == 2 else img.mean(axis=2)
    edge = np.concatenate([g[0], g[-1], g[:, 0], g[:, -1]])
    return float(np.median(edge))


def _pad_square(img: np.ndarray, value: float) -> np.ndarray:
    h, w = img.shape[:2]
    s = max(h, w)
    top, left = (s - h) // 2, (s - w) // 2
    pad = [(top, s - h - top), (left, s - w - left)] + ([(0, 0)] if img.ndim == 3 else [])
    return np.pad(img, pad, constant_values=value)


def _centre_like_mnist(gray: np.ndarray, size: tuple[int, int]) -> tuple[np.ndarray, str]:
    """Crop to the ink, scale it to fit 20/28 of the frame, and put its centre of mass in the middle."""
    h, w = size
    ys, xs = np.nonzero(gray > 0.2)
    if len(ys) == 0:
        raise ValueError("The image is empty: there is nothing bright enough to read (draw or upload a digit).")
    crop = gray[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
    box = max(1, round(min(h, w) * 20 / 28))
    scale = box / max(crop.shape)
    new = (max(1, round(crop.shape[0] * scale)), max(1, round(crop.shape[1] * scale)))
    small = _resize(crop, new)
    out = np.zeros((h, w), dtype=np.float32)
    mass = float(small.sum())
    yy, xx = np.mgrid[0 : new[0], 0 : new[1]]
    cy, cx = float((yy * small).sum()) / max(mass, 1e-12), float((xx * small).sum()) / max(mass, 1e-12)
    y0 = int(np.clip(round(h / 2 - cy - 0.5), 0, h - new[0]))
    x0 = int(np.clip(round(w / 2 - cx - 0.5), 0, w - new[1]))
    out[y0 : y0 + new[0], x0 : x0 + new[1]] = small
    note = (
        f"Cropped to the drawn part ({crop.shape[1]}x{crop.shape[0]} px), scaled to fit {box}x{box} and placed with its "
        f"centre of mass in the middle of {w}x{h}, as MNIST digits were."
    )
    return out, note


def preprocess(
    pixels: np.ndarray,
    data: ImageSet,
    *,
    invert: Literal["auto", "yes", "no"] = "auto",
    centre: bool = True,
) -> Preprocessed:
    """Turn a person's image into the model's input, mirroring how ``data`` looks.

    Stages: the image as given; grayscale (when the training images have one channel) or RGB;
    inverted when asked, or in ``"auto"`` when its background brightness is the opposite of the
    training images' (MNIST digits are white on black, a drawing is usually black on white);
    for one-channel data and ``centre=True``, cropped to the ink, scaled and centred as MNIST
    digits were, else padded to a square with its background and resized to ``H x W``; finally
    normalised with the training data's mean and standard deviation.

    Parameters
    ----------
    pixels : np.ndarray
        float in [0, 1], ``(h, w)`` gray or ``(h, w, 3)`` RGB (as :func:`cnn_core.images.load_image` gives).
    data : ImageSet
        Supplies the input shape, mean, std and the typical background brightness.
    invert : {"auto", "yes", "no"}
    centre : bool

    Raises
    ------
    ValueError
        For an empty image, or (with ``centre``) one with no ink.
    """
    img = np.asarray(pixels, dtype=np.float32)
    if img.ndim not in (2, 3) or img.size == 0 or (img.ndim == 3 and img.shape[2] != 3):
        raise ValueError("Expected a grayscale (H, W) or RGB (H, W, 3) image.")
    img = np.clip(np.nan_to_num(img), 0.0, 1.0)
    c, h, w = data.input_shape
    stages = [Stage("Your image", img, f"{img.shape[1]}x{img.shape[0]} px as uploaded or drawn.")]
    if c == 1:
        if img.ndim == 3:
            img = img @ np.array([0.299, 0.587, 0.114], dtype=np.float32)  # ITU-R 601 luma, as Pillow's "L"
            stages.append(Stage("Grayscale", img, "The training images have one channel, so colour is dropped."))
    elif img.ndim == 2:
        img = np.repeat(img[..., None], 3, axis=2)
        stages.append(Stage("RGB", img, "The training images are in colour: the gray value is copied to R, G and B."))

    train_dark = float(np.mean(data.mean)) < 0.5
    bg = _border(img)
    img_dark = bg < 0.5
    if invert == "auto":
        do_invert = train_dark != img_dark
        reason = (
            f"The training images have a {'dark' if train_dark else 'light'} background (mean brightness "
            f"{np.mean(data.mean):.2f}); this image's border is {'dark' if img_dark else 'light'} (median {bg:.2f}), "
            + ("so it is inverted." if do_invert else "so it is left as it is.")
        )
    else:
        do_invert = invert == "yes"
        reason = "Inverted because you asked." if do_invert else "Not inverted because you asked."
    if do_invert:
        img = 1.0 - img
        stages.append(Stage("Inverted", img, reason))

    notes: list[str] = []
    if c == 1 and centre:
        img, note = _centre_like_mnist(img, (h, w))
        stages.append(Stage(f"Centred, {w}x{h}", img, note))
    else:
        if img.shape[0] != img.shape[1]:
            img = _pad_square(img, _border(img))
            notes.append("Padded to a square with the background colour first, so the shape is not squashed.")
        img = _resize(img, (h, w))
        stages.append(Stage(f"Resized to {w}x{h}", img, f"Resized to the training images' {w}x{h} pixels."))

    chw = img[None] if img.ndim == 2 else img.transpose(2, 0, 1)  # (C, H, W)
    u8 = torch.from_numpy(np.rint(chw * 255.0).astype(np.uint8))[None]  # (1, C, H, W), like the stored data
    x = data.normalize(u8)
    xs = x[0].numpy()
    lo, hi = float(xs.min()), float(xs.max())
    shown = (xs - lo) / (hi - lo) if hi > lo else np.zeros_like(xs)
    stages.append(
        Stage(
            "Normalised",
            shown[0] if c == 1 else shown.transpose(1, 2, 0),
            f"(x - mean) / std with the training data's mean {_fmt_seq(data.mean)} and std {_fmt_seq(data.std)}: "
            f"values from {lo:.2f} to {hi:.2f} (shown stretched to black..white).",
        )
    )
    return Preprocessed(x, tuple(stages), do_invert, reason, tuple(notes))


def _fmt_seq(v: Sequence[float]) -> str:
    return ", ".join(f"{a:.3f}" for a in v) if len(v) > 1 else f"{v[0]:.3f}"
