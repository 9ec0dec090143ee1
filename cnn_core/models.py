"""Network configs and the PyTorch models they describe: the one home of "which layers, in what order".

A network is a :class:`ModelConfig`: an input shape ``(C, H, W)`` and a tuple of layer specs
(:class:`Conv2dSpec`, :class:`PoolSpec`, :class:`BatchNormSpec`, :class:`DropoutSpec`,
:class:`FlattenSpec`, :class:`GlobalAvgPoolSpec`, :class:`DenseSpec`, :class:`ActivationSpec`),
all frozen dataclasses. This module owns

* :func:`plan`: the static walk through the stack (shapes, parameter counts, the torch modules each
  layer becomes), which names the first impossible layer and says why (:class:`LayerError`);
* :func:`build`: the trainable ``nn.Sequential`` (the last Dense layer gives logits, no softmax:
  ``nn.CrossEntropyLoss`` applies it);
* :func:`to_pytorch_code`: the same model as copyable Python;
* serialisation: :func:`to_dict` / :func:`from_dict` (JSON, saved next to trained weights) and
  :func:`to_query` / :func:`from_query` (a compact string for a shareable link);
* :data:`PRESETS`: famous networks, name -> config, with a sentence each in :data:`PRESET_NOTES`.

Keras' ``padding="same"`` is reproduced exactly: ``padding="same"`` in torch for stride 1, and an
explicit TensorFlow-style ``nn.ZeroPad2d`` (possibly one cell more at the bottom/right) before the
convolution when the stride is larger, so output shapes always match Keras.
"""

from __future__ import annotations

import math
import numbers
from collections import OrderedDict
from dataclasses import asdict, dataclass, replace
from typing import Any, Literal

from torch import nn

from cnn_core import geometry

__all__ = [
    "ACTIVATIONS",
    "DEFAULT_PRESET",
    "FAST_PRESET",
    "MAX_ACTIVATIONS",
    "MAX_LAYERS",
    "MAX_MACS",
    "MAX_PARAMS",
    "PRESETS",
    "PRESET_NOTES",
    "ActivationSpec",
    "BatchNormSpec",
    "Conv2dSpec",
    "DenseSpec",
    "DropoutSpec",
    "FlattenSpec",
    "GlobalAvgPoolSpec",
    "LayerError",
    "LayerPlan",
    "LayerSpec",
    "ModelConfig",
    "ModulePlan",
    "Plan",
    "PoolSpec",
    "build",
    "describe_layer",
    "fast_config",
    "from_dict",
    "from_query",
    "plan",
    "to_dict",
    "to_pytorch_code",
    "to_query",
    "validate",
    "with_num_classes",
]

Shape = tuple[int, ...]  # (C, H, W) for a feature map, (N,) for a flat vector
Activation = Literal["none", "relu", "tanh", "sigmoid", "elu", "leakyrelu", "gelu"]

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

# Limits that keep one student's network from exhausting a shared server.
MAX_LAYERS = 64
MAX_INPUT_SIDE = 1024
MAX_INPUT_CHANNELS = 64
MAX_PARAMS = 100_000_000  # AlexNet has about 62 million
MAX_ACTIVATIONS = 50_000_000  # feature-map values kept for one image, all layers together
MAX_MACS = 20_000_000_000  # multiply-accumulates for one image


# --------------------------------------------------------------------------- layer specs


@dataclass(frozen=True)
class Conv2dSpec:
    """A 2-D convolution with a square kernel, followed by its activation."""

    filters: int = 32  # number of kernels = output channels
    kernel: int = 3  # kernel side, k x k
    stride: int = 1
    padding: int | str = "valid"  # "valid" (none), "same" (Keras/TensorFlow) or cells on each side
    dilation: int = 1
    activation: str = "relu"  # one of ACTIVATIONS


@dataclass(frozen=True)
class PoolSpec:
    """Max or average pooling over square windows, without padding (Keras' default)."""

    kind: str = "max"  # "max" or "avg"
    size: int = 2  # window side
    stride: int | None = None  # None: same as the window size (Keras' default)

    @property
    def step(self) -> int:
        return self.size if self.stride is None else self.stride


@dataclass(frozen=True)
class BatchNormSpec:
    """Batch normalisation: per-channel (feature map) or per-unit (flat vector)."""


@dataclass(frozen=True)
class DropoutSpec:
    """Dropout: each value is zeroed with probability ``p`` during training only."""

    p: float = 0.5


@dataclass(frozen=True)
class FlattenSpec:
    """Flatten a (C, H, W) feature map into one vector of C*H*W numbers."""


@dataclass(frozen=True)
class GlobalAvgPoolSpec:
    """Average each channel over all positions: (C, H, W) -> (C,)."""


@dataclass(frozen=True)
class DenseSpec:
    """A dense (fully connected, ``nn.Linear``) layer, followed by its activation."""

    units: int = 64
    activation: str = "relu"  # the last Dense layer is normally "none": it gives logits


@dataclass(frozen=True)
class ActivationSpec:
    """A stand-alone activation, as Keras' ``Activation`` layer."""

    activation: str = "relu"


LayerSpec = (
    Conv2dSpec | PoolSpec | BatchNormSpec | DropoutSpec | FlattenSpec | GlobalAvgPoolSpec | DenseSpec | ActivationSpec
)

_TYPE_NAMES: dict[type, str] = {
    Conv2dSpec: "conv",
    PoolSpec: "pool",
    BatchNormSpec: "batchnorm",
    DropoutSpec: "dropout",
    FlattenSpec: "flatten",
    GlobalAvgPoolSpec: "gap",
    DenseSpec: "dense",
    ActivationSpec: "activation",
}
_SPEC_TYPES = {v: k for k, v in _TYPE_NAMES.items()}


@dataclass(frozen=True)
class ModelConfig:
    """A whole network: input shape and layer stack. Build it with :func:`build`."""

    name: str = "Custom network"
    input_shape: tuple[int, int, int] = (1, 28, 28)  # (C, H, W)
    layers: tuple[LayerSpec, ...] = ()

    @property
    def num_classes(self) -> int | None:
        """Units of the last Dense layer (ignoring trailing activation/dropout), or None."""
        for spec in reversed(self.layers):
            if isinstance(spec, DenseSpec):
                return spec.units
            if not isinstance(spec, ActivationSpec | DropoutSpec):
                return None
        return None


def with_num_classes(config: ModelConfig, n: int) -> ModelConfig:
    """Return ``config`` with its last Dense layer resized to ``n`` outputs (for a dataset with n classes).

    Raises
    ------
    ValueError
        If the stack does not end with a Dense layer.
    """
    for i in range(len(config.layers) - 1, -1, -1):
        spec = config.layers[i]
        if isinstance(spec, DenseSpec):
            layers = config.layers[:i] + (replace(spec, units=int(n)),) + config.layers[i + 1 :]
            return replace(config, layers=layers)
        if not isinstance(spec, ActivationSpec | DropoutSpec):
            break
    raise ValueError("The network does not end with a Dense layer, so it has no class outputs to resize.")


def describe_layer(spec: LayerSpec) -> str:
    """Short human description, e.g. ``"Conv2d 32 filters 3x3, stride 2, same, relu"``."""
    if isinstance(spec, Conv2dSpec):
        parts = [f"Conv2d {spec.filters} filters {spec.kernel}x{spec.kernel}"]
        if spec.stride != 1:
            parts.append(f"stride {spec.stride}")
        if spec.padding not in ("valid", 0):
            parts.append("same" if spec.padding == "same" else f"padding {spec.padding}")
        if spec.dilation != 1:
            parts.append(f"dilation {spec.dilation}")
        if spec.activation != "none":
            parts.append(spec.activation)
        return ", ".join(parts)
    if isinstance(spec, PoolSpec):
        name = "MaxPool" if spec.kind == "max" else "AvgPool"
        stride = "" if spec.stride is None or spec.stride == spec.size else f", stride {spec.stride}"
        return f"{name} {spec.size}x{spec.size}{stride}"
    if isinstance(spec, BatchNormSpec):
        return "BatchNorm"
    if isinstance(spec, DropoutSpec):
        return f"Dropout {spec.p:g}"
    if isinstance(spec, FlattenSpec):
        return "Flatten"
    if isinstance(spec, GlobalAvgPoolSpec):
        return "Global average pooling"
    if isinstance(spec, DenseSpec):
        act = "" if spec.activation == "none" else f", {spec.activation}"
        return f"Dense {spec.units}{act}"
    if isinstance(spec, ActivationSpec):
        return f"Activation {spec.activation}"
    raise TypeError(f"Not a layer spec: {spec!r}")


# --------------------------------------------------------------------------- planning


@dataclass(frozen=True)
class ModulePlan:
    """One torch module to create: ``getattr(nn, cls)(*args, **kwargs)`` named ``name``."""

    name: str
    cls: str
    args: tuple[Any, ...] = ()
    kwargs: tuple[tuple[str, Any], ...] = ()

    def create(self) -> nn.Module:
        return getattr(nn, self.cls)(*self.args, **dict(self.kwargs))

    def code(self) -> str:
        parts = [repr(a) for a in self.args] + [f"{k}={v!r}" for k, v in self.kwargs]
        return f"nn.{self.cls}({', '.join(parts)})"


@dataclass(frozen=True)
class LayerPlan:
    """What one layer spec becomes: its shapes, parameter count and torch modules."""

    index: int  # 0-based position in the stack
    spec: LayerSpec
    in_shape: Shape
    out_shape: Shape
    params: int  # learnable parameters
    running: int  # running statistics (BatchNorm); Keras counts them as non-trainable params
    macs: int
    modules: tuple[ModulePlan, ...]
    working: geometry.OutputSizeWorking | None = None  # the output-height formula, for conv and pooling

    @property
    def module_names(self) -> tuple[str, ...]:
        return tuple(m.name for m in self.modules)


@dataclass(frozen=True)
class Plan:
    """The static walk through a valid config (see :func:`plan`)."""

    config: ModelConfig
    layers: tuple[LayerPlan, ...]

    @property
    def output_shape(self) -> Shape:
        return self.layers[-1].out_shape if self.layers else tuple(self.config.input_shape)

    @property
    def total_params(self) -> int:
        return sum(lp.params for lp in self.layers)

    @property
    def modules(self) -> tuple[ModulePlan, ...]:
        return tuple(m for lp in self.layers for m in lp.modules)


class LayerError(ValueError):
    """An impossible layer: ``index`` (0-based) says which, the message says why in plain words."""

    def __init__(self, index: int, spec: LayerSpec | None, reason: str) -> None:
        self.index = index
        self.spec = spec
        self.reason = reason
        where = "Input" if index < 0 else f"Layer {index + 1} ({describe_layer(spec)})"
        super().__init__(f"{where}: {reason}")


def _whole(value: Any, what: str, lo: int = 1, hi: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or value != int(value):
        raise ValueError(f"the {what} must be a whole number, got {value!r}.")
    value = int(value)
    if value < lo:
        raise ValueError(f"the {what} must be at least {lo}, got {value}.")
    if hi is not None and value > hi:
        raise ValueError(f"the {what} can be at most {hi} here, got {value}.")
    return value


def _shape_text(shape: Shape) -> str:
    return "x".join(str(s) for s in shape)


def _activation_module(act: str, name: str) -> tuple[ModulePlan, ...]:
    if act not in ACTIVATIONS:
        raise ValueError(f"unknown activation {act!r}; choose one of {', '.join(ACTIVATIONS)}.")
    cls = ACTIVATIONS[act]
    return () if cls is None else (ModulePlan(f"{name}_{act}", cls),)


def _need_map(shape: Shape, what: str) -> tuple[int, int, int]:
    if len(shape) != 3:
        raise ValueError(
            f"its input is a flat vector of {shape[0]} numbers, but {what} needs a feature map "
            "(channels, height, width). Move this layer before the Flatten / Global average pooling layer."
        )
    return shape  # type: ignore[return-value]


def _spatial(
    n: int, axis: str, kernel: int, stride: int, padding: Any, dilation: int, shape: Shape
) -> geometry.OutputSizeWorking:
    try:
        return geometry.explain_output_size(n, kernel, stride=stride, padding=padding, dilation=dilation)
    except ValueError as exc:
        raise ValueError(
            f"the feature map coming in is only {_shape_text(shape)} (C x H x W), so the {axis} would shrink "
            f"below 1. {exc}"
        ) from None


def _plan_layer(index: int, spec: LayerSpec, shape: Shape, counts: dict[str, int]) -> LayerPlan:
    def name(prefix: str) -> str:
        counts[prefix] = counts.get(prefix, 0) + 1
        return f"{prefix}{counts[prefix]}"

    params = running = macs = 0
    working = None
    if isinstance(spec, Conv2dSpec):
        c, h, w = _need_map(shape, "a convolution")
        filters = _whole(spec.filters, "number of filters", hi=4096)
        k = _whole(spec.kernel, "kernel size", hi=64)
        s = _whole(spec.stride, "stride")
        d = _whole(spec.dilation, "dilation")
        n = name("conv")
        mods: list[ModulePlan] = []
        kwargs: list[tuple[str, Any]] = [("kernel_size", k)]
        if s != 1:
            kwargs.append(("stride", s))
        if spec.padding == "same":
            pad_h = geometry.same_padding(h, k, stride=s, dilation=d)
            pad_w = geometry.same_padding(w, k, stride=s, dilation=d)
            if s == 1:
                kwargs.append(("padding", "same"))
            elif pad_h != (0, 0) or pad_w != (0, 0):
                # TensorFlow's SAME with stride > 1 can pad one cell more at the bottom/right.
                mods.append(ModulePlan(f"{n}_pad", "ZeroPad2d", ((pad_w[0], pad_w[1], pad_h[0], pad_h[1]),)))
        elif spec.padding == "valid" or spec.padding == 0:
            pad_h = pad_w = (0, 0)
        else:
            p = _whole(spec.padding, "padding", lo=0, hi=64) if not isinstance(spec.padding, str) else None
            if p is None:
                raise ValueError(f"padding must be 'valid', 'same' or a number of cells, got {spec.padding!r}.")
            pad_h = pad_w = (p, p)
            kwargs.append(("padding", p))
        if d != 1:
            kwargs.append(("dilation", d))
        working = _spatial(h, "height", k, s, pad_h, d, shape)
        oh, ow = working.size, _spatial(w, "width", k, s, pad_w, d, shape).size
        mods.append(ModulePlan(n, "Conv2d", (c, filters), tuple(kwargs)))
        mods.extend(_activation_module(spec.activation, n))
        params = geometry.conv_params(c, k, k, filters)
        macs = geometry.conv_macs(c, k, k, filters, oh, ow)
        out: Shape = (filters, oh, ow)
    elif isinstance(spec, PoolSpec):
        c, h, w = _need_map(shape, "pooling")
        if spec.kind not in ("max", "avg"):
            raise ValueError(f"pooling must be 'max' or 'avg', got {spec.kind!r}.")
        size = _whole(spec.size, "pooling window", hi=64)
        s = _whole(spec.step, "stride")
        working = _spatial(h, "height", size, s, 0, 1, shape)
        out = (c, working.size, _spatial(w, "width", size, s, 0, 1, shape).size)
        cls = "MaxPool2d" if spec.kind == "max" else "AvgPool2d"
        kw = () if s == size else (("stride", s),)
        mods = [ModulePlan(name(f"{spec.kind}pool"), cls, (size,), kw)]
    elif isinstance(spec, BatchNormSpec):
        n_feat = shape[0]
        params, running = geometry.batchnorm_params(n_feat)
        cls = "BatchNorm2d" if len(shape) == 3 else "BatchNorm1d"
        mods, out = [ModulePlan(name("bn"), cls, (n_feat,))], shape
    elif isinstance(spec, DropoutSpec):
        p = spec.p
        if isinstance(p, bool) or not isinstance(p, numbers.Real) or not 0.0 <= p < 1.0:
            raise ValueError(f"the dropout probability must be in [0, 1), got {p!r}.")
        mods, out = [ModulePlan(name("dropout"), "Dropout", (float(p),))], shape
    elif isinstance(spec, FlattenSpec):
        mods, out = [ModulePlan(name("flatten"), "Flatten")], (math.prod(shape),)
    elif isinstance(spec, GlobalAvgPoolSpec):
        c, _, _ = _need_map(shape, "global average pooling")
        n = name("gap")
        mods, out = [ModulePlan(n, "AdaptiveAvgPool2d", (1,)), ModulePlan(f"{n}_flatten", "Flatten")], (c,)
    elif isinstance(spec, DenseSpec):
        if len(shape) != 1:
            raise ValueError(
                f"its input is still a {_shape_text(shape)} feature map (C x H x W), but a Dense layer takes one "
                "vector of numbers. Add a Flatten (or Global average pooling) layer before it. (Keras would "
                "instead apply the Dense layer to the channels of each position separately.)"
            )
        units = _whole(spec.units, "number of units", hi=100_000)
        n = name("fc")
        mods = [ModulePlan(n, "Linear", (shape[0], units)), *_activation_module(spec.activation, n)]
        params = geometry.dense_params(shape[0], units)
        macs = geometry.dense_macs(shape[0], units)
        out = (units,)
    elif isinstance(spec, ActivationSpec):
        if spec.activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation {spec.activation!r}; choose one of {', '.join(ACTIVATIONS)}.")
        cls = ACTIVATIONS[spec.activation] or "Identity"
        mods, out = [ModulePlan(name(spec.activation), cls)], shape
    else:
        raise ValueError(f"unknown layer type {type(spec).__name__}.")
    return LayerPlan(index, spec, shape, out, params, running, macs, tuple(mods), working)


def plan(config: ModelConfig) -> Plan:
    """Walk the stack: shapes, parameter counts and torch modules, without creating any weights.

    Parameters
    ----------
    config : ModelConfig
        The network.

    Returns
    -------
    Plan
        One :class:`LayerPlan` per layer spec.

    Raises
    ------
    LayerError
        For the first impossible layer (``index`` says which; ``-1`` for the input shape), e.g. a
        spatial size that reaches zero, a Dense layer on an unflattened feature map, or a network too
        large for a shared server.
    """
    try:
        c, h, w = config.input_shape
        shape: Shape = (
            _whole(c, "number of input channels", hi=MAX_INPUT_CHANNELS),
            _whole(h, "input height", hi=MAX_INPUT_SIDE),
            _whole(w, "input width", hi=MAX_INPUT_SIDE),
        )
    except (TypeError, ValueError) as exc:
        reason = str(exc) if isinstance(exc, ValueError) else "the input shape must be (channels, height, width)."
        raise LayerError(-1, None, reason) from None
    if len(config.layers) > MAX_LAYERS:
        raise LayerError(MAX_LAYERS, config.layers[MAX_LAYERS], f"ConvLab builds stacks of up to {MAX_LAYERS} layers.")
    counts: dict[str, int] = {}
    layers: list[LayerPlan] = []
    total_params = total_macs = total_act = 0
    for i, spec in enumerate(config.layers):
        try:
            lp = _plan_layer(i, spec, shape, counts)
        except ValueError as exc:
            raise LayerError(i, spec, str(exc)) from None
        total_params += lp.params
        total_macs += lp.macs
        total_act += math.prod(lp.out_shape)
        if total_params > MAX_PARAMS:
            raise LayerError(
                i,
                spec,
                f"with this layer the network has {total_params:,} parameters; ConvLab builds networks of "
                f"up to {MAX_PARAMS:,} (AlexNet has about 62 million). Use fewer units or filters, or pool first.",
            )
        if total_macs > MAX_MACS or total_act > MAX_ACTIVATIONS:
            raise LayerError(
                i,
                spec,
                "with this layer the network needs too much computation or memory for one image on a "
                "shared server. Use a smaller input, fewer filters, or a larger stride.",
            )
        layers.append(lp)
        shape = lp.out_shape
    return Plan(config, tuple(layers))


def validate(config: ModelConfig) -> LayerError | None:
    """Return the first :class:`LayerError` of ``config``, or ``None`` if it builds."""
    try:
        plan(config)
    except LayerError as exc:
        return exc
    return None


def build(config: ModelConfig) -> nn.Sequential:
    """Create the trainable PyTorch model of ``config``.

    Returns
    -------
    nn.Sequential
        Named children (``conv1``, ``conv1_relu``, ``maxpool1``, ``flatten1``, ``fc1`` ...), in
        training mode; input ``(B, C, H, W)``; the last Dense layer returns logits (no softmax).

    Raises
    ------
    LayerError
        If the config is impossible (see :func:`plan`).

    Examples
    --------
    >>> model = build(PRESETS["LeNet-5"])
    >>> sum(p.numel() for p in model.parameters())
    61706
    """
    p = plan(config)
    return nn.Sequential(OrderedDict((m.name, m.create()) for m in p.modules))


def to_pytorch_code(config: ModelConfig) -> str:
    """Python source that builds the same model as :func:`build` (same names, same parameters)."""
    p = plan(config)
    c, h, w = p.config.input_shape
    lines = [
        "from collections import OrderedDict",
        "",
        "import torch",
        "from torch import nn",
        "",
        f"# {config.name}: input (C, H, W) = ({c}, {h}, {w})",
        "model = nn.Sequential(OrderedDict([",
    ]
    for lp in p.layers:
        for j, m in enumerate(lp.modules):
            comment = f"  # -> {tuple(lp.out_shape)}" if j == len(lp.modules) - 1 else ""
            lines.append(f'    ("{m.name}", {m.code()}),{comment}')
    lines += [
        "]))",
        "",
        f"x = torch.zeros(1, {c}, {h}, {w})  # (B, C, H, W)",
        "print(model(x).shape)  # torch.Size([1, " + ", ".join(str(s) for s in p.output_shape) + "])",
    ]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- serialisation


def to_dict(config: ModelConfig) -> dict[str, Any]:
    """Plain JSON-able dict: ``{"name", "input_shape", "layers": [{"type": "conv", ...}, ...]}``."""
    return {
        "name": config.name,
        "input_shape": list(config.input_shape),
        "layers": [{"type": _TYPE_NAMES[type(s)], **asdict(s)} for s in config.layers],
    }


def from_dict(data: dict[str, Any]) -> ModelConfig:
    """Inverse of :func:`to_dict`; raises ``ValueError`` with a readable message on a malformed dict."""
    try:
        layers = []
        for i, item in enumerate(data["layers"]):
            item = dict(item)
            kind = item.pop("type")
            if kind not in _SPEC_TYPES:
                raise ValueError(f"layer {i + 1} has unknown type {kind!r}.")
            layers.append(_SPEC_TYPES[kind](**item))
        shape = tuple(int(v) for v in data["input_shape"])
        if len(shape) != 3:
            raise ValueError("the input shape must have three numbers (channels, height, width).")
        return ModelConfig(name=str(data.get("name", "Custom network")), input_shape=shape, layers=tuple(layers))
    except (KeyError, TypeError) as exc:
        raise ValueError(f"Not a ConvLab model config: {exc}") from None


def _layer_token(spec: LayerSpec) -> str:
    if isinstance(spec, Conv2dSpec):
        parts = [f"conv{spec.filters}", f"k{spec.kernel}"]
        if spec.stride != 1:
            parts.append(f"s{spec.stride}")
        if spec.padding == "same":
            parts.append("same")
        elif spec.padding not in ("valid", 0):
            parts.append(f"p{spec.padding}")
        if spec.dilation != 1:
            parts.append(f"d{spec.dilation}")
        if spec.activation != "none":
            parts.append(spec.activation)
        return "-".join(parts)
    if isinstance(spec, PoolSpec):
        s = "" if spec.stride is None else f"-s{spec.stride}"
        return f"{spec.kind}pool{spec.size}{s}"
    if isinstance(spec, BatchNormSpec):
        return "bn"
    if isinstance(spec, DropoutSpec):
        return f"dropout{spec.p:g}"
    if isinstance(spec, FlattenSpec):
        return "flatten"
    if isinstance(spec, GlobalAvgPoolSpec):
        return "gap"
    if isinstance(spec, DenseSpec):
        return f"dense{spec.units}" + ("" if spec.activation == "none" else f"-{spec.activation}")
    if isinstance(spec, ActivationSpec):
        return f"act-{spec.activation}"
    raise TypeError(f"Not a layer spec: {spec!r}")


def _int_after(token: str, prefix: str, whole: str) -> int:
    digits = token[len(prefix) :]
    if not digits.isdigit():
        raise ValueError(f"in {whole!r}, expected a whole number after {prefix!r}.")
    return int(digits)


def _parse_token(token: str) -> LayerSpec:
    parts = token.split("-")
    head, opts = parts[0], parts[1:]
    if head.startswith("conv"):
        kw: dict[str, Any] = {"filters": _int_after(head, "conv", token), "activation": "none"}
        for o in opts:
            if o in ACTIVATIONS:
                kw["activation"] = o
            elif o in ("same", "valid"):
                kw["padding"] = o
            elif o[:1] in ("k", "s", "p", "d") and o[1:].isdigit():
                key = {"k": "kernel", "s": "stride", "p": "padding", "d": "dilation"}[o[0]]
                kw[key] = int(o[1:])
            else:
                raise ValueError(f"in {token!r}, {o!r} is not a convolution setting.")
        return Conv2dSpec(**kw)
    if head.startswith(("maxpool", "avgpool")):
        stride = None
        for o in opts:
            if o[:1] == "s" and o[1:].isdigit():
                stride = int(o[1:])
            else:
                raise ValueError(f"in {token!r}, {o!r} is not a pooling setting.")
        return PoolSpec(kind=head[:3], size=_int_after(head, head[:7], token), stride=stride)
    if head == "bn" and not opts:
        return BatchNormSpec()
    if head.startswith("dropout") and not opts:
        try:
            return DropoutSpec(p=float(head[7:]))
        except ValueError:
            raise ValueError(f"in {token!r}, expected a probability after 'dropout'.") from None
    if head == "flatten" and not opts:
        return FlattenSpec()
    if head == "gap" and not opts:
        return GlobalAvgPoolSpec()
    if head.startswith("dense"):
        act = opts[0] if opts else "none"
        if len(opts) > 1 or act not in ACTIVATIONS:
            raise ValueError(f"in {token!r}, expected 'dense<units>' optionally followed by '-<activation>'.")
        return DenseSpec(units=_int_after(head, "dense", token), activation=act)
    if head == "act" and len(opts) == 1 and opts[0] in ACTIVATIONS:
        return ActivationSpec(opts[0])
    raise ValueError(f"{token!r} is not a layer ConvLab knows.")


def to_query(config: ModelConfig) -> dict[str, str]:
    """Compact strings for a link, e.g. ``{"in": "1x28x28", "net": "conv32-k3-relu_maxpool2_..."}``."""
    return {
        "in": "x".join(str(v) for v in config.input_shape),
        "net": "_".join(_layer_token(s) for s in config.layers),
    }


def from_query(params: dict[str, str], *, name: str | None = None) -> ModelConfig:
    """Inverse of :func:`to_query`; raises ``ValueError`` naming the part of the link it cannot read.

    If the result equals a preset, it gets the preset's name.
    """
    raw_in = str(params.get("in", "1x28x28"))
    try:
        shape = tuple(int(v) for v in raw_in.lower().split("x"))
    except ValueError:
        raise ValueError(f"The input shape {raw_in!r} in the link should look like 1x28x28.") from None
    if len(shape) != 3:
        raise ValueError(f"The input shape {raw_in!r} in the link should look like 1x28x28.")
    raw_net = str(params.get("net", "")).strip()
    try:
        layers = tuple(_parse_token(t) for t in raw_net.split("_") if t)
    except ValueError as exc:
        raise ValueError(f"The network in the link cannot be read: {exc}") from None
    config = ModelConfig(name=name or "Custom network", input_shape=shape, layers=layers)
    for preset in PRESETS.values():
        if preset.input_shape == config.input_shape and preset.layers == config.layers:
            return preset
    return config


# --------------------------------------------------------------------------- presets


def _conv(filters: int, kernel: int = 3, act: str = "relu", **kw: Any) -> Conv2dSpec:
    return Conv2dSpec(filters=filters, kernel=kernel, activation=act, **kw)


_MAX2 = PoolSpec("max", 2)
FAST_PRESET = "ConvLab fast (recommended for training)"


def fast_config(
    in_channels: int = 1, num_classes: int = 10, image_size: int = 28, widths: tuple[int, int, int] = (32, 64, 128)
) -> ModelConfig:
    """ConvLab's fast network for live training: three conv-pool-BN-ReLU blocks and one Dense layer.

    Pooling straight after each 3x3 convolution (before batch norm and ReLU) gives the same kind of
    network as the textbook conv-BN-ReLU-pool order, but batch norm and ReLU then work on a
    quarter of the values, which roughly doubles training speed on a CPU.
    """
    blocks = tuple(
        layer
        for filters in widths
        for layer in (_conv(filters, act="none", padding="same"), _MAX2, BatchNormSpec(), ActivationSpec("relu"))
    )
    return ModelConfig(
        FAST_PRESET, (in_channels, image_size, image_size), blocks + (FlattenSpec(), DenseSpec(num_classes, "none"))
    )


PRESETS: dict[str, ModelConfig] = {
    FAST_PRESET: fast_config(),
    "Course MNIST CNN (Keras notes)": ModelConfig(
        "Course MNIST CNN (Keras notes)",
        (1, 28, 28),
        (_conv(32), _MAX2, _conv(64), _MAX2, _conv(64), FlattenSpec(), DenseSpec(64), DenseSpec(10, "none")),
    ),
    "Course MNIST CNN, two 32-filter convolutions": ModelConfig(
        "Course MNIST CNN, two 32-filter convolutions",
        (1, 28, 28),
        (_conv(32), _conv(32), _MAX2, FlattenSpec(), DenseSpec(64), DenseSpec(10, "none")),
    ),
    "Course CIFAR-10 CNN": ModelConfig(
        "Course CIFAR-10 CNN",
        (3, 32, 32),
        (_conv(32), _MAX2, _conv(64), _MAX2, FlattenSpec(), DenseSpec(128), DenseSpec(10, "none")),
    ),
    "Course CIFAR-10 CNN with batch norm": ModelConfig(
        "Course CIFAR-10 CNN with batch norm",
        (3, 32, 32),
        tuple(
            layer
            for filters, pad, drop in ((32, "same", 0.2), (64, "same", 0.2), (128, "valid", 0.5))
            for layer in (
                _conv(filters, act="none", padding=pad),
                BatchNormSpec(),
                ActivationSpec("elu"),
                _conv(filters, act="none", padding=pad),
                BatchNormSpec(),
                ActivationSpec("elu"),
                _MAX2,
                DropoutSpec(drop),
            )
        )
        + (FlattenSpec(), DenseSpec(10, "none")),
    ),
    "LeNet-5": ModelConfig(
        "LeNet-5",
        (1, 32, 32),
        (
            _conv(6, 5, "tanh"),
            PoolSpec("avg", 2),
            _conv(16, 5, "tanh"),
            PoolSpec("avg", 2),
            _conv(120, 5, "tanh"),
            FlattenSpec(),
            DenseSpec(84, "tanh"),
            DenseSpec(10, "none"),
        ),
    ),
    "AlexNet": ModelConfig(
        "AlexNet",
        (3, 227, 227),
        (
            _conv(96, 11, stride=4),
            PoolSpec("max", 3, 2),
            _conv(256, 5, padding="same"),
            PoolSpec("max", 3, 2),
            _conv(384, 3, padding="same"),
            _conv(384, 3, padding="same"),
            _conv(256, 3, padding="same"),
            PoolSpec("max", 3, 2),
            FlattenSpec(),
            DropoutSpec(0.5),
            DenseSpec(4096),
            DropoutSpec(0.5),
            DenseSpec(4096),
            DenseSpec(1000, "none"),
        ),
    ),
    "TinyVGG (CNN Explainer)": ModelConfig(
        "TinyVGG (CNN Explainer)",
        (3, 64, 64),
        (_conv(10), _conv(10), _MAX2, _conv(10), _conv(10), _MAX2, FlattenSpec(), DenseSpec(10, "none")),
    ),
}

PRESET_NOTES: dict[str, str] = {
    FAST_PRESET: (
        "ConvLab's quick learner: three blocks of a 3x3 convolution (32, 64, 128 filters), 2x2 max pooling, "
        "batch normalisation and ReLU, then one Dense layer. Pooling straight after each convolution lets batch "
        "norm and ReLU work on a quarter of the values, which makes it train about twice as fast on a CPU; "
        "it reaches 99% on MNIST in about one epoch."
    ),
    "Course MNIST CNN (Keras notes)": (
        "The small Keras model of the course notes for 28x28 digits: three 3x3 convolutions (32, 64, 64 filters) "
        "with 2x2 max pooling between them, then Dense 64 and Dense 10. Its Keras summary prints 93,322 "
        "parameters (55,744 of them in the three convolutions)."
    ),
    "Course MNIST CNN, two 32-filter convolutions": (
        "The course notes' other MNIST model: two 32-filter convolutions before one pooling layer, so the "
        "Flatten layer hands 4,608 numbers to Dense 64, which holds most of the 305,194 parameters."
    ),
    "Course CIFAR-10 CNN": (
        "The CIFAR-10 example of the course notes for 32x32 colour images: 32 and 64 filters of 3x3, each followed "
        "by 2x2 max pooling, then Dense 128 and 10 outputs. The notes give no summary; this one is computed."
    ),
    "Course CIFAR-10 CNN with batch norm": (
        "The deeper CIFAR-10 model of the course notes: pairs of 3x3 convolutions (32, 64, 128 filters) each "
        "followed by batch normalisation and ELU, max pooling and dropout after each pair. A good place to see "
        "how Keras and PyTorch count batch-norm numbers differently."
    ),
    "LeNet-5": (
        "LeCun's 1998 digit reader on 32x32 inputs (MNIST padded by 2 pixels), simplified as it is usually "
        "taught today: average pooling without learned weights, every C3 map connected to all S2 maps, and "
        "10 plain outputs instead of RBF units."
    ),
    "AlexNet": (
        "The 2012 ImageNet winner as one stream (the original split the filters over two GPUs and used local "
        "response normalisation, left out here). Input 227x227 so that the 11x11 stride-4 first convolution "
        "gives 55x55 without padding; the course notes' table says 224 with SAME padding, which would give "
        "ceil(224/4) = 56. A third max pooling before the dense layers brings 13x13 down to 6x6."
    ),
    "TinyVGG (CNN Explainer)": (
        "The small network of the CNN Explainer website: two blocks of two 3x3 convolutions with 10 filters and "
        "a 2x2 max pooling, then one Dense layer with 10 outputs, on 64x64 colour images."
    ),
}

DEFAULT_PRESET = "Course MNIST CNN (Keras notes)"
