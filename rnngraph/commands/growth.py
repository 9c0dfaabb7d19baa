"""``rnngraph growth``: how static and dynamic graphs grow with the steps, measured here."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..errors import OutputError
from ..growth import MAX_STEPS, parse_steps, plot_format
from .common import add_model_options, spec_from_args

__all__ = ["register", "DEFAULT_STEPS"]

DEFAULT_STEPS = "1,2,5,10,20,50,100,200"


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid int value: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "growth", help="measure how static and dynamic graphs grow with the steps",
        conflict_handler="resolve",
        description="Build static_rnn and dynamic_rnn graphs of each length, each in a fresh "
                    "tf.Graph, and measure nodes, edges, GraphDef size, build time and the "
                    "time of one forward run; print a table, optionally write CSV and a plot.")
    add_model_options(parser, kind_positional=False, kind_default="static")
    # Replaces the model options' single --steps (the parser resolves the clash).
    parser.add_argument("--steps", default=DEFAULT_STEPS, metavar="LIST",
                        help=f"comma-separated step counts, each 1 to {MAX_STEPS} "
                             f"(default: {DEFAULT_STEPS})")
    timing = parser.add_argument_group("measuring")
    timing.add_argument("--batch", type=_positive_int, default=32,
                        help="rows of random input in the forward run (default: 32)")
    timing.add_argument("--repeats", type=_positive_int, default=5,
                        help="timed forward runs after one warm-up; the best counts (default: 5)")
    timing.add_argument("--run", action="store_true",
                        help="measure running instead: build time, one training pass (forward + "
                             "backward) and peak memory, for static_rnn, dynamic_rnn and dynamic_rnn "
                             "with swap_memory=True")
    out = parser.add_argument_group("output")
    out.add_argument("--csv", default=None, metavar="PATH", help="write the rows as CSV")
    out.add_argument("--plot", default=None, metavar="PATH",
                     help="draw counts and times against steps (.png or .svg)")
    parser.set_defaults(func=run)


def _check_folder(path: str) -> None:
    """Fail before measuring when ``path`` could not be written afterwards."""
    folder = Path(path).parent
    if not folder.is_dir():
        raise OutputError(f"cannot write {path}: folder {folder} does not exist")


def _progress(kind: str, steps: int) -> None:
    print(f"\rmeasuring {kind} {steps} steps ...   ", end="",
          file=getattr(sys.stderr, "raw", sys.stderr), flush=True)


def run(args) -> int:
    steps = parse_steps(args.steps)
    # Validate every model field (and the longest length) before importing TensorFlow.
    spec = spec_from_args(argparse.Namespace(**{**vars(args), "steps": steps[-1]}))
    if args.plot:
        plot_format(args.plot)
        _check_folder(args.plot)
    if args.csv and args.csv != "-":
        _check_folder(args.csv)

    from .. import growth  # noqa: PLC0415

    interactive = sys.stderr.isatty()
    if args.run:
        return _run_costs(args, spec, steps, interactive)
    rows = growth.measure_growth(spec, steps, batch=args.batch, repeats=args.repeats,
                                 progress=_progress if interactive else None)
    if interactive:
        print("\r\033[K", end="", file=getattr(sys.stderr, "raw", sys.stderr), flush=True)
    print(growth.format_table(rows), end="")
    print(growth.growth_summary(rows))
    return _write_outputs(args, spec, "static_rnn vs dynamic_rnn", lambda: growth.rows_csv(rows),
                          lambda title: growth.plot_growth(rows, title))


def _write_outputs(args, spec, heading: str, csv_text, figure) -> int:
    """Write ``--csv`` and ``--plot`` (figure: title -> matplotlib figure) and print their paths."""
    from .. import growth  # noqa: PLC0415
    from ..files import write_atomic  # noqa: PLC0415

    if args.csv:
        path = write_atomic(args.csv, csv_text())
        if path != "-":
            print(path)
    if args.plot:
        layers = f" ×{spec.layers} layers" if spec.layers > 1 else ""
        title = (f"{heading} · {spec.cell}{layers} · {spec.inputs} inputs · "
                 f"{spec.neurons} neurons · batch {args.batch}\n{growth.machine_line()}")
        print(growth.write_plot(figure(title), args.plot))
    return 0


def _run_costs(args, spec, steps, interactive: bool) -> int:
    """``growth --run``: the cost of one training pass per variant and length."""
    from ..trace import cost  # noqa: PLC0415

    rows = cost.measure_costs(spec, steps, batch=args.batch, repeats=args.repeats,
                              progress=_progress if interactive else None)
    if interactive:
        print("\r\033[K", end="", file=getattr(sys.stderr, "raw", sys.stderr), flush=True)
    print(cost.cost_table(rows), end="")
    for field, what in (("train_seconds", "one training pass"), ("peak_bytes", "peak memory"),
                        ("build_seconds", "building")):
        first = cost.crossover(rows, field)
        print(f"{what}: static_rnn costs more than dynamic_rnn "
              + (f"from {first} steps on" if first else "at none of the measured lengths"))
    return _write_outputs(args, spec, "cost of one training pass", lambda: cost.cost_csv(rows),
                          lambda title: cost.plot_costs(rows, title))
