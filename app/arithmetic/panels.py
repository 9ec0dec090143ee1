"""The Arithmetic page's panels around the step view: the worked example's note, the output-size
formula, pooling next to a stride-2 convolution, the transposed convolution's scatter view and the
1-D series plot.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from app import layout, plots, state
from app.arithmetic.config import POOLS, ArithmeticConfig, example_is_unchanged
from app.arithmetic.problem import Problem, ProblemError, pool_vs_conv
from app.arithmetic.quiz_view import quiz_hidden
from cnn_core import ops
from cnn_core.numbers import format_number
from cnn_core.worked_examples import EXAMPLES, discrepancies


def example_note(problem_cfg: ArithmeticConfig) -> None:
    """What the loaded worked example is, where it is from, and where the notes differ."""
    if problem_cfg.example not in EXAMPLES:
        return
    ex = EXAMPLES[problem_cfg.example]
    origin = "numbers made up by ConvLab, following" if ex.constructed else "from"
    st.info(
        f"**{ex.name}**: {ex.about}\n\nSource: {origin} *{ex.source_title}*, {ex.where}.", icon=":material/menu_book:"
    )
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
    elif cfg.op == "backward":
        st.caption(
            "The forward pass's output, the shape dL/dy must have: out = floor((n + 2p − d(k − 1) − 1) / s) + 1."
        )
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
    label = "Gradients" if cfg.op == "backward" else "Parameters of this layer"
    st.markdown(f"**{label}:** {problem.params_text}")


def pooling_compare(problem: Problem) -> None:
    """Side by side: what pooling keeps, and what a stride-2 convolution of the same input gives."""
    cfg = problem.cfg
    if cfg.op != "pool" or cfg.pool in ("gmax", "gavg") or quiz_hidden(problem):
        return
    st.markdown("**Pooling next to a stride-2 convolution**")
    tr = problem.traces[0]
    kept = [ops.pool_kept_cell(s, cfg.pool) for s in tr.steps]  # type: ignore[arg-type]
    kept = [p for p in kept if p is not None]
    a, b, c = st.columns(3)
    with a:
        layout.chart(
            plots.arithmetic_grid(
                tr.padded, title="Input (circled: kept)", padding=problem.padding_mask, kept=kept or None
            ),
            width="content",
            key="ar_cmp_in",
            config={"displayModeBar": False},
        )
    with b:
        layout.chart(
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
            layout.chart(
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
    if tr is None or quiz_hidden(problem):
        return
    with st.expander("Scatter view: each input value stamps a copy of the kernel onto the output"):
        options = list(range(len(tr.scatter)))
        pick = st.selectbox(
            "Input value",
            options,
            key="ar_scatter",
            format_func=lambda i: (
                f"channel {tr.scatter[i].in_index[0]}, row {tr.scatter[i].in_index[1]}, "
                f"column {tr.scatter[i].in_index[2]} (value {format_number(tr.scatter[i].value)})"
            ),
        )
        stamp = tr.stamp(pick)
        window = (stamp.rows, stamp.cols) if stamp.rows and stamp.cols else None
        layout.chart(
            plots.arithmetic_grid(
                np.where(stamp.reached, stamp.values, np.nan),
                title="This input value × kernel (not flipped)",
                window=window,
            ),
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
    if problem.cfg.op != "conv1d" or quiz_hidden(problem):
        return
    tr = problem.traces[0]
    centres = np.array([tr.centre(s)[1] for s in tr.steps])  # each window's centre, in input time
    layout.chart(
        plots.series_plot(
            problem.x[0, 0],
            problem.out[0, 0],
            x_start=centres,
            title="Series (channel 1) and output at each window's centre",
        ),
        key="ar_series",
        config={"displayModeBar": False},
    )
