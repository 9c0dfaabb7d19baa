"""While loops: v1 (Enter/Merge/Switch/NextIteration/Exit) and v2 (While with functions)."""

from __future__ import annotations

import re
from typing import Optional

import networkx as nx

from ..graphdef.walk import body_prefix
from .exprs import (PASS_THROUGH, VARIABLE_OPS, const_value, consumers, data_inputs, expr,
                     input_of, meaning, natural_key, node_op, trace_source)
from .structures import (LoopVar, WhileLoop, _ADD, _COMPARE, _ENTER, _EXIT, _LOGICAL,
                         _LOOP_PLUMBING, _MERGE, _NEXT, _SELECT, _SWITCH, _TA_CREATE, _TA_READ,
                         _TA_SCATTER, _TA_WRITE, _TL_CREATE, _TL_READ, _TL_WRITE, _WHILE_V2)
from .cells import find_cells


def _state_label(G, node: str, out: int, cells: list) -> str:
    """Name what a loop's next value is: a cell's h or c, or a plain state."""
    src, _ = trace_source(G, node, out, through=PASS_THROUGH)
    seen = 0
    while node_op(G, src) in _SELECT and seen < 3:  # sequence_length copies state through
        src, _ = trace_source(G, *input_of(G, src, 2))
        seen += 1
    for cell in cells:
        # A cell shared by two loops has one h per loop (its copies' outputs).
        outputs = list(cell.outputs.items()) + [("h", h) for h in cell.instance_outputs if h]
        for role, out_node in outputs:
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


def _condition_ops(G, node: str, depth: int = 0) -> list:
    """Return the comparison and logic ops that compute the boolean ``node`` (a LoopCond) reads."""
    op = node_op(G, node)
    if depth > 6:
        return []
    if op in _LOGICAL or op in _COMPARE:
        found = [node]
        if op in _LOGICAL:
            for src, _ in data_inputs(G, node):
                found += _condition_ops(G, src, depth + 1)
        return found
    if op in PASS_THROUGH or op == "LoopCond":
        srcs = data_inputs(G, node)
        return _condition_ops(G, srcs[0][0], depth + 1) if srcs else []
    return []


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
        # Name a loop by its frame: gradient loops' LoopConds all sit in "gradients/".
        name = frame.removesuffix("/while_context") if frame else \
            (G.nodes[loop_cond]["scope"] if loop_cond else frame.rsplit("/", 1)[0])
        inner = [n for n in body if node_op(G, n) not in _LOOP_PLUMBING
                 and not (node_op(G, n) == "Identity" and any(
                     node_op(G, s) in _SWITCH for s, _ in data_inputs(G, n)))]
        loops.append(WhileLoop(name=name, control_flow="v1", frame=frame, loop_vars=loop_vars,
                               invariants=invariants, condition=condition, comparisons=comps,
                               loop_cond=loop_cond, body_nodes=inner,
                               condition_ops=sorted(_condition_ops(G, loop_cond), key=_natural)
                               if loop_cond else []))
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
    prefix = body_prefix(caller, role)
    return [n for n, d in G.nodes(data=True) if d.get("parent_op") == caller and n.startswith(prefix)]


def _by_index(G, nodes: list, op: str) -> dict:
    # A node of a function body whose "index" is missing (malformed) is not an argument.
    return {G.nodes[n]["attrs"]["index"]: n for n in nodes
            if node_op(G, n) == op and isinstance(G.nodes[n]["attrs"].get("index"), int)}


_IDENTITY = frozenset({"Identity", "Snapshot", "StopGradient"})
_GENERIC_ARG = re.compile(r"(.*_)?placeholder(_\d+)?")


def _arg_name(node: str) -> str:
    """Return a function ``_Arg``'s name in its signature, less the loop's own prefix.

    TensorFlow names a body's arguments after the tensors passed in, prefixed
    with the While op's name (``rnn_while_loop_counter``, ``while_while_maximum_iterations``,
    ``sequential_simple_rnn_while_maximum_iterations`` inside a Keras function).
    """
    name = node.rpartition("/")[2]
    parts = node.split("/")[:-2]  # the While op's key
    prefixes = ["_".join(parts[k:]).lower() + "_" for k in range(len(parts))]
    stripped = True
    while stripped:
        stripped = False
        for prefix in prefixes:
            if prefix != "_" and name.startswith(prefix) and len(name) > len(prefix):
                name, stripped = name[len(prefix):], True
                break
    return name


def _var_name(G, carries: str, arg: str, source, next_src) -> str:
    """Return a loop variable's short name: ``h``, ``time``, ``outputs TensorList``, its arg name."""
    if carries in ("iteration counter", "time"):
        return carries
    for role, letter in (("hidden state h", "h"), ("cell state c", "c")):
        if carries.startswith(role):
            scope = carries.partition(" of ")[2].split("/")
            layer = next((p for p in reversed(scope) if re.fullmatch(r"cell_\d+", p)), "")
            return f"{letter} {layer}".strip() if scope != [""] else letter
    if carries == "TensorList" and next_src and node_op(G, next_src[0]) in _TL_WRITE:
        return "outputs TensorList"
    if carries == "TensorList" and next_src and node_op(G, next_src[0]) == "TensorListPushBack":
        pushed = input_of(G, next_src[0], 1)  # tf.gradients keeps each step's value for the backward loop
        return _bounded(f"accumulator of {pushed[0].rpartition('/')[2]}" if pushed else "accumulator")
    name = _arg_name(arg)
    if not _GENERIC_ARG.fullmatch(name):
        return _bounded(name)
    start = source[0].rpartition("/")[2] if source else ""
    return _bounded(f"{carries} ← {start}" if start else carries)


def _bounded(name: str, limit: int = 40) -> str:
    """Return ``name`` cut to its last ``limit`` characters (generated names can run to 150)."""
    return name if len(name) <= limit else "…" + name[-(limit - 1):]


def _invariant_name(G, what: str, arg: str, cond_arg: Optional[str], names: dict) -> str:
    """Return an invariant's short name: ``kernel``, ``inputs TensorList``, ``maximum_iterations``."""
    for dst, index in consumers(G, cond_arg) if cond_arg else []:
        if node_op(G, dst) in _COMPARE and index == 1:
            left = names.get(trace_source(G, *input_of(G, dst, 0), through=_IDENTITY)[0], "")
            return "maximum_iterations" if left == "iteration counter" else f"bound of {left or 'the loop'}"
    if what.startswith(("kernel ", "bias ", "variable ")):
        return what.rpartition("/")[2]
    if what.startswith("TensorList") and any(node_op(G, d) in _TL_READ for d, _ in consumers(G, arg)):
        return "inputs TensorList"
    name = _arg_name(arg)
    return _bounded(name if not _GENERIC_ARG.fullmatch(name) else what)


def _tell_apart(invariants: list) -> None:
    """Name same-named variables by the scope parts that differ (``cell_0/gates/kernel``)."""
    groups: dict = {}
    for inv in invariants:
        if inv["what"].startswith(("kernel ", "bias ", "variable ")):
            groups.setdefault(inv["name"], []).append(inv)
    for group in groups.values():
        if len(group) < 2:
            continue
        paths = [inv["what"].partition(" ")[2].split("/") for inv in group]
        depth = min(len(path) for path in paths)
        differ = [k for k in range(2, depth + 1) if len({path[-k] for path in paths}) > 1]
        for inv, path in zip(group, paths):
            inv["name"] = _bounded("/".join([path[-k] for k in reversed(differ)] + [path[-1]]))


def _v2_loops(G, cells: list) -> list:
    loops = []
    for node, data in sorted((n, d) for n, d in G.nodes(data=True) if d["op"] in _WHILE_V2):
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
            # Keras bodies return Identity(arg) for what they do not change.
            next_src = trace_source(G, *ret_src, through=_IDENTITY) if ret_src else None
            outs = data["outputs"]
            info = outs[index] if index < len(outs) else {}
            if next_src is None or next_src[0] == arg:
                what = _invariant_what(G, arg, source) if source else ""
                invariants.append({"node": arg, "source": source[0] if source else None,
                                   "what": what, "arg": _arg_name(arg), "index": index})
                if index in cond_args:
                    names[cond_args[index]] = expr(G, *trace_source(G, *source)) if source else arg
                continue
            carries = _carries(G, arg, next_src, info.get("dtype"), cells)
            users = [d for d, _ in consumers(G, node, index)]
            var = LoopVar(index=index, carries=carries, initial=source[0] if source else "",
                          next_value=ret_src[0], identity=arg, exit_used=bool(users),
                          dtype=info.get("dtype"), shape=info.get("shape"),
                          name=_var_name(G, carries, arg, source, next_src), arg=_arg_name(arg))
            loop_vars.append(var)
            names[arg] = var.name
            if index in cond_args:
                names[cond_args[index]] = var.name
        for inv in invariants:
            inv["name"] = _invariant_name(G, inv["what"], inv["node"], cond_args.get(inv["index"]),
                                          names)
            if inv["index"] in cond_args and inv["name"] in ("maximum_iterations",):
                names[cond_args[inv["index"]]] = inv["name"]
        _tell_apart(invariants)
        cond_ret = _by_index(G, cond, "_Retval").get(0)
        condition, comps = ("", [])
        cond_src = input_of(G, cond_ret, 0) if cond_ret else None  # None: a malformed cond
        if cond_src:
            condition, comps = _condition(G, *cond_src, names)
        inner = [n for n in body if node_op(G, n) not in ("_Arg", "_Retval")]
        loops.append(WhileLoop(
            name=node, control_flow="v2", frame="", loop_vars=loop_vars, invariants=invariants,
            condition=condition, comparisons=comps, loop_cond=None, body_nodes=sorted(inner),
            cond_function=(data["attrs"].get("cond") or {}).get("function"),
            body_function=(data["attrs"].get("body") or {}).get("function"),
            tensor_list_ops=sorted(n for n in inner if node_op(G, n).startswith("TensorList")),
            tensor_list_reads=sorted(n for n in inner if node_op(G, n) in _TL_READ),
            tensor_list_writes=sorted(n for n in inner if node_op(G, n) in _TL_WRITE),
            lowered=data["attrs"].get("_lower_using_switch_merge")))
    return loops


def find_while_loops(G: nx.MultiDiGraph, cells: Optional[list] = None) -> list:
    """Return the while loops of ``G`` (v1 frames and v2 While ops), loop variables labelled."""
    cells = find_cells(G) if cells is None else cells
    return _v1_loops(G, cells) + _v2_loops(G, cells)


_natural = natural_key
