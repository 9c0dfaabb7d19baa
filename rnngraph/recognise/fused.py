"""TensorFlow's fused RNN kernels as cells: BlockLSTM(V2), LSTMBlockCell, GRUBlockCell, CudnnRNN*.

One op computes a whole cell (or a whole sequence of steps), so nothing is matched gate by
gate: the kind, the gate order, the inputs, peepholes, forget bias, clipping, direction and
layout are read from the op's attributes, its input shapes and what surrounds it (a
ReverseV2/ReverseSequence on the time axis around a BlockLSTM makes it a backward direction).
Rules as data: :data:`FUSED_KERNELS` says, per op, what TensorFlow's own OpDef and kernel
say (tensorflow/core/ops/rnn_ops.cc, cudnn_rnn_ops.cc; kernels/rnn/lstm_ops.h, gru_ops.h).
"""

from __future__ import annotations

from typing import Optional

import networkx as nx

from .custom import state_of_input, state_sinks
from .dataflow import layer_name, loop_of, loop_state, variable_shape, weight_matmul, weight_of
from .exprs import const_value, consumers, data_inputs, input_of, node_op, shape_of, trace_source
from .structures import ACTIVATIONS, Cell

__all__ = ["FUSED_KERNELS", "FUSED_GATE_MEANING", "CUDNN_GATES", "find_fused_cells",
           "find_fused_matmul_cells", "cudnn_params_size"]

_LSTM_IN = ("x", "cs_prev", "h_prev", "w", "wci", "wcf", "wco", "b")
_LSTM_OUT = ("i", "cs", "f", "o", "ci", "co", "h")
_CUDNN_IN = ("input", "input_h", "input_c", "params")
# op -> what TensorFlow's OpDef and kernel fix for it.  "gates": the column blocks of w (and b)
# in order; "forget_bias": the attribute to read, or the constant the kernel adds;
# "defaults": the OpDef's attribute defaults (a file may leave an attribute at its default out).
FUSED_KERNELS = {
    "BlockLSTM": {"kind": "lstm", "inputs": ("seq_len_max",) + _LSTM_IN, "outputs": _LSTM_OUT,
                  "gates": ("i", "ci", "f", "o"), "forget_bias": "forget_bias", "steps": "sequence",
                  "defaults": {"forget_bias": 1.0, "cell_clip": 3.0, "use_peephole": False}},
    # BlockLSTMV2 keeps Keras' / cuDNN's gate order and adds no forget bias.
    "BlockLSTMV2": {"kind": "lstm", "inputs": ("seq_len_max",) + _LSTM_IN, "outputs": _LSTM_OUT,
                    "gates": ("i", "f", "ci", "o"), "forget_bias": 0.0, "steps": "sequence",
                    "defaults": {"cell_clip": 0.0, "use_peephole": False}},
    "LSTMBlockCell": {"kind": "lstm", "inputs": _LSTM_IN, "outputs": _LSTM_OUT,
                      "gates": ("i", "ci", "f", "o"), "forget_bias": "forget_bias", "steps": "one",
                      "defaults": {"forget_bias": 1.0, "cell_clip": 3.0, "use_peephole": False}},
    "GRUBlockCell": {"kind": "gru", "inputs": ("x", "h_prev", "w_ru", "w_c", "b_ru", "b_c"),
                     "outputs": ("r", "u", "c", "h"), "gates": ("r", "u", "c"), "steps": "one",
                     "defaults": {}},
    "CudnnRNN": {"kind": "cudnn", "inputs": _CUDNN_IN,
                 "outputs": ("output", "output_h", "output_c", "reserve_space"), "steps": "sequence",
                 "defaults": {"rnn_mode": "lstm", "input_mode": "linear_input",
                              "direction": "unidirectional", "dropout": 0.0, "is_training": True}},
    "CudnnRNNV2": {"kind": "cudnn", "inputs": _CUDNN_IN,
                   "outputs": ("output", "output_h", "output_c", "reserve_space", "host_reserved"),
                   "steps": "sequence",
                   "defaults": {"rnn_mode": "lstm", "input_mode": "linear_input",
                                "direction": "unidirectional", "dropout": 0.0, "is_training": True}},
    "CudnnRNNV3": {"kind": "cudnn", "inputs": _CUDNN_IN + ("sequence_lengths",),
                   "outputs": ("output", "output_h", "output_c", "reserve_space", "host_reserved"),
                   "steps": "sequence",
                   "defaults": {"rnn_mode": "lstm", "input_mode": "linear_input",
                                "direction": "unidirectional", "dropout": 0.0, "is_training": True,
                                "num_proj": 0, "time_major": True}},
}
FUSED_GATE_MEANING = {"i": "input gate", "ci": "cell input (candidate)", "f": "forget gate",
                      "o": "output gate", "r": "reset gate", "u": "update gate",
                      "c": "candidate state"}
# cuDNN's own order of the per-gate weight matrices in its parameter buffer, per rnn_mode.
CUDNN_GATES = {"lstm": ("i", "f", "c", "o"), "gru": ("r", "u", "c"), "rnn_tanh": ("h",),
               "rnn_relu": ("h",)}
_CUDNN_KIND = {"lstm": "lstm", "gru": "gru", "rnn_tanh": "rnn", "rnn_relu": "rnn"}
_REVERSE = {"ReverseV2", "ReverseSequence"}
_PARAMS_FROM_CANONICAL = {"CudnnRNNCanonicalToParams", "CudnnRNNCanonicalToParamsV2"}
_PARAMS_TO_CANONICAL = {"CudnnRNNParamsToCanonical", "CudnnRNNParamsToCanonicalV2"}


def _attr(G, node: str, spec: dict, key: str):
    value = G.nodes[node]["attrs"].get(key)
    return spec["defaults"].get(key) if value is None else value


def _input(G, node: str, index: int, name: str) -> dict:
    """Return one named input: where it comes from, its shape and the weight behind it, if any."""
    src = input_of(G, node, index)
    if src is None:
        return {"name": name, "source": None, "shape": None, "weight": None}
    weight = weight_of(G, *src)
    shape = variable_shape(G, weight) if weight else None
    if shape is None:
        shape = shape_of(G, *src)
    origin, out = trace_source(G, *src)
    return {"name": name, "source": src[0] if src[1] == 0 else f"{src[0]}:{src[1]}",
            "origin": origin if out == 0 else f"{origin}:{out}", "shape": shape, "weight": weight}


def _reverses_time(G, node: str, time_axis: int) -> bool:
    """True if ``node`` is a ReverseV2 / ReverseSequence along ``time_axis`` (of a rank-3 tensor)."""
    op = node_op(G, node)
    if op == "ReverseSequence":
        return G.nodes[node]["attrs"].get("seq_dim") == time_axis
    if op == "ReverseV2":
        axes = input_of(G, node, 1)
        value = const_value(G, *axes) if axes else None
        values = value if isinstance(value, list) else [value]
        return any(isinstance(a, int) and a % 3 == time_axis for a in values)
    return False


def _reversal_before(G, src: Optional[tuple], time_axis: int) -> Optional[str]:
    """Return the time reversal ``src`` comes through (Identity / Enter looked through), or None."""
    if src is None:
        return None
    origin, _ = trace_source(G, *src, through=frozenset({"Identity", "Enter"}))
    return origin if _reverses_time(G, origin, time_axis) else None


def _reversal_after(G, node: str, out: int, time_axis: int) -> Optional[str]:
    """Return the time reversal that reads ``node:out`` (turning a backward output around), or None."""
    return next((dst for dst, index in consumers(G, node, out)
                 if index == 0 and _reverses_time(G, dst, time_axis)), None)


def _last(shape: Optional[list]) -> Optional[int]:
    return shape[-1] if shape and isinstance(shape[-1], int) and shape[-1] >= 0 else None


def cudnn_params_size(mode: str, inputs: int, units: int, layers: int, directions: int,
                      input_mode: str = "linear_input", num_proj: int = 0) -> int:
    """Return the float count of cuDNN's flat parameter buffer for this RNN (canonical layout).

    Per layer and direction, each gate has an input matrix (units × layer input, none with
    ``skip_input`` on the first layer), a recurrent matrix (units × h size) and two bias
    vectors; an LSTM projection (V3 ``num_proj``) adds one num_proj × units matrix.
    """
    gates = len(CUDNN_GATES[mode])
    h_size = num_proj or units
    total = 0
    for layer in range(layers):
        layer_in = inputs if layer == 0 else h_size * directions
        if layer == 0 and input_mode == "skip_input":
            layer_in = 0
        per = gates * (units * layer_in + units * h_size + 2 * units)
        if num_proj:
            per += num_proj * units
        total += per * directions
    return total


def _block_cell(G, node: str, spec: dict, inputs: dict) -> Cell:
    op = node_op(G, node)
    kind = spec["kind"]
    weight_key, bias_key = ("w", "b") if kind == "lstm" else ("w_ru", "b_ru")
    w, x = inputs[weight_key], inputs["x"]
    blocks = 4 if kind == "lstm" else 2
    units = _last(inputs["h_prev"]["shape"]) or (
        w["shape"][1] // blocks if w["shape"] and len(w["shape"]) == 2 else None)
    n_in = _last(x["shape"])
    if n_in is None and units is not None and w["shape"] and len(w["shape"]) == 2:
        n_in = w["shape"][0] - units
    facts = {"op": op, "inputs": [inputs[n] for n in spec["inputs"]], "outputs": list(spec["outputs"]),
             "steps": spec["steps"], "cell_clip": None, "use_peephole": None}
    cell = Cell(scope=node, kind=kind, matmul=node, concat=node,
                kernel=w["weight"] or w["origin"] or "", kernel_shape=w["shape"],
                bias=inputs[bias_key]["weight"], bias_shape=inputs[bias_key]["shape"],
                activation="tanh", activation_node=None, n_inputs=n_in, n_neurons=units,
                x_input=x["origin"] or "", h_input=inputs["h_prev"]["origin"] or "",
                form="fused")
    cell.gates = list(spec["gates"])
    if kind == "lstm":
        forget = spec["forget_bias"]
        cell.forget_bias = float(_attr(G, node, spec, forget) if isinstance(forget, str) else forget)
        clip = float(_attr(G, node, spec, "cell_clip"))
        facts["cell_clip"] = clip if clip > 0 else None
        facts["use_peephole"] = bool(_attr(G, node, spec, "use_peephole"))
        if facts["use_peephole"]:
            cell.peepholes = {gate: inputs[name]["weight"] or inputs[name]["origin"]
                              for gate, name in (("i", "wci"), ("f", "wcf"), ("o", "wco"))}
    else:
        cell.candidate = {"kernel": inputs["w_c"]["weight"], "kernel_shape": inputs["w_c"]["shape"],
                          "bias": inputs["b_c"]["weight"], "bias_shape": inputs["b_c"]["shape"]}
    if spec["steps"] == "sequence":  # x is [time, batch, inputs]: time-major, always
        facts["time_major"] = True
        seq = input_of(G, node, 0)
        facts["seq_len_max"] = const_value(G, *seq) if seq else None
        src = input_of(G, node, spec["inputs"].index("x"))
        before = _reversal_before(G, src, 0)
        after = _reversal_after(G, node, spec["outputs"].index("h"), 0)
        facts["direction"] = "backward" if before else "forward"
        facts["reversed_by"] = [n for n in (before, after) if n]
    else:
        facts["time_major"] = None
        facts["direction"] = "forward"
        facts["reversed_by"] = []
    cell.fused = facts
    return cell


def _cudnn_cell(G, node: str, spec: dict, inputs: dict) -> Optional[Cell]:
    op = node_op(G, node)
    mode = str(_attr(G, node, spec, "rnn_mode"))
    if mode not in CUDNN_GATES:
        return None
    direction = str(_attr(G, node, spec, "direction"))
    directions = 2 if direction == "bidirectional" else 1
    time_major = bool(_attr(G, node, spec, "time_major")) if op == "CudnnRNNV3" else True
    h_shape = inputs["input_h"]["shape"]
    units = _last(h_shape)
    layers = h_shape[0] // directions if h_shape and isinstance(h_shape[0], int) \
        and h_shape[0] > 0 else None
    n_in = _last(inputs["input"]["shape"])
    num_proj = int(_attr(G, node, spec, "num_proj") or 0) if op == "CudnnRNNV3" else 0
    if num_proj and h_shape:  # with a projection input_h holds num_proj columns
        units = None
    params = inputs["params"]
    canonical = None
    origin = params["origin"]
    if origin and node_op(G, origin.split(":")[0]) in _PARAMS_FROM_CANONICAL:
        canonical = origin.split(":")[0]
    size = None
    if params["shape"] and len(params["shape"]) == 1 and isinstance(params["shape"][0], int) \
            and params["shape"][0] >= 0:
        size = params["shape"][0]
    elif canonical is not None:
        size = _canonical_size(G, canonical)
    unpacked = []
    if origin:  # the buffer also unpacked into canonical weights (for a checkpoint, say)
        src, _, out = origin.partition(":")
        for dst, index in consumers(G, src, int(out or 0)):
            if index == 3 and node_op(G, dst) in _PARAMS_TO_CANONICAL:
                attrs = G.nodes[dst]["attrs"]
                weights = attrs.get("num_params_weights", attrs.get("num_params"))
                unpacked.append({"node": dst, "weights": weights,
                                 "biases": attrs.get("num_params_biases", attrs.get("num_params"))})
    expected = None
    if None not in (units, n_in, layers):
        expected = cudnn_params_size(mode, n_in, units, layers, directions,
                                     str(_attr(G, node, spec, "input_mode")))
    cell = Cell(scope=node, kind=_CUDNN_KIND[mode], matmul=node, concat=node,
                kernel=params["weight"] or origin or "", kernel_shape=params["shape"], bias=None,
                bias_shape=None, activation="relu" if mode == "rnn_relu" else "tanh",
                activation_node=None, n_inputs=n_in, n_neurons=units,
                x_input=inputs["input"]["origin"] or "", h_input=inputs["input_h"]["origin"] or "",
                form="fused")
    cell.gates = list(CUDNN_GATES[mode]) if mode in ("lstm", "gru") else []
    cell.fused = {"op": op, "inputs": [inputs[n] for n in spec["inputs"]],
                  "outputs": list(spec["outputs"]), "steps": "sequence", "rnn_mode": mode,
                  "input_mode": str(_attr(G, node, spec, "input_mode")),
                  "direction": direction, "directions": directions, "layers": layers,
                  "time_major": time_major, "num_proj": num_proj or None,
                  "dropout": float(_attr(G, node, spec, "dropout")),
                  "is_training": bool(_attr(G, node, spec, "is_training")),
                  "params": {"size": size, "expected": expected, "canonical": canonical,
                             "unpacked_by": unpacked,
                             "matrices": None if layers is None else
                             layers * directions * len(CUDNN_GATES[mode]) * 2},
                  "cell_clip": None, "use_peephole": None, "reversed_by": [], "gpu_only": True}
    return cell


def _canonical_size(G, canonical: str) -> Optional[int]:
    """Return how many values CudnnRNNCanonicalToParams packs: its weights' and biases' sizes."""
    total = 0
    # inputs: num_layers, num_units, input_size, then every weight and bias
    for src, out in data_inputs(G, canonical)[3:]:
        weight = weight_of(G, src, out)
        shape = variable_shape(G, weight) if weight else shape_of(G, src, out)
        if not shape or not all(isinstance(d, int) and d >= 0 for d in shape):
            return None
        count = 1
        for d in shape:
            count *= d
        total += count
    return total or None


def find_fused_cells(G: nx.MultiDiGraph) -> list:
    """Return one :class:`Cell` (form ``fused``) per fused RNN kernel op in ``G``."""
    cells = []
    for node in sorted(n for n, d in G.nodes(data=True) if d["op"] in FUSED_KERNELS):
        spec = FUSED_KERNELS[node_op(G, node)]
        inputs = {name: _input(G, node, i, name) for i, name in enumerate(spec["inputs"])}
        cell = _cudnn_cell(G, node, spec, inputs) if spec["kind"] == "cudnn" else \
            _block_cell(G, node, spec, inputs)
        if cell is None:
            continue
        cell.layer = node
        cell.implementation = node_op(G, node)
        cell.instances = [node]
        cell.nodes = [node]
        loop = loop_of(G, node)
        cell.loops = [loop] if loop else []
        cells.append(cell)
    return cells


# A hand-written cell around one fused MatMul (an SRU: x_t · W once, split into blocks, the
# state updated elementwise) has no MatMul that reads the state, so the custom-cell search
# (which starts from such MatMuls) misses it.  These ops carry a value from the MatMul to the
# state's next value without another product.
_ELEMENTWISE = frozenset({"Split", "SplitV", "Add", "AddV2", "Sub", "Mul", "BiasAdd", "Identity",
                          "RealDiv", "Neg", "Maximum", "Minimum", "ClipByValue",
                          "ConcatV2"}) | frozenset(ACTIVATIONS)  # blocks regrouped (SRUCell)
_MAX_CELL_OPS = 200


def _elementwise_forward(G, start: str) -> set:
    """Return the ops reachable from ``start`` through elementwise ops, in its loop body."""
    where = (G.nodes[start].get("parent_op"), G.nodes[start].get("frame"))
    seen, todo = set(), [start]
    while todo and len(seen) < _MAX_CELL_OPS:
        for dst, _ in consumers(G, todo.pop()):
            if dst in seen or node_op(G, dst) not in _ELEMENTWISE or \
                    (G.nodes[dst].get("parent_op"), G.nodes[dst].get("frame")) != where:
                continue
            seen.add(dst)
            todo.append(dst)
    return seen


def find_fused_matmul_cells(G: nx.MultiDiGraph, taken: frozenset = frozenset()) -> list:
    """Return one custom :class:`Cell` per loop state updated elementwise from one MatMul of x_t."""
    cells = []
    for mm in sorted(n for n, d in G.nodes(data=True) if d["op"] == "MatMul" and n not in taken):
        weight = weight_matmul(G, mm)
        loop = loop_of(G, mm)
        if weight is None or loop is None or state_of_input(G, mm):
            continue  # not a weight product in a loop, or one that reads the state (custom.py's)
        reached = _elementwise_forward(G, mm)
        if any(node_op(G, src) in ("MatMul", "BatchMatMulV2") and src != mm
               for node in reached for src, _ in data_inputs(G, node)):
            continue  # another product joins in (x·W + h·U): a cell of custom.py or keras.py
        states = {s for node in reached for src, out in data_inputs(G, node)
                  if (s := loop_state(G, src, out)) is not None and _float_state(G, s)}
        sinks = state_sinks(G, states)
        fed = {s for s in states if state_sinks(G, {s}) & _feeding(G, reached)}
        if not fed or not sinks:
            continue  # the product never becomes the next value of a state it reads
        parts = []
        for act in sorted(n for n in reached if node_op(G, n) in ACTIVATIONS):
            bias = next((w for n in reached for s, o in data_inputs(G, n)
                         if node_op(G, n) in {"Add", "AddV2", "BiasAdd"} and act in
                         {d for d, _ in consumers(G, n)} and (w := weight_of(G, s, o))
                         and len(variable_shape(G, w) or []) == 1), None)
            parts.append({"node": act, "activation": ACTIVATIONS[node_op(G, act)], "bias": bias,
                          "weights": [{"matmul": mm, "weight": weight,
                                       "shape": variable_shape(G, weight), "input": "x"}]})
        state = sorted(fed)[0]
        outs = G.nodes[state]["outputs"]
        units = _last(outs[0]["shape"] if outs else None)
        blocks = _block_columns(G, mm, reached)
        if units is None and len(set(blocks)) == 1:
            units = blocks[0]  # the state is combined elementwise with blocks of this width
        cell = Cell(scope=G.nodes[mm]["scope"], kind="custom", matmul=mm, concat="",
                    kernel=weight, kernel_shape=variable_shape(G, weight), bias=None,
                    bias_shape=None, activation=None, activation_node=None, n_inputs=None,
                    n_neurons=units, x_input="", h_input=state, form="custom")
        cell.parts = parts
        cell.instances = [mm]
        cell.loops = [loop]
        cell.layer = layer_name(G, mm)
        cell.nodes = sorted(reached | {mm})
        cell.fused = {"elementwise_state": sorted(fed), "matmuls": 1, "blocks": blocks}
        cells.append(cell)
    return cells


def _block_columns(G, mm: str, reached: set) -> list:
    """Return the widths of the column blocks the MatMul's product is split into (leaves only)."""
    shape = variable_shape(G, weight_matmul(G, mm))
    columns = {(mm, 0): shape[1] if shape and len(shape) == 2 else None}
    leaves = []
    for node in sorted(reached, key=lambda n: G.nodes[n]["order"]):
        op = node_op(G, node)
        if op not in _SPLIT_VALUE:  # elementwise: as wide as the widest input (broadcast)
            widths = [columns[i] for i in data_inputs(G, node) if columns.get(i) is not None]
            if op == "ConcatV2":  # regrouped blocks: their widths add up (all must be known)
                values = data_inputs(G, node)[:-1]
                widths = [sum(columns[i] for i in values)] if all(
                    columns.get(i) is not None for i in values) else []
            columns[(node, 0)] = max(widths) if widths else None
            continue
        value = input_of(G, node, _SPLIT_VALUE[op])
        width = columns.get(value) if value else None
        if op == "SplitV":
            sizes_in = input_of(G, node, 1)
            sizes = const_value(G, *sizes_in) if sizes_in else None
            sizes = sizes if isinstance(sizes, list) else None
        else:
            count = G.nodes[node]["attrs"].get("num_split")
            sizes = [width // count] * count if isinstance(width, int) and count else None
        if sizes is None:
            return []
        for out, size in enumerate(sizes):
            columns[(node, out)] = size
            if not _split_later(G, node, out, reached):
                leaves.append(size)
    return leaves


_SPLIT_VALUE = {"Split": 1, "SplitV": 0}  # op -> index of the value input


def _split_later(G, node: str, out: int, reached: set) -> bool:
    """True if ``node:out`` is split again further on (through elementwise ops in ``reached``)."""
    todo, seen = [d for d, _ in consumers(G, node, out) if d in reached], set()
    while todo:
        current = todo.pop()
        if node_op(G, current) in _SPLIT_VALUE:
            return True
        if current not in seen:
            seen.add(current)
            todo += [d for d, _ in consumers(G, current) if d in reached]
    return False


def _feeding(G, reached: set) -> set:
    """Return the loop sinks (NextIteration, body _Retval) that ops of ``reached`` feed."""
    return {d for n in reached for d, _ in consumers(G, n)
            if node_op(G, d) in ("NextIteration", "RefNextIteration", "_Retval")}


def _float_state(G, node: str) -> bool:
    outs = G.nodes[node]["outputs"]
    dtype = (outs[0]["dtype"] if outs else None) or G.nodes[node]["attrs"].get("T")
    return dtype in (None, "float32", "float64", "float16", "bfloat16")
