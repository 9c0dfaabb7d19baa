"""Where values come from in a loop: weights behind slices, loop-carried state, the loop a node runs in.

Shared by the Keras and hand-written cell recognisers.  A *weight* is a variable
or a frozen constant, reached through pass-through ops and the slicing Keras
does on its weights (``recurrent_kernel[:, :2n]``, ``unstack(bias)``).  *Loop
state* is a value fed back through a loop: a v2 ``While`` body argument whose
returned value differs from it, or a v1 ``Merge`` with a ``NextIteration``
input.
"""

from __future__ import annotations

import re
from typing import Optional

import networkx as nx

from ..graphdef.walk import body_prefix
from .exprs import PASS_THROUGH, VARIABLE_OPS, data_inputs, input_of, node_op, trace_source
from .structures import _MERGE, _NEXT, _WHILE_V2

__all__ = ["weight_of", "weight_matmul", "body_retval", "loop_of", "loop_state", "reads_sequence", "local_name", "layer_name",
           "function_of"]

# op -> index of the input that holds the sliced value
_SLICING = {"StridedSlice": 0, "Slice": 0, "Unpack": 0, "Split": 1, "SplitV": 0, "Cast": 0,
            "Reshape": 0, "Transpose": 0, "Squeeze": 0, "ExpandDims": 0}
# What reads one time step of the input sequence.
_SEQUENCE_READS = frozenset({"TensorListGetItem", "TensorArrayReadV3", "TensorArrayReadV2",
                             "TensorArrayRead", "Unpack", "StridedSlice", "Placeholder",
                             "PlaceholderV2", "GatherV2", "Gather", "Squeeze"})
_MAX_HOPS = 24
_CELL_SCOPE = re.compile(r"^(lstm|gru|simple_rnn|rnn)_cell(_\d+)?$")
_CALL_PARTS = {"PartitionedCall", "StatefulPartitionedCall"}


def weight_of(G: nx.MultiDiGraph, node: str, out: int = 0) -> Optional[str]:
    """Return the variable or frozen constant (rank 1 or more) behind ``node:out``, through slicing."""
    for _ in range(_MAX_HOPS):
        node, out = trace_source(G, node, out)
        op = node_op(G, node)
        if op in VARIABLE_OPS:
            if op == "Const":
                value = G.nodes[node]["attrs"].get("value")
                if not (isinstance(value, dict) and len(value.get("shape") or []) >= 1):
                    return None
            return node
        if op in _MERGE:  # lowered v2 loops carry invariants as loop variables fed back unchanged
            src = _invariant_entry(G, node)
        elif op in _SLICING:
            src = input_of(G, node, _SLICING[op])
        else:
            return None
        if src is None:
            return None
        node, out = src
    return None


def _invariant_entry(G: nx.MultiDiGraph, merge: str) -> Optional[tuple]:
    """Return a v1 Merge's entry value if the loop feeds it back unchanged, else None."""
    inputs = data_inputs(G, merge)
    back = [s for s in inputs if node_op(G, s[0]) in _NEXT]
    entry = [s for s in inputs if node_op(G, s[0]) not in _NEXT]
    if len(back) != 1 or len(entry) != 1:
        return None
    src = input_of(G, back[0][0], 0)
    if src is None or trace_source(G, *src, through=frozenset({"Identity", "Switch"}))[0] != merge:
        return None
    return entry[0]


def variable_shape(G: nx.MultiDiGraph, variable: Optional[str]) -> Optional[list]:
    """Return a variable's declared shape (or a frozen constant's), or None."""
    if variable is None or variable not in G:
        return None
    attrs = G.nodes[variable]["attrs"]
    shape = attrs.get("shape")
    if isinstance(attrs.get("value"), dict):
        shape = attrs["value"].get("shape")
    if isinstance(shape, list) and all(isinstance(d, int) and d >= 0 for d in shape):
        return list(shape)
    outs = G.nodes[variable]["outputs"]
    if node_op(G, variable) != "VarHandleOp" and outs and outs[0]["shape"] is not None \
            and None not in outs[0]["shape"]:
        return list(outs[0]["shape"])
    return None


def _carried_args(G: nx.MultiDiGraph) -> dict:
    """Return {body _Arg: While node} for every v2 loop variable fed back with a new value."""
    cache = G.graph.get("_carried_args")
    if cache is not None:
        return cache
    cache = {}
    args: dict = {}
    rets: dict = {}
    for n, d in G.nodes(data=True):
        caller = d.get("parent_op")
        if caller is None or node_op(G, caller) not in _WHILE_V2 or \
                not n.startswith(body_prefix(caller, "body")):
            continue
        if d["op"] == "_Arg":
            args[(caller, d["attrs"].get("index"))] = n
        elif d["op"] == "_Retval":
            rets[(caller, d["attrs"].get("index"))] = n
    for key, arg in args.items():
        ret = rets.get(key)
        src = input_of(G, ret, 0) if ret else None
        if src is None:
            continue
        origin = trace_source(G, *src, through=frozenset({"Identity"}))[0]
        if origin != arg:
            cache[arg] = key[0]
    G.graph["_carried_args"] = cache
    G.graph["_body_retvals"] = rets
    return cache


def body_retval(G: nx.MultiDiGraph, arg: str) -> Optional[str]:
    """Return the body _Retval that hands a v2 loop variable (body _Arg ``arg``) its next value."""
    _carried_args(G)
    data = G.nodes[arg]
    return G.graph["_body_retvals"].get((data.get("parent_op"), data["attrs"].get("index")))


def loop_state(G: nx.MultiDiGraph, node: str, out: int = 0) -> Optional[str]:
    """Return the loop-carried value ``node:out`` reads unchanged (a body _Arg or a Merge), or None."""
    carried = _carried_args(G)
    for _ in range(_MAX_HOPS):
        op = node_op(G, node)
        if op == "_Arg":
            if node in carried:
                return node
            src = input_of(G, G.nodes[node].get("parent_op"), G.nodes[node]["attrs"].get("index", -1))
            if src is None or node_op(G, G.nodes[node].get("parent_op")) in _WHILE_V2:
                return None
            node, out = src
            continue
        if op in _MERGE:
            if any(node_op(G, s) in _NEXT for s, _ in data_inputs(G, node)):
                return node
            return None
        if op not in PASS_THROUGH:
            return None
        src = input_of(G, node, 0)
        if src is None:
            return None
        node, out = src
    return None


def reads_sequence(G: nx.MultiDiGraph, node: str, out: int = 0) -> bool:
    """Return True if ``node:out`` is one step of an input sequence (a TensorList/Array read, a slice)."""
    if loop_state(G, node, out) is not None:
        return False
    src, _ = trace_source(G, node, out)
    return node_op(G, src) in _SEQUENCE_READS


def loop_of(G: nx.MultiDiGraph, node: str) -> Optional[str]:
    """Return the loop ``node`` runs in: the v2 While whose body holds it, or the v1 frame name."""
    frame = G.nodes[node].get("frame") or ""
    current = node
    for _ in range(_MAX_HOPS):
        caller = G.nodes[current].get("parent_op")
        if caller is None:
            break
        if node_op(G, caller) in _WHILE_V2 and current.startswith(body_prefix(caller, "body")):
            return caller
        current = caller
    return f"frame {frame}" if frame else None


def function_of(G: nx.MultiDiGraph, node: str) -> Optional[str]:
    """Return the name of the library function whose body holds ``node`` (None at top level)."""
    return G.nodes[node].get("function")


def local_name(G: nx.MultiDiGraph, node: str) -> str:
    """Return ``node``'s name inside its function (the walker prefixes CALLER/ROLE/)."""
    caller = G.nodes[node].get("parent_op")
    if caller is None:
        return node
    rest = node[len(caller) + 1:]
    return rest.split("/", 1)[1] if "/" in rest else rest


def _layer_part(scope: str) -> str:
    parts = scope.split("/") if scope else []
    if "while" in parts:
        parts = parts[:parts.index("while")]
    while parts and (parts[-1] in _CALL_PARTS or _CELL_SCOPE.match(parts[-1])):
        parts.pop()
    return "/".join(parts)


def layer_name(G: nx.MultiDiGraph, node: str) -> str:
    """Return the Keras layer path of ``node`` (``model/lstm``), read from names outside the loop."""
    current = node
    for _ in range(_MAX_HOPS):
        name = local_name(G, current)
        found = _layer_part(name.rpartition("/")[0])
        if found:
            return found
        caller = G.nodes[current].get("parent_op")
        if caller is None:
            break
        current = caller
    # Nothing but loop plumbing in the names: the outermost caller (a top-level `while`).
    return current if current != node else G.nodes[node]["scope"]


def weight_matmul(G: nx.MultiDiGraph, node: str) -> Optional[str]:
    """Return the 2-D weight a plain MatMul ``node`` multiplies by (None if it is not one)."""
    if node_op(G, node) != "MatMul":
        return None
    attrs = G.nodes[node]["attrs"]
    if attrs.get("transpose_a") or attrs.get("transpose_b"):
        return None
    src = input_of(G, node, 1)
    weight = weight_of(G, *src) if src else None
    shape = variable_shape(G, weight)
    return weight if weight is not None and (shape is None or len(shape) == 2) else None
