"""Two graphs side by side: the recognised parts that correspond, and what differs per scope.

The comparison *is* the lesson (static_rnn against dynamic_rnn, control flow
v1 against v2, one cell against another): :func:`links` pairs what the
recognisers found in both graphs (the cell copy and the loop body's cell,
kernel and kernel, the input's unstack and the TensorArray scatter, a v1
loop frame and a v2 ``While``), :func:`scope_table` counts the nodes each
scope holds in each graph.  Pure: findings in, data out.
"""

from __future__ import annotations

from collections import Counter
from typing import Optional

import networkx as nx

__all__ = ["links", "scope_table", "summary_text", "SCOPE_DEPTH"]

SCOPE_DEPTH = 2  # scopes are compared this many levels deep


def _loop_nodes(loop) -> list:
    """Return the nodes that stand for a loop: the While op (v2) or the frame's LoopCond and Merges."""
    if loop.control_flow == "v2":
        return [loop.name]
    return [n for n in [loop.loop_cond, *(v.merge for v in loop.loop_vars)] if n]


def _loop_title(loop) -> str:
    if loop.control_flow == "v2":
        return f"While op {loop.name}"
    return f"v1 loop frame {loop.frame or loop.name}"


def _splitters(graph: nx.MultiDiGraph, found) -> list:
    """Return [(title, nodes)] of what splits the input into time steps (unstack / TA scatter)."""
    out = []
    for name in sorted(graph.nodes):
        data = graph.nodes[name]
        if data["op"] == "Unpack" and data["function"] is None:
            out.append((f"{name} (Unpack)", [name]))
    for ta in found.tensor_arrays:
        if ta.role == "input" and ta.unstack:
            out.append((f"{ta.kind} {ta.name} filled by {ta.unstack}", [ta.unstack, ta.name]))
    return out


def links(graph_a: nx.MultiDiGraph, found_a, graph_b: nx.MultiDiGraph, found_b) -> list:
    """Return the corresponding parts as ``{"title", "a": [nodes], "b": [nodes]}``.

    Cells pair by kind in order (all of a cell's copies on each side), then
    their kernels and biases; input splitters pair in order; while loops pair
    in order.  A part found on one side only is not linked.
    """
    out = []
    for kind in sorted({c.kind for c in found_a.cells} & {c.kind for c in found_b.cells}):
        cells_a = [c for c in found_a.cells if c.kind == kind]
        cells_b = [c for c in found_b.cells if c.kind == kind]
        for a, b in zip(cells_a, cells_b):
            copies_a = f" ({len(a.instances)} copies)" if len(a.instances) > 1 else ""
            copies_b = f" ({len(b.instances)} copies)" if len(b.instances) > 1 else ""
            out.append({"title": f"{kind} cell {a.scope}{copies_a} ↔ {b.scope}{copies_b}",
                        "a": list(dict.fromkeys([*a.nodes, *a.instances])),
                        "b": list(dict.fromkeys([*b.nodes, *b.instances]))})
            if a.kernel and b.kernel:
                out.append({"title": f"kernel {a.kernel} ↔ {b.kernel}", "a": [a.kernel], "b": [b.kernel]})
            if a.bias and b.bias:
                out.append({"title": f"bias {a.bias} ↔ {b.bias}", "a": [a.bias], "b": [b.bias]})
    for (title_a, nodes_a), (title_b, nodes_b) in zip(_splitters(graph_a, found_a),
                                                      _splitters(graph_b, found_b)):
        out.append({"title": f"input split into steps: {title_a} ↔ {title_b}", "a": nodes_a,
                    "b": nodes_b})
    for a, b in zip(found_a.while_loops, found_b.while_loops):
        out.append({"title": f"while loop: {_loop_title(a)} ↔ {_loop_title(b)}",
                    "a": _loop_nodes(a), "b": _loop_nodes(b)})
    return [link for link in out
            if all(n in graph_a for n in link["a"]) and all(n in graph_b for n in link["b"])]


def _scope(graph: nx.MultiDiGraph, name: str) -> str:
    scope = graph.nodes[name]["scope"]
    return "/".join(scope.split("/")[:SCOPE_DEPTH]) if scope else "(top)"


def scope_table(graph_a: nx.MultiDiGraph, graph_b: nx.MultiDiGraph, pairs: Optional[dict] = None) -> list:
    """Return ``[scope, nodes in A, nodes in B, only in A, only in B]`` per scope.

    ``pairs`` (node of A -> node of B, :func:`rnngraph.recognise.match.match_graphs`)
    says which nodes are the same; without it, nodes of the same name are.
    """
    if pairs is None:
        pairs = {n: n for n in graph_a.nodes if n in graph_b}
    partners = set(pairs.values())
    count_a = Counter(_scope(graph_a, n) for n in graph_a.nodes)
    count_b = Counter(_scope(graph_b, n) for n in graph_b.nodes)
    only_a = Counter(_scope(graph_a, n) for n in graph_a.nodes if n not in pairs)
    only_b = Counter(_scope(graph_b, n) for n in graph_b.nodes if n not in partners)
    return [[s, count_a[s], count_b[s], only_a[s], only_b[s]]
            for s in sorted(set(count_a) | set(count_b))]


def summary_text(title_a: str, title_b: str, graph_a: nx.MultiDiGraph, graph_b: nx.MultiDiGraph,
                 linked: list, pairs: Optional[dict] = None) -> str:
    """Return the text summary of the difference: nodes per scope, added and removed, and the links."""
    rows = scope_table(graph_a, graph_b, pairs)
    width = max([len("scope")] + [len(r[0]) for r in rows])
    lines = [f"A: {title_a.splitlines()[0] if title_a else ''}",
             f"B: {title_b.splitlines()[0] if title_b else ''}",
             "",
             f"{'scope':<{width}}  {'A':>6}  {'B':>6}  {'removed':>7}  {'added':>7}"]
    for scope, a, b, removed, added in rows:
        lines.append(f"{scope:<{width}}  {a:>6}  {b:>6}  {removed:>7}  {added:>7}")
    lines.append(f"{'total':<{width}}  {graph_a.number_of_nodes():>6}  {graph_b.number_of_nodes():>6}  "
                 f"{sum(r[3] for r in rows):>7}  {sum(r[4] for r in rows):>7}")
    lines.append("(removed: names only in A; added: names only in B)" if pairs is None else
                 "(removed / added: nodes with no partner in the other graph, matched by structure "
                 "as `rnngraph diff` does)")
    lines.append("")
    lines.append(f"linked parts ({len(linked)}):")
    lines += [f"  {link['title']}" for link in linked] or ["  (none recognised in both)"]
    return "\n".join(lines) + "\n"
