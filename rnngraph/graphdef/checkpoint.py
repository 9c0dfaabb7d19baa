"""A SavedModel's variable values, read from its checkpoint without TensorFlow.

A checkpoint is ``variables.index`` (a LevelDB-format table, TensorFlow's
``tensorflow/core/lib/io/table*``: sorted keys, prefix-compressed, in blocks
listed by an index block and a 48-byte footer) whose values are
``BundleEntryProto`` (``tensor_bundle.proto``): for each checkpoint key, the
dtype, shape, shard, offset, size and masked CRC32C of its bytes in
``variables.data-SSSSS-of-NNNNN``.  :func:`read_bundle` reads the float
tensors, trusting no declared size or offset past the files' real sizes.

Checkpoint keys (``variables/0/.ATTRIBUTES/VARIABLE_VALUE``) are not node
names: :func:`checkpoint_variables` maps them to the graph's variable nodes
through the restore code the SavedModel holds (a ``RestoreV2`` whose output
``j`` is assigned to a variable; in a TF2 SavedModel the assignment is in the
restore function, its variables the arguments the caller passes).
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Optional

import numpy as np

from . import protos
from .loaders import masked_crc32c
from .walk import dtype_name
from ..errors import GraphFileError

__all__ = ["read_bundle", "checkpoint_variables", "variable_values", "MAX_INDEX_BYTES"]

MAX_INDEX_BYTES = 1 << 28  # an index lists keys and offsets: 256 MiB is millions of variables
_MAGIC = 0xDB4775248B80FB57  # leveldb's table magic, as TensorFlow's table_builder writes it
_FOOTER = 48
_FLOATS = {"float32": "<f4", "float64": "<f8", "float16": "<f2"}
_VARIABLE_OPS = {"VarHandleOp", "VariableV2", "Variable", "VariableV3"}
_ASSIGN_OPS = {"AssignVariableOp", "Assign"}


class _Bad(Exception):
    """A fault of the index; becomes one GraphFileError naming the file."""


def _varint(data: bytes, pos: int, end: int) -> tuple:
    value, shift = 0, 0
    while True:
        if pos >= end or shift > 63:
            raise _Bad(f"a truncated or overlong varint at byte {pos}")
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, pos
        shift += 7


def _block(data: bytes, handle: tuple, what: str) -> tuple:
    """Return (start, end) of a block's entries after checking it lies in the file and its CRC."""
    offset, size = handle
    if offset + size + 5 > len(data):
        raise _Bad(f"its {what} block ({size} bytes at {offset}) lies past the end of its "
                   f"{len(data)} bytes")
    kind = data[offset + size]
    if kind != 0:
        raise _Bad(f"its {what} block is compressed (type {kind}); TensorFlow writes checkpoints "
                   f"uncompressed and rnngraph reads only those")
    (crc,) = struct.unpack_from("<I", data, offset + size + 1)
    if crc != masked_crc32c(data[offset:offset + size + 1]):
        raise _Bad(f"its {what} block at byte {offset} fails its CRC (the file is damaged)")
    if size < 4:
        raise _Bad(f"its {what} block at byte {offset} is too short")
    (restarts,) = struct.unpack_from("<I", data, offset + size - 4)
    entries_end = offset + size - 4 - 4 * restarts
    if restarts > size // 4 or entries_end < offset:
        raise _Bad(f"its {what} block at byte {offset} declares {restarts} restart points, more "
                   f"than its {size} bytes hold")
    return offset, entries_end


def _entries(data: bytes, start: int, end: int):
    """Yield (key, value) of one block's prefix-compressed entries."""
    pos, key = start, b""
    while pos < end:
        shared, pos = _varint(data, pos, end)
        unshared, pos = _varint(data, pos, end)
        length, pos = _varint(data, pos, end)
        if shared > len(key) or pos + unshared + length > end:
            raise _Bad(f"an entry at byte {pos} runs past its block")
        key = key[:shared] + data[pos:pos + unshared]
        pos += unshared
        yield key, data[pos:pos + length]
        pos += length


def _handle(value: bytes, pos: int = 0) -> tuple:
    offset, pos = _varint(value, pos, len(value))
    size, pos = _varint(value, pos, len(value))
    return (offset, size), pos


def _table(data: bytes) -> dict:
    """Return {key: value bytes} of a whole LevelDB-format table."""
    if len(data) < _FOOTER:
        raise _Bad(f"it is {len(data)} bytes, shorter than a table's {_FOOTER}-byte footer")
    footer = data[-_FOOTER:]
    if struct.unpack_from("<Q", footer, 40)[0] != _MAGIC:
        raise _Bad("it does not end with a table's magic number (not a checkpoint index)")
    _, pos = _handle(footer)
    index_handle, _ = _handle(footer, pos)
    out = {}
    start, end = _block(data, index_handle, "index")
    for _, value in _entries(data, start, end):
        block_start, block_end = _block(data, _handle(value)[0], "data")
        out.update(_entries(data, block_start, block_end))
    return out


def _parse(cls, raw: bytes, what: str):
    msg = cls()
    try:
        msg.ParseFromString(raw)
    except Exception:  # noqa: BLE001 - protobuf raises DecodeError, RuntimeError or ValueError
        raise _Bad(f"{what} does not parse as a {cls.DESCRIPTOR.name}") from None
    return msg


def _index_bytes(index: Path) -> bytes:
    try:
        size = index.stat().st_size
        if size > MAX_INDEX_BYTES:
            raise GraphFileError(f"{index} is {size} bytes, more than the {MAX_INDEX_BYTES} a "
                                 f"checkpoint index rnngraph reads may have")
        with open(index, "rb") as handle:
            return handle.read(MAX_INDEX_BYTES + 1)
    except OSError as exc:
        raise GraphFileError(f"cannot read {index}: {exc.strerror or exc}") from None


def _check_bounds(entries: dict, shard: Path, shard_size: int) -> None:
    """Raise unless every entry's bytes, and all of them together, fit in the shard."""
    for key, entry in entries.items():
        if entry.offset < 0 or entry.size < 0 or entry.offset + entry.size > shard_size:
            raise _Bad(f"entry {key!r} declares {entry.size} bytes at offset {entry.offset}, past "
                       f"the end of {shard.name} ({shard_size} bytes)")
    # TensorFlow writes each tensor's bytes once: entries sharing bytes would make reading
    # cost more than the file, so their sum is held to its size
    declared = sum(e.size for e in entries.values())
    if declared > shard_size:
        raise _Bad(f"its entries declare {declared} bytes in all, more than {shard.name} holds "
                   f"({shard_size} bytes)")


def _array(entry, key: str, shard: Path, handle) -> Optional[np.ndarray]:
    """Return one tensor's values, or None when it is not a whole float tensor."""
    dtype = dtype_name(entry.dtype)
    if dtype not in _FLOATS or entry.slices or entry.shape.unknown_rank:
        return None
    shape = [int(d.size) for d in entry.shape.dim]
    item = np.dtype(_FLOATS[dtype])
    if any(d < 0 for d in shape):
        raise _Bad(f"entry {key!r} declares a negative dimension {shape}")
    count = 1
    for d in shape:
        count *= d
    if count * item.itemsize != entry.size:
        raise _Bad(f"entry {key!r} has shape {shape} ({count} {dtype} values) but declares "
                   f"{entry.size} bytes")
    handle.seek(entry.offset)
    raw = handle.read(entry.size)
    if len(raw) != entry.size or masked_crc32c(raw) != entry.crc32c:
        raise _Bad(f"the bytes of entry {key!r} in {shard.name} fail their CRC (the checkpoint "
                   f"is damaged; TensorFlow raises DataLossError)")
    try:
        return np.frombuffer(raw, dtype=item).reshape(shape)
    except ValueError:  # no values, but a dimension numpy cannot hold ([0, 2**62])
        raise _Bad(f"entry {key!r} declares shape {shape}, which no array can have") from None


def read_bundle(prefix) -> dict:
    """Return {checkpoint key: numpy array} of the float tensors of checkpoint ``prefix``.

    ``prefix`` is the path without suffix (``saved/variables/variables``).  Partitioned
    (sliced) and non-float tensors are left out.  Every fault is one GraphFileError line.
    """
    prefix = Path(prefix)
    index = prefix.with_name(prefix.name + ".index")
    try:
        entries = _table(_index_bytes(index))
        header = _parse(protos.BundleHeaderProto, entries.pop(b"", b""), "its header")
        if header.endianness != 0:
            raise _Bad("it was written big-endian; rnngraph reads little-endian checkpoints")
        shards = max(header.num_shards, 1)
        parsed = {}
        for raw_key, raw in entries.items():
            key = raw_key.decode("utf-8", "replace")
            entry = _parse(protos.BundleEntryProto, raw, f"entry {key!r}")
            if not 0 <= entry.shard_id < shards:
                raise _Bad(f"entry {key!r} names shard {entry.shard_id}, but the header says "
                           f"{shards}")
            parsed[key] = entry
        out = {}
        for shard_id in sorted({e.shard_id for e in parsed.values()}):
            shard = prefix.with_name(f"{prefix.name}.data-{shard_id:05d}-of-{shards:05d}")
            try:
                with open(shard, "rb") as handle:
                    size = shard.stat().st_size
                    mine = {k: e for k, e in sorted(parsed.items()) if e.shard_id == shard_id}
                    _check_bounds(mine, shard, size)
                    for key, entry in mine.items():
                        value = _array(entry, key, shard, handle)
                        if value is not None:
                            out[key] = value
            except OSError as exc:
                raise GraphFileError(f"cannot read {shard}: {exc.strerror or exc}") from None
        return out
    except _Bad as exc:
        raise GraphFileError(f"{index} is not a checkpoint index rnngraph can read: {exc}") from None


def _ref(text: str) -> tuple:
    """``node``, ``node:2`` (a graph) or ``node:tensors:2`` (a function) -> (node, output index)."""
    parts = text.lstrip("^").split(":")
    return parts[0], int(parts[-1]) if len(parts) > 1 and parts[-1].isdigit() else 0


def _restored(body: dict) -> list:
    """Return [(checkpoint key, name of the assigned input)] of the RestoreV2 ops in ``body``."""
    out = []
    for node in body.values():
        if node.op not in _ASSIGN_OPS or len(node.input) < 2:
            continue
        source, index = _ref(node.input[1])
        seen = 0
        while source in body and body[source].op == "Identity" and body[source].input and seen < 100:
            source, index = _ref(body[source].input[0])
            seen += 1
        restore = body.get(source)
        if restore is None or restore.op != "RestoreV2" or len(restore.input) < 2:
            continue
        names = body.get(_ref(restore.input[1])[0])
        if names is None or "value" not in names.attr:
            continue
        keys = names.attr["value"].tensor.string_val
        if index < len(keys):
            out.append((keys[index].decode("utf-8", "replace"), _ref(node.input[0])[0]))
    return out


def _variable(top: dict, name: str) -> Optional[str]:
    seen = 0
    while name in top and top[name].op == "Identity" and top[name].input and seen < 100:
        name = _ref(top[name].input[0])[0]
        seen += 1
    return name if name in top and top[name].op in _VARIABLE_OPS else None


def checkpoint_variables(graph_def) -> dict:
    """Return {checkpoint key: variable node name} from the restore code in ``graph_def``.

    The top level (a TF1 saver's ``save/RestoreV2`` and ``save/Assign``) and the functions
    (TF2's ``__inference__traced_restore``: an assigned argument is the variable its caller
    passes at that position) are read; a key no restore names maps to a variable of that name.
    """
    top = {n.name: n for n in graph_def.node}
    found = {}
    for key, target in _restored(top):
        variable = _variable(top, target)
        if variable:
            found.setdefault(key, variable)
    callers: dict = {}
    for node in graph_def.node:
        if "f" in node.attr and node.attr["f"].func.name:
            callers.setdefault(node.attr["f"].func.name, []).append(node)
    for function in graph_def.library.function:
        restored = _restored({n.name: n for n in function.node_def})
        if not restored:
            continue
        args = {arg.name: i for i, arg in enumerate(function.signature.input_arg)}
        for caller in callers.get(function.signature.name, []):
            inputs = [text for text in caller.input if not text.startswith("^")]
            for key, target in restored:
                position = args.get(target)
                if position is not None and position < len(inputs):
                    variable = _variable(top, _ref(inputs[position])[0])
                    if variable:
                        found.setdefault(key, variable)
    for name, node in top.items():
        if node.op in _VARIABLE_OPS:
            found.setdefault(name, name)
    return found


def _copies(graph_def) -> dict:
    """Return {variable: the variable its initial value is read from} (Keras' export copies)."""
    top = {n.name: n for n in graph_def.node}
    out = {}
    for node in graph_def.node:
        if node.op not in _ASSIGN_OPS or len(node.input) < 2 or not node.name.endswith("/Assign"):
            continue
        target = _variable(top, _ref(node.input[0])[0])
        read = top.get(_ref(node.input[1])[0])
        if target and read is not None and read.op in ("ReadVariableOp", "Identity") and read.input:
            source = _variable(top, _ref(read.input[0])[0])
            if source and source != target:
                out[target] = source
    return out


def variable_values(graph_def, prefix) -> tuple:
    """Return ({variable node: numpy array}, notes) of ``graph_def``'s checkpoint ``prefix``.

    ``prefix`` is ``<SavedModel>/variables/variables``, or ``model.ckpt`` beside a TF1 saver's
    ``model.ckpt.meta``.  A variable initialised from another one and saved with equal values
    (Keras 3's export keeps each weight twice) is compared once, on the variable it copies.
    """
    prefix = Path(prefix)
    index = prefix.with_name(prefix.name + ".index")
    if not index.is_file():
        return {}, [f"there is no checkpoint index {index}: no weights to compare"]
    values = read_bundle(prefix)
    names = checkpoint_variables(graph_def)
    out = {}
    for key in sorted(values):
        node = names.get(key)
        if node is not None:
            out.setdefault(node, values[key])
    notes = []
    unmapped = sorted(set(values) - set(names))
    if unmapped:
        notes.append(f"{len(unmapped)} checkpoint tensor(s) no variable of the graph restores "
                     f"(first: {unmapped[0]}) are not compared")
    twice = 0
    for copy, source in sorted(_copies(graph_def).items()):
        if copy in out and source in out and out[copy].shape == out[source].shape \
                and np.array_equal(out[copy], out[source], equal_nan=True):
            del out[copy]
            twice += 1
    if twice:
        notes.append(f"{twice} variable(s) saved twice (a copy initialised from another variable, "
                     f"as Keras' export writes) compared once")
    return out, notes
