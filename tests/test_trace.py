"""`rnngraph run`: the traced run records what TensorFlow did, checked against NumPy and the spec."""

from __future__ import annotations

import json

import numpy as np
import pytest

from rnngraph.cli import main

pytestmark = [pytest.mark.tf]

_TRACES: dict = {}


def traced(**kwargs):
    """Return the trace of the spec (cached for the module)."""
    from rnngraph.model.spec import ModelSpec
    from rnngraph.trace.runner import trace_model

    key = tuple(sorted(kwargs.items()))
    if key not in _TRACES:
        batch = kwargs.pop("batch", 2)
        source = kwargs.pop("source", "random")
        _TRACES[key] = trace_model(ModelSpec(**kwargs), batch=batch, seed=3, source=source)
    return _TRACES[key]


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def numpy_lstm(trace):
    """Return per step {"i","j","f","o","c","h"} recomputed from the run's weights and input."""
    from rnngraph.recognise import GATE_NAMES, recognise

    cell = recognise(trace.graph).cells[0]
    kernel = trace.result.variables[cell.kernel.rpartition("/Read")[0]] \
        if cell.kernel not in trace.result.variables else trace.result.variables[cell.kernel]
    bias = trace.result.variables[cell.bias] if cell.bias in trace.result.variables else \
        trace.result.variables[cell.kernel.rpartition("/")[0] + "/bias"]
    feeds = trace.result.feeds
    x = feeds["X"]
    batch, steps, _ = x.shape
    units = kernel.shape[1] // 4
    h = np.zeros((batch, units))
    c = np.zeros((batch, units))
    out = []
    for t in range(steps):
        z = np.concatenate([x[:, t], h], axis=1) @ kernel + bias
        parts = dict(zip(GATE_NAMES["lstm"], np.split(z, 4, axis=1)))
        i, j, f, o = (parts[g] for g in "ijfo")
        gates = {"i": _sigmoid(i), "j": np.tanh(j), "f": _sigmoid(f + cell.forget_bias),
                 "o": _sigmoid(o)}
        c = c * gates["f"] + gates["i"] * gates["j"]
        h = np.tanh(c) * gates["o"]
        out.append({**gates, "c": c, "h": h})
    return out


@pytest.mark.parametrize("kind,steps,batch", [("dynamic", 3, 2), ("static", 3, 2),
                                              ("dynamic", 5, 3)])
def test_recorded_gates_equal_numpy(kind, steps, batch):
    trace = traced(kind=kind, cell="lstm", steps=steps, batch=batch)
    roles = trace.document["values"]["roles"]
    expected = numpy_lstm(trace)
    assert trace.document["values"]["mode"] == ("while" if kind == "dynamic" else "unrolled")
    for role in ("i", "j", "f", "o", "c", "h"):
        key = role if role in "ch" else f"gate:{role}"
        recorded = roles[key]
        assert len(recorded) == steps, key
        for t in range(steps):
            assert recorded[t]["shape"] == [batch, 5]
            np.testing.assert_allclose(recorded[t]["values"], expected[t][role], atol=2e-6,
                                       err_msg=f"{key} at step {t}")


def test_a_wrong_gate_order_would_be_caught():
    """The comparison can fail: the forget and input gates differ at every step."""
    trace = traced(kind="dynamic", cell="lstm", steps=3)
    roles = trace.document["values"]["roles"]
    assert not np.allclose(roles["gate:i"][1]["values"], numpy_lstm(trace)[1]["f"], atol=1e-3)


@pytest.mark.parametrize("steps", [3, 5])
def test_iterations_equal_the_steps(steps):
    doc = traced(kind="dynamic", cell="lstm", steps=steps).document
    assert doc["iterations"] == steps and doc["unit"] == "iteration"
    nodes = doc["nodes"]
    # The body runs once per iteration; the loop's test once more; Exit once, after the last.
    assert nodes["rnn/while/basic_lstm_cell/Sigmoid"]["runs"] == steps
    assert [r["iteration"] for r in nodes["rnn/while/basic_lstm_cell/Sigmoid"]["per_run"]] == \
        list(range(steps))
    assert nodes["rnn/while/LoopCond"]["runs"] == steps + 1
    assert nodes["rnn/while/Exit_3"]["per_run"][0]["iteration"] == steps
    recorded = doc["values"]
    assert recorded["switches"]["rnn/while/Switch_3"] == ["true"] * steps + ["false"]
    assert recorded["merges"]["rnn/while/Merge_3"] == \
        ["rnn/while/Enter_3"] + ["rnn/while/NextIteration_3"] * steps
    assert [s["slot"] for s in recorded["tensor_arrays"]["rnn/TensorArray"]] == list(range(steps))
    # Slot t of the output TensorArray holds h_t.
    for slot, h in zip(recorded["tensor_arrays"]["rnn/TensorArray"], recorded["roles"]["h"]):
        assert slot["value"] == h
    table = {row["iteration"]: row for row in doc["table"]}
    assert sorted(k for k in table if k is not None) == list(range(steps + 1))


def test_static_steps_are_the_copies():
    doc = traced(kind="static", cell="lstm", steps=3).document
    assert doc["unit"] == "step" and doc["iterations"] == 3
    assert [r["iteration"] for r in doc["nodes"]["rnn/basic_lstm_cell/Sigmoid_3"]["per_run"]] == [1]


def test_the_loop_variables_are_the_states_entering_each_iteration():
    doc = traced(kind="dynamic", cell="lstm", steps=3).document
    roles = doc["values"]["roles"]
    entering = roles["var:hidden state h"]
    assert len(entering) == 4
    assert np.allclose(entering[0]["values"], 0.0)  # the zero state
    for t in range(3):
        assert entering[t + 1]["values"] == roles["h"][t]["values"]
    assert [v["values"] for v in roles["var:time"]] == [0, 1, 2, 3]


def test_large_tensors_keep_statistics():
    from rnngraph.trace.values import SMALL, summarise

    big = np.arange(SMALL + 1, dtype=np.float32).reshape(1, -1)
    assert summarise(big) == {"shape": [1, SMALL + 1], "dtype": "float32", "min": 0.0,
                              "max": float(SMALL), "mean": SMALL / 2,
                              "std": float(np.arange(SMALL + 1).std())}
    assert summarise(np.ones((2, 2), np.float32))["values"] == [[1.0, 1.0], [1.0, 1.0]]


def test_node_records_and_devices():
    doc = traced(kind="dynamic", cell="lstm", steps=3).document
    nodes = doc["nodes"]
    ran = {n: r for n, r in nodes.items() if r["runs"]}
    assert {r["device"] for r in ran.values()} == {"/device:CPU:0"}
    assert all(r["micros"] == sum(p["micros"] for p in r["per_run"]) for r in ran.values())
    assert doc["peak_bytes"] > 0
    # Every node of the built graph is listed; those that did not run have no device.
    assert all(r["device"] is None for r in nodes.values() if not r["runs"])
    changes = doc["optimized"]
    assert "X" in changes["fed"]
    assert not set(changes["removed"]) & {n for n, r in ran.items()}


def test_trace_json_is_sorted_and_read_back(tmp_path):
    from rnngraph.errors import GraphFileError
    from rnngraph.trace.runner import read_trace, trace_json

    doc = traced(kind="dynamic", cell="lstm", steps=3).document
    text = trace_json(doc)
    assert text == json.dumps(json.loads(text), sort_keys=True, indent=1, ensure_ascii=False) + "\n"
    path = tmp_path / "t.json"
    path.write_text(text, encoding="utf-8")
    assert read_trace(str(path)) == json.loads(text)
    path.write_text('{"nodes": {}}', encoding="utf-8")
    with pytest.raises(GraphFileError, match="not a trace file"):
        read_trace(str(path))


def test_run_command(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    status = main(["run", "dynamic", "--cell", "lstm", "--steps", "3"])
    out, err = capsys.readouterr()
    assert status == 0, err
    lines = out.splitlines()
    assert lines[0].split() == ["iteration", "ops", "run", "compute", "µs", "output", "bytes"]
    assert any(line.startswith("3 (exit test)") for line in lines)
    assert "iterations: 3 (steps: 3); ran on /device:CPU:0" in out
    assert "rnn/while/Merge took: Enter, NextIteration ×3" in out
    assert "rnn/while/Switch sent its value to: the body (true) ×3, Exit (false)" in out
    produced = sum(int(line.split()[-1]) for line in lines[2:] if line[:1].isdigit() or
                   line.startswith("outside"))
    assert f"the table's output bytes add up every output each op produced, {produced} in all" in out
    assert "rnn/TensorArray filled slots 0–2, in order" in out
    written = json.loads((tmp_path / "dynamic-lstm-3.trace.json").read_text(encoding="utf-8"))
    assert written["iterations"] == 3 and written["model"]["steps"] == 3


def test_missing_gpu_is_one_line(capsys):
    status = main(["run", "dynamic", "--device", "/gpu:0"])
    _, err = capsys.readouterr()
    lines = err.strip().splitlines()
    assert status == 1 and len(lines) == 1, err
    assert lines[0].startswith("rnngraph: error: device /gpu:0 is not available here (devices present: ")
    assert "CPU:0" in lines[0]


@pytest.mark.dot
def test_optimized_drawing_and_diff(tmp_path, capsys):
    path = tmp_path / "after.dot"
    status = main(["run", "dynamic", "--steps", "2", "--trace", str(tmp_path / "t.json"),
                   "--optimized", str(path)])
    out, err = capsys.readouterr()
    assert status == 0, err
    assert "removed by Grappler" in out and "+ _arg_X_0_0 (_Arg)  [executor boundary]" in out
    dot = path.read_text(encoding="utf-8")
    assert '"_arg_X_0_0"' in dot and "after Grappler" in dot


def test_control_flow_v2_body_runs_once_per_iteration():
    doc = traced(kind="dynamic", cell="lstm", steps=4, control_flow="v2").document
    assert doc["iterations"] == 4
    body = doc["nodes"]["rnn/while/body::/basic_lstm_cell/Sigmoid"]
    assert body["runs"] == 4 and [r["iteration"] for r in body["per_run"]] == [0, 1, 2, 3]
    # tfdbg cannot watch ops inside a function body: no values, rather than wrong ones
    assert doc["values"]["mode"] == "none" and doc["values"]["roles"] == {}


def test_a_training_head_keeps_the_forward_loop():
    doc = traced(kind="dynamic", cell="lstm", steps=2, head="mnist").document
    recorded = doc["values"]
    assert doc["iterations"] == 2
    assert set(recorded["merges"]) == {f"rnn/while/Merge{s}" for s in ("", "_1", "_2", "_3", "_4")}
    assert len(recorded["roles"]["gate:f"]) == 2


def test_run_a_graph_file(tmp_path, capsys):
    from pathlib import Path

    fixture = Path(__file__).parent / "fixtures" / "walk_while_v1.pbtxt"
    trace = tmp_path / "t.json"
    status = main(["run", str(fixture), "--trace", str(trace)])
    out, err = capsys.readouterr()
    assert status == 0, err
    doc = json.loads(trace.read_text(encoding="utf-8"))
    assert doc["model"] == {"file": str(fixture), "kind": "graphdef-text"}
    # The fixture's loop counts i from 0 while i < 10.
    assert doc["iterations"] == 10 and "iterations: 10; ran on /device:CPU:0" in out
    assert doc["values"]["merges"]["loop/Merge"][1:] == ["loop/NextIteration"] * 10


def test_run_file_refuses_inputs_it_cannot_make_up(tmp_path, capsys):
    path = tmp_path / "ints.pbtxt"
    path.write_text('node { name: "n" op: "Placeholder" attr { key: "dtype" value { type: DT_INT32 } } }\n'
                    'node { name: "twice" op: "AddV2" input: "n" input: "n" '
                    'attr { key: "T" value { type: DT_INT32 } } }\n', encoding="utf-8")
    assert main(["run", str(path), "--trace", str(tmp_path / "t.json")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["rnngraph: error: cannot make up a value for the int32 placeholder 'n': "
                   "`rnngraph run FILE` feeds float placeholders only"]
    assert main(["run", "nowhere.pb"]) == 2
    assert "'nowhere.pb' is neither a kind (static, dynamic) nor an existing graph file" in \
        capsys.readouterr().err


def test_what_did_not_run_is_explained_by_grappler_or_the_fetches():
    doc = traced(kind="dynamic", cell="lstm", steps=3).document
    changes = doc["optimized"]
    explained = set(changes["removed"]) | set(changes["not_needed"]) | set(changes["fed"])
    rewritten = {name for name, _, _ in changes["op_changed"]}
    did_not_run = {name for name, record in doc["nodes"].items()
                   if record["op"] is not None and not record["runs"]}
    assert did_not_run and did_not_run <= explained, sorted(did_not_run - explained)
    matmul = doc["nodes"]["rnn/while/basic_lstm_cell/MatMul"]
    if not matmul["runs"]:  # fused away (oneDNN builds): the diff says where it went
        assert "rnn/while/basic_lstm_cell/MatMul" in changes["removed"]
        assert "rnn/while/basic_lstm_cell/BiasAdd" in rewritten


def test_gpu_trace_reads_kernel_times_from_the_streams():
    """A GPU trace lists each op on the device (launch) and on stream:all (kernel)."""
    from tensorflow.core.framework import step_stats_pb2

    from rnngraph.trace.record import executions

    stats = step_stats_pb2.StepStats()
    gpu = stats.dev_stats.add(device="/job:localhost/replica:0/task:0/device:GPU:0")
    for start in (100, 200):
        gpu.node_stats.add(node_name="rnn/while/MatMul", all_start_micros=start,
                           op_start_rel_micros=0, op_end_rel_micros=2, all_end_rel_micros=3)
    cpu = stats.dev_stats.add(device="/job:localhost/replica:0/task:0/device:CPU:0")
    cpu.node_stats.add(node_name="X", all_start_micros=90, op_end_rel_micros=1)
    streams = stats.dev_stats.add(device="/device:GPU:0/stream:all")
    for start, took in ((105, 40), (210, 50)):
        streams.node_stats.add(node_name="rnn/while/MatMul:MatMul", all_start_micros=start,
                               op_start_rel_micros=0, op_end_rel_micros=took)
    found = executions(stats)
    assert [(r["start"], r["micros"], r["device"]) for r in found["rnn/while/MatMul"]] == \
        [(10, 40, "/device:GPU:0"), (110, 50, "/device:GPU:0")]
    assert found["X"][0]["device"] == "/device:CPU:0" and set(found) == {"rnn/while/MatMul", "X"}


def test_bad_trace_files_are_one_line(tmp_path, capsys):
    trace = tmp_path / "t.json"
    trace.write_text(json.dumps({"format": "rnngraph-trace/1", "nodes": {"a": {"runs": "x"}}}),
                     encoding="utf-8")
    argv = ["render", "dynamic", "--overlay", "time", "--trace", str(trace), "--format", "dot",
            "-o", str(tmp_path / "g.dot")]
    assert main(argv) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"rnngraph: error: {trace}: node 'a' has no valid record (runs, micros, bytes: "
                   "integers >= 0; device: text or null)"]
    assert main(["run", "dynamic", "--trace", str(tmp_path / "no" / "t.json")]) == 1
    assert "folder " + str(tmp_path / "no") + " does not exist" in capsys.readouterr().err


def test_series_input_feeds_windows_of_the_training_series():
    from rnngraph.train.series import series_batch

    trace = traced(kind="dynamic", steps=4, inputs=1, source="series")
    expected, _ = series_batch(np.random.default_rng(3), 2, 4)
    np.testing.assert_array_equal(trace.result.feeds["X"], expected)
    assert trace.document["model"]["input"] == "series"


def test_input_shape_mismatch_is_a_usage_error(capsys):
    assert main(["run", "dynamic", "--input", "series", "--inputs", "3"]) == 2
    assert "--input series feeds one value per step: add --inputs 1 (got --inputs 3)" in \
        capsys.readouterr().err
