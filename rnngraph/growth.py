"""How a graph grows with its steps: static (unrolled) against dynamic (while loop), measured.

:func:`measure_growth` builds both kinds at each length in a fresh ``tf.Graph``
and measures them; :func:`format_table`, :func:`rows_csv` and
:func:`growth_summary` are pure text over the rows; :func:`plot_growth` draws
them with matplotlib and :func:`write_plot` writes the picture.  TensorFlow,
NumPy and matplotlib are imported only by the functions that need them.
"""

from __future__ import annotations

import io
import time
from pathlib import PurePath
from dataclasses import dataclass
from typing import Callable, Iterable, Optional, Sequence

from .errors import UsageError
from .model.spec import KINDS, ModelSpec

__all__ = ["GrowthRow", "MAX_STEPS", "PLOT_FORMATS", "CSV_FIELDS", "parse_steps",
           "measure_growth", "measure_one", "format_table", "rows_csv", "growth_summary",
           "plot_growth", "plot_format", "write_plot", "machine_line"]

MAX_STEPS = 5000  # a 5,000-step static LSTM already has ~85,000 nodes
PLOT_FORMATS = ("png", "svg")
CSV_FIELDS = ("kind", "steps", "nodes", "edges", "graphdef_bytes", "build_seconds",
              "forward_seconds")


@dataclass(frozen=True)
class GrowthRow:
    """What one graph (one kind, one length) measured."""

    kind: str
    steps: int
    nodes: int  # GraphDef nodes, including those inside function bodies (v2 While)
    edges: int  # node inputs, data and control
    graphdef_bytes: int  # serialized GraphDef, as tf.io.write_graph would save it
    build_seconds: float
    forward_seconds: float  # best of the repeats, after one warm-up run


def parse_steps(text: str) -> tuple[int, ...]:
    """Return the step counts of a comma-separated list such as ``1,2,5``, ascending."""
    parts = [part.strip() for part in text.split(",")]
    if not any(parts):
        raise UsageError(f"empty --steps list {text!r} (expected e.g. 1,2,5,10)")
    seen: set[int] = set()
    for part in parts:
        try:
            value = int(part)
        except ValueError:
            raise UsageError(f"--steps: {part!r} is not an integer "
                             f"(expected a list of integers from 1 to {MAX_STEPS}, e.g. 1,2,5)") from None
        if not 1 <= value <= MAX_STEPS:
            raise UsageError(f"--steps: {value} is out of range (each must be from 1 to {MAX_STEPS})")
        if value in seen:
            raise UsageError(f"--steps: {value} is given twice (list each length once)")
        seen.add(value)
    return tuple(sorted(seen))


def _graph_counts(graph_def) -> tuple[int, int]:
    """Return (nodes, edges) of a GraphDef, the function library's bodies included."""
    node_defs = list(graph_def.node)
    for function in graph_def.library.function:
        node_defs.extend(function.node_def)
    return len(node_defs), sum(len(node_def.input) for node_def in node_defs)


def measure_one(spec: ModelSpec, batch: int = 32, repeats: int = 5, seed: int = 0) -> GrowthRow:
    """Return the measurements of the graph of ``spec`` (built in its own fresh tf.Graph)."""
    import numpy as np  # noqa: PLC0415

    from .model.builder import build_graph  # noqa: PLC0415 (imports TensorFlow)
    from .model.tfcompat import tf  # noqa: PLC0415

    built = build_graph(spec)
    graph_def = built.graph.as_graph_def()
    nodes, edges = _graph_counts(graph_def)
    tensors = built.tensors
    x = np.random.default_rng(seed).random((batch, spec.steps, spec.inputs), dtype=np.float32)
    if "X" in tensors:
        feeds = {tensors["X"]: x}
    else:  # static with one placeholder per step
        feeds = {placeholder: x[:, i] for i, placeholder in enumerate(tensors["X_list"])}
    if "seq_length" in tensors:
        feeds[tensors["seq_length"]] = np.full(batch, spec.steps, dtype=np.int32)
    outputs = tensors["outputs"] if tensors["outputs"] is not None else tensors["output_list"]
    # The first run pays for Grappler's optimisation of the graph, the later
    # ones only for the kernels: time those, and keep the best of a few.
    with tf().compat.v1.Session(graph=built.graph) as session:
        session.run(tensors["init"])
        session.run(outputs, feeds)
        best = float("inf")
        for _ in range(repeats):
            started = time.perf_counter()
            session.run(outputs, feeds)
            best = min(best, time.perf_counter() - started)
    return GrowthRow(kind=spec.kind, steps=spec.steps, nodes=nodes, edges=edges,
                     graphdef_bytes=graph_def.ByteSize(), build_seconds=built.build_seconds,
                     forward_seconds=best)


def measure_growth(spec: ModelSpec, steps: Sequence[int], batch: int = 32, repeats: int = 5,
                   progress: Optional[Callable[[str, int], None]] = None) -> list[GrowthRow]:
    """Return one row per kind (static, dynamic) and step count, measured with ``spec``'s model.

    ``spec.kind`` and ``spec.steps`` are ignored; every other field applies.
    """
    if batch < 1 or repeats < 1:
        raise UsageError(f"batch and repeats must be at least 1, got {batch} and {repeats}")
    specs = [spec.replace(kind=kind, steps=count) for kind in KINDS for count in steps]
    # The first build in a process also pays for lazy imports inside
    # TensorFlow; build one small graph first so no row carries that cost.
    from .model.builder import build_graph  # noqa: PLC0415

    build_graph(spec.replace(kind="static", steps=1))
    rows = []
    for each in specs:
        if progress is not None:
            progress(each.kind, each.steps)
        rows.append(measure_one(each, batch=batch, repeats=repeats))
    return rows


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


def format_table(rows: Iterable[GrowthRow]) -> str:
    """Return the rows as an aligned text table (times in milliseconds), one line per row."""
    header = ("kind", "steps", "nodes", "edges", "GraphDef bytes", "build ms", "forward ms")
    body = [(r.kind, str(r.steps), str(r.nodes), str(r.edges), str(r.graphdef_bytes),
             _ms(r.build_seconds), _ms(r.forward_seconds)) for r in rows]
    widths = [max(len(line[i]) for line in [header, *body]) for i in range(len(header))]

    def line(cells) -> str:
        first = cells[0].ljust(widths[0])
        rest = (cell.rjust(width) for cell, width in zip(cells[1:], widths[1:]))
        return "  ".join([first, *rest])

    lines = [line(header), "  ".join("-" * w for w in widths)]
    previous = None
    for cells in body:
        if previous is not None and cells[0] != previous:
            lines.append("")
        lines.append(line(cells))
        previous = cells[0]
    return "\n".join(lines) + "\n"


def csv_text(fields: Sequence[str], records: Iterable[Sequence]) -> str:
    """Return ``records`` as CSV text under a header line of ``fields``."""
    import csv  # noqa: PLC0415

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(fields)
    writer.writerows(records)
    return buffer.getvalue()


def rows_csv(rows: Iterable[GrowthRow]) -> str:
    """Return the rows as CSV text with a header line (times in seconds)."""
    return csv_text(CSV_FIELDS, ((r.kind, r.steps, r.nodes, r.edges, r.graphdef_bytes,
                                  f"{r.build_seconds:.6f}", f"{r.forward_seconds:.6f}") for r in rows))


def _per_step(rows: list[GrowthRow]) -> str:
    """Return '+17 per step' when the counts are exactly linear, else '≈ +16.8 per step'."""
    first, last = rows[0], rows[-1]
    slope = (last.nodes - first.nodes) / (last.steps - first.steps)
    exact = all((r.nodes - first.nodes) == slope * (r.steps - first.steps) for r in rows)
    if exact and slope == int(slope):
        return f"+{int(slope)} per step"
    return f"≈ {slope:+.1f} per step"


def _steps(count: int) -> str:
    return f"{count} step" if count == 1 else f"{count} steps"


def _kind_summary(kind: str, rows: list[GrowthRow]) -> str:
    rows = sorted(rows, key=lambda r: r.steps)
    first, last = rows[0], rows[-1]
    if len(rows) == 1:
        return f"{kind}: {first.nodes} nodes at {_steps(first.steps)}"
    if all(r.nodes == first.nodes for r in rows):
        return f"{kind}: constant {first.nodes} nodes from {first.steps} to {last.steps} steps"
    return (f"{kind}: {first.nodes} nodes at {_steps(first.steps)}, {last.nodes} at {last.steps} "
            f"({_per_step(rows)})")


def growth_summary(rows: Iterable[GrowthRow]) -> str:
    """Return one sentence on how the node counts grow, e.g. for ``explain`` to quote.

    For example ``static: 88 nodes at 2 steps, 394 at 20 (+17 per step);
    dynamic: constant 166 nodes from 2 to 20 steps``.
    """
    rows = list(rows)
    parts = [_kind_summary(kind, [r for r in rows if r.kind == kind])
             for kind in KINDS if any(r.kind == kind for r in rows)]
    return "; ".join(parts)


def machine_line() -> str:
    """Return a short description of this machine and TensorFlow (no host name)."""
    import os  # noqa: PLC0415
    import platform  # noqa: PLC0415

    from .model.tfcompat import tf  # noqa: PLC0415

    cpus = os.cpu_count() or 0
    return f"{platform.system()} {platform.machine()}, {cpus} CPUs, TensorFlow {tf().__version__}"


def plot_growth(rows: Sequence[GrowthRow], title: str):
    """Return a matplotlib Figure: nodes, GraphDef size, build and forward time against steps."""
    from matplotlib.figure import Figure  # noqa: PLC0415 (no pyplot: no GUI backend, no state)

    figure = Figure(figsize=(11, 8), layout="constrained")
    axes = figure.subplots(2, 2, sharex=True)
    panels = (
        (axes[0][0], "nodes", "nodes in the GraphDef", lambda r: r.nodes),
        (axes[0][1], "GraphDef size", "serialized GraphDef (KiB)", lambda r: r.graphdef_bytes / 1024),
        (axes[1][0], "graph build time", "build time (ms)", lambda r: r.build_seconds * 1000),
        (axes[1][1], "forward run (best of repeats)", "forward time (ms)",
         lambda r: r.forward_seconds * 1000),
    )
    styles = {"static": dict(color="tab:red", marker="o"), "dynamic": dict(color="tab:blue", marker="s")}
    labels = {"static": "static_rnn (unrolled)", "dynamic": "dynamic_rnn (while loop)"}
    for ax, name, ylabel, value in panels:
        for kind in KINDS:
            mine = sorted((r for r in rows if r.kind == kind), key=lambda r: r.steps)
            if mine:
                ax.plot([r.steps for r in mine], [value(r) for r in mine], label=labels[kind],
                        **styles[kind])
        ax.set_title(name)
        ax.set_ylabel(ylabel)
        ax.set_ylim(bottom=0)
        ax.grid(True, alpha=0.3)
        ax.legend(loc="upper left")
    # A linear x axis, so that linear growth shows as a straight line.
    for ax in axes[1]:
        ax.set_xlabel("time steps")
        ax.set_xlim(left=0)
    figure.suptitle(title)
    return figure


def write_plot(figure, path: str) -> str:
    """Write ``figure`` to ``path`` as PNG or SVG (by its extension); return the path written."""
    from .files import write_atomic  # noqa: PLC0415

    fmt = plot_format(path)
    buffer = io.BytesIO()
    # SVG without a date stamp, so the same figures give the same file.
    metadata = {"Date": None} if fmt == "svg" else {"Software": None}
    figure.savefig(buffer, format=fmt, dpi=110, metadata=metadata)
    return write_atomic(path, buffer.getvalue())


def plot_format(path: str) -> str:
    """Return ``png`` or ``svg`` from the extension of ``path``."""
    suffix = PurePath(path).suffix.lower().lstrip(".")
    if suffix not in PLOT_FORMATS:
        raise UsageError(f"cannot tell the plot format of {path!r} "
                         f"(end it in one of: {', '.join('.' + f for f in PLOT_FORMATS)})")
    return suffix
