"""What the Kernel Lab keeps beyond one session: the learner's custom kernel in their workspace,
the custom kernel and the inspected pixel in the link, and what the instructor allows (uploads,
the camera).

The kernel is saved on every valid change; a kernel opened from a link is shown without replacing
the saved one until the learner changes it. A store that cannot be read or written costs a
sentence (once) and the page goes on with what the session has.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import streamlit as st

from app import state
from app.kernel_lab.model import (
    CUSTOM,
    KERNEL_PARAM,
    PIXEL_PARAM,
    KernelLabConfig,
    kernel_from_text,
    kernel_text,
    pixel_from_text,
    pixel_text,
)
from app.workspace import ClassSettings, StoreError, identity

KIND = "kernel"  # the workspace item: {"kernel": "1,0,-1;2,0,-2;1,0,-1"}


_tell = identity.tell_once
_with_store = identity.with_store


def class_settings() -> ClassSettings:
    """The instructor's settings now (read on every run, so a change shows on the next rerun)."""
    try:
        return identity.classroom().settings()
    except StoreError as err:
        _tell(err)
        return ClassSettings()


def set_custom_kernel(kernel: np.ndarray) -> None:
    """Put ``kernel`` into the custom kernel editor (its grid, rows and columns)."""
    ss = st.session_state
    ss[state.KL_CUSTOM_KERNEL] = kernel
    ss[state.KL_ROWS], ss[state.KL_COLS] = kernel.shape
    ss[state.KL_GRID_BASE] = kernel
    ss[state.KL_GRID_VERSION] = ss.get(state.KL_GRID_VERSION, 0) + 1


def _saved_kernel() -> np.ndarray | None:
    value = _with_store(lambda s, ws: s.get_item(ws, KIND), None)
    if not isinstance(value, dict) or not isinstance(value.get("kernel"), str):
        return None
    try:
        return kernel_from_text(value["kernel"])
    except ValueError:
        return None  # written by another version, or damaged: the default kernel instead


def restore(params: dict[str, str], cfg: KernelLabConfig) -> KernelLabConfig:
    """First run of a session: the custom kernel from the link, else the learner's saved one, and
    the inspected pixel from the link. A link's kernel without a ``preset`` opens the Custom editor."""
    ss = st.session_state
    ss[state.KL_LINK_ERRORS] = []
    linked = None
    if KERNEL_PARAM in params:
        try:
            linked = kernel_from_text(params[KERNEL_PARAM])
        except ValueError as err:
            ss[state.KL_LINK_ERRORS].append(f"{err} The link's custom kernel is not used.")
    kernel = linked if linked is not None else _saved_kernel()
    if kernel is not None:
        set_custom_kernel(kernel)
        ss[state.KL_KERNEL_KEPT] = kernel_text(kernel)  # shown as it is kept (or linked): not a change
        ss[state.KL_KERNEL_RESTORED] = linked is None
        if linked is not None and "preset" not in params:
            cfg = replace(cfg, preset=CUSTOM)
    if PIXEL_PARAM in params:
        try:
            ss[state.KL_ROW], ss[state.KL_COL] = pixel_from_text(params[PIXEL_PARAM])
        except ValueError as err:
            ss[state.KL_LINK_ERRORS].append(f"{err} Showing the middle pixel instead.")
    return cfg


def keep_kernel() -> None:
    """Save the custom kernel to the workspace when it differs from the one kept (or linked)."""
    ss = st.session_state
    text = kernel_text(ss[state.KL_CUSTOM_KERNEL])
    if ss.get(state.KL_KERNEL_KEPT) == text:
        return
    ss[state.KL_KERNEL_KEPT] = text  # set first: a failing store is told once, not on every rerun
    ss[state.KL_KERNEL_RESTORED] = False
    _with_store(lambda s, ws: s.put_item(ws, KIND, "", {"kernel": text}), None)


def link_extras(cfg: KernelLabConfig) -> dict[str, str]:
    """The link's parameters beyond the config: the custom kernel (when it is used) and the pixel."""
    extras = {}
    if cfg.preset == CUSTOM and state.KL_CUSTOM_KERNEL in st.session_state:
        extras[KERNEL_PARAM] = kernel_text(st.session_state[state.KL_CUSTOM_KERNEL])
    if PIXEL_PARAM in st.query_params:
        extras[PIXEL_PARAM] = st.query_params[PIXEL_PARAM]
    return extras


def publish_pixel(out_shape: tuple[int, ...]) -> None:
    """Put the inspected pixel in the link, unless it is the middle one the page starts on."""
    row, col = int(st.session_state[state.KL_ROW]), int(st.session_state[state.KL_COL])
    if (row, col) == (out_shape[0] // 2, out_shape[1] // 2):
        if PIXEL_PARAM in st.query_params:
            del st.query_params[PIXEL_PARAM]
    elif st.query_params.get(PIXEL_PARAM) != pixel_text(row, col):
        st.query_params[PIXEL_PARAM] = pixel_text(row, col)
