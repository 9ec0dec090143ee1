"""The Arithmetic page's step view. Quiz off: the browser stepper (:mod:`~app.arithmetic.stepper_component`,
every step drawn and stepped in the browser) with, under it, the jump box, the mode panels and the tables,
which follow the step the browser reports. Quiz on: the server stepper (Play and the step controls, the
input, kernel and output grids of the current step as charts, with its working), since the answers it
hides are checked on the server; the same grids as tables.
"""

from __future__ import annotations

import time
from dataclasses import astuple, replace

import numpy as np
import pandas as pd
import streamlit as st

from app import layout, plots, state
from app.arithmetic import mode_panels, stepper_component
from app.arithmetic.config import ArithmeticConfig
from app.arithmetic.problem import Problem, build_problem
from app.arithmetic.quiz_view import quiz_hidden, quiz_marks
from app.arithmetic.stepper_payload import axis_labels, input_title, labels, legend, notes_warning, step_line
from app.arithmetic.widgets import go_to, init_widget, sync_url
from cnn_core.numbers import format_number


@st.cache_data(max_entries=32, show_spinner=False)
def _problem(key: tuple, _cfg: ArithmeticConfig) -> Problem:
    return build_problem(_cfg)


def problem_for(cfg: ArithmeticConfig) -> Problem:
    """Every step of ``cfg`` computed once and kept (the current step is not part of the key), so
    moving to another step never computes the operation again; raises ``ProblemError`` like
    :func:`build_problem`."""
    base = replace(cfg, cell=0)
    return replace(_problem(astuple(base), base), cfg=cfg)


def stepper(problem: Problem) -> None:
    """The browser stepper (quiz off), or Play/pause and speed (full reruns) and the server step view (a
    fragment that ticks while playing) in quiz mode."""
    if problem.cfg.quiz == "off":
        st.fragment(_client_view)(problem)
        return
    ss = st.session_state
    if ss.pop(state.AR_STOP_PLAY, False):
        ss[state.AR_PLAY] = False
    quiz_on = problem.cfg.quiz != "off"
    a, b, _ = st.columns([2, 3, 3])  # Play's own column fits its label at 1024x768 presenting
    a.toggle("Play", key=state.AR_PLAY, disabled=quiz_on, on_change=_on_play, args=(problem.steps,))
    init_widget(state.AR_SPEED, 1.0)
    b.select_slider("Seconds per step", [0.25, 0.5, 1.0, 2.0, 3.0], key=state.AR_SPEED)
    playing = bool(ss.get(state.AR_PLAY)) and not quiz_on
    st.fragment(run_every=ss[state.AR_SPEED] if playing else None)(_step_view)(problem, playing)


def _on_play(steps: int) -> None:
    cfg = st.session_state[state.AR_CFG]
    if st.session_state.get(state.AR_PLAY) and cfg.cell >= steps - 1:
        go_to(0)
    st.session_state[state.AR_LAST_TICK] = time.time()


def _client_view(problem: Problem) -> None:
    """A fragment: the browser stepper at the page's step, then what follows the step on the server. The
    browser's report of a new step reruns only this, and the stepper's data is the same cached payload."""
    ss = st.session_state
    k = min(ss[state.AR_CFG].cell, problem.steps - 1)
    if k != ss[state.AR_CFG].cell:
        go_to(k)
    sync_url(ss[state.AR_CFG])
    stepper_component.mount(problem, k)
    _jump_box(problem, k)
    mode_panels.backward_panel(problem, k)
    mode_panels.mix_sentence(problem, k)
    padded = problem.traces[problem.locate(k)[0]].padded
    _tables(problem, k, False, padded if padded.ndim == 2 else padded[0] if padded.shape[0] == 1 else None)


def _step_view(problem: Problem, playing: bool) -> None:
    ss = st.session_state
    cfg = ss[state.AR_CFG]
    n = problem.steps
    k = min(cfg.cell, n - 1)
    if playing and time.time() - ss.get(state.AR_LAST_TICK, 0.0) >= 0.8 * ss[state.AR_SPEED]:
        ss[state.AR_LAST_TICK] = time.time()
        if k < n - 1:
            k += 1
        else:  # the end: stop playing (the toggle is reset at the top of the next full run)
            ss[state.AR_STOP_PLAY] = True
            st.rerun(scope="app")
    if k != cfg.cell:
        go_to(k)
    cfg = ss[state.AR_CFG]
    sync_url(cfg)
    _step_controls(problem, k)
    _grids(problem, k)
    mode_panels.backward_panel(problem, k)
    mode_panels.mix_sentence(problem, k)


def _step_controls(problem: Problem, k: int) -> None:
    n = problem.steps
    row = st.container(horizontal=True, gap="small")  # natural widths, wrapping: in four columns a projector's
    cols = [row] * 4  # large type ran each button's key ("Home") over its label ("First")
    first, last = k == 0, k >= n - 1
    buttons = (  # label, icon, step, disabled, key, keyboard shortcut
        ("First", "first_page", 0, first, "ar_first", "Home"),
        ("Back", "chevron_left", k - 1, first, "ar_back", "Left"),
        ("Next", "chevron_right", k + 1, last, "ar_next", "Right"),
        ("Last", "last_page", n - 1, last, "ar_last", "End"),
    )
    for col, (label, icon, target, off, key, keys) in zip(cols, buttons, strict=True):
        col.button(
            label, icon=f":material/{icon}:", on_click=go_to, args=(target,), disabled=off, key=key, shortcut=keys
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
    st.caption("Keys: ← Back, → Next, Home First, End Last (while no text box has the focus).")
    _jump_box(problem, k)


def _jump_box(problem: Problem, k: int) -> None:
    m, r, c = problem.locate(k)
    names = problem.names
    article = "an" if names.cell_word[0] in "aeiou" else "a"
    with st.expander(f"Jump to {article} {names.cell_word} (or click one on the {names.output.format(m=m)} grid)"):
        a, b, d, e = st.columns(4)
        top = problem.maps - 1
        maps = a.number_input(names.map_word, 0, top, m, key="ar_jump_m") if problem.maps > 1 else 0
        row = int(b.number_input("row", 0, problem.out.shape[1] - 1, r, key="ar_jump_r"))
        col = int(d.number_input("column", 0, problem.out.shape[2] - 1, c, key="ar_jump_c"))
        e.button("Go to cell", on_click=_on_jump, args=(problem.out.shape,), key="ar_jump_go")
    del maps, row, col


def _on_jump(shape: tuple[int, int, int]) -> None:
    """Go to the cell typed in the jump boxes (read at click time, so the newest numbers count)."""
    ss = st.session_state
    m, r, c = (int(ss.get(key, 0)) for key in ("ar_jump_m", "ar_jump_r", "ar_jump_c"))
    m = min(m, shape[0] - 1) if shape[0] > 1 else 0
    go_to((m * shape[1] + min(r, shape[1] - 1)) * shape[2] + min(c, shape[2] - 1))


ROW_PX = 760  # the three grids share this width when side by side (a wider main area than 1280x800's)


def _cell_px(problem: Problem, padded: np.ndarray) -> int:
    """One cell size for the input, kernel and output grids, so that they fit side by side in ROW_PX."""
    k_w = problem.shown_kernels.shape[1 if problem.cfg.op == "conv1x1" else -1] if problem.kernels is not None else 0
    cells = padded.shape[-1] + k_w + problem.out.shape[2]
    return int(max(22, min(52, (ROW_PX - 3 * 50 - 2 * 16) // max(cells, 1))))


def _grids(problem: Problem, k: int) -> None:
    m, r, c = problem.locate(k)
    step = problem.traces[m].step_at(r, c)
    hidden = quiz_hidden(problem)
    padded = problem.traces[m].padded
    channels = list(range(padded.shape[0])) if padded.ndim == 3 else [m]
    grids = padded if padded.ndim == 3 else padded[None].repeat(problem.maps, axis=0)
    row_l, col_l = axis_labels(problem)
    circled = problem.circled(k)
    cell = _cell_px(problem, padded)
    # The grids side by side in a row that wraps: each keeps its own width, and one that does not fit
    # goes under the others (fixed 3:2:3 columns cut the kernel's last column at 1024x768, presenting).
    row = st.container(horizontal=True, gap="medium", key="ar_grid_row")
    in_col = row.container(width="content")
    k_col = row.container(width="content") if problem.kernels is not None else None
    out_col = row.container(width="content")
    with in_col:
        for ch in channels:
            title = input_title(problem, m, ch, len(channels))
            fig = plots.arithmetic_grid(
                grids[ch],
                title=title,
                padding=problem.padding_mask,
                dropped=problem.dropped,
                window=(step.rows, step.cols),
                kept=circled,
                row_labels=row_l,
                col_labels=col_l,
                max_px=cell * max(grids[ch].shape),
            )
            layout.chart(fig, width="content", key=f"ar_in_{ch}_{k}", config={"displayModeBar": False})
    if k_col is not None:
        with k_col:
            _kernel_grids(problem, m, cell)
    with out_col:
        _output_grid(problem, k, m, r, c, hidden, cell)
    st.caption(legend(problem, circled is not None))
    lines = problem.quiz_cell(k).text() if hidden else problem.equation(k)
    st.markdown(f"**{step_line(problem, k, hidden)}**")
    st.code("\n".join(lines), language=None, wrap_lines=True)
    if problem.is_pool and problem.padding_mask.any() and problem.cfg.pool in ("max", "min"):
        st.caption(
            f"Padding counts as {'-∞' if problem.cfg.pool == 'max' else '+∞'} in {problem.cfg.pool} pooling, so it never wins."
        )
    warning = None if hidden else notes_warning(problem, k)
    if warning:
        st.warning(warning)
    _tables(problem, k, hidden, grids[channels[0]] if len(channels) == 1 else None)


def _kernel_grids(problem: Problem, m: int, cell: int) -> None:
    """The kernel of map ``m``, one grid per channel (1x1 convolution: the whole weight matrix, row ``m`` outlined)."""
    names = problem.names
    if problem.cfg.op == "conv1x1":
        w = problem.shown_kernels[:, :, 0, 0]  # (M, C)
        fig = plots.arithmetic_grid(
            w, title="Weights (map × channel)", max_px=cell * max(w.shape), window=((m,), tuple(range(w.shape[1])))
        )
        layout.chart(fig, width="content", key=f"ar_k_w_{m}", config={"displayModeBar": False})
        st.caption(f"Row {m} mixes the pixel's channels into output map {m}.")
    else:
        kern = problem.shown_kernels[m]
        for ch in range(kern.shape[0]):
            title = names.kernel.format(m=m) + (f", {names.channel_word} {ch}" if kern.shape[0] > 1 else "")
            fig = plots.arithmetic_grid(kern[ch], title=title, max_px=cell * max(kern[ch].shape))
            layout.chart(
                fig,
                width="content",
                key=f"ar_k_{ch}_{m}",
                config={"displayModeBar": False},
            )
    if not problem.is_pool and problem.backward is None:
        st.caption(f"bias = {format_number(problem.biases[m])}" + (", then ReLU" if problem.cfg.relu else ""))


def _output_grid(problem: Problem, k: int, m: int, r: int, c: int, hidden: bool, cell: int) -> None:
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
    title = problem.names.output.format(m=m)
    fig = plots.arithmetic_grid(
        vals,
        title=title,
        current=(r, c),
        text=text,
        clickable=True,
        zrange=(float(problem.out.min()), float(problem.out.max())),
        max_px=cell * max(oh, ow),
    )
    key = f"ar_click_{m}_{k}"
    layout.chart(
        fig,
        width="content",
        key=key,
        on_select=lambda: _on_click(key, start, ow),
        selection_mode="points",
        config={"displayModeBar": False},
    )
    st.caption(f"Click a cell of {title} to jump to it." + (" ✓ right, ✗ wrong, ? not yet answered." if hidden else ""))


def _on_click(key: str, start: int, width: int) -> None:
    """A click on output cell (row, col): jump to that step (``start`` is the map's first step)."""
    event = st.session_state.get(key)
    points = (event or {}).get("selection", {}).get("points", [])
    if points:
        p = points[0]
        go_to(start + int(round(p["y"])) * width + int(round(p["x"])))


def _tables(problem: Problem, k: int, hidden: bool, padded: np.ndarray | None) -> None:
    """Every grid as a table of numbers; the current window is shown in [brackets]. Built only while its expander
    is open: three or more tables on every step cost a tenth of a step's server time (issue #15)."""
    box = st.expander("Read these grids as tables of numbers", key=state.AR_TABLES_OPEN, on_change="rerun")
    if not box.open:
        return
    m, r, c = problem.locate(k)
    step = problem.traces[m].step_at(r, c)
    with box:
        if padded is not None:
            rows, cols = set(step.rows), set(step.cols)
            cells = [
                [
                    ("[" + format_number(v) + "]") if i in rows and j in cols else format_number(v)
                    for j, v in enumerate(row)
                ]
                for i, row in enumerate(padded)
            ]
            st.caption("Padded input; the cells under the kernel are in [brackets]; 'p' rows/columns are padding.")
            row_l = _unique(labels(problem.padding_mask.all(axis=1)))
            col_l = _unique(labels(problem.padding_mask.all(axis=0)))
            st.dataframe(pd.DataFrame(cells, index=row_l, columns=col_l), key=f"ar_tab_in_{k}")
        if problem.shown_kernels is not None:
            for ch, kern in enumerate(problem.shown_kernels[m]):
                flipped = problem.transposed is not None or (problem.backward is not None and problem.cfg.wrt == "x")
                st.caption(f"Kernel, channel {ch}" + (" (flipped)" if flipped else ""))
                st.dataframe(pd.DataFrame([[format_number(v) for v in row] for row in kern]), key=f"ar_tab_k_{ch}_{k}")
        st.caption("Output so far" + (" (hidden in quiz mode)" if hidden else ""))
        oh, ow = problem.out.shape[1:]
        start = problem.index(m, 0, 0)
        out = [
            [
                "?" if hidden else format_number(problem.out[m, i, j]) if start + i * ow + j <= k else "·"
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
