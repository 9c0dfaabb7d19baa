"""What unrolling costs, measured: build time, one training pass, peak memory, per step count.

For ``growth --run``: static_rnn, dynamic_rnn and dynamic_rnn with
``swap_memory=True``, each with a training head (loss, gradients, Adam), so
one run is a forward and a backward pass.  Peak memory is the most bytes
the step held at once, from the allocator records of a FULL_TRACE run (on a
GPU, also the allocator's own peak, ``tf.config.experimental.get_memory_info``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable, Iterable, Optional, Sequence

__all__ = ["CostRow", "VARIANTS", "COST_FIELDS", "measure_cost", "measure_costs", "cost_table",
           "cost_csv", "plot_costs", "crossover"]

VARIANTS = ("static", "dynamic", "dynamic-swap")  # swap: dynamic_rnn(swap_memory=True)
COST_FIELDS = ("variant", "steps", "nodes", "build_seconds", "train_seconds", "peak_bytes",
               "device_peak_bytes")


@dataclass(frozen=True)
class CostRow:
    """One variant at one length: what building it and one training pass cost."""

    variant: str
    steps: int
    nodes: int
    build_seconds: float
    train_seconds: float  # best of the repeats after a warm-up: forward + backward + Adam
    peak_bytes: int  # most bytes live at once during the traced pass (allocator records)
    device_peak_bytes: Optional[int]  # the device allocator's peak (GPU), None where not kept


def measure_cost(spec, variant: str, batch: int = 32, repeats: int = 3, seed: int = 0) -> CostRow:
    """Return the costs of ``spec`` built as ``variant`` (its own fresh graph and Session)."""
    from ..model.builder import build_graph  # noqa: PLC0415
    from ..model.tfcompat import tf  # noqa: PLC0415
    from . import record, session  # noqa: PLC0415

    t = tf()
    kind = "static" if variant == "static" else "dynamic"
    spec = spec.replace(kind=kind, head="series" if spec.head == "none" else spec.head)
    built = build_graph(spec, swap_memory=(variant == "dynamic-swap"))
    nodes = len(built.graph.as_graph_def().node)
    feeds = session.random_feeds(built, batch, seed)
    fetches = session.fetches_of(built, train=True)
    gpu = bool(t.config.list_logical_devices("GPU"))
    with t.compat.v1.Session(graph=built.graph, config=session.session_config()) as sess:
        sess.run(built.tensors["init"])
        sess.run(fetches, feeds)  # warm-up: Grappler and the kernels' first calls
        best = float("inf")
        for _ in range(repeats):
            started = time.perf_counter()
            sess.run(fetches, feeds)
            best = min(best, time.perf_counter() - started)
        device_peak = None
        if gpu:
            t.config.experimental.reset_memory_stats("GPU:0")
        traced = session.run_traced(built, feeds, fetches, session=sess)
        if gpu:
            device_peak = int(t.config.experimental.get_memory_info("GPU:0")["peak"])
    return CostRow(variant=variant, steps=spec.steps, nodes=nodes,
                   build_seconds=built.build_seconds, train_seconds=best,
                   peak_bytes=record.peak_bytes(traced.step_stats), device_peak_bytes=device_peak)


def measure_costs(spec, steps: Sequence[int], batch: int = 32, repeats: int = 3,
                  progress: Optional[Callable[[str, int], None]] = None) -> list:
    """Return one CostRow per variant and step count (``spec.kind`` and ``spec.steps`` ignored)."""
    from ..model.builder import build_graph  # noqa: PLC0415

    # TensorFlow's lazy imports (gradients, Adam included), paid once before any row is timed.
    build_graph(spec.replace(kind="static", steps=1,
                             head="series" if spec.head == "none" else spec.head))
    rows = []
    for variant in VARIANTS:
        for count in steps:
            if progress is not None:
                progress(variant, count)
            rows.append(measure_cost(spec.replace(steps=count), variant, batch, repeats))
    return rows


def cost_table(rows: Iterable[CostRow]) -> str:
    """Return the rows as an aligned text table (ms and KiB)."""
    header = ("variant", "steps", "nodes", "build ms", "train pass ms", "peak KiB")
    body = [(r.variant, str(r.steps), str(r.nodes), f"{r.build_seconds * 1000:.1f}",
             f"{r.train_seconds * 1000:.1f}", f"{r.peak_bytes / 1024:.1f}") for r in rows]
    widths = [max(len(line[i]) for line in [header, *body]) for i in range(len(header))]
    lines = ["  ".join([line[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(line[1:], widths[1:])])
             for line in [header, *body]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines) + "\n"


def cost_csv(rows: Iterable[CostRow]) -> str:
    """Return the rows as CSV text (seconds, bytes)."""
    from ..growth import csv_text  # noqa: PLC0415

    return csv_text(COST_FIELDS, ((r.variant, r.steps, r.nodes, f"{r.build_seconds:.6f}",
                                   f"{r.train_seconds:.6f}", r.peak_bytes,
                                   "" if r.device_peak_bytes is None else r.device_peak_bytes)
                                  for r in rows))


def crossover(rows: Iterable[CostRow], field: str, low: str = "dynamic", high: str = "static"):
    """Return the first step count from which ``high`` costs more than ``low`` in ``field`` for good."""
    rows = list(rows)
    mine = {r.steps: getattr(r, field) for r in rows if r.variant == high}
    other = {r.steps: getattr(r, field) for r in rows if r.variant == low}
    common = sorted(set(mine) & set(other))
    first = None
    for count in common:
        if mine[count] > other[count]:
            first = count if first is None else first
        else:
            first = None
    return first


def plot_costs(rows: Sequence[CostRow], title: str):
    """Return a matplotlib Figure: build time, training pass time and peak memory against steps."""
    from matplotlib.figure import Figure  # noqa: PLC0415

    figure = Figure(figsize=(13, 4.6), layout="constrained")
    axes = figure.subplots(1, 3)
    panels = ((axes[0], "graph build time", "build time (s)", lambda r: r.build_seconds),
              (axes[1], "one training pass (forward + backward + Adam)", "time (ms)",
               lambda r: r.train_seconds * 1000),
              (axes[2], "peak memory during the pass", "MiB (allocator records)",
               lambda r: r.peak_bytes / 2**20))
    styles = {"static": dict(color="tab:red", marker="o"),
              "dynamic": dict(color="tab:blue", marker="s"),
              "dynamic-swap": dict(color="tab:green", marker="^", linestyle="--")}
    labels = {"static": "static_rnn (unrolled)", "dynamic": "dynamic_rnn",
              "dynamic-swap": "dynamic_rnn, swap_memory=True"}
    for ax, name, ylabel, value in panels:
        for variant in VARIANTS:
            mine = sorted((r for r in rows if r.variant == variant), key=lambda r: r.steps)
            if mine:
                ax.plot([r.steps for r in mine], [value(r) for r in mine], label=labels[variant],
                        **styles[variant])
        ax.set_title(name, fontsize=10)
        ax.set_ylabel(ylabel)
        ax.set_xlabel("time steps")
        ax.set_xlim(left=0)
        ax.set_ylim(bottom=0)
        ax.grid(True, alpha=0.3)
        ax.legend(loc="upper left", fontsize=8)
    figure.suptitle(title)
    return figure
