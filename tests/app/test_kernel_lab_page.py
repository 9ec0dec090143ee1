"""AppTest of the Kernel Lab: each control, the numbers shown, and bad input through the page."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from cnn_core.numbers import format_number

ROOT = Path(__file__).resolve().parents[2]
PAGE = str(ROOT / "app_pages" / "kernel_lab.py")


@pytest.fixture
def at() -> AppTest:
    app = AppTest.from_file(PAGE, default_timeout=60)
    app.run()
    assert not app.exception
    return app


def codes(app: AppTest) -> str:
    return "\n".join(c.value for c in app.code)


def test_defaults_show_sobel_x_on_the_cameraman(at):
    assert at.selectbox(key="kl_preset").value == "Sobel x"
    assert "vertical edges" in " ".join(m.value for m in at.markdown)
    # Cameraman is 512x512, same padding, stride 1: both axes 512.
    assert "Height: floor((512 + 2*1 - 1*(3 - 1) - 1) / 1) + 1 = floor(511 / 1) + 1 = 511 + 1 = 512" in codes(at)
    assert any("Output size: 512 x 512 in, 512 x 512 out" in e.label for e in at.expander)


def test_stride_valid_padding_and_dilation_change_the_formula(at):
    at.number_input(key="kl_stride").set_value(2)
    at.selectbox(key="kl_padding").set_value("valid")
    at.number_input(key="kl_dilation").set_value(2)
    at.run()
    assert not at.exception
    # floor((512 - 2*(3-1) - 1)/2) + 1 = floor(507/2) + 1 = 254
    assert "floor((512 + 2*0 - 2*(3 - 1) - 1) / 2) + 1 = floor(507 / 2) + 1 = 253 + 1 = 254" in codes(at)
    assert any("dropped" in c.value for c in at.caption)
    assert at.query_params["stride"] == "2" and at.query_params["padding"] == "valid"


def test_custom_padding_and_padding_mode(at):
    at.selectbox(key="kl_padding").set_value("custom")
    at.run()
    at.number_input(key="kl_custom_padding").set_value(3)
    at.selectbox(key="kl_padding_mode").set_value("reflect")
    at.run()
    assert not at.exception
    assert "floor((512 + 2*3 - 1*(3 - 1) - 1) / 1) + 1" in codes(at)


@pytest.mark.parametrize("preset", ["Gaussian blur 5x5", "Sobel magnitude", "Vertical line 7x7", "Emboss"])
def test_presets_render_their_matrix_and_sentence(at, preset):
    at.selectbox(key="kl_preset").set_value(preset)
    at.run()
    assert not at.exception
    from cnn_core.kernels import PRESETS

    assert PRESETS[preset].description in [m.value for m in at.markdown]


def test_inspector_shows_the_sum_for_a_chosen_pixel(at):
    at.selectbox(key="kl_preset").set_value("Box blur")
    at.number_input(key="kl_row").set_value(0)
    at.number_input(key="kl_col").set_value(0)
    at.run()
    assert not at.exception
    text = " ".join(m.value for m in at.markdown)
    from cnn_core.images import load_image, sample_bytes

    gray = load_image(sample_bytes("Cameraman"), mode="gray").pixels * 255
    expected = gray[:2, :2].sum() / 9  # the corner window holds 4 pixels and 5 padding zeros
    assert f"**Sum** of the products = **{format_number(expected)}** (crossed cells are padding)" in text


def test_rgb_mode_offers_a_channel(at):
    at.selectbox(key="kl_sample").set_value("Astronaut")
    at.radio(key="kl_color").set_value("rgb")
    at.run()
    assert not at.exception
    assert at.selectbox(key="kl_channel").options == ["R", "G", "B"]


def test_display_choice_is_explained(at):
    at.radio(key="kl_display").set_value("stretch")
    at.run()
    assert any("smallest output value becomes black" in c.value for c in at.caption)


def test_the_display_radio_keeps_its_labels_and_says_what_automatic_chose(at):
    """A label that followed the kernel made a new widget each time, and the radio went blank."""
    labels = at.radio(key="kl_display").options
    assert any("Automatic chose *signed colours*" in c.value for c in at.caption)  # Sobel x on grayscale
    at.selectbox(key="kl_preset").set_value("Vertical line 7x7")
    at.run()
    assert at.radio(key="kl_display").options == labels and at.radio(key="kl_display").value == "auto"
    assert any("Automatic chose *stretch min–max*" in c.value for c in at.caption)  # all-positive: not signed
    assert any("**Feature map** (512 x 512)" in c.value for c in at.caption)


def test_pictures_are_drawn_at_one_scale_and_a_tall_photo_gets_a_spacer():
    from app.kernel_lab import picture_layout

    assert picture_layout((300, 600), (150, 300)) == ([600.0, 600.0], 1.0, 0.5)  # stride 2: the map half as wide
    assert picture_layout((300, 600), (320, 620)) == ([620.0, 620.0], 600 / 620, 1.0)  # padding past "same"
    (a, b, spacer), photo, fmap = picture_layout((600, 300), (600, 300))  # a portrait photo
    assert a == b == 300.0 and photo == fmap == 1.0 and 600 / (a + b + spacer) == pytest.approx(0.45)
