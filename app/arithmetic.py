"""Arithmetic page widgets and rendering: settings, stepping, grids, quiz and comparisons.

The config and the problem they render come from :mod:`app.arithmetic_problem`; figures from
:mod:`app.plots`; every number from :mod:`cnn_core`.
"""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np
import pandas as pd
import streamlit as st

from app import plots, state
from app.arithmetic_problem import (
    DEFAULT_CONFIG,
    MAX_CHANNELS,
    MAX_INPUT_SIDE,
    MAX_KERNEL_SIDE,
    MAX_KERNELS,
    OPERATIONS,
    PADDINGS,
    POOLS,
    QUIZ_MAX_SIDE,
    QUIZ_MODES,
    ArithmeticConfig,
    Problem,
    ProblemError,
    build_problem,
    config_from_example,
    config_from_exercise,
    example_is_unchanged,
    matrix_text,
    parse_matrix,
    pool_vs_conv,
)
from cnn_core import kernels as kernel_presets
from cnn_core import ops, quiz
from cnn_core.worked_examples import EXAMPLES, discrepancies

__all__ = ["ProblemError", "build_problem"]  # re-exported for the page


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
