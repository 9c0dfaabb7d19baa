"""Hand-written cells: recognised by what feeds back through the loop, reported as one custom cell.

People write LSTMs and GRUs gate by gate inside ``tf.scan`` or a ``while_loop``: one MatMul
per gate, on ``[x, h]`` or on x and h apart.  Matched one MatMul at a time, such a cell
reads as several small "cells" with impossible sizes.  Here a loop's state (the values it
feeds back) is found first; every MatMul by a weight that reads that state, directly or
through a concat, is part of one cell, and so is every MatMul by a weight whose product
meets one of those at the same activation (x·W_g + h·U_g).  Each activation is one
gate-like part.  Nothing is named that the graph does not show: no gate letters.
"""

from __future__ import annotations

from typing import Optional

import networkx as nx

from .dataflow import (body_retval, layer_name, loop_of, loop_state, reads_sequence, variable_shape,
                       weight_matmul, weight_of)
from .exprs import common_prefix, consumers, data_inputs, input_of, natural_key, node_op
from .structures import ACTIVATIONS, Cell, _ADD, _CONCAT

__all__ = ["find_custom_cells", "state_of_input", "state_sinks"]

_HOPS = 6
_BIAS_HOPS = 3


def state_of_input(G, matmul: str) -> frozenset:
    """Return the loop states ``matmul``'s first operand reads (through concats, products, slices)."""
    src = input_of(G, matmul, 0)
    if src is None:
        return frozenset()
    where = (G.nodes[matmul].get("parent_op"), G.nodes[matmul].get("frame"))
    found, todo, seen = set(), [src], {src}
    for _ in range(_HOPS):
        nxt = []
        for node, out in todo:
            state = loop_state(G, node, out)
            if state is not None:
                if _is_float(G, state):  # counters and TensorLists are not a cell's state
                    found.add(state)
                continue
            if node_op(G, node) == "MatMul" or \
                    (G.nodes[node].get("parent_op"), G.nodes[node].get("frame")) != where:
                continue
            for item in data_inputs(G, node):
                if item not in seen:
                    seen.add(item)
                    nxt.append(item)
        todo = nxt
    return frozenset(found)


def _is_float(G, node: str) -> bool:
    outs = G.nodes[node]["outputs"]
    dtype = outs[0]["dtype"] if outs else None
    if dtype is None:
        dtype = G.nodes[node]["attrs"].get("T")
    return dtype in (None, "float32", "float64", "float16", "bfloat16")


def _activation_of(G, matmul: str) -> tuple:
    """Return (activation node, bias weight) the product reaches through adds, or (None, None)."""
    todo, bias = [matmul], None
    for _ in range(_BIAS_HOPS):
        nxt = []
        for node in todo:
            for dst, _ in consumers(G, node, 0):
                op = node_op(G, dst)
                if op in ACTIVATIONS:
                    return dst, bias
                if op in _ADD | {"BiasAdd"}:
                    for src in data_inputs(G, dst):
                        if src[0] != node and node_op(G, src[0]) != "MatMul":
                            weight = weight_of(G, *src)
                            if weight is not None and len(variable_shape(G, weight) or [0]) == 1:
                                bias = weight
                    nxt.append(dst)
        todo = nxt
    return None, bias


def _input_label(G, matmul: str, states: frozenset) -> str:
    src = input_of(G, matmul, 0)
    concat = src and node_op(G, src[0]) in _CONCAT
    if states and concat:
        return "[x, h]"
    if states:
        return "h"
    return "x" if src and reads_sequence(G, *src) else "input"


def _units(G, states: frozenset, parts: list) -> Optional[int]:
    """Return the state size if the state's shape or every part's weight columns agree on it."""
    sizes = set()
    for state in states:
        outs = G.nodes[state]["outputs"]
        shape = outs[0]["shape"] if outs else None
        if shape and len(shape) == 2 and shape[1] is not None:
            sizes.add(shape[1])
    if not sizes:
        sizes = {w["shape"][1] for p in parts for w in p["weights"] if w["shape"]}
    return sizes.pop() if len(sizes) == 1 else None


def find_custom_cells(G: nx.MultiDiGraph, taken: frozenset = frozenset()) -> list:
    """Return one custom :class:`Cell` per group of weight MatMuls fed by one loop state."""
    matmuls = {}
    for node, data in G.nodes(data=True):
        if data["op"] == "MatMul" and node not in taken:
            weight = weight_matmul(G, node)
            if weight is not None and loop_of(G, node) is not None:
                matmuls[node] = weight
    # Group the MatMuls that read a loop state, by the loop and the states they share.
    groups: list = []
    for mm in sorted(matmuls, key=natural_key):
        states = state_of_input(G, mm)
        if not states:
            continue
        loop = loop_of(G, mm)
        merged = [g for g in groups if g["loop"] == loop and g["states"] & states]
        group = {"loop": loop, "states": set(states), "members": {mm}}
        for other in merged:
            group["states"] |= other["states"]
            group["members"] |= other["members"]
            groups.remove(other)
        groups.append(group)
    cells = []
    for group in groups:
        acts = {}
        for mm in group["members"]:
            act, _ = _activation_of(G, mm)
            if act is not None:
                acts[act] = True
        # x·W_g products that meet a member's activation belong to the same part.
        for mm in matmuls:
            if mm not in group["members"] and loop_of(G, mm) == group["loop"]:
                act, _ = _activation_of(G, mm)
                if act in acts:
                    group["members"].add(mm)
        cells.append(_custom_cell(G, group, matmuls))
    return [c for c in cells if c is not None]


def state_sinks(G, states: set) -> set:
    """Return the nodes that hand each state its next value (NextIteration, body _Retval)."""
    sinks = set()
    for state in states:
        if node_op(G, state) == "_Arg":
            sinks.add(body_retval(G, state))
        else:
            sinks |= {s for s, _ in data_inputs(G, state) if node_op(G, s) in
                      ("NextIteration", "RefNextIteration")}
    return sinks


def _feeds_back(G, starts: list, sinks: set, limit: int = 2000) -> bool:
    """True if a value computed from ``starts`` becomes a state's next value."""
    seen, todo = set(starts), list(starts)
    while todo and len(seen) < limit:
        for dst, _ in consumers(G, todo.pop()):
            if dst in sinks:
                return True
            if dst not in seen and node_op(G, dst) not in ("Exit", "RefExit"):
                seen.add(dst)
                todo.append(dst)
    return False


def _custom_cell(G, group: dict, weights: dict) -> Optional[Cell]:
    # An output projection or a head reads h but gives the loop nothing back: not a cell.
    if not _feeds_back(G, sorted(group["members"]), state_sinks(G, group["states"])):
        return None
    by_act: dict = {}
    for mm in sorted(group["members"], key=natural_key):
        act, bias = _activation_of(G, mm)
        key = act or mm
        part = by_act.setdefault(key, {"node": key, "activation": ACTIVATIONS.get(node_op(G, act))
                                       if act else None, "weights": [], "bias": None})
        if bias:
            part["bias"] = bias
        states = state_of_input(G, mm)
        part["weights"].append({"matmul": mm, "weight": weights[mm],
                                "shape": variable_shape(G, weights[mm]),
                                "input": _input_label(G, mm, states)})
    parts = sorted(by_act.values(), key=lambda p: natural_key(p["node"]))
    first = min(group["members"], key=natural_key)
    scopes = [G.nodes[m]["scope"] for m in group["members"]]
    scope = common_prefix(scopes)
    shape = variable_shape(G, weights[first])
    cell = Cell(scope=scope or G.nodes[first]["scope"], kind="custom", matmul=first, concat="",
                kernel=weights[first], kernel_shape=shape, bias=None, bias_shape=None,
                activation=None, activation_node=None, n_inputs=None,
                n_neurons=_units(G, frozenset(group["states"]), parts), x_input="",
                h_input=sorted(group["states"])[0], form="custom")
    cell.parts = parts
    cell.instances = [first]
    cell.loops = [group["loop"]]
    cell.layer = layer_name(G, first)
    cell.recurrent_matmuls = sorted((w["matmul"] for p in parts for w in p["weights"]
                                     if w["input"] in ("h", "[x, h]")), key=natural_key)
    cell.nodes = sorted(group["members"] | {p["node"] for p in parts}, key=natural_key)
    return cell
