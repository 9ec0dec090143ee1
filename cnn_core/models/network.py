"""A whole network: :class:`ModelConfig`, its static :func:`plan`, the trainable model and its PyTorch code.

:func:`plan` walks the stack, asking each spec for its :class:`~cnn_core.models.base.Step`, names the
first impossible layer and says why (:class:`LayerError`), and keeps one student's network from
exhausting a shared server. :func:`build` turns the plan into an ``nn.Sequential``;
:func:`to_pytorch_code` writes the same model as copyable Python.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass, replace

from torch import nn

from cnn_core import geometry
from cnn_core.models import blocks
from cnn_core.models.base import LayerSpec, ModulePlan, Shape, Step, whole
from cnn_core.models.layers import DenseSpec
from cnn_core.summary import param_formula

__all__ = [
    "MAX_ACTIVATIONS",
    "MAX_INPUT_CHANNELS",
    "MAX_INPUT_SIDE",
    "MAX_LAYERS",
    "MAX_MACS",
    "MAX_PARAMS",
    "LayerError",
    "LayerPlan",
    "ModelConfig",
    "Plan",
    "build",
    "describe_layer",
    "plan",
    "to_pytorch_code",
    "validate",
    "with_num_classes",
]

# Limits that keep one student's network from exhausting a shared server.
MAX_LAYERS = 64
MAX_INPUT_SIDE = 1024
MAX_INPUT_CHANNELS = 64
MAX_PARAMS = 100_000_000  # AlexNet has about 62 million
MAX_ACTIVATIONS = 50_000_000  # feature-map values kept for one image, all layers together
MAX_MACS = 20_000_000_000  # multiply-accumulates for one image


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
            if not spec.after_logits:
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
        if not spec.after_logits:
            break
    raise ValueError("The network does not end with a Dense layer, so it has no class outputs to resize.")


def describe_layer(spec: LayerSpec) -> str:
    """Short human description, e.g. ``"Conv2d 32 filters 3x3, stride 2, same, relu"``."""
    if not isinstance(spec, LayerSpec):
        raise TypeError(f"Not a layer spec: {spec!r}")
    return spec.describe()


@dataclass(frozen=True, kw_only=True)
class LayerPlan(Step):
    """What one layer spec becomes at its place in the stack: its :class:`Step`, plus where it is."""

    index: int  # 0-based position in the stack
    spec: LayerSpec
    in_shape: Shape
    rf: int | None = None  # receptive field (per side) in input pixels; None once the map is flattened
    jump: int | None = None  # input pixels between neighbouring output cells

    @property
    def module_names(self) -> tuple[str, ...]:
        return tuple(m.name for m in self.modules)

    @property
    def formula(self) -> str:
        """The parameter count as a formula with its numbers ("" for a layer that learns nothing)."""
        return self.formula_text or param_formula(self.terms)


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


def _input_shape(config: ModelConfig) -> Shape:
    try:
        c, h, w = config.input_shape
        return (
            whole(c, "number of input channels", hi=MAX_INPUT_CHANNELS),
            whole(h, "input height", hi=MAX_INPUT_SIDE),
            whole(w, "input width", hi=MAX_INPUT_SIDE),
        )
    except (TypeError, ValueError) as exc:
        reason = str(exc) if isinstance(exc, ValueError) else "the input shape must be (channels, height, width)."
        raise LayerError(-1, None, reason) from None


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
    shape = _input_shape(config)
    if len(config.layers) > MAX_LAYERS:
        raise LayerError(MAX_LAYERS, config.layers[MAX_LAYERS], f"ConvLab builds stacks of up to {MAX_LAYERS} layers.")
    counts: dict[str, int] = {}

    def name(prefix: str) -> str:
        counts[prefix] = counts.get(prefix, 0) + 1
        return f"{prefix}{counts[prefix]}"

    layers: list[LayerPlan] = []
    total_params = total_macs = total_act = 0
    rf: int | None = 1
    jump: int | None = 1
    for i, spec in enumerate(config.layers):
        if not isinstance(spec, LayerSpec):
            raise TypeError(f"Not a layer spec: {spec!r}")
        try:
            step = spec.plan(shape, name)
        except ValueError as exc:
            raise LayerError(i, spec, str(exc)) from None
        if step.window is None or rf is None or jump is None:
            rf = jump = None
        else:
            win = step.window
            rf, jump = geometry.receptive_field(rf, jump, win.kernel, stride=win.stride, dilation=win.dilation)
        lp = LayerPlan(index=i, spec=spec, in_shape=shape, rf=rf, jump=jump, **vars(step))
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
    >>> from cnn_core.models import PRESETS
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
        *([blocks.block_source(used), "", ""] if (used := {m.cls for m in p.modules if m.is_block}) else []),
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
