"""Issue 24: event records are CRC-checked as TensorFlow checks them (masked CRC32C of length and data)."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from rnngraph.errors import GraphFileError
from rnngraph.graphdef import loaders
from rnngraph.graphdef.loaders import load_graph_def

EVENTS = (Path(__file__).parent / "fixtures" / "corpus" / "made" / "tensorboard_logdir"
          / "events.out.tfevents.1795946895.vm")


def _records(data: bytes) -> list:
    """Return (offset, length) of each TFRecord in ``data``."""
    found, offset = [], 0
    while offset < len(data):
        (length,) = struct.unpack("<Q", data[offset:offset + 8])
        found.append((offset, length))
        offset += 12 + length + 4
    return found


def _graph_record(data: bytes) -> int:
    # Records: file_version, graph_def (the one read), meta_graph_def.
    return next(offset for offset, length in _records(data) if length > 1000)


def _damage_a_name(data: bytearray) -> int:
    """Change one letter of a node name in the graph record (it still parses); return the record's offset."""
    offset = _graph_record(bytes(data))
    at = bytes(data).index(b"MatMul", offset + 12)
    data[at] = ord("N")
    return offset


def test_crc32c_known_answers(monkeypatch):
    # RFC 3720's check value; the pure-Python table and the C package agree.
    assert loaders._crc32c(b"123456789") == 0xE3069283
    monkeypatch.setattr(loaders, "google_crc32c", None)
    assert loaders._crc32c(b"123456789") == 0xE3069283
    assert loaders.masked_crc32c(b"") == 0xA282EAD8


def test_every_record_of_a_tensorflow_event_file_passes(capsys):
    graph, kind = load_graph_def(EVENTS)
    assert kind == "events" and len(graph.node) > 10 and capsys.readouterr().err == ""


def test_a_graph_record_that_fails_its_crc_is_refused(tmp_path):
    data = bytearray(EVENTS.read_bytes())
    offset = _damage_a_name(data)
    bad = tmp_path / "events.out.tfevents.1.bad"
    bad.write_bytes(bytes(data))
    with pytest.raises(GraphFileError, match=rf"the graph record at byte {offset} fails its CRC"):
        load_graph_def(bad)


def test_another_record_that_fails_its_crc_is_skipped_with_a_warning(tmp_path, capsys):
    data = bytearray(EVENTS.read_bytes())
    first = _records(bytes(data))[0]
    assert first[0] != _graph_record(bytes(data))
    data[12 + first[1]] ^= 0xFF  # the data CRC of the first record (file_version)
    bad = tmp_path / "events.out.tfevents.2.bad"
    bad.write_bytes(bytes(data))
    graph, _ = load_graph_def(bad)
    assert len(graph.node) == len(load_graph_def(EVENTS)[0].node)
    assert capsys.readouterr().err.splitlines() == [
        f"rnngraph: warning: skipping the record at byte 0 of {bad}: its data fails its CRC "
        f"(TensorFlow's reader stops there with DataLossError)"]


@pytest.mark.tf
def test_tensorflow_refuses_the_same_damaged_file(tmp_path):
    from rnngraph.model.tfcompat import tf

    data = bytearray(EVENTS.read_bytes())
    _damage_a_name(data)
    bad = tmp_path / "events.out.tfevents.3.bad"
    bad.write_bytes(bytes(data))
    t = tf()
    assert sum(1 for _ in t.compat.v1.io.tf_record_iterator(str(EVENTS))) == len(_records(bytes(data)))
    with pytest.raises(t.errors.DataLossError):
        list(t.compat.v1.io.tf_record_iterator(str(bad)))
