"""Cells: one MatMul over [X_t, h_(t-1)] and a kernel, its gates, and its per-step copies."""

from __future__ import annotations

from collections import Counter
from typing import Optional

import networkx as nx

from .exprs import (PASS_THROUGH, VARIABLE_OPS, const_value, consumers, data_inputs, input_of,
                     natural_key, node_op, shape_of, trace_source)
from .dataflow import loop_of
from .custom import find_custom_cells, state_of_input
from .keras import find_keras_cells
from .fused import find_fused_cells, find_fused_matmul_cells
from .structures import (ACTIVATIONS, Cell, GATE_NAMES, _ADD, _CONCAT, _ENTER, _LOOP_PLUMBING,
                         _MUL, _SPLIT)


def _activation_after(G, node: str, out: int = 0, hops: int = 3) -> tuple[Optional[str], list]:
    """Follow Add/Mul pre-activation terms from ``node:out`` to an activation; return it and the adds."""
    adds: list = []
    current, current_out = node, out
    for _ in range(hops):
        nexts = consumers(G, current, current_out)
        acts = [d for d, _ in nexts if node_op(G, d) in ACTIVATIONS]
        if acts:
            return acts[0], adds
        add = [d for d, _ in nexts if node_op(G, d) in _ADD]
        if not add:
            return None, adds
        adds.append(add[0])
        current, current_out = add[0], 0
    return None, adds


def _variable_of(G, node: str, out: int = 0) -> Optional[str]:
    """Return the variable (or frozen constant) that ``node:out`` reads, if it is one."""
    src, _ = trace_source(G, node, out)
    return src if node_op(G, src) in VARIABLE_OPS else None


def _variable_at_input(G, node: str, index: int) -> Optional[str]:
    src = input_of(G, node, index)
    return _variable_of(G, *src) if src else None


def _shape_of_input(G, node: str, index: int, variable: Optional[str]) -> Optional[list]:
    """Return the shape feeding ``node``'s input ``index``: the variable's declared shape first."""
    if variable is not None:
        attrs = G.nodes[variable]["attrs"]
        vshape = attrs.get("shape")
        if isinstance(attrs.get("value"), dict):
            vshape = attrs["value"]["shape"]
        if isinstance(vshape, list) and vshape and all(isinstance(d, int) and d >= 0 for d in vshape):
            return vshape
    src = input_of(G, node, index)
    return shape_of(G, *src) if src else None


def _bias_after(G, matmul: str) -> tuple[Optional[str], Optional[str], Optional[str]]:
    """Return (BiasAdd/Add node, bias variable, bias input node) following ``matmul``."""
    for dst, _ in consumers(G, matmul, 0):
        if node_op(G, dst) in ({"BiasAdd"} | _ADD):
            other = input_of(G, dst, 1)
            if other and other[0] != matmul:
                var = _variable_of(G, *other)
                if var is not None or node_op(G, dst) == "BiasAdd":
                    return dst, var, other[0]
    return None, None, None


def _cell_anchor(G, matmul: str) -> Optional[dict]:
    """Return the basic facts of a cell whose gate MatMul is ``matmul``, or None."""
    data = G.nodes[matmul]
    if data["attrs"].get("transpose_a") or data["attrs"].get("transpose_b"):
        return None
    x_src = input_of(G, matmul, 0)
    if not x_src:
        return None
    concat = trace_source(G, *x_src, through={"Identity"})[0]
    if node_op(G, concat) not in _CONCAT:
        return None
    parts = data_inputs(G, concat)
    values = parts[:-1] if node_op(G, concat) == "ConcatV2" else parts[1:]
    if len(values) < 2:
        return None
    kernel = _variable_at_input(G, matmul, 1)
    kernel_in = input_of(G, matmul, 1)
    if kernel is None and kernel_in:
        # Frozen or unusual graphs: accept any constant-like second operand.
        kernel = trace_source(G, *kernel_in)[0]
    pre, bias, _ = _bias_after(G, matmul)
    if pre is None:
        return None
    return {"matmul": matmul, "concat": concat, "x": values[0], "h": values[-1], "pre": pre,
            "kernel": kernel, "bias": bias}


def _lstm_gates(G, pre: str) -> Optional[dict]:
    for dst, _ in consumers(G, pre, 0):
        op = node_op(G, dst)
        if op in _SPLIT and len(G.nodes[dst]["outputs"]) == 4 or \
                op in _SPLIT and G.nodes[dst]["attrs"].get("num_split") == 4:
            return {"split": dst}
    return None


def _gru_gates(G, pre: str) -> Optional[dict]:
    for sig, _ in consumers(G, pre, 0):
        if node_op(G, sig) != "Sigmoid":
            continue
        for dst, _ in consumers(G, sig, 0):
            if node_op(G, dst) in _SPLIT and (G.nodes[dst]["attrs"].get("num_split") == 2
                                              or len(G.nodes[dst]["outputs"]) == 2):
                return {"sigmoid": sig, "split": dst}
    return None


def _fill_lstm(G, cell: Cell, split: str) -> None:
    cell.kind = "lstm"
    cell.gates = list(GATE_NAMES["lstm"])
    acts = {}
    for index, gate in enumerate(cell.gates):
        act, adds = _activation_after(G, split, index)
        cell.gate_nodes[gate] = {"slice": f"{split}:{index}", "preact": adds, "activation": act}
        acts[gate] = act
        for add in adds:
            for src, out in data_inputs(G, add):
                if (src, out) == (split, index) or src in adds:
                    continue
                value = const_value(G, src, out)
                if isinstance(value, (int, float)) and gate == "f":
                    cell.forget_bias, cell.forget_bias_node = float(value), add
                elif node_op(G, src) in _MUL:
                    for m_src, m_out in data_inputs(G, src):
                        var = _variable_of(G, m_src, m_out)
                        if var is not None:
                            cell.peepholes[gate] = var
    if acts.get("j"):
        cell.activation = ACTIVATIONS.get(node_op(G, acts["j"]))
        cell.activation_node = acts["j"]
    # c_t = c·σ(f) + σ(i)·act(j) and h_t = act(c_t)·σ(o): picked by their other operands, so
    # that the gradient ops of a training graph (which also multiply σ(f), σ(o)) are not taken.
    if acts.get("f"):
        for mul, _ in consumers(G, acts["f"], 0):
            if node_op(G, mul) in _MUL:
                new_c = [d for d, _ in consumers(G, mul, 0) if node_op(G, d) in _ADD
                         and _adds_input_gate(G, d, acts.get("i"))]
                if new_c:
                    cell.outputs["c"] = new_c[0]
                    break
    if acts.get("o"):
        new_h = [d for d, _ in consumers(G, acts["o"], 0) if node_op(G, d) in _MUL
                 and any(node_op(G, s) in ACTIVATIONS and node_op(G, s) != "Sigmoid"
                         for s, _ in data_inputs(G, d))]
        if new_h:
            cell.outputs["h"] = new_h[0]
            _projection(G, cell, new_h[0])


def _projection(G, cell: Cell, m: str) -> None:
    """LSTMCell(num_proj): h is m · W_proj (optionally clipped), not m itself."""
    for dst, index in consumers(G, m, 0):
        if node_op(G, dst) != "MatMul" or index != 0:
            continue
        # num_proj's MatMul is in the cell's own name scope; a MatMul outside it (the
        # OutputProjectionWrapper, a dense head) reads h and is not part of the cell.
        if dst.rpartition("/")[0] != m.rpartition("/")[0]:
            continue
        kernel = _variable_at_input(G, dst, 1)
        if kernel is None:
            continue
        shape = _shape_of_input(G, dst, 1, kernel)
        cell.projection = {"matmul": dst, "kernel": kernel, "shape": shape, "m": m,
                           "units": shape[1] if shape and len(shape) == 2 else None}
        clip = [d for d, _ in consumers(G, dst, 0) if node_op(G, d) == "ClipByValue"]
        cell.outputs["h"] = clip[0] if clip else dst
        return


def _adds_input_gate(G, add: str, sigmoid_i: Optional[str]) -> bool:
    """True if ``add`` sums a product with the input gate σ(i) (the new c_t, not a gradient)."""
    for src, _ in data_inputs(G, add):
        if node_op(G, src) in _MUL and sigmoid_i in {s for s, _ in data_inputs(G, src)}:
            return True
    return sigmoid_i is None


def _fill_gru(G, cell: Cell, gates: dict) -> None:
    cell.kind = "gru"
    cell.gates = list(GATE_NAMES["gru"])
    split = gates["split"]
    for index, gate in enumerate(cell.gates):
        cell.gate_nodes[gate] = {"slice": f"{split}:{index}", "preact": [],
                                 "activation": gates["sigmoid"]}
    for mul, _ in consumers(G, split, 0):
        if node_op(G, mul) not in _MUL:
            continue
        for concat, _ in consumers(G, mul, 0):
            if node_op(G, concat) not in _CONCAT:
                continue
            for matmul, index in consumers(G, concat, 0):
                attrs = G.nodes[matmul]["attrs"]
                if node_op(G, matmul) != "MatMul" or index != 0 or attrs.get("transpose_a") \
                        or attrs.get("transpose_b"):
                    continue  # not [X_t, r·h]·W_c (a gradient MatMul reads the concat transposed)
                pre, bias, _ = _bias_after(G, matmul)
                kernel = _variable_at_input(G, matmul, 1)
                act = None
                if pre:
                    act = next((d for d, _ in consumers(G, pre, 0) if node_op(G, d) in ACTIVATIONS), None)
                cell.candidate = {
                    "matmul": matmul, "concat": concat, "reset_mul": mul, "kernel": kernel,
                    "kernel_shape": _shape_of_input(G, matmul, 1, kernel), "bias": bias,
                    "bias_shape": _shape_of_input(G, pre, 1, bias) if pre else None,
                    "activation_node": act}
                if act:
                    cell.activation = ACTIVATIONS.get(node_op(G, act))
                    cell.activation_node = act
                    for m2, _ in consumers(G, act, 0):
                        # h_t = u·h + (1 − u)·c: the Add whose other product reads the split (u),
                        # not a gradient op of a training graph.
                        new_h = [d for d, _ in consumers(G, m2, 0) if node_op(G, d) in _ADD
                                 and any(node_op(G, m) in _MUL and split in
                                         {x for x, _ in data_inputs(G, m)}
                                         for m, _ in data_inputs(G, d))]
                        if node_op(G, m2) in _MUL and new_h:
                            cell.outputs["h"] = new_h[0]
                            break
                return


def _forward(G, start: str, scope: str, blocked=frozenset()) -> set:
    """Return the nodes reachable forward from ``start`` within ``scope`` (loop plumbing excluded).

    The search does not enter ``blocked`` nodes.
    """
    seen, todo = {start}, [start]
    while todo:
        for dst, _ in consumers(G, todo.pop()):
            if dst in seen or dst in blocked or not G.nodes[dst]["scope"].startswith(scope) \
                    or node_op(G, dst) in _LOOP_PLUMBING | {"_Retval"}:
                continue
            seen.add(dst)
            todo.append(dst)
    return seen


def _instance_nodes(G, anchors: list) -> list:
    """Return each per-step copy's nodes: forward from its MatMul, minus what later copies own.

    Copies are visited last to first, and the search from each stops at what later
    copies reach, so the whole pass is linear in the graph (not in copies × graph).
    """
    claimed: set = set()  # everything reachable from later copies, and their concats
    result = []
    for anchor in reversed(anchors):
        scope = G.nodes[anchor["matmul"]]["scope"]
        reached = _forward(G, anchor["matmul"], scope, blocked=claimed)
        own = (reached - claimed) | {anchor["concat"]}
        extra = set()
        for node in own:
            for src, _ in data_inputs(G, node):
                op = node_op(G, src)
                if op == "Const" or op in _ENTER or (op in PASS_THROUGH and
                                                     G.nodes[src]["scope"].startswith(scope)):
                    extra.add(src)
        result.append(sorted(own | (extra - claimed)))
        claimed |= reached
        claimed.add(anchor["concat"])
    return result[::-1]


def find_cells(G: nx.MultiDiGraph) -> list:
    """Return the recurrent cells: one :class:`Cell` per kernel, per-step copies as instances."""
    anchors = [a for a in (_cell_anchor(G, n) for n, d in G.nodes(data=True)
                           if d["op"] == "MatMul") if a is not None]
    cells: list = []
    candidates: set = set()
    built: list = []
    for anchor in anchors:
        cell = Cell(scope=G.nodes[anchor["matmul"]]["scope"], kind="rnn", matmul=anchor["matmul"],
                    concat=anchor["concat"], kernel=anchor["kernel"], kernel_shape=None,
                    bias=anchor["bias"], bias_shape=None, activation=None, activation_node=None,
                    n_inputs=None, n_neurons=None, x_input=anchor["x"][0], h_input=anchor["h"][0])
        lstm = _lstm_gates(G, anchor["pre"])
        gru = None if lstm else _gru_gates(G, anchor["pre"])
        if lstm:
            _fill_lstm(G, cell, lstm["split"])
        elif gru:
            _fill_gru(G, cell, gru)
            if cell.candidate:
                candidates.add(cell.candidate["matmul"])
        else:
            act = next((d for d, _ in consumers(G, anchor["pre"], 0)
                        if node_op(G, d) in ACTIVATIONS), None)
            if act is None:
                continue
            cell.activation, cell.activation_node = ACTIVATIONS[node_op(G, act)], act
            cell.outputs["h"] = act
        cell.kernel_shape = _shape_of_input(G, cell.matmul, 1, cell.kernel)
        cell.bias_shape = _shape_of_input(G, anchor["pre"], 1, cell.bias)
        _sizes(G, cell)
        built.append((cell, anchor))
    groups: dict = {}
    for cell, anchor in built:
        if cell.matmul in candidates:
            continue  # a GRU's candidate MatMul, part of the GRU found above
        groups.setdefault(cell.kernel, []).append((cell, anchor))
    for members in groups.values():
        members.sort(key=lambda m: _step_order(G, m[0]))
        first = members[0][0]
        node_sets = _instance_nodes(G, [a for _, a in members])
        signatures = {tuple(sorted(Counter(node_op(G, n) for n in nodes).items()))
                      for nodes in node_sets}
        first.nodes = node_sets[0]
        first.instances = [c.matmul for c, _ in members]
        first.instance_scopes = [c.scope for c, _ in members]
        first.instance_concats = [c.concat for c, _ in members]
        first.instance_outputs = [c.outputs.get("h") for c, _ in members]
        first.candidate_concats = [c.candidate["concat"] for c, _ in members if c.candidate]
        first.same_structure = len(signatures) == 1
        first.same_variables = len({c.bias for c, _ in members}) == 1
        first.instance_matmuls = [c.projection["matmul"] for c, _ in members if c.projection]
        cells.append(first)
    for cell in cells:
        cell.layer = cell.scope
        cell.loops = sorted({loop for mm in cell.instances if (loop := loop_of(G, mm))})
    cells = _without_gate_pieces(G, cells)
    taken = {mm for c in cells for mm in c.instances} | candidates
    cells += find_keras_cells(G, frozenset(taken))
    taken |= {mm for c in cells for mm in [c.matmul, *c.instances, *c.instance_matmuls]}
    cells += find_custom_cells(G, frozenset(taken))
    taken |= {mm for c in cells for mm in [c.matmul, *c.instances, *c.recurrent_matmuls]}
    cells += find_fused_matmul_cells(G, frozenset(taken))
    cells += find_fused_cells(G)
    cells.sort(key=lambda c: _step_order(G, c))
    return cells


def _without_gate_pieces(G, cells: list) -> list:
    """Drop "cells" that are gates of one hand-written cell: several in one loop reading one h.

    A TensorFlow cell owns its loop state; two matches in the same loop whose [X_t, h] read the
    same state are one hand-written cell matched gate by gate (found again as a custom cell).
    """
    keys = {}
    for cell in cells:
        if cell.kind == "rnn" and cell.loops:
            keys[id(cell)] = (tuple(cell.loops), state_of_input(G, cell.matmul))
    counts = Counter(k for k in keys.values() if k[1])
    return [c for c in cells if counts.get(keys.get(id(c)), 0) < 2]


def _step_order(G, cell: Cell) -> tuple:
    """Sort key: per-step copies by their numeric suffixes, then by name."""
    return natural_key(cell.matmul)


def _sizes(G, cell: Cell) -> None:
    shape = cell.kernel_shape
    blocks = {"rnn": 1, "lstm": 4, "gru": 2}[cell.kind]
    if shape and len(shape) == 2 and shape[1] is not None:
        cell.n_neurons = shape[1] // blocks
    x_shape = shape_of(G, cell.x_input, _out_index(G, cell.concat, 0))
    if x_shape and x_shape[-1] is not None:
        cell.n_inputs = x_shape[-1]
    elif shape and shape[0] is not None and cell.n_neurons is not None:
        # With a projection, h (the part of [X_t, h] after X_t) has num_proj columns.
        h_size = cell.projection.get("units") if cell.projection else cell.n_neurons
        if h_size is not None:
            cell.n_inputs = shape[0] - h_size


def _out_index(G, node: str, index: int) -> int:
    src = input_of(G, node, index)
    return src[1] if src else 0
