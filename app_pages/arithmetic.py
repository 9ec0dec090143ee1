"""Arithmetic page: step through convolution and pooling cell by cell.

Widgets -> ArithmeticConfig -> cnn_core (via app.arithmetic.build_problem) -> app.plots.
The whole config, current step included, lives in the URL so a link opens the exact step.
"""

from __future__ import annotations

import streamlit as st

from app import arithmetic as ar
from app import state

st.title("Arithmetic: convolution and pooling, cell by cell")
st.caption(
    "Pick a worked example below or type your own numbers in the sidebar, then step through the output one cell at a "
    "time: the window on the input is outlined, the products and their sum are written out, and the output cell "
    "fills in. Click any output cell to jump to it. The operations include the backward pass (gradients), the 1x1 "
    f"and 3-D convolutions and conv -> ReLU -> pool. {ar.INDEXING}"
)
cfg = ar.quiz_controls(ar.settings(ar.current()))  # the worked example's box, then the sidebar
ar.example_note(cfg)

problem, error = None, None
try:
    problem = ar.problem_for(cfg)
except ar.ProblemError as e:
    error = e

if error is not None and error.kind == "input":
    st.error(str(error), icon=":material/edit_note:")
    ar.sync_url(cfg)
    st.stop()

size_hidden = cfg.quiz == "size" and not st.session_state.get(state.AR_REVEAL)
if problem is not None and not size_hidden:
    ar.stepper(problem)
    ar.series(problem)

if cfg.quiz == "off":
    ar.output_size(problem, error, cfg)
else:
    left, right = st.columns([3, 2])
    with left:
        if problem is not None:
            ar.quiz_panel(problem)
            if size_hidden:
                st.caption("Work out the output height and width from the settings in the sidebar, then press Check.")
    with right:
        ar.output_size(problem, error, cfg)

if problem is not None and not size_hidden:
    ar.transposed_scatter(problem)
    ar.pooling_compare(problem)
    ar.chain_panel(problem)
ar.sync_url(st.session_state[state.AR_CFG])
