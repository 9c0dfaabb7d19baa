"""inspect on the graphs users bring (issue 11 items 6-9): calls, shared loops, log dirs, exports.

Facts are checked against TensorFlow's own protos and readers where TensorFlow has
them (function attributes, signature definitions, GraphDef parsing).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from rnngraph.cli import main

CORPUS = Path(__file__).parent / "fixtures" / "corpus"
MADE, OTHERS = CORPUS / "made", CORPUS / "others"


def _json(capsys, *argv) -> dict:
    assert main(["inspect", *map(str, argv), "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def _tf_protos():
    from rnngraph.model.tfcompat import tf

    tf()
    from tensorflow.core.framework import graph_pb2
    from tensorflow.core.protobuf import saved_model_pb2

    return graph_pb2, saved_model_pb2


# ----------------------------------------------------------------------------- item 6
def test_if_and_case_calls_are_reported(capsys):
    calls = _json(capsys, MADE / "cond_v2.pbtxt")["function_calls"]
    assert len(calls) == 1
    call = calls[0]
    assert (call["name"], call["op"], call["kind"], call["branches"]) == ("pick", "StatelessIf", "if", 2)
    assert call["condition"] == "flag" and call["inputs"] == 1 and call["outputs"] == 1
    case = _json(capsys, MADE / "switch_case_v2.pbtxt")["function_calls"][0]
    assert (case["op"], case["kind"], case["branches"], case["condition"]) == \
        ("StatelessCase", "case", 3, "k")
    both = _json(capsys, OTHERS / "tf_mlir_functional-if-ops.pbtxt")["function_calls"]
    assert [(c["name"], c["op"], c["functions"], c["inputs"]) for c in both] == [
        ("StatefulIf", "If", ["cond_true", "cond_false"], 2),
        ("StatelessIf", "StatelessIf", ["cond_true", "cond_false"], 2)]


@pytest.mark.tf
def test_call_functions_match_tensorflow(capsys):
    from google.protobuf import text_format

    graph_pb2, _ = _tf_protos()
    for path in (MADE / "cond_v2.pbtxt", MADE / "switch_case_v2.pbtxt", OTHERS / "tf_mlir_case_op.pbtxt"):
        graph_def = text_format.Parse(path.read_text(), graph_pb2.GraphDef())
        expected = {}
        for node in graph_def.node:
            if node.op in ("StatelessIf", "If"):
                expected[node.name] = [node.attr["then_branch"].func.name,
                                       node.attr["else_branch"].func.name]
            elif node.op in ("StatelessCase", "Case"):
                expected[node.name] = [f.name for f in node.attr["branches"].list.func]
        found = {c["name"]: c["functions"] for c in _json(capsys, path)["function_calls"]}
        assert found == expected


def test_call_text_lines(capsys):
    assert main(["inspect", str(MADE / "switch_case_v2.pbtxt")]) == 0
    out = capsys.readouterr().out
    assert "function calls (1):" in out
    assert "branch/indexed_case (StatelessCase): 3 branches: " in out
    assert "; branch index k; 1 inputs, 1 outputs" in out


@pytest.mark.tf
def test_keras_layer_call_names_its_implementations(capsys):
    """The standard/CuDNN pair is the FunctionDefs sharing api_implements (TensorFlow's protos)."""
    _, saved_model_pb2 = _tf_protos()
    path = MADE / "keras2_lstm_savedmodel"
    saved = saved_model_pb2.SavedModel.FromString((path / "saved_model.pb").read_bytes())
    library = saved.meta_graphs[0].graph_def.library.function
    by_name = {}
    for fdef in library:
        if "api_implements" in fdef.attr:
            by_name.setdefault(fdef.attr["api_implements"].s.decode(), []).append(
                {"function": fdef.signature.name,
                 "device": fdef.attr["api_preferred_device"].s.decode() or None})
    # The functions the model calls: the standard one, and its CuDNN twin (never called
    # here, chosen by Grappler on a GPU); gradients are derived from the called ones.
    called = {n.attr["f"].func.name for f in library for n in f.node_def
              if n.op in ("PartitionedCall", "StatefulPartitionedCall")}
    calls = [c for c in _json(capsys, path)["function_calls"] if c["implements"]]
    assert len(calls) == 1
    group = by_name[calls[0]["implements"]]
    assert [{k: i[k] for k in ("function", "device")} for i in calls[0]["implementation"]] == \
        sorted(group, key=lambda i: i["function"])
    pair = [i for i in calls[0]["implementation"] if i["role"] == "implementation"]
    assert sorted(i["device"] for i in pair) == ["CPU", "GPU"]
    assert calls[0]["functions"][0] == next(i["function"] for i in pair if i["device"] == "CPU")
    assert calls[0]["functions"][0] in called
    gpu = next(i["function"] for i in pair if i["device"] == "GPU")
    assert gpu not in called


def test_legacy_call_by_function_name(capsys):
    calls = _json(capsys, OTHERS / "tf_mlir_graph-function-call.pbtxt")["function_calls"]
    assert [(c["name"], c["op"], c["kind"], c["functions"]) for c in calls] == [
        ("func_call", "test_func_name", "call", ["test_func_name"])]


# ----------------------------------------------------------------------------- item 7b
@pytest.mark.tf
def test_keras3_export_reports_one_loop_used_by_both_signatures(capsys):
    """Keras 3 `model.export` has two signatures; TensorFlow's SavedModel proto says which
    node each one returns, and the library holds one While: one loop, two callers."""
    _, saved_model_pb2 = _tf_protos()
    path = MADE / "keras3_lstm_export"
    saved = saved_model_pb2.SavedModel.FromString((path / "saved_model.pb").read_bytes())
    meta = saved.meta_graphs[0]
    whiles = [n for f in meta.graph_def.library.function for n in f.node_def if n.op == "While"]
    assert len(whiles) == 1
    signatures = {k: v for k, v in meta.signature_def.items() if not k.startswith("__")}
    signature_nodes = sorted({out.name.split(":")[0] for sig in signatures.values()
                              for out in sig.outputs.values()})
    assert sorted(signatures) == ["serve", "serving_default"] and len(signature_nodes) == 2
    data = _json(capsys, path)
    assert len(data["while_loops"]) == 1
    shared = data["shared_loops"]
    assert len(shared) == 1 and sorted(shared[0]["callers"]) == signature_nodes
    assert shared[0]["name"] == data["while_loops"][0]["name"] and len(shared[0]["copies"]) == 2
    assert main(["inspect", str(path)]) == 0
    out = capsys.readouterr().out
    assert "while loops (1):" in out
    assert f"reached through 2 top-level calls (a SavedModel's signatures each call it): " \
           f"{', '.join(shared[0]['callers'])}" in out


def test_loops_reached_once_are_not_shared(capsys):
    data = _json(capsys, MADE / "keras2_bidirectional_lstm_savedmodel")
    assert len(data["while_loops"]) == 2 and data["shared_loops"] == []
    # Two While ops calling the same body function are two loops, not one.
    data = _json(capsys, OTHERS / "tf_mlir_functional-while-ops.pbtxt")
    assert [w["name"] for w in data["while_loops"]] == ["StatefulWhile", "StatelessWhile"]
    assert data["shared_loops"] == []


# ----------------------------------------------------------------------------- item 8
def test_log_directory_picks_its_event_file(tmp_path, capsys):
    logs = tmp_path / "logs"
    shutil.copytree(MADE / "tensorboard_logdir", logs / "run_b")
    assert main(["inspect", str(logs)]) == 0
    out, err = capsys.readouterr()
    event = next((logs / "run_b").iterdir()).name
    assert f"reading run_b/{event}" in err and "first of" not in err
    assert "rnn/while (v1)" in out and ": TensorBoard event file, 138 nodes" in out
    # A second run sorting first, holding another graph: chosen, and the choice is said.
    from rnngraph.graphdef.tensorboard import write_graph_event
    from rnngraph.graphdef.loaders import load_graph_def

    graph_def, _ = load_graph_def(Path(__file__).parent / "fixtures" / "walk_simple.pbtxt")
    written = write_graph_event(logs / "run_a", graph_def, wall_time=1.0)
    assert main(["inspect", str(logs), "--json"]) == 0
    out, err = capsys.readouterr()
    assert f"reading run_a/{Path(written).name} (the first of 2 event files" in err
    assert json.loads(out)["nodes"] == len(graph_def.node)


def test_log_directory_errors(tmp_path, capsys):
    assert main(["inspect", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "holds no saved_model.pb and no TensorBoard event file" in err
    assert len(err.strip().splitlines()) == 1
    from rnngraph.graphdef.protos import Event
    from rnngraph.graphdef.tensorboard import _record

    (tmp_path / "events.out.tfevents.1.host").write_bytes(
        _record(Event(wall_time=1.0, file_version="brain.Event:2").SerializeToString()))
    assert main(["inspect", str(tmp_path)]) == 1
    assert "has 1 event file(s) but none holds a graph" in capsys.readouterr().err


def test_render_to_stdout_keeps_stdout_for_the_drawing(capsys):
    assert main(["inspect", str(MADE / "while_counter_v1.pbtxt"), "--render", "-",
                 "--format", "dot"]) == 0
    out, err = capsys.readouterr()
    assert out.lstrip().startswith(("digraph", "strict digraph")) and out.rstrip().endswith("}")
    assert "while loops" not in out and "while loops (1):" in err
    assert main(["inspect", str(MADE / "while_counter_v1.pbtxt"), "--json", "--render", "-",
                 "--format", "dot"]) == 0
    out, err = capsys.readouterr()
    assert out.lstrip().startswith(("digraph", "strict digraph"))
    assert json.loads(err)["nodes"] == 21


def test_alike_concats_fold_into_one_line(capsys):
    assert main(["inspect", str(MADE / "static_rnn_200_steps.pb")]) == 0
    out = capsys.readouterr().out
    section = out.split("concats (201):\n")[1].split("strided slices")[0].splitlines()
    assert len(section) == 2
    assert section[1].startswith("  rnn/basic_rnn_cell/concat … rnn/basic_rnn_cell/concat_199 "
                                 "(200 alike) (axis 1): [X_t, h_(t−1)]")


def test_grouped_lines_rules():
    from rnngraph.commands.inspect import grouped_lines

    assert grouped_lines([("a/c", " x"), ("a/c_1", " x")]) == ["  a/c x", "  a/c_1 x"]
    assert grouped_lines([("a/c", " x"), ("a/c_1", " y"), ("a/c_2", " x"), ("a/c_3", " x")]) == [
        "  a/c … a/c_3 (3 alike) x", "  a/c_1 y"]


# ----------------------------------------------------------------------------- item 9
@pytest.mark.tf
@pytest.mark.parametrize("source", ["made/dynamic_lstm_v1.pb", "made/keras3_lstm_export",
                                    "others/tf2onnx_gru_frozen.pb", "others/tf_mlir_case_op.pbtxt",
                                    "made/tensorboard_logdir"])
def test_inspect_reexports_the_graph_def(tmp_path, capsys, source):
    """pb keeps the GraphDef TensorFlow reads, exactly; pbtxt all but the fields rnngraph
    does not declare (experimental_type); both are read back by inspect."""
    import sys

    from google.protobuf import text_format

    sys.path.insert(0, str(Path(__file__).parent))
    from test_corpus import _tf_graph_def

    graph_pb2, _ = _tf_protos()
    original = _tf_graph_def(CORPUS / source)
    pb, pbtxt = tmp_path / "out.pb", tmp_path / "out.pbtxt"
    for out in (pb, pbtxt):
        assert main(["inspect", str(CORPUS / source), "--render", str(out)]) == 0
    capsys.readouterr()
    binary = graph_pb2.GraphDef.FromString(pb.read_bytes())
    text = text_format.Parse(pbtxt.read_text(encoding="utf-8"), graph_pb2.GraphDef())
    if not source.endswith(".pbtxt"):  # rnngraph's text reader drops undeclared fields
        assert binary == original
    for message in (original, binary):
        for node in list(message.node) + [n for f in message.library.function for n in f.node_def]:
            node.ClearField("experimental_type")
    assert text == original and binary == original
    again = tmp_path / "again.pb"
    assert main(["inspect", str(pb), "--render", str(again)]) == 0
    assert again.read_bytes() == pb.read_bytes()
    capsys.readouterr()
    nodes = _json(capsys, pbtxt)["nodes"]
    assert nodes == len(original.node)


@pytest.mark.tf
def test_render_writes_graph_def_formats(tmp_path, capsys):
    from google.protobuf import text_format

    graph_pb2, _ = _tf_protos()
    first, second, guessed = tmp_path / "a.out", tmp_path / "b.out", tmp_path / "c.pbtxt"
    for target in (first, second):
        assert main(["render", "dynamic", "--steps", "3", "--format", "pb", "-o", str(target)]) == 0
    assert first.read_bytes() == second.read_bytes()  # deterministic bytes
    assert main(["render", "dynamic", "--steps", "3", "-o", str(guessed)]) == 0
    capsys.readouterr()
    binary = graph_pb2.GraphDef.FromString(first.read_bytes())
    text = text_format.Parse(guessed.read_text(encoding="utf-8"), graph_pb2.GraphDef())
    for node in binary.node:  # pbtxt leaves out what rnngraph does not declare
        node.ClearField("experimental_type")
    assert binary == text and len(binary.node) > 50
    assert any(n.op == "Enter" for n in binary.node) or any(n.op == "While" for n in binary.node)
    data = _json(capsys, first)
    assert data["nodes"] == len(binary.node) and len(data["while_loops"]) == 1
