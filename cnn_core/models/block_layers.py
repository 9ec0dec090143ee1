"""The block layer types: Conv-BN, depthwise-separable convolution, residual block, inception module.

Registered like every layer type (:mod:`cnn_core.models.layers`), after the plain ones, so the
editor lists them last. Conv-BN and the separable convolution are flat (plain torch modules); the
residual block and the inception module are one module each (:mod:`cnn_core.models.blocks`).
:func:`bottleneck_saving` is the one home of "what the 1x1 bottlenecks of an inception module save".
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, ClassVar

from cnn_core import geometry
from cnn_core.models.base import (
    REQUIRED,
    LayerSpec,
    ModulePlan,
    Namer,
    Shape,
    Step,
    Window,
    activation_modules,
    need_map,
    register,
    setting,
    whole,
)
from cnn_core.models.layers import Conv2dSpec

__all__ = ["Bottleneck", "ConvBNSpec", "InceptionSpec", "ResidualSpec", "SeparableConvSpec", "bottleneck_saving"]

SHORTCUTS = ("auto", "identity", "projection", "plain")
NORMS = ("none", "batchnorm")


def _conv_parts(spec: Conv2dSpec, shape: Shape, name: Namer) -> tuple[Step, list[ModulePlan], ModulePlan]:
    """The plain convolution's step, its padding module (if any) and its Conv2d module."""
    step = Conv2dSpec(**{**_fields(spec), "activation": "none"}).plan(shape, name)
    *pad, conv = step.modules
    return step, pad, conv


def _fields(spec: Conv2dSpec) -> dict[str, Any]:
    return {f.name: getattr(spec, f.name) for f in dataclasses.fields(Conv2dSpec)}


@register("convbn", token="cbn")
@dataclass(frozen=True)
class ConvBNSpec(Conv2dSpec):
    """A convolution without bias, batch norm, then its activation (torchvision's ``BasicConv2d``)."""

    noun: ClassVar[str] = "Conv-BN"
    editor_name: ClassVar[str] = "Conv-BN"
    diagram: ClassVar[tuple[str, str] | None] = ("Conv-BN", "conv")

    def describe(self) -> str:
        return "Conv-BN" + super().describe().removeprefix("Conv2d")

    def plan(self, shape: Shape, name: Namer) -> Step:
        step, pad, conv = _conv_parts(self, shape, name)
        c, k, f = shape[0], conv.kwargs[0][1], self.filters
        conv = dataclasses.replace(conv, kwargs=(*conv.kwargs, ("bias", False)))
        learned, running = geometry.batchnorm_params(f)
        return dataclasses.replace(
            step,
            modules=(
                *pad,
                conv,
                ModulePlan(f"{conv.name}_bn", "BatchNorm2d", (f,)),
                *activation_modules(self.activation, conv.name),
            ),
            params=geometry.conv_params(c, k, k, f, bias=False) + learned,
            running=running,
            terms=None,
            formula_text=f"C_in·kh·kw·C_out + 2·C_out = {c}·{k}·{k}·{f} + 2·{f} = "
            f"{geometry.conv_params(c, k, k, f, bias=False) + learned:,} (no bias: batch norm's β shifts)",
        )


@register("sepconv", token="sep")
@dataclass(frozen=True)
class SeparableConvSpec(Conv2dSpec):
    """A depthwise-separable convolution (Keras' ``SeparableConv2D``): one kxk kernel per input channel
    (depthwise, no bias), then a 1x1 convolution mixing the channels (pointwise), then the activation."""

    noun: ClassVar[str] = "separable convolution"
    editor_name: ClassVar[str] = "SeparableConv2d"
    diagram: ClassVar[tuple[str, str] | None] = ("SepConv", "conv")

    def describe(self) -> str:
        return "SeparableConv2d" + super().describe().removeprefix("Conv2d")

    def plan(self, shape: Shape, name: Namer) -> Step:
        c, _, _ = need_map(shape, "a separable convolution")
        step, pad, conv = _conv_parts(dataclasses.replace(self, filters=c), shape, lambda _: name("sep"))
        n, k, f = conv.name, conv.kwargs[0][1], whole(self.filters, "number of filters", hi=4096)
        _, oh, ow = step.out_shape
        depthwise = dataclasses.replace(
            conv, name=f"{n}_depthwise", kwargs=(*conv.kwargs, ("groups", c), ("bias", False))
        )
        pointwise = ModulePlan(f"{n}_pointwise", "Conv2d", (c, f), (("kernel_size", 1),))
        dw, pw = geometry.conv_params(1, k, k, c, bias=False), geometry.conv_params(c, 1, 1, f)
        full = geometry.conv_params(c, k, k, f)
        return dataclasses.replace(
            step,
            out_shape=(f, oh, ow),
            modules=(*pad, depthwise, pointwise, *activation_modules(self.activation, n)),
            params=dw + pw,
            macs=geometry.conv_macs(1, k, k, c, oh, ow) + geometry.conv_macs(c, 1, 1, f, oh, ow),
            terms=None,
            formula_text=f"C_in·k·k + (C_in + 1)·C_out = {c}·{k}·{k} + ({c} + 1)·{f} = {dw + pw:,} "
            f"(a full {k}x{k} convolution: {full:,})",
        )


@register("residual", token="res")
@dataclass(frozen=True)
class ResidualSpec(LayerSpec):
    """A ResNet basic block: two 3x3 Conv-BN, added to the shortcut (identity, or 1x1 projection), ReLU."""

    noun: ClassVar[str] = "residual block"
    editor_name: ClassVar[str] = "Residual block"
    diagram: ClassVar[tuple[str, str] | None] = ("Residual", "residual")

    filters: int = setting(64, "Filters", place="head", hi=2048, help="Output channels of both 3×3 convolutions.")
    stride: int = setting(1, "Stride", tag="s", hi=4, help="Stride of the first 3×3 convolution (and of a projection).")
    # auto: identity when the shape stays, else a 1x1 projection; plain: no shortcut at all
    shortcut: str = setting(
        "auto",
        "Shortcut",
        choices=SHORTCUTS,
        width=1.4,
        help="auto: identity x when the shape stays, else a 1×1 convolution (projection) to the new shape; "
        "plain: the same layers without the shortcut, for comparison.",
    )

    def describe(self) -> str:
        stride = f", stride {self.stride}" if self.stride != 1 else ""
        short = "" if self.shortcut == "auto" else f", {self.shortcut} shortcut"
        return f"Residual block {self.filters} filters{stride}{short}"

    def projects(self, c_in: int) -> bool:
        return self.shortcut == "projection" or (self.shortcut == "auto" and (self.stride != 1 or c_in != self.filters))

    def plan(self, shape: Shape, name: Namer) -> Step:
        c, h, w = need_map(shape, "a residual block")
        f = whole(self.filters, "number of filters", hi=2048)
        s = whole(self.stride, "stride", hi=4)
        if self.shortcut not in SHORTCUTS:
            raise ValueError(f"the shortcut must be one of {', '.join(SHORTCUTS)}, got {self.shortcut!r}.")
        working = geometry.explain_output_size(h, 3, stride=s, padding=1)
        oh, ow = working.size, geometry.output_size(w, 3, stride=s, padding=1)
        if self.shortcut == "identity" and (c, h, w) != (f, oh, ow):
            raise ValueError(
                f"an identity shortcut adds x ({c}x{h}x{w}) to F(x) ({f}x{oh}x{ow}), which needs the same shape. "
                "Choose auto or projection (a 1x1 convolution brings x to F(x)'s shape), or keep the filters and stride 1."
            )
        convs = geometry.conv_params(c, 3, 3, f, bias=False) + geometry.conv_params(f, 3, 3, f, bias=False)
        proj = geometry.conv_params(c, 1, 1, f, bias=False) if self.projects(c) else 0
        n_bn = 3 if proj else 2
        kw = ((("stride", s),) if s != 1 else ()) + ((("shortcut", self.shortcut),) if self.shortcut != "auto" else ())
        parts = f"{c}·9·{f} + {f}·9·{f} + {n_bn}·2·{f}" + (f" + {c}·{f} (1x1 projection)" if proj else "")
        return Step(
            out_shape=(f, oh, ow),
            modules=(ModulePlan(name("res"), "ResidualBlock", (c, f), kw),),
            params=convs + proj + n_bn * 2 * f,
            running=n_bn * 2 * f,
            macs=geometry.conv_macs(c, 3, 3, f, oh, ow) + geometry.conv_macs(f, 3, 3, f, oh, ow)
            + (geometry.conv_macs(c, 1, 1, f, oh, ow) if proj else 0),
            working=working,
            window=Window(3 + 2 * s, s, pad=(1 + s, 1 + s)),  # padding 1 of each 3x3, the second after stride s
            formula_text=f"{parts} = {convs + proj + n_bn * 2 * f:,}",
        )  # fmt: skip


@dataclass(frozen=True)
class Bottleneck:
    """Parameters of an inception module's 3x3 and kxk branches with and without their 1x1 bottlenecks."""

    with_reduce: int
    without_reduce: int
    formula_with: str
    formula_without: str

    @property
    def saved(self) -> int:
        return self.without_reduce - self.with_reduce


@register("inception", token="inc")
@dataclass(frozen=True)
class InceptionSpec(LayerSpec):
    """An inception module (GoogLeNet): 1x1, 3x3 and kxk convolutions and 3x3 max pooling side by side,
    with 1x1 bottlenecks before the 3x3 and kxk convolutions and after the pooling, concatenated."""

    noun: ClassVar[str] = "inception"
    editor_name: ClassVar[str] = "Inception module"
    diagram: ClassVar[tuple[str, str] | None] = ("Inception", "inception")

    ch1: int = setting(64, "1×1", place="head", hi=1024, width=0.75, help="Channels of the 1×1 branch.")
    reduce3: int = setting(
        96,
        "1×1 → 3×3",
        tag="r",
        always=True,
        link_default=REQUIRED,
        lo=0,
        hi=1024,
        width=0.8,
        help="Bottleneck: 1×1 convolution to this many channels before the 3×3 (0: none).",
    )
    ch3: int = setting(
        128, "3×3", tag="t", always=True, link_default=REQUIRED, hi=1024, width=0.75, help="Channels of the 3×3 branch."
    )
    reduce5: int = setting(
        16,
        "1×1 → k×k",
        tag="q",
        always=True,
        link_default=REQUIRED,
        lo=0,
        hi=1024,
        width=0.8,
        help="Bottleneck: 1×1 convolution to this many channels before the k×k (0: none).",
    )
    ch5: int = setting(
        32, "k×k", tag="f", always=True, link_default=REQUIRED, hi=1024, width=0.75, help="Channels of the k×k branch."
    )
    pool_proj: int = setting(
        32,
        "Pool 1×1",
        tag="p",
        always=True,
        link_default=REQUIRED,
        lo=0,
        hi=1024,
        width=0.8,
        help="1×1 convolution after the 3×3 max pooling (0: the pooled input as it is).",
    )
    kernel: int = setting(5, "k", tag="k", hi=7, width=0.6, help="Kernel of the large branch (5 in the paper).")
    norm: str = setting("none", "Norm", choices=NORMS, width=1.15,
                        help="batchnorm: each convolution without bias, then batch norm (torchvision's GoogLeNet).")  # fmt: skip

    def describe(self) -> str:
        k = self.kernel
        return (f"Inception 1x1 {self.ch1}, 3x3 {self.reduce3}→{self.ch3}, {k}x{k} {self.reduce5}→{self.ch5}, "
                f"pool→{self.pool_proj}" + (", batch norm" if self.norm == "batchnorm" else ""))  # fmt: skip

    def _checked(self, shape: Shape) -> tuple[int, ...]:
        c, _, _ = need_map(shape, "an inception module")
        counts = [whole(getattr(self, n), lbl, lo=lo, hi=1024) for n, lbl, lo in (
            ("ch1", "1x1 branch's channels", 1), ("reduce3", "3x3 bottleneck's channels", 0),
            ("ch3", "3x3 branch's channels", 1), ("reduce5", "large branch's bottleneck channels", 0),
            ("ch5", "large branch's channels", 1), ("pool_proj", "pooling branch's 1x1 channels", 0))]  # fmt: skip
        k = whole(self.kernel, "large branch's kernel", hi=7)
        if k % 2 == 0:
            raise ValueError(
                f"the large branch's kernel must be odd: a {k}x{k} kernel with padding {k // 2} would make a "
                f"{shape[1] + 1}x{shape[2] + 1} map next to the other branches' {shape[1]}x{shape[2]}, and maps of "
                "different sizes cannot be concatenated."
            )
        if self.norm not in NORMS:
            raise ValueError(f"the norm must be one of {', '.join(NORMS)}, got {self.norm!r}.")
        return (c, *counts, k)

    def branches(self, shape: Shape) -> tuple[tuple[str, Shape], ...]:
        """(label, output shape) of each branch, for the diagram."""
        c, ch1, r3, ch3, r5, ch5, pp, k = self._checked(shape)
        _, h, w = shape
        return (
            ("1x1", (ch1, h, w)),
            (f"{f'1x1→{r3}, ' if r3 else ''}3x3", (ch3, h, w)),
            (f"{f'1x1→{r5}, ' if r5 else ''}{k}x{k}", (ch5, h, w)),
            ("pool 3x3" + (f", 1x1→{pp}" if pp else ""), (pp or c, h, w)),
        )

    def plan(self, shape: Shape, name: Namer) -> Step:
        c, ch1, r3, ch3, r5, ch5, pp, k = self._checked(shape)
        _, h, w = shape
        bn = self.norm == "batchnorm"

        def conv(ci: int, co: int, kk: int) -> int:
            return geometry.conv_params(ci, kk, kk, co, bias=not bn) + (2 * co if bn else 0)

        convs = [(c, ch1, 1), *([(c, r3, 1)] if r3 else []), (r3 or c, ch3, 3), *([(c, r5, 1)] if r5 else []),
                 (r5 or c, ch5, k), *([(c, pp, 1)] if pp else [])]  # fmt: skip
        params = sum(conv(*t) for t in convs)
        kw = ((("kernel", k),) if k != 5 else ()) + ((("batchnorm", True),) if bn else ())
        bn_terms = f" + 2·({' + '.join(str(co) for _, co, _ in convs)}) (batch norm)" if bn else ""
        terms = " + ".join(
            f"{'(' if not bn else ''}{ci}·{kk}·{kk}{' + 1)' if not bn else ''}·{co}" for ci, co, kk in convs
        )
        return Step(
            out_shape=(ch1 + ch3 + ch5 + (pp or c), h, w),
            modules=(ModulePlan(name("inception"), "Inception", (c, ch1, r3, ch3, r5, ch5, pp), kw),),
            params=params,
            running=sum(2 * co for _, co, _ in convs) if bn else 0,
            macs=sum(geometry.conv_macs(ci, kk, kk, co, h, w) for ci, co, kk in convs),
            window=Window(max(3, k), 1, pad=(max(3, k) // 2,) * 2),  # every branch keeps the map centred
            formula_text=f"{terms}{bn_terms} = {params:,}",
        )


def bottleneck_saving(spec: InceptionSpec, in_channels: int) -> Bottleneck:
    """Parameters of the 3x3 and kxk branches of ``spec`` on ``in_channels`` channels, with the module's
    1x1 bottlenecks and with the 3x3 and kxk convolutions applied straight to the input (biases counted)."""
    c, k = int(in_channels), int(spec.kernel)
    r3, r5 = spec.reduce3 or c, spec.reduce5 or c
    with_r = (geometry.conv_params(c, 1, 1, r3) if spec.reduce3 else 0) + geometry.conv_params(r3, 3, 3, spec.ch3)
    with_r += (geometry.conv_params(c, 1, 1, r5) if spec.reduce5 else 0) + geometry.conv_params(r5, k, k, spec.ch5)
    without = geometry.conv_params(c, 3, 3, spec.ch3) + geometry.conv_params(c, k, k, spec.ch5)
    f_with = (
        f"({c}·1·1 + 1)·{r3} + ({r3}·3·3 + 1)·{spec.ch3} + ({c}·1·1 + 1)·{r5} + ({r5}·{k}·{k} + 1)·{spec.ch5} "
        f"= {with_r:,}"
    )
    f_without = f"({c}·3·3 + 1)·{spec.ch3} + ({c}·{k}·{k} + 1)·{spec.ch5} = {without:,}"
    return Bottleneck(with_r, without, f_with, f_without)
