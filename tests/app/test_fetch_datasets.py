"""scripts/fetch_datasets.py: copying the full datasets from a folder or zip, MD5-checked, with no network.

Fake datasets are a few bytes each; their MD5s are computed here and put in the script's checksum
tables (monkeypatched), so every path of the script runs for real on tiny files. Downloads are
tried with ``urllib.request.urlopen`` replaced by one that fails as an offline machine does, so
torchvision's own download code runs and no network is used. Where ``../shared/datasets`` exists,
the real MNIST is copied from it and loaded with ``cnn_core.data.load_full``.
"""

from __future__ import annotations

import gzip
import hashlib
import importlib.util
import io
import subprocess
import sys
import tarfile
import urllib.request
import zipfile
from pathlib import Path
from urllib.error import URLError

import pytest

from tests.conftest import ROOT, SHARED

SCRIPT = ROOT / "scripts" / "fetch_datasets.py"
_spec = importlib.util.spec_from_file_location("fetch_datasets", SCRIPT)
fd = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fd)

IDX = fd.IDX
BATCHES = ("batches.meta", "data_batch_1", "test_batch")


def md5(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def idx_bytes(key: str) -> dict[str, bytes]:
    return {name: f"{key} {name} payload".encode() for name in IDX}


@pytest.fixture
def tables(monkeypatch: pytest.MonkeyPatch) -> dict[str, dict[str, bytes]]:
    """Fake files for every dataset, and the script's checksum tables set to their MD5s."""
    files = {key: idx_bytes(key) for key in ("mnist", "fashion_mnist")}
    files["cifar10"] = {name: f"cifar {name}".encode() for name in BATCHES}
    gz = {
        key: {f"{n}.gz": gzip.compress(b, mtime=0) for n, b in files[key].items()} for key in ("mnist", "fashion_mnist")
    }
    tarball = io.BytesIO()
    with tarfile.open(fileobj=tarball, mode="w:gz") as tar:
        for name, data in files["cifar10"].items():
            info = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    files["cifar_tarball"] = {fd.CIFAR_TARBALL: tarball.getvalue()}
    files.update({f"{key}_gz": gz[key] for key in gz})
    monkeypatch.setattr(fd, "RAW_MD5", {key: {n: md5(b) for n, b in files[key].items()} for key in gz})
    published = {key: {n: md5(b) for n, b in gz[key].items()} for key in gz}
    published["cifar10"] = {
        fd.CIFAR_TARBALL: md5(tarball.getvalue()),
        **{n: md5(b) for n, b in files["cifar10"].items()},
    }
    monkeypatch.setattr(fd, "torchvision_md5", lambda: published)
    monkeypatch.setattr(fd, "CIFAR_COUNTS", {"train": 2, "test": 1})
    return files


def write_tree(root: Path, files: dict[str, bytes]) -> Path:
    for rel, data in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    return root


def cifar_jpeg_zip(path: Path, per_class: dict[str, int], skip: str | None = None) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for split, n in per_class.items():
            for cls in fd.CIFAR_CLASSES:
                if cls == skip:
                    continue
                for i in range(n):
                    zf.writestr(f"{split}/{cls}/{i:04d}.jpg", f"{split}{cls}{i}")
    return path


def test_a_folder_of_plain_idx_files_is_copied_byte_for_byte_and_then_checks_ready(tables, tmp_path, capsys):
    src = write_tree(tmp_path / "usb", {f"MNIST/raw/{n}": b for n, b in tables["mnist"].items()})
    data = tmp_path / "data"
    assert fd.main(["--data-dir", str(data), "--from", str(src), "mnist"]) == fd.OK
    for name, content in tables["mnist"].items():
        assert (data / "MNIST" / "raw" / name).read_bytes() == content
    assert f"MNIST: ready in {data}, MD5 checked." in capsys.readouterr().out
    assert fd.main(["--data-dir", str(data), "--check", "mnist"]) == fd.OK
    assert fd.main(["--data-dir", str(data), "--from", str(src), "mnist"]) == fd.OK
    assert f"MNIST: already there, ready in {data}, MD5 checked." in capsys.readouterr().out


def test_a_zip_of_gz_files_one_folder_down_is_unpacked_into_the_torchvision_layout(tables, tmp_path):
    src = tmp_path / "class.zip"
    with zipfile.ZipFile(src, "w") as zf:
        for name, data in tables["fashion_mnist_gz"].items():
            zf.writestr(f"datasets/FashionMNIST/{name}", data)
    data = tmp_path / "data"
    assert fd.main(["--data-dir", str(data), "--from", str(src), "fashion-mnist"]) == fd.OK
    assert sorted(p.name for p in (data / "FashionMNIST" / "raw").iterdir()) == sorted(IDX)
    for name, content in tables["fashion_mnist"].items():
        assert (data / "FashionMNIST" / "raw" / name).read_bytes() == content


def test_a_corrupt_file_is_refused_with_the_sentence_and_never_put_in_place(tables, tmp_path, capsys):
    files = {f"MNIST/raw/{n}": b for n, b in tables["mnist"].items()}
    files["MNIST/raw/t10k-images-idx3-ubyte"] = b"one flipped byte"
    src = write_tree(tmp_path / "usb", files)
    data = tmp_path / "data"
    assert fd.main(["--data-dir", str(data), "--from", str(src), "mnist"]) == fd.DAMAGED
    want = fd.RAW_MD5["mnist"]["t10k-images-idx3-ubyte"]
    sentence = (
        f"MNIST: {src}/MNIST/raw/t10k-images-idx3-ubyte is damaged or not the published file: "
        f"its MD5 is {md5(b'one flipped byte')}, the published one is {want}. It was not copied."
    )
    assert sentence in capsys.readouterr().err
    assert not (data / "MNIST" / "raw" / "t10k-images-idx3-ubyte").exists()
    assert not [p for p in (data / "MNIST" / "raw").iterdir() if p.name.startswith(".")], "a temp file was left"


def test_a_truncated_gz_is_a_sentence_not_a_traceback(tables, tmp_path, capsys):
    gz = dict(tables["mnist_gz"])
    gz["train-images-idx3-ubyte.gz"] = gz["train-images-idx3-ubyte.gz"][:-6]
    fd.torchvision_md5()["mnist"]["train-images-idx3-ubyte.gz"] = md5(gz["train-images-idx3-ubyte.gz"])
    src = write_tree(tmp_path / "usb", {f"MNIST/{n}": b for n, b in gz.items()})
    assert fd.main(["--data-dir", str(tmp_path / "data"), "--from", str(src), "mnist"]) == fd.DAMAGED
    err = capsys.readouterr().err
    assert (
        f"the file inside {src}/MNIST/train-images-idx3-ubyte.gz could not be read: it is truncated or damaged" in err
    )
    assert "Traceback" not in err


def test_check_names_each_damaged_or_missing_file(tables, tmp_path, capsys):
    data = tmp_path / "data"
    assert fd.main(["--data-dir", str(data), "--check", "mnist", "cifar10"]) == fd.DAMAGED
    out = capsys.readouterr().out
    assert f"MNIST: not in {data}/MNIST/raw: none of its four files is there." in out
    assert f"CIFAR-10: not in {data}: neither cifar10-jpeg.zip nor cifar-10-batches-py/ is there." in out
    write_tree(data, {f"MNIST/raw/{n}": b for n, b in tables["mnist"].items()})
    (data / "MNIST" / "raw" / "train-labels-idx1-ubyte").write_bytes(b"garbage")
    (data / "MNIST" / "raw" / "t10k-labels-idx1-ubyte").unlink()
    assert fd.main(["--data-dir", str(data), "--check", "mnist"]) == fd.DAMAGED
    out = capsys.readouterr().out
    assert (
        f"{data}/MNIST/raw/train-labels-idx1-ubyte is damaged or not the published file: its MD5 is {md5(b'garbage')}"
        in out
    )
    assert f"{data}/MNIST/raw/t10k-labels-idx1-ubyte is missing." in out
    assert "train-images-idx3-ubyte" not in out


def test_cifar10_from_its_tarball_and_from_its_batches_folder(tables, tmp_path):
    for name, src in (
        ("tarball", write_tree(tmp_path / "a", tables["cifar_tarball"])),
        ("batches", write_tree(tmp_path / "b", {f"cifar-10-batches-py/{n}": b for n, b in tables["cifar10"].items()})),
    ):
        data = tmp_path / f"data_{name}"
        assert fd.main(["--data-dir", str(data), "--from", str(src), "cifar10"]) == fd.OK, name
        for batch, content in tables["cifar10"].items():
            assert (data / "cifar-10-batches-py" / batch).read_bytes() == content


def test_cifar10_as_a_jpeg_zip_is_copied_when_whole_and_refused_when_a_class_is_missing(tables, tmp_path, capsys):
    whole = cifar_jpeg_zip(tmp_path / "cifar10-jpeg.zip", {"train": 2, "test": 1})
    data = tmp_path / "data"
    assert fd.main(["--data-dir", str(data), "--from", str(whole), "cifar10"]) == fd.OK
    assert (data / "cifar10-jpeg.zip").read_bytes() == whole.read_bytes()
    assert "every member's CRC" in capsys.readouterr().out

    partial = tmp_path / "p"
    partial.mkdir()
    cifar_jpeg_zip(partial / "cifar10-jpeg.zip", {"train": 2, "test": 1}, skip="frog")
    data2 = tmp_path / "data2"
    assert fd.main(["--data-dir", str(data2), "--from", str(partial), "cifar10"]) == fd.DAMAGED
    err = capsys.readouterr().err
    assert "does not hold CIFAR-10 (2 in each train/<class>/ and 1 in each test/<class>/); it has train/frog: 0" in err


def test_offline_download_fails_with_a_sentence_and_exit_code_3(monkeypatch, tmp_path, capsys):
    calls: list[str] = []

    def offline(request, *args, **kwargs):
        calls.append(getattr(request, "full_url", str(request)))
        raise URLError(OSError(-2, "Name or service not known"))

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    assert fd.main(["--data-dir", str(tmp_path), "mnist"]) == fd.NO_NETWORK
    err = capsys.readouterr().err
    assert "MNIST: could not be downloaded (" in err
    assert "Without a network, copy it from a folder or zip that has it: fetch_datasets.py --from FOLDER_OR_ZIP." in err
    assert calls and all(url.endswith("train-images-idx3-ubyte.gz") for url in calls), calls  # torchvision's mirrors


def test_a_data_folder_that_cannot_be_written_and_a_missing_source_are_sentences(tables, tmp_path, capsys):
    src = write_tree(tmp_path / "usb", {f"MNIST/raw/{n}": b for n, b in tables["mnist"].items()})
    blocked = tmp_path / "not_a_folder"
    blocked.write_text("a file where the data folder should be")
    assert fd.main(["--data-dir", str(blocked), "--from", str(src), "mnist"]) == fd.UNWRITABLE
    assert f"MNIST: could not be written into {blocked}: " in capsys.readouterr().err
    assert fd.main(["--data-dir", str(tmp_path), "--from", str(tmp_path / "nowhere")]) == fd.USAGE
    assert f"--from {tmp_path / 'nowhere'} does not exist." in capsys.readouterr().err


def test_the_script_runs_from_the_command_line(tmp_path):
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--check", "--data-dir", str(tmp_path), "fashion_mnist"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1, done.stderr
    assert done.stdout.strip() == f"Fashion-MNIST: not in {tmp_path}/FashionMNIST/raw: none of its four files is there."


@pytest.mark.slow
def test_the_real_mnist_copied_from_shared_datasets_loads_in_convlab(tmp_path):
    if not (SHARED / "datasets" / "MNIST" / "raw").is_dir():
        pytest.skip("../shared/datasets/MNIST is absent on this machine: the real-data copy is skipped")
    from cnn_core.data import load_full

    assert fd.main(["--data-dir", str(tmp_path), "--from", str(SHARED / "datasets"), "mnist"]) == fd.OK
    assert fd.main(["--data-dir", str(tmp_path), "--check", "mnist"]) == fd.OK
    ds = load_full("mnist", root=tmp_path, download=False)
    assert tuple(ds.x_train.shape) == (60_000, 1, 28, 28)
    assert tuple(ds.x_test.shape) == (10_000, 1, 28, 28)
    assert str(tmp_path) in ds.source
