"""The Arithmetic page's problem: the config's matrices parsed, and every array, trace and line of
working the page draws, computed by :mod:`cnn_core` (no arithmetic of its own, and no Streamlit).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from app.arithmetic.config import MAX_CHANNELS, MAX_INPUT_SIDE, MAX_KERNEL_SIDE, ArithmeticConfig
from cnn_core import geometry, ops, quiz
from cnn_core.numbers import parse_matrix


class ProblemError(ValueError):
    """A setting the page cannot compute, with the sentence to show (``kind``: "input" or "impossible")."""

    def __init__(self, message: str, kind: str = "input", working: list[str] | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.working = working or []


@dataclass(frozen=True)
class Names:
    """What the page calls an operation's grids and cells; ``{m}`` is filled in with the map's number."""

    input: str = "Input"  # the grid the window moves over
    kernel: str = "Kernel"
    output: str = "Output"
    map_word: str = "feature map"  # one of several outputs
    cell_word: str = "output cell"
    channel_word: str = "channel"  # one slice of the input and the kernel
    slices: tuple[tuple[int, ...], ...] | None = None  # 3-D: the input slices under the kernel, per output slice


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
    names: Names = field(default_factory=Names)
    backward: ops.BackwardTrace | None = None
    chain: ops.ChainResult | None = None
    marked: tuple[tuple[tuple[int, int], ...], ...] | None = None  # per step: cells circled on the stepped grid

    @property
    def is_pool(self) -> bool:
        """Whether the steps are pooling steps (pooling, or the chain's pooling stage)."""
        return self.cfg.op == "pool" or (self.cfg.op == "chain" and self.cfg.stage == "pool")

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

    @property
    def pool_mode(self) -> ops.PoolMode:
        """The pooling the traces used ("gmax" is max pooling over one window, "gavg" average)."""
        return {"gmax": "max", "gavg": "avg"}.get(self.cfg.pool, self.cfg.pool)  # type: ignore[return-value]

    def circled(self, k: int) -> list[tuple[int, int]] | None:
        """Cells circled on the stepped-over grid at step ``k``: the value a max / min pool keeps, or
        the dL/dy cells that reach a dL/dx cell."""
        if self.marked is not None:
            return list(self.marked[k]) or None
        kept = self.kept(k)
        return [kept] if kept else None

    def cell_working(self, k: int) -> tuple[ops.WorkingLine, ...]:
        """The working of step ``k`` as structured lines (from :mod:`cnn_core.ops`)."""
        m, r, c = self.locate(k)
        step = self.traces[m].step_at(r, c)
        if self.is_pool:
            return (ops.pool_working(step, self.pool_mode),)
        return ops.conv_working(step, self.shown_kernels[m], activation="relu" if self.cfg.relu else "none")

    def equation(self, k: int) -> list[str]:
        """The written-out working of step ``k``, one line per string."""
        lines = [line.text() for line in self.cell_working(k)]
        word = self.names.channel_word
        if word == "channel":
            return lines
        return [t.replace("channel ", f"{word} ", 1).replace("over channels", f"over {word}s") for t in lines]

    def quiz_cell(self, k: int) -> quiz.HiddenCell:
        """Step ``k`` as quiz mode poses it: the working with the answer hidden, and the answer."""
        m, r, c = self.locate(k)
        return quiz.hide_cell((m, r, c), self.cell_working(k), float(self.out[m, r, c]))

    def kept(self, k: int) -> tuple[int, int] | None:
        """The padded-input cell a max or min pooling step keeps; None otherwise."""
        if not self.is_pool:
            return None
        m, r, c = self.locate(k)
        return ops.pool_kept_cell(self.traces[m].step_at(r, c), self.pool_mode)


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
        x = parse_matrix(cfg.x, max_side=MAX_INPUT_SIDE, max_channels=MAX_CHANNELS, what="input")  # (C, H, W)
    except ValueError as e:
        raise ProblemError(str(e)) from None
    if cfg.op == "pool":
        return _build_pool(cfg, x)
    try:
        ks = [
            parse_matrix(k, max_side=MAX_KERNEL_SIDE, max_channels=MAX_CHANNELS, what=f"kernel {i}")
            for i, k in enumerate(cfg.kernels)
        ]
    except ValueError as e:
        raise ProblemError(str(e)) from None
    if cfg.op in MODE_BUILDERS:
        return MODE_BUILDERS[cfg.op](cfg, x, ks)
    for i, k in enumerate(ks):
        if k.shape[0] != x.shape[0]:
            raise ProblemError(
                f"Kernel {i} has {k.shape[0]} channel(s) but the input has {x.shape[0]}: a kernel needs one "
                "slice per input channel (separate the slices with a blank line)."
            )
        if k.shape != ks[0].shape:
            raise ProblemError("All kernels of a layer must have the same size.")
    kernels = np.stack(ks)  # (M, C, kh, kw)
    if cfg.op == "transposed":
        return _build_transposed(cfg, x, kernels[0])
    biases = np.array(cfg.biases[: len(ks)], dtype=float)
    kh, kw = kernels.shape[2:]
    spec, workings = conv_workings(cfg, x.shape[1:], (kh, kw))
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


def padding_spec(cfg: ArithmeticConfig) -> ops.PaddingSpec:
    """The config's 2-D padding as :mod:`cnn_core.ops` takes it."""
    return ((cfg.pad[0], cfg.pad[1]), (cfg.pad[2], cfg.pad[3])) if cfg.padding == "custom" else cfg.padding  # type: ignore[return-value]


def conv_workings(cfg: ArithmeticConfig, size: tuple[int, int], kernel: tuple[int, int]):
    """The padding spec and the output-size working of each axis of a 2-D convolution."""
    spec = padding_spec(cfg)
    workings = []
    for n, k, s, d, i in zip(size, kernel, cfg.stride, cfg.dilation, (0, 1), strict=True):
        p = (
            spec[i]
            if isinstance(spec, tuple)
            else _impossible(geometry.resolve_padding, spec, n, k, stride=s, dilation=d)
        )
        workings.append(_impossible(geometry.explain_output_size, n, k, stride=s, padding=p, dilation=d))
    return spec, workings


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
    names = Names()
    if cfg.op == "pool":
        names = Names(output="Pooled, channel {m}" if out.shape[0] > 1 else "Output", map_word="channel")
    elif out.shape[0] > 1:
        names = Names(kernel="Kernel {m}", output="Feature map {m}")
    return Problem(
        cfg, x, kernels, shown, biases, out, tuple(traces), mask, dropped, lines, notes, params_text, names=names
    )


def _build_conv1d(cfg: ArithmeticConfig) -> Problem:
    try:
        x = parse_matrix(cfg.x.replace("\n\n", "\n"), max_side=64, max_channels=1, what="series")[0]  # (C, L)
        k = parse_matrix(cfg.kernels[0].replace("\n\n", "\n"), max_side=MAX_KERNEL_SIDE, max_channels=1, what="kernel")[
            0
        ]
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
        names=Names(input="Input spread out by the stride", kernel="Kernel, flipped"),
    )


def _build_pool(cfg: ArithmeticConfig, x: np.ndarray) -> Problem:
    c, h, w = x.shape
    if cfg.pool in ("gmax", "gavg"):
        mode, size, stride, spec = cfg.pool[1:], (h, w), (1, 1), 0  # "gmax" -> "max"
    else:
        mode, size, stride = cfg.pool, cfg.pool_size, cfg.stride
        spec = padding_spec(cfg)
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


MODE_BUILDERS: dict = {}  # op -> builder(cfg, x, kernels): the modes of app.arithmetic.modes register here


def pool_vs_conv(problem: Problem) -> tuple[np.ndarray, np.ndarray] | str:
    """For the pooling side-by-side: channel 1 convolved with kernel 1 at stride 2, as
    ``(output, kernel)``, or the sentence saying why it cannot be computed."""
    try:
        k = parse_matrix(problem.cfg.kernels[0], max_side=MAX_KERNEL_SIDE, max_channels=MAX_CHANNELS, what="kernel")[0]
        y = ops.conv2d(problem.x[0], k, stride=2)
    except ValueError as e:
        return str(e)
    return y, k
