"""Recognisers: pure functions over the walked networkx graph that find RNN structures.

Nothing here imports TensorFlow: the recognisers run on any GraphDef read
from disk (``rnngraph inspect``) as well as on graphs rnngraph built.  Each
recogniser returns dataclasses naming the nodes involved; :func:`recognise`
runs them all and returns a :class:`Findings`.

Recognition keys on structure (ops and how they connect), never on scope
names, so graphs written under other scopes, stacked or bidirectional, with
v1 (Enter/Merge/Switch/Exit) or v2 (``While``) control flow and with ref
variables (``VariableV2`` + ``Identity``) are recognised alike.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any, Optional

import networkx as nx

from .exprs import (PASS_THROUGH, VARIABLE_OPS, const_value, consumers, data_inputs, expr,
                    input_of, meaning, natural_key, node_op, out_shape, shape_of,
                    trace_source)

__all__ = ["Findings", "WhileLoop", "LoopVar", "TensorArrayInfo", "Cell", "ConcatInfo",
           "SliceInfo", "SequenceLength", "recognise", "find_cells", "find_while_loops",
           "find_tensor_arrays", "find_concats", "find_strided_slices", "find_sequence_length",
           "ACTIVATIONS", "GATE_NAMES"]

# Recognition rules as data.
ACTIVATIONS = {"Tanh": "tanh", "Relu": "relu", "Relu6": "relu6", "Elu": "elu", "Selu": "selu",
               "Sigmoid": "sigmoid", "Softsign": "softsign", "Softplus": "softplus",
               "LeakyRelu": "leaky_relu"}
GATE_NAMES = {"lstm": ("i", "j", "f", "o"), "gru": ("r", "u")}
GATE_MEANING = {"i": "input gate", "j": "candidate (new input)", "f": "forget gate",
                "o": "output gate", "r": "reset gate", "u": "update gate"}
_ADD = {"Add", "AddV2"}
_MUL = {"Mul"}
_SPLIT = {"Split": 1, "SplitV": 0}  # op -> index of the value input
_CONCAT = {"ConcatV2", "Concat"}
_SELECT = {"Select", "SelectV2"}
_TA_READ = {"TensorArrayReadV3", "TensorArrayReadV2", "TensorArrayRead"}
_TA_WRITE = {"TensorArrayWriteV3", "TensorArrayWriteV2", "TensorArrayWrite"}
_TA_SCATTER = {"TensorArrayScatterV3", "TensorArrayScatterV2", "TensorArrayScatter"}
_TA_GATHER = {"TensorArrayGatherV3", "TensorArrayGatherV2", "TensorArrayGather"}
_TA_CREATE = {"TensorArrayV3", "TensorArrayV2", "TensorArray"}
_TL_CREATE = {"TensorListReserve", "TensorListFromTensor", "EmptyTensorList"}
_TL_READ = {"TensorListGetItem"}
_TL_WRITE = {"TensorListSetItem"}
_TL_STACK = {"TensorListStack", "TensorListGather", "TensorListConcatV2"}
_WHILE_V2 = {"While", "StatelessWhile"}
_ENTER = {"Enter", "RefEnter"}
_MERGE = {"Merge", "RefMerge"}
_SWITCH = {"Switch", "RefSwitch"}
_EXIT = {"Exit", "RefExit"}
_NEXT = {"NextIteration", "RefNextIteration"}
_LOOP_PLUMBING = _ENTER | _MERGE | _SWITCH | _EXIT | _NEXT | {"LoopCond"}
_COMPARE = {"Less": "<", "LessEqual": "<=", "Greater": ">", "GreaterEqual": ">=",
            "Equal": "==", "NotEqual": "!="}
_LOGICAL = {"LogicalAnd": "AND", "LogicalOr": "OR"}


@dataclass
class Cell:
    """One recurrent cell: the MatMul of [X_t, h_(t-1)] and what follows it."""

    scope: str
    kind: str  # rnn | lstm | gru
    matmul: str
    concat: str
    kernel: str
    kernel_shape: Optional[list]
    bias: Optional[str]
    bias_shape: Optional[list]
    activation: Optional[str]
    activation_node: Optional[str]
    n_inputs: Optional[int]
    n_neurons: Optional[int]
    x_input: str
    h_input: str
    gates: list = field(default_factory=list)
    gate_nodes: dict = field(default_factory=dict)  # gate -> {"slice", "preact", "activation"}
    forget_bias: Optional[float] = None
    forget_bias_node: Optional[str] = None
    peepholes: dict = field(default_factory=dict)  # gate -> variable
    outputs: dict = field(default_factory=dict)  # "h"/"c" -> node
    candidate: dict = field(default_factory=dict)  # GRU: matmul, concat, kernel, shapes
    instances: list = field(default_factory=list)  # MatMul of each per-step copy
    instance_scopes: list = field(default_factory=list)
    instance_concats: list = field(default_factory=list)
    candidate_concats: list = field(default_factory=list)  # GRU: each copy's [X_t, r·h]
    instance_outputs: list = field(default_factory=list)  # each copy's h
    same_structure: bool = True
    same_variables: bool = True
    nodes: list = field(default_factory=list)  # the first instance's nodes


@dataclass
class LoopVar:
    """One loop variable: its entry, the node computing the next value, what it carries."""

    index: int
    carries: str
    initial: str
    next_value: str
    enter: Optional[str] = None
    merge: Optional[str] = None
    switch: Optional[str] = None
    identity: Optional[str] = None
    next_iteration: Optional[str] = None
    exit: Optional[str] = None
    exit_used: bool = False
    dtype: Optional[str] = None
    shape: Optional[list] = None


@dataclass
class WhileLoop:
    """A while loop, v1 (frame of Enter/Merge/Switch/Exit) or v2 (a While op)."""

    name: str
    control_flow: str
    frame: str
    loop_vars: list
    invariants: list  # [{"node", "source", "what"}]
    condition: str
    comparisons: list  # [{"var", "op", "bound", "bound_expr", "meaning"}]
    loop_cond: Optional[str]
    body_nodes: list
    cond_function: Optional[str] = None
    body_function: Optional[str] = None
    tensor_list_ops: list = field(default_factory=list)


@dataclass
class TensorArrayInfo:
    """A TensorArray (v1) or TensorList (v2) and the per-step ops that use it."""

    name: str
    kind: str  # TensorArray | TensorList
    role: str  # input | output | unused | other
    size: Optional[str]
    element_shape: Optional[list]
    unstack: Optional[str] = None
    unstack_source: Optional[str] = None
    reads: list = field(default_factory=list)
    writes: list = field(default_factory=list)
    stack: Optional[str] = None
    flow: list = field(default_factory=list)


@dataclass
class ConcatInfo:
    name: str
    axis: Optional[int]
    inputs: list  # [{"name", "shape", "expr", "meaning"}]
    shape: Optional[list]
    meaning: str
    value: Any = None


@dataclass
class SliceInfo:
    name: str
    input: str
    begin: Any
    end: Any
    strides: Any
    masks: dict
    slice: str
    meaning: str
    value: Any = None


@dataclass
class SequenceLength:
    compare: str
    length: str
    zero_outputs: list
    copy_state: list


@dataclass
class Findings:
    """Everything the recognisers found in one graph."""

    while_loops: list = field(default_factory=list)
    tensor_arrays: list = field(default_factory=list)
    cells: list = field(default_factory=list)
    concats: list = field(default_factory=list)
    strided_slices: list = field(default_factory=list)
    sequence_length: list = field(default_factory=list)

    def as_dict(self) -> dict:
        """Return the findings as JSON-serialisable dicts and lists."""
        return asdict(self)


def recognise(G: nx.MultiDiGraph) -> Findings:
    """Return every structure found in ``G`` (cells, loops, TensorArrays, concats, slices)."""
    cells = find_cells(G)
    return Findings(
        while_loops=find_while_loops(G, cells),
        tensor_arrays=find_tensor_arrays(G),
        cells=cells,
        concats=find_concats(G, cells),
        strided_slices=find_strided_slices(G),
        sequence_length=find_sequence_length(G),
    )


# ---------------------------------------------------------------- cells

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
    if acts.get("f"):
        for mul, _ in consumers(G, acts["f"], 0):
            if node_op(G, mul) in _MUL:
                new_c = [d for d, _ in consumers(G, mul, 0) if node_op(G, d) in _ADD]
                if new_c:
                    cell.outputs["c"] = new_c[0]
    if acts.get("o"):
        new_h = [d for d, _ in consumers(G, acts["o"], 0) if node_op(G, d) in _MUL]
        if new_h:
            cell.outputs["h"] = new_h[0]


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
            for matmul, _ in consumers(G, concat, 0):
                if node_op(G, matmul) != "MatMul":
                    continue
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
                        new_h = [d for d, _ in consumers(G, m2, 0) if node_op(G, d) in _ADD]
                        if node_op(G, m2) in _MUL and new_h:
                            cell.outputs["h"] = new_h[0]
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
        cells.append(first)
    cells.sort(key=lambda c: _step_order(G, c))
    return cells


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
        cell.n_inputs = shape[0] - cell.n_neurons


def _out_index(G, node: str, index: int) -> int:
    src = input_of(G, node, index)
    return src[1] if src else 0


# ---------------------------------------------------------------- while loops

def _state_label(G, node: str, out: int, cells: list) -> str:
    """Name what a loop's next value is: a cell's h or c, or a plain state."""
    src, _ = trace_source(G, node, out, through=PASS_THROUGH)
    seen = 0
    while node_op(G, src) in _SELECT and seen < 3:  # sequence_length copies state through
        src, _ = trace_source(G, *input_of(G, src, 2))
        seen += 1
    for cell in cells:
        for role, out_node in cell.outputs.items():
            if out_node == src:
                what = "cell state c" if role == "c" else "hidden state h"
                return what if len(cells) == 1 else f"{what} of {cell.scope}"
    return "state"


def _counter_label(G, identity_like: str, next_src: tuple) -> Optional[str]:
    """'time' or 'iteration counter' if the loop var is incremented by a constant each step."""
    node, _ = next_src
    if node_op(G, node) not in _ADD:
        return None
    operands = data_inputs(G, node)
    if not any(const_value(G, s, o) == 1 for s, o in operands):
        return None
    for dst, index in consumers(G, identity_like, 0):
        op = node_op(G, dst)
        if (op in _TA_READ | _TA_WRITE | _TL_READ | _TL_WRITE and index == 1) or op == "GreaterEqual":
            return "time"
    return "iteration counter"


def _carries(G, identity_like: str, next_src: tuple, dtype: Optional[str], cells: list) -> str:
    counter = _counter_label(G, identity_like, next_src)
    if counter:
        return counter
    op = node_op(G, next_src[0])
    if op in _TA_WRITE:
        return "TensorArray flow"
    if op in _TL_WRITE or dtype == "variant":
        return "TensorList"
    return _state_label(G, *next_src, cells)


def _invariant_what(G, node: str, source: tuple) -> str:
    src, out = trace_source(G, *source)
    op = node_op(G, src)
    users = [(node_op(G, d), i) for d, i in consumers(G, node)]
    if op in VARIABLE_OPS:
        if ("MatMul", 1) in users:
            return f"kernel {src}"
        if ("BiasAdd", 1) in users:
            return f"bias {src}"
        return f"variable {src}"
    if op in _TA_CREATE:
        return f"TensorArray handle {src}" if out == 0 else f"TensorArray flow {src}"
    if op in _TA_SCATTER:
        return f"flow of the unstacked input ({src})"
    if op in _TL_CREATE:
        return f"TensorList {src}"
    if any(o in _COMPARE for o, _ in users):
        return f"bound {expr(G, src, out)}"
    return expr(G, src, out)


def _condition(G, node: str, out: int, names: dict, depth: int = 0) -> tuple[str, list]:
    """Return the condition as text and its comparisons; ``names`` maps loop nodes to labels."""
    op = node_op(G, node)
    if depth > 6:
        return node, []
    if op in _LOGICAL:
        texts, comps = [], []
        for src, o in data_inputs(G, node):
            text, sub = _condition(G, src, o, names, depth + 1)
            texts.append(text)
            comps += sub
        return f" {_LOGICAL[op]} ".join(texts), comps
    if op in _COMPARE:
        (a, ao), (b, bo) = data_inputs(G, node)[:2]
        left, right = _operand(G, a, ao, names), _operand(G, b, bo, names)
        bound_src = trace_source(G, b, bo)
        comp = {"node": node, "var": left, "op": _COMPARE[op], "bound": bound_src[0],
                "bound_expr": expr(G, *bound_src), "meaning": _meaning(G, *bound_src)}
        return f"{left} {_COMPARE[op]} {right}", [comp]
    if op in PASS_THROUGH or op == "LoopCond":
        srcs = data_inputs(G, node)
        if srcs:
            return _condition(G, *srcs[0], names, depth + 1)
    return _operand(G, node, out, names), []


def _operand(G, node: str, out: int, names: dict) -> str:
    if node in names:
        return names[node]
    src, o = trace_source(G, node, out)
    return names.get(src, expr(G, src, o))


def _meaning(G, node: str, out: int) -> str:
    return meaning(G, node, out)


def _v1_loops(G, cells: list) -> list:
    frames: dict = {}
    for n, d in G.nodes(data=True):
        if d["op"] in _ENTER:
            frames.setdefault(d["attrs"].get("frame_name", ""), []).append(n)
    loops = []
    for frame, enters in sorted(frames.items()):
        body = sorted(n for n, d in G.nodes(data=True) if d["frame"] == frame)
        loop_cond = next((n for n in body if node_op(G, n) == "LoopCond"), None)
        loop_vars, invariants, names = [], [], {}
        for enter in sorted(enters, key=_natural):
            attrs = G.nodes[enter]["attrs"]
            source = input_of(G, enter, 0)
            if attrs.get("is_constant"):
                invariants.append({"node": enter, "source": source[0] if source else None,
                                   "what": _invariant_what(G, enter, source) if source else ""})
                continue
            var = _v1_var(G, enter, len(loop_vars), source, cells)
            if var is not None:
                loop_vars.append(var)
        for var in loop_vars:
            for node in (var.merge, var.identity):
                if node:
                    names[node] = var.carries
        condition, comps = ("", [])
        if loop_cond:
            condition, comps = _condition(G, loop_cond, 0, names)
        name = G.nodes[loop_cond]["scope"] if loop_cond else frame.rsplit("/", 1)[0]
        inner = [n for n in body if node_op(G, n) not in _LOOP_PLUMBING
                 and not (node_op(G, n) == "Identity" and any(
                     node_op(G, s) in _SWITCH for s, _ in data_inputs(G, n)))]
        loops.append(WhileLoop(name=name, control_flow="v1", frame=frame, loop_vars=loop_vars,
                               invariants=invariants, condition=condition, comparisons=comps,
                               loop_cond=loop_cond, body_nodes=inner))
    return loops


def _v1_var(G, enter: str, index: int, source, cells: list) -> Optional[LoopVar]:
    merge = next((d for d, _ in consumers(G, enter) if node_op(G, d) in _MERGE), None)
    if merge is None:
        return None
    nxt = next((s for s, _ in data_inputs(G, merge) if node_op(G, s) in _NEXT), None)
    switch = next((d for d, _ in consumers(G, merge, 0) if node_op(G, d) in _SWITCH), None)
    identity = exit_ = None
    if switch:
        identity = next((d for d, _ in consumers(G, switch, 1)), None)
        exit_ = next((d for d, _ in consumers(G, switch, 0) if node_op(G, d) in _EXIT), None)
    next_src = input_of(G, nxt, 0) if nxt else None
    out = G.nodes[enter]["outputs"][0] if G.nodes[enter]["outputs"] else {}
    carries = _carries(G, identity or merge, next_src, out.get("dtype"), cells) \
        if next_src else "state"
    return LoopVar(index=index, carries=carries, initial=source[0] if source else "",
                   next_value=next_src[0] if next_src else "", enter=enter, merge=merge,
                   switch=switch, identity=identity, next_iteration=nxt, exit=exit_,
                   exit_used=bool(exit_ and consumers(G, exit_)), dtype=out.get("dtype"),
                   shape=out.get("shape"))


def _function_nodes(G, caller: str, role: str) -> list:
    prefix = f"{caller}/{role}/"
    return [n for n, d in G.nodes(data=True) if d.get("parent_op") == caller and n.startswith(prefix)]


def _by_index(G, nodes: list, op: str) -> dict:
    return {G.nodes[n]["attrs"].get("index"): n for n in nodes if node_op(G, n) == op}


def _v2_loops(G, cells: list) -> list:
    loops = []
    for node, data in sorted(G.nodes(data=True)):
        if data["op"] not in _WHILE_V2:
            continue
        body = _function_nodes(G, node, "body")
        cond = _function_nodes(G, node, "cond")
        body_args, body_rets = _by_index(G, body, "_Arg"), _by_index(G, body, "_Retval")
        cond_args = _by_index(G, cond, "_Arg")
        loop_vars, invariants, names = [], [], {}
        for index in sorted(body_args):
            arg, ret = body_args[index], body_rets.get(index)
            source = input_of(G, node, index)
            ret_src = input_of(G, ret, 0) if ret else None
            outs = data["outputs"]
            info = outs[index] if index < len(outs) else {}
            if ret_src is None or ret_src[0] == arg:
                invariants.append({"node": arg, "source": source[0] if source else None,
                                   "what": _invariant_what(G, arg, source) if source else ""})
                if index in cond_args:
                    names[cond_args[index]] = expr(G, *trace_source(G, *source)) if source else arg
                continue
            carries = _carries(G, arg, ret_src, info.get("dtype"), cells)
            users = [d for d, _ in consumers(G, node, index)]
            var = LoopVar(index=index, carries=carries, initial=source[0] if source else "",
                          next_value=ret_src[0], identity=arg, exit_used=bool(users),
                          dtype=info.get("dtype"), shape=info.get("shape"))
            loop_vars.append(var)
            names[arg] = carries
            if index in cond_args:
                names[cond_args[index]] = carries
        cond_ret = _by_index(G, cond, "_Retval").get(0)
        condition, comps = ("", [])
        if cond_ret:
            condition, comps = _condition(G, *input_of(G, cond_ret, 0), names)
        inner = [n for n in body if node_op(G, n) not in ("_Arg", "_Retval")]
        loops.append(WhileLoop(
            name=node, control_flow="v2", frame="", loop_vars=loop_vars, invariants=invariants,
            condition=condition, comparisons=comps, loop_cond=None, body_nodes=sorted(inner),
            cond_function=(data["attrs"].get("cond") or {}).get("function"),
            body_function=(data["attrs"].get("body") or {}).get("function"),
            tensor_list_ops=sorted(n for n in inner if node_op(G, n).startswith("TensorList"))))
    return loops


def find_while_loops(G: nx.MultiDiGraph, cells: Optional[list] = None) -> list:
    """Return the while loops of ``G`` (v1 frames and v2 While ops), loop variables labelled."""
    cells = find_cells(G) if cells is None else cells
    return _v1_loops(G, cells) + _v2_loops(G, cells)


_natural = natural_key


# ---------------------------------------------------------------- TensorArrays

def _users_through(G, node: str, out: int, depth: int = 0) -> list:
    """Return (consumer, input index) of ``node:out``, looking through Enter/Identity and While calls."""
    found = []
    for dst, index in consumers(G, node, out):
        op = node_op(G, dst)
        if op in _ENTER | {"Identity"} and depth < 4:
            found += _users_through(G, dst, 0, depth + 1)
        elif op in _WHILE_V2 and depth < 4:
            arg = _by_index(G, _function_nodes(G, dst, "body"), "_Arg").get(index)
            if arg:
                found += _users_through(G, arg, 0, depth + 1)
            for s, d, k, e in G.out_edges(dst, keys=True, data=True):
                if e["kind"] == "data" and e["src_output"] == index:
                    found += [(d, e["dst_input"])] if node_op(G, d) not in {"Identity"} \
                        else _users_through(G, d, 0, depth + 1)
        else:
            found.append((dst, index))
    return found


# What each per-step use of a TensorArray/TensorList is: op set -> field of TensorArrayInfo.
_TA_USES = ((_TA_SCATTER, "unstack"), (_TA_READ | _TL_READ, "reads"),
            (_TA_WRITE | _TL_WRITE, "writes"), (_TA_GATHER | _TL_STACK, "stack"))


def _record_uses(G, info: TensorArrayInfo, node: str) -> None:
    for dst, _ in _users_through(G, node, 0):
        for ops, attr in _TA_USES:
            if node_op(G, dst) not in ops:
                continue
            if isinstance(getattr(info, attr), list):
                getattr(info, attr).append(dst)
            else:
                setattr(info, attr, dst)
            if attr == "unstack":
                src = input_of(G, dst, 2)
                info.unstack_source = src[0] if src else None


def find_tensor_arrays(G: nx.MultiDiGraph) -> list:
    """Return TensorArrays (v1) and TensorLists (v2) with their unstack, reads, writes and stack."""
    found = []
    for node, data in sorted(G.nodes(data=True), key=lambda nd: _natural(nd[0])):
        op = data["op"]
        if op in _TA_CREATE:
            info = TensorArrayInfo(name=node, kind="TensorArray", role="other",
                                   size=_expr_input(G, node, 0),
                                   element_shape=data["attrs"].get("element_shape"))
            _record_uses(G, info, node)
            info.flow = sorted({d for d, _ in _users_through(G, node, 1)})
        elif op in _TL_CREATE:
            shape_src = input_of(G, node, 1 if op == "TensorListFromTensor" else 0)
            element = const_value(G, *shape_src) if shape_src else None
            if isinstance(element, list):
                element = [None if d == -1 else d for d in element]
            info = TensorArrayInfo(name=node, kind="TensorList", role="other",
                                   size=_expr_input(G, node, 1) if op == "TensorListReserve" else None,
                                   element_shape=element if isinstance(element, list) else None)
            if op == "TensorListFromTensor":
                info.unstack = node
                info.unstack_source = input_of(G, node, 0)[0]
            _record_uses(G, info, node)
        else:
            continue
        info.reads, info.writes = sorted(set(info.reads)), sorted(set(info.writes))
        if info.unstack or (info.reads and not info.writes):
            info.role = "input"
        elif info.writes or info.stack:
            info.role = "output"
        elif not consumers(G, node):
            info.role = "unused"
        found.append(info)
    return found


def _expr_input(G, node: str, index: int) -> Optional[str]:
    src = input_of(G, node, index)
    return expr(G, *src) if src else None


# ---------------------------------------------------------------- concat and strided_slice

def find_concats(G: nx.MultiDiGraph, cells: Optional[list] = None) -> list:
    """Return every concat with its axis, its inputs' shapes and what it assembles."""
    cells = find_cells(G) if cells is None else cells
    roles = {}
    for cell in cells:
        for concat in cell.instance_concats or [cell.concat]:
            roles[concat] = ("cell", cell)
        for concat in cell.candidate_concats:
            roles[concat] = ("candidate", cell)
    found = []
    for node, data in sorted(G.nodes(data=True), key=lambda nd: _natural(nd[0])):
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
                                meaning=_concat_meaning(G, node, roles.get(node), inputs, value),
                                value=value))
    return found


def _dims(shape: Optional[list]) -> str:
    if shape is None:
        return "unknown shape"
    return "×".join("?" if d is None else str(d) for d in shape) if shape else "scalar"


def _concat_meaning(G, node: str, role, inputs: list, value) -> str:
    if role:
        kind, cell = role
        x, h = inputs[0], inputs[-1]
        xn = (x["shape"] or [None])[-1] or cell.n_inputs
        hn = (h["shape"] or [None])[-1] or cell.n_neurons
        total = (xn + hn) if isinstance(xn, int) and isinstance(hn, int) else None
        h_text = "r·h_(t-1)" if kind == "candidate" else "h_(t-1)"
        return (f"[X_t, {h_text}]: ?×{xn} and ?×{hn} side by side give "
                f"?×({xn}+{hn}) = ?×{total}, the input of {cell.kind} cell {cell.scope}")
    users = [(node_op(G, d), i) for d, i in consumers(G, node)]
    parts = ", ".join(i["meaning"] or i["expr"] for i in inputs)
    if any(op == "Fill" and i == 0 for op, i in users):
        return f"shape [{parts}] assembled for a zero-filled tensor (the initial state)"
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
    for node, data in sorted(G.nodes(data=True), key=lambda nd: _natural(nd[0])):
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
    for node, data in sorted(G.nodes(data=True)):
        if data["op"] not in _SELECT:
            continue
        cond = input_of(G, node, 0)
        cond = trace_source(G, *cond) if cond else None
        if not cond or node_op(G, cond[0]) not in ("GreaterEqual", "LessEqual"):
            continue  # time >= sequence_length, or sequence_length <= time
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
