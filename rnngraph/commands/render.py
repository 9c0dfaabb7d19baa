"""``rnngraph render {static,dynamic}``: build a graph and draw it."""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from ..errors import GraphvizMissing, UsageError
from ..draw.output import FORMATS, GRAPHVIZ_FORMATS, dot_install_hint
from .common import add_model_options, spec_from_args

__all__ = ["register", "FOCUS_TOPICS", "add_drawing_options", "resolve_format"]

FOCUS_TOPICS = ("while_loop", "tensor_array", "concat", "strided_slice", "gates", "cell")


def depth_value(text: str) -> int:
    """Return ``--depth``'s value, refused by argparse (before anything is built) unless >= 0."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer >= 0, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be an integer >= 0, got {value}")
    return value


def check_output(output) -> None:
    """Refuse, before anything is built, an output path that cannot be written."""
    if output and output != "-":
        from ..files import output_kind  # noqa: PLC0415

        output_kind(output)


def add_drawing_options(parser: argparse.ArgumentParser) -> None:
    """Add the options that say how to draw (shared with ``inspect --render``)."""
    group = parser.add_argument_group("drawing")
    group.add_argument("--format", choices=FORMATS, default=None,
                       help="svg (default), png, pdf, dot, json or html (interactive page); "
                            "guessed from -o's extension")
    group.add_argument("--depth", type=depth_value, default=None, metavar="N",
                       help="collapse name scopes deeper than N into one box each")
    group.add_argument("--show-consts", action="store_true",
                       help="draw single-use constants instead of folding them into their consumer")
    group.add_argument("--color-by", choices=("kind", "device"), default="kind",
                       help="colour nodes by what they are (default) or by device")
    group.add_argument("--focus", choices=FOCUS_TOPICS, default=None,
                       help="draw only this structure plus one hop of context, annotated")
    group.add_argument("--annotate", action="store_true",
                       help="add the explanatory notes to the full view")
    group.add_argument("--full", action="store_true",
                       help="draw every node, even of huge graphs (unrolled steps are tiled)")
    group.add_argument("--expand-ends", action="store_true",
                       help="stack repeated step copies but draw the first and last in full")


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "render", help="build a TensorFlow RNN graph and draw it",
        description="Build the graph TensorFlow makes for a recurrent network and draw it "
                    "with Graphviz: name scopes as clusters, edges labelled with shapes.")
    add_model_options(parser)
    add_drawing_options(parser)
    parser.add_argument("-o", "--output", default=None, metavar="PATH",
                        help="output file ('-' for stdout); default: <kind>-<cell>-<steps>.<format>")
    parser.add_argument("--tensorboard", default=None, metavar="LOGDIR",
                        help="also write the graph as an event file for `tensorboard --logdir LOGDIR`")
    parser.set_defaults(func=run)


def resolve_format(fmt, output) -> str:
    """Return the output format: --format, else the extension of -o, else svg."""
    if fmt:
        return fmt
    if output and output != "-":
        suffix = Path(output).suffix.lower().lstrip(".")
        if suffix in FORMATS:
            return suffix
        if suffix:
            raise UsageError(f"cannot tell the format of {output!r} from '.{suffix}' "
                             f"(use --format, one of: {', '.join(FORMATS)})")
    return "svg"


def check_graphviz(fmt: str) -> None:
    """Fail early, before building anything, when ``fmt`` needs a missing ``dot``."""
    if fmt in GRAPHVIZ_FORMATS and shutil.which("dot") is None:
        raise GraphvizMissing(
            f"the Graphviz 'dot' program is not installed, so {fmt} cannot be drawn; "
            f"run `{dot_install_hint()}` (or use --format dot / --format json)")


def drawing_options(args, graph, title: str):
    """Return the RenderOptions asked for by the drawing options."""
    from ..draw.dot import RenderOptions  # noqa: PLC0415

    focus_nodes = annotations = labels = None
    if args.focus or args.annotate:
        from ..draw import focus  # noqa: PLC0415

        view = focus.focus_view(graph, args.focus) if args.focus else focus.annotate_all(graph)
        annotations, labels = view.annotations, view.labels
        if args.focus:
            focus_nodes = frozenset(view.nodes)
            title = f"{title}\nfocus: {args.focus}"
    options = RenderOptions(depth=args.depth, show_consts=args.show_consts, color_by=args.color_by,
                            focus_nodes=focus_nodes, annotations=annotations or {},
                            labels=labels or {}, title=title, group_steps=args.expand_ends,
                            expand_ends=args.expand_ends)
    if not args.full and args.depth is None:
        from ..draw.dot import plan_detail  # noqa: PLC0415

        options, summary = plan_detail(graph, options)
        if summary:
            print(f"rnngraph: {summary}", file=sys.stderr)
    return options


def title_of(spec, graph) -> str:
    """Return the diagram's title line, with counts read from the graph."""
    from ..graphdef.walk import top_level_nodes  # noqa: PLC0415

    from ..model.spec import CELL_CLASSES  # noqa: PLC0415

    cell = CELL_CLASSES[spec.cell] + (" (peepholes)" if spec.cell == "lstm-peephole" else "")
    parts = [f"{spec.kind}_rnn", cell + (f" ×{spec.layers} layers" if spec.layers > 1 else ""),
             f"{spec.steps} steps", f"{spec.inputs} inputs", f"{spec.neurons} neurons"]
    if spec.control_flow == "v2" and spec.kind == "dynamic":
        parts.append("control flow v2")
    return " · ".join(parts) + f" — {len(top_level_nodes(graph))} nodes"


def emit(graph, options, fmt: str, output: str, full: bool = False) -> str:
    """Draw ``graph`` in ``fmt`` and write it to ``output``; return the path written."""
    from ..draw.output import graph_json, run_graphviz  # noqa: PLC0415
    from ..files import write_atomic
    from ..draw.dot import drawing  # noqa: PLC0415

    if fmt == "json":
        return write_atomic(output, graph_json(graph))
    if fmt == "html":
        from ..draw.html import render_html  # noqa: PLC0415

        return write_atomic(output, render_html(graph, options, full=full))
    drawn = drawing(graph, options, full=full)
    if fmt == "dot":
        return write_atomic(output, drawn.dot)
    return write_atomic(output, run_graphviz(drawn.dot, fmt, drawn.engine, drawn.no_op))


def run(args) -> int:
    spec = spec_from_args(args)
    fmt = resolve_format(args.format, args.output)
    check_graphviz(fmt)
    output = args.output or f"{spec.slug()}.{fmt}"
    check_output(output)
    from ..model.builder import build_graph  # noqa: PLC0415 (imports TensorFlow)
    from ..graphdef.walk import walk  # noqa: PLC0415

    built = build_graph(spec)
    graph = walk(built)
    if args.tensorboard:
        from ..graphdef.tensorboard import write_graph_event  # noqa: PLC0415

        print(write_graph_event(args.tensorboard, built), file=sys.stdout)
    path = emit(graph, drawing_options(args, graph, title_of(spec, graph)), fmt, output,
                full=args.full)
    if path != "-":
        print(path, file=sys.stdout)
    return 0
