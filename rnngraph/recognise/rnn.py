"""The RNN as a whole: what it returns, where its state starts, its dropout and its dense layers.

Built on the cells, loops and TensorArrays already recognised.  Every fact is
a node name a test can compare with what ``static_rnn`` / ``dynamic_rnn``
return in TensorFlow (``tensor.op.name``).  Where the structure is ambiguous
(a static RNN with ``sequence_length``, whose steps live inside ``cond``s) the
fact is left empty rather than guessed.
"""

from __future__ import annotations

from typing import Optional

import networkx as nx

from ..graphdef.walk import body_prefix
from .exprs import (PASS_THROUGH, VARIABLE_OPS, const_value, consumers, data_inputs, expr, input_of,
                    natural_key, node_op, shape_of, trace_source)
from .structures import (ACTIVATIONS, Cell, DenseLayer, DropoutInfo, RnnInfo, StateTensor,
                         WhileLoop, _ADD, _MUL, _SELECT)

__all__ = ["find_dropout", "find_rnns", "fill_role", "random_behind", "gradient_select"]

_RANDOM = {"RandomUniform", "RandomUniformInt", "StatelessRandomUniformV2", "StatelessRandomUniform"}
_COUNTERS = {"time", "iteration counter", "TensorArray flow", "TensorList"}
_ZEROS = {"Fill", "ZerosLike", "Zeros"}


def random_behind(G, node: str, out: int = 0, hops: int = 4) -> Optional[str]:
    """Return the random op ``node:out`` is computed from by scaling and shifting, if any."""
    for _ in range(hops):
        node, out = trace_source(G, node, out)
        op = node_op(G, node)
        if op in _RANDOM:
            return node
        if op not in _ADD | _MUL | {"Sub"}:
            return None
        srcs = data_inputs(G, node)
        if not srcs:
            return None
        node, out = srcs[0]
    return None


def _in_loop(G, node: str) -> bool:
    """True inside a while loop: a v1 frame, or a function called (at any depth) by a While."""
    data = G.nodes[node]
    if data["frame"]:
        return True
    caller, depth = data["parent_op"], 0
    while caller is not None and caller in G and depth < 16:
        if node_op(G, caller) in {"While", "StatelessWhile"} or G.nodes[caller]["frame"]:
            return True
        caller, depth = G.nodes[caller]["parent_op"], depth + 1
    return False


_COND_PASS = {"Switch", "RefSwitch", "Identity", "Merge", "RefMerge"} | _SELECT
_IF = {"If", "StatelessIf"}


def _branch_sources(G, caller: str, index: int) -> list:
    """Return where each branch of an If returns its output ``index`` from (traced)."""
    found = []
    for node, data in G.nodes(data=True):
        if data.get("parent_op") == caller and data["op"] == "_Retval" \
                and data["attrs"].get("index") == index:
            src = input_of(G, node, 0)
            if src:
                found.append(trace_source(G, *src))
    return found


def _cond_result(G, start: str, matches) -> Optional[str]:
    """Return the node a step's cond returns for ``start``: the nearest cond result whose other
    branch passes on a value ``matches`` accepts (the previous state, or the zero output).

    static_rnn with sequence_length runs each step in ``cond(time >= max_length, keep the
    previous state and output zeros, compute the step)``: v1 as Switch/Merge, v2 as an If
    whose results TensorFlow hands back through Identity ops.
    """
    todo, seen = [start], {start}
    while todo and len(seen) < 400:
        node = todo.pop(0)
        for dst, index_in in consumers(G, node):
            op = node_op(G, dst)
            nexts = []
            if op in _IF and index_in > 0:  # into both branches: input k is argument k − 1
                nexts = [n for n, d in G.nodes(data=True) if d.get("parent_op") == dst
                         and d["op"] == "_Arg" and d["attrs"].get("index") == index_in - 1]
            elif op == "_Retval" and G.nodes[dst]["parent_op"] in G:
                caller = G.nodes[dst]["parent_op"]
                index = G.nodes[dst]["attrs"].get("index")
                if node_op(G, caller) in _IF:
                    if any(matches(src) for src in _branch_sources(G, caller, index)):
                        users = [d for d, _ in consumers(G, caller, index) if node_op(G, d) == "Identity"]
                        if users:
                            return sorted(users, key=natural_key)[0]
                    nexts = [d for d, _ in consumers(G, caller, index)]
            elif op in {"Merge", "RefMerge"}:
                others = [trace_source(G, s, o) for s, o in data_inputs(G, dst) if s != node]
                if any(matches(src) for src in others):
                    return dst
                nexts = [dst]
            elif op in _COND_PASS:
                nexts = [dst]
            for nxt in nexts:
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
    return None


def _cell_reading(G, cells: list, node: str) -> Optional[str]:
    """Return the scope of the cell whose X_t (any step) is ``node``."""
    for cell in cells:
        for concat in cell.instance_concats or [cell.concat]:
            src = input_of(G, concat, 0)
            if src and trace_source(G, *src)[0] == node:
                return cell.scope
    return None


def find_dropout(G: nx.MultiDiGraph, cells: Optional[list] = None) -> list:
    """Return the dropout keep-masks: Select(uniform >= rate, x / keep_prob, 0)."""
    cells = cells or []
    found = []
    for node, data in sorted(((n, d) for n, d in G.nodes(data=True) if d["op"] in _SELECT),
                             key=lambda nd: natural_key(nd[0])):
        if data["op"] not in _SELECT:
            continue
        cond = input_of(G, node, 0)
        cond = trace_source(G, *cond) if cond else None
        if not cond or node_op(G, cond[0]) != "GreaterEqual":
            continue
        first = input_of(G, cond[0], 0)
        random = random_behind(G, *first) if first else None
        if random is None:
            continue
        scaled = input_of(G, node, 1)
        scaled = trace_source(G, *scaled) if scaled else None
        dropped = scaled
        if scaled and node_op(G, scaled[0]) in {"RealDiv", "Mul"}:
            dropped = trace_source(G, *input_of(G, scaled[0], 0))
        rate = input_of(G, cond[0], 1)
        keep, rate_text = "", ""
        if rate:
            rate_src = trace_source(G, *rate)
            rate_text = expr(G, *rate_src)
            one = input_of(G, rate_src[0], 0)
            if node_op(G, rate_src[0]) == "Sub" and one and const_value(G, *one) in (1, 1.0):
                kept = input_of(G, rate_src[0], 1)
                keep = expr(G, *trace_source(G, *kept)) if kept else ""
        cell = _cell_reading(G, cells, node)
        if cell is None:
            continue  # not a cell's input: e.g. the gradient of the keep-mask Select
        found.append(DropoutInfo(mask=cond[0], select=node, random=random,
                                 dropped=dropped[0] if dropped else "", rate=rate_text, keep_prob=keep,
                                 cell=cell, in_loop=_in_loop(G, node)))
    return found


def gradient_select(G, select: str) -> bool:
    """True if a Select routes a gradient: one of its values is zeros_like or a scalar zero.

    The forward RNN selects between real tensors (the zero output is a full Fill); the
    gradient of a Select picks between the incoming gradient and ZerosLike / a 0 constant.
    """
    for index in (1, 2):
        src = input_of(G, select, index)
        if not src:
            continue
        node, out = trace_source(G, *src)
        if node_op(G, node) == "ZerosLike":
            return True
        if node_op(G, node) == "Const":
            value = (G.nodes[node]["attrs"].get("value") or {})
            if value.get("shape") == [] and value.get("value") in (0, 0.0):
                return True
    return False


def fill_role(G: nx.MultiDiGraph, fill: str) -> str:
    """Return what a zero-filled tensor is for: 'initial state', 'masked output', 'unused' or ''.

    Followed forward through loop entries and pass-through ops (into a v2 loop body
    through the ``_Arg`` of the same index): a Select taking it as the value for
    finished sequences makes it dynamic_rnn's masked output; any arithmetic makes it
    a starting state.
    """
    if not consumers(G, fill):
        return "unused"
    todo, seen, reached = [fill], {fill}, []
    while todo:
        node = todo.pop()
        nexts = list(consumers(G, node))
        if node_op(G, node) in {"While", "StatelessWhile"}:
            continue
        for dst, index in nexts:
            op = node_op(G, dst)
            if op in {"While", "StatelessWhile"}:
                nexts_arg = [n for n, d in G.nodes(data=True) if d.get("parent_op") == dst
                             and d["op"] == "_Arg" and d["attrs"].get("index") == index
                             and n.startswith(body_prefix(dst, "body"))]
                for arg in nexts_arg:
                    if arg not in seen:
                        seen.add(arg)
                        todo.append(arg)
                continue
            if op in {"Enter", "RefEnter", "Merge", "Switch"} or op in PASS_THROUGH:
                if dst not in seen:
                    seen.add(dst)
                    todo.append(dst)
                continue
            reached.append((op, index))
    if any(op in _SELECT and index == 1 for op, index in reached):
        return "masked output"  # select(time >= length, zeros, output)
    if any(op in {"ConcatV2", "MatMul", "Mul", "BiasAdd", "Add", "AddV2"} | _SELECT
           for op, _ in reached):
        return "initial state"
    return ""


def _origin(G, node: str, out: int = 0) -> tuple:
    """Return where a state value comes from, through pass-through and v1 loop entry."""
    return trace_source(G, node, out, through=PASS_THROUGH | {"Merge", "RefMerge"})


def _initial(G, node: str, out: int = 0) -> tuple[Optional[str], Optional[str]]:
    src, _ = _origin(G, node, out)
    op = node_op(G, src)
    if op in _ZEROS:
        return src, "zeros"
    if op in {"Placeholder", "PlaceholderWithDefault"}:
        return src, "placeholder"
    if op == "Const" and _all_zero((G.nodes[src]["attrs"].get("value") or {}).get("value")):
        return src, "zeros"
    return (src, "other") if src else (None, None)


def _all_zero(value) -> bool:
    if isinstance(value, list):
        return bool(value) and all(_all_zero(v) for v in value)
    return value == 0


def _lstm_c(G, h: str) -> Optional[str]:
    """Return c_t of an LSTM step from its h_t = act(c_t) · σ(o): the activation's input."""
    for src, _ in data_inputs(G, h):
        if node_op(G, src) in ACTIVATIONS and node_op(G, src) != "Sigmoid":
            c = input_of(G, src, 0)
            return trace_source(G, *c)[0] if c else None
    return None


def _lstm_c_prev(G, c: str) -> Optional[tuple]:
    """Return c_(t−1) feeding c_t = c_(t−1)·σ(f) + σ(i)·act(j): the Mul operand that is no activation."""
    for mul, _ in data_inputs(G, c):
        if node_op(G, mul) not in _MUL:
            continue
        operands = data_inputs(G, mul)
        if any(node_op(G, s) == "Sigmoid" for s, _ in operands):
            others = [(s, o) for s, o in operands if node_op(G, s) not in ACTIVATIONS]
            if others:
                return others[0]
    return None


def _loop_cells(G, loop: WhileLoop, cells: list) -> list:
    if loop.control_flow == "v1":
        return [c for c in cells if G.nodes[c.matmul]["frame"] == loop.frame]
    body = set(loop.body_nodes)
    return [c for c in cells if c.matmul in body]


def _state_owner(G, var, cells: list) -> Optional[tuple]:
    """Return (layer, part) of a loop variable's next value: a cell's h or c."""
    src, _ = trace_source(G, var.next_value, 0)
    seen = 0
    while node_op(G, src) in _SELECT and seen < 3:  # sequence_length copies the state through
        src, _ = trace_source(G, *input_of(G, src, 2))
        seen += 1
    for layer, cell in enumerate(cells):
        for part, out in cell.outputs.items():
            if out == src:
                return layer, part if cell.kind == "lstm" else "state"
    return None


def _v2_result(G, loop: WhileLoop, index: int) -> tuple[str, int]:
    """The node TF returns for output ``index`` of a While op: the Identity reading it, if any."""
    users = [d for d, _ in consumers(G, loop.name, index) if node_op(G, d) == "Identity"]
    return (sorted(users, key=natural_key)[0], 0) if users else (loop.name, index)


def _dynamic(G, loop: WhileLoop, cells: list, arrays: list) -> Optional[RnnInfo]:
    inner = sorted(_loop_cells(G, loop, cells), key=lambda c: natural_key(c.kernel))
    if not inner:
        return None
    states = []
    for var in loop.loop_vars:
        if var.carries in _COUNTERS or (node_op(G, var.next_value) or "").startswith("TensorList"):
            continue  # counters, arrays, and the accumulators a v2 gradient adds to the loop
        owner = _state_owner(G, var, inner)
        if owner is None:
            return None  # a loop variable that is not a cell's state: not what we know
        if loop.control_flow == "v1":
            if not var.exit:
                return None
            node, out = var.exit, 0
            init = _initial(G, var.initial, 0) if var.initial else (None, None)
        else:
            node, out = _v2_result(G, loop, var.index)
            src = input_of(G, loop.name, var.index)
            init = _initial(G, *src) if src else (None, None)
        states.append(StateTensor(layer=owner[0], part=owner[1], node=node, output=out,
                                  initial=init[0], initial_kind=init[1], loop_var=var.index))
    body = set(loop.body_nodes) if loop.control_flow == "v2" else set()

    def written_here(array) -> bool:  # by this loop: a bidirectional RNN has two
        return any(G.nodes[w]["frame"] == loop.frame if loop.control_flow == "v1" else w in body
                   for w in array.writes)

    stack = next((t.stack for t in arrays if t.role == "output" and t.stack and written_here(t)
                  and node_op(G, t.stack) != "<missing>"), None)
    outputs, time_major, reversed_by = [], None, None
    if stack:
        time_major = stack
        transposes = [d for d, _ in consumers(G, stack, 0) if node_op(G, d) == "Transpose"]
        outputs = [transposes[0]] if len(transposes) == 1 else [stack]
        # bidirectional_dynamic_rnn's backward RNN: its outputs are reversed back in time.
        reverses = [d for d, i in consumers(G, outputs[0], 0)
                    if node_op(G, d) in {"ReverseV2", "ReverseSequence"} and i == 0]
        if len(reverses) == 1 and len(consumers(G, outputs[0], 0)) == 1:
            reversed_by = reverses[0]
    return RnnInfo(kind="dynamic", loop=loop.name, layers=[c.scope for c in inner],
                   cell_kind=inner[0].kind, activations=[c.activation_node for c in inner],
                   outputs=outputs, outputs_time_major=time_major,
                   output_size=(shape_of(G, outputs[0]) or [None])[-1] if outputs else None,
                   final_state=states, reversed_by=reversed_by)


def _static_parts(G, cell: Cell, k: int) -> Optional[dict]:
    """Return {part: node} of the state step ``k`` of ``cell`` produces."""
    h = cell.instance_outputs[k] if k < len(cell.instance_outputs) else None
    if h is None:
        return None
    if cell.kind != "lstm":
        return {"state": h}
    c = _lstm_c(G, h)
    return {"c": c, "h": h} if c else None


def _static_inputs(G, cell: Cell, k: int) -> Optional[dict]:
    """Return {part: (node, out)} of the state step ``k`` of ``cell`` reads."""
    if k >= len(cell.instance_concats):  # no [X_t, h] concat: not a TF1 cell copy
        return None
    concat = cell.instance_concats[k]
    parts = data_inputs(G, concat)
    h_in = _origin(G, *parts[-2 if node_op(G, concat) == "ConcatV2" else -1])
    if cell.kind != "lstm":
        return {"state": h_in}
    own = _static_parts(G, cell, k)
    c_prev = _lstm_c_prev(G, own["c"]) if own else None
    return {"c": _origin(G, *c_prev), "h": h_in} if c_prev else None


def _static(G, cells: list, seq: list) -> Optional[RnnInfo]:
    outside = sorted([c for c in cells if not _in_loop(G, c.matmul) and c.instances],
                     key=lambda c: natural_key(c.kernel))
    if not outside:
        return None
    steps = len(outside[0].instances)
    if any(len(c.instances) != steps for c in outside):
        return None
    states, known = [], True
    for layer, cell in enumerate(outside):
        first = _static_inputs(G, cell, 0)
        if not first:
            return None
        results = []  # per step: {part: node} of the state the step hands on
        for k in range(steps):
            made = _static_parts(G, cell, k)
            if not made:
                return None
            if not seq:
                results.append(made)
                continue
            prev = {p: _origin(G, *first[p]) for p in made} if k == 0 else \
                {p: _origin(G, n) for p, n in results[-1].items()}
            step = {p: _cond_result(G, node, lambda src, want=prev[p]: _origin(G, *src) == want)
                    for p, node in made.items()}
            if any(v is None for v in step.values()):
                known = False
                break
            results.append(step)
        # Every step must read exactly what the step before handed on.
        for k in range(min(len(results), steps) - 1):
            read = _static_inputs(G, cell, k + 1)
            if not read or any(_origin(G, *read[p]) != _origin(G, results[k][p]) for p in read):
                known = False
        if not known:
            break
        for part, node in results[-1].items():
            init = _initial(G, *first[part])
            states.append(StateTensor(layer=layer, part=part, node=node,
                                      initial=init[0], initial_kind=init[1]))
    top = outside[-1]
    return RnnInfo(kind="static", loop=None, layers=[c.scope for c in outside],
                   cell_kind=outside[0].kind, activations=[c.activation_node for c in outside],
                   outputs=list(top.instance_outputs) if known else [],
                   outputs_time_major=None, output_size=top.n_neurons,
                   final_state=states if known else [], steps=steps)


def _static_outputs(G, rnn: RnnInfo) -> None:
    """With sequence_length, a static step's output is its cond's result (zeros once ended)."""
    initial = {s.initial for s in rnn.final_state}

    def zero_output(src) -> bool:
        node, _ = _origin(G, *src)
        return node_op(G, node) in _ZEROS and node not in initial

    results = [_cond_result(G, raw, zero_output) for raw in rnn.outputs]
    rnn.outputs = results if all(results) else []


def _dense_after(G, node: str, cell_matmuls: set) -> list:
    """Return (matmul, kernel, bias, output) of dense layers reading ``node`` directly."""
    found = []
    for mm, index in consumers(G, node, 0):
        if node_op(G, mm) != "MatMul" or index != 0 or mm in cell_matmuls:
            continue
        kernel_in = input_of(G, mm, 1)
        kernel = trace_source(G, *kernel_in)[0] if kernel_in else None
        if node_op(G, kernel) not in VARIABLE_OPS:
            continue
        adds = [d for d, _ in consumers(G, mm, 0) if node_op(G, d) in {"BiasAdd"} | _ADD]
        bias = None
        if adds:
            b_in = input_of(G, adds[0], 1)
            bias = trace_source(G, *b_in)[0] if b_in else None
        found.append((mm, kernel, bias if node_op(G, bias) in VARIABLE_OPS else None,
                      adds[0] if adds else mm))
    return found


def _variable_shape(G, var: Optional[str]) -> Optional[list]:
    if var is None:
        return None
    attrs = G.nodes[var]["attrs"]
    shape = attrs.get("shape")
    if isinstance(attrs.get("value"), dict):
        shape = attrs["value"].get("shape")
    return shape if isinstance(shape, list) else None


def _dense_layers(G, rnn: RnnInfo, cells: list) -> None:
    """Fill ``rnn.projection`` (a dense layer inside each step) and ``rnn.heads`` (after the RNN)."""
    matmuls = {m for c in cells for m in (c.instances or [c.matmul])}
    matmuls |= {c.candidate.get("matmul") for c in cells if c.candidate}
    top = next(c for c in cells if c.scope == rnn.layers[-1])
    per_step: dict = {}
    for h in top.instance_outputs or [top.outputs.get("h")]:
        if h is None:
            continue
        for mm, kernel, bias, out in _dense_after(G, h, matmuls):
            per_step.setdefault(kernel, []).append((mm, bias, out, h))
    projections = set()
    for kernel, uses in per_step.items():
        mm, bias, out, h = uses[0]
        # Inside the step: in the loop body, or one copy per unrolled step (and more than one step,
        # or a per-step projection could not be told from a head on the final state).
        inside = _in_loop(G, mm) if rnn.kind == "dynamic" else len(uses) == rnn.steps > 1
        if not inside or rnn.projection is not None:
            continue
        projections.add(kernel)
        rnn.projection = DenseLayer(matmul=mm, kernel=kernel, kernel_shape=_variable_shape(G, kernel),
                                    bias=bias, output=out, reads=h, role="projection", copies=len(uses))
        rnn.output_size = (rnn.projection.kernel_shape or [None, None])[-1]
        if rnn.kind == "static" and rnn.outputs:
            rnn.outputs = [u[2] for u in uses]
    for state in rnn.final_state if rnn.kind == "dynamic" or rnn.steps != 1 else []:
        if state.part == "c":
            continue
        for mm, kernel, bias, out in _dense_after(G, state.node, matmuls):
            if kernel in projections:
                continue
            rnn.heads.append(DenseLayer(matmul=mm, kernel=kernel, kernel_shape=_variable_shape(G, kernel),
                                        bias=bias, output=out, reads=state.node,
                                        role="head on final state"))


def find_rnns(G: nx.MultiDiGraph, cells: list, loops: list, arrays: list, seq: list,
              dropout: list) -> list:
    """Return one :class:`RnnInfo` per while loop running cells, and one for unrolled cells."""
    found = []
    for loop in loops:
        rnn = _dynamic(G, loop, cells, arrays)
        if rnn is not None:
            found.append(rnn)
    in_loops = {c.matmul for r in found for c in cells if c.scope in r.layers}
    static = _static(G, [c for c in cells if c.matmul not in in_loops], seq)
    if static is not None:
        found.append(static)
    for rnn in found:
        own = sorted([c for c in cells if c.scope in rnn.layers], key=lambda c: natural_key(c.kernel))
        for drop in dropout:
            if drop.cell in rnn.layers:
                drop.layer = rnn.layers.index(drop.cell)
                rnn.dropout.append(drop)
        _dense_layers(G, rnn, own)
        if rnn.kind == "static" and seq and rnn.outputs:
            _static_outputs(G, rnn)
        if rnn.kind == "dynamic":
            _zero_output(G, rnn, seq)
        if seq:
            src = seq[0].length
            rnn.sequence_length = src
            rnn.sequence_length_selects = sorted(n for s in seq for n in s.zero_outputs + s.copy_state)
    return found


def _zero_output(G, rnn: RnnInfo, seq: list) -> None:
    """dynamic_rnn's zero_output: zeros selected for outputs past a sequence's end, or unused."""
    zero_selects = [n for s in seq for n in s.zero_outputs]
    for select in zero_selects:
        src = input_of(G, select, 1)
        if src:
            node, _ = _origin(G, *src)
            if node_op(G, node) in _ZEROS:
                rnn.zero_output, rnn.zero_output_used = node, True
                return
    initial = {s.initial for s in rnn.final_state}
    loop_scope = rnn.loop.rpartition("/")[0] if rnn.loop else ""
    for node, data in sorted(((n, d) for n, d in G.nodes(data=True) if d["op"] == "Fill"),
                             key=lambda nd: natural_key(nd[0])):
        if data["op"] == "Fill" and node not in initial and not consumers(G, node) \
                and data["scope"] == loop_scope and not _in_loop(G, node):
            rnn.zero_output, rnn.zero_output_used = node, False
            return
