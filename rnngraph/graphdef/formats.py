"""What a file is, from its first bytes: one signature table for files no reader claims.

When a file parses as none of the graph formats, the loader asks :func:`identify` what it is
and says so in one line ("a LiteRT flatbuffer", "HDF5", "a zip archive", ...), instead of
guessing that it was truncated.  Only signatures and a container's table of contents are
read: no member of an archive is decompressed, nothing is unpickled or run.
"""

from __future__ import annotations

import io
import json
import re
import struct
import zipfile
from dataclasses import dataclass
from typing import Callable, Optional

__all__ = ["Found", "SIGNATURES", "identify", "unreadable_message"]

_HDF5 = b"\x89HDF\r\n\x1a\n"
_TF_TABLE_MAGIC = 0xDB4775248B80FB57  # tensorflow/core/lib/io/format.h: kTableMagicNumber
_ZIP_HEADS = (b"PK\x03\x04", b"PK\x05\x06")
_ZIP_MEMBERS = 10_000  # a table of contents read only this far (a crafted zip may list millions)


@dataclass(frozen=True)
class Found:
    """A file format recognised by its signature: its name and what to do with such a file."""

    name: str
    hint: str = ""


def _flatbuffer(data: bytes) -> Optional[Found]:
    # A flatbuffer's root table offset (4 bytes), then its 4-byte file identifier.
    if len(data) >= 8 and data[4:8] == b"TFL3":
        return Found("a LiteRT (TFLite) flatbuffer (file identifier TFL3)")
    return None


def _hdf5(data: bytes) -> Optional[Found]:
    # HDF5 puts its signature at 0, 512, 1024, 2048, ... (after a user block).
    for offset in (0, 512, 1024, 2048, 4096):
        if data[offset:offset + 8] == _HDF5:
            return Found("an HDF5 file (a Keras .h5 model or weights file, say)")
    return None


def _zip(data: bytes) -> Optional[Found]:
    if not data.startswith(_ZIP_HEADS):
        return None
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = [info.filename for _, info in zip(range(_ZIP_MEMBERS), archive.infolist())]
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, NotImplementedError):
        return Found("a damaged zip archive (its table of contents does not read)")
    base = {name.rsplit("/", 1)[-1] for name in names}
    if "config.json" in base and any(n.endswith("model.weights.h5") or n == "metadata.json"
                                     for n in names):
        return Found("a Keras archive (.keras: config.json and model.weights.h5)")
    if "data.pkl" in base:
        return Found("a PyTorch archive (torch.save: a zip holding data.pkl)",
                     "rnngraph reads TensorFlow graphs, not PyTorch models")
    if names and all(n.endswith(".npy") for n in names):
        return Found(f"a NumPy .npz archive of {len(names)} arrays", "it holds arrays, not a graph")
    if "config.json" in base:
        return Found("a zip archive holding config.json (not a Keras archive: no model.weights.h5)")
    return Found(f"a zip archive of {len(names)} member{'s' * (len(names) != 1)}"
                 f"{' (e.g. ' + names[0][:80] + ')' if names else ''}")


def _npy(data: bytes) -> Optional[Found]:
    if data.startswith(b"\x93NUMPY"):
        return Found("a NumPy .npy array", "it holds an array, not a graph")
    return None


def _gzip(data: bytes) -> Optional[Found]:
    if data.startswith(b"\x1f\x8b"):
        return Found("a gzip-compressed file", "decompress it first (gunzip)")
    return None


def _pickle(data: bytes) -> Optional[Found]:
    # Protocol 2+ pickles start with PROTO (0x80) and the protocol number; the legacy (non-zip)
    # torch.save format is a sequence of such pickles.  Never unpickled here.
    if len(data) >= 2 and data[0] == 0x80 and 2 <= data[1] <= 5:
        return Found(f"a Python pickle (protocol {data[1]}; PyTorch's legacy .pt/.pth format is one)",
                     "rnngraph never unpickles files; it reads TensorFlow graphs")
    return None


def _tf_checkpoint(data: bytes) -> Optional[Found]:
    # A checkpoint's .index is a LevelDB-style table ending in TensorFlow's table magic number.
    if len(data) >= 48 and struct.unpack("<Q", data[-8:])[0] == _TF_TABLE_MAGIC:
        return Found("a TensorFlow checkpoint index (.index)",
                     "a checkpoint holds weights, not the graph: pass the .meta file or the "
                     "SavedModel written beside it")
    return None


def _varint(data: bytes, pos: int) -> tuple:
    value = shift = 0
    while pos < len(data) and shift < 64:
        byte = data[pos]
        value |= (byte & 0x7F) << shift
        pos += 1
        if not byte & 0x80:
            return value, pos
        shift += 7
    raise ValueError("truncated varint")


# onnx.proto ModelProto: field number -> wire type (0 varint, 2 length-delimited).
_ONNX_MODEL_FIELDS = {1: 0, 2: 2, 3: 2, 4: 2, 5: 0, 6: 2, 7: 2, 8: 2, 14: 2, 20: 2, 25: 2}


def _onnx(data: bytes, limit: int = 64) -> Optional[Found]:
    """An ONNX ModelProto: top-level fields all ModelProto's, ir_version first and a graph (7)."""
    if not data.startswith(b"\x08"):
        return None
    pos, seen = 0, set()
    try:
        for _ in range(limit):
            if pos >= len(data):
                break
            key, pos = _varint(data, pos)
            number, wire = key >> 3, key & 7
            if _ONNX_MODEL_FIELDS.get(number) != wire:
                return None
            value, pos = _varint(data, pos)
            if wire == 2:
                pos += value
                if pos > len(data):
                    return None
            seen.add(number)
    except ValueError:
        return None
    if 1 in seen and 7 in seen:
        return Found("an ONNX model (a protobuf ModelProto)",
                     "rnngraph reads TensorFlow graphs; tf2onnx and onnx2tf convert between the two")
    return None


def _text(data: bytes) -> Optional[Found]:
    head = data[:65536]
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # not merely a character cut at the 64 KiB mark
            return None
        text = head[:exc.start].decode("utf-8")
    if any(ord(ch) < 9 or 13 < ord(ch) < 32 for ch in text):
        return None
    stripped = text.lstrip()
    if stripped[:1] in ("{", "["):
        try:
            value = json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError):
            return Found("a text file that begins like JSON but does not parse as JSON")
        if isinstance(value, dict) and "class_name" in value and "config" in value:
            return Found(f"a Keras model config in JSON (class {str(value['class_name'])[:60]!r})",
                         "it describes layers but holds no graph")
        return Found("a JSON file")
    if re.match(r"\s*(node|library|versions|meta_graphs|graph_def)\s*\{", text):
        return Found("protobuf text that does not parse as a graph (truncated or edited?)",
                     "give it the .pbtxt suffix for a precise parse error")
    return Found("a plain text file")


# The table: checked in order, first match wins (most specific signatures first).
SIGNATURES: tuple[tuple[str, Callable[[bytes], Optional[Found]]], ...] = (
    ("tflite", _flatbuffer), ("hdf5", _hdf5), ("zip", _zip), ("npy", _npy), ("gzip", _gzip),
    ("pickle", _pickle), ("tf-checkpoint-index", _tf_checkpoint), ("onnx", _onnx),
    ("text", _text),
)
_DATA_SHARD = re.compile(r"\.data-\d{5}-of-\d{5}$")


def identify(data: bytes, name: str = "") -> Optional[Found]:
    """Return what ``data`` (a file called ``name``) is by its signature, or None if unknown."""
    for _, match in SIGNATURES:
        found = match(data)
        if found is not None:
            return found
    if _DATA_SHARD.search(name):
        return Found("a TensorFlow checkpoint data shard (.data-NNNNN-of-NNNNN)",
                     "a checkpoint holds weights, not the graph: pass the .meta file or the "
                     "SavedModel written beside it")
    return None


def unreadable_message(path, data: bytes, expected: str) -> str:
    """Return the one line for a file no graph reader parses: what it is, and what rnngraph reads."""
    found = identify(data, str(path))
    if found is None:
        head = " ".join(f"{b:02x}" for b in data[:8])
        return (f"{path} does not parse as a graph and has no file signature rnngraph knows "
                f"(it begins with bytes {head}); {expected}")
    hint = f" ({found.hint})" if found.hint else ""
    return f"{path} is {found.name}, not a graph rnngraph reads{hint}; {expected}"
