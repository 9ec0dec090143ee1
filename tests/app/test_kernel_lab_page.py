"""AppTest of the Kernel Lab: each control, the numbers shown, and bad input through the page."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from app import state
from cnn_core.numbers import format_number
from tests.helpers import FreshWorkspace

ROOT = Path(__file__).resolve().parents[2]
PAGE = str(ROOT / "app_pages" / "kernel_lab.py")


@pytest.fixture
def at() -> AppTest:
    app = AppTest.from_file(PAGE, default_timeout=60)
    app.run()
    assert not app.exception
    return app


def codes(app: AppTest) -> str:
    """The page's monospace lines (st.text: the Kernel Lab loads no code highlighter, issue #15)."""
    assert not app.code
    return "\n".join(c.value for c in app.text)


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


def test_kernel_larger_than_input_is_a_message_not_a_crash(at):
    _upload(at, png(np.zeros((8, 8), np.uint8)), "tiny.png")
    at.selectbox(key="kl_preset").set_value("Vertical line 7x7")
    at.selectbox(key="kl_padding").set_value("valid")
    at.number_input(key="kl_dilation").set_value(2)  # 7 taps spread over 13 cells > 8 pixels
    at.run()
    assert not at.exception
    assert any("larger than the padded input" in e.value and "13 cells" in e.value for e in at.error)
    assert not any("**Feature map** (" in c.value for c in at.caption)  # stopped before drawing anything
    at.number_input(key="kl_dilation").set_value(1)
    at.run()
    assert not at.error and any("Output size: 8 x 8 in, 2 x 2 out" in e.label for e in at.expander)


def test_a_click_on_the_photo_inspects_the_pixel_under_it(at):
    # The 512 x 512 Cameraman is drawn 440 x 440: screen point (100, 50) is pixel (58, 116).
    at.session_state[state.KL_CLICK] = {"x": 100, "y": 50, "width": 440, "height": 440, "unix_time": 1}
    at.run()
    assert (at.number_input(key="kl_row").value, at.number_input(key="kl_col").value) == (58, 116)
    at.number_input(key="kl_row").set_value(3).run()  # the same click is not followed twice
    assert at.number_input(key="kl_row").value == 3


def test_custom_kernel_paste_good_and_bad_keeps_the_last_good_one(at):
    at.selectbox(key="kl_preset").set_value("Custom…")
    at.run()
    at.text_area(key="kl_paste").set_value("1 0 -1\n2 0 -2\n1 0 -1")
    at.button(key="kl_paste_apply").click()
    at.run()
    assert not at.exception
    np.testing.assert_array_equal(at.session_state[state.KL_CUSTOM_KERNEL], [[1, 0, -1], [2, 0, -2], [1, 0, -1]])
    for bad, words in [("1 x\n1 1", "not a number"), ("nan 1", "NaN"), ("inf", "infinite"), ("1 2\n3", "same number")]:
        at.text_area(key="kl_paste").set_value(bad)
        at.button(key="kl_paste_apply").click()
        at.run()
        assert not at.exception
        assert any(words in e.value for e in at.error), bad
        np.testing.assert_array_equal(at.session_state[state.KL_CUSTOM_KERNEL][0], [1, 0, -1])


def _kernel_grid(app: AppTest) -> np.ndarray:
    """The values of the '× Kernel' grid the page drew (the middle table of the dot product)."""
    import re

    from cnn_core.numbers import parse_number

    titles = [t for h in app.get("html") for t in re.findall(r'class="kl-grid-title"[^>]*>(.*?)</p>', h.proto.body)]
    assert titles[-3:] == ["Neighbourhood (0–255)", "× Kernel", "= Products"]
    return np.array([[parse_number(v) for v in row] for row in _grid_cells(app)[-2]], dtype=float)


def _grid_cells(app: AppTest) -> list[list[list[str]]]:
    """The text of every Kernel Lab grid the page drew (HTML tables), grid by grid, row by row."""
    import html as html_lib
    import re

    tables = [t for h in app.get("html") for t in re.findall(r'<table class="kl-grid".*?</table>', h.proto.body)]
    return [
        [
            [html_lib.unescape(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", row)]
            for row in re.findall(r"<tr>(.*?)</tr>", t)
        ]
        for t in tables
    ]


def test_pasted_fractions_and_blank_lines(at):
    at.selectbox(key="kl_preset").set_value("Custom…")
    at.run()
    at.text_area(key="kl_paste").set_value("1/9, 1/9\n\n−1/9 1e-1\n")
    at.button(key="kl_paste_apply").click()
    at.run()
    assert not at.exception and not at.error
    # The grid writes each weight exactly (1/9) and is read back on the next run.
    np.testing.assert_array_equal(at.session_state[state.KL_CUSTOM_KERNEL], [[1 / 9, 1 / 9], [-1 / 9, 0.1]])
    assert (at.number_input(key="kl_rows").value, at.number_input(key="kl_cols").value) == (2, 2)


def test_custom_kernel_size_and_normalise(at):
    at.selectbox(key="kl_preset").set_value("Custom…")
    at.run()
    at.selectbox(key="kl_start_from").set_value("Box blur")
    at.run()
    at.number_input(key="kl_cols").set_value(5)
    at.run()
    assert not at.exception
    grid = at.session_state[state.KL_GRID_BASE]
    assert grid.shape == (3, 5)
    np.testing.assert_allclose(grid[:, 1:4], 1 / 9, rtol=1e-5)  # the box stays in the middle, zeros either side
    np.testing.assert_array_equal(grid[:, [0, 4]], 0)
    at.selectbox(key="kl_start_from").set_value("Vertical line 7x7")
    at.run()
    at.checkbox(key="kl_normalise").check()
    at.run()
    assert not at.exception
    np.testing.assert_allclose(
        _kernel_grid(at)[:, 3], 1 / 7, rtol=1e-3
    )  # weights 1 scaled to sum to 1 (4 digits shown)
    at.selectbox(key="kl_start_from").set_value("Sobel x")
    at.run()
    assert any("cannot be normalised" in c.value for c in at.caption)
    np.testing.assert_array_equal(_kernel_grid(at), [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]])


def _upload(at: AppTest, data: bytes, name: str) -> None:
    at.radio(key="kl_source").set_value("Upload")
    at.run()
    at.file_uploader(key="kl_upload").set_value((name, data, "application/octet-stream"))
    at.run()


def test_a_good_upload_is_filtered_and_its_notes_shown(at):
    rgba = np.zeros((40, 60, 4), np.uint8)
    rgba[..., 3] = 0
    rgba[10:30, 20:40] = (0, 0, 0, 255)
    _upload(at, png(rgba), "square.png")
    assert not at.exception and not at.error
    assert any("white background" in i.value for i in at.info)
    assert any("Output size: 40 x 60 in, 40 x 60 out" in e.label for e in at.expander)


def test_high_bit_depth_upload_is_rescaled(at):
    _upload(at, png(np.full((8, 8), 40000, np.uint16)), "deep.png")
    assert not at.exception and any("16-bit" in i.value for i in at.info)


@pytest.mark.parametrize(
    "data,words",
    [
        (b"", "empty"),
        (b"not an image at all", "not an image"),
        (b"\x89PNG\r\n\x1a\n" + bytes(200), "not an image ConvLab can read"),
    ],
)
def test_bad_uploads_give_a_message_and_the_page_keeps_working(at, data, words):
    at.selectbox(key="kl_preset").set_value("Custom…")
    at.run()
    at.text_area(key="kl_paste").set_value("0 1 0\n1 1 1\n0 1 0")
    at.button(key="kl_paste_apply").click()
    at.run()
    _upload(at, data, "bad.png")
    assert not at.exception
    import re

    assert any(re.search(words, e.value) for e in at.error), [e.value for e in at.error]
    assert any("Output size: 512 x 512" in e.label for e in at.expander)  # fell back to the sample
    np.testing.assert_array_equal(at.session_state[state.KL_CUSTOM_KERNEL], [[0, 1, 0], [1, 1, 1], [0, 1, 0]])


def test_truncated_upload(at):
    noisy = np.random.default_rng(0).integers(0, 255, (64, 64, 3), dtype=np.uint8)
    data = png(noisy)
    _upload(at, data[: len(data) // 2], "cut.png")
    assert not at.exception and any("damaged or cut short" in e.value for e in at.error)


def test_oversized_upload_is_refused_by_the_app_itself(at):
    _upload(at, b"\0" * (21 * 1024 * 1024), "huge.png")
    assert not at.exception
    assert any("up to 20 MB" in e.value for e in at.error), [e.value for e in at.error]


def test_url_parameters_preset_the_page():
    app = AppTest.from_file(PAGE, default_timeout=60)
    app.query_params["preset"] = "Emboss"
    app.query_params["stride"] = "3"
    app.query_params["padding"] = "bogus"
    app.run()
    assert not app.exception
    assert app.selectbox(key="kl_preset").value == "Emboss"
    assert app.number_input(key="kl_stride").value == 3
    assert app.selectbox(key="kl_padding").value == "same"


def png(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, "PNG")
    return buf.getvalue()


def test_settings_survive_a_visit_to_another_page():
    app = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60)
    app.switch_page("app_pages/kernel_lab.py").run()
    app.selectbox(key="kl_preset").set_value("Emboss").run()
    app.number_input(key="kl_stride").set_value(2).run()
    app.switch_page("app_pages/home.py").run()
    app.switch_page("app_pages/kernel_lab.py").run()
    assert not app.exception
    assert app.selectbox(key="kl_preset").value == "Emboss"
    assert app.number_input(key="kl_stride").value == 2


# --- what a rerun sends: encoded once, small, and shared read-only ------------------------------


def _sample(name: str = "Cameraman") -> bytes:
    from cnn_core import images

    return images.sample_bytes(name)


def test_input_picture_is_a_compact_jpeg_for_a_photo_and_exact_png_for_a_small_image():
    from app import kernel_lab as kl

    photo = kl.input_picture(_sample(), "gray", (10, 11, 12), (20, 21, 22))
    assert photo.format == "JPEG" and photo.data[:2] == b"\xff\xd8"
    # The component used to send an uncompressed PNG: 512x512x3 bytes and more on every rerun.
    assert len(photo.data) < 512 * 512 * 3 / 5
    small = np.zeros((28, 28), np.uint8)
    buf = io.BytesIO()
    Image.fromarray(small).save(buf, format="PNG")
    digit = kl.input_picture(buf.getvalue(), "gray", (0, 1, 2), (0, 1, 2))
    assert digit.format == "PNG"
    pixels = np.asarray(Image.open(io.BytesIO(digit.data)))
    assert pixels.shape == (28, 28, 3)
    assert tuple(pixels[3, 1]) == (230, 159, 0)  # the orange box just below the window, exact
    # The photo component gets the same bytes as a data address, made once with the cached picture.
    assert digit.data_url.startswith("data:image/png;base64,")
    assert base64.b64decode(digit.data_url.split(",", 1)[1]) == digit.data
    assert kl.input_picture(buf.getvalue(), "gray", (0, 1, 2), (0, 1, 2)).data_url is digit.data_url


def test_the_photo_is_an_in_page_component_whose_click_event_moves_the_inspector(at, monkeypatch):
    """No iframe component: the photo is the Kernel Lab's own Components v2 element (the picture as
    its data), and its "click" event (in the photo's own pixels) reaches the inspector through KL_CLICK."""
    from app import components
    from app.kernel_lab import photo_picker

    drawn = at.get("bidi_component")
    assert len(drawn) == 1 and drawn[0].proto.component_name.endswith("convlab_kernel_lab_photo")
    assert '"src": "data:image/jpeg;base64,' in drawn[0].proto.json  # the Cameraman, pre-encoded
    js = components.source(photo_picker.__file__, "photo_picker.js")
    assert "setTriggerValue" in js and "ArrowLeft" in js  # click, tap and keys report
    fake = {state.KL_PHOTO_PICKER: {"click": {"x": 300.5, "y": 100.2, "width": 512, "height": 512, "unix_time": 7}}}
    monkeypatch.setattr(photo_picker.st, "session_state", fake)
    photo_picker._on_click()
    monkeypatch.undo()
    at.session_state[state.KL_CLICK] = fake[state.KL_CLICK]
    at.run()
    assert (at.number_input(key="kl_row").value, at.number_input(key="kl_col").value) == (100, 300)


def test_cached_pictures_are_shared_read_only_and_match_the_feature_map():
    from app import kernel_lab as kl
    from cnn_core import images, kernels

    data = _sample()
    k = tuple(map(tuple, kernels.PRESETS["Sobel x"].kernel))
    spec = kl.FilterSpec(k, None, 2, "same", "zeros", 1)
    out = kl.filtered(data, "gray", spec)
    assert out is kl.filtered(data, "gray", kl.FilterSpec(k, None, 2, "same", "zeros", 1))  # one object, no copy
    assert not out.flags.writeable and not kl.working_copy(data, "gray").flags.writeable
    with pytest.raises(ValueError):
        out[0, 0] = 1.0
    png = kl.feature_map_png(data, "gray", spec, "signed", 256)
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(png))), images.to_picture(out, "signed"))
    # Shown narrower than it is: shrunk once here, so st.image has nothing left to resize.
    small = Image.open(io.BytesIO(kl.feature_map_png(data, "gray", spec, "signed", 100)))
    assert small.size == (100, 100)


def test_the_feature_map_goes_out_in_the_format_it_was_encoded_in(at):
    """st.image re-encoded a PNG without alpha as JPEG on every rerun; the page now hands it bytes
    already in the format it names (JPEG for a photo-sized map, exact PNG for a small one)."""
    from app import kernel_lab as kl
    from cnn_core import images, kernels

    data = _sample()
    spec = kl.FilterSpec(tuple(map(tuple, kernels.PRESETS["Sobel x"].kernel)), None, 1, "same", "zeros", 1)
    big = kl.feature_map_picture(data, "gray", spec, "signed", 512)
    assert (
        big.format == "JPEG"
        and big.data[:2] == b"\xff\xd8"
        and kl.feature_map_picture(data, "gray", spec, "signed", 512) is big
    )
    exact = images.to_picture(kl.filtered(data, "gray", spec), "signed").astype(int)
    assert np.abs(np.asarray(Image.open(io.BytesIO(big.data))).astype(int) - exact).mean() < 3
    small = kl.feature_map_picture(data, "gray", spec, "signed", 100)
    assert small.format == "PNG" and Image.open(io.BytesIO(small.data)).size == (100, 100)
    saved = []  # a rerun whose pictures are all cached encodes nothing (st.image took PNG bytes and made a JPEG)
    original = Image.Image.save
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(Image.Image, "save", lambda self, *a, **k: saved.append(k.get("format")) or original(self, *a, **k))
        at.run()
    assert not at.exception and saved == []


def test_the_neighbourhood_grid_shows_pixels_as_their_grey(at):
    from app import html_grids as grids

    # 0 is black and 255 white whatever the window holds, so a flat patch looks flat.
    np.testing.assert_array_equal(
        grids.grid_colours(np.array([[0, 255], [22, 24]]), pixels=True)[..., 0], [[0, 255], [22, 24]]
    )
    # Kernels keep the signed red-white-blue scale, symmetric about zero: 0 is white, -1 and 1 mirror.
    signed = grids.grid_colours(np.array([[-1.0, 0.0, 1.0]]))
    assert tuple(signed[0, 1]) == (255, 255, 255) or min(signed[0, 1]) > 240
    assert signed[0, 0, 0] > signed[0, 0, 2] and signed[0, 2, 2] > signed[0, 2, 0]  # red below zero, blue above
    # The page draws the grids as HTML tables (no plotly chart, no pandas Styler), padding hatched.
    assert not at.get("plotly_chart") and not at.table
    at.number_input(key="kl_row").set_value(0)
    at.run()
    # The kernel's grid, and the three grids of the sum side by side, are two elements (fewer for the browser to lay out).
    assert sum('class="kl-grid"' in h.proto.body for h in at.get("html")) == 2 and len(_grid_cells(at)) == 4
    hood = _grid_cells(at)[-3]
    assert len(hood) == 3 and all(len(r) == 3 for r in hood)
    assert hood[0] == ["0", "0", "0"]  # the row above the photo is zero padding
    drawn = grids.grid_html(((0.0, 1.0),), ((True, False),))
    assert drawn.count("repeating-linear-gradient") == 1 and drawn.count("<td") == 2
    assert grids.grid_html(((0.0, 1.0),), ((True, False),)) is drawn  # made once per grid


# --- the workspace: the custom kernel kept, the link complete, the instructor's settings ---------


class Workspace(FreshWorkspace):
    """This page's view of a learner's fresh workspace."""

    def open(self, **params: str) -> AppTest:
        app = AppTest.from_file(PAGE, default_timeout=60)
        for k, v in params.items():
            app.query_params[k] = v
        app.run()
        assert not app.exception, app.exception
        return app

    def kept(self) -> str | None:
        item = self.store.get_item(self.id, "kernel")
        return None if item is None else item["kernel"]


@pytest.fixture
def workspace(monkeypatch, tmp_path) -> Workspace:
    return Workspace(monkeypatch, tmp_path / "state")


def _paste(app: AppTest, text: str) -> None:
    app.text_area(key="kl_paste").set_value(text)
    app.button(key="kl_paste_apply").click()
    app.run()
    assert not app.exception, app.exception


def test_a_fresh_workspace_keeps_nothing_until_the_kernel_changes(workspace):
    app = workspace.open()
    app.selectbox(key="kl_preset").set_value("Custom…").run()
    assert not app.exception
    np.testing.assert_array_equal(app.session_state[state.KL_CUSTOM_KERNEL], [[0, -1, 0], [-1, 5, -1], [0, -1, 0]])
    assert workspace.kept() is None  # the editor's starting kernel is no change
    assert not any("kept" in c.value for c in app.caption)


def test_the_custom_kernel_is_saved_and_found_by_a_new_session(workspace):
    app = workspace.open()
    app.selectbox(key="kl_preset").set_value("Custom…").run()
    _paste(app, "1 2 1\n0 0 0\n-1 -2 -1")
    assert workspace.kept() == "1,2,1;0,0,0;-1,-2,-1"
    # A reload (same link), a second tab or a restart: a new session of the same workspace.
    again = workspace.open()
    assert again.selectbox(key="kl_preset").value == "Sobel x"  # a bare link opens the default view
    assert "Your custom kernel is kept: choose *Custom…* to use it." in [c.value for c in again.caption]
    again.selectbox(key="kl_preset").set_value("Custom…").run()
    np.testing.assert_array_equal(again.session_state[state.KL_CUSTOM_KERNEL], [[1, 2, 1], [0, 0, 0], [-1, -2, -1]])
    assert (again.number_input(key="kl_rows").value, again.number_input(key="kl_cols").value) == (3, 3)
    # Another learner's workspace does not see it.
    workspace.id = "learner-b"
    other = workspace.open()
    other.selectbox(key="kl_preset").set_value("Custom…").run()
    np.testing.assert_array_equal(other.session_state[state.KL_CUSTOM_KERNEL], [[0, -1, 0], [-1, 5, -1], [0, -1, 0]])


def test_the_link_holds_the_custom_kernel_and_the_pixel(workspace):
    app = workspace.open()
    app.selectbox(key="kl_preset").set_value("Custom…").run()
    _paste(app, "1/9 1/9 1/9\n1/9 1/9 1/9\n1/9 1/9 1/9")
    app.number_input(key="kl_row").set_value(10).run()
    app.number_input(key="kl_col").set_value(20).run()
    assert app.query_params["preset"] in ("Custom…", ["Custom…"])
    assert app.query_params["kernel"] in (
        "1/9,1/9,1/9;1/9,1/9,1/9;1/9,1/9,1/9",
        ["1/9,1/9,1/9;1/9,1/9,1/9;1/9,1/9,1/9"],
    )
    assert app.query_params["pixel"] in ("10,20", ["10,20"])
    app.number_input(key="kl_row").set_value(256).run()
    app.number_input(key="kl_col").set_value(256).run()
    assert "pixel" not in app.query_params  # the middle pixel the page starts on needs no parameter


def test_opening_a_link_shows_its_kernel_and_keeps_the_saved_one_until_a_change(workspace):
    workspace.store.put_item(workspace.id, "kernel", "", {"kernel": "0,1,0;1,-4,1;0,1,0"})
    app = workspace.open(preset="Custom…", kernel="1,0,-1;2,0,-2;1,0,-1", pixel="5,7")
    np.testing.assert_array_equal(app.session_state[state.KL_CUSTOM_KERNEL], [[1, 0, -1], [2, 0, -2], [1, 0, -1]])
    assert (app.number_input(key="kl_row").value, app.number_input(key="kl_col").value) == (5, 7)
    assert "Feature map value at (5, 7)" in " ".join(c.value for c in app.caption)
    app.number_input(key="kl_stride").set_value(2).run()  # other settings are no change to the kernel
    assert workspace.kept() == "0,1,0;1,-4,1;0,1,0"
    app.selectbox(key="kl_start_from").set_value("Box blur").run()  # the learner changes the kernel
    assert workspace.kept() == "1/9,1/9,1/9;1/9,1/9,1/9;1/9,1/9,1/9"


def test_a_link_kernel_without_a_preset_opens_the_custom_editor(workspace):
    app = workspace.open(kernel="1,-1")
    assert app.selectbox(key="kl_preset").value == "Custom…"
    np.testing.assert_array_equal(app.session_state[state.KL_CUSTOM_KERNEL], [[1, -1]])
    assert "Height: floor((512 + 2*0 - 1*(1 - 1) - 1) / 1) + 1" in codes(app)


@pytest.mark.parametrize(
    ("params", "sentence"),
    [
        ({"kernel": "1,x;0,0"}, "The kernel cell at row 0, column 1 (counting from 0) holds 'x', which is not a number. The link's custom kernel is not used."),
        ({"kernel": "1,2;3"}, "Every row of the kernel must have the same number of cells. The link's custom kernel is not used."),
        ({"kernel": "nan"}, "The kernel cell at row 0, column 0 (counting from 0) is NaN (not a number): type a real number. The link's custom kernel is not used."),
        ({"pixel": "top"}, "The pixel 'top' in the link should be a row and a column, such as 12,40. Showing the middle pixel instead."),
        ({"pixel": "-1,4"}, "The pixel '-1,4' in the link has a negative row or column. Showing the middle pixel instead."),
    ],
)  # fmt: skip
def test_a_bad_link_kernel_or_pixel_is_a_sentence_and_falls_back(workspace, params, sentence):
    workspace.store.put_item(workspace.id, "kernel", "", {"kernel": "0,1,0;1,-4,1;0,1,0"})
    app = workspace.open(preset="Custom…", **params)
    assert sentence in [w.value for w in app.warning]
    if "kernel" in params:  # the learner's saved kernel instead, still kept
        np.testing.assert_array_equal(app.session_state[state.KL_CUSTOM_KERNEL], [[0, 1, 0], [1, -4, 1], [0, 1, 0]])
    else:
        assert (app.number_input(key="kl_row").value, app.number_input(key="kl_col").value) == (256, 256)
    assert workspace.kept() == "0,1,0;1,-4,1;0,1,0"
    app.run()
    assert not app.warning  # said once


def test_a_far_pixel_in_the_link_is_brought_inside_the_feature_map(workspace):
    app = workspace.open(pixel="9999,3")
    assert (app.number_input(key="kl_row").value, app.number_input(key="kl_col").value) == (511, 3)


def test_a_damaged_saved_kernel_is_a_fresh_start(workspace):
    workspace.store.put_item(workspace.id, "kernel", "", {"kernel": "1,,2"})
    app = workspace.open()
    app.selectbox(key="kl_preset").set_value("Custom…").run()
    assert not app.exception
    np.testing.assert_array_equal(app.session_state[state.KL_CUSTOM_KERNEL], [[0, -1, 0], [-1, 5, -1], [0, -1, 0]])


def test_a_store_that_cannot_write_is_a_sentence_once_and_the_kernel_stays(workspace, monkeypatch):
    from app.workspace import StoreError

    def refuse(*_args, **_kwargs):
        raise StoreError("Your work could not be saved: the server's disk is full.")

    monkeypatch.setattr(workspace.store, "put_item", refuse)
    app = workspace.open()
    app.selectbox(key="kl_preset").set_value("Custom…").run()
    _paste(app, "1 2\n3 4")
    assert [t.value for t in app.toast] == ["Your work could not be saved: the server's disk is full."]
    _paste(app, "4 3\n2 1")
    assert not app.toast  # told once
    np.testing.assert_array_equal(app.session_state[state.KL_CUSTOM_KERNEL], [[4, 3], [2, 1]])
    assert any("Output size" in e.label for e in app.expander)


def test_the_instructor_turning_uploads_and_the_camera_off_takes_effect_on_the_next_rerun(workspace):
    from dataclasses import replace

    app = workspace.open()
    assert app.radio(key="kl_source").options == ["Sample photo", "Upload", "Camera"]
    app.radio(key="kl_source").set_value("Upload").run()
    assert app.get("file_uploader")
    workspace.classroom.put_settings(replace(workspace.classroom.settings(), uploads=False))
    app.run()
    assert not app.exception
    assert app.radio(key="kl_source").options == ["Sample photo", "Camera"]
    assert app.radio(key="kl_source").value == "Sample photo"
    assert not app.get("file_uploader")
    assert "The instructor turned uploads off for this class." in [c.value for c in app.caption]
    workspace.classroom.put_settings(replace(workspace.classroom.settings(), camera=False))
    app.run()
    assert app.radio(key="kl_source").options == ["Sample photo"]
    assert "The instructor turned uploads and the camera off for this class." in [c.value for c in app.caption]
    workspace.classroom.put_settings(replace(workspace.classroom.settings(), uploads=True, camera=True))
    app.run()
    assert app.radio(key="kl_source").options == ["Sample photo", "Upload", "Camera"]
    assert not any("instructor" in c.value for c in app.caption)


def test_the_feature_map_picture_has_alternative_text_naming_its_size(at):
    """axe-core's image-alt rule (critical): an <img> without alt text is unnamed for a screen reader."""
    at.number_input(key="kl_stride").set_value(2)
    at.run()
    imgs = [i for e in at.get("image") for i in e.proto.imgs]
    assert [i.alt for i in imgs] == ["The feature map (256 x 256): the kernel's sum at every position of the photo"]


def test_in_presentation_mode_the_output_size_goes_below_the_kernel_not_beside_it():
    """Beside the kernel, at projector size, the output-size working wrapped a few characters to a line."""
    plain = AppTest.from_file(PAGE, default_timeout=60)
    plain.run()
    shown = AppTest.from_file(PAGE, default_timeout=60)
    shown.session_state[state.PRESENTATION] = True
    shown.run()
    assert not plain.exception and not shown.exception
    assert len(shown.columns) == len(plain.columns) - 2  # the kernel | output size pair of columns is gone


def test_the_shared_cache_makes_each_key_once_drops_the_least_used_and_forgets_old_ones(monkeypatch):
    import threading

    from app.kernel_lab import caches

    made: list[str] = []
    release = threading.Event()

    def make(key: str, data: bytes) -> object:
        made.append(key)
        release.wait(5)
        return object()

    cache = caches.SharedCache(make, max_entries=2)
    got: list[object] = []
    threads = [threading.Thread(target=lambda: got.append(cache("a", data=b""))) for _ in range(3)]
    for t in threads:
        t.start()
    release.set()
    for t in threads:
        t.join()
    assert made == ["a"] and got[0] is got[1] is got[2]  # three sessions at once: made once, one shared object
    cache("b", data=b"")
    cache("a", data=b"")  # used again: "b" is now the least recently used
    cache("c", data=b"")
    assert made == ["a", "b", "c"] and cache("a", data=b"") is got[0]
    cache("b", data=b"")
    assert made[-1] == "b"  # dropped to keep two entries, made again
    now = [1e6]
    monkeypatch.setattr(caches.time, "monotonic", lambda: now[0])
    old = cache("x", data=b"")
    now[0] += caches.CACHE_TTL + 1
    assert cache("x", data=b"") is not old  # nobody used it for the TTL: made anew
