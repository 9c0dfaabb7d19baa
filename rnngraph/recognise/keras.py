"""Keras RNN cells: ``x·kernel + h·recurrent_kernel (+ bias)``, two MatMuls and no concat.

``tf.keras.layers.SimpleRNN``, ``LSTM`` and ``GRU`` (tf-keras 2.x and Keras 3), looped
(a ``While`` in a function, or lowered to v1 frames) or unrolled (``unroll=True``: one
copy per step).  A cell is found where a MatMul by one weight (the kernel) and a MatMul
by another (the recurrent kernel) are summed, directly (LSTM, SimpleRNN) or gate by gate
after a split (GRU).  Which product reads the input is decided by data flow: the one fed
a step of the input sequence (TensorList/TensorArray read, unstack, slice), not the loop
state.  The kind comes from the structure (a 4-way split, a 3-way split, an activation
of the sum) and must agree with the recurrent kernel's shape (n × g·n).
"""

from __future__ import annotations

from typing import Optional

import networkx as nx

from .dataflow import (layer_name, weight_matmul, loop_of, loop_state, reads_sequence, variable_shape,
                       weight_of)
from .exprs import const_value, consumers, data_inputs, input_of, natural_key, node_op, trace_source
from .structures import ACTIVATIONS, KERAS_GATE_NAMES, Cell, _ADD, _MUL, _SPLIT

__all__ = ["find_keras_cells"]

_GATES_PER_KIND = {"rnn": 1, "gru": 3, "lstm": 4}
_BEHIND = {"BiasAdd", "Identity", "StridedSlice", "Split", "SplitV"}
_HOPS = 4


def _matmul(G, node: str) -> Optional[tuple]:
    """Return (MatMul, its weight) if ``node`` is a plain MatMul by a weight, else None."""
    weight = weight_matmul(G, node)
    return (node, weight) if weight is not None else None


def _is_bias(G, node: str, out: int) -> bool:
    """True if ``node:out`` is a bias: a weight (not a product) of rank 1, or Keras' 2 × 3n."""
    if node_op(G, node) == "MatMul":
        return False
    weight = weight_of(G, node, out)
    shape = variable_shape(G, weight)
    return weight is not None and (shape is None or len(shape) <= 2)


def _behind(G, node: str, out: int) -> Optional[tuple]:
    """Return the (MatMul, weight) whose product reaches ``node:out`` through bias, slices and splits."""
    for _ in range(_HOPS):
        node, out = trace_source(G, node, out, through=frozenset({"Identity"}))
        found = _matmul(G, node)
        if found:
            return found
        op = node_op(G, node)
        if op in _ADD:
            inputs = data_inputs(G, node)
            rest = [s for s in inputs if not _is_bias(G, *s)]
            if len(inputs) != 2 or len(rest) != 1:
                return None
            node, out = rest[0]
            continue
        if op not in _BEHIND:
            return None
        index = _SPLIT.get(op, 0)
        src = input_of(G, node, index)
        if src is None:
            return None
        node, out = src
    return None


def _pairs(G) -> dict:
    """Return {(x MatMul, kernel, recurrent kernel): [(recurrent MatMul, meeting Add), ...]}."""
    found: dict = {}
    for add, data in G.nodes(data=True):
        if data["op"] not in _ADD:
            continue
        inputs = data_inputs(G, add)
        if len(inputs) != 2:
            continue
        sides = [_behind(G, *s) for s in inputs]
        if None in sides or sides[0][1] == sides[1][1] or sides[0][0] == sides[1][0]:
            continue
        x_side, h_side = _orient(G, sides)
        key = (x_side[0], x_side[1], h_side[1])
        found.setdefault(key, []).append((h_side[0], add))
    return found


def _orient(G, sides: list) -> tuple:
    """Return (input side, recurrent side): data flow first, then Keras' order (x first)."""
    reads = [reads_sequence(G, *input_of(G, mm, 0)) for mm, _ in sides]
    state = [loop_state(G, *input_of(G, mm, 0)) is not None for mm, _ in sides]
    if reads == [False, True] or state == [True, False]:
        return sides[1], sides[0]
    return sides[0], sides[1]


def _first_consumer(G, node: str, out: int, ops) -> Optional[str]:
    return next((d for d, _ in consumers(G, node, out) if node_op(G, d) in ops), None)


def _forward_split(G, start: str, ways: int) -> Optional[str]:
    """Return the Split/SplitV into ``ways`` parts fed by ``start`` through adds and bias."""
    todo, seen = [start], {start}
    for _ in range(_HOPS):
        nxt = []
        for node in todo:
            for dst, _ in consumers(G, node, 0):
                op = node_op(G, dst)
                if op in _SPLIT and len(G.nodes[dst]["outputs"]) == ways or \
                        op in _SPLIT and G.nodes[dst]["attrs"].get("num_split") == ways:
                    return dst
                if op in _ADD | {"BiasAdd", "Identity"} and dst not in seen:
                    seen.add(dst)
                    nxt.append(dst)
        todo = nxt
    return None


def _act(G, node: Optional[str], out: int = 0) -> Optional[str]:
    """Return the activation applied to ``node:out`` (directly or after one add)."""
    if node is None:
        return None
    found = _first_consumer(G, node, out, ACTIVATIONS)
    if found:
        return found
    for dst, _ in consumers(G, node, out):
        if node_op(G, dst) in _ADD:
            found = _first_consumer(G, dst, 0, ACTIVATIONS)
            if found:
                return found
    return None


def _bias_of(G, matmul: str) -> Optional[str]:
    """Return the bias weight added to ``matmul``'s product (directly or after the sum)."""
    todo = [matmul]
    for _ in range(3):
        nxt = []
        for node in todo:
            for dst, _ in consumers(G, node, 0):
                if node_op(G, dst) not in _ADD | {"BiasAdd"}:
                    continue
                for src in data_inputs(G, dst):
                    if src[0] != node and _is_bias(G, *src):
                        weight = weight_of(G, *src)
                        if len(variable_shape(G, weight) or [0]) <= 2 and weight is not None:
                            return weight
                nxt.append(dst)
        todo = nxt
    return None


_HARD_STEPS = {"Mul", "AddV2", "Add", "Minimum", "Maximum", "ClipByValue", "Relu6", "RealDiv"}


def _const_operand(G, node: str, other_than: str) -> Optional[float]:
    """Return the scalar constant ``node`` combines with ``other_than``, or None."""
    for src, out in data_inputs(G, node):
        if src != other_than:
            value = const_value(G, src, out)
            return float(value) if isinstance(value, (int, float)) else None
    return None


def _gate(G, node: str, out: int = 0) -> tuple:
    """Return (gate output node, activation name, slope) of the activation applied to ``node:out``.

    A plain op (Sigmoid, Tanh, ...), or Keras' hard sigmoid written out: tf-keras
    ``clip(0.2·x + 0.5, 0, 1)`` (Mul, Add, Minimum, Maximum), Keras 3 ``relu6(x + 3) / 6``.
    """
    act = _first_consumer(G, node, out, ACTIVATIONS)
    if act is not None and node_op(G, act) != "Relu6":
        return act, ACTIVATIONS[node_op(G, act)], None
    current, slope, clipped = node, None, False
    for _ in range(5):
        users = consumers(G, current, out if current == node else 0)
        if len(users) != 1 or node_op(G, users[0][0]) not in _HARD_STEPS:
            break
        step = users[0][0]
        op = node_op(G, step)
        if op == "Relu6":
            clipped = True
        else:
            value = _const_operand(G, step, current)
            if value is None:
                break
            if op == "Mul" and not clipped:
                slope = value
            elif op == "RealDiv" and clipped:
                slope = 1.0 / value if value else None
            clipped = clipped or op in ("Maximum", "ClipByValue")
        current = step
        if clipped and op in ("Maximum", "ClipByValue", "RealDiv"):
            return current, "hard_sigmoid", slope
    return None, None, None


def _fill_lstm(G, cell: Cell, split: str) -> None:
    acts = {}
    for index, gate in enumerate(KERAS_GATE_NAMES["lstm"]):
        act, name, slope = _gate(G, split, index)
        acts[gate] = act
        cell.gate_nodes[gate] = {"slice": f"{split}:{index}", "preact": [], "activation": act,
                                 "function": name, "slope": slope}
    if acts["i"]:
        cell.recurrent_activation = cell.gate_nodes["i"]["function"]
    if acts["c"]:
        cell.activation = cell.gate_nodes["c"]["function"]
        cell.activation_node = acts["c"]
    if acts["f"]:
        mul = _first_consumer(G, acts["f"], 0, _MUL)
        new_c = _first_consumer(G, mul, 0, _ADD) if mul else None
        if new_c:
            cell.outputs["c"] = new_c
    if acts["o"]:
        new_h = _first_consumer(G, acts["o"], 0, _MUL)
        if new_h:
            cell.outputs["h"] = new_h


def _fill_gru(G, cell: Cell, split: str, recurrent: list) -> None:
    acts = {}
    for index, gate in enumerate(KERAS_GATE_NAMES["gru"]):
        add = _first_consumer(G, split, index, _ADD)
        act, name, slope = _gate(G, add) if add else (None, None, None)
        acts[gate] = act
        cell.gate_nodes[gate] = {"slice": f"{split}:{index}", "preact": [add] if add else [],
                                 "activation": act, "function": name, "slope": slope}
    if acts["z"]:
        cell.recurrent_activation = cell.gate_nodes["z"]["function"]
    if acts["h"]:
        cell.activation = cell.gate_nodes["h"]["function"]
        cell.activation_node = acts["h"]
        mul = _first_consumer(G, acts["h"], 0, _MUL)
        new_h = _first_consumer(G, mul, 0, _ADD) if mul else None
        if new_h:
            cell.outputs["h"] = new_h
    # reset_after=False multiplies r·h before a second recurrent MatMul (recurrent_kernel[:, 2n:]).
    cell.reset_after = not any(node_op(G, trace_source(G, *input_of(G, mm, 0))[0]) in _MUL
                               for mm in recurrent)


def _kind(G, x_mm: str, shape: Optional[list]) -> Optional[tuple]:
    """Return (kind, split or activation node) from the structure after ``x_mm``."""
    lstm = _forward_split(G, x_mm, 4)
    if lstm:
        return "lstm", lstm
    gru = _forward_split(G, x_mm, 3)
    if gru:
        return "gru", gru
    act = _act(G, x_mm) or next((_act(G, d) for d, _ in consumers(G, x_mm, 0)
                                 if node_op(G, d) in _ADD | {"BiasAdd"} and _act(G, d)), None)
    return ("rnn", act) if act else None


def _build(G, x_mm: str, kernel: str, rkernel: str, links: list) -> Optional[Cell]:
    rshape = variable_shape(G, rkernel)
    found = _kind(G, x_mm, rshape)
    if found is None:
        return None
    kind, where = found
    if rshape and rshape[0] and rshape[1] != _GATES_PER_KIND[kind] * rshape[0]:
        return None  # the structure and the recurrent kernel's shape disagree: say nothing
    recurrent = sorted({mm for mm, _ in links}, key=natural_key)
    x_src, h_src = input_of(G, x_mm, 0), input_of(G, recurrent[0], 0)
    kshape = variable_shape(G, kernel)
    cell = Cell(scope=G.nodes[x_mm]["scope"], kind=kind, matmul=x_mm, concat="", kernel=kernel,
                kernel_shape=kshape, bias=None, bias_shape=None, activation=None,
                activation_node=None, n_inputs=kshape[0] if kshape else None,
                n_neurons=rshape[0] if rshape else None, x_input=x_src[0] if x_src else "",
                h_input=h_src[0] if h_src else "", form="keras", recurrent_kernel=rkernel,
                recurrent_kernel_shape=rshape, recurrent_matmuls=recurrent)
    cell.gates = list(KERAS_GATE_NAMES[kind])
    cell.bias = _bias_of(G, x_mm)
    cell.bias_shape = variable_shape(G, cell.bias)
    if kind == "lstm":
        _fill_lstm(G, cell, where)
    elif kind == "gru":
        _fill_gru(G, cell, where, recurrent)
    else:
        cell.activation, cell.activation_node = ACTIVATIONS[node_op(G, where)], where
        cell.outputs["h"] = where
    if cell.bias_shape and len(cell.bias_shape) == 2 and cell.bias_shape[0] == 2:
        cell.bias_layout = "input bias and recurrent bias, one row each"
    elif cell.bias_shape:
        cell.bias_layout = "one bias added to x·kernel"
    cell.layer = layer_name(G, x_mm)
    cell.nodes = _cell_nodes(G, [x_mm, *recurrent], [n for n in cell.outputs.values() if n])
    return cell


def _cell_nodes(G, starts: list, ends: list, limit: int = 400) -> list:
    """Return the nodes on a data path from the cell's MatMuls to its outputs (same function body)."""
    where = (G.nodes[starts[0]].get("parent_op"), G.nodes[starts[0]].get("frame"))

    def reach(seeds: list, step) -> set:
        seen, todo = set(seeds), list(seeds)
        while todo and len(seen) < limit:
            for nxt in step(todo.pop()):
                if nxt not in seen and (G.nodes[nxt].get("parent_op"), G.nodes[nxt].get("frame")) == where:
                    seen.add(nxt)
                    todo.append(nxt)
        return seen

    forward = reach(starts, lambda n: [d for d, _ in consumers(G, n)])
    backward = reach(ends, lambda n: [s for s, _ in data_inputs(G, n)])
    return sorted((forward & backward) | set(starts) | set(ends), key=natural_key)


def _implementation(G, node: str) -> Optional[str]:
    """Return the functions TensorFlow keeps for the layer: the api_implements pair, if any."""
    attrs = G.graph.get("function_attrs") or {}
    current = node
    while current is not None:
        function = G.nodes[current].get("function")
        api = (attrs.get(function) or {}).get("api_implements") if function else None
        if api:
            pair = sorted(f"{_short(f)} ({a.get('api_preferred_device', '?')})"
                          for f, a in attrs.items() if a.get("api_implements") == api
                          and not f.startswith(("__forward", "__inference___backward")))
            return f"{_short(function)} (api_implements {api}: {', '.join(pair)})"
        current = G.nodes[current].get("parent_op")
    return None


def _short(function: str) -> str:
    """Return a library function's name without TensorFlow's prefix and number."""
    name = function.removeprefix("__inference_")
    head, _, tail = name.rpartition("_")
    return head if tail.isdigit() and head else name


def _live(G, cell: Cell) -> bool:
    """False for a copy whose results nothing reads (Keras 3 traces step 0 once for shapes)."""
    outs = [n for n in cell.outputs.values() if n]
    return not outs or any(consumers(G, n) for n in outs)


def _feeds_back(G, cell: Cell) -> bool:
    """True if the cell's h is what the loop carries on, or the next copy's recurrent input."""
    start = cell.outputs.get("h")
    if start is None:
        return False
    todo, seen = [start], {start}
    for _ in range(4):
        nxt = []
        for node in todo:
            for dst, index in consumers(G, node):
                op = node_op(G, dst)
                if op in ("_Retval", "NextIteration", "RefNextIteration") or \
                        (op == "MatMul" and index == 0 and dst in cell.recurrent_matmuls) or \
                        (op == "MatMul" and index == 0 and _matmul(G, dst) and
                         _matmul(G, dst)[1] == cell.recurrent_kernel):
                    return True
                if op in {"Identity", "Select", "SelectV2"} and dst not in seen:
                    seen.add(dst)
                    nxt.append(dst)
        todo = nxt
    return False


def find_keras_cells(G: nx.MultiDiGraph, taken: frozenset = frozenset()) -> list:
    """Return Keras-form cells (one per kernel pair, copies as instances), skipping ``taken`` MatMuls."""
    groups: dict = {}
    for (x_mm, kernel, rkernel), links in sorted(_pairs(G).items()):
        if x_mm in taken:
            continue
        cell = _build(G, x_mm, kernel, rkernel, links)
        if cell is None or not _live(G, cell):
            continue
        groups.setdefault((kernel, rkernel), []).append(cell)
    cells = []
    for members in groups.values():
        members.sort(key=lambda c: natural_key(c.matmul))
        # Keras runs one step outside the loop only to learn the output's shape: where a
        # layer loops, its copies outside any loop are that probe, not unrolled steps.
        looped = [c for c in members if loop_of(G, c.matmul)]
        members = looped or members
        # A gate of a hand-written cell also sums x·W and h·U; a Keras cell's h is its state.
        if not any(_feeds_back(G, c) for c in members):
            continue
        first = members[0]
        first.instances = [c.matmul for c in members]
        first.instance_matmuls = sorted({m for c in members for m in [c.matmul, *c.recurrent_matmuls]},
                                        key=natural_key)
        first.instance_scopes = [c.scope for c in members]
        first.instance_outputs = [c.outputs.get("h") for c in members]
        first.loops = sorted({loop for c in members if (loop := loop_of(G, c.matmul))})
        first.same_structure = len({(c.kind, len(c.recurrent_matmuls)) for c in members}) == 1
        first.same_variables = len({c.bias for c in members}) == 1
        first.implementation = _implementation(G, first.matmul)
        cells.append(first)
    return cells
