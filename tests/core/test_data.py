"""Tests for cnn_core.data: bundled subsets, synthetic shapes, full sets, and the learner's zip."""

from __future__ import annotations

import io
import struct
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from cnn_core import data as D
from tests.helpers import make_zip

SHARED = Path(__file__).resolve().parents[3] / "shared" / "datasets"
needs_shared = pytest.mark.skipif(not (SHARED / "MNIST" / "raw").exists(), reason="../shared/datasets is absent")


def png(arr: np.ndarray, mode: str | None = None, fmt: str = "PNG") -> bytes:
    buf = io.BytesIO()
    Image.fromarray(arr, mode=mode).save(buf, format=fmt)
    return buf.getvalue()


def gray_img(value: int, size: tuple[int, int] = (20, 24)) -> bytes:
    a = np.full(size, value, np.uint8)
    a[2:6, 2:6] = 255 - value
    return png(a)


# ---------------------------------------------------------------------------------------------
# Bundled and synthetic
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["mnist", "fashion_mnist"])
def test_bundled_subset_is_balanced_uint8(name):
    ds = D.load_bundled(name)
    assert ds.x_train.shape == (10_000, 1, 28, 28) and ds.x_train.dtype == torch.uint8
    assert ds.x_test.shape == (2_000, 1, 28, 28)
    assert torch.bincount(ds.y_train).tolist() == [1000] * 10
    assert torch.bincount(ds.y_test).tolist() == [200] * 10
    assert ds.num_classes == 10 and ds.input_shape == (1, 28, 28)
    # The normalised training images have mean ~0 and std ~1 per channel.
    z = ds.normalize(ds.x_train[:2000])
    assert abs(float(z.mean())) < 0.1 and abs(float(z.std()) - 1) < 0.1


def test_bundled_classes_and_license():
    assert D.load_bundled("fashion_mnist").classes[9] == "Ankle boot"
    assert "CC BY-SA 3.0" in D.load_bundled("mnist").source
    notice = (D.ASSETS / "NOTICE.md").read_text()
    assert "CC BY-SA 3.0" in notice and "MIT" in notice


def test_bundled_unknown_name_is_clear():
    with pytest.raises(D.DatasetUnavailable, match="no bundled dataset"):
        D.load_bundled("imagenet")


def test_synthetic_shapes_deterministic_and_drawn():
    a = D.synthetic_shapes(10, size=20, seed=3)
    b = D.synthetic_shapes(10, size=20, seed=3)
    c = D.synthetic_shapes(10, size=20, seed=4)
    assert torch.equal(a.x_train, b.x_train) and not torch.equal(a.x_train, c.x_train)
    assert a.classes == D.SHAPE_CLASSES
    assert a.x_train.shape[1:] == (1, 20, 20)
    assert len(a.y_train) + len(a.y_test) == 10 * len(D.SHAPE_CLASSES)
    # Every image has a bright stroke on a dark background.
    assert (a.x_train.flatten(1).max(1).values > 150).all()
    assert float(a.x_train.float().mean()) < 60


def test_synthetic_shapes_rejects_tiny():
    with pytest.raises(D.DatasetUnavailable, match="12 x 12"):
        D.synthetic_shapes(5, size=8)


# ---------------------------------------------------------------------------------------------
# Full datasets
# ---------------------------------------------------------------------------------------------


def test_full_missing_says_how_to_provide(tmp_path):
    with pytest.raises(D.DatasetUnavailable) as err:
        D.load_full("fashion_mnist", root=tmp_path, download=False)
    msg = str(err.value)
    assert "FashionMNIST/raw" in msg and D.DATA_DIR_ENV in msg and "bundled" in msg


def test_full_unknown_name():
    with pytest.raises(D.DatasetUnavailable, match="Unknown dataset"):
        D.load_full("svhn", download=False)


@needs_shared
def test_full_mnist_from_env_folder(monkeypatch):
    monkeypatch.setenv(D.DATA_DIR_ENV, str(SHARED))
    ds = D.load_full("mnist", download=False)
    assert ds.x_train.shape == (60_000, 1, 28, 28) and ds.x_test.shape == (10_000, 1, 28, 28)
    assert abs(ds.mean[0] - 0.1307) < 1e-3 and abs(ds.std[0] - 0.3081) < 1e-3  # the well-known values


def test_cifar_jpeg_zip_layout(tmp_path, monkeypatch):
    monkeypatch.setenv(D.CACHE_ENV, str(tmp_path / "cache"))
    rng = np.random.default_rng(0)
    entries = {}
    for split, n in (("train", 3), ("test", 1)):
        for cls in ("cat", "ship"):
            for i in range(n):
                entries[f"{split}/{cls}/{i:04d}.jpg"] = png(rng.integers(0, 255, (32, 32, 3), np.uint8), fmt="JPEG")
    (tmp_path / "cifar10-jpeg.zip").write_bytes(make_zip(entries))
    ds = D.load_full("cifar10", root=tmp_path, download=False)
    assert ds.x_train.shape == (6, 3, 32, 32) and ds.x_test.shape == (2, 3, 32, 32)
    assert sorted(set(ds.y_train.tolist())) == [D.CIFAR10_CLASSES.index("cat"), D.CIFAR10_CLASSES.index("ship")]
    assert len(list((tmp_path / "cache").glob("*.npz"))) == 1  # decoded once, then cached
    again = D.load_full("cifar10", root=tmp_path, download=False)
    assert torch.equal(again.x_train, ds.x_train)


# ---------------------------------------------------------------------------------------------
# The learner's own zip
# ---------------------------------------------------------------------------------------------


def good_entries() -> dict[str, bytes]:
    e = {f"cats/{i}.png": gray_img(40 + i) for i in range(5)}
    e.update({f"dogs/{i}.png": gray_img(200 - i, size=(40, 30)) for i in range(5)})
    return e


def test_zip_good_gray():
    ds = D.load_zip(make_zip(good_entries()))
    assert ds.classes == ("cats", "dogs")
    assert ds.input_shape == (1, 28, 28)
    assert len(ds.y_train) + len(ds.y_test) == 10
    assert sorted(set(ds.y_test.tolist())) == [0, 1]  # each class keeps a test image
    # Class 0 (cats) is dark with a bright patch, class 1 (dogs) the opposite.
    x_all = torch.cat([ds.x_train, ds.x_test]).float()
    y_all = torch.cat([ds.y_train, ds.y_test])
    assert x_all[y_all == 0].mean() < 100 < x_all[y_all == 1].mean()


def test_zip_skips_non_images_and_counts_them():
    e = good_entries()
    e["cats/readme.txt"] = b"hello"
    e["dogs/broken.png"] = b"\x89PNG\r\n\x1a\n" + b"\x00" * 40  # corrupt
    e["dogs/truncated.png"] = gray_img(99)[:60]
    e["__MACOSX/cats/._0.png"] = b"junk"
    ds = D.load_zip(make_zip(e))
    assert len(ds.y_train) + len(ds.y_test) == 10
    assert any("3 file(s) were not readable images" in n for n in ds.notes)
    assert any("system file" in n for n in ds.notes)


def test_zip_colour_and_transparent_images_become_rgb():
    rgba = np.zeros((16, 16, 4), np.uint8)
    rgba[..., 0] = 255  # red but fully transparent -> white
    e = {
        "a/0.png": png(rgba, "RGBA"),
        "a/1.png": png(rgba, "RGBA"),
        "b/0.jpg": png(np.zeros((9, 9, 3), np.uint8), fmt="JPEG"),
    }
    e["b/1.jpg"] = e["b/0.jpg"]
    ds = D.load_zip(make_zip(e), image_size=16)
    assert ds.input_shape == (3, 16, 16)
    x = torch.cat([ds.x_train, ds.x_test])
    y = torch.cat([ds.y_train, ds.y_test])
    assert (x[y == 0] == 255).all()  # composited on white, not black


def test_zip_one_wrapping_folder_is_allowed():
    wrapped = {f"my_data/{k}": v for k, v in good_entries().items()}
    assert D.load_zip(make_zip(wrapped)).classes == ("cats", "dogs")


@pytest.mark.parametrize(
    ("name", "match"),
    [
        ("../evil.png", "climbs out"),
        ("cats/../../evil.png", "climbs out"),
        ("/etc/evil.png", "absolute"),
        ("C:/x.png", "absolute"),
    ],
)
def test_zip_path_escapes_refused(name, match):
    e = good_entries()
    e[name] = gray_img(1)
    with pytest.raises(D.DatasetUnavailable, match=match):
        D.load_zip(make_zip(e))


def test_zip_symlink_refused():
    with pytest.raises(D.DatasetUnavailable, match="symbolic link"):
        D.load_zip(make_zip(good_entries(), symlinks=("cats/link.png",)))


def test_zip_bomb_refused_by_ratio():
    e = good_entries()
    e["cats/bomb.png"] = b"\x00" * 8_000_000  # deflates ~1000:1
    with pytest.raises(D.DatasetUnavailable, match="bomb"):
        D.load_zip(make_zip(e))


def test_zip_bomb_refused_by_total_size():
    e = good_entries()
    with pytest.raises(D.DatasetUnavailable, match="unpacks to more than"):
        D.load_zip(make_zip(e), limits=D.ZipLimits(max_uncompressed=500))


def test_zip_too_many_files_and_too_big():
    data = make_zip(good_entries())
    with pytest.raises(D.DatasetUnavailable, match="more than 4 files"):
        D.load_zip(data, limits=D.ZipLimits(max_files=4))
    with pytest.raises(D.DatasetUnavailable, match="the limit is"):
        D.load_zip(data, limits=D.ZipLimits(max_bytes=100))


def test_zip_huge_dimensions_skipped_before_decoding():
    e = good_entries()
    e["cats/huge.png"] = png(np.zeros((300, 300), np.uint8))
    ds = D.load_zip(make_zip(e), limits=D.ZipLimits(max_pixels=50_000))
    assert any("1 file(s) were not readable" in n for n in ds.notes)


def test_zip_single_class_refused():
    e = {f"cats/{i}.png": gray_img(i) for i in range(4)}
    with pytest.raises(D.DatasetUnavailable, match="at least two class"):
        D.load_zip(make_zip(e))


def test_zip_nested_too_deep_refused():
    e = good_entries()
    e["cats/kittens/0.png"] = gray_img(3)
    with pytest.raises(D.DatasetUnavailable, match="nested too deeply"):
        D.load_zip(make_zip(e))


def test_zip_not_a_zip_empty_or_no_images():
    with pytest.raises(D.DatasetUnavailable, match="not a readable zip"):
        D.load_zip(b"this is not a zip")
    with pytest.raises(D.DatasetUnavailable, match="empty"):
        D.load_zip(b"")
    with pytest.raises(D.DatasetUnavailable, match="No images"):
        D.load_zip(make_zip({"a/x.txt": b"1", "b/y.txt": b"2"}))


def test_zip_loose_files_are_ignored_and_counted():
    e = good_entries()
    e["readme.png"] = gray_img(7)  # beside the class folders, in no class
    ds = D.load_zip(make_zip(e))
    assert ds.classes == ("cats", "dogs") and len(ds.y_train) + len(ds.y_test) == 10
    assert "1 file(s) outside any class folder were ignored." in ds.notes


def patch_headers(data: bytes, offset: int, value: int, *, set_bits: bool = False) -> bytes:
    """``data`` with a 2-byte field at ``offset`` of every local and central header changed.

    Local headers (PK\\3\\4) hold the flag bits at +6 and the method at +8; central ones (PK\\1\\2)
    two bytes later. ``set_bits`` ORs ``value`` into the field instead of replacing it.
    """
    b = bytearray(data)
    for sig, shift in ((b"PK\x03\x04", 0), (b"PK\x01\x02", 2)):
        i = b.find(sig)
        while i >= 0:
            at = i + offset + shift
            old = struct.unpack_from("<H", b, at)[0]
            struct.pack_into("<H", b, at, (old | value) if set_bits else value)
            i = b.find(sig, i + 4)
    return bytes(b)


def test_zip_damaged_member_is_skipped_not_a_crash():
    data = bytearray(make_zip(good_entries()))
    info = zipfile.ZipFile(io.BytesIO(bytes(data))).getinfo("cats/1.png")
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    data[start : start + info.compress_size] = b"\x00" * info.compress_size  # not a deflate stream any more
    ds = D.load_zip(bytes(data))
    assert len(ds.y_train) + len(ds.y_test) == 9
    assert "1 file(s) were not readable images and were skipped." in ds.notes


def test_zip_password_protected_refused():
    data = patch_headers(make_zip(good_entries()), 6, 0x1, set_bits=True)
    with pytest.raises(D.DatasetUnavailable, match="password-protected"):
        D.load_zip(data)


def test_zip_unknown_compression_refused():
    data = patch_headers(make_zip(good_entries()), 8, 99)  # 99: AES, which zipfile cannot read
    with pytest.raises(D.DatasetUnavailable, match="compression method"):
        D.load_zip(data)


def test_package_exports_every_name_callers_use():
    used = {  # what app/, bench/, tests/ and the rest of cnn_core read as cnn_core.data.X
        "ASSETS",
        "CACHE_ENV",
        "CIFAR10_CLASSES",
        "DATA_DIR_ENV",
        "SHAPE_CLASSES",
        "DatasetUnavailable",
        "ImageSet",
        "ZipLimits",
        "load_bundled",
        "load_full",
        "load_zip",
        "synthetic_shapes",
    }
    assert used <= set(D.__all__)
    assert all(hasattr(D, name) for name in D.__all__)
