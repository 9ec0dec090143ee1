"""The image being looked at: a test image, an upload or a drawing, and what the model says about it.

Feature maps, saliency and the prediction are all about the :class:`Chosen` image; an upload or
a drawing is made to look like the training data by :func:`cnn_core.inspection.preprocess`.
The choices offered are the page's (:func:`sources`): no Upload when the instructor switched uploads off.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import streamlit as st
import torch

from app import pictures, state
from app.inside.view import View
from cnn_core import data as datasets
from cnn_core import images, inspection

SOURCES = ("Test image", "Upload", "Draw")
NO_UPLOADS = ("Test image", "Draw")
UPLOAD_TYPES = ["png", "jpg", "jpeg", "webp", "bmp", "gif", "tif", "tiff"]


@dataclass(frozen=True, eq=False)
class Chosen:
    """The image the feature maps, saliency and prediction are about."""

    label: str  # e.g. "Test image 12" or "Your drawing"
    x: torch.Tensor  # (1, C, H, W) normalised model input
    picture: np.ndarray  # float [0, 1] (H, W) or (H, W, 3): the input before normalising
    true: int | None  # the label, for test images
    pre: inspection.Preprocessed | None  # the preprocessing stages, for uploads and drawings


def _random_test(n: int) -> None:
    st.session_state[state.IN_TEST_INDEX] = int(np.random.default_rng().integers(n))


def _from_test(data: datasets.ImageSet, i: int) -> Chosen:
    x = data.normalize(data.x_test[i : i + 1])
    return Chosen(f"Test image {i}", x, inspection.picture_of(data, i), int(data.y_test[i]), None)


def _uploaded() -> np.ndarray | None:
    f = st.file_uploader("Upload an image", type=UPLOAD_TYPES, key="in_upload")
    if f is None:
        return None
    if f.size > images.MAX_BYTES:
        st.error(f"The file is {f.size / 1e6:.1f} MB; ConvLab accepts images up to {images.MAX_BYTES / 1e6:.0f} MB.")
        return None
    try:
        loaded = images.load_image(f.getvalue())
    except images.ImageError as err:
        st.error(f"{f.name}: {err}", icon=":material/broken_image:")
        return None
    for note in loaded.notes:
        st.caption(note)
    return loaded.pixels


def _drawn() -> np.ndarray | None:
    try:  # imported here: the component registers itself with a running Streamlit server
        from streamlit_drawable_canvas import st_canvas
    except Exception:  # not installed, or a version that does not fit this Streamlit
        st.warning("Drawing needs the streamlit-drawable-canvas package, which is not available here.")
        return None
    st.space("small")  # room for the canvas's toolbar, which floats above it
    result = st_canvas(stroke_width=18, stroke_color="#000000", background_color="#FFFFFF", width=280, height=280,
                       key="in_canvas", return_image_data=True)  # fmt: skip
    st.caption("Draw one digit, large, with the mouse or a finger; the arrow icons undo, the bin icon clears.")
    return inspection.drawing_pixels(result.image_data)


def sources(uploads: bool) -> tuple[str, ...]:
    """The image choices: Upload only where the class allows uploads (Draw always)."""
    return SOURCES if uploads else NO_UPLOADS


def image_picker(view: View, choices: tuple[str, ...] = SOURCES) -> Chosen:
    """Choose the image (test set, upload or drawing, among ``choices``) and show what the model sees and says."""
    data = view.bundle.data
    n = int(data.x_test.shape[0])
    if st.session_state.get(state.IN_SOURCE, choices[0]) not in choices:  # uploads were switched off meanwhile
        st.session_state[state.IN_SOURCE] = choices[0]
    left, right = st.columns([3, 2], gap="large")
    with left:
        source = st.radio("Image to look at", choices, horizontal=True, key=state.IN_SOURCE)
        st.session_state.setdefault(state.IN_TEST_INDEX, 0)
        st.session_state[state.IN_TEST_INDEX] = min(int(st.session_state[state.IN_TEST_INDEX]), n - 1)
        index = st.session_state[state.IN_TEST_INDEX]
        chosen: Chosen | None = None
        if source == "Test image":
            # A row that wraps, not columns: in a third of the width the button's label ran out of it on a projector.
            with st.container(horizontal=True, vertical_alignment="bottom"):
                st.number_input(f"Test image number (0 to {n - 1})", 0, n - 1, key=state.IN_TEST_INDEX, width=310)
                st.button("Random", key="in_random", on_click=_random_test, args=(n,), icon=":material/casino:")
        else:
            raw = _uploaded() if source == "Upload" else _drawn()
            a, b = st.columns(2)
            invert = a.radio("Invert colours", ["auto", "yes", "no"], horizontal=True, key="in_invert",
                             format_func={"auto": "Automatic", "yes": "Invert", "no": "Don't invert"}.get,
                             help="MNIST digits are white on black; a drawing is usually black on white.")  # fmt: skip
            centre = b.checkbox("Crop and centre like MNIST", value=True, key="in_centre",
                                disabled=data.input_shape[0] != 1)  # fmt: skip
            if raw is None:
                what = "Upload an image" if source == "Upload" else "Draw a digit on the canvas"
                st.info(f"{what}; until then the test image {index} is shown.")
            else:
                try:
                    pre = inspection.preprocess(raw, data, invert=invert, centre=centre and data.input_shape[0] == 1)
                except ValueError as err:
                    st.warning(f"{err} Showing test image {index} instead.")
                else:
                    label = "Your drawing" if source == "Draw" else "Your upload"
                    chosen = Chosen(label, pre.x, pre.stages[-2].image, None, pre)
        if chosen is None:
            chosen = _from_test(data, int(st.session_state[state.IN_TEST_INDEX]))
    with right:
        probs = inspection.predict_proba(view.model, chosen.x)
        k = int(np.argmax(probs))
        c, h, w = data.input_shape
        picture = pictures.enlarge(pictures.picture_u8(chosen.picture), 168)
        st.image(picture, caption=f"What the model sees: {chosen.label}, {w}x{h} px", alt=chosen.label)
        verdict = f"The model says **{data.classes[k]}** ({probs[k]:.1%} sure)."
        if chosen.true is not None:
            right_or_wrong = "right" if k == chosen.true else "wrong"
            verdict += f" The true class is **{data.classes[chosen.true]}**: {right_or_wrong}."
        st.markdown(verdict)
    return chosen
