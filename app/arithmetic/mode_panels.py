"""The Arithmetic page's panels for the later modes, under the step view: for the backward pass, which
dL/dy cells and kernel taps meet in the current gradient cell and their sum; for conv -> ReLU -> pool,
the three stages side by side; for the 1x1 convolution, the per-pixel mix in one sentence.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app import layout, plots
from app.arithmetic.problem import Problem
from app.arithmetic.quiz_view import quiz_hidden
from cnn_core.numbers import format_number

_CHART = {"displayModeBar": False}


def _paren(v: float) -> str:
    text = format_number(v)
    return f"({text})" if text.startswith("-") else text


def _term_table(problem: Problem, k: int) -> tuple[pd.DataFrame, float, str]:
    tr = problem.backward
    m, r, c = problem.locate(k)
    kh, kw = tr.kernel.shape[1:]
    if problem.cfg.wrt == "w":
        terms = tr.dw_terms(m, r, c)
        rows = [
            {
                "dL/dy cell": f"({t.out_index[0]}, {t.out_index[1]})",
                "dL/dy": format_number(t.grad),
                "x cell (padded)": f"({t.x_index[0]}, {t.x_index[1]})",
                "x": format_number(t.other),
                "product": format_number(t.product),
            }
            for t in terms
        ]
        name = f"dL/dW[{r}, {c}]" if tr.kernel.shape[0] == 1 else f"dL/dW[{m}, {r}, {c}]"
    else:
        terms = tr.dx_terms(m, r, c)
        rows = [
            {
                "dL/dy cell": f"({t.out_index[0]}, {t.out_index[1]})",
                "dL/dy": format_number(t.grad),
                "kernel tap": f"({t.tap[0]}, {t.tap[1]})",
                "flipped tap": f"({kh - 1 - t.tap[0]}, {kw - 1 - t.tap[1]})",
                "weight": format_number(t.other),
                "product": format_number(t.product),
            }
            for t in terms
        ]
        name = f"dL/dx[{r}, {c}]" if tr.kernel.shape[0] == 1 else f"dL/dx[{m}, {r}, {c}]"
    total = float(problem.out[m, r, c])
    sum_text = " + ".join(f"{_paren(t.grad)}×{_paren(t.other)}" for t in terms) or "nothing (no window saw it)"
    return pd.DataFrame(rows), total, f"{name} = {sum_text} = {format_number(total)}"


def backward_panel(problem: Problem, k: int) -> None:
    """The current gradient cell's terms: which dL/dy cells and which kernel taps (or input cells) meet."""
    tr = problem.backward
    if tr is None or quiz_hidden(problem):
        return
    st.markdown("**Where this gradient comes from**")
    table, _, line = _term_table(problem, k)
    st.code(line, language=None, wrap_lines=True)
    if problem.cfg.wrt == "w":
        st.caption(
            "A kernel tap touches one input cell in every window, so its gradient adds, over every output cell, "
            "dL/dy there times the input value that tap saw: dL/dy slides over x like a kernel, its cells as far "
            "apart as the stride, and the tap's place moves it by the dilation."
        )
    else:
        st.caption(
            "An input cell was seen by every window that covered it, each time through a different kernel tap, so "
            "its gradient adds dL/dy of those windows times the tap that saw it. Written as a sweep over dL/dy, "
            "the taps come in reverse order: a stride-1 convolution with the kernel flipped, over dL/dy with "
            "stride - 1 zeros put between its cells and d(k - 1) zeros around it. Only the circled cells add "
            "anything; the rest of the window is those zeros."
        )
    st.dataframe(table, hide_index=True, key=f"ar_terms_{k}")
    if max(tr.stride) > 1:
        layout.chart(
            plots.arithmetic_grid(tr.spread, title="dL/dy spread out by the stride", max_px=240),
            width="content",
            key="ar_spread",
            config=_CHART,
        )
    st.caption(f"dL/db, the bias's gradient, is the sum of dL/dy: {format_number(tr.grad_bias)}.")


def chain_panel(problem: Problem) -> None:
    """conv -> ReLU -> pool: the feature map, the map after ReLU and the pooled map side by side."""
    ch = problem.chain
    if ch is None or quiz_hidden(problem):
        return
    st.markdown("**The whole chain on these numbers**")
    row = st.container(horizontal=True, gap="medium")  # each grid at its full size, wrapping: in three columns
    cols = [row] * 3  # a projector squeezed them until "-8" and "10" ran over their cells
    relu_title = "After ReLU" if problem.cfg.relu else "No ReLU (pooled as it is)"
    for col, (values, title) in zip(
        cols, ((ch.conv, "Feature map"), (ch.relu, relu_title), (ch.pooled, "Pooled")), strict=True
    ):
        with col.container(width="content"):
            layout.chart(
                plots.arithmetic_grid(values, title=title, max_px=260),
                width="content",
                key=f"ar_chain_{title}",
                config=_CHART,
            )
    negative = int((ch.conv < 0).sum())
    st.caption(
        f"ReLU sets the {negative} negative value(s) of the feature map to 0 before pooling"
        if problem.cfg.relu
        else "Tick 'ReLU between' to set the negative values to 0 before pooling."
    )


def mix_sentence(problem: Problem, k: int) -> None:
    """1x1 convolution: the current pixel's channel vector times the weight row, in one line."""
    if problem.cfg.op != "conv1x1" or quiz_hidden(problem):
        return
    m, r, c = problem.locate(k)
    w = problem.shown_kernels[m, :, 0, 0]
    terms = " + ".join(f"{format_number(wi)}·x[{i}, {r}, {c}]" for i, wi in enumerate(w))
    st.caption(
        f"A 1x1 convolution never looks at neighbours: output map {m} at pixel ({r}, {c}) = {terms} + bias "
        f"{format_number(problem.biases[m])}. The same weights mix every pixel, so the height and width stay and "
        "only the number of channels changes."
    )
