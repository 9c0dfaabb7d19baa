"""Small queries over the walked graph: inputs, consumers, constants and readable expressions.

Shared by the recognisers and the focus views; pure Python over networkx.
``expr`` writes a node as the expression that computes it
(``Shape(rnn/transpose)[0]``), ``const_value`` folds the small integer
arithmetic TensorFlow uses to assemble shapes, and ``meaning`` says what a
shape element stands for (batch size, time steps).
"""

from __future__ import annotations

import functools
import re
from typing import Any, Optional

import networkx as nx

__all__ = ["PASS_THROUGH", "VARIABLE_OPS", "node_op", "data_inputs", "input_of", "consumers",
           "out_shape", "shape_of", "trace_source", "const_value", "expr", "meaning", "slice_text",
           "natural_key"]

# Ops that hand their first input on unchanged (for tracing a value to its origin).
PASS_THROUGH = frozenset({"Identity", "RefIdentity", "Enter", "RefEnter", "ReadVariableOp",
                          "Snapshot", "StopGradient", "_Arg", "CheckNumerics", "Switch",
                          "RefSwitch"})
# Callers whose first input is not passed to the function (the condition / branch index).
_SHIFTED_CALLERS = frozenset({"If", "StatelessIf", "Case", "StatelessCase"})
# Ops that hold a model's weights: resource and ref variables, or constants once frozen.
VARIABLE_OPS = frozenset({"VarHandleOp", "VariableV2", "Variable", "Const"})
_MAX_DEPTH = 12
_MAX_RANGE = 1 << 16  # a Range the file declares longer than this is not expanded


@functools.lru_cache(maxsize=1 << 18)  # recognisers sort all nodes several times
def natural_key(name: str) -> tuple:
    """Sort key that orders ``Enter_2`` before ``Enter_10``."""
    # ASCII digits only: "²".isdigit() is true, but int("²") raises (issue 24 item 6).
    return tuple((0, int(p)) if p.isascii() and p.isdigit() else (1, p)
                 for p in re.split(r"([0-9]+)", name) if p)


def common_prefix(names: list) -> str:
    """Return the longest leading run of ``/``-separated parts that every name in ``names`` shares."""
    parts = [n.split("/") for n in names]
    common = parts[0]
    for other in parts[1:]:
        length = 0
        while length < min(len(common), len(other)) and common[length] == other[length]:
            length += 1
        common = common[:length]
    return "/".join(common)


def node_op(G: nx.MultiDiGraph, node: Optional[str]) -> Optional[str]:
    return G.nodes[node]["op"] if node is not None and node in G else None


def data_inputs(G: nx.MultiDiGraph, node: str) -> list:
    """Return the data inputs of ``node`` in input order as (source, output index) pairs."""
    edges = [(k, s, d["src_output"]) for s, _, k, d in G.in_edges(node, keys=True, data=True)
             if d["kind"] == "data" and k >= 0]
    return [(s, o) for _, s, o in sorted(edges)]


def input_of(G: nx.MultiDiGraph, node: Optional[str], index: int) -> Optional[tuple]:
    """Return (source, output index) feeding input ``index`` of ``node``, or None."""
    if node is None or node not in G:
        return None
    for s, _, k, d in G.in_edges(node, keys=True, data=True):
        if k == index and d["kind"] == "data":
            return s, d["src_output"]
    return None


def consumers(G: nx.MultiDiGraph, node: str, out: Optional[int] = None) -> list:
    """Return (consumer, input index) of the data edges leaving ``node`` (output ``out`` only if given)."""
    return sorted((d, k) for _, d, k, e in G.out_edges(node, keys=True, data=True)
                  if e["kind"] == "data" and (out is None or e["src_output"] == out))


def out_shape(G: nx.MultiDiGraph, node: str, out: int = 0) -> Optional[list]:
    outs = G.nodes[node]["outputs"] if node in G else []
    return outs[out]["shape"] if 0 <= out < len(outs) else None


def shape_of(G: nx.MultiDiGraph, node: str, out: int = 0) -> Optional[list]:
    """Return the shape of ``node:out``, read at the caller for function arguments."""
    if node_op(G, node) == "_Arg":
        src = _arg_source(G, node)
        if src is not None:
            return shape_of(G, *src)
    return out_shape(G, node, out)


def _arg_source(G: nx.MultiDiGraph, arg: str) -> Optional[tuple]:
    """Return the caller's input feeding a function-body ``_Arg`` node."""
    caller = G.nodes[arg].get("parent_op")
    index = G.nodes[arg]["attrs"].get("index")
    if caller is None or index is None:
        return None
    return input_of(G, caller, index + (node_op(G, caller) in _SHIFTED_CALLERS))


def trace_source(G: nx.MultiDiGraph, node: str, out: int = 0,
                 through: frozenset = PASS_THROUGH) -> tuple:
    """Return where ``node:out`` comes from, looking through pass-through ops and function args."""
    for _ in range(_MAX_DEPTH):
        op = node_op(G, node)
        if op not in through:
            break
        src = _arg_source(G, node) if op == "_Arg" else input_of(G, node, 0)
        if src is None:
            break
        node, out = src
    return node, out


def const_value(G: nx.MultiDiGraph, node: str, out: int = 0, depth: int = 0) -> Any:
    """Return the value of small integer/shape arithmetic ending at ``node:out``, or None."""
    if depth > _MAX_DEPTH or node not in G:
        return None
    node, out = trace_source(G, node, out)
    data = G.nodes[node]
    op, attrs = data["op"], data["attrs"]
    args = lambda: [const_value(G, s, o, depth + 1) for s, o in data_inputs(G, node)]  # noqa: E731
    if op == "Const":
        value = attrs.get("value")
        return value.get("value") if isinstance(value, dict) else None
    if op == "Shape":
        src = input_of(G, node, 0)
        shape = out_shape(G, *src) if src else None
        return shape if shape is not None and None not in shape else None
    values = args()
    if any(v is None for v in values):
        return None
    try:
        if op == "Range" and len(values) == 3:
            span = range(*values)
            return list(span) if len(span) <= _MAX_RANGE else None
        if op == "ConcatV2" and all(isinstance(v, list) for v in values[:-1]):
            return [x for v in values[:-1] for x in v]
        if op == "Pack":
            return list(values)
        if op == "ExpandDims" and not isinstance(values[0], list):
            return [values[0]]
        if op in ("Minimum", "Maximum") and len(values) == 2:
            return (min if op == "Minimum" else max)(values)
        if op in ("Add", "AddV2", "Sub", "Mul") and all(isinstance(v, int) for v in values):
            a, b = values
            return a + b if op in ("Add", "AddV2") else a - b if op == "Sub" else a * b
        if op == "StridedSlice" and isinstance(values[0], list):
            return _apply_slice(values[0], *values[1:4], _masks(attrs))
    except (TypeError, ValueError, IndexError):
        return None
    return None


def _masks(attrs: dict) -> dict:
    return {k: int(attrs.get(k, 0) or 0) for k in ("begin_mask", "end_mask", "ellipsis_mask",
                                                   "new_axis_mask", "shrink_axis_mask")}


def _apply_slice(values: list, begin, end, strides, masks: dict) -> Any:
    """Apply a one-dimensional strided slice to a Python list (enough for shape vectors)."""
    if not (isinstance(begin, list) and len(begin) == 1):
        return None
    if masks["ellipsis_mask"] or masks["new_axis_mask"]:
        return None
    if masks["shrink_axis_mask"] & 1:
        return values[begin[0]]
    b = None if masks["begin_mask"] & 1 else begin[0]
    e = None if masks["end_mask"] & 1 else end[0]
    return values[slice(b, e, strides[0])]


def slice_text(begin, end, strides, masks: dict) -> Optional[str]:
    """Return a StridedSlice's begin/end/strides and five masks as Python slice syntax (``:, -1``)."""
    if not all(isinstance(v, list) for v in (begin, end, strides)):
        return None
    parts = []
    for i in range(len(begin)):
        bit = 1 << i
        if masks.get("ellipsis_mask", 0) & bit:
            parts.append("...")
        elif masks.get("new_axis_mask", 0) & bit:
            parts.append("None")
        elif masks.get("shrink_axis_mask", 0) & bit:
            parts.append(str(begin[i]))
        else:
            b = "" if masks.get("begin_mask", 0) & bit else str(begin[i])
            e = "" if masks.get("end_mask", 0) & bit else str(end[i])
            step = strides[i] if i < len(strides) else 1
            parts.append(f"{b}:{e}" + (f":{step}" if step != 1 else ""))
    return ", ".join(parts)


def _name(node: str, out: int) -> str:
    return node if out == 0 else f"{node}:{out}"


def expr(G: nx.MultiDiGraph, node: str, out: int = 0, depth: int = 0) -> str:
    """Return ``node:out`` as a short expression (``min(Shape(x)[0], max(1, ...))``)."""
    node, out = trace_source(G, node, out)
    if node not in G:
        return _name(node, out)
    data = G.nodes[node]
    op = data["op"]
    if op == "Const":
        value = data["attrs"].get("value")
        if isinstance(value, dict) and "value" in value and len(str(value["value"])) <= 24:
            return str(value["value"])
        return _name(node, out)
    if depth >= 4:
        return _name(node, out)
    inputs = data_inputs(G, node)
    sub = [expr(G, s, o, depth + 1) for s, o in inputs]
    if op == "Shape" and inputs:
        return f"Shape({trace_source(G, *inputs[0])[0]})"
    if op == "StridedSlice" and len(inputs) == 4:
        begin, end, strides = (const_value(G, s, o) for s, o in inputs[1:])
        text = slice_text(begin, end, strides, _masks(data["attrs"]))
        if text is not None:
            base = sub[0] if node_op(G, trace_source(G, *inputs[0])[0]) in ("Shape", "Const") \
                else trace_source(G, *inputs[0])[0]
            return f"{base}[{text}]"
    if op in ("Minimum", "Maximum") and len(sub) == 2:
        return f"{'min' if op == 'Minimum' else 'max'}({sub[0]}, {sub[1]})"
    if op in ("Max", "Min") and sub:
        return f"{op.lower()}({sub[0]})"
    if op == "ExpandDims" and sub:
        return f"[{sub[0]}]"
    return _name(node, out)


def _layout(G: nx.MultiDiGraph, tensor: str, out: int) -> Optional[list]:
    """Return what each axis of ``tensor`` holds (batch size, time steps, features), if clear."""
    shape = out_shape(G, tensor, out)
    op = node_op(G, tensor)
    if op == "Transpose":
        perm_src = input_of(G, tensor, 1)
        perm = const_value(G, *perm_src) if perm_src else None
        if isinstance(perm, list) and perm[:2] == [1, 0]:
            return ["time steps", "batch size", "features"][:len(perm)]
    if shape is None:
        return None
    if len(shape) == 3:
        return ["batch size", "time steps", "features"]
    if len(shape) == 2:
        return ["batch size", "features"]
    return None


def meaning(G: nx.MultiDiGraph, node: str, out: int = 0) -> str:
    """Return what a shape element or small integer stands for ("batch size"), or ""."""
    node, out = trace_source(G, node, out)
    op = node_op(G, node)
    if op == "ExpandDims":
        src = input_of(G, node, 0)
        return meaning(G, *src) if src else ""
    if op == "Const":
        value = const_value(G, node, out)
        if isinstance(value, list) and len(value) == 1:
            value = value[0]
        return str(value) if value is not None and len(str(value)) <= 24 else ""
    if op != "StridedSlice":
        return ""
    inputs = data_inputs(G, node)
    if len(inputs) != 4 or node_op(G, trace_source(G, *inputs[0])[0]) != "Shape":
        return ""
    begin = const_value(G, *inputs[1])
    if not (isinstance(begin, list) and len(begin) == 1 and G.nodes[node]["attrs"].get("shrink_axis_mask", 0) & 1):
        return ""
    shape_node = trace_source(G, *inputs[0])[0]
    tensor = input_of(G, shape_node, 0)
    if tensor is None:
        return ""
    tensor = trace_source(G, *tensor)
    layout = _layout(G, *tensor)
    index = begin[0]
    if layout is None or not isinstance(index, int) or not -len(layout) <= index < len(layout):
        return ""
    text = layout[index]
    dims = out_shape(G, *tensor)
    if dims and -len(dims) <= index < len(dims) and dims[index] is not None:
        text += f" ({dims[index]} in this graph)"
    return text
