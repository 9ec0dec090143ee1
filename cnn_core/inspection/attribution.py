"""One image and one class: probabilities, saliency and Grad-CAM (which pixels and regions mattered), by autograd."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from cnn_core.inspection.layers import conv_layers, eval_mode, model_device


def softmax(logits: np.ndarray) -> np.ndarray:
    """Probabilities ``(K,)`` from one image's scores (logits) ``(K,)``: ``exp(z - max z)``, summing to 1."""
    probs = np.exp(logits - logits.max())
    probs /= probs.sum()
    return probs


def predict_proba(model: nn.Module, x: torch.Tensor) -> np.ndarray:
    """Class probabilities ``(K,)`` for one normalised image ``(1, C, H, W)``."""
    if x.ndim == 3:
        x = x.unsqueeze(0)
    with eval_mode(model), torch.no_grad():
        logits = model(x.to(model_device(model))).float().cpu()
    return torch.softmax(logits[0], dim=0).numpy()


def top_classes(probs: np.ndarray, k: int) -> np.ndarray:
    """Indices of the ``k`` most probable classes, the most probable first."""
    return np.argsort(-probs)[:k]


def saliency(model: nn.Module, x: torch.Tensor, target: int) -> np.ndarray:
    """Vanilla gradient saliency: ``max over channels of |d logit[target] / d x|``, shape ``(H, W)``.

    A large value means that nudging that pixel changes the class score a lot.
    """
    if x.ndim == 3:
        x = x.unsqueeze(0)
    xi = x.detach().to(model_device(model)).float().clone().requires_grad_(True)
    with eval_mode(model), torch.enable_grad():
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
        with eval_mode(model), torch.enable_grad():
            xi = x.detach().to(model_device(model)).float()
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
