"""concat, strided_slice and sequence_length."""

from __future__ import annotations

from collections import Counter
from typing import Optional

import networkx as nx

from .exprs import (const_value, consumers, data_inputs, expr, input_of, node_op,
                     out_shape, shape_of, trace_source)
from .structures import ConcatInfo, SequenceLength, SliceInfo, _CONCAT, _SELECT
from .cells import find_cells
from .loops import _meaning, _natural
from .rnn import fill_role, gradient_select, random_behind


def find_concats(G: nx.MultiDiGraph, cells: Optional[list] = None,
                 fills: Optional[dict] = None) -> list:
    """Return every concat with its axis, its inputs' shapes and what it assembles.

    ``fills`` (zeros node -> 'initial state' / 'masked output' / 'unused', from the
    RNN's recognised facts) names what a zero-filled tensor is; without it the role
    is read from the zeros' consumers.
    """
    cells = find_cells(G) if cells is None else cells
    roles = {}
    for cell in cells:
        for concat in cell.instance_concats or [cell.concat]:
            roles[concat] = ("cell", cell)
        for concat in cell.candidate_concats:
            roles[concat] = ("candidate", cell)
    found = []
    for node, data in sorted(((n, d) for n, d in G.nodes(data=True) if d["op"] in _CONCAT),
                             key=lambda nd: _natural(nd[0])):
        if data["op"] not in _CONCAT:
            continue
        srcs = data_inputs(G, node)
        axis_src, values = (srcs[-1], srcs[:-1]) if data["op"] == "ConcatV2" else (srcs[0], srcs[1:])
        axis = const_value(G, *axis_src) if axis_src else None
        inputs = [{"name": s, "shape": shape_of(G, s, o), "expr": expr(G, s, o),
                   "meaning": _meaning(G, s, o)} for s, o in values]
        shape = out_shape(G, node, 0)
        value = const_value(G, node, 0)
        found.append(ConcatInfo(name=node, axis=axis if isinstance(axis, int) else None,
                                inputs=inputs, shape=shape,
                                meaning=_concat_meaning(G, node, roles.get(node), inputs, value, fills or {}),
                                value=value))
    return found


def _concat_meaning(G, node: str, role, inputs: list, value, fills: dict) -> str:
    if role:
        kind, cell = role
        x, h = inputs[0], inputs[-1]
        xn = (x["shape"] or [None])[-1] or cell.n_inputs
        hn = (h["shape"] or [None])[-1] or cell.n_neurons
        total = (xn + hn) if isinstance(xn, int) and isinstance(hn, int) else None
        h_text = "r ⊙ h_(t−1)" if kind == "candidate" else "h_(t−1)"
        return (f"[X_t, {h_text}]: m × {xn} and m × {hn} side by side give "
                f"m × ({xn} + {hn}) = m × {total}, the input of {cell.kind} cell {cell.scope}")
    users = [(node_op(G, d), i) for d, i in consumers(G, node)]
    parts = ", ".join(i["meaning"] or i["expr"] for i in inputs)
    fills_of = [d for d, i in consumers(G, node) if node_op(G, d) == "Fill" and i == 0]
    if fills_of:
        role = fills.get(fills_of[0]) or fill_role(G, fills_of[0])
        fill = fills_of[0]
        what = {"initial state": f"the initial state, zeros from {fill}",
                "masked output": f"{fill}, the zeros selected as the output past a sequence's end",
                "unused": f"{fill}, a zero-filled tensor nothing in this graph reads"}
        return f"shape [{parts}] assembled for {what.get(role, f'the zero-filled tensor {fill}')}"
    if any(op == "Transpose" and i == 1 for op, i in users):
        text = f"permutation {value}" if value is not None else f"permutation [{parts}]"
        if value is not None and list(value[:2]) == [1, 0]:
            text += ": swaps the batch and time axes"
        return text
    if value is not None:
        return f"constant {value}"
    return f"joins [{parts}]"


def find_strided_slices(G: nx.MultiDiGraph) -> list:
    """Return every StridedSlice with its masks decoded into Python slice syntax."""
    found = []
    for node, data in sorted(((n, d) for n, d in G.nodes(data=True) if d["op"] == "StridedSlice"),
                             key=lambda nd: _natural(nd[0])):
        if data["op"] != "StridedSlice":
            continue
        srcs = data_inputs(G, node)
        begin, end, strides = (const_value(G, *s) for s in srcs[1:4])
        attrs = data["attrs"]
        masks = {k: attrs.get(k, 0) for k in ("begin_mask", "end_mask", "ellipsis_mask",
                                             "new_axis_mask", "shrink_axis_mask")}
        found.append(SliceInfo(
            name=node, input=srcs[0][0] if srcs else "", begin=begin, end=end, strides=strides,
            masks=masks, slice=expr(G, node, 0),
            meaning=_meaning(G, node, 0), value=const_value(G, node, 0)))
    return found


def find_sequence_length(G: nx.MultiDiGraph) -> list:
    """Return the sequence_length machinery: Select ops gated by ``time >= sequence_length``."""
    groups: dict = {}
    for node, data in sorted((n, d) for n, d in G.nodes(data=True) if d["op"] in _SELECT):
        if data["op"] not in _SELECT:
            continue
        cond = input_of(G, node, 0)
        cond = trace_source(G, *cond) if cond else None
        if not cond or node_op(G, cond[0]) not in ("GreaterEqual", "LessEqual"):
            continue  # time >= sequence_length, or sequence_length <= time
        if any(random_behind(G, *src) for src in data_inputs(G, cond[0])):
            continue  # uniform >= rate: a dropout keep-mask, not a length
        if gradient_select(G, node):
            continue  # the gradient of a masking Select, in a training graph
        kept = trace_source(G, *input_of(G, node, 1))[0]
        groups.setdefault(cond[0], []).append((node, kept))
    # The zero output is one tensor shared by every step; a zero *state* is kept only at step 0.
    uses = Counter(k for members in groups.values() for k in {k for _, k in members})
    zero = {k for k, n in uses.items() if node_op(G, k) in {"Fill", "ZerosLike", "Const"}
            and n == max(uses.values())}
    result = []
    for compare, members in sorted(groups.items()):
        length = input_of(G, compare, 1 if node_op(G, compare) == "GreaterEqual" else 0)
        result.append(SequenceLength(
            compare=compare, length=expr(G, *trace_source(G, *length)) if length else "",
            zero_outputs=[n for n, k in members if k in zero],
            copy_state=[n for n, k in members if k not in zero]))
    return result
