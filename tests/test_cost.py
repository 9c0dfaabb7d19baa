"""growth --run: build time, one training pass and peak memory per variant and length."""

from __future__ import annotations

import pytest

from rnngraph.cli import main
from rnngraph.trace.cost import COST_FIELDS, CostRow, cost_csv, cost_table, crossover


def _row(variant, steps, train, peak=100, build=0.1):
    return CostRow(variant, steps, 10, build, train, peak, None)


def test_crossover_is_the_length_from_which_static_stays_dearer():
    rows = [_row("static", 1, 0.1), _row("static", 10, 0.3), _row("static", 100, 0.2),
            _row("static", 1000, 0.9),
            _row("dynamic", 1, 0.2), _row("dynamic", 10, 0.2), _row("dynamic", 100, 0.3),
            _row("dynamic", 1000, 0.5)]
    assert crossover(rows, "train_seconds") == 1000  # 10 is dearer, 100 not: not for good
    assert crossover(rows, "peak_bytes") is None


def test_table_and_csv():
    rows = [_row("static", 5, 0.0123, peak=2048), _row("dynamic-swap", 5, 0.002)]
    table = cost_table(rows).splitlines()
    assert table[0].split() == ["variant", "steps", "nodes", "build", "ms", "train", "pass", "ms",
                                "peak", "KiB"]
    assert table[2].split() == ["static", "5", "10", "100.0", "12.3", "2.0"]
    lines = cost_csv(rows).splitlines()
    assert lines[0] == ",".join(COST_FIELDS)
    assert lines[1] == "static,5,10,0.100000,0.012300,2048,"


@pytest.mark.tf
def test_measured_costs_grow_with_the_unrolled_copies():
    from rnngraph.model.spec import ModelSpec
    from rnngraph.trace.cost import measure_cost

    spec = ModelSpec(neurons=4)
    short = measure_cost(spec.replace(steps=2), "static", batch=4, repeats=1)
    long = measure_cost(spec.replace(steps=8), "static", batch=4, repeats=1)
    loop = measure_cost(spec.replace(steps=8), "dynamic-swap", batch=4, repeats=1)
    assert long.nodes > short.nodes and loop.nodes < long.nodes
    # The backward pass keeps every step's activations: more steps, more bytes held at once.
    assert long.peak_bytes > short.peak_bytes > 0
    assert loop.peak_bytes > 0 and loop.train_seconds > 0 and loop.device_peak_bytes is None


@pytest.mark.tf
def test_growth_run_command(tmp_path, capsys):
    csv = tmp_path / "run.csv"
    status = main(["growth", "--run", "--steps", "1,3", "--repeats", "1", "--batch", "2",
                   "--csv", str(csv)])
    out, err = capsys.readouterr()
    assert status == 0, err
    assert "dynamic-swap" in out and "one training pass: static_rnn costs more" in out
    rows = csv.read_text(encoding="utf-8").splitlines()
    assert len(rows) == 1 + 3 * 2
    assert {r.split(",")[0] for r in rows[1:]} == {"static", "dynamic", "dynamic-swap"}


@pytest.mark.tf
def test_swap_memory_reaches_the_gradient_stacks():
    from rnngraph.model.builder import build_graph
    from rnngraph.model.spec import ModelSpec

    def swapping(swap):
        built = build_graph(ModelSpec(head="series", steps=3), swap_memory=swap)
        pushes = [n for n in built.graph.as_graph_def().node if n.op == "StackPushV2"]
        assert pushes
        return {n.attr["swap_memory"].b for n in pushes}

    assert swapping(True) == {True} and swapping(False) == {False}


def test_readme_quotes_the_committed_measurements():
    """The README's answer is read from gallery/growth-run.csv, not typed from memory."""
    import csv
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    with open(root / "gallery" / "growth-run.csv", encoding="utf-8") as handle:
        rows = [CostRow(r["variant"], int(r["steps"]), int(r["nodes"]), float(r["build_seconds"]),
                        float(r["train_seconds"]), int(r["peak_bytes"]), None)
                for r in csv.DictReader(handle)]
    readme = (root / "README.md").read_text(encoding="utf-8")
    at = {(r.variant, r.steps): r for r in rows}
    static, dynamic, swap = at["static", 1000], at["dynamic", 1000], at["dynamic-swap", 1000]
    mib = [f"{r.peak_bytes / 2**20:.1f}" for r in (static, dynamic, swap)]
    assert f"| 1000 | {static.nodes:,} / {dynamic.nodes} |" in readme
    assert f"| {mib[0]} / {mib[1]} / {mib[2]} |" in readme
    assert f"**Memory: from {crossover(rows, 'peak_bytes')} steps on**" in readme
    assert f"**One training pass: from about {crossover(rows, 'train_seconds')} steps on**" in readme
    assert crossover(rows, "build_seconds") == 1 and "**Building: always**" in readme
