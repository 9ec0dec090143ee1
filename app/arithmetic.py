"""Arithmetic page glue: the page's config and its query-string form, parsing typed matrices,
building the problem (arrays + traces) the page renders, and the page's widgets.

Nothing here computes convolution arithmetic itself: every number comes from
:mod:`cnn_core.ops`, :mod:`cnn_core.geometry`, :mod:`cnn_core.worked_examples` and
:mod:`cnn_core.quiz`; figures come from :mod:`app.plots`.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, fields, replace

import numpy as np
import pandas as pd
import streamlit as st

from app import plots, state
from cnn_core import geometry, ops, quiz
from cnn_core import kernels as kernel_presets
from cnn_core.worked_examples import EXAMPLES, WorkedExample, discrepancies

OPERATIONS = {
    "conv2d": "Convolution 2-D",
    "conv1d": "Convolution 1-D (time series)",
    "transposed": "Transposed convolution",
    "pool": "Pooling",
}
POOLS = {"max": "Max", "avg": "Average", "min": "Min", "sum": "Sum", "gmax": "Global max", "gavg": "Global average"}
PADDINGS = {"valid": "valid (none)", "same": "same", "full": "full", "custom": "custom, per side"}
QUIZ_MODES = {"off": "Off", "cells": "Hide the output cells", "size": "Hide the output size"}
MAX_INPUT_SIDE = 16
MAX_KERNEL_SIDE = 9
MAX_CHANNELS = 4
MAX_KERNELS = 4
QUIZ_MAX_SIDE = 6


def matrix_text(a: np.ndarray) -> str:
    """(H, W) or (C, H, W) array -> text: one row per line, channels separated by a blank line."""
    a = np.asarray(a, dtype=float)
    blocks = a[None] if a.ndim == 2 else a.reshape(1, 1, -1) if a.ndim == 1 else a
    return "\n\n".join("\n".join(" ".join(ops.format_number(v) for v in row) for row in ch) for ch in blocks)


def to_compact(text: str) -> str:
    """Typed matrix text -> URL form: values ',' rows ';' channels '|'."""
    blocks = [b for b in re.split(r"\n\s*\n", text.strip()) if b.strip()]
    return "|".join(
        ";".join(",".join(line.replace(",", " ").split()) for line in b.strip().splitlines()) for b in blocks
    )


def from_compact(compact: str) -> str:
    """URL form -> typed matrix text (inverse of :func:`to_compact`)."""
    return "\n\n".join("\n".join(row.replace(",", " ") for row in b.split(";")) for b in compact.split("|"))


def _number(cell: str, what: str, where: str) -> float:
    try:
        return quiz.parse_answer(cell)
    except ValueError:
        raise ValueError(f"The {what} holds {cell!r} at {where}, which is not a finite number.") from None


def parse_matrix(text: str, what: str, *, max_side: int, max_channels: int = MAX_CHANNELS) -> np.ndarray:
    """Read a typed matrix into (C, H, W): numbers separated by spaces or commas, one row per line,
    channels separated by a blank line. Raises ``ValueError`` with a sentence naming the bad cell."""
    blocks = [b for b in re.split(r"\n\s*\n", (text or "").strip()) if b.strip()]
    if not blocks:
        raise ValueError(f"The {what} is empty: type at least one number.")
    if len(blocks) > max_channels:
        raise ValueError(f"The {what} has {len(blocks)} channels; at most {max_channels} are allowed here.")
    channels = []
    for ci, block in enumerate(blocks):
        rows = [line.replace(",", " ").split() for line in block.strip().splitlines()]
        label = f" channel {ci + 1}," if len(blocks) > 1 else ""
        if any(len(r) != len(rows[0]) for r in rows):
            raise ValueError(
                f"Every row of the {what} must have the same number of values ({label.strip(' ,') or 'check the rows'})."
            )
        if len(rows) > max_side or len(rows[0]) > max_side:
            raise ValueError(f"The {what} can be at most {max_side}x{max_side}; it is {len(rows)}x{len(rows[0])}.")
        channels.append(
            [
                [_number(v, what, f"{label} row {r + 1}, column {c + 1}".strip()) for c, v in enumerate(row)]
                for r, row in enumerate(rows)
            ]
        )
    if len({(len(ch), len(ch[0])) for ch in channels}) > 1:
        raise ValueError(f"All channels of the {what} must have the same height and width.")
    return np.array(channels, dtype=np.float64)


@dataclass(frozen=True)
class ArithmeticConfig:
    """Everything on the Arithmetic page; round-trips through the URL query string."""

    op: str = "conv2d"  # a key of OPERATIONS
    x: str = ""  # input as typed: rows on lines, channels separated by blank lines
    kernels: tuple[str, ...] = ("1 0 -1\n1 0 -1\n1 0 -1",)  # one text per kernel (per feature map)
    biases: tuple[float, ...] = (0.0,)  # one per kernel
    stride: tuple[int, int] = (1, 1)  # (height, width); 1-D uses the width
    padding: str = "valid"  # a key of PADDINGS
    pad: tuple[int, int, int, int] = (0, 0, 0, 0)  # custom (top, bottom, left, right); transposed: p = (top, left)
    dilation: tuple[int, int] = (1, 1)
    relu: bool = False
    out_pad: tuple[int, int] = (0, 0)  # transposed convolution's output padding
    pool: str = "max"  # a key of POOLS
    pool_size: tuple[int, int] = (2, 2)
    example: str = ""  # name of the worked example last loaded
    cell: int = 0  # current step (feature map-major, then row-major)
    quiz: str = "off"  # a key of QUIZ_MODES
    seed: int = 0  # seed of the last random exercise

    def to_query(self) -> dict[str, str]:
        """The config as URL query parameters (short, readable keys)."""

        def pair(t: tuple[int, ...]) -> str:
            return ",".join(str(v) for v in t)

        q = {
            "op": self.op,
            "x": to_compact(self.x),
            "k": "/".join(to_compact(k) for k in self.kernels),
            "b": ",".join(ops.format_number(b, 6) for b in self.biases),
            "s": pair(self.stride),
            "p": self.padding if self.padding != "custom" else pair(self.pad),
            "d": pair(self.dilation),
            "relu": "1" if self.relu else "0",
            "opad": pair(self.out_pad),
            "pool": self.pool,
            "ps": pair(self.pool_size),
            "cell": str(self.cell),
            "quiz": self.quiz,
            "seed": str(self.seed),
        }
        if self.op == "transposed":
            q["p"] = pair(self.pad)
        if self.example:
            q["ex"] = self.example
        return q

    @classmethod
    def from_query(cls, params: dict[str, str]) -> tuple[ArithmeticConfig, list[str]]:
        """Read a config from query parameters; unreadable values keep their defaults and are reported."""
        base = DEFAULT_CONFIG
        values: dict[str, object] = {}
        problems: list[str] = []

        def ints(text: str, n: int) -> tuple[int, ...]:
            parts = tuple(int(v) for v in text.split(","))
            if len(parts) != n:
                raise ValueError
            return parts

        readers = {
            "op": ("op", lambda t: t if t in OPERATIONS else _bad()),
            "x": ("x", from_compact),
            "k": ("kernels", lambda t: tuple(from_compact(k) for k in t.split("/"))[:MAX_KERNELS]),
            "b": ("biases", lambda t: tuple(quiz.parse_answer(v) for v in t.split(","))),
            "s": ("stride", lambda t: ints(t, 2)),
            "d": ("dilation", lambda t: ints(t, 2)),
            "relu": ("relu", lambda t: t in ("1", "true", "True")),
            "opad": ("out_pad", lambda t: ints(t, 2)),
            "pool": ("pool", lambda t: t if t in POOLS else _bad()),
            "ps": ("pool_size", lambda t: ints(t, 2)),
            "cell": ("cell", lambda t: max(int(t), 0)),
            "quiz": ("quiz", lambda t: t if t in QUIZ_MODES else _bad()),
            "seed": ("seed", int),
            "ex": ("example", lambda t: t if t in EXAMPLES else ""),
        }
        for key, (name, read) in readers.items():
            if key in params:
                try:
                    values[name] = read(str(params[key]))
                except (ValueError, TypeError):
                    problems.append(f"The link's value {key}={params[key]!r} could not be read; the default is used.")
        if "p" in params:
            text = str(params["p"])
            if text in PADDINGS and text != "custom":
                values["padding"] = text
            else:
                try:
                    values["pad"] = ints(text, 4)
                    values["padding"] = "custom"
                except ValueError:
                    problems.append(f"The link's padding {text!r} could not be read; the default is used.")
        values.setdefault("example", "")  # a link without ex= shows the numbers in it, not an example
        cfg = replace(base, **values)  # type: ignore[arg-type]
        if len(cfg.biases) != len(cfg.kernels):
            cfg = replace(cfg, biases=(tuple(cfg.biases) + (0.0,) * len(cfg.kernels))[: len(cfg.kernels)])
        return cfg, problems


def _bad() -> str:
    raise ValueError


def config_from_example(ex: WorkedExample, base: ArithmeticConfig | None = None) -> ArithmeticConfig:
    """The page config that shows a worked example (quiz mode and seed are kept from ``base``)."""
    base = base or ArithmeticConfig()
    pad_mode, pad = (
        ("custom", (ex.padding,) * 4)
        if isinstance(ex.padding, int) and ex.padding
        else (ex.padding or "valid", (0, 0, 0, 0))
    )
    common = dict(
        example=ex.name,
        cell=0,
        quiz=base.quiz,
        seed=base.seed,
        padding=str(pad_mode),
        pad=pad,  # type: ignore[arg-type]
        stride=(ex.stride, ex.stride),
        dilation=(ex.dilation, ex.dilation),
        relu=False,
        out_pad=(0, 0),
    )
    if ex.operation == "pool":
        return replace(base, op="pool", x=matrix_text(ex.x), pool=ex.pool_mode, pool_size=(ex.pool_size,) * 2, **common)  # type: ignore[arg-type]
    if ex.operation == "conv2d":
        kernels = tuple(matrix_text(k) for k in ex.kernels)  # (M, C, kh, kw)
        return replace(base, op="conv2d", x=matrix_text(ex.x), kernels=kernels, biases=tuple(ex.biases), **common)  # type: ignore[arg-type]
    if ex.operation == "conv1d":
        return replace(
            base,
            op="conv1d",
            x=matrix_text(ex.x[None]),
            kernels=(matrix_text(ex.kernels[None]),),
            biases=(ex.biases[0],),
            **common,
        )  # type: ignore[arg-type]
    common["padding"] = "custom"
    common["pad"] = (int(ex.padding),) * 4
    return replace(
        base, op="transposed", x=matrix_text(ex.x), kernels=(matrix_text(ex.kernels),), biases=(ex.biases[0],), **common
    )  # type: ignore[arg-type]


def config_from_exercise(ex: quiz.Exercise, base: ArithmeticConfig) -> ArithmeticConfig:
    """The page config that poses a random practice exercise."""
    pad = (ex.padding,) * 4
    common = dict(
        x=matrix_text(ex.x),
        stride=(ex.stride, ex.stride),
        padding="custom" if ex.padding else "valid",
        pad=pad,
        dilation=(1, 1),
        relu=False,
        example="",
        cell=0,
        seed=ex.seed,
        quiz=base.quiz if base.quiz != "off" else "cells",
    )
    if ex.kind == "conv":
        return replace(base, op="conv2d", kernels=(matrix_text(ex.kernel),), biases=(0.0,), **common)  # type: ignore[arg-type]
    return replace(base, op="pool", pool=ex.pool_mode, pool_size=(ex.pool_size, ex.pool_size), **common)  # type: ignore[arg-type]


DEFAULT_EXAMPLE = "6x6 vertical edge, stride 1"
DEFAULT_CONFIG = config_from_example(EXAMPLES[DEFAULT_EXAMPLE])


def example_is_unchanged(cfg: ArithmeticConfig) -> bool:
    """Whether the page still shows the loaded worked example exactly (so the notes' values apply)."""
    if cfg.example not in EXAMPLES:
        return False
    ref = config_from_example(EXAMPLES[cfg.example], cfg)
    skip = {"cell", "quiz", "seed", "example"}
    return all(getattr(cfg, f.name) == getattr(ref, f.name) or f.name in skip for f in fields(cfg)) and (
        parse_or_none(cfg.x) == parse_or_none(ref.x)
    )


def parse_or_none(text: str) -> tuple | None:
    try:
        return tuple(parse_matrix(text, "input", max_side=64).ravel())
    except ValueError:
        return None


# ---------------------------------------------------------------------------------------------
# The problem: parsed arrays, traces, and the written-out working, ready to render.
# ---------------------------------------------------------------------------------------------


class ProblemError(ValueError):
    """A setting the page cannot compute, with the sentence to show (``kind``: "input" or "impossible")."""

    def __init__(self, message: str, kind: str = "input", working: list[str] | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.working = working or []


@dataclass(frozen=True)
class Problem:
    """Everything the page draws for one config."""

    cfg: ArithmeticConfig
    x: np.ndarray  # (C, H, W); 1-D: (C, 1, L)
    kernels: np.ndarray | None  # (M, C, kh, kw) as applied (transposed: the original kernel)
    shown_kernels: np.ndarray | None  # (M, C, kh, kw) as used in the stepping (transposed: flipped)
    biases: np.ndarray  # (M,)
    out: np.ndarray  # (M, oh, ow), after the activation
    traces: tuple[ops.Trace, ...]  # one per output map (pooling: per channel)
    padding_mask: np.ndarray  # (Hp, Wp) True where the stepped-over grid is padding / inserted zeros
    dropped: np.ndarray  # (Hp, Wp) True where no window reaches
    working: list[str]  # output-size formula lines, one per axis
    dropped_text: list[str]
    params_text: str
    transposed: ops.TransposedTrace | None = None

    @property
    def maps(self) -> int:
        return self.out.shape[0]

    @property
    def steps(self) -> int:
        return int(np.prod(self.out.shape))

    def locate(self, k: int) -> tuple[int, int, int]:
        """Step index -> (map, row, col)."""
        m, rest = divmod(int(k), self.out.shape[1] * self.out.shape[2])
        r, c = divmod(rest, self.out.shape[2])
        return m, r, c

    def index(self, m: int, r: int, c: int) -> int:
        return (m * self.out.shape[1] + r) * self.out.shape[2] + c

    def equation(self, k: int) -> list[str]:
        """The written-out working of step ``k`` (from :mod:`cnn_core.ops`)."""
        m, r, c = self.locate(k)
        step = self.traces[m].step_at(r, c)
        if self.cfg.op == "pool":
            mode = {"gmax": "max", "gavg": "avg"}.get(self.cfg.pool, self.cfg.pool)
            return [ops.explain_pool_step(step, mode)]  # type: ignore[arg-type]
        return ops.explain_conv_step(step, self.shown_kernels[m], activation="relu" if self.cfg.relu else "none")

    def kept(self, k: int) -> tuple[int, int] | None:
        if self.cfg.op != "pool":
            return None
        m, r, c = self.locate(k)
        mode = {"gmax": "max", "gavg": "avg"}.get(self.cfg.pool, self.cfg.pool)
        return ops.pool_kept_cell(self.traces[m].step_at(r, c), mode)  # type: ignore[arg-type]


def _impossible(call, *args, **kwargs):
    try:
        return call(*args, **kwargs)
    except ValueError as e:
        raise ProblemError(str(e), "impossible") from None


def _axis_working(label: str, w: geometry.OutputSizeWorking, unit: tuple[str, str]) -> tuple[str, str | None]:
    line = f"{label}: {w.formula()}"
    note = None
    if w.dropped:
        where = "at the bottom" if unit[0] == "row" else "on the right"
        many = unit[1] if w.dropped > 1 else unit[0]
        note = (
            f"{label}: the stride does not divide evenly: ({w.numerator}) / {w.stride} leaves {w.dropped}, so "
            f"{w.dropped} {many} {where} of the padded input {'are' if w.dropped > 1 else 'is'} never reached "
            "(hatched in vermillion on the input)."
        )
    return line, note


def build_problem(cfg: ArithmeticConfig) -> Problem:
    """Parse the config and compute everything; raises :class:`ProblemError` with a sentence."""
    if cfg.op == "conv1d":
        return _build_conv1d(cfg)
    try:
        x = parse_matrix(cfg.x, "input", max_side=MAX_INPUT_SIDE)  # (C, H, W)
    except ValueError as e:
        raise ProblemError(str(e)) from None
    if cfg.op == "pool":
        return _build_pool(cfg, x)
    try:
        ks = [parse_matrix(k, f"kernel {i + 1}", max_side=MAX_KERNEL_SIDE) for i, k in enumerate(cfg.kernels)]
    except ValueError as e:
        raise ProblemError(str(e)) from None
    for i, k in enumerate(ks):
        if k.shape[0] != x.shape[0]:
            raise ProblemError(
                f"Kernel {i + 1} has {k.shape[0]} channel(s) but the input has {x.shape[0]}: a kernel needs one "
                "slice per input channel (separate the slices with a blank line)."
            )
        if k.shape != ks[0].shape:
            raise ProblemError("All kernels of a layer must have the same size.")
    kernels = np.stack(ks)  # (M, C, kh, kw)
    if cfg.op == "transposed":
        return _build_transposed(cfg, x, kernels[0])
    biases = np.array(cfg.biases[: len(ks)], dtype=float)
    pad = "custom" if cfg.padding == "custom" else cfg.padding
    spec = ((cfg.pad[0], cfg.pad[1]), (cfg.pad[2], cfg.pad[3])) if pad == "custom" else pad
    kh, kw = kernels.shape[2:]
    workings = []
    for n, k, s, d, i in zip(x.shape[1:], (kh, kw), cfg.stride, cfg.dilation, (0, 1), strict=True):
        p = (
            spec[i]
            if isinstance(spec, tuple)
            else _impossible(geometry.resolve_padding, spec, n, k, stride=s, dilation=d)
        )
        workings.append(_impossible(geometry.explain_output_size, n, k, stride=s, padding=p, dilation=d))
    out, layer = _impossible(
        ops.conv2d_layer,
        x,
        kernels,
        biases,
        stride=cfg.stride,
        padding=spec,
        dilation=cfg.dilation,
        activation="relu" if cfg.relu else "none",
        trace=True,
    )
    params = geometry.conv_params(x.shape[0], kh, kw, len(ks))
    params_text = f"(C × kh × kw + 1) × M = ({x.shape[0]} × {kh} × {kw} + 1) × {len(ks)} = {params} parameters"
    return _finish(cfg, x, kernels, kernels, biases, out, layer.maps, workings, params_text)


def _finish(cfg, x, kernels, shown, biases, out, traces, workings, params_text, *, one_d=False) -> Problem:
    tr = traces[0]
    hp, wp = tr.padded.shape[-2:]
    mask = np.zeros((hp, wp), dtype=bool)
    for r in range(hp):
        for c in range(wp):
            mask[r, c] = tr.is_padding(r, c)
    dropped = np.zeros((hp, wp), dtype=bool)
    lines, notes = [], []
    labels = (
        (("Width", ("column", "columns")),)
        if one_d
        else (("Height", ("row", "rows")), ("Width", ("column", "columns")))
    )
    ws = workings[-1:] if one_d else workings
    for (label, unit), w in zip(labels, ws, strict=True):
        line, note = _axis_working(label, w, unit)
        lines.append(line)
        if note:
            notes.append(note)
            if unit[0] == "row":
                dropped[hp - w.dropped :, :] = True
            else:
                dropped[:, wp - w.dropped :] = True
    return Problem(cfg, x, kernels, shown, biases, out, tuple(traces), mask, dropped, lines, notes, params_text)


def _build_conv1d(cfg: ArithmeticConfig) -> Problem:
    try:
        x = parse_matrix(cfg.x.replace("\n\n", "\n"), "series", max_side=64, max_channels=1)[0]  # (C, L)
        k = parse_matrix(cfg.kernels[0].replace("\n\n", "\n"), "kernel", max_side=MAX_KERNEL_SIDE, max_channels=1)[0]
    except ValueError as e:
        raise ProblemError(str(e)) from None
    if x.shape[0] > MAX_CHANNELS or x.shape[1] > 32:
        raise ProblemError(f"The series can have at most {MAX_CHANNELS} channels (lines) of at most 32 values.")
    if k.shape[0] != x.shape[0]:
        raise ProblemError(
            f"The kernel has {k.shape[0]} line(s) but the series has {x.shape[0]}: give the kernel one line per channel."
        )
    s, d = cfg.stride[1], cfg.dilation[1]
    spec = (cfg.pad[2], cfg.pad[3]) if cfg.padding == "custom" else cfg.padding
    p = (
        spec
        if isinstance(spec, tuple)
        else _impossible(geometry.resolve_padding, spec, x.shape[1], k.shape[1], stride=s, dilation=d)
    )
    w = _impossible(geometry.explain_output_size, x.shape[1], k.shape[1], stride=s, padding=p, dilation=d)
    bias = float(cfg.biases[0])
    y, tr = _impossible(ops.conv1d, x, k, stride=s, padding=spec, dilation=d, bias=bias, trace=True)
    y = ops.relu(y) if cfg.relu else y
    kernels = k[None, :, None, :]  # (1, C, 1, k)
    params_text = f"(C × k + 1) × M = ({x.shape[0]} × {k.shape[1]} + 1) × 1 = {geometry.conv_params(x.shape[0], 1, k.shape[1], 1)} parameters"
    return _finish(
        cfg, x[:, None, :], kernels, kernels, np.array([bias]), y[None, None, :], [tr], [w], params_text, one_d=True
    )


def _build_transposed(cfg: ArithmeticConfig, x: np.ndarray, kernel: np.ndarray) -> Problem:
    p = (cfg.pad[0], cfg.pad[2])
    if min(p) < 0:
        raise ProblemError(
            f"Padding cannot be negative (got {min(p)}): it is the number of cells cropped from each side.",
            "impossible",
        )
    bias = float(cfg.biases[0])
    out, tr = _impossible(
        ops.conv_transpose2d,
        x,
        kernel,
        stride=cfg.stride,
        padding=p,
        output_padding=cfg.out_pad,
        dilation=cfg.dilation,
        bias=bias,
        trace=True,
    )
    if cfg.relu:
        out = ops.relu(out)
    lines = [
        f"{label}: (n - 1)·s - 2p + d(k - 1) + output_padding + 1 = "
        + geometry.transposed_output_formula(n, k, stride=s, padding=pp, output_padding=o, dilation=d)
        for label, n, k, s, pp, o, d in zip(
            ("Height", "Width"), x.shape[1:], kernel.shape[1:], cfg.stride, p, cfg.out_pad, cfg.dilation, strict=True
        )
    ]
    c, kh, kw = kernel.shape
    params_text = (
        f"(C × kh × kw + 1) × M = ({c} × {kh} × {kw} + 1) × 1 = {geometry.conv_params(c, kh, kw, 1)} parameters"
    )
    hp, wp = tr.conv.padded.shape[-2:]
    return Problem(
        cfg,
        x,
        kernel[None],
        tr.flipped_kernel[None],
        np.array([bias]),
        out[None],
        (tr.conv,),
        ~tr.is_input,
        np.zeros((hp, wp), dtype=bool),
        lines,
        [],
        params_text,
        tr,
    )


def _build_pool(cfg: ArithmeticConfig, x: np.ndarray) -> Problem:
    c, h, w = x.shape
    if cfg.pool in ("gmax", "gavg"):
        mode, size, stride, spec = cfg.pool[1:], (h, w), (1, 1), 0  # "gmax" -> "max"
    else:
        mode, size, stride = cfg.pool, cfg.pool_size, cfg.stride
        spec = ((cfg.pad[0], cfg.pad[1]), (cfg.pad[2], cfg.pad[3])) if cfg.padding == "custom" else cfg.padding
    workings = []
    for n, k, s, i in zip((h, w), size, stride, (0, 1), strict=True):
        p = spec[i] if isinstance(spec, tuple) else _impossible(geometry.resolve_padding, spec, n, k, stride=s)
        workings.append(_impossible(geometry.explain_output_size, n, k, stride=s, padding=p))
    results = [
        _impossible(ops.pool2d, x[i], size, stride=stride, padding=spec, mode=mode, trace=True) for i in range(c)
    ]
    out = np.stack([r[0] for r in results])
    return _finish(
        cfg, x, None, None, np.zeros(c), out, [r[1] for r in results], workings, "Pooling has no weights: 0 parameters."
    )


def pool_vs_conv(problem: Problem) -> tuple[np.ndarray, np.ndarray] | str:
    """For the pooling side-by-side: channel 1 convolved with kernel 1 at stride 2, as
    ``(output, kernel)``, or the sentence saying why it cannot be computed."""
    try:
        k = parse_matrix(problem.cfg.kernels[0], "kernel", max_side=MAX_KERNEL_SIDE)[0]
        y = ops.conv2d(problem.x[0], k, stride=2)
    except ValueError as e:
        return str(e)
    return y, k


# ---------------------------------------------------------------------------------------------
# Widgets and rendering (Streamlit).
# ---------------------------------------------------------------------------------------------


W = "ar_w_"  # prefix of the settings widgets; popped (and re-seeded from the config) on reload
Q = "ar_q_"  # prefix of the quiz answer boxes
NO_EXAMPLE = "(your own numbers)"
NO_PRESET = "(choose a preset to load it into kernel 1)"


def current() -> ArithmeticConfig:
    """The page config: from the URL on the session's first run, then from session state."""
    ss = st.session_state
    if not ss.get(state.AR_SEEDED):
        ss[state.AR_SEEDED] = True
        params = {k: st.query_params[k] for k in st.query_params}
        cfg, problems = ArithmeticConfig.from_query(params) if params else (DEFAULT_CONFIG, [])
        ss[state.AR_CFG] = cfg
        for p in problems:
            st.toast(p)
    return ss.get(state.AR_CFG, DEFAULT_CONFIG)


def _reload(cfg: ArithmeticConfig) -> None:
    """Make ``cfg`` the page config and re-seed every settings widget and quiz box from it."""
    ss = st.session_state
    ss[state.AR_CFG] = cfg
    for key in [k for k in ss.keys() if str(k).startswith((W, Q))]:
        del ss[key]
    for key in (state.AR_CHECKED, state.AR_REVEAL):
        ss.pop(key, None)


def go_to(k: int) -> None:
    """Jump to step ``k`` (used by the buttons, the slider, clicks and play)."""
    ss = st.session_state
    ss[state.AR_CFG] = replace(ss[state.AR_CFG], cell=max(int(k), 0))


def sync_url(cfg: ArithmeticConfig) -> None:
    """Write the config into the URL so the exact step can be shared."""
    q = cfg.to_query()
    if {k: st.query_params[k] for k in st.query_params} != q:
        st.query_params.from_dict(q)


def _init(key: str, value: object) -> None:
    if key not in st.session_state:
        st.session_state[key] = value


def _on_example() -> None:
    name = st.session_state[W + "example"]
    cfg = st.session_state[state.AR_CFG]
    _reload(config_from_example(EXAMPLES[name], cfg) if name in EXAMPLES else replace(cfg, example=""))


def _on_preset() -> None:
    name = st.session_state[W + "preset"]
    if name not in kernel_presets.PRESETS:
        return
    cfg = st.session_state[state.AR_CFG]
    try:
        channels = parse_matrix(cfg.x, "input", max_side=64).shape[0]
    except ValueError:
        channels = 1
    k = np.repeat(kernel_presets.PRESETS[name].kernel[None], channels if cfg.op != "conv1d" else 1, axis=0)
    _reload(replace(cfg, kernels=(matrix_text(k),) + cfg.kernels[1:], example=""))


def _on_random() -> None:
    ss = st.session_state
    cfg = ss[state.AR_CFG]
    rng = np.random.default_rng(int(time.time() * 1000) % 2**32)
    c, h, w = ss.get(W + "rand_c", 1), ss.get(W + "rand_h", 6), ss.get(W + "rand_w", 6)
    if cfg.op == "conv1d":
        x = rng.integers(0, 10, size=(1, c, w))
    else:
        x = rng.integers(0, 10, size=(c, h, w))
    kernels = cfg.kernels
    if cfg.op in ("conv2d", "transposed"):  # keep the kernels usable: one slice per channel
        try:
            first = parse_matrix(cfg.kernels[0], "kernel", max_side=MAX_KERNEL_SIDE)[0]
        except ValueError:
            first = np.array([[1.0, 0, -1]] * 3)
        kernels = tuple(matrix_text(np.repeat(first[None], c, axis=0)) for _ in cfg.kernels)
    _reload(replace(cfg, x=matrix_text(x), kernels=kernels, example="", cell=0))


def _on_new_exercise() -> None:
    cfg = st.session_state[state.AR_CFG]
    seed = int(np.random.default_rng().integers(1, 10**6))
    _reload(config_from_exercise(quiz.make_exercise(seed), cfg))


def _pair_inputs(
    label: str, keys: tuple[str, str], values: tuple[int, int], lo: int, hi: int, one_d: bool
) -> tuple[int, int]:
    if one_d:
        _init(keys[1], values[1])
        return values[0], int(st.number_input(label, lo, hi, key=keys[1]))
    a, b = st.columns(2)
    _init(keys[0], values[0])
    _init(keys[1], values[1])
    return (
        int(a.number_input(f"{label} (height)", lo, hi, key=keys[0])),
        int(b.number_input(f"{label} (width)", lo, hi, key=keys[1])),
    )


def settings(cfg: ArithmeticConfig) -> ArithmeticConfig:
    """The settings sidebar; returns the config the widgets now describe."""
    with st.sidebar:
        st.subheader("Arithmetic settings")
        names = [NO_EXAMPLE, *EXAMPLES]
        _init(W + "example", cfg.example if cfg.example in EXAMPLES else NO_EXAMPLE)
        st.selectbox("Worked example (course notes)", names, key=W + "example", on_change=_on_example)
        _init(W + "op", cfg.op)
        op = st.radio("Operation", list(OPERATIONS), format_func=OPERATIONS.get, key=W + "op")
        one_d = op == "conv1d"
        help_x = (
            "One channel per line, values separated by spaces."
            if one_d
            else "One row per line, values separated by spaces or commas; separate channels with a blank line."
        )
        _init(W + "x", cfg.x)
        x = st.text_area("Series" if one_d else "Input", key=W + "x", height=150, help=help_x)
        with st.expander("Random input"):
            a, b, c = st.columns(3)
            if not one_d:
                a.number_input("rows", 1, MAX_INPUT_SIDE, 6, key=W + "rand_h")
            b.number_input("length" if one_d else "columns", 1, 32 if one_d else MAX_INPUT_SIDE, 6, key=W + "rand_w")
            c.number_input("channels", 1, MAX_CHANNELS, 1, key=W + "rand_c")
            st.button("New random input", on_click=_on_random, key=W + "rand_go")
        new = dict(op=op, x=x)
        if op != "pool":
            new.update(_kernel_widgets(cfg, op))
        else:
            _init(W + "pool", cfg.pool)
            pool = st.selectbox("Pooling", list(POOLS), format_func=POOLS.get, key=W + "pool")
            new["pool"] = pool
            if pool in ("gmax", "gavg"):
                st.caption("Global pooling: one window covers the whole input, so each channel gives one number.")
            else:
                new["pool_size"] = _pair_inputs("Window", (W + "ph", W + "pw"), cfg.pool_size, 1, 9, False)
        if op != "pool" or new.get("pool") not in ("gmax", "gavg"):
            new["stride"] = _pair_inputs("Stride", (W + "sh", W + "sw"), cfg.stride, 0, 8, one_d)
            if op != "pool":
                new["dilation"] = _pair_inputs("Dilation", (W + "dh", W + "dw"), cfg.dilation, 1, 4, one_d)
            new.update(_padding_widgets(cfg, op, one_d))
        if op != "pool":
            _init(W + "relu", cfg.relu)
            new["relu"] = st.checkbox("ReLU after the bias", key=W + "relu")
    out = replace(cfg, **new)  # type: ignore[arg-type]
    if out.op != cfg.op:
        out = replace(out, cell=0)
    st.session_state[state.AR_CFG] = out
    return out


def _kernel_widgets(cfg: ArithmeticConfig, op: str) -> dict:
    if op != "conv1d":
        _init(W + "preset", NO_PRESET)
        st.selectbox("Kernel preset", [NO_PRESET, *kernel_presets.PRESETS], key=W + "preset", on_change=_on_preset)
    m = 1
    if op == "conv2d":
        _init(W + "nk", len(cfg.kernels))
        m = int(st.number_input("Number of kernels (feature maps)", 1, MAX_KERNELS, key=W + "nk"))
    texts, biases = [], []
    for i in range(m):
        _init(W + f"k{i}", cfg.kernels[i] if i < len(cfg.kernels) else cfg.kernels[0])
        _init(W + f"b{i}", float(cfg.biases[i]) if i < len(cfg.biases) else 0.0)
        label = f"Kernel {i + 1}" if m > 1 else "Kernel"
        texts.append(
            st.text_area(
                label, key=W + f"k{i}", height=110, help="Same layout as the input; one slice per input channel."
            )
        )
        biases.append(float(st.number_input(f"Bias {i + 1}" if m > 1 else "Bias", step=0.5, key=W + f"b{i}")))
    return {"kernels": tuple(texts), "biases": tuple(biases)}


def _padding_widgets(cfg: ArithmeticConfig, op: str, one_d: bool) -> dict:
    if op == "transposed":
        p = _pair_inputs("Padding p (cropped)", (W + "pt", W + "pl"), (cfg.pad[0], cfg.pad[2]), -2, 8, False)
        o = _pair_inputs("Output padding", (W + "oh", W + "ow"), cfg.out_pad, 0, 4, False)
        return {"pad": (p[0], p[0], p[1], p[1]), "padding": "custom", "out_pad": o}
    _init(W + "pad", cfg.padding)
    mode = st.selectbox("Padding", list(PADDINGS), format_func=PADDINGS.get, key=W + "pad")
    pad = cfg.pad
    if mode == "custom":
        sides = (("left", 2), ("right", 3)) if one_d else (("top", 0), ("bottom", 1), ("left", 2), ("right", 3))
        cols = st.columns(len(sides))
        values = list(pad)
        for col, (name, i) in zip(cols, sides, strict=True):
            _init(W + f"p{name}", pad[i])
            values[i] = int(col.number_input(name, -2, 8, key=W + f"p{name}"))
        pad = tuple(values)
    return {"padding": mode, "pad": pad}


# --- rendering -------------------------------------------------------------------------------


def _labels(mask_line: np.ndarray) -> list[str]:
    """Axis labels: input index for real cells, 'p' for padding / inserted zeros."""
    out, n = [], 0
    for is_pad in mask_line:
        if is_pad:
            out.append("p")
        else:
            n += 1
            out.append(str(n))
    return out


def example_note(problem_cfg: ArithmeticConfig) -> None:
    """What the loaded worked example is, where it is from, and where the notes differ."""
    if problem_cfg.example not in EXAMPLES:
        return
    ex = EXAMPLES[problem_cfg.example]
    origin = "numbers made up by ConvLab, following" if ex.constructed else "from"
    st.info(f"**{ex.name}**: {ex.about}\n\nSource: {origin} `{ex.source}`, {ex.where}.", icon=":material/menu_book:")
    if not example_is_unchanged(problem_cfg):
        st.caption(
            "You have changed the settings since loading this example, so the notes' printed values no longer apply."
        )
        return
    for d in discrepancies(ex):
        st.warning(d.sentence(), icon=":material/error:")


def output_size(problem: Problem | None, error: ProblemError | None, cfg: ArithmeticConfig) -> None:
    """The output-size formula with the learner's numbers, dropped rows, impossible settings, parameters."""
    if cfg.quiz == "size" and not st.session_state.get(state.AR_REVEAL):
        return
    st.markdown("**Output size**")
    if cfg.op == "transposed":
        st.caption("Transposed convolution: out = (n − 1)·s − 2p + d(k − 1) + output_padding + 1, per axis.")
    else:
        st.caption(
            "out = floor((n + 2p − d(k − 1) − 1) / s) + 1, per axis; with uneven padding, 2p is top + bottom (or left + right)."
        )
    if error is not None:
        st.warning(f"These settings cannot work: {error}", icon=":material/block:")
        return
    st.code("\n".join(problem.working), language=None, wrap_lines=True)
    for note in problem.dropped_text:
        st.info(note, icon=":material/content_cut:")
    st.markdown(f"**Parameters of this layer:** {problem.params_text}")


def stepper(problem: Problem) -> None:
    """Play/pause and speed (full reruns), then the step view (a fragment that ticks while playing)."""
    ss = st.session_state
    if ss.pop("ar_stop_play", False):
        ss[state.AR_PLAY] = False
    quiz_on = problem.cfg.quiz != "off"
    a, b, _ = st.columns([1, 2, 3])
    a.toggle("Play", key=state.AR_PLAY, disabled=quiz_on, on_change=_on_play, args=(problem.steps,))
    _init(state.AR_SPEED, 1.0)
    b.select_slider("Seconds per step", [0.25, 0.5, 1.0, 2.0, 3.0], key=state.AR_SPEED)
    playing = bool(ss.get(state.AR_PLAY)) and not quiz_on
    st.fragment(run_every=ss[state.AR_SPEED] if playing else None)(_step_view)(problem, playing)


def _on_play(steps: int) -> None:
    cfg = st.session_state[state.AR_CFG]
    if st.session_state.get(state.AR_PLAY) and cfg.cell >= steps - 1:
        go_to(0)
    st.session_state["ar_last_tick"] = time.time()


def _step_view(problem: Problem, playing: bool) -> None:
    ss = st.session_state
    cfg = ss[state.AR_CFG]
    n = problem.steps
    k = min(cfg.cell, n - 1)
    if playing and time.time() - ss.get("ar_last_tick", 0.0) >= 0.8 * ss[state.AR_SPEED]:
        ss["ar_last_tick"] = time.time()
        if k < n - 1:
            k += 1
        else:  # the end: stop playing (the toggle is reset at the top of the next full run)
            ss["ar_stop_play"] = True
            st.rerun(scope="app")
    if k != cfg.cell:
        go_to(k)
    cfg = ss[state.AR_CFG]
    sync_url(cfg)
    _step_controls(problem, k)
    _grids(problem, k)


def _step_controls(problem: Problem, k: int) -> None:
    n = problem.steps
    cols = st.columns(4)
    cols[0].button("First", icon=":material/first_page:", on_click=go_to, args=(0,), disabled=k == 0, key="ar_first")
    cols[1].button(
        "Back", icon=":material/chevron_left:", on_click=go_to, args=(k - 1,), disabled=k == 0, key="ar_back"
    )
    cols[2].button(
        "Next", icon=":material/chevron_right:", on_click=go_to, args=(k + 1,), disabled=k >= n - 1, key="ar_next"
    )
    cols[3].button(
        "Last", icon=":material/last_page:", on_click=go_to, args=(n - 1,), disabled=k >= n - 1, key="ar_last"
    )
    if n > 1:
        st.session_state[state.AR_STEP_SLIDER] = k + 1
        st.slider(
            f"Step (of {n})",
            1,
            n,
            key=state.AR_STEP_SLIDER,
            on_change=lambda: go_to(st.session_state[state.AR_STEP_SLIDER] - 1),
        )
    m, r, c = problem.locate(k)
    with st.expander("Jump to an output cell (or click one on the output grid)"):
        a, b, d, e = st.columns(4)
        maps = a.number_input("feature map", 1, problem.maps, m + 1, key="ar_jump_m") if problem.maps > 1 else 1
        row = int(b.number_input("row", 1, problem.out.shape[1], r + 1, key="ar_jump_r"))
        col = int(d.number_input("column", 1, problem.out.shape[2], c + 1, key="ar_jump_c"))
        e.button("Go to cell", on_click=_on_jump, args=(problem.out.shape,), key="ar_jump_go")
    del maps, row, col


def _on_jump(shape: tuple[int, int, int]) -> None:
    """Go to the cell typed in the jump boxes (read at click time, so the newest numbers count)."""
    ss = st.session_state
    m, r, c = (int(ss.get(key, 1)) - 1 for key in ("ar_jump_m", "ar_jump_r", "ar_jump_c"))
    m = min(m, shape[0] - 1) if shape[0] > 1 else 0
    go_to((m * shape[1] + min(r, shape[1] - 1)) * shape[2] + min(c, shape[2] - 1))


def _quiz_hidden(problem: Problem) -> bool:
    return problem.cfg.quiz != "off" and not st.session_state.get(state.AR_REVEAL)


def _hide_results(lines: list[str], bias: float) -> list[str]:
    out = []
    for line in lines:
        if line.startswith("sum over"):
            out.append(f"sum over channels + bias {ops.format_number(bias)} = ?")
        elif line.startswith("ReLU"):
            out.append("ReLU(?) = max(0, ?) = ?")
        elif "bias" in line:
            out.append(f"? + bias {ops.format_number(bias)} = ?")
        else:
            out.append(line.rsplit(" = ", 1)[0] + " = ?")
    return out


def _grids(problem: Problem, k: int) -> None:
    m, r, c = problem.locate(k)
    step = problem.traces[m].step_at(r, c)
    hidden = _quiz_hidden(problem)
    padded = problem.traces[m].padded
    channels = list(range(padded.shape[0])) if padded.ndim == 3 else [m]
    grids = padded if padded.ndim == 3 else padded[None].repeat(problem.maps, axis=0)
    row_l, col_l = _labels(problem.padding_mask.all(axis=1)), _labels(problem.padding_mask.all(axis=0))
    if problem.transposed is not None:
        row_l, col_l = (
            _labels(~problem.transposed.is_input.any(axis=1)),
            _labels(~problem.transposed.is_input.any(axis=0)),
        )
    kept = problem.kept(k)
    in_col, k_col, out_col = st.columns([3, 2, 3]) if problem.kernels is not None else (*st.columns([3, 0.01]), None)
    if out_col is None:
        in_col, out_col = st.columns(2)
    with in_col:
        for ch in channels:
            title = {"transposed": "Input spread out by the stride"}.get(problem.cfg.op, "Input")
            if len(channels) > 1 or problem.cfg.op == "pool" and problem.maps > 1:
                title += f", channel {ch + 1}"
            fig = plots.arithmetic_grid(
                grids[ch],
                title=title,
                padding=problem.padding_mask,
                dropped=problem.dropped,
                window=(step.rows, step.cols),
                kept=[kept] if kept else None,
                row_labels=row_l,
                col_labels=col_l,
            )
            st.plotly_chart(fig, width="content", key=f"ar_in_{ch}_{k}", config={"displayModeBar": False})
        st.caption(_legend(problem, kept is not None))
    if problem.kernels is not None:
        with k_col:
            kern = problem.shown_kernels[m]
            for ch in range(kern.shape[0]):
                title = (
                    "Kernel, flipped"
                    if problem.transposed is not None
                    else f"Kernel {m + 1}"
                    if problem.maps > 1
                    else "Kernel"
                )
                if kern.shape[0] > 1:
                    title += f", channel {ch + 1}"
                st.plotly_chart(
                    plots.arithmetic_grid(kern[ch], title=title, max_px=200),
                    width="content",
                    key=f"ar_k_{ch}_{k}",
                    config={"displayModeBar": False},
                )
            if problem.cfg.op != "pool":
                st.caption(
                    f"bias = {ops.format_number(problem.biases[m])}" + (", then ReLU" if problem.cfg.relu else "")
                )
    with out_col:
        _output_grid(problem, k, m, r, c, hidden)
    lines = problem.equation(k)
    if hidden:
        lines = _hide_results(lines, float(problem.biases[m]))
    where = f"row {r + 1}, column {c + 1}" + (f" of feature map {m + 1}" if problem.maps > 1 else "")
    value = "?" if hidden else ops.format_number(problem.out[m, r, c])
    st.markdown(f"**Step {k + 1} of {problem.steps}: output cell {where} = {value}**")
    st.code("\n".join(lines), language=None, wrap_lines=True)
    if problem.cfg.op == "pool" and problem.padding_mask.any() and problem.cfg.pool in ("max", "min"):
        st.caption(
            f"Padding counts as {'-∞' if problem.cfg.pool == 'max' else '+∞'} in {problem.cfg.pool} pooling, so it never wins."
        )
    if not hidden and example_is_unchanged(problem.cfg):
        for d in discrepancies(EXAMPLES[problem.cfg.example]):
            if d.cell[-2:] == (r, c) and (len(d.cell) == 2 or d.cell[0] == m):
                st.warning(
                    f"The notes print {ops.format_number(d.printed)} here; the correct value is {ops.format_number(d.correct)}."
                )
    _tables(problem, k, hidden, grids[channels[0]] if len(channels) == 1 else None)


def _legend(problem: Problem, kept: bool) -> str:
    parts = ["Thick black-and-white outline: the cells under the kernel now."]
    if problem.padding_mask.any():
        what = "inserted zeros and padding" if problem.transposed is not None else "padding"
        parts.append(f"Grey cells with '/' strokes in the corners (labelled p): {what}.")
    if problem.dropped.any():
        parts.append("Vermillion '\\' strokes in the corners: cells no window ever reaches (dropped).")
    if kept:
        parts.append(f"Circle: the value {problem.cfg.pool} pooling keeps.")
    return " ".join(parts)


def _output_grid(problem: Problem, k: int, m: int, r: int, c: int, hidden: bool) -> None:
    oh, ow = problem.out.shape[1:]
    vals = problem.out[m].copy()
    start = problem.index(m, 0, 0)
    done = np.arange(oh * ow).reshape(oh, ow) + start <= k
    vals[~done] = np.nan
    text = None
    if hidden:
        vals[:] = np.nan
        marks = quiz_marks(problem)
        text = [["?"] * ow for _ in range(oh)]
        if marks is not None:
            text = [[f"{mk.symbol()} {mk.typed}".strip() or "?" for mk in row] for row in marks[m]]
    title = (
        ("Pooled, channel " if problem.cfg.op == "pool" else "Feature map ") + str(m + 1)
        if problem.maps > 1
        else "Output"
    )
    fig = plots.arithmetic_grid(
        vals,
        title=title,
        current=(r, c),
        text=text,
        clickable=True,
        zrange=(float(problem.out.min()), float(problem.out.max())),
    )
    key = f"ar_click_{m}_{k}"
    st.plotly_chart(
        fig,
        width="content",
        key=key,
        on_select=lambda: _on_click(key, start, ow),
        selection_mode="points",
        config={"displayModeBar": False},
    )
    st.caption("Click an output cell to jump to it." + (" ✓ right, ✗ wrong, ? not yet answered." if hidden else ""))


def _on_click(key: str, start: int, width: int) -> None:
    """A click on output cell (row, col): jump to that step (``start`` is the map's first step)."""
    event = st.session_state.get(key)
    points = (event or {}).get("selection", {}).get("points", [])
    if points:
        p = points[0]
        go_to(start + int(round(p["y"])) * width + int(round(p["x"])))


def _tables(problem: Problem, k: int, hidden: bool, padded: np.ndarray | None) -> None:
    """Every grid as a table of numbers; the current window is shown in [brackets]."""
    m, r, c = problem.locate(k)
    step = problem.traces[m].step_at(r, c)
    with st.expander("Read these grids as tables of numbers"):
        if padded is not None:
            rows, cols = set(step.rows), set(step.cols)
            cells = [
                [
                    ("[" + ops.format_number(v) + "]") if i in rows and j in cols else ops.format_number(v)
                    for j, v in enumerate(row)
                ]
                for i, row in enumerate(padded)
            ]
            st.caption("Padded input; the cells under the kernel are in [brackets]; 'p' rows/columns are padding.")
            row_l = _unique(_labels(problem.padding_mask.all(axis=1)))
            col_l = _unique(_labels(problem.padding_mask.all(axis=0)))
            st.dataframe(pd.DataFrame(cells, index=row_l, columns=col_l), key=f"ar_tab_in_{k}")
        if problem.shown_kernels is not None:
            for ch, kern in enumerate(problem.shown_kernels[m]):
                st.caption(f"Kernel, channel {ch + 1}" + (" (flipped)" if problem.transposed is not None else ""))
                st.dataframe(
                    pd.DataFrame([[ops.format_number(v) for v in row] for row in kern]), key=f"ar_tab_k_{ch}_{k}"
                )
        st.caption("Output so far" + (" (hidden in quiz mode)" if hidden else ""))
        oh, ow = problem.out.shape[1:]
        start = problem.index(m, 0, 0)
        out = [
            [
                "?" if hidden else ops.format_number(problem.out[m, i, j]) if start + i * ow + j <= k else "·"
                for j in range(ow)
            ]
            for i in range(oh)
        ]
        st.dataframe(pd.DataFrame(out), key=f"ar_tab_out_{k}")


def _unique(labels: list[str]) -> list[str]:
    """Table headers must be unique: number the padding labels p1, p2, ..."""
    out, n = [], 0
    for v in labels:
        if v == "p":
            n += 1
            v = f"p{n}"
        out.append(v)
    return out


def quiz_marks(problem: Problem) -> list[list[list[quiz.Mark]]] | None:
    """The marks of the typed answers, per feature map, once the learner pressed Check."""
    if not st.session_state.get(state.AR_CHECKED):
        return None
    oh, ow = problem.out.shape[1:]
    return [
        quiz.mark_grid(
            problem.out[m], [[st.session_state.get(f"{Q}{m}_{i}_{j}", "") for j in range(ow)] for i in range(oh)]
        )
        for m in range(problem.maps)
    ]


def quiz_controls(cfg: ArithmeticConfig) -> ArithmeticConfig:
    """Quiz mode selector and the New exercise button (in the sidebar, under the settings)."""
    with st.sidebar:
        st.subheader("Quiz")
        _init(W + "quiz", cfg.quiz)
        mode = st.radio("Quiz mode", list(QUIZ_MODES), format_func=QUIZ_MODES.get, key=W + "quiz")
        st.button("New random exercise", on_click=_on_new_exercise, key="ar_new_ex", icon=":material/casino:")
    if mode != cfg.quiz:
        for key in (state.AR_CHECKED, state.AR_REVEAL):
            st.session_state.pop(key, None)
        cfg = replace(cfg, quiz=mode)
        st.session_state[state.AR_CFG] = cfg
    return cfg


def quiz_panel(problem: Problem) -> None:
    """Answer boxes for the hidden output cells (or size), Check, and Reveal."""
    cfg = problem.cfg
    if cfg.quiz == "off":
        return
    ss = st.session_state
    st.markdown("**Your answers**")
    if cfg.quiz == "size":
        a, b = st.columns(2)
        h = a.text_input("Output height", key=Q + "h")
        w = b.text_input("Output width", key=Q + "w")
        if ss.get(state.AR_CHECKED):
            for label, typed, expected in (("Height", h, problem.out.shape[1]), ("Width", w, problem.out.shape[2])):
                mk = quiz.mark_value(expected, typed, tol=0)
                st.markdown(
                    f"{label}: {mk.symbol()} **{_status_word(mk)}**"
                    + (f" (the answer is {expected})" if ss.get(state.AR_REVEAL) else "")
                )
    else:
        oh, ow = problem.out.shape[1:]
        if max(oh, ow) > QUIZ_MAX_SIDE:
            st.info(
                f"Typing answers works for outputs up to {QUIZ_MAX_SIDE}x{QUIZ_MAX_SIDE}; this one is {oh}x{ow}. Press 'New random exercise' or pick a smaller example."
            )
            return
        for m in range(problem.maps):
            if problem.maps > 1:
                st.caption(f"Feature map {m + 1}")
            for i in range(oh):
                cols = st.columns(max(ow, 4))
                for j in range(ow):
                    cols[j].text_input(
                        f"({i + 1}, {j + 1})" + (f" map {m + 1}" if problem.maps > 1 else ""),
                        key=f"{Q}{m}_{i}_{j}",
                        placeholder="?",
                    )
        marks = quiz_marks(problem)
        if marks is not None:
            flat = [mk for grid in marks for row in grid for mk in row]
            right = sum(mk.right for mk in flat)
            st.markdown(f"**{right} of {len(flat)} right.** ✓ right, ✗ wrong, ? not a number; see the output grid.")
            for m, grid in enumerate(marks):
                for i, row in enumerate(grid):
                    for j, mk in enumerate(row):
                        if mk.status in ("wrong", "unreadable", "blank"):
                            extra = (
                                f"; the answer is {ops.format_number(mk.expected)}" if ss.get(state.AR_REVEAL) else ""
                            )
                            st.caption(
                                f"{mk.symbol() or '·'} row {i + 1}, column {j + 1}"
                                + (f" (map {m + 1})" if problem.maps > 1 else "")
                                + f": {_status_word(mk)}{extra}"
                            )
    a, b = st.columns(2)
    a.button("Check answers", key="ar_check", on_click=lambda: ss.__setitem__(state.AR_CHECKED, True), type="primary")
    b.toggle("Reveal the working", key=state.AR_REVEAL)


def _status_word(mk: quiz.Mark) -> str:
    return {
        "right": "right",
        "wrong": f"wrong (you typed {mk.typed})",
        "blank": "not answered",
        "unreadable": f"'{mk.typed}' is not a number",
    }[mk.status]


def pooling_compare(problem: Problem) -> None:
    """Side by side: what pooling keeps, and what a stride-2 convolution of the same input gives."""
    cfg = problem.cfg
    if cfg.op != "pool" or cfg.pool in ("gmax", "gavg") or _quiz_hidden(problem):
        return
    st.markdown("**Pooling next to a stride-2 convolution**")
    tr = problem.traces[0]
    kept = [ops.pool_kept_cell(s, cfg.pool) for s in tr.steps]  # type: ignore[arg-type]
    kept = [p for p in kept if p is not None]
    a, b, c = st.columns(3)
    with a:
        st.plotly_chart(
            plots.arithmetic_grid(
                tr.padded, title="Input (circled: kept)", padding=problem.padding_mask, kept=kept or None
            ),
            width="content",
            key="ar_cmp_in",
            config={"displayModeBar": False},
        )
    with b:
        st.plotly_chart(
            plots.arithmetic_grid(problem.out[0], title=f"{POOLS[cfg.pool]} pool"),
            width="content",
            key="ar_cmp_pool",
            config={"displayModeBar": False},
        )
    result = pool_vs_conv(problem)
    with c:
        if isinstance(result, str):
            st.info(f"No convolution to compare with: {result}")
        else:
            y, k = result
            st.caption(f"Kernel 1 ({k.shape[0]}x{k.shape[1]}), stride 2, no padding")
            st.plotly_chart(
                plots.arithmetic_grid(y, title="Convolution"),
                width="content",
                key="ar_cmp_conv",
                config={"displayModeBar": False},
            )
    if cfg.pool in ("max", "min"):
        st.caption(
            f"{POOLS[cfg.pool]} pooling passes on one input value from each window (circled) and throws the rest away; "
            "which value wins can move around inside the window. The stride-2 convolution (kernel 1 from the convolution "
            "settings) mixes every value in its window with fixed learned weights: nothing is thrown away, but it is blended."
        )
    else:
        st.caption(
            f"{POOLS[cfg.pool]} pooling weighs every value in the window equally, like a convolution whose kernel is all "
            f"{'ones' if cfg.pool == 'sum' else '1/(window size)'} and whose stride is the window size; a learned kernel can "
            "weigh them differently."
        )


def transposed_scatter(problem: Problem) -> None:
    """The scatter view of a transposed convolution: one input value times the kernel, stamped on the output."""
    tr = problem.transposed
    if tr is None or _quiz_hidden(problem):
        return
    with st.expander("Scatter view: each input value stamps a copy of the kernel onto the output"):
        options = list(range(len(tr.scatter)))
        pick = st.selectbox(
            "Input value",
            options,
            key="ar_scatter",
            format_func=lambda i: (
                f"channel {tr.scatter[i].in_index[0] + 1}, row {tr.scatter[i].in_index[1] + 1}, "
                f"column {tr.scatter[i].in_index[2] + 1} (value {ops.format_number(tr.scatter[i].value)})"
            ),
        )
        s = tr.scatter[pick]
        oh, ow = problem.out.shape[1:]
        stamp = np.full((oh, ow), np.nan)
        rows = [(a, r) for a, r in enumerate(s.rows) if 0 <= r < oh]
        cols = [(b, c) for b, c in enumerate(s.cols) if 0 <= c < ow]
        for a, r in rows:
            for b, c in cols:
                stamp[r, c] = s.contribution[a, b]
        window = (tuple(r for _, r in rows), tuple(c for _, c in cols)) if rows and cols else None
        st.plotly_chart(
            plots.arithmetic_grid(stamp, title="This input value × kernel (not flipped)", window=window),
            width="content",
            key=f"ar_stamp_{pick}",
            config={"displayModeBar": False},
        )
        st.caption(
            "Adding up the stamps of every input value (where they overlap) and the bias gives exactly the output above. "
            "Gathering instead of scattering, each output cell is an ordinary convolution of the spread-out input "
            "with the flipped kernel; that is why a convolution's backward pass is itself a convolution."
        )


def series(problem: Problem) -> None:
    """For 1-D convolution: the series and the output as a line plot."""
    if problem.cfg.op != "conv1d" or _quiz_hidden(problem):
        return
    tr = problem.traces[0]
    left_pad = tr.pad[1][0]
    centres = np.array([(s.cols[0] + s.cols[-1]) / 2 - left_pad for s in tr.steps])  # window centre, input time
    st.plotly_chart(
        plots.series_plot(
            problem.x[0, 0],
            problem.out[0, 0],
            x_start=centres,
            title="Series (channel 1) and output at each window's centre",
        ),
        key="ar_series",
        config={"displayModeBar": False},
    )
