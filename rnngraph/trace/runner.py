"""One traced run of a model, assembled into the trace document (plain JSON data).

``trace_model`` builds the graph, runs it (:mod:`.session`), and turns the
RunMetadata and the dumps into per-node records, per-iteration rows and
values (:mod:`.record`, :mod:`.values`).  ``trace_json`` writes the
document with sorted keys, so the same run gives the same bytes.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Optional

from . import TRACE_FORMAT, optimized, record, values

__all__ = ["Traced", "trace_model", "trace_file", "trace_document", "trace_json", "read_trace"]


@dataclass
class Traced:
    """A traced run: the document, the walked graph, and the graphs the executor ran."""

    document: dict
    graph: object  # networkx graph of the built graph
    built: object
    partition_graphs: list
    result: object  # session.RunResult


def trace_document(spec_data: Optional[dict], graph, result, batch: int, seed: int,
                   device: Optional[str], present: list, built_graph_def=None) -> dict:
    """Return the trace document of one run of ``graph`` (pure over the run's result)."""
    from ..recognise import recognise  # noqa: PLC0415
    from ..recognise.repeats import cached_unrolled  # noqa: PLC0415

    findings = recognise(graph)
    unrolled = None if findings.while_loops else cached_unrolled(graph)
    runs = record.canonical_names(record.executions(result.step_stats), graph)
    # Only loops that ran (a training head's gradient loop does not, for a forward run).
    switches = [v.switch for loop in findings.while_loops for v in loop.loop_vars
                if v.switch and runs.get(v.switch)]
    if findings.while_loops:
        iterations, unit = record.loop_iterations(graph, runs, switches), "iteration"
    else:
        iterations, unit = (unrolled.steps if unrolled else 0), "step"
    marks = record.iteration_of_nodes(graph, unrolled)
    nodes = record.node_records(graph, runs, marks, iterations)
    plan = values.watch_plan(graph, findings, unrolled)
    recorded = values.collect(plan, result.dumps)
    recorded["switches"] = {name: ["true" if 1 in r["slots"] else "false"
                                   for r in runs.get(name, [])] for name in sorted(switches)}
    doc = {
        "format": TRACE_FORMAT, "model": spec_data, "batch": batch, "seed": seed,
        "device_requested": device, "devices_present": present,
        "unit": unit, "iterations": iterations,
        "step_micros": max((r["start"] + r["wall"] for rs in runs.values() for r in rs), default=0),
        "peak_bytes": record.peak_bytes(result.step_stats),
        "nodes": nodes, "table": record.iteration_table(nodes), "values": recorded,
    }
    if built_graph_def is not None and result.partition_graphs:
        ran = optimized.merged_partitions(result.partition_graphs)
        doc["optimized"] = optimized.graph_changes(built_graph_def, ran, _needed(graph, nodes))
    return doc


def _needed(graph, nodes: dict) -> set:
    """Return the nodes the fetches depend on: everything upstream of a node that ran last."""
    import networkx as nx  # noqa: PLC0415

    ran = {name for name, rec in nodes.items() if rec["runs"] and name in graph}
    sinks = [n for n in ran if not any(s in ran for s in graph.successors(n))]
    needed = set(sinks)
    for sink in sinks:
        needed |= nx.ancestors(graph, sink)
    return needed


def trace_model(spec, batch: int = 2, seed: int = 0, device: Optional[str] = None,
                watch_values: bool = True, source: str = "random") -> Traced:
    """Build ``spec``, run it once on ``source`` input with the full trace and return the trace."""
    from ..graphdef.walk import walk  # noqa: PLC0415
    from ..model.builder import build_graph  # noqa: PLC0415
    from . import session  # noqa: PLC0415

    session.check_device(device)
    built = build_graph(spec, device=device)
    feeds = session.input_feeds(built, source, batch, seed)
    return _trace(built, walk(built), {**spec.as_dict(), "input": source}, feeds, batch, seed, device,
                  watch_values)


def trace_file(path: str, batch: int = 2, seed: int = 0, device: Optional[str] = None,
               watch_values: bool = True, allow_ops=(), max_iterations: Optional[int] = None) -> Traced:
    """Read the graph in ``path``, run its ends once with the full trace and return the trace.

    Nothing runs unless :func:`graphdef.runpolicy.check_runnable` admits the file (pure compute
    ops, plus the kinds in ``allow_ops``); with ``max_iterations``, every while loop (v1 frames and
    functional While ops, in functions too) stops with :class:`RunLimitExceeded` when it wants
    more iterations than that.
    """
    from ..graphdef.loaders import load_graph_def  # noqa: PLC0415
    from ..graphdef.loopbound import bound_v1_loops, bound_v2_loops  # noqa: PLC0415
    from ..graphdef.runpolicy import check_runnable  # noqa: PLC0415
    from ..graphdef.walk import walk  # noqa: PLC0415
    from ..model.imported import import_graph  # noqa: PLC0415
    from . import session  # noqa: PLC0415

    session.check_device(device)
    graph_def, kind = load_graph_def(path)
    check_runnable(graph_def, path, allow_ops)
    runnable, added, loops = graph_def, set(), {}
    if max_iterations is not None:
        runnable = type(graph_def)()
        runnable.CopyFrom(graph_def)
        added = bound_v1_loops(runnable, max_iterations)
        counters, loops, counted = bound_v2_loops(runnable, max_iterations)
        added |= counters | set(counted)  # "node:slot": a While's counter output, hidden too
    built = import_graph(runnable, device=device)
    if loops:  # the counters a v2 loop now also returns are rnngraph's, not ends of the file
        built.tensors["fetches"] = [t for t in built.tensors["fetches"] if t.name not in counted]
    feeds = session.random_feeds(built, batch, seed)
    return _trace(built, walk(graph_def), {"file": str(path), "kind": kind}, feeds, batch, seed, device,
                  watch_values, max_iterations, hidden=added, loops=loops)


def _without(graph_def, hidden: set):
    """Return a copy of ``graph_def`` without the nodes named in ``hidden``.

    An input read through a hidden Identity (the loop condition routed through the counter's
    check) is read from that Identity's own input again; other references to hidden nodes
    (control inputs) are dropped.
    """
    by_name = {node.name: node for node in graph_def.node}

    def source(ref: str):
        name = ref.lstrip("^").split(":")[0]
        while name in hidden:
            node = by_name.get(name)
            if node is None or node.op != "Identity" or ref.startswith("^") or not node.input:
                return None
            ref = node.input[0]
            name = ref.lstrip("^").split(":")[0]
        return ref

    kept = type(graph_def)()
    kept.CopyFrom(graph_def)
    del kept.node[:]
    for node in graph_def.node:
        if node.name in hidden:
            continue
        copy = kept.node.add()
        copy.CopyFrom(node)
        del copy.input[:]
        copy.input.extend(ref for ref in map(source, node.input) if ref is not None)
    return kept


_PLUMBING = ("Enter", "Merge", "Switch", "Exit", "NextIteration", "Identity")


def _lowered_counters(graphs, hidden: set, file_nodes: set) -> set:
    """Return the partition-graph nodes of the counters bound_v2_loops added to v2 loops.

    TensorFlow lowers a While to a v1 frame and inlines its cond and body: the counter's own
    nodes keep their "rnngraph_" names (under the loop's name), and its loop plumbing (Enter,
    Merge, Switch, Exit, NextIteration, the body's argument Identity) reads them first.
    """
    found: set = set()
    for graph_def in graphs:
        mine = {n.name for n in graph_def.node if n.name in hidden or (
            n.name not in file_nodes and any(p.startswith("rnngraph_") for p in n.name.split("/")))}
        changed = True
        while changed:
            changed = False
            for node in graph_def.node:
                data = [r for r in node.input if not r.startswith("^")]
                if node.name not in mine and node.op in _PLUMBING and data and \
                        data[0].split(":")[0] in mine:
                    mine.add(node.name)
                    changed = True
        found |= mine
    return found


def _hide(result, hidden: set) -> None:
    """Drop the loop counters rnngraph added (``hidden``) from a run's step stats and graphs.

    ``hidden`` holds node names, and ``node:slot`` for an output rnngraph added to a node (the
    counter a v2 While carries), dropped from that node's recorded outputs.
    """
    slots: dict = {}
    for ref in hidden:
        if ":" in ref:
            name, _, slot = ref.rpartition(":")
            slots.setdefault(name, set()).add(int(slot))
    for device in result.step_stats.dev_stats:
        kept = [n for n in device.node_stats if n.node_name.split(":")[0] not in hidden]
        for stats in kept:
            drop = slots.get(stats.node_name.split(":")[0])
            if drop:
                outputs = [o for o in stats.output if o.slot not in drop]
                del stats.output[:]
                stats.output.extend(outputs)
        del device.node_stats[:]
        device.node_stats.extend(kept)
    result.partition_graphs = [_without(g, hidden) for g in result.partition_graphs]


def _trace(built, graph, model: dict, feeds: dict, batch: int, seed: int, device: Optional[str],
           watch_values: bool, max_iterations: Optional[int] = None, hidden: set = frozenset(),
           loops: Optional[dict] = None) -> Traced:
    from ..recognise import recognise  # noqa: PLC0415
    from ..recognise.repeats import cached_unrolled  # noqa: PLC0415
    from . import session  # noqa: PLC0415

    findings = recognise(graph)
    unrolled = None if findings.while_loops else cached_unrolled(graph)
    watch = tuple(values.watch_plan(graph, findings, unrolled).tensors()) if watch_values else ()
    try:
        result = session.run_traced(built, feeds, session.fetches_of(built), watch=watch)
    except tf_errors() as exc:
        from ..errors import GraphFileError, RunLimitExceeded  # noqa: PLC0415
        from ..graphdef.loopbound import MARKER  # noqa: PLC0415

        tagged = re.search(re.escape(MARKER) + r" #(\d+)", str(exc))
        if tagged and tagged.group(1) in (loops or {}):  # a functional While (v2)
            raise RunLimitExceeded(f"stopped: while loop {loops[tagged.group(1)]!r} wanted more "
                                   f"than {max_iterations} iterations (--max-iterations; raise "
                                   f"it if the loop is meant to run longer)") from None
        if MARKER in str(exc):
            raise RunLimitExceeded(f"stopped: a while loop wanted more than {max_iterations} "
                                   f"iterations (--max-iterations; raise it if the loop is meant "
                                   f"to run longer)") from None
        raise GraphFileError(f"TensorFlow could not run the graph: {_reason(exc)}") from None
    built_graph_def = built.graph.as_graph_def()
    if loops:  # a v2 While that TensorFlow lowered to a v1 frame: its counter's nodes there
        hidden = set(hidden) | _lowered_counters(result.partition_graphs, hidden, set(graph.nodes))
    if hidden:  # the trace shows the file's graph, not the counters --max-iterations added
        _hide(result, hidden)
        built_graph_def = _without(built_graph_def, hidden)
    doc = trace_document(model, graph, result, batch, seed, device,
                         session.devices_present(), built_graph_def)
    return Traced(document=doc, graph=graph, built=built,
                  partition_graphs=result.partition_graphs, result=result)


def _reason(exc) -> str:
    """Return the one line of a TensorFlow error that says what went wrong."""
    text = getattr(exc, "message", None) or str(exc)
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith(
        ("[[", "Detected at", "Node:", "Graph execution error", "File ", "(most recent"))]
    reason = lines[-1] if lines else type(exc).__name__
    if "uninitialized" in reason:
        reason += " (the file holds no initial values for its variables: freeze the graph, or save it with its initialisers)"
    return reason


def tf_errors() -> tuple:
    """Return the exceptions a Session run raises for a graph that cannot run."""
    from ..model.tfcompat import tf  # noqa: PLC0415

    return (tf().errors.OpError, ValueError, TypeError)


def trace_json(document: dict) -> str:
    """Return the document as JSON text with sorted keys (deterministic layout)."""
    return json.dumps(document, sort_keys=True, indent=1, ensure_ascii=False) + "\n"


def read_trace(path: str) -> dict:
    """Return the trace document in ``path``; one clear error when it is not one."""
    from ..errors import GraphFileError  # noqa: PLC0415

    try:
        with open(path, encoding="utf-8") as handle:
            document = json.load(handle)
    except OSError as exc:
        raise GraphFileError(f"cannot read trace {path}: {exc.strerror or exc}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise GraphFileError(f"{path} is not a trace file (not JSON: {exc})") from None
    if not isinstance(document, dict) or document.get("format") != TRACE_FORMAT \
            or not isinstance(document.get("nodes"), dict):
        raise GraphFileError(f"{path} is not a trace file written by `rnngraph run` "
                             f"(expected format {TRACE_FORMAT!r})")
    for name, node in document["nodes"].items():
        if not _node_record_ok(node):
            raise GraphFileError(f"{path}: node {name!r} has no valid record (runs, micros, bytes: "
                                 "integers >= 0; device: text or null)")
    return document


def _node_record_ok(node) -> bool:
    counts = ("runs", "micros", "bytes")
    return isinstance(node, dict) and all(
        isinstance(node.get(k), int) and not isinstance(node.get(k), bool) and node[k] >= 0
        for k in counts) and (node.get("device") is None or isinstance(node.get("device"), str))
