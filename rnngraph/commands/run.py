"""``rnngraph run {static,dynamic}``: run the graph once with TensorFlow's full trace."""

from __future__ import annotations

import argparse
import sys

from ..errors import UsageError
from .common import add_model_options, spec_from_args

__all__ = ["register"]

PAGE_FORMATS = ("text", "html")
OPTIMIZED_FORMATS = ("svg", "png", "pdf", "dot", "html")


def _int_in(low: int, high: int):
    """Return an argparse type: an int from ``low`` to ``high``."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"invalid int value: {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be from {low} to {high}, got {value}")
        return value
    return parse


_positive = _int_in(1, 4096)


DEFAULT_TIMEOUT = 60.0
DEFAULT_ITERATIONS = 100_000


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid number of seconds: {text!r}") from None
    if not 0 < value <= 86400:
        raise argparse.ArgumentTypeError(f"must be more than 0 and at most 86400, got {text}")
    return value


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "run", help="run the graph once with the full trace: ops per iteration, time, memory, values",
        description="Build the graph, run it once on random input (seeded) with "
                    "RunOptions(trace_level=FULL_TRACE), and report per iteration of the loop "
                    "(per step copy when unrolled) which ops ran, for how long, on which device, "
                    "and the values of the loop variables, gates and TensorArray slots. A graph "
                    "FILE runs only if every op in it is pure computation (--allow-op admits "
                    "more), in a child process stopped after --timeout seconds or "
                    "--max-iterations loop iterations.")
    parser.add_argument("target", metavar="{static,dynamic}|FILE",
                        help="build static_rnn or dynamic_rnn from the model options, or run the "
                             "graph in FILE (.pb, .pbtxt, SavedModel, .meta; float inputs only)")
    add_model_options(parser, kind_positional=False)
    group = parser.add_argument_group("running")
    group.add_argument("--batch", type=_positive, default=2, help="rows of random input (default: 2)")
    group.add_argument("--seed", type=int, default=0, help="seed of the random input (default: 0)")
    group.add_argument("--input", choices=("random", "series", "mnist"), default="random",
                       help="random values (default), windows of the training series (--inputs 1) "
                            "or MNIST test digits, a pixel row per step (--steps 28 --inputs 28)")
    group.add_argument("--device", default=None, metavar="DEV",
                       help="place every op on this device, e.g. /cpu:0 or /gpu:0")
    group.add_argument("--no-values", action="store_true",
                       help="skip recording tensor values (timing and placement only)")
    safety = parser.add_argument_group("running a graph file (safe by default)")
    safety.add_argument("--allow-op", action="append", default=[], metavar="NAME",
                        help="admit one more op kind (repeatable); by default a file runs only if "
                             "every op in it, and in its functions, is pure computation (no files, "
                             "network, processes or Python)")
    safety.add_argument("--timeout", type=_seconds, default=DEFAULT_TIMEOUT, metavar="SECONDS",
                        help=f"stop a graph file still running after this long "
                             f"(default: {DEFAULT_TIMEOUT:g})")
    safety.add_argument("--max-iterations", type=_int_in(1, 1 << 40), default=DEFAULT_ITERATIONS,
                        metavar="N", help=f"stop when a while loop wants more than N iterations "
                                          f"(default: {DEFAULT_ITERATIONS})")
    out = parser.add_argument_group("output")
    out.add_argument("--trace", default=None, metavar="PATH",
                     help="write the trace here (JSON; '-' for stdout); default: <model>.trace.json")
    out.add_argument("--format", choices=PAGE_FORMATS, default="text",
                     help="text: the table only (default); html: also the step-through page")
    out.add_argument("-o", "--output", default=None, metavar="PATH",
                     help="the step-through page (--format html); default: <model>-run.html")
    out.add_argument("--optimized", default=None, metavar="PATH",
                     help="draw the graph after Grappler, as the run reported it (.svg, .png, .pdf, "
                          ".dot or .html), and print what changed")
    parser.set_defaults(func=run)


def _optimized_format(path: str) -> str:
    suffix = path.rpartition(".")[2].lower() if "." in path else ""
    if suffix not in OPTIMIZED_FORMATS:
        raise UsageError(f"cannot tell the format of --optimized {path!r} "
                         f"(end it in one of: {', '.join('.' + f for f in OPTIMIZED_FORMATS)})")
    return suffix


def _runs(items: list) -> str:
    """Return ``a, b, b, b`` as ``a, b ×3`` (long loops would print one word per iteration)."""
    groups: list = []
    for item in items:
        if groups and groups[-1][0] == item:
            groups[-1][1] += 1
        else:
            groups.append([item, 1])
    return ", ".join(f"{item} ×{count}" if count > 1 else str(item) for item, count in groups)


def _slots(slots: list) -> str:
    """Return ``0, 1, 2, 3`` as ``0–3`` when the slots were filled in order."""
    if len(slots) > 2 and slots == list(range(slots[0], slots[0] + len(slots))):
        return f"{slots[0]}–{slots[-1]}, in order"
    return ", ".join(str(s) for s in slots)


def _loop_lines(document: dict) -> list:
    """Return what Merge took and where Switch sent the value, iteration by iteration."""
    recorded = document["values"]
    lines = []
    for name, taken in sorted(recorded.get("merges", {}).items())[:1]:
        lines.append(f"{name} took: " + _runs([t.rpartition("/")[2] for t in taken]))
    for name, sides in sorted(recorded.get("switches", {}).items())[:1]:
        where = {"true": "the body (true)", "false": "Exit (false)"}
        lines.append(f"{name} sent its value to: {_runs([where.get(s, s) for s in sides])}")
    for name, slots in sorted(recorded.get("tensor_arrays", {}).items()):
        lines.append(f"{name} filled slots " + _slots([s["slot"] for s in slots]))
    return lines


def _check_folder(path) -> None:
    """Fail before running when ``path`` could not be written afterwards."""
    from pathlib import Path  # noqa: PLC0415

    from ..errors import OutputError  # noqa: PLC0415

    if path and path != "-" and not Path(path).parent.is_dir():
        raise OutputError(f"cannot write {path}: folder {Path(path).parent} does not exist")


def _target(args):
    """Return (spec, None) for static/dynamic, (None, path) for a graph file, and the file stem."""
    from pathlib import Path  # noqa: PLC0415

    from ..model.spec import KINDS  # noqa: PLC0415

    if args.target in KINDS:
        spec = spec_from_args(argparse.Namespace(**{**vars(args), "kind": args.target}))
        return spec, None, spec.slug()
    path = Path(args.target)
    if not path.exists():
        raise UsageError(f"{args.target!r} is neither a kind (static, dynamic) nor an existing "
                         "graph file")
    return None, str(path), path.name.partition(".")[0] or "graph"


def run(args) -> int:
    spec, path, stem = _target(args)
    if args.output and args.format != "html":
        raise UsageError("-o names the step-through page: add --format html")
    if args.optimized:
        _optimized_format(args.optimized)
    trace_path = args.trace or f"{stem}.trace.json"
    page_path = (args.output or f"{stem}-run.html") if args.format == "html" else None
    for path_out in (trace_path, page_path, args.optimized):
        _check_folder(path_out)  # before running, not after
    from ..files import write_atomic  # noqa: PLC0415
    from ..trace import record  # noqa: PLC0415
    from ..trace.runner import trace_file, trace_json, trace_model  # noqa: PLC0415

    options = dict(batch=args.batch, seed=args.seed, device=args.device,
                   watch_values=not args.no_values)
    if spec is None and args.input != "random":
        raise UsageError(f"--input {args.input} feeds a model built from the options, not a graph file")
    if spec is None and not getattr(args, "isolated", False):
        _check_file(path, args.allow_op)  # refused here, before TensorFlow starts
        from .sandbox import run_isolated  # noqa: PLC0415

        return run_isolated(args, path, args.timeout)
    traced = trace_model(spec, source=args.input, **options) if spec is not None \
        else trace_file(path, allow_ops=args.allow_op, max_iterations=args.max_iterations, **options)
    doc = traced.document
    print(record.format_table(doc["table"], doc["iterations"], doc["unit"]), end="")
    devices = sorted({r["device"] for r in doc["nodes"].values() if r["device"]})
    steps = f" (steps: {spec.steps})" if spec is not None else ""
    counted = f"{doc['unit']}s: {doc['iterations']}{steps}" if doc["iterations"] or spec else \
        "no while loop and no unrolled steps found"
    produced = sum(row["bytes"] for row in doc["table"])
    print(f"{counted}; ran on {', '.join(devices)}; step {doc['step_micros']} µs")
    print(f"memory: at most {doc['peak_bytes']} bytes were allocated at once during the step "
          f"(allocator records);\nthe table's output bytes add up every output each op produced, "
          f"{produced} in all, counting buffers freed before the peak and outputs that share a "
          "buffer with their input")
    for line in _loop_lines(doc):
        print(line)
    trace_path = write_atomic(trace_path, trace_json(doc))
    if trace_path != "-":
        print(trace_path)
    title = _title(spec, path, traced.graph)
    if args.format == "html":
        print(_page(args, stem, title, traced))
    if args.optimized:
        print(_optimized(args, title, traced))
    return 0


def _check_file(path: str, allowed: list) -> None:
    from ..graphdef.loaders import load_graph_def  # noqa: PLC0415
    from ..graphdef.runpolicy import check_runnable  # noqa: PLC0415

    check_runnable(load_graph_def(path)[0], path, allowed)


def _title(spec, path, graph) -> str:
    from .render import title_of  # noqa: PLC0415

    return title_of(spec, graph) if spec is not None else f"{path} — {graph.number_of_nodes()} nodes"


def _page(args, stem: str, title: str, traced) -> str:
    from ..draw.html import render_html  # noqa: PLC0415
    from ..draw.stepthrough import stepthrough_html  # noqa: PLC0415
    from ..files import write_atomic  # noqa: PLC0415
    from .render import check_graphviz  # noqa: PLC0415
    from ..draw.dot import RenderOptions  # noqa: PLC0415
    from ..draw.overlay import overlay_from_trace  # noqa: PLC0415

    check_graphviz("svg")
    options = RenderOptions(title=title + "\nrun: compute time per node",
                            overlay=overlay_from_trace(traced.document, "time"))
    # Every scope open: the slider lights up the ops that ran, so they must be boxes of their own.
    deepest = max((name.count("/") + 1 for name in traced.graph), default=1)
    page = render_html(traced.graph, options, depth=deepest, addon=stepthrough_html(traced.document))
    return write_atomic(args.output or f"{stem}-run.html", page)


def _optimized(args, title: str, traced) -> str:
    from ..draw.dot import RenderOptions  # noqa: PLC0415
    from ..graphdef.walk import walk  # noqa: PLC0415
    from ..trace.optimized import format_changes, merged_partitions  # noqa: PLC0415
    from .render import check_graphviz, emit  # noqa: PLC0415

    fmt = _optimized_format(args.optimized)
    check_graphviz(fmt)
    print(format_changes(traced.document["optimized"]), end="")
    graph = walk(merged_partitions(traced.partition_graphs))
    title += "\nafter Grappler (the partition graphs the run executed)"
    from ..draw.dot import plan_detail  # noqa: PLC0415

    options, summary = plan_detail(graph, RenderOptions(title=title))
    if summary:
        print(f"rnngraph: {summary}", file=sys.stderr)
    return emit(graph, options, fmt, args.optimized)
