"""The Arithmetic page's model: its typed config and query-string form, parsing typed matrices,
and building the problem (arrays, traces and written-out working) that the page renders.

No Streamlit here, and no arithmetic of its own: every number comes from :mod:`cnn_core.ops`,
:mod:`cnn_core.geometry`, :mod:`cnn_core.worked_examples` and :mod:`cnn_core.quiz`. The widgets
and rendering live in :mod:`app.arithmetic`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields, replace

import numpy as np

from cnn_core import geometry, ops, quiz
from cnn_core.worked_examples import EXAMPLES, WorkedExample

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
