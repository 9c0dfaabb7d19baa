"""Repeated structure in unrolled graphs: per-step cell copies and op series.

Pure functions over the walked networkx graph (no TensorFlow, no Graphviz).
A static RNN is one cell copy per time step; every copy reads the step's
input (an ``Unpack`` output, or one placeholder per step) and the previous
copy's state.  Each node gets the latest step whose input it depends on;
the nodes of each step, in GraphDef order, are then compared with one
reference step, operation by operation, input by input (including constant
values and which shared node each input reads), so copies are grouped only
when they are the same structure.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Optional

import networkx as nx

from .exprs import common_prefix

__all__ = ["Unrolled", "StepRun", "find_unrolled", "cached_unrolled", "find_series", "Series"]

_SUFFIX = re.compile(r"_[0-9]+$")
_FAMILY = re.compile(r"^(.*?)([0-9]+)$")
_MIN_STEPS = 3  # below this, stacking saves nothing
_BACK_OPS = ("NextIteration", "RefNextIteration")


@dataclass(frozen=True)
class StepRun:
    """Consecutive steps whose cell copies are the same structure."""

    scope: str  # common name scope of the copies, e.g. rnn/basic_lstm_cell
    first: int
    last: int
    members: tuple  # per step (first..last): node names in reference order

    @property
    def count(self) -> int:
        return self.last - self.first + 1


@dataclass
class Unrolled:
    """The per-step structure of an unrolled (static) RNN."""

    source: str  # what hands out the per-step inputs (Unpack node or placeholder family)
    steps: int
    step_nodes: list  # per step: node names in GraphDef order (extras excluded)
    reference: int  # the step the others were compared with
    matching: list  # per step: True when the copy is the reference's structure
    runs: list = field(default_factory=list)  # StepRun, each of >= 2 steps
    extra: list = field(default_factory=list)  # nodes of the last step beyond the cell

    @property
    def differing(self) -> list:
        return [t for t, ok in enumerate(self.matching) if not ok]


def _time_sources(graph: nx.MultiDiGraph) -> tuple[str, dict]:
    """Return (description, {(node, output or None): step}) for the per-step inputs."""
    best: tuple = ("", {})
    for name, data in graph.nodes(data=True):
        if data["op"] == "Unpack" and data["function"] is None:
            num = data["attrs"].get("num", 0)
            used = {e["src_output"] for _, _, e in graph.out_edges(name, data=True)}
            # ``num`` is declared by the file: never more steps than the graph has nodes.
            if (_MIN_STEPS <= num <= graph.number_of_nodes() and len(used) >= _MIN_STEPS
                    and num > len(best[1])):
                best = (name, {(name, i): i for i in range(num)})
    if best[1]:
        return best
    families: dict = {}
    for name, data in graph.nodes(data=True):
        if data["op"] in ("Placeholder", "PlaceholderV2") and data["function"] is None:
            match = _FAMILY.match(name)
            if match:
                families.setdefault(match.group(1), {})[int(match.group(2))] = name
    for prefix, members in sorted(families.items()):
        if len(members) >= _MIN_STEPS and sorted(members) == list(range(len(members))) \
                and len(members) > len(best[1]):
            best = (prefix + "*", {(members[i], None): i for i in range(len(members))})
    return best


def _topological(graph: nx.MultiDiGraph) -> list:
    indegree = {n: 0 for n in graph}
    for src, dst, data in graph.edges(data=True):
        if graph.nodes[src]["op"] not in _BACK_OPS and data["kind"] in ("data", "control"):
            indegree[dst] += 1
    ready = sorted((n for n, d in indegree.items() if d == 0), key=lambda n: -graph.nodes[n]["order"])
    order = []
    while ready:
        node = ready.pop()
        order.append(node)
        if graph.nodes[node]["op"] in _BACK_OPS:
            continue
        for _, dst, data in graph.out_edges(node, data=True):
            if data["kind"] not in ("data", "control"):
                continue
            indegree[dst] -= 1
            if indegree[dst] == 0:
                ready.append(dst)
    return order


def _assign_steps(graph: nx.MultiDiGraph, sources: dict) -> dict:
    """Return {node: step} for nodes that belong to one time step."""
    step: dict = {}
    order = _topological(graph)
    for node in order:
        if (node, None) in sources:
            step[node] = sources[(node, None)]
            continue
        values = set()
        for src, _, data in graph.in_edges(node, data=True):
            if data["kind"] not in ("data", "control"):
                continue
            key = (src, data["src_output"])
            if key in sources:
                values.add(sources[key])
            elif src in step:
                values.add(step[src])
        # A node fed by many steps (stack of outputs, a sum over time) is after the loop.
        if values and max(values) - min(values) <= 1:
            step[node] = max(values)
    # Constants (no data inputs) belong to the step of all their consumers.
    for node in reversed(order):
        if node in step or any(not e["control"] for _, _, e in graph.in_edges(node, data=True)):
            continue
        consumers = {step.get(dst) for _, dst in graph.out_edges(node)}
        if len(consumers) == 1 and None not in consumers:
            step[node] = consumers.pop()
    return step


def _short(graph: nx.MultiDiGraph, node: str) -> str:
    return _SUFFIX.sub("", graph.nodes[node]["name"].rpartition("/")[2])


def _signature(graph: nx.MultiDiGraph, nodes: list, step_of: dict, t: int, sources: dict) -> list:
    """Return, per node, (op, base name, attrs, device, inputs) with inputs made step-relative."""
    position = {n: i for i, n in enumerate(nodes)}
    signature = []
    for node in nodes:
        data = graph.nodes[node]
        refs = []
        for src, _, key, edge in sorted(graph.in_edges(node, keys=True, data=True), key=lambda e: e[2]):
            out = edge["src_output"]
            if src in position:
                refs.append(("L", position[src], out))
            elif (src, out) in sources or (src, None) in sources:
                refs.append(("X",))
            elif step_of.get(src) == t - 1:
                refs.append(("P", graph.nodes[src]["op"], _short(graph, src), out))
            else:
                refs.append(("E", *_shared_origin(graph, src, out, step_of)))
        attrs = repr(sorted((k, v) for k, v in data["attrs"].items() if not k.startswith("_")))
        signature.append((data["op"], _short(graph, node), attrs, data["device"], tuple(refs)))
    return signature


def _shared_origin(graph: nx.MultiDiGraph, node: str, out: int, step_of: dict) -> tuple:
    """Return the shared node behind a per-step read of it (Keras' unrolled copies each read
    the frozen kernel through their own Identity), so copies compare equal."""
    for _ in range(4):
        data = graph.nodes[node]
        if data["op"] not in ("Identity", "ReadVariableOp") or node in step_of:
            break
        srcs = [(s, e["src_output"]) for s, _, k, e in graph.in_edges(node, keys=True, data=True)
                if e["kind"] == "data" and k == 0]
        if not srcs:
            break
        node, out = srcs[0]
    return node, out


def _same(reference: list, candidate: list, first: bool, prev_same: bool = True) -> bool:
    if len(reference) != len(candidate):
        return False
    for ref, cand in zip(reference, candidate):
        if ref[:4] != cand[:4] or len(ref[4]) != len(cand[4]):
            return False
        for a, b in zip(ref[4], cand[4]):
            if a == b:
                continue
            # The first copy reads the initial (zero) state where later ones read the previous copy.
            if first and a[0] == "P" and b[0] == "E":
                continue
            # After a copy that differs, what is read from it differs too; the copy itself may not.
            if not prev_same and a[0] == b[0] == "P" and a[3] == b[3]:
                continue
            return False
    return True


def _common_scope(names: list) -> str:
    """Return the deepest scope that holds every one of ``names``."""
    return common_prefix([n.rpartition("/")[0] for n in names])


def find_unrolled(graph: nx.MultiDiGraph) -> Optional[Unrolled]:
    """Return the per-step structure of an unrolled RNN in ``graph``, or None if there is none."""
    source, sources = _time_sources(graph)
    if not sources:
        return None
    steps = len(sources)
    step_of = _assign_steps(graph, sources)
    per_step: list = [[] for _ in range(steps)]
    for node, t in step_of.items():
        if graph.nodes[node]["op"] not in ("Placeholder", "PlaceholderV2"):
            per_step[t].append(node)
    for nodes in per_step:
        nodes.sort(key=lambda n: graph.nodes[n]["order"])
    if not all(per_step):
        return None
    # The reference is the most common structure among the inner steps (the first and
    # last also carry the zero state and what follows the loop), so one odd copy
    # can never become the pattern the others are measured against.
    inner = range(1, steps - 1) if steps > 2 else range(steps)
    votes: dict = {}
    for t in inner:
        key = tuple(_signature(graph, per_step[t], step_of, t, sources))
        votes.setdefault(key, []).append(t)
    reference = max(votes.values(), key=lambda ts: (len(ts), -ts[0]))[0]
    ref_sig = _signature(graph, per_step[reference], step_of, reference, sources)
    size = len(ref_sig)
    matching, extra, prologue = [], [], []
    for t in range(steps):
        nodes = per_step[t]
        # The first step also holds what only it needs (the zero state is built from the
        # first input's batch size), created before the cell: compare its last `size` nodes.
        if t == 0 and len(nodes) > size:
            prologue, nodes = nodes[:-size], nodes[-size:]
        # The last step may be followed by ops on the final state (a head): compare its first nodes.
        if t == steps - 1 and len(nodes) > size:
            nodes, extra = nodes[:size], nodes[size:]
        candidate = _signature(graph, nodes, step_of, t, sources)
        same = _same(ref_sig, candidate, first=(t == 0), prev_same=(t == 0 or matching[t - 1]))
        if same:
            per_step[t] = nodes
        elif t == 0:
            prologue = []
        elif t == steps - 1:
            extra = []
        matching.append(same)
    unrolled = Unrolled(source=source, steps=steps, step_nodes=per_step, reference=reference,
                        matching=matching, extra=extra + prologue)
    scope = _common_scope(per_step[reference])
    t = 0
    while t < steps:
        if not matching[t]:
            t += 1
            continue
        end = t
        while end + 1 < steps and matching[end + 1]:
            end += 1
        if end > t:
            unrolled.runs.append(StepRun(scope=scope, first=t, last=end,
                                         members=tuple(tuple(per_step[i]) for i in range(t, end + 1))))
        t = end + 1
    return unrolled


@dataclass(frozen=True)
class Series:
    """Sibling ops named base, base_1, base_2, ... (TensorBoard's op series)."""

    scope: str
    base: str
    op: str
    members: tuple  # node names, in suffix order
    low: int
    high: int

    @property
    def label(self) -> str:
        return f"{self.base}_[{self.low}-{self.high}]"


def find_series(graph: nx.MultiDiGraph, nodes, minimum: int = 5) -> list:
    """Return op series among ``nodes``: same scope, op and base name, unconnected, >= minimum."""
    groups: dict = {}
    for node in nodes:
        data = graph.nodes[node]
        short = data["name"].rpartition("/")[2]
        match = re.match(r"^(.*?)(?:_([0-9]+))?$", short)
        base, number = match.group(1), int(match.group(2) or 0)
        groups.setdefault((data["scope"], base, data["op"]), []).append((number, node))
    found = []
    for (scope, base, op), members in sorted(groups.items()):
        if len(members) < minimum:
            continue
        names = {n for _, n in members}
        if any(dst in names for n in names for dst in graph.successors(n)):
            continue  # a chain, not a series: grouping would hide the order
        members.sort()
        found.append(Series(scope=scope, base=base, op=op, members=tuple(n for _, n in members),
                            low=members[0][0], high=members[-1][0]))
    return found


def cached_unrolled(graph: nx.MultiDiGraph) -> Optional[Unrolled]:
    """Return find_unrolled(graph), computed once per graph object."""
    if "_unrolled" not in graph.graph:
        graph.graph["_unrolled"] = find_unrolled(graph)
    return graph.graph["_unrolled"]
