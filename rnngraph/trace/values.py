"""Which tensors to record at every iteration, and their recorded values as plain data.

Pure: the plan is read from the recognised structures (cells, while loops,
TensorArrays) of the walked graph; the values come from tfdbg's dumps
(:mod:`.session`), one per execution, in execution order.  Small tensors
keep every value, larger ones their summary statistics.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import networkx as nx

__all__ = ["WatchPlan", "watch_plan", "summarise", "collect", "SMALL"]

SMALL = 64  # tensors with at most this many elements are recorded in full


@dataclass
class WatchPlan:
    """role -> the tensor holding it: one (node, slot) for a loop, one per step when unrolled."""

    mode: str  # "while" | "unrolled" | "none"
    roles: dict = field(default_factory=dict)  # role -> (node, slot) | [(node, slot) per step]
    merges: dict = field(default_factory=dict)  # Merge node -> [input node by input index]
    writes: dict = field(default_factory=dict)  # TensorArray -> (index (node, slot), value (node, slot))

    def tensors(self) -> list:
        """Return every (node, slot) the plan needs dumped, sorted."""
        found = set()
        for source in self.roles.values():
            found.update(source if isinstance(source, list) else [source])
        found.update((merge, 1) for merge in self.merges)
        for index, value in self.writes.values():
            found.update((index, value))
        return sorted(found)


def _tensor(name: str) -> tuple:
    node, _, slot = name.partition(":")
    return node, int(slot or 0)


def _input(graph: nx.MultiDiGraph, node: str, index: int) -> tuple:
    for src, _, data in graph.in_edges(node, data=True):
        if data["dst_input"] == index and not data["control"]:
            return src, data["src_output"]
    return None


def _upstream_merge(graph: nx.MultiDiGraph, source: tuple) -> tuple:
    """Return the Merge behind Identity <- Switch <- Merge plumbing (Grappler drops such Identity
    ops, so they are never dumped; the Merge carries the same value in the same iteration)."""
    node, slot = source
    seen = 0
    while graph.nodes[node]["op"] in ("Identity", "Switch", "RefSwitch") and seen < 3:
        previous = _input(graph, node, 0)
        if previous is None:
            break
        node, slot = previous
        seen += 1
    return (node, slot) if graph.nodes[node]["op"] in ("Merge", "RefMerge") else source


def _cell_roles(cell) -> dict:
    roles = {f"gate:{g}": _tensor(info["activation"])
             for g, info in sorted(cell.gate_nodes.items()) if info.get("activation")}
    roles.update({role: _tensor(node) for role, node in sorted(cell.outputs.items())})
    return roles


def watch_plan(graph: nx.MultiDiGraph, findings, unrolled=None) -> WatchPlan:
    """Return what to record: gates and h/c of the first cell, loop variables, Merges, TensorArray writes."""
    cell = findings.cells[0] if findings.cells else None
    # The forward loop (the one holding the cell) first: a gradient loop comes before it by name.
    loops = sorted((loop for loop in findings.while_loops if loop.control_flow == "v1"),
                   key=lambda loop: cell is None
                   or graph.nodes[cell.matmul].get("frame") != loop.frame)
    if loops:
        plan = WatchPlan(mode="while")
        if cell is not None:
            plan.roles.update(_cell_roles(cell))
        for var in loops[0].loop_vars:
            if var.merge:
                plan.roles[f"var:{var.carries}"] = (var.merge, 0)
                inputs = sorted((d["dst_input"], s) for s, _, d in graph.in_edges(var.merge, data=True)
                                if not d["control"])
                plan.merges[var.merge] = [src for _, src in inputs]
        for ta in findings.tensor_arrays:
            for write in ta.writes[:1]:
                index, value = _input(graph, write, 1), _input(graph, write, 2)
                if index and value:
                    plan.writes[ta.name] = (_upstream_merge(graph, index), value)
        return plan
    if cell is None or unrolled is None or not all(unrolled.matching):
        return WatchPlan(mode="none")
    plan = WatchPlan(mode="unrolled")
    first = list(unrolled.step_nodes[0])
    for role, (node, slot) in _cell_roles(cell).items():
        if node in first:
            at = first.index(node)
            plan.roles[role] = [(names[at], slot) for names in unrolled.step_nodes]
    return plan


def summarise(array) -> dict:
    """Return a tensor as plain data: every value when small, else shape and statistics."""
    import numpy as np  # noqa: PLC0415

    array = np.asarray(array)
    out = {"shape": list(array.shape), "dtype": str(array.dtype)}
    if array.dtype.kind not in "biuf":
        return out
    if array.size <= SMALL:
        out["values"] = array.tolist()
        return out
    values = array.astype(np.float64)
    out.update(min=float(values.min()), max=float(values.max()), mean=float(values.mean()),
               std=float(values.std()))
    return out


def collect(plan: WatchPlan, dumps: dict) -> dict:
    """Return the recorded values: role -> one summary per iteration (or step copy).

    ``dumps`` maps (node, slot) to its dumped arrays in execution order.
    Merges give which input each execution took; TensorArray writes the slot
    index and the value written there.
    """
    import numpy as np  # noqa: PLC0415

    roles = {}
    for role, source in sorted(plan.roles.items()):
        if isinstance(source, list):
            roles[role] = [summarise(dumps[s][0]) for s in source if dumps.get(s)]
        else:
            roles[role] = [summarise(a) for a in dumps.get(source, [])]
    roles = {role: found for role, found in roles.items() if found}  # not run: not recorded
    merges = {}
    for merge, inputs in sorted(plan.merges.items()):
        taken = [int(np.asarray(a)) for a in dumps.get((merge, 1), [])]
        if taken:
            merges[merge] = [inputs[k] if 0 <= k < len(inputs) else str(k) for k in taken]
    arrays = {}
    for name, (index, value) in sorted(plan.writes.items()):
        slots = [int(np.asarray(a)) for a in dumps.get(index, [])]
        written = dumps.get(value, [])
        arrays[name] = [{"slot": s, "value": summarise(v)} for s, v in zip(slots, written)]
    return {"mode": plan.mode, "roles": roles, "merges": merges, "tensor_arrays": arrays}
