"""`rnngraph growth`: measured rows, table and summary text, CLI errors, CSV and plot files."""

import csv
import io

import pytest

from rnngraph.cli import main
from rnngraph.errors import UsageError
from rnngraph.growth import (CSV_FIELDS, GrowthRow, format_table, growth_summary, parse_steps,
                             plot_format, rows_csv)
from rnngraph.model.spec import ModelSpec

TINY = dict(cell="lstm", inputs=2, neurons=2)


def row(kind, steps, nodes, build=0.0123, forward=0.00045):
    return GrowthRow(kind=kind, steps=steps, nodes=nodes, edges=nodes + 10,
                     graphdef_bytes=nodes * 100, build_seconds=build, forward_seconds=forward)


ROWS = [row("static", 2, 88), row("static", 20, 394, build=0.1), row("dynamic", 2, 166),
        row("dynamic", 20, 166)]


def test_parse_steps_sorts_and_accepts_spaces():
    assert parse_steps("20, 1,5") == (1, 5, 20)
    assert parse_steps("5000") == (5000,)


@pytest.mark.parametrize("text,pattern", [
    ("", "empty --steps list ''"),
    (" , ", "empty --steps list"),
    ("0,x", "0 is out of range (each must be from 1 to 5000)"),
    ("1,x", "'x' is not an integer"),
    ("1,,2", "'' is not an integer"),
    ("5001", "5001 is out of range"),
    ("2,3,2", "2 is given twice"),
])
def test_parse_steps_rejects(text, pattern):
    with pytest.raises(UsageError, match=pattern.replace("(", r"\(").replace(")", r"\)")):
        parse_steps(text)


def test_format_table_exact():
    assert format_table(ROWS) == (
        "kind     steps  nodes  edges  GraphDef bytes  build ms  forward ms\n"
        "-------  -----  -----  -----  --------------  --------  ----------\n"
        "static       2     88     98            8800      12.3         0.5\n"
        "static      20    394    404           39400     100.0         0.5\n"
        "\n"
        "dynamic      2    166    176           16600      12.3         0.5\n"
        "dynamic     20    166    176           16600      12.3         0.5\n")


def test_rows_csv_header_and_values():
    parsed = list(csv.DictReader(io.StringIO(rows_csv(ROWS))))
    assert tuple(parsed[0]) == CSV_FIELDS
    assert parsed[1] == {"kind": "static", "steps": "20", "nodes": "394", "edges": "404",
                         "graphdef_bytes": "39400", "build_seconds": "0.100000",
                         "forward_seconds": "0.000450"}


def test_growth_summary():
    assert growth_summary(ROWS) == ("static: 88 nodes at 2 steps, 394 at 20 (+17 per step); "
                                    "dynamic: constant 166 nodes from 2 to 20 steps")
    uneven = [row("static", 1, 10), row("static", 2, 20), row("static", 4, 45)]
    assert growth_summary(uneven) == "static: 10 nodes at 1 step, 45 at 4 (≈ +11.7 per step)"
    assert growth_summary([row("dynamic", 1, 7)]) == "dynamic: 7 nodes at 1 step"
    growing = [row("dynamic", 1, 7), row("dynamic", 3, 9)]
    assert growth_summary(growing) == "dynamic: 7 nodes at 1 step, 9 at 3 (+1 per step)"


def test_plot_format():
    assert plot_format("a/b.PNG") == "png" and plot_format("x.svg") == "svg"
    with pytest.raises(UsageError, match=r"cannot tell the plot format of 'x\.pdf'"):
        plot_format("x.pdf")


@pytest.mark.parametrize("argv,pattern", [
    (["growth", "--steps", "0,x"], "--steps: 0 is out of range"),
    (["growth", "--steps", ""], "empty --steps list"),
    (["growth", "--steps", "1,1"], "1 is given twice"),
    (["growth", "--steps", "6000"], "6000 is out of range (each must be from 1 to 5000)"),
    (["growth", "--neurons", "0"], "neurons must be an integer from 1"),
    (["growth", "--cell", "lstmm"], "invalid choice: 'lstmm'"),
    (["growth", "--batch", "0"], "must be at least 1, got 0"),
    (["growth", "--plot", "g.gif"], "cannot tell the plot format of 'g.gif'"),
])
def test_cli_usage_errors_exit_2_with_one_line(capsys, argv, pattern):
    status = main(argv)
    _, err = capsys.readouterr()
    assert status == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("rnngraph: error: "), err
    assert pattern in lines[0]


def test_cli_missing_folder_exits_1_before_measuring(capsys, tmp_path):
    status = main(["growth", "--steps", "1", "--csv", str(tmp_path / "no" / "g.csv")])
    _, err = capsys.readouterr()
    assert status == 1
    assert err.strip().splitlines() == [f"rnngraph: error: cannot write {tmp_path / 'no' / 'g.csv'}: "
                                        f"folder {tmp_path / 'no'} does not exist"]


@pytest.mark.tf
def test_measured_static_grows_linearly_dynamic_stays_constant():
    from rnngraph.growth import measure_growth

    rows = measure_growth(ModelSpec(**TINY), (1, 2, 4), repeats=1)
    assert [(r.kind, r.steps) for r in rows] == [("static", 1), ("static", 2), ("static", 4),
                                                 ("dynamic", 1), ("dynamic", 2), ("dynamic", 4)]
    static = {r.steps: r for r in rows if r.kind == "static"}
    dynamic = [r for r in rows if r.kind == "dynamic"]
    per_step = static[2].nodes - static[1].nodes
    assert per_step > 0 and static[4].nodes - static[2].nodes == 2 * per_step
    assert static[4].edges - static[2].edges == 2 * (static[2].edges - static[1].edges) > 0
    assert static[1].graphdef_bytes < static[2].graphdef_bytes < static[4].graphdef_bytes
    assert len({r.nodes for r in dynamic}) == 1 and len({r.edges for r in dynamic}) == 1
    assert all(r.build_seconds > 0 and r.forward_seconds > 0 for r in rows)


@pytest.mark.tf
def test_cli_writes_table_csv_and_plots(capsys, tmp_path):
    csv_path, png, svg = tmp_path / "g.csv", tmp_path / "g.png", tmp_path / "g.svg"
    status = main(["growth", "--steps", "1,3", "--cell", "rnn", "--neurons", "2", "--repeats", "1",
                   "--csv", str(csv_path), "--plot", str(png)])
    out, _ = capsys.readouterr()
    assert status == 0
    assert out.splitlines()[0].split() == ["kind", "steps", "nodes", "edges", "GraphDef", "bytes",
                                           "build", "ms", "forward", "ms"]
    assert "dynamic: constant" in out and f"{csv_path}\n{png}\n" in out
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    lines = csv_path.read_text().splitlines()
    assert lines[0] == ",".join(CSV_FIELDS) and len(lines) == 1 + 4
    assert [line.split(",")[:2] for line in lines[1:]] == [
        ["static", "1"], ["static", "3"], ["dynamic", "1"], ["dynamic", "3"]]

    assert main(["growth", "--steps", "2", "--neurons", "2", "--repeats", "1",
                 "--plot", str(svg)]) == 0
    assert b"<svg" in svg.read_bytes()[:500]


@pytest.mark.tf
def test_render_model_options_apply_list_inputs_sequence_length_v2():
    from rnngraph.growth import measure_growth

    spec = ModelSpec(cell="gru", inputs=2, neurons=2, static_inputs="list", sequence_length=True,
                     dropout=0.5, control_flow="v2")
    rows = measure_growth(spec, (1, 3), repeats=1)
    static = [r for r in rows if r.kind == "static"]
    dynamic = [r for r in rows if r.kind == "dynamic"]
    assert static[0].nodes < static[1].nodes
    # v2 keeps the loop body in the function library; it is counted, and does not grow.
    assert dynamic[0].nodes == dynamic[1].nodes > 0
