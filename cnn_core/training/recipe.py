"""How a run is set up: device and precision, seeding, optimizer, schedule, augmentation,
normalisation, and ConvLab's fast default network."""

from __future__ import annotations

import functools
import math

import torch
import torch.nn.functional as F
from torch import nn

from cnn_core import models
from cnn_core.data import ImageSet
from cnn_core.models.presets import FAST_WIDTHS
from cnn_core.training.config import Device, Precision, TrainConfig

__all__ = [
    "Normalizer",
    "augment",
    "fast_cnn",
    "make_optimizer",
    "make_schedule",
    "resolve_device",
    "seed_everything",
    "use_bf16",
]


def resolve_device(device: Device = "auto") -> torch.device:
    """``"auto"`` -> CUDA when available, else CPU; ``"cuda"`` without a GPU raises ValueError."""
    if device == "cuda" and not torch.cuda.is_available():
        raise ValueError("CUDA was asked for but no GPU is available; use device 'auto' or 'cpu'.")
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


@functools.lru_cache(maxsize=1)
def _cpu_has_amx() -> bool:
    try:
        with open("/proc/cpuinfo") as f:
            return "amx_bf16" in f.read(1 << 16)
    except OSError:
        return False


def use_bf16(precision: Precision, dev: torch.device) -> bool:
    if precision == "fp32":
        return False
    if precision == "bf16":
        return True
    if dev.type == "cuda":
        return torch.cuda.is_bf16_supported()
    return _cpu_has_amx()


def seed_everything(seed: int) -> None:
    """Seed torch's global generators (model initialisation, dropout) for reproducible runs."""
    torch.manual_seed(seed)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)


def fast_cnn(
    in_channels: int = 1, num_classes: int = 10, image_size: int = 28, widths: tuple[int, int, int] = FAST_WIDTHS
) -> nn.Sequential:
    """ConvLab's fast default model, built from :func:`cnn_core.models.fast_config`.

    Three blocks of a 3x3 convolution, 2x2 max pooling, batch norm and ReLU (16, 32, 64 feature
    maps by default), then one linear layer; the Training page trains exactly this network.

    Raises
    ------
    ValueError
        When the images are too small for three 2x2 poolings.
    """
    config = models.fast_config(in_channels, num_classes, image_size, widths)
    error = models.validate(config)
    if error is not None:
        raise ValueError(f"Images of {image_size} pixels are too small for this network: {error}")
    return models.build(config)


_FUSED_DEVICES = ("cpu", "cuda")
_FUSED_DTYPES = (torch.float32, torch.float64, torch.float16, torch.bfloat16)


def _fused(params: list[nn.Parameter]) -> bool | None:
    """True where torch has a one-kernel (fused) step for all of these parameters, else None (its default).

    A fused step does the same arithmetic as the default one in a single pass over each tensor
    instead of several, which saves a few percent of a small network's step on a CPU.
    """
    devices = {p.device.type for p in params}
    ok = len(devices) == 1 and devices <= set(_FUSED_DEVICES) and all(p.dtype in _FUSED_DTYPES for p in params)
    return True if ok else None


def make_optimizer(model: nn.Module, cfg: TrainConfig) -> torch.optim.Optimizer:
    """The run's optimizer over the model's trainable parameters (fused steps where torch has them)."""
    params = [p for p in model.parameters() if p.requires_grad]
    fused = _fused(params)
    if cfg.optimizer == "sgd":
        return torch.optim.SGD(
            params, lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay, nesterov=True, fused=fused
        )
    cls = torch.optim.AdamW if cfg.optimizer == "adamw" else torch.optim.Adam
    return cls(params, lr=cfg.lr, betas=(cfg.momentum, 0.999), weight_decay=cfg.weight_decay, fused=fused)


ONECYCLE_MIN_WARMUP = 2  # steps; with fewer, torch's OneCycleLR can divide by a zero-length phase
ONECYCLE_WARMUP = 0.15  # share of the run spent warming up from lr / 10 to lr
ONECYCLE_END_DIV = 1e4  # the last step runs at lr / this


def make_schedule(opt: torch.optim.Optimizer, cfg: TrainConfig, total: int, per_epoch: int):
    """The run's learning-rate schedule (None: constant). ``"onecycle"``: a short linear warm-up to
    ``cfg.lr``, then a straight line down to almost 0 at the run's last step (for a run of one
    epoch, a straight decay reached a little higher accuracy than the cosine one)."""
    if cfg.schedule == "onecycle":
        if total * ONECYCLE_WARMUP < ONECYCLE_MIN_WARMUP:  # a run of a few steps has no room for a cycle
            return None
        return torch.optim.lr_scheduler.OneCycleLR(
            opt, max_lr=cfg.lr, total_steps=total, pct_start=ONECYCLE_WARMUP, div_factor=10.0,
            final_div_factor=ONECYCLE_END_DIV / 10.0, anneal_strategy="linear", cycle_momentum=False,
        )  # fmt: skip
    if cfg.schedule == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=total)
    if cfg.schedule == "step":
        return torch.optim.lr_scheduler.StepLR(opt, step_size=cfg.step_size_epochs * per_epoch, gamma=cfg.step_gamma)
    return None


def augment(x: torch.Tensor, cfg: TrainConfig, gen: torch.Generator) -> torch.Tensor:
    """Random flips, shifts and rotations of a float batch ``(B, C, H, W)``, per image."""
    b, _, h, w = x.shape
    dev = x.device
    if cfg.augment_flip:
        flip = (torch.rand(b, generator=gen) < 0.5).to(dev).view(b, 1, 1, 1)
        x = torch.where(flip, x.flip(3), x)
    if cfg.augment_rotate > 0:
        ang = (torch.rand(b, generator=gen) * 2 - 1) * math.radians(cfg.augment_rotate)
        cos, sin = torch.cos(ang), torch.sin(ang)
        theta = torch.stack(
            [torch.stack([cos, -sin, torch.zeros(b)], 1), torch.stack([sin, cos, torch.zeros(b)], 1)], 1
        )
        grid = F.affine_grid(theta.to(dev, x.dtype), list(x.shape), align_corners=False)
        x = F.grid_sample(x, grid, padding_mode="border", align_corners=False)
    s = cfg.augment_shift
    if s > 0:
        xp = F.pad(x, (s, s, s, s), mode="replicate")  # (B, C, H + 2s, W + 2s)
        oy = torch.randint(0, 2 * s + 1, (b,), generator=gen).to(dev)
        ox = torch.randint(0, 2 * s + 1, (b,), generator=gen).to(dev)
        rows = (oy[:, None] + torch.arange(h, device=dev))[:, None, :, None]  # (B, 1, H, 1)
        cols = (ox[:, None] + torch.arange(w, device=dev))[:, None, None, :]  # (B, 1, 1, W)
        bi = torch.arange(b, device=dev)[:, None, None, None]
        ci = torch.arange(x.shape[1], device=dev)[None, :, None, None]
        x = xp[bi, ci, rows, cols]
    return x


class Normalizer:
    """uint8 ``(B, C, H, W)`` -> normalised float, in the run's memory layout."""

    def __init__(self, data: ImageSet, dev: torch.device, channels_last: bool) -> None:
        c = len(data.mean)
        self.scale = (1.0 / (255.0 * torch.tensor(data.std))).view(1, c, 1, 1).to(dev)
        self.shift = (-torch.tensor(data.mean) / torch.tensor(data.std)).view(1, c, 1, 1).to(dev)
        self.channels_last = channels_last

    def __call__(self, xb: torch.Tensor) -> torch.Tensor:
        x = torch.addcmul(self.shift, xb.float(), self.scale)  # (B, C, H, W) float32
        return x.contiguous(memory_format=torch.channels_last) if self.channels_last else x
