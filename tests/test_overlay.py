"""Overlays: measured values -> fill colours and a legend, in DOT, SVG and the HTML page."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap

import pytest

from rnngraph.cli import main
from rnngraph.draw.overlay import (NOT_RUN, Overlay, legend_rows, overlay_from_json,
                                   overlay_from_trace, overlay_style)
from rnngraph.errors import GraphFileError, UsageError


def _fill(dot: str, node: str) -> str:
    return re.search(re.escape(f'"{node}" [') + r'[^\n]*fillcolor="([^"]+)"', dot).group(1)


def test_numbers_get_a_sequential_scale_and_a_legend():
    overlay = Overlay("compute time", {"a": 1, "b": 10, "c": 1000, "d": 3, "e": 30, "f": 300,
                                       "g": 100, "h": 5}, "µs")
    low, _ = overlay_style(overlay, ["a"])
    high, line = overlay_style(overlay, ["c"])
    assert low != high and line == "compute time: 1,000 µs"
    assert overlay_style(overlay, ["zzz"]) == (NOT_RUN, "no value")
    rows = legend_rows(overlay)
    assert rows[0] == ("compute time", None) and rows[-1] == ("no value", NOT_RUN)
    assert len(rows) == 2 + 7  # seven log-spaced bins: the values span three decades
    assert rows[1][0].startswith("1 µs – ")


def test_few_values_get_one_colour_each():
    overlay = Overlay("executions", {"a": 1, "b": 3, "c": 4}, "×")
    assert [text for text, _ in legend_rows(overlay)[1:-1]] == ["×1", "×3", "×4"]
    colours = {overlay_style(overlay, [n])[0] for n in "abc"}
    assert len(colours) == 3


def test_texts_and_stacked_steps():
    devices = Overlay("device", {"a": "/device:CPU:0", "b": "/device:CPU:1", "c": "/device:CPU:0"})
    assert overlay_style(devices, ["a"])[0] == overlay_style(devices, ["c"])[0] \
        != overlay_style(devices, ["b"])[0]
    assert overlay_style(devices, ["a", "b"])[1] == "mixed: /device:CPU:0, /device:CPU:1"
    times = Overlay("compute time", {"x0": 2, "y0": 2, "x1": 10, "x2": 6}, "µs")
    _, line = overlay_style(times, ["x0", "y0", "x1", "x2"], steps=[["x0", "y0"], ["x1"], ["x2"]])
    assert line == "compute time: 20 µs\nper step: min 4 µs, median 6 µs, max 10 µs"


def test_overlay_file(tmp_path):
    path = tmp_path / "values.json"
    path.write_text(json.dumps({"rnn/while/Merge": 3, "X": "input"}), encoding="utf-8")
    overlay = overlay_from_json(str(path))
    assert overlay.values == {"rnn/while/Merge": 3, "X": "input"} and not overlay.numeric
    path.write_text('{"a": [1]}', encoding="utf-8")
    with pytest.raises(GraphFileError, match="node name -> finite number or text"):
        overlay_from_json(str(path))
    with pytest.raises(GraphFileError, match="not a JSON overlay"):
        overlay_from_json("x.json", text="{")


def test_overlay_from_trace_document():
    doc = {"nodes": {"a": {"runs": 2, "micros": 7, "bytes": 8, "device": "/device:CPU:0"},
                     "b": {"runs": 0, "micros": 0, "bytes": 0, "device": None}}}
    assert overlay_from_trace(doc, "time").values == {"a": 7}
    assert overlay_from_trace(doc, "memory").values == {"a": 8}
    assert overlay_from_trace(doc, "count").values == {"a": 2}
    assert overlay_from_trace(doc, "device").values == {"a": "/device:CPU:0"}
    with pytest.raises(UsageError, match="unknown overlay 'speed'"):
        overlay_from_trace(doc, "speed")


@pytest.mark.tf
def test_dot_colours_from_an_overlay(walked):
    from rnngraph.draw.dot import RenderOptions, to_dot

    graph = walked(kind="dynamic", steps=2)
    overlay = Overlay("my values", {"rnn/while/Merge": 1, "rnn/while/Switch": 50}, "")
    dot = to_dot(graph, RenderOptions(overlay=overlay))
    assert _fill(dot, "rnn/while/Merge") != _fill(dot, "rnn/while/Switch")
    assert _fill(dot, "rnn/while/LoopCond") == NOT_RUN
    assert "my values: 50" in dot and "<I>my values</I>" in dot
    plain = to_dot(graph, RenderOptions())
    assert _fill(plain, "rnn/while/Merge") != _fill(dot, "rnn/while/Merge")


@pytest.mark.tf
def test_stacked_copies_show_the_spread(walked):
    from rnngraph.draw.dot import RenderOptions, to_dot

    graph = walked(kind="static", cell="lstm", steps=6)
    overlay = Overlay("t", {n: 1 for n in graph.nodes}, "µs")
    dot = to_dot(graph, RenderOptions(overlay=overlay, group_steps=True))
    assert re.search(r'"stack::[^"]+" \[shape=box3d[^\n]*label="t: \d+ µs\\nper step: min', dot)


@pytest.mark.tf
@pytest.mark.dot
@pytest.mark.parametrize("fmt", ["svg", "html"])
def test_render_overlay_time_runs_the_graph(tmp_path, capsys, fmt):
    out = tmp_path / f"g.{fmt}"
    status = main(["render", "dynamic", "--overlay", "time", "-o", str(out)])
    _, err = capsys.readouterr()
    assert status == 0, err
    text = out.read_text(encoding="utf-8")
    assert "compute time" in text and "did not run" in text


@pytest.mark.tf
@pytest.mark.dot
def test_render_overlay_reads_a_trace(tmp_path, capsys):
    trace = tmp_path / "t.json"
    assert main(["run", "dynamic", "--steps", "2", "--no-values", "--trace", str(trace)]) == 0
    out = tmp_path / "g.dot"
    assert main(["render", "dynamic", "--overlay", "count", "--trace", str(trace), "-o", str(out),
                 "--full"]) == 0
    capsys.readouterr()
    dot = out.read_text(encoding="utf-8")
    assert "executions: ×3" in dot  # the loop's test: two iterations and the exit test


def test_bad_overlay_arguments(capsys):
    assert main(["render", "dynamic", "--overlay", "speed", "--format", "dot", "-o", "-"]) == 2
    assert "unknown overlay 'speed'" in capsys.readouterr().err
    assert main(["render", "dynamic", "--trace", "x.json", "--format", "dot", "-o", "-"]) == 2
    assert "--trace is read by --overlay" in capsys.readouterr().err


DEVICES = textwrap.dedent("""
    import json, sys
    from rnngraph.model.tfcompat import tf
    t = tf()
    cpu = t.config.list_physical_devices("CPU")[0]
    t.config.set_logical_device_configuration(cpu, [t.config.LogicalDeviceConfiguration()] * 2)
    from rnngraph.model.spec import ModelSpec
    from rnngraph.trace.runner import trace_model
    from rnngraph.draw.overlay import overlay_from_trace
    doc = trace_model(ModelSpec(kind="dynamic", layers=2, devices=("/cpu:0", "/cpu:1")),
                      watch_values=False).document
    print(json.dumps(overlay_from_trace(doc, "device").values))
""")


@pytest.mark.tf
@pytest.mark.slow
def test_device_overlay_shows_placement_as_executed():
    done = subprocess.run([sys.executable, "-c", DEVICES], capture_output=True, text=True,
                          timeout=180)
    assert done.returncode == 0, done.stderr[-3000:]
    placed = json.loads(done.stdout.strip().splitlines()[-1])
    layer0 = {d for n, d in placed.items() if "/cell_0/" in n and "MatMul" in n or
              "/cell_0/" in n and n.endswith(("/Tanh", "/BiasAdd"))}
    layer1 = {d for n, d in placed.items() if "/cell_1/" in n and n.endswith(("/Tanh", "/BiasAdd"))}
    assert layer0 == {"/device:CPU:0"} and layer1 == {"/device:CPU:1"}, placed
    assert set(placed.values()) == {"/device:CPU:0", "/device:CPU:1"}


def test_text_stays_readable_on_dark_fills():
    from rnngraph.draw.overlay import text_colour

    assert text_colour("#bd0026") == "#ffffff" and text_colour("#ffffcc") == "#000000"


@pytest.mark.tf
def test_inspect_draws_a_file_with_its_trace(tmp_path, capsys):
    from pathlib import Path

    fixture = str(Path(__file__).parent / "fixtures" / "walk_while_v1.pbtxt")
    trace = tmp_path / "t.json"
    assert main(["run", fixture, "--trace", str(trace)]) == 0
    out = tmp_path / "w.dot"
    assert main(["inspect", fixture, "--render", str(out), "--overlay", "count",
                 "--trace", str(trace)]) == 0
    dot = out.read_text(encoding="utf-8")
    # i = 0; while i < 10: the body's add runs ten times, the loop's test eleven
    assert re.search(r'"loop/add" \[label="add\\nAddV2\\ny = 1\\nexecutions: ×10"', dot), dot[:2000]
    assert re.search(r'"loop/Less" \[label="Less[^"]*executions: ×11"', dot)
    assert main(["inspect", fixture, "--render", str(out), "--overlay", "count"]) == 2
    assert "--overlay count needs --trace FILE for a graph file" in capsys.readouterr().err
