"""The layer registry: what every layer spec is, and the one list of layer types.

A layer type is one frozen dataclass subclassing :class:`LayerSpec`, decorated with
:func:`register`. The class owns everything about its layers: its description (:meth:`LayerSpec.describe`),
its shape plan (:meth:`LayerSpec.plan`: output shape, parameters with their formula, MACs,
receptive-field window and the torch modules it becomes), and, through :func:`setting` metadata on
its fields, how each field is written in a link and shown in the editor. Links and dicts are derived
from the fields (see :mod:`cnn_core.models.codec`), so adding a layer type is one class in
:mod:`cnn_core.models.layers` and nothing else.

A block (residual, inception) is one more registered class whose fields hold nested specs: its
:meth:`~LayerSpec.plan` plans its branches by calling theirs, and it may override the token codec
(:meth:`LayerSpec.to_token` / :meth:`LayerSpec.from_parts`) for a nested syntax.
"""

from __future__ import annotations

import dataclasses
import numbers
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from torch import nn

from cnn_core import geometry
from cnn_core.models import blocks
from cnn_core.summary import ParamTerms

__all__ = [
    "ACTIVATIONS",
    "AS_FIELD",
    "LAYER_TYPES",
    "REQUIRED",
    "LayerSpec",
    "ModulePlan",
    "Namer",
    "Setting",
    "Shape",
    "Step",
    "Window",
    "activation_modules",
    "activation_setting",
    "need_map",
    "register",
    "setting",
    "settings",
    "shape_text",
    "spatial",
    "whole",
]

Shape = tuple[int, ...]  # (C, H, W) for a feature map, (N,) for a flat vector
Namer = Callable[[str], str]  # "conv" -> "conv1", then "conv2", ...

# name -> torch module class name (None: no activation, i.e. Keras' "linear")
ACTIVATIONS: dict[str, str | None] = {
    "none": None,
    "relu": "ReLU",
    "tanh": "Tanh",
    "sigmoid": "Sigmoid",
    "elu": "ELU",
    "leakyrelu": "LeakyReLU",
    "gelu": "GELU",
}

REQUIRED: Any = object()  # Setting.link_default: a link must give this field
AS_FIELD: Any = object()  # Setting.link_default: a link that leaves the field out means the field's default


@dataclass(frozen=True)
class Setting:
    """How one field of a layer spec is written in a link and shown in the layer editor.

    In a link a layer is ``[before]prefix[head]-option-option...``, e.g. ``conv32-k3-s2-same-relu`` or
    ``maxpool3-s2``. An option is ``tag`` + whole number (``k3``) or, for a string among ``choices``, the
    bare value (``same``, ``relu``). An option equal to ``link_default`` is left out, unless ``always``.
    """

    label: str  # the editor's label, e.g. "Filters"
    place: Literal["option", "head", "before"] = "option"  # head: right after the prefix; before: before it
    tag: str = ""  # letter before a number in a link ("k" in "k3"); "" for a bare value
    always: bool = False  # written even when it equals the link default
    link_default: Any = AS_FIELD  # what a link that leaves the field out means (or REQUIRED)
    omit: tuple[Any, ...] = ()  # more values a link leaves out (0 padding, as "valid")
    choices: tuple[Any, ...] | None = None  # the editor's options; bare link values come from these
    lo: float = 1  # editor range (choices: whole numbers are clamped into lo..hi when hi is set)
    hi: float | None = None
    step: float | None = None
    fmt: str | None = None  # number format, e.g. "%.2f"
    help: str | None = None
    width: float = 1.0  # column width in the editor row (a row's settings share 6.4 units)
    key: str | None = None  # widget-key suffix; the field name when None
    none_label: str = "None"  # how the editor shows a None choice
    editor: bool = True  # False: not a widget of its own (PoolSpec.kind is part of the layer type)


def setting(default: Any, label: str, **kw: Any) -> Any:
    """A dataclass field with ``default`` and its :class:`Setting`."""
    return dataclasses.field(default=default, metadata={"setting": Setting(label, **kw)})


def activation_setting(*, link_default: Any = "none", width: float = 1.3) -> Any:
    """The activation field shared by Conv2d, Dense and Activation (its default is ``"relu"``)."""
    return setting(
        "relu",
        "Activation",
        choices=tuple(ACTIVATIONS),
        link_default=link_default,
        width=width,
        key="act",
        help="none: the layer's output is used as it is (the last Dense layer gives logits).",
    )


@dataclass(frozen=True)
class ModulePlan:
    """One torch module to create: ``getattr(nn, cls)(*args, **kwargs)`` named ``name``."""

    name: str
    cls: str
    args: tuple[Any, ...] = ()
    kwargs: tuple[tuple[str, Any], ...] = ()

    @property
    def is_block(self) -> bool:
        """A ConvLab block (:mod:`cnn_core.models.blocks`) rather than a ``torch.nn`` module."""
        return self.cls in blocks.BLOCKS

    def create(self) -> nn.Module:
        factory = blocks.BLOCKS[self.cls] if self.is_block else getattr(nn, self.cls)
        return factory(*self.args, **dict(self.kwargs))

    def code(self) -> str:
        parts = [repr(a) for a in self.args] + [f"{k}={v!r}" for k, v in self.kwargs]
        return f"{'' if self.is_block else 'nn.'}{self.cls}({', '.join(parts)})"


@dataclass(frozen=True)
class Window:
    """The window a layer slides, as the receptive field sees it (``Window()``: element-wise)."""

    kernel: int = 1
    stride: int = 1
    dilation: int = 1
    pad: tuple[int, int] = (0, 0)  # zero cells added before the first row and column (top, left)


@dataclass(frozen=True, kw_only=True)
class Step:
    """What one layer spec does to the shape coming in (returned by :meth:`LayerSpec.plan`)."""

    out_shape: Shape
    modules: tuple[ModulePlan, ...]
    params: int = 0  # learnable parameters
    running: int = 0  # running statistics (BatchNorm); Keras counts them as non-trainable params
    macs: int = 0
    working: geometry.OutputSizeWorking | None = None  # the output-height formula, for conv and pooling
    terms: ParamTerms | None = None  # the numbers behind ``params``, for summary.param_formula
    window: Window | None = None  # None: the output is no longer a map (receptive field ends)
    formula_text: str = ""  # the parameter formula of a layer of several parts (blocks), when terms cannot say it


class LayerSpec:
    """Base of every layer spec (frozen dataclasses). Subclasses are registered with :func:`register`."""

    type_name: ClassVar[str]  # name in dicts, e.g. "conv" (set by register)
    token_prefix: ClassVar[str]  # prefix in links, e.g. "conv" (set by register)
    noun: ClassVar[str]  # in sentences: "not a {noun} setting"
    editor_name: ClassVar[str]  # the editor's type name, e.g. "Conv2d"
    editor_help: ClassVar[str] = ""  # shown in the editor row of a type without settings
    diagram: ClassVar[tuple[str, str] | None] = None  # (label, kind) in the architecture diagram; None: not drawn
    after_logits: ClassVar[bool] = False  # may follow the last Dense layer (num_classes looks past it)

    def describe(self) -> str:
        """Short human description, e.g. ``"Conv2d 32 filters 3x3, stride 2, same, relu"``."""
        raise NotImplementedError

    def plan(self, shape: Shape, name: Namer) -> Step:
        """The layer on an input of ``shape``; raises ``ValueError`` with a sentence when impossible."""
        raise NotImplementedError

    @classmethod
    def editor_variants(cls) -> dict[str, LayerSpec]:
        """Editor type name -> the spec a new layer of that type starts as."""
        return {cls.editor_name: cls()}

    def editor_variant(self) -> str:
        """The editor type name of this spec."""
        return self.editor_name

    def diagram_block(self) -> tuple[str, str] | None:
        """(label, kind) of this layer in the architecture diagram, or None when it is not drawn."""
        return self.diagram

    def to_token(self) -> str:
        """This layer in a link, derived from its fields (a block with nested specs may write its own)."""
        from cnn_core.models import codec

        return codec.fields_to_token(self)

    @classmethod
    def from_parts(cls, token: str, fixed: dict[str, Any], head: str | None, options: list[str]) -> LayerSpec:
        """Inverse of :meth:`to_token` once the link's token is known to be of this type."""
        from cnn_core.models import codec

        return codec.fields_from_token(cls, token, fixed, head, options)


LAYER_TYPES: dict[str, type[LayerSpec]] = {}  # type name -> class, in the editor's order: THE list of layer types


def register(type_name: str, *, token: str | None = None) -> Callable[[type], type]:
    """Class decorator adding a layer spec to :data:`LAYER_TYPES` (``token``: its link prefix, default ``type_name``)."""

    def add(cls: type) -> type:
        prefix = token or type_name
        if type_name in LAYER_TYPES or any(c.token_prefix == prefix for c in LAYER_TYPES.values()):
            raise ValueError(f"layer type {type_name!r} / link prefix {prefix!r} is registered twice.")
        cls.type_name, cls.token_prefix = type_name, prefix
        LAYER_TYPES[type_name] = cls
        return cls

    return add


def settings(spec: LayerSpec | type[LayerSpec]) -> list[tuple[dataclasses.Field, Setting]]:
    """The fields of a spec with their :class:`Setting`, in field order."""
    return [(f, f.metadata["setting"]) for f in dataclasses.fields(spec)]


# --------------------------------------------------------------------------- helpers for plan()


def whole(value: Any, what: str, lo: int = 1, hi: int | None = None) -> int:
    """``value`` as an int in ``lo..hi``, else ``ValueError`` naming ``what``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or value != int(value):
        raise ValueError(f"the {what} must be a whole number, got {value!r}.")
    value = int(value)
    if value < lo:
        raise ValueError(f"the {what} must be at least {lo}, got {value}.")
    if hi is not None and value > hi:
        raise ValueError(f"the {what} can be at most {hi} here, got {value}.")
    return value


def shape_text(shape: Shape) -> str:
    return "x".join(str(s) for s in shape)


def activation_modules(act: str, name: str) -> tuple[ModulePlan, ...]:
    """The module of the activation after a layer named ``name`` (none for ``"none"``)."""
    if act not in ACTIVATIONS:
        raise ValueError(f"unknown activation {act!r}; choose one of {', '.join(ACTIVATIONS)}.")
    cls = ACTIVATIONS[act]
    return () if cls is None else (ModulePlan(f"{name}_{act}", cls),)


def need_map(shape: Shape, what: str) -> tuple[int, int, int]:
    """``shape`` as (C, H, W), else a sentence saying that ``what`` needs a feature map."""
    if len(shape) != 3:
        raise ValueError(
            f"its input is a flat vector of {shape[0]} numbers, but {what} needs a feature map "
            "(channels, height, width). Move this layer before the Flatten / Global average pooling layer."
        )
    return shape  # type: ignore[return-value]


def spatial(
    n: int, axis: str, kernel: int, stride: int, padding: Any, dilation: int, shape: Shape
) -> geometry.OutputSizeWorking:
    """The output size along one axis, with its working; a sentence when the map would vanish."""
    try:
        return geometry.explain_output_size(n, kernel, stride=stride, padding=padding, dilation=dilation)
    except ValueError as exc:
        raise ValueError(
            f"the feature map coming in is only {shape_text(shape)} (C x H x W), so the {axis} would shrink "
            f"below 1. {exc}"
        ) from None
