"""``rnngraph inspect FILE``: summarise (and optionally draw) any GraphDef, without TensorFlow."""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from pathlib import Path

__all__ = ["register", "summary", "summary_text"]

_KIND_NAMES = {"graphdef": "GraphDef (binary)", "graphdef-text": "GraphDef (text)",
               "savedmodel": "SavedModel", "metagraph": "MetaGraphDef",
               "events": "TensorBoard event file", "tflite": "LiteRT flatbuffer", "keras": "Keras archive (layer view)",
               "h5": "Keras HDF5 (layer view)", "keras-ops": "Keras file (op view, traced)"}


def register(subparsers) -> None:
    from .render import add_drawing_options  # noqa: PLC0415 (argparse only, no TensorFlow)

    parser = subparsers.add_parser(
        "inspect", help="summarise a GraphDef, SavedModel, .meta or event file (no TensorFlow)",
        description="Read a graph from a file (.pb, .pbtxt, SavedModel directory, .meta, "
                    "TensorBoard event file, Keras .keras/.h5) and list its node and edge counts, ops by count "
                    "and every recognised RNN structure. Nothing from the file is executed.")
    parser.add_argument("file", help="the graph file or SavedModel directory")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.add_argument("--render", metavar="OUT", default=None,
                        help="also draw the graph to OUT ('-' for stdout: the summary then goes "
                             "to stderr); .pb/.pbtxt write the GraphDef read")
    add_drawing_options(parser)
    from .keras_view import add_view_option  # noqa: PLC0415

    add_view_option(parser, linked=True)
    parser.add_argument("--tensorboard", default=None, metavar="LOGDIR",
                        help="also write the graph as an event file for `tensorboard --logdir LOGDIR`")
    parser.set_defaults(func=run)


def summary(G) -> tuple:
    """Return (the ``inspect --json`` summary, always the same keys; the findings) of a walked graph."""
    from ..graphdef.walk import top_level_nodes  # noqa: PLC0415
    from ..recognise import recognise  # noqa: PLC0415
    from ..recognise.calls import find_function_calls, shared_loops  # noqa: PLC0415
    from ..recognise.tflite import find_tflite_cells, is_tflite_graph  # noqa: PLC0415
    from .cell_summary import cell_json  # noqa: PLC0415

    nodes = set(top_level_nodes(G))
    edges = sum(1 for s, d in G.edges() if s in nodes and d in nodes)
    ops = Counter(G.nodes[n]["op"] for n in nodes)
    found = recognise(G)
    # A loop inside a function called from two places (Keras 3's two serving
    # signatures) is one loop: keep one entry and list the callers.
    found.while_loops, shared = shared_loops(G, found.while_loops)
    found.shared_loops = shared
    found.function_calls = find_function_calls(G)
    found.tflite_cells = find_tflite_cells(G) if is_tflite_graph(G) else []
    found.graph_for_tflite = G
    from ..graphdef.walk import walk_notes  # noqa: PLC0415

    return {
        "nodes": len(nodes),
        "edges": edges,
        "ops": dict(sorted(ops.items(), key=lambda kv: (-kv[1], kv[0]))),
        "while_loops": [{"name": w.name, "control_flow": w.control_flow,
                         "loop_vars": len(w.loop_vars), "invariants": len(w.invariants),
                         "body_nodes": len(w.body_nodes)} for w in found.while_loops],
        "tensor_arrays": [{"name": t.name, "role": t.role} for t in found.tensor_arrays],
        "cells": [cell_json(c) for c in found.cells],
        "concats": [{"name": c.name, "axis": c.axis} for c in found.concats],
        "strided_slices": [{"name": s.name, "slice": s.slice} for s in found.strided_slices],
        "shared_loops": [{"name": loop.name, "function": loop.site[0], "callers": loop.callers,
                          "copies": loop.copies} for loop in shared.values()],
        "function_calls": [{"name": c.name, "op": c.op, "kind": c.kind, "functions": c.functions,
                            "branches": c.branches, "inputs": c.inputs, "outputs": c.outputs,
                            "condition": c.condition, "in_function": c.in_function,
                            "implements": c.implements, "implementation": c.implementation,
                            "callers": c.callers} for c in found.function_calls],
        "tflite_cells": [c.as_dict() for c in found.tflite_cells],
        # What the file holds, as TensorFlow parses it: top-level nodes and library functions'.
        "file_nodes": dict(G.graph.get("file_nodes", {})),
        "recursion": G.graph.get("recursion", []),
        "unexpanded_calls": len(G.graph.get("unexpanded_calls", [])),
        "notes": walk_notes(G),
    }, found


def grouped_lines(items: list, min_group: int = 3) -> list:
    """Return one text line per (name, text) item, alike items folded into one line.

    Items whose names differ only in a trailing ``_N`` (``concat``, ``concat_1``, ...)
    and whose text is the same are listed as "first … last (N alike)text", so a
    1,000-step static graph does not print 1,000 near-identical lines.
    """
    groups: dict = {}
    for name, text in items:
        groups.setdefault((re.sub(r"_\d+$", "", name), text), []).append(name)
    lines = []
    for (_, text), names in groups.items():
        if len(names) >= min_group:
            lines.append(f"  {names[0]} … {names[-1]} ({len(names)} alike){text}")
        else:
            lines += [f"  {name}{text}" for name in names]
    return lines


def _call_line(call) -> str:
    """Return the text summary line of one function call site."""
    if call.kind == "if":
        what = f"then {call.functions[0]}, else {call.functions[1]}" if len(call.functions) == 2 \
            else ", ".join(call.functions)
    elif call.kind == "case":
        what = f"{call.branches} branches: " + ", ".join(call.functions)
    else:
        what = "calls " + ", ".join(call.functions or ["(no function)"])
    parts = [what]
    if call.condition:
        parts.append(f"{'condition' if call.kind == 'if' else 'branch index'} {call.condition}")
    parts.append(f"{call.inputs} inputs, {call.outputs} outputs")
    if call.in_function:
        parts.append(f"inside {call.in_function}")
    if call.implements:
        pair = ", ".join(f"{i['function']} ({i['device'] or 'any device'})"
                         for i in call.implementation if i["role"] == "implementation")
        gradients = sum(1 for i in call.implementation if i["role"] == "gradient")
        parts.append(f"implements {call.implements}" + (f": {pair}" if pair else "")
                     + (f" (and {gradients} gradient functions)" if gradients else ""))
    if len(call.callers) > 1:
        parts.append(f"one definition reached through {len(call.callers)} callers "
                     f"({', '.join(call.callers)})")
    return f"  {call.name} ({call.op}): " + "; ".join(parts)


def summary_text(path: str, kind: str, data: dict, found) -> str:
    """Return the human-readable summary printed by ``inspect``."""
    from ..graphdef.walk import format_shape  # noqa: PLC0415
    from .cell_summary import cell_lines  # noqa: PLC0415

    def recorded(shape) -> str:
        return format_shape(shape, unknown="not recorded", scalar="not recorded")

    held = data.get("file_nodes", {}).get("functions", 0)
    library = f" (and {held} in its function library)" if held else ""
    lines = [f"{path}: {_KIND_NAMES.get(kind, kind)}, {data['nodes']} nodes{library}, "
             f"{data['edges']} edges",
             "ops: " + ", ".join(f"{op} {n}" for op, n in data["ops"].items())]
    lines.append(f"while loops ({len(found.while_loops)}):")
    shared = getattr(found, "shared_loops", {})
    for w in found.while_loops:
        carries = ", ".join(v.carries for v in w.loop_vars)
        lines.append(f"  {w.name} ({w.control_flow}): {len(w.loop_vars)} loop variables "
                     f"({carries}), {len(w.invariants)} invariants, {len(w.body_nodes)} body nodes")
        if w.name in shared:
            callers = shared[w.name].callers
            # In a SavedModel each top-level call is a signature's entry (test_inspect_reach
            # checks this against the signature_defs); elsewhere they are just calls.
            why = " (a SavedModel's signatures each call it)" if kind == "savedmodel" else ""
            lines.append(f"    one loop, defined once in {shared[w.name].site[0]}, reached through "
                         f"{len(callers)} top-level calls{why}: {', '.join(callers)}")
        lines.append(f"    condition: {w.condition or 'not found'}")
    lines.append(f"TensorArrays/TensorLists ({len(found.tensor_arrays)}):")
    lines += [f"  {t.name} ({t.kind}, {t.role}): size {t.size or '?'}, elements "
              f"{recorded(t.element_shape)}" for t in found.tensor_arrays]
    lines.append(f"cells ({len(found.cells)}):")
    for c in found.cells:
        lines += cell_lines(c, recorded)
    lite = getattr(found, "tflite_cells", [])
    if lite:
        from ..explain.tflite import cell_lines as tflite_lines  # noqa: PLC0415

        lines.append(f"LiteRT cells ({len(lite)}):")
        for cell in lite:
            lines += tflite_lines(cell, found.graph_for_tflite)
    lines.append(f"concats ({len(found.concats)}):")
    lines += grouped_lines([(c.name, f" (axis {c.axis}): {c.meaning}") for c in found.concats])
    lines.append(f"strided slices ({len(found.strided_slices)}):")
    lines += grouped_lines([(s.name, f" = {s.slice}" + (f" → {s.meaning}" if s.meaning else ""))
                            for s in found.strided_slices])
    calls = getattr(found, "function_calls", [])
    lines.append(f"function calls ({len(calls)}):")
    lines += [_call_line(c) for c in calls]
    lines += [f"note: {note}" for note in data.get("notes", [])]
    for seq in found.sequence_length:
        lines.append(f"sequence_length: {seq.length} compared by {seq.compare}; zero outputs "
                     f"{', '.join(seq.zero_outputs)}; state copied by {', '.join(seq.copy_state)}")
    # Names come from the file: no control character or escape sequence reaches the terminal.
    from ..draw.statements import visible_controls  # noqa: PLC0415

    # walk's function-body keys (rnn/while/body::/x) as people read them (rnn/while ▸ body ▸ x)
    from ..graphdef.names import display_text  # noqa: PLC0415

    return visible_controls(display_text("\n".join(lines))) + "\n"


def _load(path: str):
    """Return (GraphDef, kind) of ``path``, saying on stderr which event file a log dir gave."""
    from ..graphdef.loaders import load_graph_def, resolve_log_dir  # noqa: PLC0415

    folder = Path(path)
    if folder.is_dir() and not any((folder / n).is_file()
                                   for n in ("saved_model.pb", "saved_model.pbtxt")):
        chosen, note = resolve_log_dir(folder)
        print(f"rnngraph: {note}", file=sys.stderr)
        graph_def, _ = load_graph_def(chosen)
        return graph_def, "events"
    return load_graph_def(path)


def run(args) -> int:
    from ..graphdef.library import function_attrs  # noqa: PLC0415
    from ..graphdef.walk import walk  # noqa: PLC0415
    from .render import (check_graphviz, check_output, drawing_options, emit,  # noqa: PLC0415
                         report_hidden, resolve_format)
    from ..draw.output import GRAPHDEF_FORMATS  # noqa: PLC0415

    fmt = None
    if args.render:
        fmt = resolve_format(args.format, args.render)
        check_graphviz(fmt)
        check_output(args.render)
    model = None
    from .keras_view import chosen_view  # noqa: PLC0415

    view = chosen_view(args, args.file, fmt)
    if view == "linked":
        from .keras_linked import load_linked  # noqa: PLC0415

        graph_def, kind, model, view = load_linked(args, _load)
    elif view == "ops":
        from .keras_view import op_view  # noqa: PLC0415

        graph_def, kind, model = op_view(args.file)
    else:
        graph_def, kind = _load(args.file)
    G = walk(graph_def)
    G.graph["function_attrs"] = function_attrs(graph_def)
    data, found = summary(G)
    # With --render - stdout carries only the drawing; the summary goes to stderr.
    summary_out = sys.stderr if args.render == "-" else sys.stdout
    if args.json:
        summary_out.write(json.dumps(data, indent=2) + "\n")
    else:
        summary_out.write(summary_text(args.file, kind, data, found))
        if kind in ("keras", "h5", "keras-ops"):
            from .keras_view import keras_lines  # noqa: PLC0415

            summary_out.write("\n".join(keras_lines(args.file, kind, found, model)) + "\n")
        if view == "linked":
            from .keras_linked import linked_lines  # noqa: PLC0415

            summary_out.write("\n".join(linked_lines(G, model)) + "\n")
    if args.tensorboard:
        from ..graphdef.tensorboard import write_graph_event  # noqa: PLC0415

        print(f"event file: {write_graph_event(args.tensorboard, graph_def)}", file=sys.stderr)
    if args.render:
        title = f"{Path(args.file).name} — {data['nodes']} nodes"
        if data["notes"]:  # the drawing says what it leaves out too
            title += " (" + "; ".join(note.partition(":")[0] for note in data["notes"]) + ")"
        options = None if fmt in GRAPHDEF_FORMATS else drawing_options(args, G, title)
        if view == "linked":
            from .keras_linked import write_linked  # noqa: PLC0415

            path = write_linked(G, model, options, args.render)
        else:
            path = emit(G, options, fmt, args.render, full=args.full, graph_def=graph_def,
                        open_scopes=args.open, depth=args.depth)
        report_hidden(G, options)
        if path != "-":
            print(f"{'written' if fmt in GRAPHDEF_FORMATS else 'drawn'}: {path}", file=sys.stderr)
    return 0
