"""The browser stepper's data: every step of one Arithmetic problem as plain JSON (no Streamlit).

The client-side stepper (:mod:`app.arithmetic.stepper_component`) draws the grids and steps through
them without asking the server; this module turns a :class:`~app.arithmetic.problem.Problem` into
what it needs, computed once per setting: the grids of each map (the input with its padding, the
kernel(s), the output), and per step the window, the circled cells, the step line and the working,
in the words and numbers the server-side view writes (``Problem.equation``, ``format_number``).
"""

from __future__ import annotations

import numpy as np

from app.arithmetic.config import example_is_unchanged
from app.arithmetic.problem import Problem
from cnn_core.numbers import format_number
from cnn_core.worked_examples import EXAMPLES, discrepancies

KEYS_HINT = "Keys: ← Back, → Next, Home First, End Last (while no text box has the focus)."


def labels(mask_line: np.ndarray) -> list[str]:
    """Axis labels: input index (from 0) for real cells, 'p' for padding / inserted zeros."""
    out, n = [], 0
    for is_pad in mask_line:
        if is_pad:
            out.append("p")
        else:
            out.append(str(n))
            n += 1
    return out


def axis_labels(problem: Problem) -> tuple[list[str], list[str]]:
    """The row and column labels of the stepped-over grid."""
    if problem.transposed is not None:
        spread = ~problem.transposed.is_input
        return labels(spread.all(axis=1)), labels(spread.all(axis=0))
    return labels(problem.padding_mask.all(axis=1)), labels(problem.padding_mask.all(axis=0))


def legend(problem: Problem, kept: bool) -> str:
    """What the marks on the grids mean (``kept``: this step circles a cell)."""
    parts = ["Thick black-and-white outline: the cells under the kernel now."]
    spread = problem.transposed is not None or (problem.backward is not None and problem.cfg.wrt == "x")
    if problem.padding_mask.any():
        what = "inserted zeros and padding" if spread else "padding"
        parts.append(f"Grey cells with '/' strokes in the corners (labelled p): {what}.")
    if problem.dropped.any():
        parts.append("Vermillion '\\' strokes in the corners: cells no window ever reaches (dropped).")
    if kept and problem.backward is not None:
        parts.append("Circles: the dL/dy cells that reach this dL/dx cell; the rest of the window adds zeros.")
    elif kept:
        parts.append(f"Circle: the value {problem.cfg.pool} pooling keeps.")
    return " ".join(parts)


def step_line(problem: Problem, k: int, hidden: bool = False) -> str:
    """``Step k of n: output cell row r, column c = v`` (1-based step, 0-based cells)."""
    m, r, c = problem.locate(k)
    names = problem.names
    where = f"row {r}, column {c}" + (f" of {names.map_word} {m}" if problem.maps > 1 else "")
    value = "?" if hidden else format_number(problem.out[m, r, c])
    return f"Step {k + 1} of {problem.steps}: {names.cell_word} {where} = {value}"


def notes_warning(problem: Problem, k: int) -> str | None:
    """The sentence for a cell the course notes print wrongly (an unchanged worked example), else None."""
    if not example_is_unchanged(problem.cfg):
        return None
    m, r, c = problem.locate(k)
    for d in discrepancies(EXAMPLES[problem.cfg.example]):
        if d.cell[-2:] == (r, c) and (len(d.cell) == 2 or d.cell[0] == m):
            return f"The notes print {format_number(d.printed)} here; the correct value is {format_number(d.correct)}."
    return None


def _cells(values: np.ndarray) -> list[list[str]]:
    return [[format_number(v) for v in row] for row in np.asarray(values)]


def input_title(problem: Problem, m: int, ch: int, channels: int) -> str:
    """The title of input grid ``ch`` (of ``channels`` shown) for output map ``m``: its slice, channel or neither."""
    names = problem.names
    title = names.input.format(m=m)
    if names.slices is not None:
        z = names.slices[m][ch]
        title += f" {z}" if 0 <= z < problem.x.shape[0] else " (padding)"
    elif channels > 1 or problem.is_pool and problem.maps > 1:
        title += f", {names.channel_word} {ch}"
    return title


def _input_grids(problem: Problem, m: int) -> list[dict]:
    padded = problem.traces[m].padded
    channels = list(range(padded.shape[0])) if padded.ndim == 3 else [m]
    grids = padded if padded.ndim == 3 else padded[None].repeat(problem.maps, axis=0)
    out = []
    for ch in channels:
        out.append({"title": input_title(problem, m, ch, len(channels)), "cells": _cells(grids[ch])})
    return out


def _kernel_grids(problem: Problem, m: int) -> tuple[list[dict], str | None]:
    """The kernel grids of map ``m`` and the sentence under them."""
    if problem.kernels is None:
        return [], None
    names = problem.names
    if problem.cfg.op == "conv1x1":
        w = problem.shown_kernels[:, :, 0, 0]  # (M, C): the whole weight matrix, row m outlined
        grid = {"title": "Weights (map × channel)", "cells": _cells(w), "win": [[m], list(range(w.shape[1]))]}
        return [grid], f"Row {m} mixes the pixel's channels into output map {m}."
    kern = problem.shown_kernels[m]
    grids = [
        {
            "title": names.kernel.format(m=m) + (f", {names.channel_word} {ch}" if kern.shape[0] > 1 else ""),
            "cells": _cells(kern[ch]),
        }
        for ch in range(kern.shape[0])
    ]
    note = None
    if not problem.is_pool and problem.backward is None:
        note = f"bias = {format_number(problem.biases[m])}" + (", then ReLU" if problem.cfg.relu else "")
    return grids, note


def payload(problem: Problem) -> dict:
    """Everything the browser stepper draws, for every step of ``problem`` (JSON-ready)."""
    names = problem.names
    row_l, col_l = axis_labels(problem)
    maps = []
    for m in range(problem.maps):
        kernels, kernel_note = _kernel_grids(problem, m)
        maps.append(
            {
                "inputs": _input_grids(problem, m),
                "kernels": kernels,
                "kernel_note": kernel_note,
                "out_title": names.output.format(m=m),
                "out": _cells(problem.out[m]),
                "start": problem.index(m, 0, 0),
            }
        )
    steps = []
    for k in range(problem.steps):
        m, r, c = problem.locate(k)
        step = problem.traces[m].step_at(r, c)
        circled = problem.circled(k) or []
        steps.append(
            {
                "m": m,
                "r": r,
                "c": c,
                "rows": [int(i) for i in step.rows],
                "cols": [int(j) for j in step.cols],
                "circ": [[int(i), int(j)] for i, j in circled],
                "line": step_line(problem, k),
                "work": problem.equation(k),
                "warn": notes_warning(problem, k),
            }
        )
    pool_note = None
    if problem.is_pool and problem.padding_mask.any() and problem.cfg.pool in ("max", "min"):
        pool_note = (
            f"Padding counts as {'-∞' if problem.cfg.pool == 'max' else '+∞'} in {problem.cfg.pool} pooling, "
            "so it never wins."
        )
    return {
        "n": problem.steps,
        "row_labels": row_l,
        "col_labels": col_l,
        "pad": problem.padding_mask.astype(int).tolist(),
        "dropped": problem.dropped.astype(int).tolist(),
        "maps": maps,
        "steps": steps,
        "legend": [legend(problem, False), legend(problem, True)],
        "pool_note": pool_note,
        "keys_hint": KEYS_HINT,
        "click_hint": [f"Click a cell of {mp['out_title']} to jump to it." for mp in maps],
    }
