"""The link of "Inside the model": which view (tab) and which image are open, in the address bar.

``?tab=saliency&image=12`` opens Saliency & Grad-CAM on test image 12; ``image=upload`` and
``image=draw`` open the uploader and the canvas (the upload or drawing itself is the student's and
stays out of the link). :func:`follow_link` puts a link's choice into the widgets before they are
drawn: when the page opens with it, or when the address changed from outside; with no link it
brings back the view the student left on this page. :func:`publish` keeps the address in step.
A part of a link that cannot be followed leaves a sentence (:func:`link_note`) and the default.
"""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

from app import state

TAB_PARAM, IMAGE_PARAM = "tab", "image"
TABS = {  # tab label -> its word in the link
    "Feature maps": "maps",
    "Learned kernels": "kernels",
    "Over time": "time",
    "Confusion matrix": "confusion",
    "Mistakes": "mistakes",
    "Saliency & Grad-CAM": "saliency",
    "Predict": "predict",
}
LABELS = {word: label for label, word in TABS.items()}
TEST, UPLOAD, DRAW = "Test image", "Upload", "Draw"


def _link_now() -> dict[str, str]:
    return {k: st.query_params[k] for k in (TAB_PARAM, IMAGE_PARAM) if k in st.query_params}


def follow_link(n_test: int, sources: Sequence[str]) -> None:
    """Before the picker and the tabs are drawn: a link's tab and image into their state."""
    ss = st.session_state
    link, kept = _link_now(), ss.get(state.IN_LINK)
    if link and link != kept:
        notes = _apply(link, n_test, sources)
        if notes:
            ss[state.IN_LINK_NOTE] = " ".join(notes)
    elif not link and kept and state.IN_TAB not in ss:  # back on this page: Streamlit forgot its widgets
        _apply(kept, n_test, sources)


def _apply(link: dict[str, str], n_test: int, sources: Sequence[str]) -> list[str]:
    """Set the widgets' state from a link; the sentences for the parts that could not be followed."""
    ss = st.session_state
    notes = []
    if (tab := link.get(TAB_PARAM)) is not None:
        label = LABELS.get(tab.strip().lower())
        if label is None:
            notes.append(f"The link names a view “{tab}” this page does not have, so Feature maps is shown.")
        ss[state.IN_TAB] = label or next(iter(TABS))
    if (image := link.get(IMAGE_PARAM)) is None:
        return notes
    word = image.strip().lower()
    if word in (UPLOAD.lower(), DRAW.lower()):
        source = UPLOAD if word == UPLOAD.lower() else DRAW
        if source not in sources:
            notes.append("Uploads are switched off for this class, so a test image is shown.")
            source = TEST
        ss[state.IN_SOURCE] = source
        return notes
    ss[state.IN_SOURCE] = TEST
    try:
        i = int(word)
    except ValueError:
        notes.append(
            f"The link's image “{image}” is not a test image number, “upload” or “draw”; test image 0 is shown."
        )
        ss[state.IN_TEST_INDEX] = 0
        return notes
    shown = min(max(i, 0), n_test - 1)
    if shown != i:
        notes.append(
            f"The link asks for test image {i}, but this test set has {n_test:,} images (0 to {n_test - 1}); "
            f"image {shown} is shown."
        )
    ss[state.IN_TEST_INDEX] = shown
    return notes


def link_note() -> None:
    """The sentence about a link that could not be followed in full, shown once."""
    if note := st.session_state.pop(state.IN_LINK_NOTE, None):
        st.warning(note, icon=":material/link_off:")


def publish(tab_label: str) -> None:
    """Keep the address bar equal to the view on screen: its tab and its image."""
    ss = st.session_state
    source = ss.get(state.IN_SOURCE, TEST)
    image = str(int(ss.get(state.IN_TEST_INDEX, 0))) if source == TEST else source.lower()
    wanted = {TAB_PARAM: TABS.get(tab_label, next(iter(TABS.values()))), IMAGE_PARAM: image}
    ss[state.IN_LINK] = wanted
    for k, v in wanted.items():
        if st.query_params.get(k) != v:
            st.query_params[k] = v
