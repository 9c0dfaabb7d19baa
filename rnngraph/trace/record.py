"""RunMetadata.step_stats -> per-node executions, iterations and the per-iteration table.

Pure: reads protobuf messages and the walked networkx graph, never runs
TensorFlow.  A node inside a v1 while loop runs once per iteration, so its
k-th execution (in start order) belongs to iteration k; the loop's Merge,
Switch and condition run once more, for the test that ends the loop; Exit
runs once, after it.  In an unrolled (static) graph the "iteration" of a
node is the step copy it belongs to (``recognise.repeats``).
"""

from __future__ import annotations

from typing import Optional

import re

import networkx as nx

from ..graphdef.walk import body_prefix

__all__ = ["executions", "canonical_names", "device_name", "iteration_of_nodes", "node_records",
           "iteration_table", "format_table", "peak_bytes", "loop_iterations"]

_STREAM_MARK = "/stream:"  # GPU traces repeat each kernel per stream; the device entry is the one
_EXIT_OPS = ("Exit", "RefExit")
_WHILE_OPS = ("While", "StatelessWhile")
# The executor lowers a v2 While into v1 control flow and names the body's ops
# <while>/body/_<n>/<op>; the walked graph names them <while>/body::/<op> (walk.body_prefix).
_LOWERED = re.compile(r"/(body|cond)/_\d+/")


def device_name(device: str) -> str:
    """Return ``/job:localhost/replica:0/task:0/device:CPU:0`` as ``/device:CPU:0``."""
    return "/device:" + device.rpartition("/device:")[2] if "/device:" in device else device


def _kernel_times(step_stats) -> dict:
    """Return node name -> [kernel µs per execution] from a GPU trace's ``stream:all`` entries."""
    found: dict = {}
    for dev in step_stats.dev_stats:
        if dev.device.endswith(_STREAM_MARK + "all"):
            for stats in sorted(dev.node_stats, key=lambda s: s.all_start_micros):
                name = stats.node_name.partition(":")[0]
                found.setdefault(name, []).append(max(0, stats.op_end_rel_micros
                                                      - stats.op_start_rel_micros))
    return found


def executions(step_stats) -> dict:
    """Return node name -> its executions in start order, each a dict of plain numbers.

    An execution has ``start`` (µs after the step began), ``micros`` (compute
    time: op start to op end; on a GPU the kernel's time on the streams when
    the trace has it), ``wall`` (scheduling to end), ``bytes`` (bytes of the
    outputs it produced), ``slots`` (the outputs it produced: Switch sends
    only one side) and ``device`` (where it actually ran).
    """
    raw = []
    for dev in step_stats.dev_stats:
        if _STREAM_MARK in dev.device or "/memcpy" in dev.device:
            continue  # per-stream copies of the GPU's kernels, read by _kernel_times
        for stats in dev.node_stats:
            if stats.node_name.startswith("_SOURCE"):
                continue
            raw.append((stats.all_start_micros, dev.device, stats))
    if not raw:
        return {}
    origin = min(start for start, _, _ in raw)
    out: dict = {}
    for start, device, stats in sorted(raw, key=lambda r: (r[0], r[2].node_name)):
        out.setdefault(stats.node_name, []).append({
            "start": start - origin,
            "micros": max(0, stats.op_end_rel_micros - stats.op_start_rel_micros),
            "wall": stats.all_end_rel_micros,
            "bytes": sum(o.tensor_description.allocation_description.requested_bytes
                         for o in stats.output),
            "slots": sorted({o.slot for o in stats.output}),
            "device": device_name(device),
        })
    # A GPU op's entry on its device times the launch; its kernel time is on the streams.
    for name, kernels in _kernel_times(step_stats).items():
        mine = out.get(name, [])
        if len(kernels) == len(mine):
            for run, micros in zip(mine, kernels):
                run["micros"] = micros
    return out


def canonical_names(runs: dict, graph: nx.MultiDiGraph) -> dict:
    """Return ``runs`` with the lowered names of v2 loop bodies renamed to the graph's nodes."""
    out: dict = {}
    for name, mine in runs.items():
        if name not in graph:
            plain = _LOWERED.sub(r"/\1::/", name, count=1)
            name = plain if plain in graph else name
        out.setdefault(name, []).extend(mine)
    for mine in out.values():
        mine.sort(key=lambda r: r["start"])
    return out


def peak_bytes(step_stats) -> int:
    """Return the most bytes live at once during the step, from the allocators' records.

    Each node's allocator records say when it allocated (positive) and freed
    (negative) how many bytes; summed in time order they give what the step
    itself held at its peak (variables, allocated before the step, excluded).
    """
    records = []
    for dev in step_stats.dev_stats:
        for stats in dev.node_stats:
            for memory in stats.memory:
                records.extend((r.alloc_micros, r.alloc_bytes) for r in memory.allocation_records)
    live = peak = 0
    for _, size in sorted(records):
        live += size
        peak = max(peak, live)
    return peak


def loop_iterations(graph: nx.MultiDiGraph, runs: dict, switches: list) -> int:
    """Return how many times the loop body ran.

    v1: the executions of a loop variable's Switch that took the true side;
    v2: the executions of the ops of the While's body function.
    """
    counts = [sum(1 for r in runs.get(name, []) if 1 in r["slots"]) for name in switches]
    counts += [len(runs.get(name, [])) for name, data in graph.nodes(data=True)
               if _in_while(graph, data) and body_prefix(data['parent_op'], "body") in name]
    return max(counts, default=0)


def _in_while(graph: nx.MultiDiGraph, data: dict) -> bool:
    parent = data.get("parent_op")
    return bool(parent) and parent in graph and graph.nodes[parent]["op"] in _WHILE_OPS


def iteration_of_nodes(graph: nx.MultiDiGraph, unrolled=None) -> dict:
    """Return node -> "frame" for nodes inside a while loop, or node -> step copy (static)."""
    # Exit sits outside the frame it leaves, but runs after the loop's last test.
    found = {name: "frame" for name, data in graph.nodes(data=True)
             if data.get("frame") or data["op"] in _EXIT_OPS or _in_while(graph, data)}
    if not found and unrolled is not None:
        for step, names in enumerate(unrolled.step_nodes):
            for name in names:
                found[name] = step
    return found


def _iteration(mark, index: int, op: str, iterations: int) -> Optional[int]:
    if mark is None:
        return None
    if mark != "frame":
        return int(mark)
    return iterations if op in _EXIT_OPS else index


def node_records(graph: nx.MultiDiGraph, runs: dict, marks: dict, iterations: int) -> dict:
    """Return node -> {"op", "device", "runs", "micros", "bytes", "per_run"} for every node.

    Nodes of the graph that did not run (pruned, folded or fused by Grappler,
    or not needed for the fetches) get ``runs`` 0 and ``device`` None; nodes
    that ran but are not in the graph (Grappler's and the executor's own,
    such as ``_arg_X_0_0``) are kept, with ``op`` None.
    """
    out = {}
    for name in sorted(set(graph.nodes) | set(runs)):
        mine = runs.get(name, [])
        op = graph.nodes[name]["op"] if name in graph else None
        per_run = [{"iteration": _iteration(marks.get(name), k, op, iterations),
                    "start": r["start"], "micros": r["micros"], "bytes": r["bytes"],
                    "slots": r["slots"]} for k, r in enumerate(mine)]
        devices = sorted({r["device"] for r in mine})
        out[name] = {"op": op, "device": ", ".join(devices) if devices else None,
                     "runs": len(mine), "micros": sum(r["micros"] for r in mine),
                     "bytes": sum(r["bytes"] for r in mine), "per_run": per_run}
    return out


def iteration_table(records: dict) -> list:
    """Return one row per iteration (and one for the ops outside it): ops run, compute µs, bytes."""
    rows: dict = {}
    for name, record in records.items():
        for run in record["per_run"]:
            row = rows.setdefault(run["iteration"], {"iteration": run["iteration"], "ops": 0,
                                                      "micros": 0, "bytes": 0, "nodes": []})
            row["ops"] += 1
            row["micros"] += run["micros"]
            row["bytes"] += run["bytes"]
            row["nodes"].append(name)
    ordered = sorted(rows.values(), key=lambda r: (r["iteration"] is None, r["iteration"] or 0))
    for row in ordered:
        row["nodes"].sort()
    return ordered


def format_table(rows: list, iterations: int, unit: str = "iteration") -> str:
    """Return the per-iteration table as aligned text."""
    header = (unit, "ops run", "compute µs", "output bytes")
    body = []
    for row in rows:
        it = row["iteration"]
        if it is None:
            label = f"outside the {'loop' if unit == 'iteration' else 'steps'}"
        elif unit == "iteration" and it == iterations:
            label = f"{it} (exit test)"
        else:
            label = str(it)
        body.append((label, str(row["ops"]), str(row["micros"]), str(row["bytes"])))
    widths = [max(len(line[i]) for line in [header, *body]) for i in range(len(header))]

    def line(cells) -> str:
        rest = (cell.rjust(width) for cell, width in zip(cells[1:], widths[1:]))
        return "  ".join([cells[0].ljust(widths[0]), *rest])

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(header), rule, *(line(cells) for cells in body)]) + "\n"
