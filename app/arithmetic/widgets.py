"""The Arithmetic page's widgets: the config read from the URL and kept in the session, the settings
and quiz sidebars, and the callbacks that load examples, presets, random inputs and exercises.
"""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np
import streamlit as st

from app import state
from app.arithmetic.config import (
    DEFAULT_CONFIG,
    MAX_CHANNELS,
    MAX_INPUT_SIDE,
    MAX_KERNEL_SIDE,
    MAX_KERNELS,
    NEW_MODES,
    OPERATIONS,
    PADDINGS,
    POOLS,
    QUIZ_MODES,
    STAGES,
    WRT,
    ArithmeticConfig,
    config_from_example,
    config_from_exercise,
    matrix_text,
    starter,
)
from cnn_core import kernels as kernel_presets
from cnn_core import quiz
from cnn_core.numbers import parse_matrix
from cnn_core.worked_examples import EXAMPLES

W = state.AR_SETTINGS_PREFIX
Q = state.AR_ANSWER_PREFIX
NO_EXAMPLE = "(your own numbers)"
NO_PRESET = "(choose one)"  # short: a longer one was cut in the sidebar at every size


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


def init_widget(key: str, value: object) -> None:
    """Give widget ``key`` its starting value once (Streamlit then keeps what the user sets)."""
    if key not in st.session_state:
        st.session_state[key] = value


def _on_example() -> None:
    name = st.session_state[W + "example"]
    cfg = st.session_state[state.AR_CFG]
    _reload(config_from_example(EXAMPLES[name], cfg) if name in EXAMPLES else replace(cfg, example=""))


def _on_op() -> None:
    """Entering one of the later modes opens its starter numbers; leaving one opens an example of the new operation."""
    ss = st.session_state
    cfg, op = ss[state.AR_CFG], ss[W + "op"]
    if op in NEW_MODES:
        new = starter(op)
    elif cfg.op in NEW_MODES:
        ex = next((e for e in EXAMPLES.values() if e.operation == op), None)
        new = config_from_example(ex) if ex is not None else replace(DEFAULT_CONFIG, op=op)
    else:
        return
    _reload(replace(new, quiz=cfg.quiz, seed=cfg.seed))


def _on_preset() -> None:
    name = st.session_state[W + "preset"]
    if name not in kernel_presets.PRESETS:
        return
    cfg = st.session_state[state.AR_CFG]
    try:
        channels = parse_matrix(cfg.x, max_side=64, max_channels=MAX_CHANNELS, what="input").shape[0]
    except ValueError:
        channels = 1
    k = np.repeat(kernel_presets.PRESETS[name].kernel[None], channels if cfg.op != "conv1d" else 1, axis=0)
    _reload(replace(cfg, kernels=(matrix_text(k),) + cfg.kernels[1:], example=""))


def _on_random() -> None:
    ss = st.session_state
    cfg = ss[state.AR_CFG]
    rng = np.random.default_rng(int(time.time() * 1000) % 2**32)
    c, h, w = ss.get(W + "rand_c", 1), ss.get(W + "rand_h", 6), ss.get(W + "rand_w", 6)
    if cfg.op == "conv3d":  # a volume deeper than the kernel, so the kernel has room to slide in depth
        try:
            kd = parse_matrix(cfg.kernels[0], max_side=MAX_KERNEL_SIDE, max_channels=MAX_CHANNELS, what="kernel").shape[
                0
            ]
        except ValueError:
            kd = 1
        c = min(max(c, kd + 1), MAX_CHANNELS)
    if cfg.op == "conv1d":
        x = rng.integers(0, 10, size=(1, c, w))
    else:
        x = rng.integers(0, 10, size=(c, h, w))
    kernels = cfg.kernels
    if cfg.op == "conv1x1":
        kernels = tuple(" ".join(["1"] * c) for _ in cfg.kernels)
    if cfg.op in ("conv2d", "transposed", "backward", "chain"):  # keep the kernels usable: one slice per channel
        try:
            first = parse_matrix(cfg.kernels[0], max_side=MAX_KERNEL_SIDE, max_channels=MAX_CHANNELS, what="kernel")[0]
        except ValueError:
            first = np.array([[1.0, 0, -1]] * 3)
        kernels = tuple(matrix_text(np.repeat(first[None], c, axis=0)) for _ in cfg.kernels)
    _reload(replace(cfg, x=matrix_text(x), kernels=kernels, example="", cell=0, grad=""))


def _on_new_exercise() -> None:
    cfg = st.session_state[state.AR_CFG]
    seed = int(np.random.default_rng().integers(1, 10**6))
    _reload(config_from_exercise(quiz.make_exercise(seed), cfg))


def _pair_inputs(
    label: str, keys: tuple[str, str], values: tuple[int, int], lo: int, hi: int, one_d: bool
) -> tuple[int, int]:
    if one_d:
        init_widget(keys[1], values[1])
        return values[0], int(st.number_input(label, lo, hi, key=keys[1]))
    a, b = st.columns(2)
    init_widget(keys[0], values[0])
    init_widget(keys[1], values[1])
    return (
        int(a.number_input(f"{label} (height)", lo, hi, key=keys[0])),
        int(b.number_input(f"{label} (width)", lo, hi, key=keys[1])),
    )


def settings(cfg: ArithmeticConfig) -> ArithmeticConfig:
    """The settings sidebar; returns the config the widgets now describe."""
    names = [NO_EXAMPLE, *EXAMPLES]
    init_widget(W + "example", cfg.example if cfg.example in EXAMPLES else NO_EXAMPLE)
    # On the page, not in the sidebar: a 300-pixel sidebar cut "6x6 vertical edge, stride 1" on a projector.
    st.selectbox("Worked example (course notes)", names, key=W + "example", on_change=_on_example)
    with st.sidebar:
        st.subheader("Arithmetic settings")
        init_widget(W + "op", cfg.op)
        op = st.radio("Operation", list(OPERATIONS), format_func=OPERATIONS.get, key=W + "op", on_change=_on_op)
        one_d = op == "conv1d"
        help_x = (
            "One channel per line, values separated by spaces."
            if one_d
            else "One row per line, values separated by spaces or commas; separate channels with a blank line."
        )
        if op == "conv3d":
            help_x = "A volume: one depth slice after another, each as rows on lines, slices separated by a blank line."
        init_widget(W + "x", cfg.x)
        label_x = {"conv1d": "Series", "conv3d": "Input volume (depth slices)", "backward": "Input x"}.get(op, "Input")
        x = st.text_area(label_x, key=W + "x", height=150, help=help_x)
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
        if op in ("backward", "chain"):
            new.update(_mode_widgets(cfg, op))
        elif op == "pool":
            init_widget(W + "pool", cfg.pool)
            pool = st.selectbox("Pooling", list(POOLS), format_func=POOLS.get, key=W + "pool")
            new["pool"] = pool
            if pool in ("gmax", "gavg"):
                st.caption("Global pooling: one window covers the whole input, so each channel gives one number.")
            else:
                new["pool_size"] = _pair_inputs("Window", (W + "ph", W + "pw"), cfg.pool_size, 1, 9, False)
        if op == "conv1x1":
            st.caption("A 1x1 kernel looks at one pixel at a time: stride 1, no padding, no dilation.")
        elif op != "pool" or new.get("pool") not in ("gmax", "gavg"):
            if op == "conv3d":
                st.caption("Depth uses the height's stride, dilation and padding.")
            new["stride"] = _pair_inputs("Stride", (W + "sh", W + "sw"), cfg.stride, 0, 8, one_d)
            if op != "pool":
                new["dilation"] = _pair_inputs("Dilation", (W + "dh", W + "dw"), cfg.dilation, 1, 4, one_d)
            new.update(_padding_widgets(cfg, op, one_d))
        if op not in ("pool", "backward"):
            init_widget(W + "relu", cfg.relu)
            new["relu"] = st.checkbox("ReLU between" if op == "chain" else "ReLU after the bias", key=W + "relu")
    out = replace(cfg, **new)  # type: ignore[arg-type]
    if out.op != cfg.op:
        out = replace(out, cell=0)
    st.session_state[state.AR_CFG] = out
    return out


def _mode_widgets(cfg: ArithmeticConfig, op: str) -> dict:
    """The backward pass's upstream gradient and which gradient to step; the chain's pooling and stage."""
    if op == "backward":
        init_widget(W + "grad", cfg.grad)
        grad = st.text_area(
            "Upstream gradient dL/dy", key=W + "grad", height=90, help="One value per output cell; empty: all ones."
        )
        init_widget(W + "wrt", cfg.wrt)
        wrt = st.radio("Step through", list(WRT), format_func=WRT.get, key=W + "wrt")
        return {"grad": grad, "wrt": wrt}
    pools = {k: POOLS[k] for k in ("max", "avg", "min", "sum")}
    init_widget(W + "pool", cfg.pool if cfg.pool in pools else "max")
    pool = st.selectbox("Pooling", list(pools), format_func=pools.get, key=W + "pool")
    size = _pair_inputs("Pool window", (W + "ph", W + "pw"), cfg.pool_size, 1, 9, False)
    pool_stride = _pair_inputs("Pool stride", (W + "qh", W + "qw"), cfg.pool_stride, 1, 8, False)
    init_widget(W + "stage", cfg.stage)
    stage = st.radio("Step through stage", list(STAGES), format_func=STAGES.get, key=W + "stage")
    return {"pool": pool, "pool_size": size, "pool_stride": pool_stride, "stage": stage}


def _kernel_widgets(cfg: ArithmeticConfig, op: str) -> dict:
    if op not in ("conv1d", "conv1x1", "conv3d"):
        init_widget(W + "preset", NO_PRESET)
        st.selectbox(
            "Kernel preset (loads into kernel 1)",
            [NO_PRESET, *kernel_presets.PRESETS],
            key=W + "preset",
            on_change=_on_preset,
        )
    m = 1
    if op in ("conv2d", "conv1x1"):
        init_widget(W + "nk", len(cfg.kernels))
        what = "output maps" if op == "conv1x1" else "kernels (feature maps)"
        m = int(st.number_input(f"Number of {what}", 1, MAX_KERNELS, key=W + "nk"))
    texts, biases = [], []
    for i in range(m):
        init_widget(W + f"k{i}", cfg.kernels[i] if i < len(cfg.kernels) else cfg.kernels[0])
        init_widget(W + f"b{i}", float(cfg.biases[i]) if i < len(cfg.biases) else 0.0)
        label = f"Kernel {i}" if m > 1 else "Kernel"
        help_k = "Same layout as the input; one slice per input channel."
        if op == "conv1x1":
            label, help_k = f"Weights of output map {i}", "One row: one weight per input channel."
        elif op == "conv3d":
            help_k = "Depth slices separated by a blank line; fewer slices than the volume, so it slides in depth too."
        texts.append(st.text_area(label, key=W + f"k{i}", height=70 if op == "conv1x1" else 110, help=help_k))
        biases.append(float(st.number_input(f"Bias {i}" if m > 1 else "Bias", step=0.5, key=W + f"b{i}")))
    return {"kernels": tuple(texts), "biases": tuple(biases)}


def _padding_widgets(cfg: ArithmeticConfig, op: str, one_d: bool) -> dict:
    if op == "transposed":
        p = _pair_inputs("Padding p (cropped)", (W + "pt", W + "pl"), (cfg.pad[0], cfg.pad[2]), -2, 8, False)
        o = _pair_inputs("Output padding", (W + "oh", W + "ow"), cfg.out_pad, 0, 4, False)
        return {"pad": (p[0], p[0], p[1], p[1]), "padding": "custom", "out_pad": o}
    init_widget(W + "pad", cfg.padding)
    mode = st.selectbox("Padding", list(PADDINGS), format_func=PADDINGS.get, key=W + "pad")
    pad = cfg.pad
    if mode == "custom":
        sides = (("left", 2), ("right", 3)) if one_d else (("top", 0), ("bottom", 1), ("left", 2), ("right", 3))
        cols = st.columns(len(sides))
        values = list(pad)
        for col, (name, i) in zip(cols, sides, strict=True):
            init_widget(W + f"p{name}", pad[i])
            values[i] = int(col.number_input(name, -2, 8, key=W + f"p{name}"))
        pad = tuple(values)
    return {"padding": mode, "pad": pad}


def quiz_controls(cfg: ArithmeticConfig) -> ArithmeticConfig:
    """Quiz mode selector and the New exercise button (in the sidebar, under the settings)."""
    with st.sidebar:
        st.subheader("Quiz")
        init_widget(W + "quiz", cfg.quiz)
        mode = st.radio("Quiz mode", list(QUIZ_MODES), format_func=QUIZ_MODES.get, key=W + "quiz")
        st.button("New random exercise", on_click=_on_new_exercise, key="ar_new_ex", icon=":material/casino:")
    if mode != cfg.quiz:
        for key in (state.AR_CHECKED, state.AR_REVEAL):
            st.session_state.pop(key, None)
        cfg = replace(cfg, quiz=mode)
        st.session_state[state.AR_CFG] = cfg
    return cfg
