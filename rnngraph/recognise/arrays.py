"""TensorArrays (v1) and TensorLists (v2): creation, unstack, per-step read/write, stack."""

from __future__ import annotations

from typing import Optional

import networkx as nx

from .exprs import const_value, consumers, expr, input_of, node_op
from .structures import (TensorArrayInfo, _ENTER, _TA_CREATE, _TA_GATHER, _TA_READ, _TA_SCATTER,
                         _TA_WRITE, _TL_CREATE, _TL_READ, _TL_STACK, _TL_WRITE, _WHILE_V2)
from .loops import _by_index, _function_nodes, _natural


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
            if attr in ("reads", "writes"):  # the index input: which loop variable picks the element
                index = input_of(G, dst, 1)
                if index:
                    info.indices[dst] = index[0]
            if attr == "unstack":
                src = input_of(G, dst, 2)
                info.unstack_source = src[0] if src else None


def find_tensor_arrays(G: nx.MultiDiGraph) -> list:
    """Return TensorArrays (v1) and TensorLists (v2) with their unstack, reads, writes and stack."""
    found = []
    creates = _TA_CREATE | _TL_CREATE  # sorted after filtering: a 100,000-node graph has few
    for node, data in sorted(((n, d) for n, d in G.nodes(data=True) if d["op"] in creates),
                             key=lambda nd: _natural(nd[0])):
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
