"""Functional control flow and function calls: ``If``, ``Case``, ``PartitionedCall`` and kin.

TF2 graphs keep most of their computation in a function library; the top-level
GraphDef holds little more than the calls.  These recognisers name each call
site (the node, the functions it calls, how many branches, inputs and outputs)
and, for Keras layers, the ``api_implements`` name that pairs the standard
function with its CuDNN twin in the library.

The walker expands a function once per call, so a function called from two
places (a Keras 3 export's two serving signatures) appears twice in the graph.
:func:`site_of` names a node by where it is *defined* (function, node name) so
that the copies collapse into one call site or loop, with every top-level
caller listed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import networkx as nx

__all__ = ["FunctionCall", "SharedLoop", "CALL_OPS", "find_function_calls", "site_of",
           "top_callers", "shared_loops", "implementations"]

# op -> (kind, the attributes naming the called functions, inputs that are not passed on)
CALL_OPS = {
    "If": ("if", ("then_branch", "else_branch"), 1),
    "StatelessIf": ("if", ("then_branch", "else_branch"), 1),
    "Case": ("case", ("branches",), 1),
    "StatelessCase": ("case", ("branches",), 1),
    "PartitionedCall": ("call", ("f",), 0),
    "StatefulPartitionedCall": ("call", ("f",), 0),
}


@dataclass
class FunctionCall:
    """One call site of functional control flow (defined once, maybe expanded several times)."""

    name: str  # the node as first met in the walked graph
    op: str
    kind: str  # if | case | call
    functions: list  # called function names, in branch order (then, else / branch 0, 1, ...)
    branches: int
    inputs: int  # data inputs passed to the function(s) (the condition / index not counted)
    outputs: int
    condition: Optional[str] = None  # node feeding the condition (If) or branch index (Case)
    in_function: Optional[str] = None  # the library function this call sits in (None: top level)
    implements: Optional[str] = None  # api_implements of the called function (Keras layers)
    implementation: list = field(default_factory=list)  # [{"function", "device"}] sharing it
    callers: list = field(default_factory=list)  # top-level nodes it is reached through
    copies: list = field(default_factory=list)  # every node key of this site in the graph


@dataclass
class SharedLoop:
    """A v2 ``While`` defined once in a function but reached through several callers."""

    name: str  # the first copy's node key
    site: tuple
    copies: list
    callers: list


def site_of(G: nx.MultiDiGraph, node: str) -> tuple:
    """Return (function it is defined in or None, its name there) for a node of ``G``.

    Function bodies are expanded under ``<caller>/<attr>/<name>``; the caller and
    attribute prefix is dropped so every expansion of one definition gets one site.
    """
    data = G.nodes[node]
    parent = data.get("parent_op")
    if data.get("function") is None or not parent or not node.startswith(parent + "/"):
        return (None, node)
    local = node[len(parent) + 1:].partition("/")[2]
    return (data["function"], local)


def top_callers(G: nx.MultiDiGraph, node: str) -> list:
    """Return the top-level node(s) whose calls lead to ``node`` (itself when at top level)."""
    seen = set()
    while G.nodes[node].get("function") is not None:
        parent = G.nodes[node].get("parent_op")
        if not parent or parent in seen or parent not in G:
            break
        seen.add(parent)
        node = parent
    return [node]


def _function_names(attrs: dict, names: tuple) -> list:
    found = []
    for attr in names:
        value = attrs.get(attr)
        for ref in value if isinstance(value, list) else [value]:
            if isinstance(ref, dict) and ref.get("function"):
                found.append(ref["function"])
    return found


def _is_gradient_function(name: str) -> bool:
    """True for the forward/backward functions TensorFlow derives to differentiate a function.

    tf.function names them ``__forward_<f>`` and ``__backward_<f>`` (``__inference_``
    prefixed once traced); they inherit ``api_implements`` from the function they differentiate.
    """
    bare = name[len("__inference_"):] if name.startswith("__inference_") else name
    return bare.startswith(("__forward_", "__backward_"))


def implementations(G: nx.MultiDiGraph) -> dict:
    """Return {api_implements name: [{"function", "device", "role"}]} over the function library.

    Keras registers a layer's standard function and its CuDNN twin under one
    ``api_implements`` name; Grappler picks one by device.  ``role`` is
    ``implementation`` for those and ``gradient`` for their derived forward/backward
    functions.  The attributes come from ``G.graph["function_attrs"]`` (read from the
    FunctionDefs, graphdef/library.py).
    """
    groups: dict = {}
    for fname, attrs in sorted(G.graph.get("function_attrs", {}).items()):
        implements = attrs.get("api_implements")
        if implements:
            groups.setdefault(implements, []).append(
                {"function": fname, "device": attrs.get("api_preferred_device") or None,
                 "role": "gradient" if _is_gradient_function(fname) else "implementation"})
    return groups


def _condition(G: nx.MultiDiGraph, node: str) -> Optional[str]:
    for src, _, key in G.in_edges(node, keys=True):
        if key == 0:
            return src
    return None


def find_function_calls(G: nx.MultiDiGraph) -> list:
    """Return the call sites of If/Case/PartitionedCall ops in ``G``, one per definition."""
    groups = implementations(G)
    attrs_of = G.graph.get("function_attrs", {})
    library = set(G.graph.get("functions", []))
    sites: dict = {}
    for node in sorted(G.nodes, key=lambda n: G.nodes[n].get("order", 0)):
        data = G.nodes[node]
        spec = CALL_OPS.get(data.get("op"))
        if spec is None and data.get("op") in library:
            # A node whose op is a library function's name calls it directly (TF1 Defun).
            spec = ("call", (), 0)
        if spec is None or data.get("missing"):
            continue
        site = site_of(G, node)
        callers = top_callers(G, node)
        if site in sites:
            call = sites[site]
            call.copies.append(node)
            call.callers += [c for c in callers if c not in call.callers]
            continue
        kind, attr_names, skipped = spec
        functions = (_function_names(data.get("attrs", {}), attr_names) if attr_names
                     else [data["op"]])
        inputs = sum(1 for _, _, key, d in G.in_edges(node, keys=True, data=True)
                     if key >= 0 and d.get("kind") == "data")
        implements = None
        for fname in functions:
            implements = implements or attrs_of.get(fname, {}).get("api_implements") or None
        sites[site] = FunctionCall(
            name=node, op=data["op"], kind=kind, functions=functions,
            branches=len(functions) if kind != "call" else 1,
            inputs=max(inputs - skipped, 0), outputs=len(data.get("outputs") or []),
            condition=_condition(G, node) if skipped else None, in_function=site[0],
            implements=implements, implementation=list(groups.get(implements, [])),
            callers=callers, copies=[node])
    return list(sites.values())


def shared_loops(G: nx.MultiDiGraph, while_loops: list) -> tuple:
    """Return (the loops with one entry per definition, {first copy: SharedLoop}).

    A v2 ``While`` inside a function called from two signatures is one loop
    expanded twice; v1 loops and loops reached once are returned unchanged.
    """
    kept, shared, by_site = [], {}, {}
    for loop in while_loops:
        if loop.name not in G or loop.control_flow != "v2":
            kept.append(loop)
            continue
        site = site_of(G, loop.name)
        callers = top_callers(G, loop.name)
        if site in by_site:
            entry = by_site[site]
            entry.copies.append(loop.name)
            entry.callers += [c for c in callers if c not in entry.callers]
            continue
        by_site[site] = SharedLoop(name=loop.name, site=site, copies=[loop.name], callers=callers)
        kept.append(loop)
    shared = {entry.name: entry for entry in by_site.values() if len(entry.copies) > 1}
    return kept, shared
