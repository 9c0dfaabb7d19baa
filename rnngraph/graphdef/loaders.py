"""Read a graph from a file without TensorFlow and without executing anything from it.

Accepts a GraphDef (``.pb`` binary or ``.pbtxt`` text), a SavedModel
directory (or its ``saved_model.pb``), a MetaGraphDef (``.meta``) or a
TensorBoard event file holding a graph.  Only protocol buffers are parsed:
no pickles, no Python code from a SavedModel, no op is run.  Every failure
is a :class:`GraphFileError` with one line saying what was expected.
"""

from __future__ import annotations

import stat
import struct
import sys
from pathlib import Path
from typing import Union

from google.protobuf import message as _message
from google.protobuf import text_format
from google.protobuf.unknown_fields import UnknownFieldSet

from . import keras_file, protos, tflite
from .formats import identify, unreadable_message
from ..errors import GraphFileError

__all__ = ["load_graph_def", "load_keras_model", "load_tflite_model", "resolve_log_dir", "MAX_BYTES",
           "KINDS"]

MAX_BYTES = 1 << 30  # protobuf's own limit is 2 GiB; a GraphDef of an RNN is far smaller
KINDS = ("graphdef", "graphdef-text", "savedmodel", "metagraph", "events", "tflite", "keras", "h5")
_EXPECTED = ("expected a GraphDef (.pb or .pbtxt), a SavedModel directory, a MetaGraphDef "
             "(.meta), a TensorBoard event file with a graph, a LiteRT flatbuffer (.tflite) or a "
             "Keras file (.keras, .h5)")


def _read(path: Path, limit: int) -> bytes:
    """Return the bytes of a regular file (or of stdin for ``-``), at most ``limit`` of them.

    Devices, FIFOs and sockets are refused: their size says nothing (``/dev/zero`` never ends,
    a FIFO blocks), so only standard input, read with the same limit, stands for a stream.
    """
    try:
        if str(path) == "-":
            data = sys.stdin.buffer.read(limit + 1)
            size = len(data)
        else:
            info = path.stat()
            if not stat.S_ISREG(info.st_mode):
                raise GraphFileError(f"{path} is not a regular file (a device, FIFO or socket); "
                                     f"use '-' to read standard input; {_EXPECTED}")
            size = info.st_size
            if size <= limit:
                with open(path, "rb") as handle:
                    data = handle.read(limit + 1)  # the file may grow after stat
                size = len(data)
        if size > limit:
            raise GraphFileError(f"{path} is {size / 2**30:.1f} GiB, larger than the "
                                 f"{limit / 2**30:.1f} GiB rnngraph reads; {_EXPECTED}")
    except OSError as exc:
        raise GraphFileError(f"cannot read {path}: {exc.strerror or exc}") from None
    if not data.strip():
        raise GraphFileError(f"{path} is empty; {_EXPECTED}")
    return data


def _clean(msg) -> bool:
    """False if a declared field arrived with the wrong wire type (so another message type).

    Fields this reader does not declare (newer TensorFlow adds some) are fine.
    """
    declared = {f.number for f in msg.DESCRIPTOR.fields}
    return not any(field.field_number in declared for field in UnknownFieldSet(msg))


def _parse_binary(cls, data: bytes):
    msg = cls()
    try:
        msg.ParseFromString(data)
    except (_message.DecodeError, RuntimeError, ValueError):
        return None
    return msg if _clean(msg) else None


def _check_nodes(graph_def, path: Path, what: str):
    if not graph_def.node and not graph_def.library.function:
        raise GraphFileError(f"{path} holds a {what} with no nodes; {_EXPECTED}")
    for node in graph_def.node:
        if not node.name or not node.op:
            raise GraphFileError(f"{path} does not parse as a {what} (a node without a name or op; "
                                 f"truncated or another kind of file?); {_EXPECTED}")
    return graph_def


def _from_meta(meta, path: Path):
    return _check_nodes(meta.graph_def, path, "MetaGraphDef")


def _from_saved_model(saved, path: Path):
    if not saved.meta_graphs:
        raise GraphFileError(f"{path} is a SavedModel without meta graphs; {_EXPECTED}")
    # The first MetaGraphDef (tag "serve" for most exports) is the graph people mean.
    return _check_nodes(saved.meta_graphs[0].graph_def, path, "SavedModel")


def _crc32c_table() -> list:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
        table.append(crc)
    return table


_CRC_TABLE = _crc32c_table()


try:
    import google_crc32c  # C speed for megabyte records
except ImportError:  # pragma: no cover - a dependency; the table below is the fallback
    google_crc32c = None


def _crc32c(data: bytes) -> int:
    if google_crc32c is not None:
        return google_crc32c.value(bytes(data))
    crc = 0xFFFFFFFF
    for byte in data:
        crc = _CRC_TABLE[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def masked_crc32c(data: bytes) -> int:
    """Return TFRecord's masked CRC32C of ``data`` (tensorflow/core/lib/hash/crc32c.h ``Mask``)."""
    crc = _crc32c(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def _header_ok(header: bytes) -> bool:
    """Check a TFRecord header: uint64 length, then the masked CRC32C of those 8 bytes."""
    return len(header) == 12 and struct.unpack("<I", header[8:])[0] == masked_crc32c(header[:8])


_warned: set = set()  # (file, offset) of damaged records already reported, once per process


def _skip_damaged(path: Path, offset: int) -> None:
    if (str(path), offset) not in _warned:
        _warned.add((str(path), offset))
        print(f"rnngraph: warning: skipping the record at byte {offset} of {path}: its data fails "
              f"its CRC (TensorFlow's reader stops there with DataLossError)", file=sys.stderr)


def _from_events(data: bytes, path: Path):
    """Return the first graph in a TFRecord file of Event protos."""
    offset, graph = 0, None
    while offset < len(data):
        header = data[offset:offset + 12]
        if not _header_ok(header):
            raise GraphFileError(f"{path} is not a TFRecord event file (bad record header at "
                                 f"byte {offset}); {_EXPECTED}")
        (length,) = struct.unpack("<Q", header[:8])
        start, end = offset + 12, offset + 12 + length
        if end + 4 > len(data):
            raise GraphFileError(f"{path} looks like an event file but its record at byte {offset} "
                                 f"is truncated; {_EXPECTED}")
        record = data[start:end]
        damaged = struct.unpack("<I", data[end:end + 4])[0] != masked_crc32c(record)
        event = _parse_binary(protos.Event, record)
        if damaged:
            if event is not None and (event.graph_def or event.meta_graph_def):
                raise GraphFileError(f"{path}: the graph record at byte {offset} fails its CRC "
                                     f"(the file is damaged; TensorFlow's reader raises "
                                     f"DataLossError); {_EXPECTED}")
            _skip_damaged(path, offset)
            offset = end + 4
            continue
        if event is None:
            raise GraphFileError(f"{path} has a record at byte {offset} that is not an Event; {_EXPECTED}")
        if event.graph_def:
            graph = _parse_binary(protos.GraphDef, event.graph_def)
        elif event.meta_graph_def:
            meta = _parse_binary(protos.MetaGraphDef, event.meta_graph_def)
            graph = meta.graph_def if meta is not None else None
        if graph is not None:
            return _check_nodes(graph, path, "event file graph")
        offset = end + 4
    raise GraphFileError(f"{path} holds no graph (an event file needs one written with "
                         f"FileWriter(logdir, graph) or add_graph); {_EXPECTED}")


def _is_events(path: Path, data: bytes) -> bool:
    return "tfevents" in path.name or _header_ok(data[:12])


_LOG_DIR_DEPTH = 3  # run folders under a log dir: logs/run1/train/events...
_LOG_DIR_FILES = 10_000  # stop listing a huge tree; the choice stays deterministic


def _event_files(folder: Path) -> list:
    """Return the TensorBoard event files under ``folder`` (a few levels deep), sorted."""
    found, stack, listed = [], [(folder, 0)], 0
    while stack and listed < _LOG_DIR_FILES:
        current, depth = stack.pop()
        try:
            entries = sorted(current.iterdir())
        except OSError:
            continue
        for entry in entries:
            listed += 1
            if entry.is_symlink():
                continue
            if entry.is_dir() and depth < _LOG_DIR_DEPTH:
                stack.append((entry, depth + 1))
            elif "tfevents" in entry.name and entry.is_file():
                found.append(entry)
    return sorted(found, key=lambda p: (p.relative_to(folder).parent.as_posix(), p.name))


def resolve_log_dir(path: Union[str, Path], limit: int = MAX_BYTES) -> tuple:
    """Return (the event file to read in TensorBoard log directory ``path``, a note saying which).

    The choice is deterministic: event files sorted by folder, then name (the name
    starts with its creation time), and the first one that holds a graph is taken.
    """
    folder = Path(path)
    files = _event_files(folder)
    if not files:
        raise GraphFileError(f"directory {folder} holds no saved_model.pb and no TensorBoard "
                             f"event file (events.out.tfevents.*); {_EXPECTED}")
    for chosen in files:
        try:
            _from_events(_read(chosen, limit), chosen)
        except GraphFileError:
            continue
        others = len(files) - 1
        note = f"TensorBoard log directory {folder}: reading {chosen.relative_to(folder)}"
        if others:
            note += (f" (the first of {len(files)} event files, in folder then name order, that "
                     f"holds a graph; pass another file to choose it)")
        return chosen, note
    raise GraphFileError(f"TensorBoard log directory {folder} has {len(files)} event file(s) but "
                         f"none holds a graph (write one with FileWriter(logdir, graph) or "
                         f"add_graph); {_EXPECTED}")


def load_tflite_model(path: Union[str, Path], limit: int = MAX_BYTES) -> tuple:
    """Return (the bounds-checked LiteRT model, the file's bytes) of the .tflite file ``path``."""
    data = _read(Path(path), limit)
    if not tflite.is_tflite(data):
        raise GraphFileError(f"{path} is not a LiteRT flatbuffer (no TFL3 at bytes 4..8)")
    return tflite.parse_model(data, path), data


def _stdin_suffix(data: bytes) -> str:
    """Return ``.pbtxt`` when standard input holds protobuf text, else ``""`` (binary)."""
    # Binary protobuf uses control bytes as tags and lengths almost at once; text does not.
    head = data[:4096]
    return "" if any(b < 0x20 and b not in b"\t\n\r" for b in head) else ".pbtxt"


def load_keras_model(path: Union[str, Path], limit: int = MAX_BYTES) -> tuple:
    """Return (the layer view of a .keras/.h5 file, its bytes), read with this module's limits."""
    data = _read(Path(path), limit)
    return keras_file.read_keras_model(path, data), data


def load_graph_def(path: Union[str, Path], limit: int = MAX_BYTES):
    """Return (GraphDef, kind) read from ``path``; kind is one of :data:`KINDS`.

    A directory is a SavedModel (``saved_model.pb`` in it) or a TensorBoard log
    directory (:func:`resolve_log_dir` picks its event file).
    """
    path = Path(path)
    if path.is_dir():
        for name in ("saved_model.pb", "saved_model.pbtxt"):
            if (path / name).is_file():
                graph, _ = load_graph_def(path / name, limit)
                return graph, "savedmodel"
        chosen, _ = resolve_log_dir(path, limit)
        return _from_events(_read(chosen, limit), chosen), "events"
    if str(path) != "-" and not path.exists():
        raise GraphFileError(f"{path} does not exist; {_EXPECTED}")
    data = _read(path, limit)
    if tflite.is_tflite(data):
        return tflite.read_tflite(data, path), "tflite"
    # A zip another tool wrote (a PyTorch archive, a NumPy .npz) is named by the signature
    # table below; every other zip goes to the Keras reader, which names what it lacks.
    foreign_zip = keras_file.is_keras_zip(data) and getattr(identify(data), "hint", "")
    if data.startswith(keras_file.HDF5_SIGNATURE) or (keras_file.is_keras_zip(data) and not foreign_zip):
        # a Keras file: its layer view (keras_file.py), read without TensorFlow
        model = keras_file.read_keras_model(path, data)
        return keras_file.keras_graph_def(model), "keras" if model.form == "keras" else "h5"
    suffix = path.suffix.lower() if str(path) != "-" else _stdin_suffix(data)
    text_meta = suffix == ".meta" and _stdin_suffix(data) == ".pbtxt"  # export_meta_graph(as_text=True)
    if suffix in (".pbtxt", ".txt", ".prototxt") or text_meta:
        text = data.decode("utf-8", "replace")
        errors, empty = [], None
        order = [(protos.GraphDef, "graphdef-text", None),
                 (protos.MetaGraphDef, "metagraph", _from_meta),
                 (protos.SavedModel, "savedmodel", _from_saved_model)]
        if suffix == ".pbtxt" and path.name.startswith("saved_model"):
            order.insert(0, order.pop(2))
        elif text_meta:
            order.insert(0, order.pop(1))
        for cls, kind, convert in order:
            try:
                msg = text_format.Parse(text, cls(), allow_unknown_field=True)
            except text_format.ParseError as exc:
                errors.append(exc)
                continue
            except RecursionError:  # protobuf's text parser recurses once per nested message
                raise GraphFileError(f"{path} nests messages deeper than the protobuf text parser "
                                     f"can follow (the binary format allows 100 levels); "
                                     f"{_EXPECTED}") from None
            if not msg.ListFields():
                continue  # every field unknown to this message: a text MetaGraphDef or SavedModel
            try:
                return (convert(msg, path) if convert else _check_nodes(msg, path, "GraphDef")), kind
            except GraphFileError as exc:
                empty = empty or exc
                if errors:
                    break  # it parsed only by skipping the GraphDef's fields: report why those failed
        if empty is not None and not errors:
            raise empty
        detail = f" ({str(errors[0])[:200]})" if errors else ""
        raise GraphFileError(f"{path} is not a GraphDef in protobuf text format{detail}; {_EXPECTED}")
    if _is_events(path, data):
        return _from_events(data, path), "events"
    order = [(protos.GraphDef, "graphdef"), (protos.MetaGraphDef, "metagraph"),
             (protos.SavedModel, "savedmodel")]
    if suffix == ".meta":
        order.insert(0, order.pop(1))
    if path.name == "saved_model.pb":
        order.insert(0, order.pop(2))
    for cls, kind in order:
        msg = _parse_binary(cls, data)
        if msg is None:
            continue
        if kind == "graphdef" and msg.node:
            return _check_nodes(msg, path, "GraphDef"), kind
        if kind == "metagraph" and msg.graph_def.node:
            return _from_meta(msg, path), kind
        if kind == "savedmodel" and msg.meta_graphs:
            return _from_saved_model(msg, path), kind
    raise GraphFileError(unreadable_message(path, data, _EXPECTED))
