"""A file no graph reader parses gets one line naming what it is (issue 21), from real bytes of
each format, made here with the format's own writer (h5py, zipfile, numpy, flatbuffers, pickle,
gzip, TensorFlow's checkpoint writer) or, for ONNX, its protobuf wire format by hand."""

from __future__ import annotations

import gzip
import io
import json
import pickle

import numpy as np
import pytest

from fuzzing import _zip_with as _zip  # the fuzzer's zip writer: members as given
from rnngraph.cli import main
from rnngraph.graphdef.formats import identify, unreadable_message


def _h5() -> bytes:
    h5py = pytest.importorskip("h5py")  # installed with TensorFlow

    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as f:
        f.create_dataset("model_weights/lstm/kernel", data=np.zeros((3, 16), np.float32))
        f.attrs["model_config"] = json.dumps({"class_name": "Sequential", "config": {}})
    return buffer.getvalue()



def _tflite() -> bytes:
    flatbuffers = pytest.importorskip("flatbuffers")  # installed with TensorFlow

    builder = flatbuffers.Builder(64)
    builder.StartObject(1)
    builder.PrependUint32Slot(0, 3, 0)  # Model.version = 3
    builder.Finish(builder.EndObject(), file_identifier=b"TFL3")
    return bytes(builder.Output())


def _npy() -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, np.arange(4.0))
    return buffer.getvalue()


def _npz() -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, a=np.arange(3), b=np.ones(2))
    return buffer.getvalue()


def _field(number: int, payload: bytes) -> bytes:
    return bytes([number << 3 | 2, len(payload)]) + payload


def _onnx() -> bytes:
    # ModelProto: ir_version 8, producer_name, graph {node {op_type "LSTM"} name "g"}, opset_import.
    graph = _field(1, _field(4, b"LSTM")) + _field(2, b"g")
    return b"\x08\x08" + _field(2, b"pytorch") + _field(7, graph) + _field(8, b"\x10\x11")


SAMPLES = {
    "tflite": (_tflite, "a LiteRT (TFLite) flatbuffer"),
    "h5": (_h5, "an HDF5 file"),
    "keras": (lambda: _zip({"metadata.json": "{}", "config.json": "{}",
                            "model.weights.h5": _h5()}), "a Keras archive"),
    "zip": (lambda: _zip({"notes/readme.txt": "hello"}), "a zip archive of 1 member"),
    "zip-config-only": (lambda: _zip({"config.json": "{}"}), "not a Keras archive"),
    "torch": (lambda: _zip({"archive/data.pkl": pickle.dumps({"w": 1}, protocol=2),
                            "archive/version": "3\n"}), "a PyTorch archive"),
    "pickle": (lambda: pickle.dumps({"state_dict": [1, 2]}, protocol=2), "a Python pickle (protocol 2"),
    "npy": (_npy, "a NumPy .npy array"),
    "npz": (_npz, "a NumPy .npz archive of 2 arrays"),
    "gzip": (lambda: gzip.compress(b"node { name: 'x' op: 'Const' }"), "a gzip-compressed file"),
    "onnx": (_onnx, "an ONNX model"),
    "json": (lambda: b'{"a": [1, 2]}', "a JSON file"),
    "keras-json": (lambda: json.dumps({"class_name": "Sequential", "config": {"layers": []}}).encode(),
                   "a Keras model config in JSON (class 'Sequential')"),
    "text": (lambda: "hello, world\nsecond line\n".encode(), "a plain text file"),
    "damaged-zip": (lambda: b"PK\x03\x04" + b"\0" * 40, "a damaged zip archive"),
}


@pytest.mark.parametrize("key", sorted(SAMPLES))
def test_each_format_is_named(key):
    make, name = SAMPLES[key]
    found = identify(make())
    assert found is not None and name in found.name, found


@pytest.mark.parametrize("key", ["torch", "onnx", "npz", "pickle"])
def test_the_cli_says_what_the_file_is_in_one_line(capsys, tmp_path, key):
    make, name = SAMPLES[key]
    path = tmp_path / f"model.{key}"
    path.write_bytes(make())
    status = main(["inspect", str(path)])
    _, err = capsys.readouterr()
    assert status == 1 and err.count("\n") == 1, err
    assert f"{path} is {name}" in err and "truncated" not in err
    assert "expected a GraphDef" in err  # and what rnngraph does read


def test_a_flatbuffer_without_a_subgraph_is_named_as_one(capsys, tmp_path):
    # .tflite files are read now (graphdef/tflite.py); an empty one still gets one line naming it
    path = tmp_path / "model.tflite"
    path.write_bytes(_tflite())
    status = main(["inspect", str(path)])
    _, err = capsys.readouterr()
    assert status == 1 and err.count("\n") == 1, err
    assert "LiteRT flatbuffer" in err and "truncated" not in err


def test_unknown_bytes_are_shown_not_guessed():
    message = unreadable_message("x.bin", bytes([0xff, 0xfe, 0x00, 0x07, 0x01, 0x02, 0x03, 0x04, 9]),
                                 "expected a graph")
    assert message == ("x.bin does not parse as a graph and has no file signature rnngraph knows "
                       "(it begins with bytes ff fe 00 07 01 02 03 04); expected a graph")


def test_a_protobuf_that_is_not_onnx_is_not_called_onnx():
    # Field 1 as a varint, but a field ModelProto does not have (9) and no graph.
    assert identify(b"\x08\x01" + _field(9, b"zz")) is None
    assert identify(b"\x08\x01") is None  # ir_version alone: no graph


def test_a_huge_zip_table_is_read_only_so_far():
    data = _zip({f"m{i}.txt": "" for i in range(12_000)})
    found = identify(data)
    assert found.name.startswith("a zip archive of 10000 members")


@pytest.mark.tf
def test_tensorflow_checkpoint_files_are_named(tmp_path):
    from rnngraph.model.tfcompat import tf as _tf

    tf = _tf()
    prefix = tf.train.Checkpoint(v=tf.Variable(np.ones(3, np.float32))).write(str(tmp_path / "ckpt"))
    index = (tmp_path / "ckpt.index").read_bytes()
    assert identify(index).name == "a TensorFlow checkpoint index (.index)"
    shard = next(tmp_path.glob("ckpt.data-*"))
    found = identify(shard.read_bytes(), str(shard))
    assert found is not None and "checkpoint data shard" in found.name, prefix
