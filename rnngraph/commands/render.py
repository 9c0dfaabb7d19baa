"""``rnngraph render {static,dynamic}``: build a graph and draw it."""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from ..errors import GraphvizMissing, UsageError
from ..draw.output import FORMATS, GRAPHVIZ_FORMATS, dot_install_hint
from .common import add_model_options, spec_from_args

__all__ = ["register", "FOCUS_TOPICS", "add_drawing_options", "resolve_format", "report_hidden"]

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
                       help="svg (default), png, pdf, dot, json, html (interactive page), "
                            "or pb / pbtxt (the GraphDef itself, binary or text, for other "
                            "tools); guessed from -o's extension")
    group.add_argument("--depth", type=depth_value, default=None, metavar="N",
                       help="collapse name scopes deeper than N into one box each")
    group.add_argument("--show-consts", action="store_true",
                       help="draw single-use constants instead of folding them into their consumer")
    group.add_argument("--show-init", action="store_true",
                       help="draw the auxiliary machinery too: variable initializers, "
                            "is-initialized tests, the init op, saver and summary ops, unused "
                            "constants (hidden by default)")
    group.add_argument("--color-by", choices=("kind", "device"), default="kind",
                       help="colour nodes by what they are (default) or by device")
    group.add_argument("--focus", choices=FOCUS_TOPICS, default=None,
                       help="draw only this structure plus one hop of context, annotated")
    group.add_argument("--annotate", action="store_true",
                       help="add the explanatory notes to the full view")
    group.add_argument("--full", action="store_true",
                       help="draw every node, even of huge graphs (unrolled steps are tiled)")
    group.add_argument("--open", action="append", default=None, metavar="SCOPE",
                       help="html: open this name scope (and what holds it) when the page opens; "
                            "repeat for more")
    group.add_argument("--expand-ends", action="store_true",
                       help="stack repeated step copies but draw the first and last in full")
    group.add_argument("--overlay", default=None, metavar="WHAT",
                       help="colour nodes by a measured value: time, memory, device or count "
                            "(from --trace, or from running the graph once), or FILE.json "
                            "mapping node names to numbers or texts")
    group.add_argument("--trace", default=None, metavar="FILE",
                       help="trace written by `rnngraph run` that --overlay reads")


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "render", help="build a TensorFlow RNN graph and draw it",
        description="Build the graph TensorFlow makes for a recurrent network and draw it "
                    "with Graphviz: name scopes as clusters, edges labelled with shapes.")
    add_model_options(parser)
    add_drawing_options(parser)
    parser.add_argument("-o", "--output", default=None, metavar="PATH",
                        help="output file ('-' for stdout); default: <kind>-<cell>-<steps>.<format>")
    parser.add_argument("--no-cache", action="store_true",
                        help="build with TensorFlow even when this model was built before "
                             "(builds are cached in $XDG_CACHE_HOME/rnngraph)")
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


def overlay_of(args, run=None):
    """Return the Overlay asked for by --overlay (None without it).

    A measure (time, memory, device, count) is read from ``--trace``, else
    from ``run()``, which runs the graph and returns its trace document.
    """
    what = getattr(args, "overlay", None)
    if not what:
        if getattr(args, "trace", None):
            raise UsageError("--trace is read by --overlay: add --overlay time, memory, device or count")
        return None
    from ..draw.overlay import MEASURES, overlay_from_json, overlay_from_trace  # noqa: PLC0415

    if what not in MEASURES:
        if what.lower().endswith(".json"):
            return overlay_from_json(what)
        raise UsageError(f"unknown overlay {what!r} (choose one of: {', '.join(MEASURES)}, "
                         "or a .json file of node name -> value)")
    if getattr(args, "trace", None):
        from ..trace.runner import read_trace  # noqa: PLC0415

        return overlay_from_trace(read_trace(args.trace), what)
    if run is None:
        raise UsageError(f"--overlay {what} needs --trace FILE for a graph file "
                         "(write one with `rnngraph run`)")
    return overlay_from_trace(run(), what)


def drawing_options(args, graph, title: str, run=None):
    """Return the RenderOptions asked for by the drawing options (``run``: see overlay_of)."""
    from ..draw.dot import RenderOptions  # noqa: PLC0415

    focus_nodes = annotations = labels = None
    folds, rankdir, beside, after = {}, "TB", None, ()
    if args.focus or args.annotate:
        from ..draw import focus  # noqa: PLC0415

        view = focus.focus_view(graph, args.focus) if args.focus else focus.annotate_all(graph)
        annotations, labels = view.annotations, view.labels
        if args.focus:
            focus_nodes = frozenset(view.nodes)
            title = f"{title}\nfocus: {args.focus}"
            folds, rankdir, beside = view.folds, view.rankdir, view.notes_beside
            after = tuple(view.after)
    options = RenderOptions(depth=args.depth, show_consts=args.show_consts, color_by=args.color_by,
                            focus_nodes=focus_nodes, annotations=annotations or {},
                            labels=labels or {}, title=title, group_steps=args.expand_ends,
                            expand_ends=args.expand_ends, overlay=overlay_of(args, run),
                            show_init=getattr(args, "show_init", False),
                            open_scopes=_story(graph, args, focus_nodes), folds=folds, notes_beside=beside, after=after,
                            rankdir=rankdir)
    if not args.full and args.depth is None:
        from ..draw.dot import plan_detail  # noqa: PLC0415

        options, summary = plan_detail(graph, options)
        if summary:
            print(f"rnngraph: {summary}", file=sys.stderr)
    return options


def report_hidden(graph, options) -> None:
    """Say on stderr, once the drawing is written, which auxiliary nodes it left out."""
    if options is None:
        return
    from ..draw.dot import hidden_text  # noqa: PLC0415

    hidden = hidden_text(graph, options)
    if hidden:
        print(f"rnngraph: {hidden}", file=sys.stderr)


def _story(graph, args, focus_nodes):
    """Return the scopes a depth-less drawing opens (the loop and the cell), else None (all)."""
    if args.depth is not None or focus_nodes is not None or args.annotate or args.full \
            or getattr(args, "overlay", None):
        return None
    from ..draw.roles import story_scopes  # noqa: PLC0415

    return frozenset(story_scopes(graph)) or None


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


def emit(graph, options, fmt: str, output: str, full: bool = False, graph_def=None,
         open_scopes=(), depth=None) -> str:
    """Draw ``graph`` in ``fmt`` and write it to ``output``; return the path written.

    ``pb`` / ``pbtxt`` write ``graph_def`` (the GraphDef ``graph`` was walked from); html pages
    open ``open_scopes``, or the scopes up to ``depth`` (else readable).
    """
    from ..draw.output import (GRAPHDEF_FORMATS, fields_text_leaves_out,  # noqa: PLC0415
                               graph_def_bytes, graph_json, run_graphviz)
    from ..files import write_atomic
    from ..draw.dot import drawing  # noqa: PLC0415

    if open_scopes and (fmt != "html" or full):
        raise UsageError(f"--open applies to --format html pages laid out in the browser, "
                         f"not to {'--full' if full else fmt}")
    if fmt in GRAPHDEF_FORMATS:
        from ..graphdef.walk import as_graph_def  # noqa: PLC0415

        message = as_graph_def(graph_def)
        left_out = fields_text_leaves_out(message) if fmt == "pbtxt" else 0
        if left_out:
            print(f"rnngraph: pbtxt leaves out fields rnngraph does not read (such as "
                  f"experimental_type) on {left_out} nodes; --format pb keeps them",
                  file=sys.stderr)
        return write_atomic(output, graph_def_bytes(message, fmt))
    if fmt == "json":
        return write_atomic(output, graph_json(graph))
    if fmt == "html":
        from ..draw.html import render_html  # noqa: PLC0415

        return write_atomic(output, render_html(graph, options, full=full,
                                                open_scopes=tuple(open_scopes or ()), depth=depth))
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
    from ..model.cache import graph_def_for  # noqa: PLC0415 (TensorFlow only on a cache miss)
    from ..graphdef.walk import walk  # noqa: PLC0415

    from ..graphdef.protos import GraphDef  # noqa: PLC0415

    data, built = graph_def_for(spec, use_cache=not (args.no_cache or args.tensorboard),
                                parse=GraphDef.FromString)
    graph_def = GraphDef.FromString(data)
    graph = walk(graph_def)
    if args.tensorboard:
        from ..graphdef.tensorboard import write_graph_event  # noqa: PLC0415

        print(write_graph_event(args.tensorboard, built), file=sys.stdout)

    def run_once() -> dict:
        from ..trace.runner import trace_model  # noqa: PLC0415

        return trace_model(spec, watch_values=False).document

    from ..draw.output import GRAPHDEF_FORMATS  # noqa: PLC0415

    options = (None if fmt in GRAPHDEF_FORMATS
               else drawing_options(args, graph, title_of(spec, graph), run_once))
    path = emit(graph, options, fmt, output, full=args.full, graph_def=graph_def,
                open_scopes=args.open, depth=args.depth)
    report_hidden(graph, options)
    if path != "-":
        print(path, file=sys.stdout)
    return 0
