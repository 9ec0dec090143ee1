"""The torch modules of ConvLab's blocks: a residual block and an inception module.

Each is a plain ``nn.Module`` using only ``torch`` and ``torch.nn``, so that
:func:`~cnn_core.models.network.to_pytorch_code` can copy its source into the code a learner
reads. The specs that plan them (shapes, parameters, receptive field) live in
:mod:`cnn_core.models.block_layers`. Each module says how wide a window its output sees of its
input in ``rf_window = (kernel, stride)``, which :func:`cnn_core.summary.summarize` uses to carry
the receptive field across the addition or concatenation.
"""

from __future__ import annotations

import inspect
from collections import OrderedDict

import torch
from torch import nn

__all__ = ["BLOCKS", "Inception", "ResidualBlock", "block_source"]


class ResidualBlock(nn.Module):
    """A ResNet basic block: y = ReLU(F(x) + shortcut(x)), F = conv3x3-BN-ReLU-conv3x3-BN.

    shortcut: "auto" (identity when the shape stays, else a 1x1 projection), "identity",
    "projection" (always the 1x1 convolution with batch norm) or "plain" (no shortcut: y = ReLU(F(x))).
    """

    def __init__(self, c_in: int, filters: int, stride: int = 1, shortcut: str = "auto") -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, filters, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(filters)
        self.relu1 = nn.ReLU()
        self.conv2 = nn.Conv2d(filters, filters, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(filters)
        changes = stride != 1 or c_in != filters
        if shortcut == "projection" or (shortcut == "auto" and changes):
            self.shortcut = nn.Sequential(
                OrderedDict(
                    conv=nn.Conv2d(c_in, filters, 1, stride=stride, bias=False),  # 1x1 projection
                    bn=nn.BatchNorm2d(filters),
                )
            )
        elif shortcut in ("auto", "identity"):
            self.shortcut = nn.Identity()
        else:
            self.shortcut = None  # a plain block: the same layers without the shortcut
        self.relu2 = nn.ReLU()
        self.rf_window = (3 + 2 * stride, stride)  # conv 3x3 stride s, then conv 3x3 stride 1

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, C_in, H, W) -> (B, filters, H/s, W/s)
        y = self.bn2(self.conv2(self.relu1(self.bn1(self.conv1(x)))))  # F(x)
        if self.shortcut is not None:
            y = y + self.shortcut(x)  # F(x) + x
        return self.relu2(y)


def _unit(c_in: int, c_out: int, kernel: int, batchnorm: bool) -> list[tuple[str, nn.Module]]:
    """Convolution (padding keeps the size) and ReLU, with batch norm between them when asked."""
    conv = nn.Conv2d(c_in, c_out, kernel, padding=kernel // 2, bias=not batchnorm)
    return [("conv", conv), *([("bn", nn.BatchNorm2d(c_out))] if batchnorm else []), ("relu", nn.ReLU())]


def _branch(c_in: int, reduce: int, c_out: int, kernel: int, batchnorm: bool) -> nn.Sequential:
    """[1x1 bottleneck to ``reduce`` channels, then] the kxk convolution; reduce = 0: no bottleneck."""
    layers = [] if reduce == 0 else [(f"reduce_{n}", m) for n, m in _unit(c_in, reduce, 1, batchnorm)]
    return nn.Sequential(OrderedDict(layers + _unit(reduce or c_in, c_out, kernel, batchnorm)))


class Inception(nn.Module):
    """An inception module: 1x1, 3x3, kxk and pooling branches side by side, concatenated on channels.

    reduce3 / reduce5: channels of the 1x1 bottleneck before the 3x3 / kxk convolution (0: none);
    pool_proj: channels of the 1x1 after the 3x3 max pooling (0: the pooled input as it is).
    batchnorm: every convolution without bias, followed by batch norm (torchvision's GoogLeNet).
    """

    def __init__(
        self,
        c_in: int,
        ch1: int,
        reduce3: int,
        ch3: int,
        reduce5: int,
        ch5: int,
        pool_proj: int,
        kernel: int = 5,
        batchnorm: bool = False,
    ) -> None:
        super().__init__()
        self.b1x1 = nn.Sequential(OrderedDict(_unit(c_in, ch1, 1, batchnorm)))
        self.b3x3 = _branch(c_in, reduce3, ch3, 3, batchnorm)
        self.b5x5 = _branch(c_in, reduce5, ch5, kernel, batchnorm)
        pool = [("pool", nn.MaxPool2d(3, stride=1, padding=1))]
        proj = [(f"proj_{n}", m) for n, m in _unit(c_in, pool_proj, 1, batchnorm)] if pool_proj else []
        self.bpool = nn.Sequential(OrderedDict(pool + proj))
        self.rf_window = (max(3, kernel), 1)  # the widest branch

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, C_in, H, W) -> (B, sum of branches, H, W)
        return torch.cat([self.b1x1(x), self.b3x3(x), self.b5x5(x), self.bpool(x)], dim=1)


BLOCKS: dict[str, type[nn.Module]] = {"ResidualBlock": ResidualBlock, "Inception": Inception}


def block_source(names: set[str]) -> str:
    """Self-contained source of the blocks in ``names`` (for the PyTorch code a learner copies)."""
    parts = []
    if "Inception" in names:
        parts += [inspect.getsource(_unit), inspect.getsource(_branch)]
    parts += [inspect.getsource(BLOCKS[n]) for n in BLOCKS if n in names]
    return "\n\n".join(p.rstrip() + "\n" for p in parts)
