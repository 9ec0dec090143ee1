"""The layers of a model and what they make of one image: feature maps, kernels, Grad-CAM candidates.

Works on any ``nn.Module``: leaf modules are found by registration order, outputs recorded by
forward hooks, and the model's train/eval mode is restored afterwards.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

ACTIVATIONS = (nn.ReLU, nn.ELU, nn.LeakyReLU, nn.GELU, nn.Tanh, nn.Sigmoid)


def model_device(model: nn.Module) -> torch.device:
    """The device of the model's first parameter (the CPU for a model without parameters)."""
    p = next(iter(model.parameters()), None)
    return p.device if p is not None else torch.device("cpu")


@contextlib.contextmanager
def eval_mode(model: nn.Module) -> Iterator[nn.Module]:
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


def kernel_weights(conv: nn.Conv2d) -> np.ndarray:
    """The kernels of one convolution as a float32 array ``(O, C, kh, kw)``, copied to the CPU."""
    return conv.weight.detach().float().cpu().numpy().copy()


def gray_kernels(kernels: np.ndarray) -> np.ndarray:
    """Kernels ``(..., C, kh, kw)`` summed over their input channels, ``(..., kh, kw)``: what they do to a gray image."""
    return np.asarray(kernels).sum(axis=-3)


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

    with eval_mode(model):
        for name, m in leaf_modules(model):
            handles.append(m.register_forward_hook(hook_for(name, m)))
        try:
            model(x.to(model_device(model)))
        finally:
            for h in handles:
                h.remove()
    return records


def spatial_layers(model: nn.Module, x: torch.Tensor) -> list[str]:
    """Names of leaf layers whose output is a stack of feature maps (candidates for Grad-CAM)."""
    return [a.name for a in feature_maps(model, x) if a.is_spatial and a.shape[1] * a.shape[2] > 1]


def default_cam_layer(model: nn.Module, layers: list[str]) -> str:
    """The Grad-CAM layer to start on, out of ``layers`` (see :func:`spatial_layers`, not empty).

    The last convolution's activation when that directly follows it, else the last convolution;
    the last of ``layers`` when none of them is a convolution.
    """
    convs = [n for n, _ in conv_layers(model) if n in layers]
    if not convs:
        return layers[-1]
    i = layers.index(convs[-1])
    modules = dict(model.named_modules())
    if i + 1 < len(layers) and isinstance(modules[layers[i + 1]], ACTIVATIONS):
        return layers[i + 1]
    return convs[-1]
