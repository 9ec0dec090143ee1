"""What batch normalisation and dropout do to a layer's values, computed step by step.

Batch norm (:func:`batch_norm_view`): a layer's feature maps are normalised per channel with the
mean and variance of the *batch* while training, ``y = gamma * (x - mean) / sqrt(var + eps) + beta``,
and each training batch nudges the layer's *running* mean and variance
(``running = (1 - momentum) * running + momentum * batch``, the variance unbiased, as PyTorch does).
In evaluation mode the running statistics are used instead, so one image gives the same answer
whatever batch it is in. :func:`batch_norm_view` reports, per channel, the mean and spread before
the layer, after it in training mode and after it in evaluation mode, after ``k`` training batches.

Dropout (:func:`dropout_view`): while training each value is kept with probability ``1 - p`` and
the kept ones are multiplied by ``1 / (1 - p)``, so the expected value is unchanged; in
evaluation mode dropout does nothing. Both are checked against ``torch.nn.BatchNorm2d`` and
``torch.nn.Dropout`` in ``tests/core/test_regularisation.py``.

The activations shown on the page come from :func:`kernel_feature_maps`: a few preset kernels of
:mod:`cnn_core.kernels` applied to images, so every channel has its own mean and spread.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from cnn_core import kernels

__all__ = [
    "BN_KERNELS",
    "BatchNormView",
    "ChannelStats",
    "DropoutView",
    "batch_norm",
    "batch_norm_view",
    "channel_stats",
    "dropout_view",
    "kernel_feature_maps",
]

# The channels of the batch-norm explainer: kernels whose feature maps have clearly different
# means and spreads on digits (a blur keeps the brightness, edge detectors centre on zero).
BN_KERNELS = ("Gaussian blur 3x3", "Sobel x", "Laplacian (4-neighbour)", "Sharpen")


@dataclass(frozen=True)
class ChannelStats:
    """Per-channel mean and standard deviation (population, over batch, rows and columns)."""

    mean: np.ndarray  # (C,)
    std: np.ndarray  # (C,)


@dataclass(frozen=True)
class BatchNormView:
    """One batch through a batch-norm layer after ``batches_seen`` training batches."""

    before: ChannelStats  # the layer's input
    train_out: ChannelStats  # output in training mode (this batch's own statistics)
    eval_out: ChannelStats  # output in evaluation mode (the running statistics)
    batch_mean: np.ndarray  # (C,) this batch's mean
    batch_var: np.ndarray  # (C,) this batch's biased variance (what training mode divides by)
    running_mean: np.ndarray  # (C,) after the training batches
    running_var: np.ndarray  # (C,) unbiased, after the training batches
    momentum: float
    eps: float
    batches_seen: int


@dataclass(frozen=True)
class DropoutView:
    """A vector of values through dropout, in training and in evaluation mode."""

    x: np.ndarray  # (N,) the input
    keep: np.ndarray  # (N,) bool: the random mask, True where a value is kept
    p: float  # the probability of dropping a value
    scale: float  # 1 / (1 - p), applied to the kept values while training
    train_out: np.ndarray  # (N,) x * keep * scale
    eval_out: np.ndarray  # (N,) x unchanged

    @property
    def dropped_share(self) -> float:
        return float(1.0 - self.keep.mean()) if self.keep.size else 0.0


def channel_stats(x: torch.Tensor) -> ChannelStats:
    """Mean and population std of each channel of ``x`` ``(B, C, H, W)``."""
    x = x.detach().double()
    return ChannelStats(x.mean(dim=(0, 2, 3)).numpy(), x.var(dim=(0, 2, 3), unbiased=False).sqrt().numpy())


def batch_norm(
    x: torch.Tensor,
    mean: torch.Tensor,
    var: torch.Tensor,
    gamma: torch.Tensor | None = None,
    beta: torch.Tensor | None = None,
    eps: float = 1e-5,
) -> torch.Tensor:
    """``gamma * (x - mean) / sqrt(var + eps) + beta`` per channel of ``x`` ``(B, C, H, W)``."""
    c = x.shape[1]
    gamma = torch.ones(c, dtype=x.dtype) if gamma is None else gamma
    beta = torch.zeros(c, dtype=x.dtype) if beta is None else beta
    view = (1, c, 1, 1)
    return gamma.view(view) * (x - mean.view(view)) / torch.sqrt(var.view(view) + eps) + beta.view(view)


def batch_norm_view(batches: Sequence[torch.Tensor], *, momentum: float = 0.1, eps: float = 1e-5) -> BatchNormView:
    """Train a fresh batch-norm layer (gamma 1, beta 0) on ``batches`` in turn; look at the last one.

    Parameters
    ----------
    batches : sequence of torch.Tensor
        Each ``(B, C, H, W)``, in training order; every one updates the running statistics.
    momentum : float
        PyTorch's convention: the weight of the new batch in the running average (0.1 by default;
        Keras calls ``1 - momentum`` its momentum, 0.99 by default).
    eps : float
        Added to the variance before the square root.

    Returns
    -------
    BatchNormView
        The last batch before the layer and after it in training and evaluation mode.
    """
    if not batches:
        raise ValueError("Batch norm needs at least one batch of feature maps.")
    if not 0 < momentum <= 1:
        raise ValueError(f"The momentum must be in (0, 1], not {momentum}.")
    c = batches[0].shape[1]
    running_mean, running_var = torch.zeros(c, dtype=torch.float64), torch.ones(c, dtype=torch.float64)
    for xb in batches:
        x = xb.detach().double()
        n = x.numel() // c
        if n < 2:
            raise ValueError("Batch norm needs more than one value per channel in a batch.")
        mean, var = x.mean(dim=(0, 2, 3)), x.var(dim=(0, 2, 3), unbiased=False)
        running_mean = (1 - momentum) * running_mean + momentum * mean
        running_var = (1 - momentum) * running_var + momentum * var * n / (n - 1)  # unbiased, as torch keeps it
    last = batches[-1].detach().double()
    return BatchNormView(
        before=channel_stats(last),
        train_out=channel_stats(batch_norm(last, mean, var, eps=eps)),
        eval_out=channel_stats(batch_norm(last, running_mean, running_var, eps=eps)),
        batch_mean=mean.numpy(),
        batch_var=var.numpy(),
        running_mean=running_mean.numpy(),
        running_var=running_var.numpy(),
        momentum=momentum,
        eps=eps,
        batches_seen=len(batches),
    )


def kernel_feature_maps(images: torch.Tensor, names: Sequence[str] = BN_KERNELS) -> torch.Tensor:
    """Feature maps of preset kernels on uint8 images ``(B, 1, H, W)``, pixels scaled to 0..1.

    Returns ``(B, len(names), H, W)`` float32 ("same" padding): one channel per kernel, the kind of
    values a convolution hands to a batch-norm layer.
    """
    if images.ndim != 4 or images.shape[1] != 1:
        raise ValueError(f"Expected grey images (B, 1, H, W), not {tuple(images.shape)}.")
    weights = []
    side = max(kernels.PRESETS[n].kernel.shape[0] for n in names)
    for name in names:
        k = kernels.resize_kernel(kernels.PRESETS[name].kernel, side, side)
        weights.append(torch.as_tensor(k, dtype=torch.float32))
    w = torch.stack(weights).unsqueeze(1)  # (C, 1, k, k)
    return F.conv2d(images.float() / 255.0, w, padding="same")  # (B, C, H, W)


def dropout_view(x: np.ndarray | Sequence[float], p: float = 0.5, seed: int = 0) -> DropoutView:
    """Dropout on ``x`` with drop probability ``p``: the mask drawn with ``seed``, training and evaluation output."""
    if not 0 <= p < 1:
        raise ValueError(f"The dropout rate must be at least 0 and below 1, not {p}.")
    values = np.asarray(x, dtype=np.float64).ravel()
    gen = torch.Generator().manual_seed(int(seed))
    keep = (torch.rand(values.size, generator=gen) >= p).numpy()
    scale = 1.0 / (1.0 - p)
    return DropoutView(values, keep, float(p), scale, values * keep * scale, values.copy())
