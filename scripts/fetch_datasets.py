"""Prepare the full MNIST, Fashion-MNIST and CIFAR-10 in ConvLab's data folder, for a class offline.

::

    python scripts/fetch_datasets.py                          # download all three (torchvision's own download)
    python scripts/fetch_datasets.py --from /media/usb/datasets   # copy from a folder ...
    python scripts/fetch_datasets.py --from datasets.zip mnist    # ... or a zip, only MNIST
    python scripts/fetch_datasets.py --check                  # verify what is there, change nothing

The data folder is ``--data-dir``, else ``$CONVLAB_DATA_DIR``, else ``~/.cache/convlab/datasets``
(``cnn_core.data.default_data_root``). It ends up in the layout ``cnn_core.data.load_full`` and
``torchvision.datasets`` read with ``download=False``: ``MNIST/raw/`` and ``FashionMNIST/raw/`` with
the four uncompressed IDX files each, and CIFAR-10 as ``cifar-10-batches-py/`` (torchvision's
pickled batches) or ``cifar10-jpeg.zip`` (``train/<class>/*.jpg``, ``test/<class>/*.jpg``).

A source (folder or zip) may hold ``MNIST/raw/<file>``, ``MNIST/<file>`` (``FashionMNIST`` likewise),
each file plain or ``.gz``; ``cifar10-jpeg.zip``, ``cifar-10-python.tar.gz`` or ``cifar-10-batches-py/``;
inside one more folder is fine too (``datasets/MNIST/raw/...``). Every file is MD5-checked against
the published checksums before it is put in place (torchvision's table for the ``.gz`` downloads and
CIFAR-10's tarball and batches; the published MD5s of the uncompressed IDX files). The JPEG zip of
CIFAR-10 has no published checksum: every member's CRC is tested and it must hold CIFAR-10's
50,000 + 10,000 images in its 10 class folders. Nothing is written under a name taken from a source.

Exit codes: 0 every dataset asked for is there and checked; 1 a file is missing or damaged;
2 a bad command line or ``--from`` path; 3 a download failed (no network?); 4 the data folder
cannot be written (read-only, disk full).
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import os
import sys
import tarfile
import tempfile
import zipfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import IO

OK, DAMAGED, USAGE, NO_NETWORK, UNWRITABLE = 0, 1, 2, 3, 4
DATASETS = ("mnist", "fashion_mnist", "cifar10")
NICE = {"mnist": "MNIST", "fashion_mnist": "Fashion-MNIST", "cifar10": "CIFAR-10"}
FOLDERS = {"mnist": ("MNIST",), "fashion_mnist": ("FashionMNIST", "fashion_mnist", "Fashion-MNIST", "fashion-mnist")}
IDX = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
# torchvision lists the MD5s of the .gz downloads only; these are the published MD5s of the files inside.
RAW_MD5 = {
    "mnist": {
        "train-images-idx3-ubyte": "6bbc9ace898e44ae57da46a324031adb",
        "train-labels-idx1-ubyte": "a25bea736e30d166cdddb491f175f624",
        "t10k-images-idx3-ubyte": "2646ac647ad5339dbf082846283269ea",
        "t10k-labels-idx1-ubyte": "27ae3e4e09519cfbb04c329615203637",
    },
    "fashion_mnist": {
        "train-images-idx3-ubyte": "f4a8712d7a061bf5bd6d2ca38dc4d50a",
        "train-labels-idx1-ubyte": "9018921c3c673c538a1fc5bad174d6f9",
        "t10k-images-idx3-ubyte": "8181f5470baa50b63fa0f6fddb340f0a",
        "t10k-labels-idx1-ubyte": "15d484375f8d13e6eb1aabb0c3f46965",
    },
}
CIFAR_BATCHES = "cifar-10-batches-py"
CIFAR_TARBALL = "cifar-10-python.tar.gz"
CIFAR_ZIP = "cifar10-jpeg.zip"
CIFAR_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
CIFAR_COUNTS = {"train": 5000, "test": 1000}  # images per class in each split
MAX_FILE_BYTES = 512 * 2**20  # larger than any file of these sets: a bigger one is refused, not written
CHUNK = 2**20


class FetchError(Exception):
    """A sentence for the person running the script, and the exit code that goes with it."""

    def __init__(self, sentence: str, code: int) -> None:
        super().__init__(sentence)
        self.code = code


def torchvision_md5() -> dict[str, dict[str, str]]:
    """dataset -> {file name -> MD5}, as ``torchvision.datasets`` publishes them."""
    from torchvision import datasets

    c = datasets.CIFAR10
    return {
        "mnist": dict(datasets.MNIST.resources),
        "fashion_mnist": dict(datasets.FashionMNIST.resources),
        "cifar10": {c.filename: c.tgz_md5, c.meta["filename"]: c.meta["md5"], **dict(c.train_list + c.test_list)},
    }


def expected_files(key: str) -> dict[str, str]:
    """The files a ready dataset has in the data folder (CIFAR-10: its batches) -> their MD5."""
    if key == "cifar10":
        md5 = torchvision_md5()["cifar10"]
        return {f"{CIFAR_BATCHES}/{name}": m for name, m in md5.items() if name != CIFAR_TARBALL}
    return {f"{FOLDERS[key][0]}/raw/{name}": RAW_MD5[key][name] for name in IDX}


def md5_of(stream: IO[bytes]) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    while block := stream.read(CHUNK):
        digest.update(block)
    return digest.hexdigest()


def file_md5(path: Path) -> str:
    with path.open("rb") as f:
        return md5_of(f)


def bad_checksum(what: str, got: str, want: str) -> str:
    return f"{what} is damaged or not the published file: its MD5 is {got}, the published one is {want}."


# --- checking the data folder ---


def check(key: str, root: Path) -> list[str]:
    """Sentences saying what is missing or damaged; empty when the dataset is ready."""
    if key == "cifar10" and (root / CIFAR_ZIP).exists():
        return check_cifar_zip(root / CIFAR_ZIP)
    problems = []
    for rel, want in expected_files(key).items():
        path = root / rel
        if not path.is_file():
            problems.append(f"{path} is missing.")
        elif (got := file_md5(path)) != want:
            problems.append(bad_checksum(str(path), got, want))
    if len(problems) == len(expected_files(key)) and all(p.endswith(" is missing.") for p in problems):
        if key == "cifar10":
            return [f"not in {root}: neither {CIFAR_ZIP} nor {CIFAR_BATCHES}/ is there."]
        return [f"not in {root / FOLDERS[key][0] / 'raw'}: none of its four files is there."]
    return problems


def ready_line(key: str, root: Path) -> str:
    if key == "cifar10" and (root / CIFAR_ZIP).exists():
        return f"ready in {root / CIFAR_ZIP} (every member's CRC and the 60,000 images per class folder checked)."
    return f"ready in {root}, MD5 checked."


def check_cifar_zip(path: Path) -> list[str]:
    """Every member's CRC, and CIFAR-10's class folders with their image counts."""
    try:
        with zipfile.ZipFile(path) as zf:
            if (broken := zf.testzip()) is not None:
                return [f"{path} is damaged: its member {broken} fails its CRC check."]
            counts = Counter(
                (p.parts[-3], p.parts[-2])
                for p in (PurePosixPath(n) for n in zf.namelist())
                if len(p.parts) >= 3 and p.suffix.lower() in (".jpg", ".jpeg", ".png")
            )
    except (zipfile.BadZipFile, OSError) as exc:
        return [f"{path} is not a readable zip ({exc})."]
    wrong = [
        f"{split}/{cls}: {counts.get((split, cls), 0)}"
        for split, want in CIFAR_COUNTS.items()
        for cls in CIFAR_CLASSES
        if counts.get((split, cls), 0) != want
    ]
    if wrong:
        want_text = " and ".join(f"{n:,} in each {s}/<class>/" for s, n in CIFAR_COUNTS.items())
        return [f"{path} does not hold CIFAR-10 ({want_text}); it has {', '.join(wrong[:4])}."]
    return []


# --- sources: a folder or a zip ---


class Source:
    """A folder or zip to copy from; files are found by the paths this script knows, never walked."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._zip: zipfile.ZipFile | None = None
        self._members: list[str] = []
        if path.is_file():
            try:
                self._zip = zipfile.ZipFile(path)
            except (zipfile.BadZipFile, OSError) as exc:
                raise FetchError(f"--from {path} is neither a folder nor a readable zip ({exc}).", USAGE) from None
            self._members = [n for n in self._zip.namelist() if not n.endswith("/")]
        elif not path.is_dir():
            raise FetchError(f"--from {path} does not exist.", USAGE)

    def is_cifar_zip(self) -> bool:
        """The source zip is itself CIFAR-10 as JPEG class folders."""
        return self._zip is not None and any(PurePosixPath(n).parts[:1] == ("train",) for n in self._members)

    def find(self, rel: str) -> str | None:
        """The source's name for ``rel`` (at the top, or one folder down), or None."""
        if self._zip is not None:
            return next((n for n in self._members if n == rel or n.endswith("/" + rel)), None)
        for candidate in (self.path / rel, *(d / rel for d in sorted(self.path.iterdir()) if d.is_dir())):
            if candidate.is_file():
                return str(candidate)
        return None

    def open(self, name: str) -> IO[bytes]:
        if self._zip is not None:
            return self._zip.open(name)
        return open(name, "rb")  # noqa: SIM115  (the caller closes it)

    def label(self, name: str) -> str:
        return f"{self.path}:{name}" if self._zip is not None else name


def read_block(stream: IO[bytes], what: str) -> bytes:
    """One chunk of a source file; a truncated or damaged one (bad gzip data, a zip CRC) is a sentence."""
    try:
        return stream.read(CHUNK)
    except (OSError, EOFError, zipfile.BadZipFile) as exc:
        raise FetchError(f"{what} could not be read: it is truncated or damaged ({exc}).", DAMAGED) from None


def write_checked(stream: IO[bytes], dest: Path, want: str | None, what: str) -> str:
    """Copy ``stream`` to ``dest`` through a temp file; put it in place only if its MD5 is ``want``."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", dir=dest.parent)
    tmp = Path(tmp_name)
    digest, size = hashlib.md5(usedforsecurity=False), 0
    try:
        with os.fdopen(fd, "wb") as out:
            while block := read_block(stream, what):
                size += len(block)
                if size > MAX_FILE_BYTES:
                    raise FetchError(f"{what} is larger than any file of these datasets; it was not copied.", DAMAGED)
                digest.update(block)
                out.write(block)
        got = digest.hexdigest()
        if want is not None and got != want:
            raise FetchError(bad_checksum(what, got, want) + " It was not copied.", DAMAGED)
        os.replace(tmp, dest)
        return got
    finally:
        tmp.unlink(missing_ok=True)


def copy_idx(source: Source, key: str, root: Path) -> None:
    gz_md5 = torchvision_md5()[key]
    for name in IDX:
        dest = root / FOLDERS[key][0] / "raw" / name
        rels = [f"{folder}/{sub}{name}" for folder in FOLDERS[key] for sub in ("raw/", "")]
        plain = next((n for n in map(source.find, rels) if n), None)
        if plain is not None:
            with source.open(plain) as f:
                write_checked(f, dest, RAW_MD5[key][name], source.label(plain))
            continue
        packed = next((n for n in (source.find(r + ".gz") for r in rels) if n), None)
        if packed is None:
            raise FetchError(f"{name} (or {name}.gz) is not in {source.path} under {rels[0]}.", DAMAGED)
        with tempfile.TemporaryDirectory(dir=root) as tmp:
            gz = Path(tmp) / f"{name}.gz"
            with source.open(packed) as f:
                write_checked(f, gz, gz_md5[f"{name}.gz"], source.label(packed))
            with gzip.open(gz, "rb") as f:
                write_checked(f, dest, RAW_MD5[key][name], f"the file inside {source.label(packed)}")


def copy_cifar(source: Source, root: Path) -> None:
    if source.is_cifar_zip():
        with source.path.open("rb") as f:
            write_checked(f, root / CIFAR_ZIP, None, str(source.path))
        return
    if (name := source.find(CIFAR_ZIP)) is not None:
        with source.open(name) as f:
            write_checked(f, root / CIFAR_ZIP, None, source.label(name))
        return
    md5 = torchvision_md5()["cifar10"]
    if (tarball := source.find(CIFAR_TARBALL)) is not None:
        with tempfile.TemporaryDirectory(dir=root) as tmp:
            local = Path(tmp) / CIFAR_TARBALL
            with source.open(tarball) as f:
                write_checked(f, local, md5[CIFAR_TARBALL], source.label(tarball))
            with tarfile.open(local, "r:gz") as tar:
                for rel, want in expected_files("cifar10").items():
                    member = tar.getmember(rel) if rel in tar.getnames() else None
                    stream = tar.extractfile(member) if member is not None and member.isfile() else None
                    if stream is None:
                        raise FetchError(f"{source.label(tarball)} has no {rel}.", DAMAGED)
                    with stream:
                        write_checked(stream, root / rel, want, f"{rel} in {source.label(tarball)}")
        return
    for rel, want in expected_files("cifar10").items():
        if (name := source.find(rel)) is None:
            raise FetchError(
                f"CIFAR-10 is not in {source.path}: none of {CIFAR_ZIP}, {CIFAR_TARBALL} or {CIFAR_BATCHES}/ "
                f"(missing {rel}).",
                DAMAGED,
            )
        with source.open(name) as f:
            write_checked(f, root / rel, want, source.label(name))


def download(key: str, root: Path) -> None:
    """torchvision's own download (its mirrors, its MD5 checks, its extraction) into ``root``."""
    from urllib.error import URLError

    from torchvision import datasets

    cls: Callable[..., object] = {"mnist": datasets.MNIST, "fashion_mnist": datasets.FashionMNIST}.get(
        key, datasets.CIFAR10
    )
    try:
        for train in (True, False):
            cls(str(root), train=train, download=True)
    except (URLError, RuntimeError, OSError) as exc:
        reason = str(exc).strip().splitlines()
        raise FetchError(
            f"could not be downloaded ({reason[-1] if reason else type(exc).__name__}). Without a network, "
            "copy it from a folder or zip that has it: fetch_datasets.py --from FOLDER_OR_ZIP.",
            NO_NETWORK,
        ) from None


def prepare(key: str, root: Path, source: Source | None) -> None:
    if not check(key, root):
        print(f"{NICE[key]}: already there, {ready_line(key, root)}")
        return
    try:
        root.mkdir(parents=True, exist_ok=True)
        if source is None:
            print(f"{NICE[key]}: downloading into {root} ...")
            download(key, root)
        elif key == "cifar10":
            copy_cifar(source, root)
        else:
            copy_idx(source, key, root)
    except OSError as exc:
        why = "the disk is full" if exc.errno == 28 else (exc.strerror or str(exc))
        raise FetchError(f"could not be written into {root}: {why}.", UNWRITABLE) from None
    if problems := check(key, root):
        raise FetchError(" ".join(problems), DAMAGED)
    print(f"{NICE[key]}: {ready_line(key, root)}")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="fetch_datasets.py", description="Prepare the full datasets in ConvLab's data folder, MD5-checked."
    )
    parser.add_argument("datasets", nargs="*", metavar="DATASET", help=f"any of {', '.join(DATASETS)} [all]")
    parser.add_argument(
        "--data-dir", type=Path, help="the data folder [$CONVLAB_DATA_DIR or ~/.cache/convlab/datasets]"
    )
    parser.add_argument("--from", dest="source", type=Path, metavar="FOLDER_OR_ZIP", help="copy instead of downloading")
    parser.add_argument("--check", action="store_true", help="verify what is in the data folder; change nothing")
    args = parser.parse_args(argv)
    args.datasets = [d.lower().replace("-", "_") for d in args.datasets] or list(DATASETS)
    if unknown := [d for d in args.datasets if d not in DATASETS]:
        parser.error(f"unknown dataset {unknown[0]!r}; choose from {', '.join(DATASETS)}")
    return args


def default_root() -> Path:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from cnn_core.data.full import default_data_root

    return default_data_root()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    root = (args.data_dir or default_root()).expanduser()
    if args.check:
        code = OK
        for key in args.datasets:
            problems = check(key, root)
            print(f"{NICE[key]}: " + (" ".join(problems) if problems else ready_line(key, root)))
            code = code or (DAMAGED if problems else OK)
        return code
    try:
        source = Source(args.source.expanduser()) if args.source else None
    except FetchError as exc:
        print(f"fetch_datasets.py: {exc}", file=sys.stderr)
        return exc.code
    code = OK
    for key in args.datasets:
        try:
            prepare(key, root, source)
        except FetchError as exc:
            print(f"{NICE[key]}: {exc}", file=sys.stderr)
            code = code or exc.code
    return code


if __name__ == "__main__":
    sys.exit(main())
