"""Keras-style model summaries of any ``nn.Module``, measured with forward hooks on the real module.

:func:`summarize` runs one forward pass of a batch of one image and records, for every leaf module
(and every container that owns parameters directly), the output shape the tensor really had, the
parameters it owns, the multiply-accumulates of convolutions and dense layers, the memory of its
output, and, along a straight chain of layers, the receptive field and jump. Because it measures
rather than re-derives, it is right for any model, torchvision's included; the numbers it reports
come from the formulas in :mod:`cnn_core.geometry`.

:func:`param_formula` writes a row's parameter count as the formula with the learner's numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from cnn_core import geometry

__all__ = ["BYTES_PER_VALUE", "LayerRow", "ParamTerms", "SummaryTable", "param_formula", "summarize"]

BYTES_PER_VALUE = 4  # float32
# Batch norm by its public classes (torch's common base, _BatchNorm, is private); lazy ones become these on first use.
BATCH_NORMS = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d, nn.SyncBatchNorm)

Shape = tuple[int, ...]


@dataclass(frozen=True)
class ParamTerms:
    """The numbers behind a parameter count, for :func:`param_formula`.

    ``kind`` is ``"conv"`` (``c_in`` per group, ``kh``, ``kw``, ``c_out``), ``"dense"`` (``c_in`` inputs,
    ``c_out`` units) or ``"batchnorm"`` (``c_out`` channels).
    """

    kind: str
    c_in: int
    c_out: int
    kh: int = 1
    kw: int = 1
    bias: bool = True
    groups: int = 1


@dataclass(frozen=True)
class LayerRow:
    """One row of the summary: one call of one module during the forward pass."""

    name: str  # module path in the model, e.g. "conv1" or "layer1.0.conv1"
    type: str  # class name, e.g. "Conv2d"
    input_shape: Shape | None  # without the batch dimension; None when the module never ran
    output_shape: Shape | None  # (C, H, W) or (N,), without the batch dimension
    params: int  # trainable parameters owned by this module (counted at its first call only)
    non_trainable: int  # parameters with requires_grad=False
    running: int  # running statistics (BatchNorm mean and variance): buffers, counted by Keras as params
    macs: int  # multiply-accumulates for one image (convolutions and dense layers)
    activation_bytes: int  # memory of the output for one image, float32
    rf: tuple[int, int] | None  # receptive field (height, width) in input pixels; None if not a chain
    jump: tuple[int, int] | None  # input pixels between neighbouring output cells
    terms: ParamTerms | None = None
    note: str = ""
    block_params: int | None = None  # a block's row (before its layers' rows): all the parameters inside it

    @property
    def total_params(self) -> int:
        return self.params + self.non_trainable


@dataclass(frozen=True)
class SummaryTable:
    """All rows plus the totals printed at the bottom of a Keras summary."""

    rows: tuple[LayerRow, ...]
    input_shape: Shape
    output_shape: Shape | None
    total_params: int  # sum(p.numel() for p in model.parameters())
    trainable_params: int
    non_trainable_params: int
    running_values: int  # BatchNorm running mean/variance values (PyTorch buffers)

    @property
    def total_macs(self) -> int:
        return sum(r.macs for r in self.rows)

    @property
    def total_flops(self) -> int:
        """Floating-point operations, counting one multiply-accumulate as two (a multiply and an add)."""
        return 2 * self.total_macs

    @property
    def activation_bytes(self) -> int:
        return sum(r.activation_bytes for r in self.rows)

    @property
    def param_bytes(self) -> int:
        return self.total_params * BYTES_PER_VALUE

    @property
    def keras_total_params(self) -> int:
        """What Keras would print as "Total params": it adds BatchNorm's running statistics."""
        return self.total_params + self.running_values


def param_formula(terms: ParamTerms | None) -> str:
    """The parameter count as a formula with the numbers plugged in.

    >>> param_formula(ParamTerms("conv", c_in=1, c_out=32, kh=3, kw=3))
    '(C_in·kh·kw + 1)·C_out = (1·3·3 + 1)·32 = 320'
    """
    if terms is None:
        return ""
    t = terms
    if t.kind == "conv":
        total = geometry.conv_params(t.c_in, t.kh, t.kw, t.c_out, bias=t.bias)
        group = f" (C_in per group, {t.groups} groups)" if t.groups > 1 else ""
        if t.bias:
            return f"(C_in·kh·kw + 1)·C_out = ({t.c_in}·{t.kh}·{t.kw} + 1)·{t.c_out} = {total:,}{group}"
        return f"C_in·kh·kw·C_out = {t.c_in}·{t.kh}·{t.kw}·{t.c_out} = {total:,} (no bias){group}"
    if t.kind == "dense":
        total = geometry.dense_params(t.c_in, t.c_out, bias=t.bias)
        if t.bias:
            return f"(inputs + 1)·units = ({t.c_in:,} + 1)·{t.c_out:,} = {total:,}"
        return f"inputs·units = {t.c_in:,}·{t.c_out:,} = {total:,} (no bias)"
    if t.kind == "batchnorm":
        learned, running = geometry.batchnorm_params(t.c_out)
        return f"2·C = 2·{t.c_out} = {learned:,} (γ, β); + {running:,} running stats"
    return ""


def _first_tensor(value: Any) -> torch.Tensor | None:
    if isinstance(value, torch.Tensor):
        return value
    if isinstance(value, (tuple, list)):
        for v in value:
            t = _first_tensor(v)
            if t is not None:
                return t
    if isinstance(value, dict):
        for v in value.values():
            t = _first_tensor(v)
            if t is not None:
                return t
    return None


def _pair(v: Any) -> tuple[int, int]:
    return (int(v[0]), int(v[1])) if isinstance(v, (tuple, list)) else (int(v), int(v))


def _terms(module: nn.Module) -> ParamTerms | None:
    if isinstance(module, nn.Conv2d):
        kh, kw = module.kernel_size
        return ParamTerms(
            "conv",
            module.in_channels // module.groups,
            module.out_channels,
            kh,
            kw,
            module.bias is not None,
            module.groups,
        )
    if isinstance(module, nn.Linear):
        return ParamTerms("dense", module.in_features, module.out_features, bias=module.bias is not None)
    if isinstance(module, BATCH_NORMS) and module.affine:
        return ParamTerms("batchnorm", module.num_features, module.num_features)
    return None


def _macs(module: nn.Module, out: torch.Tensor) -> int:
    if isinstance(module, nn.Conv2d) and out.dim() == 4:
        kh, kw = module.kernel_size
        _, c_out, oh, ow = out.shape  # (B, C, H, W)
        return geometry.conv_macs(module.in_channels // module.groups, kh, kw, c_out, oh, ow)
    if isinstance(module, nn.Linear):
        positions = out.numel() // max(out.shape[0], 1) // module.out_features  # > 1 if applied per position
        return geometry.dense_macs(module.in_features, module.out_features) * positions
    return 0


def _running(module: nn.Module) -> int:
    """Running mean and variance values of a batch-norm layer (0 for any other module)."""
    if not isinstance(module, BATCH_NORMS):
        return 0
    return sum(b.numel() for b in module.buffers(recurse=False) if b.is_floating_point())


def _grow_rf(
    module: nn.Module, x: torch.Tensor, out: torch.Tensor, rf: tuple[int, int], jump: tuple[int, int]
) -> tuple[tuple[int, int], tuple[int, int]] | None:
    """Receptive field after ``module`` given the one before it; None where it is not a local window."""
    if out.dim() != 4 or x.dim() != 4:
        return None
    if isinstance(module, (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d)):
        k = _pair(module.kernel_size)
        s = _pair(module.stride)
        d = _pair(getattr(module, "dilation", 1))
        grown = [geometry.receptive_field(rf[i], jump[i], k[i], stride=s[i], dilation=d[i]) for i in range(2)]
        return (grown[0][0], grown[1][0]), (grown[0][1], grown[1][1])
    if isinstance(module, (nn.ZeroPad2d, nn.ConstantPad2d, nn.ReflectionPad2d, nn.ReplicationPad2d)):
        return rf, jump  # padding adds cells around the map but does not widen what a cell sees
    if x.shape[-2:] == out.shape[-2:]:
        return rf, jump  # element-wise or per-channel: activation, batch norm, dropout, identity
    return None


def summarize(model: nn.Module, input_shape: Shape, *, device: str | torch.device = "cpu") -> SummaryTable:
    """Run one image of ``input_shape`` through ``model`` and tabulate every layer.

    Parameters
    ----------
    model : nn.Module
        Any module taking one ``(B, C, H, W)`` tensor. It is run in eval mode under
        ``torch.no_grad()`` and put back in its previous mode afterwards; its weights are untouched.
    input_shape : tuple of int
        ``(C, H, W)``, without the batch dimension.
    device : str or torch.device
        Where to run the forward pass.

    Returns
    -------
    SummaryTable
        Rows in the order modules ran, with ``total_params == sum(p.numel() for p in model.parameters())``
        (parameters of modules that never ran get a row with ``note="not run"``).

    Notes
    -----
    Rows are recorded for leaf modules and for containers that own parameters themselves. The
    receptive field is followed while each layer's input is the previous recorded output (a straight
    chain, as in ``nn.Sequential``); after a branch or a functional operation (a residual addition,
    ``torch.flatten``) it is left empty rather than guessed, except at the output of a block that says
    how wide a window its output sees: a module with ``rf_window = (kernel, stride)`` (ConvLab's residual
    and inception blocks). Such a block gets a row of its own before the rows of its layers, with
    ``block_params`` (everything inside it) and ``params`` 0, so the rows' parameters still add up to the total.
    """
    rows: list[LayerRow] = []
    seen: set[int] = set()
    # id(tensor) -> (tensor, rf, jump); the tensor is kept so that its id is not reused
    fields: dict[int, tuple[torch.Tensor, tuple[int, int] | None, tuple[int, int] | None]] = {}
    names = {m: n for n, m in model.named_modules()}
    block_rows: dict[int, list[int]] = {}  # id(block) -> positions of its rows still to fill in

    def block_pre_hook(module: nn.Module, inputs: tuple[Any, ...]) -> None:
        block_rows.setdefault(id(module), []).append(len(rows))
        rows.append(None)  # type: ignore[arg-type]  # filled in by block_hook once the block has run

    def block_hook(module: nn.Module, inputs: tuple[Any, ...], output: Any) -> None:
        out, x = _first_tensor(output), _first_tensor(inputs)
        first_call = id(module) not in seen
        seen.add(id(module))
        rf = jump = None
        if out is not None and x is not None and id(x) in fields and out.dim() == 4:
            _, rf_in, jump_in = fields[id(x)]
            k, s = module.rf_window
            if rf_in is not None and jump_in is not None:
                grown = [geometry.receptive_field(rf_in[i], jump_in[i], k, stride=s) for i in range(2)]
                rf, jump = (grown[0][0], grown[1][0]), (grown[0][1], grown[1][1])
        if out is not None:
            fields[id(out)] = (out, rf, jump)
        rows[block_rows[id(module)].pop()] = LayerRow(
            name=names.get(module, "") or type(module).__name__,
            type=type(module).__name__,
            input_shape=tuple(x.shape[1:]) if x is not None else None,
            output_shape=tuple(out.shape[1:]) if out is not None else None,
            params=0,
            non_trainable=0,
            running=0,
            macs=0,
            activation_bytes=0,
            rf=rf,
            jump=jump,
            note="block: its layers follow" if first_call else "called again (shares its parameters)",
            block_params=sum(p.numel() for p in module.parameters()) if first_call else 0,
        )

    def hook(module: nn.Module, inputs: tuple[Any, ...], output: Any) -> None:
        out = _first_tensor(output)
        x = _first_tensor(inputs)
        first_call = id(module) not in seen
        seen.add(id(module))
        own = list(module.parameters(recurse=False)) if first_call else []
        trainable = sum(p.numel() for p in own if p.requires_grad)
        frozen = sum(p.numel() for p in own if not p.requires_grad)
        running = _running(module) if first_call else 0
        rf = jump = None
        is_leaf = next(module.children(), None) is None
        if out is not None and x is not None and is_leaf and id(x) in fields:
            _, rf_in, jump_in = fields[id(x)]
            if rf_in is not None and jump_in is not None:
                grown = _grow_rf(module, x, out, rf_in, jump_in)
                if grown is not None:
                    rf, jump = grown
        if out is not None and is_leaf:
            fields[id(out)] = (out, rf, jump)
        name = names.get(module, "") or type(module).__name__
        rows.append(
            LayerRow(
                name=name,
                type=type(module).__name__,
                input_shape=tuple(x.shape[1:]) if x is not None else None,
                output_shape=tuple(out.shape[1:]) if out is not None else None,
                params=trainable,
                non_trainable=frozen,
                running=running,
                macs=_macs(module, out) if out is not None and is_leaf else 0,
                activation_bytes=(out.numel() // max(out.shape[0], 1)) * BYTES_PER_VALUE if out is not None else 0,
                rf=rf,
                jump=jump,
                terms=_terms(module) if first_call else None,
                note="" if first_call else "called again (shares its parameters)",
            )
        )

    hooked = [m for m in model.modules() if next(m.children(), None) is None or next(m.parameters(recurse=False), None)]
    handles = [m.register_forward_hook(hook) for m in hooked]
    blocks = [m for m in model.modules() if m not in hooked and isinstance(getattr(m, "rf_window", None), tuple)]
    handles += [m.register_forward_pre_hook(block_pre_hook) for m in blocks]
    handles += [m.register_forward_hook(block_hook) for m in blocks]
    was_training = model.training
    try:
        model.eval()
        x = torch.zeros((1, *input_shape), device=device)  # (B, C, H, W) with B = 1
        fields[id(x)] = (x, (1, 1), (1, 1))
        with torch.no_grad():
            y = _first_tensor(model(x))
    finally:
        for h in handles:
            h.remove()
        model.train(was_training)
    for m in hooked:
        if id(m) not in seen and next(m.parameters(recurse=False), None) is not None:
            own = list(m.parameters(recurse=False))
            rows.append(
                LayerRow(
                    name=names.get(m, type(m).__name__),
                    type=type(m).__name__,
                    input_shape=None,
                    output_shape=None,
                    params=sum(p.numel() for p in own if p.requires_grad),
                    non_trainable=sum(p.numel() for p in own if not p.requires_grad),
                    running=_running(m),
                    macs=0,
                    activation_bytes=0,
                    rf=None,
                    jump=None,
                    terms=_terms(m),
                    note="not run",
                )
            )
    params = list(model.parameters())
    return SummaryTable(
        rows=tuple(r for r in rows if r is not None),
        input_shape=tuple(input_shape),
        output_shape=tuple(y.shape[1:]) if y is not None else None,
        total_params=sum(p.numel() for p in params),
        trainable_params=sum(p.numel() for p in params if p.requires_grad),
        non_trainable_params=sum(p.numel() for p in params if not p.requires_grad),
        running_values=sum(_running(m) for m in model.modules()),
    )
