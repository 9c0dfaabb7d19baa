"""``rnngraph compare A B``: two graphs side by side in one page, recognised parts linked."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

from ..errors import UsageError
from .common import add_model_options, spec_from_args

__all__ = ["register", "parse_side"]

_HELP_SIDE = ("a model kind (static, dynamic) with optional field changes, e.g. "
              "'dynamic:control_flow=v2' or 'static:cell=lstm,steps=3', or a graph file "
              "(.pb, .pbtxt, SavedModel folder, .meta, event file)")


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "compare", help="two graphs side by side in one page, recognised parts linked",
        description="Draw two graphs side by side in one interactive page (static_rnn vs "
                    "dynamic_rnn, control flow v1 vs v2, one cell vs another, two graph files); "
                    "selecting a recognised part (cell, kernel, input split, loop) highlights its "
                    "partner. Prints the nodes per scope of each, added and removed.")
    parser.add_argument("a", metavar="A", help=_HELP_SIDE)
    parser.add_argument("b", metavar="B", help="the other graph, as A")
    add_model_options(parser, kind_positional=False)
    parser.add_argument("-o", "--output", default=None, metavar="PATH",
                        help="the page to write (default: compare-<A>-vs-<B>.html)")
    parser.add_argument("--no-cache", action="store_true",
                        help="build with TensorFlow even when a model was built before")
    parser.set_defaults(func=run)


def _value(text: str, current):
    """Return ``text`` converted like the field's current value (int, float, bool or text)."""
    if isinstance(current, bool):
        if text.lower() not in ("true", "false", "1", "0", "yes", "no"):
            raise UsageError(f"expected true or false, got {text!r}")
        return text.lower() in ("true", "1", "yes")
    for kind in (int, float):
        if isinstance(current, kind) or current is None:
            try:
                return kind(text)
            except ValueError:
                if current is not None:
                    raise UsageError(f"expected a number, got {text!r}") from None
    return text


def parse_side(text: str, base):
    """Return ``("spec", ModelSpec)`` or ``("file", Path)`` for one side of ``compare``.

    ``base`` is the ModelSpec the shared model options describe; ``KIND:field=value,...``
    changes its kind and fields.
    """
    from ..model.spec import KINDS, ModelSpec  # noqa: PLC0415

    kind, _, changes = text.partition(":")
    if kind in KINDS:
        fields = {f.name for f in dataclasses.fields(ModelSpec)}
        updates = {"kind": kind}
        for item in filter(None, changes.split(",")):
            name, eq, value = item.partition("=")
            name = name.strip().replace("-", "_")
            if not eq or name not in fields:
                raise UsageError(f"{item!r} in {text!r} is not FIELD=VALUE with a model field "
                                 f"(fields: {', '.join(sorted(fields - {'kind'}))})")
            updates[name] = _value(value.strip(), getattr(base, name))
        return "spec", base.replace(**updates)
    path = Path(text)
    if path.exists():
        return "file", path
    raise UsageError(f"{text!r} is neither a model kind ({', '.join(KINDS)}, optionally "
                     f"KIND:field=value,...) nor an existing graph file")


def _load(side: tuple, use_cache: bool) -> tuple:
    """Return (networkx graph, title, slug) of one side."""
    from ..graphdef.walk import walk  # noqa: PLC0415

    what, value = side
    if what == "file":
        from ..graphdef.loaders import load_graph_def  # noqa: PLC0415

        graph = walk(load_graph_def(value)[0])
        return graph, f"{value.name} — {graph.number_of_nodes()} nodes", value.stem
    from ..graphdef.protos import GraphDef  # noqa: PLC0415
    from ..model.cache import graph_def_for  # noqa: PLC0415
    from .render import title_of  # noqa: PLC0415

    data = graph_def_for(value, use_cache=use_cache, parse=GraphDef.FromString)[0]
    graph = walk(GraphDef.FromString(data))
    return graph, title_of(value, graph), value.slug()


def run(args) -> int:
    from ..draw.html import render_compare  # noqa: PLC0415
    from ..draw.pair import summary_text  # noqa: PLC0415
    from ..files import write_atomic  # noqa: PLC0415

    suffixes = {Path(args.a).suffix.lower(), Path(args.b).suffix.lower()}
    if ".tflite" in suffixes and suffixes & {".keras", ".h5"}:  # weights linked, as text
        from ..errors import VerificationError  # noqa: PLC0415
        from ..explain.tflite_compare import compare_text  # noqa: PLC0415

        keras_path, lite_path = sorted((args.a, args.b), key=lambda p: p.lower().endswith(".tflite"))
        report, ok = compare_text(keras_path, lite_path)
        sys.stdout.write(report)
        if not ok:
            raise VerificationError(f"the weights of {keras_path} and {lite_path} differ (see above)")
        return 0
    base = spec_from_args(_with_kind(args))
    sides = [parse_side(args.a, base), parse_side(args.b, base)]
    (graph_a, title_a, slug_a), (graph_b, title_b, slug_b) = (
        _load(side, not args.no_cache) for side in sides)
    page, linked = render_compare(graph_a, graph_b, title_a, title_b)
    output = args.output or f"compare-{slug_a}-vs-{slug_b}.html"
    from ..recognise.match import match_graphs, recognise_parts  # noqa: PLC0415

    matching = match_graphs(graph_a, graph_b, recognise_parts(graph_a), recognise_parts(graph_b))
    summary = summary_text(title_a, title_b, graph_a, graph_b, linked, matching.pairs)
    (sys.stderr if output == "-" else sys.stdout).write(summary)  # '-': the page goes to stdout
    path = write_atomic(output, page)
    if path != "-":
        print(path, file=sys.stdout)
    return 0


def _with_kind(args):
    """Return the parsed options with a kind, so the shared model options make a ModelSpec."""
    import argparse  # noqa: PLC0415

    values = dict(vars(args))
    values["kind"] = "dynamic"
    return argparse.Namespace(**values)
