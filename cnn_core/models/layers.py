"""The layer types: one registered class each, owning its description, shape plan, link and editor fields.

To add a layer type, add one class here: a frozen dataclass subclassing
:class:`~cnn_core.models.base.LayerSpec`, decorated with :func:`~cnn_core.models.base.register`, whose
fields are declared with :func:`~cnn_core.models.base.setting` (label, link tag, editor range), with
``describe`` and ``plan``. Links, dicts, the editor, the summary and the PyTorch code follow from it.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Any, ClassVar

from cnn_core import geometry
from cnn_core.models.base import (
    ACTIVATIONS,
    REQUIRED,
    LayerSpec,
    ModulePlan,
    Namer,
    Shape,
    Step,
    Window,
    activation_modules,
    activation_setting,
    need_map,
    register,
    setting,
    shape_text,
    spatial,
    whole,
)
from cnn_core.summary import ParamTerms

__all__ = [
    "ActivationSpec",
    "BatchNormSpec",
    "Conv2dSpec",
    "DenseSpec",
    "DropoutSpec",
    "FlattenSpec",
    "GlobalAvgPoolSpec",
    "PoolSpec",
]

PADDINGS: tuple[str | int, ...] = ("valid", "same", *range(1, 17))


@register("conv")
@dataclass(frozen=True)
class Conv2dSpec(LayerSpec):
    """A 2-D convolution with a square kernel, followed by its activation."""

    noun: ClassVar[str] = "convolution"
    editor_name: ClassVar[str] = "Conv2d"
    diagram: ClassVar[tuple[str, str] | None] = ("Conv", "conv")

    # number of kernels = output channels
    filters: int = setting(32, "Filters", place="head", hi=4096, help="Number of kernels = output channels.")
    kernel: int = setting(3, "Kernel", tag="k", always=True, hi=64, help="k×k kernel")  # kernel side, k x k
    stride: int = setting(1, "Stride", tag="s", hi=16)
    # "valid" (none), "same" (Keras/TensorFlow) or cells on each side
    padding: int | str = setting(
        "valid",
        "Padding",
        tag="p",
        omit=(0,),
        choices=PADDINGS,
        lo=0,
        hi=16,
        width=1.1,
        help="valid: none; same: Keras' padding, output = ceil(input / stride); "
        "a number: that many zero cells on each side.",
    )
    dilation: int = setting(1, "Dilation", tag="d", hi=16)
    activation: str = activation_setting()  # one of ACTIVATIONS

    def describe(self) -> str:
        parts = [f"Conv2d {self.filters} filters {self.kernel}x{self.kernel}"]
        if self.stride != 1:
            parts.append(f"stride {self.stride}")
        if self.padding not in ("valid", 0):
            parts.append("same" if self.padding == "same" else f"padding {self.padding}")
        if self.dilation != 1:
            parts.append(f"dilation {self.dilation}")
        if self.activation != "none":
            parts.append(self.activation)
        return ", ".join(parts)

    def plan(self, shape: Shape, name: Namer) -> Step:
        c, h, w = need_map(shape, "a convolution")
        filters = whole(self.filters, "number of filters", hi=4096)
        k = whole(self.kernel, "kernel size", hi=64)
        s = whole(self.stride, "stride")
        d = whole(self.dilation, "dilation")
        n = name("conv")
        mods: list[ModulePlan] = []
        kwargs: list[tuple[str, Any]] = [("kernel_size", k)]
        if s != 1:
            kwargs.append(("stride", s))
        if self.padding == "same":
            pad_h = geometry.same_padding(h, k, stride=s, dilation=d)
            pad_w = geometry.same_padding(w, k, stride=s, dilation=d)
            if s == 1:
                kwargs.append(("padding", "same"))
            elif pad_h != (0, 0) or pad_w != (0, 0):
                # TensorFlow's SAME with stride > 1 can pad one cell more at the bottom/right.
                mods.append(ModulePlan(f"{n}_pad", "ZeroPad2d", ((pad_w[0], pad_w[1], pad_h[0], pad_h[1]),)))
        elif self.padding == "valid" or self.padding == 0:
            pad_h = pad_w = (0, 0)
        else:
            if isinstance(self.padding, str):
                raise ValueError(f"padding must be 'valid', 'same' or a number of cells, got {self.padding!r}.")
            p = whole(self.padding, "padding", lo=0, hi=64)
            pad_h = pad_w = (p, p)
            kwargs.append(("padding", p))
        if d != 1:
            kwargs.append(("dilation", d))
        working = spatial(h, "height", k, s, pad_h, d, shape)
        oh, ow = working.size, spatial(w, "width", k, s, pad_w, d, shape).size
        mods.append(ModulePlan(n, "Conv2d", (c, filters), tuple(kwargs)))
        mods.extend(activation_modules(self.activation, n))
        return Step(
            out_shape=(filters, oh, ow),
            modules=tuple(mods),
            params=geometry.conv_params(c, k, k, filters),
            macs=geometry.conv_macs(c, k, k, filters, oh, ow),
            working=working,
            terms=ParamTerms("conv", c, filters, k, k),
            window=Window(k, s, d, (pad_h[0], pad_w[0])),
        )


@register("pool")
@dataclass(frozen=True)
class PoolSpec(LayerSpec):
    """Max or average pooling over square windows, without padding (Keras' default)."""

    noun: ClassVar[str] = "pooling"
    editor_name: ClassVar[str] = "MaxPool"

    kind: str = setting("max", "Pooling", place="before", choices=("max", "avg"), editor=False)  # "max" or "avg"
    size: int = setting(2, "Window", place="head", hi=64, help="size×size window")  # window side
    # None: same as the window size (Keras' default)
    stride: int | None = setting(
        None, "Stride", tag="s", choices=(None, *range(1, 17)), width=1.4, none_label="= window"
    )

    @property
    def step(self) -> int:
        return self.size if self.stride is None else self.stride

    @classmethod
    def editor_variants(cls) -> dict[str, LayerSpec]:
        return {"MaxPool": cls("max", 2), "AvgPool": cls("avg", 2)}

    def editor_variant(self) -> str:
        return "MaxPool" if self.kind == "max" else "AvgPool"

    def diagram_block(self) -> tuple[str, str] | None:
        return self.editor_variant(), "pool"

    def describe(self) -> str:
        name = "MaxPool" if self.kind == "max" else "AvgPool"
        stride = "" if self.stride is None or self.stride == self.size else f", stride {self.stride}"
        return f"{name} {self.size}x{self.size}{stride}"

    def plan(self, shape: Shape, name: Namer) -> Step:
        c, h, w = need_map(shape, "pooling")
        if self.kind not in ("max", "avg"):
            raise ValueError(f"pooling must be 'max' or 'avg', got {self.kind!r}.")
        size = whole(self.size, "pooling window", hi=64)
        s = whole(self.step, "stride")
        working = spatial(h, "height", size, s, 0, 1, shape)
        out = (c, working.size, spatial(w, "width", size, s, 0, 1, shape).size)
        cls = "MaxPool2d" if self.kind == "max" else "AvgPool2d"
        kw = () if s == size else (("stride", s),)
        mods = (ModulePlan(name(f"{self.kind}pool"), cls, (size,), kw),)
        return Step(out_shape=out, modules=mods, working=working, window=Window(size, s))


@register("batchnorm", token="bn")
@dataclass(frozen=True)
class BatchNormSpec(LayerSpec):
    """Batch normalisation: per-channel (feature map) or per-unit (flat vector)."""

    noun: ClassVar[str] = "batch norm"
    editor_name: ClassVar[str] = "BatchNorm"
    editor_help: ClassVar[str] = "Normalises each channel over the batch, then scales by γ and shifts by β (learned)."

    def describe(self) -> str:
        return "BatchNorm"

    def plan(self, shape: Shape, name: Namer) -> Step:
        n_feat = shape[0]
        params, running = geometry.batchnorm_params(n_feat)
        cls = "BatchNorm2d" if len(shape) == 3 else "BatchNorm1d"
        return Step(
            out_shape=shape,
            modules=(ModulePlan(name("bn"), cls, (n_feat,)),),
            params=params,
            running=running,
            terms=ParamTerms("batchnorm", n_feat, n_feat),
            window=Window(),
        )


@register("dropout")
@dataclass(frozen=True)
class DropoutSpec(LayerSpec):
    """Dropout: each value is zeroed with probability ``p`` during training only."""

    noun: ClassVar[str] = "dropout"
    editor_name: ClassVar[str] = "Dropout"
    after_logits: ClassVar[bool] = True

    p: float = setting(0.5, "Drop rate p", place="head", lo=0.0, hi=0.95, step=0.05, fmt="%.2f", width=1.2)

    def describe(self) -> str:
        return f"Dropout {self.p:g}"

    def plan(self, shape: Shape, name: Namer) -> Step:
        p = self.p
        if isinstance(p, bool) or not isinstance(p, numbers.Real) or not 0.0 <= p < 1.0:
            raise ValueError(f"the dropout probability must be in [0, 1), got {p!r}.")
        return Step(out_shape=shape, modules=(ModulePlan(name("dropout"), "Dropout", (float(p),)),), window=Window())


@register("flatten")
@dataclass(frozen=True)
class FlattenSpec(LayerSpec):
    """Flatten a (C, H, W) feature map into one vector of C*H*W numbers."""

    noun: ClassVar[str] = "flatten"
    editor_name: ClassVar[str] = "Flatten"
    editor_help: ClassVar[str] = "Lays the C×H×W feature map out as one long vector, so Dense layers can use it."
    diagram: ClassVar[tuple[str, str] | None] = ("Flatten", "flatten")

    def describe(self) -> str:
        return "Flatten"

    def plan(self, shape: Shape, name: Namer) -> Step:
        return Step(out_shape=(math.prod(shape),), modules=(ModulePlan(name("flatten"), "Flatten"),))


@register("gap")
@dataclass(frozen=True)
class GlobalAvgPoolSpec(LayerSpec):
    """Average each channel over all positions: (C, H, W) -> (C,)."""

    noun: ClassVar[str] = "global average pooling"
    editor_name: ClassVar[str] = "GlobalAvgPool"
    editor_help: ClassVar[str] = "Replaces each channel's whole map by its average: C×H×W becomes C numbers."
    diagram: ClassVar[tuple[str, str] | None] = ("GAP", "gap")

    def describe(self) -> str:
        return "Global average pooling"

    def plan(self, shape: Shape, name: Namer) -> Step:
        c, _, _ = need_map(shape, "global average pooling")
        n = name("gap")
        mods = (ModulePlan(n, "AdaptiveAvgPool2d", (1,)), ModulePlan(f"{n}_flatten", "Flatten"))
        return Step(out_shape=(c,), modules=mods)


@register("dense")
@dataclass(frozen=True)
class DenseSpec(LayerSpec):
    """A dense (fully connected, ``nn.Linear``) layer, followed by its activation."""

    noun: ClassVar[str] = "dense layer"
    editor_name: ClassVar[str] = "Dense"
    diagram: ClassVar[tuple[str, str] | None] = ("Dense", "dense")

    units: int = setting(64, "Units", place="head", hi=100_000, width=1.2)
    activation: str = activation_setting()  # the last Dense layer is normally "none": it gives logits

    def describe(self) -> str:
        act = "" if self.activation == "none" else f", {self.activation}"
        return f"Dense {self.units}{act}"

    def plan(self, shape: Shape, name: Namer) -> Step:
        if len(shape) != 1:
            raise ValueError(
                f"its input is still a {shape_text(shape)} feature map (C x H x W), but a Dense layer takes one "
                "vector of numbers. Add a Flatten (or Global average pooling) layer before it. (Keras would "
                "instead apply the Dense layer to the channels of each position separately.)"
            )
        units = whole(self.units, "number of units", hi=100_000)
        n = name("fc")
        return Step(
            out_shape=(units,),
            modules=(ModulePlan(n, "Linear", (shape[0], units)), *activation_modules(self.activation, n)),
            params=geometry.dense_params(shape[0], units),
            macs=geometry.dense_macs(shape[0], units),
            terms=ParamTerms("dense", shape[0], units),
        )


@register("activation", token="act")
@dataclass(frozen=True)
class ActivationSpec(LayerSpec):
    """A stand-alone activation, as Keras' ``Activation`` layer."""

    noun: ClassVar[str] = "activation"
    editor_name: ClassVar[str] = "Activation"
    after_logits: ClassVar[bool] = True

    activation: str = activation_setting(link_default=REQUIRED)

    def describe(self) -> str:
        return f"Activation {self.activation}"

    def plan(self, shape: Shape, name: Namer) -> Step:
        if self.activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation {self.activation!r}; choose one of {', '.join(ACTIVATIONS)}.")
        cls = ACTIVATIONS[self.activation] or "Identity"
        return Step(out_shape=shape, modules=(ModulePlan(name(self.activation), cls),), window=Window())
