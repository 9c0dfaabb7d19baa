"""The full values of a GraphDef's float constants (a frozen graph's weights), for ``diff``.

:mod:`rnngraph.graphdef.walk` keeps only small constants' values; comparing
weights needs them whole.  Only constants stored as raw bytes or as one
repeated field are read, and never more elements than the bytes hold.
"""

from __future__ import annotations

from typing import Optional

import numpy as np

from .walk import dtype_name

__all__ = ["float_constants", "MAX_ELEMENTS"]

MAX_ELEMENTS = 50_000_000  # a constant declaring more is not read (a file may declare 10**12)
_FLOATS = {"float32": "<f4", "float64": "<f8", "float16": "<f2"}


def _array(tensor) -> Optional[np.ndarray]:
    dtype = dtype_name(tensor.dtype)
    if dtype not in _FLOATS or tensor.tensor_shape.unknown_rank:
        return None
    shape = [int(d.size) for d in tensor.tensor_shape.dim]
    if any(d < 0 for d in shape):
        return None
    count = int(np.prod(shape, dtype=np.float64)) if shape else 1
    if count > MAX_ELEMENTS:
        return None
    item = np.dtype(_FLOATS[dtype])
    if tensor.tensor_content:
        if len(tensor.tensor_content) != count * item.itemsize:
            return None
        flat = np.frombuffer(tensor.tensor_content, dtype=item)
    else:
        field = {"float32": tensor.float_val, "float64": tensor.double_val}.get(dtype)
        if field is None or len(field) not in (count, 1) or not count:
            return None
        flat = np.full(count, field[0], dtype=item) if len(field) == 1 else np.asarray(field, dtype=item)
    return flat.reshape(shape)


def float_constants(graph_def) -> dict:
    """Return ``{node name: numpy array}`` of every top-level float ``Const`` with more than one element."""
    out = {}
    for node in graph_def.node:
        if node.op != "Const" or "value" not in node.attr:
            continue
        value = _array(node.attr["value"].tensor)
        if value is not None and value.size > 1:
            out[node.name] = value
    return out
