"""The Arithmetic page's model: its typed config, the config's query-string form, and the configs
that show a worked example or pose a practice exercise.

No Streamlit here. Typed matrices are read by :func:`cnn_core.numbers.parse_matrix`.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

import numpy as np

from cnn_core import quiz
from cnn_core.numbers import format_number, parse_matrix, parse_number, split_blocks
from cnn_core.worked_examples import EXAMPLES, WorkedExample

OPERATIONS = {
    "conv2d": "Convolution 2-D",
    "conv1d": "Convolution 1-D (time series)",
    "transposed": "Transposed convolution",
    "pool": "Pooling",
    "backward": "Backward pass (gradients)",
    "conv1x1": "1x1 convolution (channel mix)",
    "conv3d": "3-D convolution",
    "chain": "conv -> ReLU -> pool",
}
NEW_MODES = ("backward", "conv1x1", "conv3d", "chain")  # a bare link to one of these opens its starter numbers
WRT = {"x": "dL/dx (the input's gradient)", "w": "dL/dW (the kernel's gradient)"}
STAGES = {"conv": "1: convolution + ReLU", "pool": "2: pooling of the ReLU map"}
INDEXING = "Rows, columns, channels and feature maps count from 0, as in NumPy and PyTorch; steps count from 1."
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
    return "\n\n".join("\n".join(" ".join(format_number(v) for v in row) for row in ch) for ch in blocks)


def to_compact(text: str) -> str:
    """Typed matrix text -> URL form: values ',' rows ';' channels '|'."""
    return "|".join(";".join(",".join(row) for row in rows) for rows in split_blocks(text))


def from_compact(compact: str) -> str:
    """URL form -> typed matrix text (inverse of :func:`to_compact`)."""
    return "\n\n".join("\n".join(row.replace(",", " ") for row in b.split(";")) for b in compact.split("|"))


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
    grad: str = ""  # backward: the upstream gradient dL/dy as typed (empty: all ones)
    wrt: str = "x"  # backward: which gradient is stepped through, a key of WRT
    stage: str = "conv"  # chain: which stage is stepped through, a key of STAGES
    pool_stride: tuple[int, int] = (2, 2)  # chain: the pooling's stride (the convolution's is ``stride``)

    def to_query(self) -> dict[str, str]:
        """The config as URL query parameters (short, readable keys)."""

        def pair(t: tuple[int, ...]) -> str:
            return ",".join(str(v) for v in t)

        q = {
            "op": self.op,
            "x": to_compact(self.x),
            "k": "/".join(to_compact(k) for k in self.kernels),
            "b": ",".join(format_number(b, 6) for b in self.biases),
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
        if self.op == "backward":
            q.update(g=to_compact(self.grad) if self.grad.strip() else "", wrt=self.wrt)
        if self.op == "chain":
            q.update(stage=self.stage, pss=pair(self.pool_stride))
        if self.example:
            q["ex"] = self.example
        return q

    @classmethod
    def from_query(cls, params: dict[str, str]) -> tuple[ArithmeticConfig, list[str]]:
        """Read a config from query parameters; unreadable values keep their defaults and are reported."""
        op = str(params.get("op", ""))
        base = starter(op) if op in NEW_MODES and "x" not in params else DEFAULT_CONFIG
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
            "b": ("biases", lambda t: tuple(parse_number(v) for v in t.split(","))),
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
            "g": ("grad", lambda t: from_compact(t) if t else ""),
            "wrt": ("wrt", lambda t: t if t in WRT else _bad()),
            "stage": ("stage", lambda t: t if t in STAGES else _bad()),
            "pss": ("pool_stride", lambda t: ints(t, 2)),
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
        values.setdefault("example", base.example if base is not DEFAULT_CONFIG else "")  # numbers, not an example
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
    if ex.operation in ("chain", "backward"):
        extra = (
            dict(grad=matrix_text(ex.grad_out), wrt="x")
            if ex.operation == "backward"
            else dict(relu=True, stage="conv", pool=ex.pool_mode, pool_size=(ex.pool_size,) * 2)
        )
        if ex.operation == "chain":
            extra["pool_stride"] = (ex.pool_stride or ex.pool_size,) * 2
        common.update(extra)
        kernels = (matrix_text(ex.kernels[0]),)
        return replace(base, op=ex.operation, x=matrix_text(ex.x), kernels=kernels, biases=(ex.biases[0],), **common)  # type: ignore[arg-type]
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
STARTER_EXAMPLES = {
    "backward": "Backward pass, 5x5 input, 3x3 kernel, stride 2",
    "chain": "Practice: 8x7 image, 3x3 conv, ReLU, 2x2 max pool stride 1",
}
_RGB = "1 2 0 3\n4 1 2 2\n0 3 1 4\n2 2 4 1\n\n3 0 2 1\n1 1 0 4\n2 4 3 0\n0 1 2 2\n\n0 1 4 2\n2 3 1 0\n1 0 2 3\n4 2 0 1"
_VOLUME = "\n\n".join(
    ["1 0 2 1\n0 1 0 2\n2 1 1 0\n1 0 2 1", "0 2 1 0\n1 1 2 0\n0 1 0 1\n2 0 1 1"]
    + ["1 1 0 2\n2 0 1 1\n0 2 1 0\n1 1 0 2", "2 0 1 1\n0 1 2 0\n1 0 1 2\n0 2 0 1"]
)


def starter(op: str) -> ArithmeticConfig:
    """The numbers a mode opens with when chosen (or linked to) without numbers of its own.

    1x1 convolution: a 3-channel 4x4 input and two output maps, one a weighted mix of all three
    channels and one the difference of the first two; 3-D convolution: a 4x4x4 volume and a
    2x2x2 kernel. Both are ConvLab's numbers, following the notes (003) on those convolutions.
    """
    if op in STARTER_EXAMPLES:
        return config_from_example(EXAMPLES[STARTER_EXAMPLES[op]])
    common = dict(example="", cell=0, padding="valid", pad=(0, 0, 0, 0), stride=(1, 1), dilation=(1, 1), relu=False)
    if op == "conv1x1":
        return replace(DEFAULT_CONFIG, op=op, x=_RGB, kernels=("0.5 0.25 0.25", "1 -1 0"), biases=(0.0, 0.0), **common)  # type: ignore[arg-type]
    if op == "conv3d":
        kernel = "1 0\n0 1\n\n0 1\n1 0"
        return replace(DEFAULT_CONFIG, op=op, x=_VOLUME, kernels=(kernel,), biases=(0.0,), **common)  # type: ignore[arg-type]
    return DEFAULT_CONFIG


def example_is_unchanged(cfg: ArithmeticConfig) -> bool:
    """Whether the page still shows the loaded worked example exactly (so the notes' values apply)."""
    if cfg.example not in EXAMPLES:
        return False
    ref = config_from_example(EXAMPLES[cfg.example], cfg)
    skip = {"cell", "quiz", "seed", "example", "wrt", "stage"}
    return all(getattr(cfg, f.name) == getattr(ref, f.name) or f.name in skip for f in fields(cfg)) and (
        parse_or_none(cfg.x) == parse_or_none(ref.x)
    )


def parse_or_none(text: str) -> tuple | None:
    try:
        return tuple(parse_matrix(text, max_side=64, max_channels=MAX_CHANNELS, what="input").ravel())
    except ValueError:
        return None
