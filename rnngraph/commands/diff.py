"""``rnngraph diff A B``: what changed between two graphs, matched by structure, told by recognised part.

Exit status as ``diff``: 0 when the structures are identical and no compared
weight differs, 1 when the structure or a weight differs, 2 on usage errors.
"""

from __future__ import annotations

import json
import sys
from typing import Optional

from ..errors import UsageError
from .common import add_model_options, spec_from_args
from .compare import _HELP_SIDE, _with_kind, parse_side

__all__ = ["register", "load_side", "run_diff", "draw_diff"]

_PICTURES = ("html", "svg", "png", "pdf", "dot")


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "diff", help="what changed between two graphs, matched by structure",
        description="Match the nodes of two graphs by structure (recognised cells, loops, "
                    "TensorArrays and variables first, then the data flow, names only to break "
                    "ties) and report what is renamed, changed, added and removed, by recognised "
                    "part; when both files hold values (frozen graphs, SavedModels with their "
                    "checkpoint or a .meta beside one, .keras and .h5 files, .tflite files with int8 "
                    "weights dequantised), the largest and mean absolute difference of each matched "
                    "weight of equal shape. Exit status: 0 when the structure is identical and no "
                    "compared weight differs, 1 when the structure or a weight differs, 2 on a "
                    "usage error.")
    parser.add_argument("a", metavar="A", help=_HELP_SIDE)
    parser.add_argument("b", metavar="B", help="the other graph, as A")
    add_model_options(parser, kind_positional=False)
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--format", choices=_PICTURES, default=None,
                        help="also draw the diff: html (both side by side, linked) or B coloured "
                             "(svg, png, pdf, dot)")
    parser.add_argument("-o", "--output", default=None, metavar="PATH",
                        help="the picture to write (default: diff-<A>-vs-<B>.<format>)")
    parser.add_argument("--no-cache", action="store_true",
                        help="build with TensorFlow even when a model was built before")
    parser.set_defaults(func=run)


def load_side(side: tuple, use_cache: bool) -> tuple:
    """Return (GraphDef, networkx graph, title, slug, FileWeights or None) of one side.

    A model spec is built with variables, so it holds no values (None).
    """
    from ..graphdef.protos import GraphDef  # noqa: PLC0415
    from ..graphdef.walk import walk  # noqa: PLC0415

    what, value = side
    if what == "file":
        from ..graphdef.loaders import load_graph_def  # noqa: PLC0415

        from ..graphdef.weights import file_weights  # noqa: PLC0415

        graph_def, kind = load_graph_def(value)
        graph = walk(graph_def)
        return (graph_def, graph, f"{value.name} — {graph.number_of_nodes()} nodes", value.stem,
                file_weights(value, kind, graph_def, graph))
    from ..model.cache import graph_def_for  # noqa: PLC0415
    from .render import title_of  # noqa: PLC0415

    graph_def = GraphDef.FromString(graph_def_for(value, use_cache=use_cache)[0])
    graph = walk(graph_def)
    return graph_def, graph, title_of(value, graph), value.slug(), None


def run_diff(graph_def_a, graph_a, graph_def_b, graph_b, held: Optional[tuple] = None) -> tuple:
    """Return (report, matching, findings of A, findings of B) of two loaded graphs.

    ``held`` is (FileWeights or None, FileWeights or None) as :func:`load_side` reads them;
    left out, a frozen GraphDef's constants are its values.
    """
    from ..explain.diff import diff_report, weight_differences  # noqa: PLC0415
    from ..graphdef.weights import graph_weights  # noqa: PLC0415
    from ..recognise.match import match_graphs, recognise_parts  # noqa: PLC0415

    found_a, found_b = recognise_parts(graph_a), recognise_parts(graph_b)
    matching = match_graphs(graph_a, graph_b, found_a, found_b)
    held_a, held_b = held if held is not None else (graph_weights(graph_def_a), graph_weights(graph_def_b))
    weights = None
    if held_a is not None and held_b is not None:
        weights = weight_differences(held_a.values, held_b.values, matching.pairs)
        notes = [(("A and B" if n in held_b.notes else "A"), n) for n in held_a.notes]
        notes += [("B", n) for n in held_b.notes if n not in held_a.notes]
        weights.update(sources={"a": held_a.source, "b": held_b.source},
                       notes=[f"{who}: {note}" for who, note in notes])
    elif held_a is not None or held_b is not None:  # a graph with variables holds only initialisers
        weights = {"compared": 0, "differ": [], "not_compared":
                   f"{'B' if held_a is not None else 'A'} holds no values (a graph with variables "
                   f"keeps only their initialisers; a SavedModel, a Keras or .tflite file, or a "
                   f"frozen graph holds them)"}
    return diff_report(graph_a, graph_b, found_a, found_b, matching, weights), matching, found_a, found_b


def draw_diff(def_a, title_a: str, def_b, title_b: str, fmt: str) -> tuple:
    """Return ``(picture bytes, report)`` of the diff of two GraphDefs (the gallery's figures)."""
    from ..graphdef.walk import walk  # noqa: PLC0415

    graph_a, graph_b = walk(def_a), walk(def_b)
    report, matching, _, _ = run_diff(def_a, graph_a, def_b, graph_b)
    return _picture(fmt, graph_a, graph_b, title_a, title_b, report, matching), report


def _picture(fmt: str, graph_a, graph_b, title_a: str, title_b: str, report: dict, matching) -> bytes:
    """Return the picture of the diff: the linked page (html) or B coloured by status."""
    from ..draw.diffstyle import changed_scopes, diff_overlay  # noqa: PLC0415
    from ..draw.dot import RenderOptions  # noqa: PLC0415
    from ..explain.diff import node_status  # noqa: PLC0415

    status_a, status_b, notes = node_status(matching, graph_a, graph_b, report.get("weights"))
    removed = report["summary"]["removed"]
    if fmt == "html":
        from ..draw.html import render_compare  # noqa: PLC0415

        links = [{"title": f"changed: {notes[b]}" if b in notes else f"same node: {a} ↔ {b}",
                  "a": [a], "b": [b]}
                 for a, b in matching.pairs.items() if b in notes or a != b]
        page, _ = render_compare(graph_a, graph_b, title_a, title_b,
                                 RenderOptions(overlay=diff_overlay(status_a, "a")),
                                 RenderOptions(overlay=diff_overlay(status_b, "b")),
                                 extra_links=links[:5000],
                                 open_scopes=(changed_scopes(status_a), changed_scopes(status_b)))
        return page.encode("utf-8")
    from ..draw.dot import drawing  # noqa: PLC0415
    from ..draw.output import run_graphviz  # noqa: PLC0415

    title = (f"diff: {title_b.splitlines()[0]}\nagainst A: {title_a.splitlines()[0]}"
             + (f"\n{removed} node{'s' if removed != 1 else ''} of A removed (not drawn)" if removed else ""))
    options = RenderOptions(title=title, overlay=diff_overlay(status_b, "b"),
                            labels={b: note for b, note in notes.items()},
                            open_scopes=frozenset(changed_scopes(status_b)))  # unchanged stay closed
    drawn = drawing(graph_b, options)
    if fmt == "dot":
        return drawn.dot.encode("utf-8")
    return run_graphviz(drawn.dot, fmt, drawn.engine, drawn.no_op)


def run(args) -> int:
    from ..explain.diff import diff_text  # noqa: PLC0415
    from ..files import write_atomic  # noqa: PLC0415

    if args.output and not args.format:
        raise UsageError("-o/--output writes the picture: add --format html, svg, png, pdf or dot")
    if args.format in ("svg", "png", "pdf"):
        from .render import check_graphviz  # noqa: PLC0415

        check_graphviz(args.format)
    base = spec_from_args(_with_kind(args))
    sides = [parse_side(args.a, base), parse_side(args.b, base)]
    (def_a, graph_a, title_a, slug_a, held_a), (def_b, graph_b, title_b, slug_b, held_b) = (
        load_side(side, not args.no_cache) for side in sides)
    report, matching, _, _ = run_diff(def_a, graph_a, def_b, graph_b, (held_a, held_b))
    if args.format:
        output = args.output or f"diff-{slug_a}-vs-{slug_b}.{args.format}"
        path = write_atomic(output, _picture(args.format, graph_a, graph_b, title_a, title_b,
                                             report, matching))
        if path != "-":
            print(path, file=sys.stderr)
    if args.json:
        sys.stdout.write(json.dumps(report, indent=1, sort_keys=False, default=str) + "\n")
    elif args.output != "-":
        sys.stdout.write(diff_text(report, title_a.splitlines()[0], title_b.splitlines()[0]))
    return 0 if report["summary"]["same"] else 1
