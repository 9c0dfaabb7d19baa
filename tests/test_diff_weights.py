"""`rnngraph diff` weights without TensorFlow: the checkpoint reader on crafted (and hostile) files,
the exit status of an identical structure with other values, LiteRT dequantisation."""

from __future__ import annotations

import json
import struct

import numpy as np
import pytest

from rnngraph.cli import main
from rnngraph.errors import GraphFileError
from rnngraph.graphdef import protos
from rnngraph.graphdef.checkpoint import read_bundle
from rnngraph.graphdef.loaders import masked_crc32c


def _varint(n: int) -> bytes:
    out = b""
    while True:
        byte, n = n & 0x7F, n >> 7
        out += bytes([byte | (0x80 if n else 0)])
        if not n:
            return out


def _block(entries: list) -> bytes:
    """A table block (no prefix sharing, one restart point) with its type byte and CRC."""
    body = b"".join(_varint(0) + _varint(len(k)) + _varint(len(v)) + k + v for k, v in entries)
    body += struct.pack("<II", 0, 1)
    return body + b"\x00" + struct.pack("<I", masked_crc32c(body + b"\x00"))


def _table(entries: dict) -> bytes:
    """A LevelDB-format table as TensorFlow's TableBuilder lays it out: data, meta index, index, footer."""
    data = _block(sorted(entries.items()))
    meta = _block([])
    handle = _varint(0) + _varint(len(data) - 5)
    index = _block([(max(entries), handle)])
    footer = (_varint(len(data)) + _varint(len(meta) - 5)
              + _varint(len(data) + len(meta)) + _varint(len(index) - 5))
    footer = footer.ljust(40, b"\x00") + struct.pack("<Q", 0xDB4775248B80FB57)
    return data + meta + index + footer


def _checkpoint(folder, arrays: dict, **override) -> None:
    """Write variables/variables.{index,data-00000-of-00001} holding float32 ``arrays``."""
    folder.mkdir(parents=True, exist_ok=True)
    entries, blob = {b"": protos.BundleHeaderProto(num_shards=1).SerializeToString()}, b""
    for key, value in arrays.items():
        raw = np.asarray(value, "<f4").tobytes()
        entry = protos.BundleEntryProto(dtype=protos.DTYPE_ENUM["DT_FLOAT"], offset=len(blob),
                                        size=len(raw), crc32c=masked_crc32c(raw))
        for d in np.shape(value):
            entry.shape.dim.add().size = d
        for field, new in override.get(key, {}).items():
            if field == "shape":
                del entry.shape.dim[:]
                for d in new:
                    entry.shape.dim.add().size = d
            else:
                setattr(entry, field, new)
        entries[key.encode()] = entry.SerializeToString()
        blob += raw
    (folder / "variables.index").write_bytes(_table(entries))
    (folder / "variables.data-00000-of-00001").write_bytes(blob)


def _saved_model(folder, arrays: dict, **override) -> None:
    """A SavedModel whose graph reads one VarHandleOp per array (the keys are the variable names)."""
    saved = protos.SavedModel()
    graph = saved.meta_graphs.add().graph_def
    for name, value in arrays.items():
        var = graph.node.add(name=name, op="VarHandleOp")
        var.attr["dtype"].type = protos.DTYPE_ENUM["DT_FLOAT"]
        for d in np.shape(value):
            var.attr["shape"].shape.dim.add().size = d
        read = graph.node.add(name=f"{name}/Read", op="ReadVariableOp", input=[name])
        read.attr["dtype"].type = protos.DTYPE_ENUM["DT_FLOAT"]
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "saved_model.pb").write_bytes(saved.SerializeToString())
    _checkpoint(folder / "variables", arrays, **override)


W = np.arange(6, dtype="float32").reshape(2, 3) / 8
B = np.array([0.5, -0.25], "float32")


def test_reads_what_it_is_given(tmp_path):
    _checkpoint(tmp_path, {"w": W, "b": B})
    values = read_bundle(tmp_path / "variables")
    assert set(values) == {"w", "b"}
    assert np.array_equal(values["w"], W) and np.array_equal(values["b"], B)


def _diff(capsys, a, b, *extra) -> tuple:
    code = main(["diff", str(a), str(b), *extra])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_one_changed_weight_exits_1_and_is_named(tmp_path, capsys):
    changed = W.copy()
    changed[1, 2] += 0.75
    _saved_model(tmp_path / "a", {"w": W, "b": B})
    _saved_model(tmp_path / "b", {"w": changed, "b": B})
    code, out, _ = _diff(capsys, tmp_path / "a", tmp_path / "b")
    assert code == 1
    assert "identical structure: all 4 nodes match; the values of 1 weight differ" in out
    assert "weights: 1 of 2 compared weights differ" in out
    assert "  w (2, 3): largest |Δ| 0.75, mean |Δ| 0.125" in out
    code, out, _ = _diff(capsys, tmp_path / "a", tmp_path / "b", "--json")
    report = json.loads(out)
    assert report["weights"]["differ"] == [{"a": "w", "b": "w", "shape": [2, 3], "max_abs": 0.75,
                                            "mean_abs": 0.125}]
    assert report["summary"]["identical"] and report["summary"]["weights_differ"] == 1
    code, out, _ = _diff(capsys, tmp_path / "a", tmp_path / "a")
    assert code == 0 and "weights: all 2 compared weights are equal" in out


HOSTILE = {
    "past the end": ({"w": {"size": 10**15}}, "declares 1000000000000000 bytes at offset 0, past the end"),
    "offset": ({"w": {"offset": 2**62}}, "past the end of variables.data-00000-of-00001 (32 bytes)"),
    "huge shape": ({"w": {"shape": [10**9, 10**9]}}, "declares 24 bytes"),
    "crc": ({"w": {"crc32c": 12345}}, "fail their CRC"),
    "shard": ({"w": {"shard_id": 7}}, "names shard 7"),
    # two entries sharing bytes: reading could cost far more than the file
    "overlap": ({"b": {"offset": 0, "size": 24}}, "its entries declare 48 bytes in all, more than"),
    # no values, so no bytes and a true CRC, but a shape numpy cannot make (the checkpoint fuzz)
    "empty but vast": ({"w": {"shape": [0, 2**62], "size": 0, "crc32c": masked_crc32c(b"")}},
                       "which no array can have"),
}


@pytest.mark.parametrize("case", HOSTILE, ids=list(HOSTILE))
def test_hostile_index_is_one_line(tmp_path, capsys, case):
    override, message = HOSTILE[case]
    _saved_model(tmp_path / "a", {"w": W, "b": B})
    _saved_model(tmp_path / "b", {"w": W, "b": B}, **override)
    code, out, err = _diff(capsys, tmp_path / "a", tmp_path / "b")
    assert code == 1 and out == ""
    assert len(err.strip().splitlines()) == 1 and message in err, err
    assert "Traceback" not in err and "Error" not in err.split(":")[0]


def test_damaged_or_foreign_index(tmp_path):
    _checkpoint(tmp_path, {"w": W})
    index = tmp_path / "variables.index"
    good = index.read_bytes()
    index.write_bytes(b"not a table" * 10)
    with pytest.raises(GraphFileError, match="does not end with a table's magic number"):
        read_bundle(tmp_path / "variables")
    index.write_bytes(good[:3] + bytes([good[3] ^ 0xFF]) + good[4:])
    with pytest.raises(GraphFileError, match="fails its CRC"):
        read_bundle(tmp_path / "variables")
    index.write_bytes(good[-48:])  # a footer pointing at blocks that are not there
    with pytest.raises(GraphFileError, match="lies past the end"):
        read_bundle(tmp_path / "variables")


def test_savedmodel_without_checkpoint_compares_nothing(tmp_path, capsys):
    _saved_model(tmp_path / "a", {"w": W})
    _saved_model(tmp_path / "b", {"w": W})
    for path in (tmp_path / "b" / "variables").iterdir():
        path.unlink()
    code, out, _ = _diff(capsys, tmp_path / "a", tmp_path / "b")
    assert code == 0 and "weights: no matched weights of equal shape hold values in both files" in out
    assert "B: there is no checkpoint index" in out and "variables.index: no weights to compare" in out


def test_dequantised_per_channel_as_the_schema_defines():
    from rnngraph.graphdef.tflite import _dequantised

    q = np.array([[1, -2, 3], [4, 5, -6]], np.int8)
    quant = {"scale": [0.5, 0.25], "zero_point": [1, -1], "dimension": 0}
    expected = np.array([[0.0, -1.5, 1.0], [1.25, 1.5, -1.25]])
    assert np.array_equal(_dequantised(q, quant, [2, 3]), expected)
    per_tensor = {"scale": [0.5], "zero_point": [2], "dimension": 0}
    assert np.array_equal(_dequantised(q, per_tensor, [2, 3]), (q.astype(float) - 2) * 0.5)
    assert _dequantised(q, {"scale": [1.0, 2.0, 3.0], "zero_point": [0], "dimension": 0}, [2, 3]) is None
