"""``rnngraph inspect FILE``: summarise (and optionally draw) any GraphDef, without TensorFlow."""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

__all__ = ["register", "summary", "summary_text"]

_KIND_NAMES = {"graphdef": "GraphDef (binary)", "graphdef-text": "GraphDef (text)",
               "savedmodel": "SavedModel", "metagraph": "MetaGraphDef",
               "events": "TensorBoard event file"}


def register(subparsers) -> None:
    from .render import add_drawing_options  # noqa: PLC0415 (argparse only, no TensorFlow)

    parser = subparsers.add_parser(
        "inspect", help="summarise a GraphDef, SavedModel, .meta or event file (no TensorFlow)",
        description="Read a graph from a file (.pb, .pbtxt, SavedModel directory, .meta, "
                    "TensorBoard event file) and list its node and edge counts, ops by count "
                    "and every recognised RNN structure. Nothing from the file is executed.")
    parser.add_argument("file", help="the graph file or SavedModel directory")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.add_argument("--render", metavar="OUT", default=None,
                        help="also draw the graph to OUT ('-' for stdout)")
    add_drawing_options(parser)
    parser.add_argument("--tensorboard", default=None, metavar="LOGDIR",
                        help="also write the graph as an event file for `tensorboard --logdir LOGDIR`")
    parser.set_defaults(func=run)


def summary(G) -> tuple:
    """Return (the ``inspect --json`` summary, always the same keys; the findings) of a walked graph."""
    from ..graphdef.walk import top_level_nodes  # noqa: PLC0415
    from ..recognise import recognise  # noqa: PLC0415

    nodes = set(top_level_nodes(G))
    edges = sum(1 for s, d in G.edges() if s in nodes and d in nodes)
    ops = Counter(G.nodes[n]["op"] for n in nodes)
    found = recognise(G)
    return {
        "nodes": len(nodes),
        "edges": edges,
        "ops": dict(sorted(ops.items(), key=lambda kv: (-kv[1], kv[0]))),
        "while_loops": [{"name": w.name, "control_flow": w.control_flow,
                         "loop_vars": len(w.loop_vars), "invariants": len(w.invariants),
                         "body_nodes": len(w.body_nodes)} for w in found.while_loops],
        "tensor_arrays": [{"name": t.name, "role": t.role} for t in found.tensor_arrays],
        "cells": [{"scope": c.scope, "kind": c.kind, "kernel_shape": c.kernel_shape,
                   "gates": list(c.gates)} for c in found.cells],
        "concats": [{"name": c.name, "axis": c.axis} for c in found.concats],
        "strided_slices": [{"name": s.name, "slice": s.slice} for s in found.strided_slices],
    }, found


def summary_text(path: str, kind: str, data: dict, found) -> str:
    """Return the human-readable summary printed by ``inspect``."""
    from ..graphdef.walk import format_shape  # noqa: PLC0415

    def recorded(shape) -> str:
        return format_shape(shape, unknown="not recorded", scalar="not recorded")

    lines = [f"{path}: {_KIND_NAMES.get(kind, kind)}, {data['nodes']} nodes, {data['edges']} edges",
             "ops: " + ", ".join(f"{op} {n}" for op, n in data["ops"].items())]
    lines.append(f"while loops ({len(found.while_loops)}):")
    for w in found.while_loops:
        carries = ", ".join(v.carries for v in w.loop_vars)
        lines.append(f"  {w.name} ({w.control_flow}): {len(w.loop_vars)} loop variables "
                     f"({carries}), {len(w.invariants)} invariants, {len(w.body_nodes)} body nodes")
        lines.append(f"    condition: {w.condition or 'not found'}")
    lines.append(f"TensorArrays/TensorLists ({len(found.tensor_arrays)}):")
    lines += [f"  {t.name} ({t.kind}, {t.role}): size {t.size or '?'}, elements "
              f"{recorded(t.element_shape)}" for t in found.tensor_arrays]
    lines.append(f"cells ({len(found.cells)}):")
    for c in found.cells:
        gates = f", gates {' '.join(c.gates)}" if c.gates else ""
        copies = f", {len(c.instances)} unrolled copies" if len(c.instances) > 1 else ""
        bias = f", forget bias {c.forget_bias}" if c.forget_bias is not None else ""
        lines.append(f"  {c.scope}: {c.kind}, kernel {c.kernel} {recorded(c.kernel_shape)} "
                     f"({c.n_inputs} inputs, {c.n_neurons} neurons){gates}{bias}{copies}")
    lines.append(f"concats ({len(found.concats)}):")
    lines += [f"  {c.name} (axis {c.axis}): {c.meaning}" for c in found.concats]
    lines.append(f"strided slices ({len(found.strided_slices)}):")
    lines += [f"  {s.name} = {s.slice}" + (f" → {s.meaning}" if s.meaning else "")
              for s in found.strided_slices]
    for seq in found.sequence_length:
        lines.append(f"sequence_length: {seq.length} compared by {seq.compare}; zero outputs "
                     f"{', '.join(seq.zero_outputs)}; state copied by {', '.join(seq.copy_state)}")
    return "\n".join(lines) + "\n"


def run(args) -> int:
    from ..graphdef.walk import walk  # noqa: PLC0415
    from ..graphdef.loaders import load_graph_def  # noqa: PLC0415
    from .render import (check_graphviz, check_output, drawing_options, emit,  # noqa: PLC0415
                         resolve_format)

    fmt = None
    if args.render:
        fmt = resolve_format(args.format, args.render)
        check_graphviz(fmt)
        check_output(args.render)
    graph_def, kind = load_graph_def(args.file)
    G = walk(graph_def)
    data, found = summary(G)
    if args.json:
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
    else:
        sys.stdout.write(summary_text(args.file, kind, data, found))
    if args.tensorboard:
        from ..graphdef.tensorboard import write_graph_event  # noqa: PLC0415

        print(f"event file: {write_graph_event(args.tensorboard, graph_def)}", file=sys.stderr)
    if args.render:
        title = f"{Path(args.file).name} — {data['nodes']} nodes"
        path = emit(G, drawing_options(args, G, title), fmt, args.render, full=args.full)
        if path != "-":
            print(f"drawn: {path}", file=sys.stderr)
    return 0
