"""DESIGN.md's bad-input list, item by item, fed through the pages of the whole app (AppTest).

Every test starts a session that has already made something worth keeping: a trained model
(``state.TR_BUNDLE``) and a custom kernel (``state.KL_CUSTOM_KERNEL``, pasted on the Kernel Lab).
Then one bad input goes in through a page, and the test asserts three things: a clear message
(words a learner can act on), no exception, and that the model and the kernel are still there,
unchanged.
"""

from __future__ import annotations

import io
import os
import re
import struct
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from streamlit.testing.v1 import AppTest

from app import inside, state
from app import training as tr
from app.trained import TrainedBundle
from cnn_core import data as D
from cnn_core import images
from cnn_core import training as T
from tests.helpers import make_zip, wait_until_finished

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "streamlit_app.py")
LAPLACIAN = np.array([[0.0, 1, 0], [1, -4, 1], [0, 1, 0]])
SHAPES = "Shapes (generated: lines, circles, squares, triangles, crosses)"
QUICK = T.TrainConfig(epochs=1, batch_size=64, device="cpu", evals_per_epoch=1, eval_samples=200, log_every_steps=5)


# --- the session's earlier work ------------------------------------------------------------------


@pytest.fixture(scope="module")
def bundle() -> TrainedBundle:
    """A model trained for a few steps on 640 bundled MNIST digits (the learner's earlier work)."""
    return inside.train_demo(data=D.load_bundled("mnist").subset(640, 200), config=QUICK)


@pytest.fixture(scope="module")
def weights(bundle) -> dict[str, torch.Tensor]:
    return {k: v.clone() for k, v in bundle.model.state_dict().items()}


def session_with_work(bundle: TrainedBundle) -> AppTest:
    """A fresh session that trained a model and pasted a custom kernel, now on the Kernel Lab."""
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    at.session_state[state.TR_BUNDLE] = bundle
    at.switch_page("app_pages/kernel_lab.py").run()
    at.selectbox(key="kl_preset").set_value("Custom…").run()
    at.text_area(key="kl_paste").set_value("0 1 0\n1 -4 1\n0 1 0")
    at.button(key="kl_paste_apply").click().run()
    assert not at.exception, at.exception
    np.testing.assert_array_equal(at.session_state[state.KL_CUSTOM_KERNEL], LAPLACIAN)
    return at


def assert_kept(at: AppTest, bundle: TrainedBundle, weights: dict[str, torch.Tensor]) -> None:
    """No exception, and the model and the custom kernel are exactly what they were."""
    assert not at.exception, at.exception
    assert at.session_state[state.TR_BUNDLE] is bundle
    for name, value in bundle.model.state_dict().items():
        assert torch.equal(value, weights[name]), f"weights {name} changed"
    np.testing.assert_array_equal(at.session_state[state.KL_CUSTOM_KERNEL], LAPLACIAN)


def messages(at: AppTest, *kinds: str) -> list[str]:
    kinds = kinds or ("error", "warning", "info", "caption", "success", "markdown")
    return [e.value for kind in kinds for e in getattr(at, kind)]


def says(at: AppTest, pattern: str, *kinds: str) -> bool:
    return any(re.search(pattern, m) for m in messages(at, *kinds))


# --- files ------------------------------------------------------------------------------------------


def encode(img: Image.Image, fmt: str = "PNG", **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


def noisy(h: int, w: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 255, (h, w, 3), dtype=np.uint8)


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that declares ``width`` x ``height`` pixels but carries almost no data."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


def truncated() -> bytes:
    data = encode(Image.fromarray(noisy(64, 64)))
    return data[: len(data) // 2]


def corrupt() -> bytes:
    data = bytearray(encode(Image.fromarray(noisy(32, 32))))
    data[40:80] = b"\xff" * 40
    return bytes(data)


def palette() -> bytes:
    p = Image.new("P", (24, 16))
    p.putpalette([0, 0, 0, 10, 200, 30] + [0] * 762)
    p.putpixel((3, 3), 1)
    return encode(p)


def rgba() -> bytes:
    a = np.zeros((20, 30, 4), np.uint8)
    a[5:15, 5:25] = (200, 0, 0, 255)
    return encode(Image.fromarray(a, "RGBA"))


def exif_rotated() -> bytes:
    img = Image.fromarray(noisy(20, 40))  # 40 wide, 20 tall as stored
    exif = img.getexif()
    exif[0x0112] = 6  # "rotate 90 degrees to view": upright it is 20 wide, 40 tall
    return encode(img, "JPEG", exif=exif)


def animated() -> bytes:
    frames = [Image.new("RGB", (16, 12), c) for c in ((255, 0, 0), (0, 0, 255), (0, 255, 0))]
    buf = io.BytesIO()
    frames[0].save(buf, "GIF", save_all=True, append_images=frames[1:])
    return buf.getvalue()


REFUSED_IMAGES = {
    "non-image": (b"%PDF-1.4 a document, not a picture", r"not an image ConvLab can read"),
    "empty": (b"", r"empty"),
    "truncated": (truncated(), r"damaged or cut short"),
    "corrupt": (corrupt(), r"not an image ConvLab can read"),
    "decompression bomb": (png_header_only(12_000, 12_000), r"declares too many pixels to decode safely"),
    "huge dimensions": (png_header_only(30_000, 2), r"each side may be at most"),
}
ACCEPTED_IMAGES = {  # name -> (file, (h, w) shown, what the page says about it)
    "16-bit": (encode(Image.fromarray(np.full((8, 10), 40_000, np.uint16))), (8, 10), r"16-bit"),
    "float": (
        encode(Image.fromarray(np.linspace(-2, 6, 48, dtype=np.float32).reshape(6, 8)), "TIFF"),
        (6, 8),
        r"Floating-point image rescaled",
    ),  # fmt: skip
    "palette": (palette(), (16, 24), None),
    "RGBA": (rgba(), (20, 30), r"white background"),
    "CMYK": (encode(Image.new("CMYK", (12, 9), (0, 255, 255, 0)), "JPEG"), (9, 12), r"CMYK"),
    "EXIF rotation": (exif_rotated(), (40, 20), r"EXIF"),
    "animated": (animated(), (12, 16), r"animated image with 3 frames"),
    "sliver": (encode(Image.fromarray(noisy(1, 300))), (1, 300), None),
    "tiny": (encode(Image.new("L", (1, 1), 255)), (1, 1), None),
}


def upload_image(at: AppTest, data: bytes, name: str = "photo.png") -> None:
    at.radio(key="kl_source").set_value("Upload").run()
    at.file_uploader(key="kl_upload").set_value((name, data, "application/octet-stream")).run()


def shown_size(at: AppTest) -> str:
    return next((e.label for e in at.expander if e.label.startswith("Output size")), "")


# --- Kernel Lab: images -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(REFUSED_IMAGES))
def test_refused_images_give_a_message_and_fall_back_to_the_sample(bundle, weights, name):
    data, words = REFUSED_IMAGES[name]
    at = session_with_work(bundle)
    upload_image(at, data, f"{name}.png")
    assert says(at, words, "error"), messages(at, "error")
    assert says(at, r"Showing the sample photo instead", "error")
    assert shown_size(at).startswith("Output size: 512 x 512 in")  # the page carries on with Cameraman
    assert_kept(at, bundle, weights)


@pytest.mark.parametrize("name", list(ACCEPTED_IMAGES))
def test_odd_but_valid_images_are_converted_and_explained(bundle, weights, name):
    data, (h, w), note = ACCEPTED_IMAGES[name]
    ext = {"float": "tif", "CMYK": "jpg", "EXIF rotation": "jpg", "animated": "gif"}.get(name, "png")
    at = session_with_work(bundle)
    upload_image(at, data, f"{name}.{ext}")
    assert not messages(at, "error"), messages(at, "error")
    assert shown_size(at).startswith(f"Output size: {h} x {w} in"), shown_size(at)
    if note is not None:
        assert says(at, note, "info"), messages(at, "info")
    assert_kept(at, bundle, weights)


def test_an_upload_over_the_cap_is_refused_by_the_page_itself(bundle, weights):
    at = session_with_work(bundle)
    upload_image(at, b"\0" * (images.MAX_BYTES + 1), "huge.png")
    assert says(at, r"up to 20 MB", "error"), messages(at, "error")
    assert_kept(at, bundle, weights)


# --- kernels and settings -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text,words",
    [
        ("", r"empty"),
        ("1 0 -1\n1 x -1", r"'x', which is not a number"),
        ("1 nan", r"NaN"),
        ("inf 1\n1 1", r"infinite"),
        ("1 2 3\n4 5", r"same number of cells"),
    ],
)
def test_bad_kernel_cells_in_the_kernel_lab_keep_the_last_good_kernel(bundle, weights, text, words):
    at = session_with_work(bundle)
    at.text_area(key="kl_paste").set_value(text)
    at.button(key="kl_paste_apply").click().run()
    assert says(at, words, "error"), messages(at, "error")
    assert_kept(at, bundle, weights)  # LAPLACIAN is still the kernel in use


@pytest.mark.parametrize(
    "text,words",
    [
        ("", r"empty"),
        ("1 0 -1\n1 x -1\n1 0 -1", r"'x'"),
        ("1 0 -1\n1 nan -1\n1 0 -1", r"holds 'nan' at row 1, column 1 \(counting from 0\), which is not a finite number"),
        ("1 0 -1\n1 inf -1\n1 0 -1", r"holds 'inf' at row 1, column 1 \(counting from 0\), which is not a finite number"),
    ],
)
def test_bad_kernel_cells_on_the_arithmetic_page(bundle, weights, text, words):
    at = session_with_work(bundle)
    at.switch_page("app_pages/arithmetic.py").run()
    at.text_area(key="ar_w_k0").input(text).run()
    assert says(at, words, "error", "warning"), messages(at, "error", "warning")
    assert_kept(at, bundle, weights)


def test_a_kernel_larger_than_the_padded_input(bundle, weights):
    at = session_with_work(bundle)
    upload_image(at, encode(Image.fromarray(noisy(4, 5))), "small.png")
    at.selectbox(key="kl_preset").set_value("Vertical line 7x7").run()
    at.selectbox(key="kl_padding").set_value("valid").run()
    assert says(at, r"kernel is larger than the padded input", "error"), messages(at, "error")
    assert_kept(at, bundle, weights)


def test_stride_0_is_explained_on_the_arithmetic_page_and_never_reaches_the_kernel_lab(bundle, weights):
    at = session_with_work(bundle)
    at.number_input(key="kl_stride").set_value(0).run()  # a crafted value: the browser's minimum is 1
    assert "/ 1) + 1" in "\n".join(t.value for t in at.text)  # the Kernel Lab kept stride 1
    at.switch_page("app_pages/arithmetic.py").run()
    at.number_input(key="ar_w_sh").set_value(0).run()
    assert says(at, r"stride must be at least 1.*never move the kernel", "error", "warning")
    assert_kept(at, bundle, weights)


def test_negative_padding_is_explained_on_the_arithmetic_page_and_never_reaches_the_kernel_lab(bundle, weights):
    at = session_with_work(bundle)
    at.selectbox(key="kl_padding").set_value("custom").run()
    at.number_input(key="kl_custom_padding").set_value(-2).run()  # crafted: the browser's minimum is 0
    assert "2*0 -" in "\n".join(t.value for t in at.text)
    at.switch_page("app_pages/arithmetic.py").run()
    at.selectbox(key="ar_w_pad").select("custom").run()
    at.number_input(key="ar_w_pleft").set_value(-1).run()
    assert says(at, r"Padding cannot be negative", "error", "warning")
    assert_kept(at, bundle, weights)


# --- training -------------------------------------------------------------------------------------------


def training_page(bundle: TrainedBundle) -> AppTest:
    at = session_with_work(bundle)
    at.switch_page("app_pages/training.py").run()
    assert not at.exception, at.exception
    return at


def blow_up(at: AppTest) -> None:
    at.selectbox(key="tr_source").set_value(SHAPES).run()
    at.selectbox(key="tr_opt").set_value("sgd")
    at.selectbox(key="tr_schedule").set_value("none")
    at.number_input(key="tr_lr").set_value(10.0)
    # the fast network diverges near step 90 at lr 10; 3 epochs (72 steps) could end first
    at.number_input(key="tr_epochs").set_value(10)
    at.button(key="tr_start").click().run()
    wait_until_finished(at)


@pytest.mark.slow
def test_a_learning_rate_that_blows_up_stops_with_a_reason_and_keeps_the_earlier_work(bundle, weights):
    at = training_page(bundle)
    blow_up(at)
    assert says(at, r"(?i)learning rate", "error"), messages(at, "error")
    assert_kept(at, bundle, weights)  # the earlier model object, untrained on, and the kernel


def gray_png(value: int) -> bytes:
    return encode(Image.fromarray(np.full((12, 12), value, np.uint8)))


def two_classes() -> dict[str, bytes]:
    return {f"{c}/{i}.png": gray_png(v + i) for c, v in (("dark", 10), ("light", 200)) for i in range(3)}


BAD_ZIPS = {
    "zip bomb": (make_zip({**two_classes(), "dark/bomb.png": b"\0" * 8_000_000}), r"decompression bomb"),
    "escapes its folder": (make_zip({**two_classes(), "../../evil/x.png": gray_png(1)}), r"climbs out of its folder"),
    "absolute path": (make_zip({**two_classes(), "/etc/x.png": gray_png(1)}), r"absolute path"),
    "symlink": (make_zip(two_classes(), symlinks=("dark/link.png",)), r"symbolic link"),
    "only non-images": (make_zip({"a/readme.txt": b"hello", "b/notes.txt": b"text"}), r"No images were found"),
    "single class": (make_zip({"cats/1.png": gray_png(1), "cats/2.png": gray_png(2)}), r"at least two class"),
    "not a zip": (b"PK\x03\x04 this is not really a zip", r"not a readable zip"),
    "empty": (b"", r"empty"),
}


@pytest.mark.parametrize("name", list(BAD_ZIPS))
def test_bad_dataset_zips_are_refused_with_a_reason(bundle, weights, name):
    data, words = BAD_ZIPS[name]
    at = training_page(bundle)
    at.selectbox(key="tr_source").set_value("My own images (a zip of class folders)").run()
    at.file_uploader(key="tr_zip").set_value((f"{name}.zip", data, "application/zip")).run()
    assert says(at, words, "error"), messages(at, "error")
    assert state.TR_OWN_DATA not in at.session_state or at.session_state[state.TR_OWN_DATA] is None
    assert_kept(at, bundle, weights)


def test_a_dataset_zip_over_the_cap_is_refused_by_the_page_itself(bundle, weights):
    at = training_page(bundle)
    at.selectbox(key="tr_source").set_value("My own images (a zip of class folders)").run()
    at.file_uploader(key="tr_zip").set_value(("big.zip", b"\0" * (tr.MAX_ZIP_BYTES + 1), "application/zip")).run()
    assert says(at, r"the limit is", "error"), messages(at, "error")
    assert_kept(at, bundle, weights)


def test_a_zip_whose_folder_names_the_filesystem_cannot_hold_still_loads(bundle, weights):
    """Names from a zip never become paths, so a 300-character class folder is just a class name."""
    long_name = "a" * 300
    files = {f"{long_name}/{i}.png": gray_png(10 + i) for i in range(3)} | {
        f"b/{i}.png": gray_png(200 + i) for i in range(3)
    }
    at = training_page(bundle)
    at.selectbox(key="tr_source").set_value("My own images (a zip of class folders)").run()
    at.file_uploader(key="tr_zip").set_value(("long.zip", make_zip(files), "application/zip")).run()
    assert_kept(at, bundle, weights)
    assert not messages(at, "error"), messages(at, "error")
    assert says(at, r"^long\.zip: 4 training and 2 test images .*, 2 classes\.", "caption"), messages(at, "caption")
    assert sorted(at.session_state[state.TR_OWN_DATA].classes) == sorted([long_name, "b"])


# Every file-system event (open, mkdir, rename, remove, ...) while a test watches, via an audit hook.
_FS_EVENTS: list[tuple[str, tuple]] | None = None
_FS_PREFIXES = ("open", "os.", "shutil.")


def _audit(event: str, args: tuple) -> None:
    if _FS_EVENTS is not None and event.startswith(_FS_PREFIXES):
        _FS_EVENTS.append((event, args))


sys.addaudithook(_audit)


def _named(events: list[tuple[str, tuple]], marker: str) -> list[tuple[str, str]]:
    hits = []
    for event, args in events:
        for a in args:
            if isinstance(a, str | bytes | os.PathLike) and marker in os.fsdecode(a):
                hits.append((event, os.fsdecode(a)))
    return hits


def test_no_name_from_an_upload_reaches_the_file_system(bundle, weights):
    global _FS_EVENTS
    marker = "zzMARKERzz"
    at = training_page(bundle)
    at.selectbox(key="tr_source").set_value("My own images (a zip of class folders)").run()
    files = {f"{marker}dark/{marker}{i}.png": gray_png(10 + i) for i in range(3)}
    files |= {f"{marker}light/{marker}{i}.png": gray_png(200 + i) for i in range(3)}
    _FS_EVENTS = []
    try:
        at.file_uploader(key="tr_zip").set_value((f"{marker}.zip", make_zip(files), "application/zip")).run()
        model_upload(at, f"../../{marker}.pt", b"not a model")
        at.switch_page("app_pages/kernel_lab.py").run()
        upload_image(at, encode(Image.fromarray(noisy(8, 8))), f"/etc/{marker}.png")
        events = _FS_EVENTS
    finally:
        _FS_EVENTS = None
    assert not at.exception, at.exception
    assert len(events) > 0  # the hook saw the file system being used (the zip's images are written and read back)
    assert not _named(events, marker), _named(events, marker)[:5]


class _RunsCode:
    """A pickle payload: loading it with plain pickle would create ``path``."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self):
        return (Path.touch, (self.path,))


def model_upload(at: AppTest, name: str, data: bytes) -> None:
    at.file_uploader(key="tr_load").set_value((name, data, "application/octet-stream")).run()
    at.button(key="tr_load_go").click().run()


def test_a_model_file_carrying_code_is_refused_and_its_code_never_runs(bundle, weights, tmp_path):
    marker = tmp_path / "code_ran"
    buf = io.BytesIO()
    torch.save({"format": T.FORMAT, "config": {}, "state_dict": {}, "payload": _RunsCode(marker)}, buf)
    at = training_page(bundle)
    model_upload(at, "sneaky.pt", buf.getvalue())
    assert says(at, r"code", "error"), messages(at, "error")
    assert not marker.exists()
    assert_kept(at, bundle, weights)


@pytest.mark.parametrize(
    "data,words", [(b"", r"empty"), (b"not a model at all", r"not a readable"), (b"PK\x03\x04junk", r"not a readable")]
)
def test_junk_model_files_are_refused(bundle, weights, data, words):
    at = training_page(bundle)
    model_upload(at, "junk.pt", data)
    assert says(at, words, "error"), messages(at, "error")
    assert_kept(at, bundle, weights)


def test_a_model_file_over_a_cap_is_refused_by_the_page_itself(bundle, weights):
    at = training_page(bundle)
    model_upload(at, "huge.pt", b"\0" * 21_000_001)
    assert says(at, r"huge\.pt is 21 MB; model files are limited to 20 MB", "error"), messages(at, "error")
    assert_kept(at, bundle, weights)


# --- inside the model ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["non-image", "truncated", "decompression bomb"])
def test_bad_images_to_predict_on_keep_the_model(bundle, weights, name):
    data, words = REFUSED_IMAGES[name]
    at = session_with_work(bundle)
    at.session_state["in_tab"] = "Predict"
    at.switch_page("app_pages/inside.py").run()
    at.radio(key="in_source").set_value("Upload").run()
    at.file_uploader(key="in_upload").set_value((f"{name}.png", data, "image/png")).run()
    assert says(at, words, "error"), messages(at, "error")
    assert_kept(at, bundle, weights)
