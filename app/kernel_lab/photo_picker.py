"""The Kernel Lab's clickable photo: a Streamlit Components v2 component, mounted in the page (no
iframe, no bundle of its own to load), that shows the working copy with the kernel's window and
reports a click, a tap or an arrow key as the pixel of the photo it points at.

The picture arrives pre-encoded (:func:`app.kernel_lab.caches.input_picture`, as a ``data:`` address
made once per photo and window), and the browser swaps it only when it changed. The event goes to
:data:`app.state.KL_CLICK` in the shape :func:`app.kernel_lab.widgets.follow_click` reads.
"""

from __future__ import annotations

import streamlit as st

from app import components, state

_COMPONENT = components.register("convlab_kernel_lab_photo", __file__, "photo_picker")


def _on_click() -> None:
    """The learner clicked, tapped or moved the window by key: keep the event for :func:`follow_click`."""
    click = (st.session_state.get(state.KL_PHOTO_PICKER) or {}).get("click")
    if click:
        st.session_state[state.KL_CLICK] = dict(click)


def photo_picker(src: str, *, share: float, centre: tuple[float, float], step: int, alt: str) -> None:
    """Draw the photo (``src``, a data address) at ``share`` of its column's width.

    ``centre`` is the (row, col) of the photo under the window's middle and ``step`` the photo's
    pixels between two output cells (the stride): the arrow keys move the window from there.
    """
    data = {
        "src": src,
        "share": float(share),
        "centre": [float(centre[0]), float(centre[1])],
        "step": int(step),
        "alt": alt,
        "hint": "Click a pixel, or focus the photo and use the arrow keys, to see the sum behind it",
    }
    _COMPONENT(key=state.KL_PHOTO_PICKER, data=data, on_click_change=_on_click, width="stretch")
