"""What a variable starts at: the constant its initializer assigns, when it is one value.

A TF1 variable is initialized by an ``Assign`` (ref variable) or ``AssignVariableOp``
(resource variable) whose value input is the initializer's output; for
``tf.constant_initializer(1.0)`` or ``zeros`` that is a Const holding one value for
every element.  A random initializer, or a variable whose initializer is not in the
graph (a frozen graph, a Keras file), gives None: nothing is said about it.
"""

from __future__ import annotations

from typing import Optional

import networkx as nx

from .exprs import consumers, input_of, node_op, trace_source

__all__ = ["initial_fill", "add_initial_fills"]

_ASSIGN = frozenset({"Assign", "AssignVariableOp"})


def _one_value(value) -> Optional[float]:
    flat = value
    while isinstance(flat, list) and flat and isinstance(flat[0], list):
        flat = [x for row in flat for x in row]
    if isinstance(flat, list):
        return float(flat[0]) if flat and all(x == flat[0] for x in flat) else None
    return float(flat) if isinstance(flat, (int, float)) else None


def initial_fill(G: nx.MultiDiGraph, variable: Optional[str]) -> tuple:
    """Return ``(value, Const node)``: the one value every element of ``variable`` starts at.

    ``(None, None)`` when the initializer is not one constant value (or not in the graph).
    """
    if not variable or variable not in G:
        return None, None
    for user, index in consumers(G, variable):
        if node_op(G, user) not in _ASSIGN or index != 0:
            continue
        source = input_of(G, user, 1)
        if source is None:
            continue
        const, _ = trace_source(G, *source)
        if node_op(G, const) != "Const":
            continue  # a random initializer: no single starting value
        tensor = G.nodes[const]["attrs"].get("value")
        if not isinstance(tensor, dict):
            continue
        value = _one_value(tensor["value"]) if "value" in tensor else (
            float(tensor["fill"]) if "fill" in tensor else None)
        return (value, const) if value is not None else (None, None)
    return None, None


def add_initial_fills(G: nx.MultiDiGraph, cells: list) -> None:
    """Record on each cell what its bias (and a GRU's candidate bias) starts at."""
    for cell in cells:
        cell.bias_initial, cell.bias_initializer = initial_fill(G, cell.bias)
        if cell.candidate.get("bias"):
            cell.candidate["bias_initial"] = initial_fill(G, cell.candidate["bias"])[0]
