"""How functional control flow is drawn: a ``While`` as a loop, branches and calls wired through.

The walker expands each function body under the op that calls it and joins
them with ``call`` edges (caller -> ``_Arg`` i) and ``return`` edges
(``_Retval`` j -> caller).  Drawn as they are, the caller is a hub that every
value passes through twice and the bodies float beside it.  :func:`routing`
says which edges to draw instead:

* ``While`` / ``StatelessWhile``: the op's input i flows into loop variable i
  (the body's ``_Arg`` i, with the cond's ``_Arg`` i folded into the same box),
  the body's result i goes back to it with the orange back edge v1 draws from
  NextIteration to Merge, the cond's result goes to the While op as the loop's
  condition (as LoopCond feeds Switch), each loop-carried variable leaves to
  the While op and the While op's outputs go to their consumers (v1's Exit).
  A body result that is its own argument unchanged is an invariant: its
  ``_Retval`` is folded into the argument's box and it has no back edge.
* ``If`` / ``StatelessIf`` / ``Case`` and calls (``PartitionedCall``,
  ``StatefulPartitionedCall``, any op with a function ``f``): input i flows
  into each branch's (the callee's) ``_Arg`` i; the results flow into the
  caller, whose outputs go to their consumers.

Pure: returns data for ``layout.py`` and ``statements.py``, no DOT text.
"""

from __future__ import annotations

import textwrap
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Optional

import networkx as nx

from ..graphdef.walk import RESERVED, body_prefix, retval_name

__all__ = ["Role", "Routing", "routing", "WHILE_OPS", "BRANCH_OPS", "ROUTED_KINDS"]

WHILE_OPS = frozenset({"While", "StatelessWhile"})
BRANCH_OPS = frozenset({"If", "StatelessIf", "Case", "StatelessCase"})
# Edge kinds this module adds: initial value in, next value back, leaving the loop, the
# loop's condition, a call's or branch's argument in, a function's result out.
ROUTED_KINDS = ("enter", "next", "exit", "condition", "argument", "result")
_PASS = frozenset({"Identity", "Snapshot", "StopGradient"})


@dataclass
class Role:
    """How to label one node's box: its label lines, extra tooltip lines, a shape and category."""

    label: list
    tooltip: list = field(default_factory=list)
    shape: Optional[str] = None
    category: Optional[str] = None  # a draw.style category whose colours the box takes


@dataclass
class Routing:
    """Edges to draw instead of call/return hubs, boxes folded together, and box roles."""

    merge: dict = field(default_factory=dict)  # node -> node whose box also draws it
    skip: set = field(default_factory=set)  # (src, dst, key) of graph edges not drawn
    extra: list = field(default_factory=list)  # (src, dst, edge data) drawn instead
    roles: dict = field(default_factory=dict)  # node -> Role
    structural: set = field(default_factory=set)  # callers, args, results: never auxiliary


def _edge(kind: str, dtype=None, shape=None, src_output: int = 0) -> dict:
    return {"kind": kind, "control": False, "dtype": dtype, "shape": shape,
            "src_output": src_output, "back": kind == "next"}


def _function_parts(G: nx.MultiDiGraph) -> dict:
    """Return {caller: {role: {"args": {i: node}, "rets": {j: node}}}} of expanded bodies."""
    parts: dict = defaultdict(lambda: defaultdict(lambda: {"args": {}, "rets": {}}))
    for node, data in G.nodes(data=True):
        caller = data.get("parent_op")
        if caller is None or data["op"] not in ("_Arg", "_Retval") or caller not in G:
            continue
        role = node[len(caller) + 1:].partition("/")[0].removesuffix(RESERVED)
        if node.rpartition("/")[0] + "/" != body_prefix(caller, role):
            continue  # a node of a function called from inside this one
        index = data["attrs"].get("index")
        if isinstance(index, int):
            parts[caller][role]["args" if data["op"] == "_Arg" else "rets"][index] = node
    return parts


def _inputs(G: nx.MultiDiGraph, node: str) -> dict:
    """Return {input index: (src, key, edge data)} of the data inputs of ``node``."""
    return {k: (s, k, d) for s, _, k, d in G.in_edges(node, keys=True, data=True)
            if k >= 0 and d["kind"] == "data"}


def _arg_label(G: nx.MultiDiGraph, arg: str, source: Optional[str]) -> str:
    """Return a readable name for a call's ``_Arg``: its signature name, or what is passed in."""
    name = arg.rpartition("/")[2]
    generic = name.startswith("placeholder") or name.startswith("args_")
    if generic and source:
        return source.rpartition("/")[2]
    return name


def routing(G: nx.MultiDiGraph, visible: set) -> Routing:
    """Return how the functional control flow among ``visible`` nodes is drawn."""
    parts = _function_parts(G)
    route = Routing()
    if not parts:
        return route
    loops = {}
    if any(G.nodes[c]["op"] in WHILE_OPS for c in parts):
        if "_v2_loops" not in G.graph:  # once per graph: a drawing lays out several times
            from ..recognise import find_while_loops  # noqa: PLC0415 (only graphs with a While)

            G.graph["_v2_loops"] = {lp.name: lp for lp in find_while_loops(G)
                                    if lp.control_flow == "v2"}
        loops = G.graph["_v2_loops"]
    for caller in sorted(parts):
        if caller not in visible:
            continue
        route.structural.add(caller)
        if G.nodes[caller]["op"] in WHILE_OPS:
            _route_while(G, caller, parts[caller], loops.get(caller), visible, route)
        else:
            _route_call(G, caller, parts[caller], visible, route)
    return route


def _route_call(G, caller: str, roles: dict, visible: set, route: Routing) -> None:
    shift = 1 if G.nodes[caller]["op"] in BRANCH_OPS else 0
    inputs = _inputs(G, caller)
    op = G.nodes[caller]["op"]
    functions = []
    for role in sorted(roles):
        fname = G.nodes[next(iter(roles[role]["args"].values()), None)
                        or next(iter(roles[role]["rets"].values()))].get("function")
        functions.append(f"{role}: {fname}")
        where = "the callee" if not shift else f"branch {role}"
        for index, arg in sorted(roles[role]["args"].items()):
            if arg not in visible:
                continue
            route.structural.add(arg)
            route.skip.add((caller, arg, -1000 - index))
            src = inputs.get(index + shift)
            if src is not None:
                route.skip.add((src[0], caller, src[1]))
                route.extra.append((src[0], arg, _edge("argument", src[2]["dtype"], src[2]["shape"],
                                                       src[2]["src_output"])))
            name = _arg_label(G, arg, src[0] if src else None)
            route.roles[arg] = Role(
                [name, f"argument {index}"],
                [f"argument {index} of {where} ({op} {caller})",
                 f"signature name: {arg.rpartition('/')[2]}"]
                + ([f"passed in: {src[0]}"] if src else []))
        for index, ret in sorted(roles[role]["rets"].items()):
            if ret not in visible:
                continue
            route.structural.add(ret)
            route.skip.add((ret, caller, -2000 - index))
            out = G.nodes[ret]["outputs"][0] if G.nodes[ret]["outputs"] else {}
            route.extra.append((ret, caller, _edge("result", out.get("dtype"), out.get("shape"))))
            name = retval_name(ret)
            route.roles[ret] = Role(
                [f"result {index}", name],
                [f"result {index} of {where}: becomes output {index} of {caller}"])
    verb = "chooses a branch" if shift else "calls"
    route.roles[caller] = Role(
        [caller.rpartition("/")[2], op, f"{verb}: " + ", ".join(functions)],
        ["inputs flow into the function's arguments; its results are this op's outputs"])


def _chain_to(G, ret: str, arg: str) -> Optional[list]:
    """Return the pass-through nodes from ``arg`` to ``ret`` if ``ret`` returns ``arg`` unchanged."""
    chain, node = [], ret
    for _ in range(8):
        srcs = [s for s, _, k, d in G.in_edges(node, keys=True, data=True)
                if k >= 0 and d["kind"] == "data"]
        if len(srcs) != 1:
            return None
        node = srcs[0]
        if node == arg:
            return chain
        if G.nodes[node]["op"] not in _PASS:
            return None
        chain.append(node)
    return None


def _route_while(G, caller: str, roles: dict, loop, visible: set, route: Routing) -> None:
    body, cond = roles.get("body", {"args": {}, "rets": {}}), roles.get("cond", {"args": {}, "rets": {}})
    inputs = _inputs(G, caller)
    outputs = G.nodes[caller]["outputs"]
    named = {}
    if loop is not None:
        named = {v.identity: (v.name or v.carries, v.carries, False) for v in loop.loop_vars}
        named.update({inv["node"]: (inv.get("name") or inv["what"], inv["what"], True)
                      for inv in loop.invariants})
    for index, arg in sorted(body["args"].items()):
        if arg not in visible:
            continue
        route.structural.add(arg)
        route.skip.add((caller, arg, -1000 - index))
        tooltip = [f"loop variable {index} of {G.nodes[caller]['op']} {caller}",
                   f"body argument: {arg.rpartition('/')[2]}"]
        folded = cond["args"].get(index)
        if folded in visible:
            route.merge[folded] = arg
            route.skip.add((caller, folded, -1000 - index))
            used = any(True for _ in G.successors(folded))
            tooltip.append(f"cond argument: {folded.rpartition('/')[2]}"
                           + ("" if used else " (unused by cond, folded away)"))
        src = inputs.get(index)
        if src is not None:
            route.skip.add((src[0], caller, src[1]))
            route.extra.append((src[0], arg, _edge("enter", src[2]["dtype"], src[2]["shape"],
                                                   src[2]["src_output"])))
            tooltip.append(f"starts as: {src[0]}")
        ret = body["rets"].get(index)
        chain = _chain_to(G, ret, arg) if ret else None
        name, carries, _ = named.get(arg, (arg.rpartition("/")[2], "", None))
        invariant = chain is not None or ret is None
        info = outputs[index] if index < len(outputs) else {}
        if ret in visible:
            route.structural.add(ret)
            route.skip.add((ret, caller, -2000 - index))
            if chain is not None:  # an invariant: the body hands it back unchanged
                for node in [ret, *chain]:
                    route.merge[node] = arg
                tooltip.append(f"the body returns it unchanged ({ret.rpartition('/')[2]})")
                inside = {arg, ret, *chain, folded, caller}
                if not any(d not in inside for n in inside - {caller} if n in G for d in G.successors(n)):
                    # Read by neither cond nor body: it only passes through to the output.
                    route.extra.append((arg, caller, _edge("exit", info.get("dtype"),
                                                           info.get("shape"), index)))
                    tooltip.append("read by neither cond nor body: passed through to the output")
            else:
                route.extra.append((ret, arg, _edge("next", info.get("dtype"), info.get("shape"))))
                route.extra.append((arg, caller, _edge("exit", info.get("dtype"), info.get("shape"),
                                                       index)))
                route.roles[ret] = Role(
                    [f"next {name}", f"body result {index}"],
                    [f"the body's next value of loop variable {index} ({name}); "
                     f"raw name {ret.rpartition('/')[2]}"], shape=None, category="control")
        if carries and carries != name:
            tooltip.insert(1, f"carries: {carries}")
        kind = "invariant" if invariant else "loop variable"
        route.roles[arg] = Role([name, f"{kind} {index}"], tooltip,
                                shape=None if invariant else "hexagon", category="control")
    cond_ret = cond["rets"].get(0)
    if cond_ret in visible:
        route.structural.add(cond_ret)
        route.skip.add((cond_ret, caller, -2000))
        route.extra.append((cond_ret, caller, _edge("condition", "bool", [])))
        text = loop.condition if loop is not None and loop.condition else "the cond function's result"
        route.roles[cond_ret] = Role(["condition", *textwrap.wrap(text, 48, break_long_words=False,
                                                                     break_on_hyphens=False)],
                                     [f"the cond function's result: the loop runs while it is true; "
                                      f"raw name {cond_ret.rpartition('/')[2]}"],
                                     shape="diamond", category="control")
    functions = [f"{role}: {G.nodes[caller]['attrs'].get(role, {}).get('function', '?')}"
                 for role in ("cond", "body") if isinstance(G.nodes[caller]["attrs"].get(role), dict)]
    route.roles[caller] = Role(
        [caller.rpartition("/")[2], G.nodes[caller]["op"], ", ".join(functions),
         "final loop variables out"],
        ["a while loop as one op: the loop variables run through cond and body until the "
         "condition is false, then leave as this op's outputs"])
