"""inspect: every file kind (written by plain TensorFlow), the --json shape, bad files."""

from __future__ import annotations

import json

import pytest

from rnngraph.cli import main
from rnngraph.errors import GraphFileError
from rnngraph.graphdef.loaders import load_graph_def

from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures"
_KEYS = ["nodes", "edges", "ops", "while_loops", "tensor_arrays", "cells", "concats",
         "strided_slices", "shared_loops", "function_calls", "tflite_cells", "file_nodes",
         "recursion", "unexpanded_calls", "notes"]


def _inspect_json(capsys, path) -> dict:
    assert main(["inspect", str(path), "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_json_shape_on_a_ref_variable_fixture(capsys):
    data = _inspect_json(capsys, FIXTURES / "rnn_v1_ref.pbtxt")
    assert list(data) == _KEYS
    assert data["while_loops"] == [{"name": "encoder/rnn/while", "control_flow": "v1",
                                    "loop_vars": 3, "invariants": 6, "body_nodes": 10}]
    old_keys = ("scope", "kind", "kernel_shape", "gates")
    assert [{k: c[k] for k in old_keys} for c in data["cells"]] == [
        {"scope": "encoder/rnn/while/basic_rnn_cell", "kind": "rnn", "kernel_shape": [7, 4],
         "gates": []}]
    # Issue 11: cells gain form, recurrent_kernel_shape (null for TF1 cells), layer, implementation.
    cell = data["cells"][0]
    assert (cell["form"], cell["recurrent_kernel_shape"], cell["layer"], cell["implementation"]) \
        == ("tf1", None, "encoder/rnn/while/basic_rnn_cell", None)
    assert data["tensor_arrays"] == [{"name": "encoder/rnn/TensorArray", "role": "output"},
                                     {"name": "encoder/rnn/TensorArray_1", "role": "input"}]
    assert data["strided_slices"] == [{"name": "encoder/rnn/strided_slice",
                                       "slice": "Shape(encoder/rnn/transpose)[0]"}]
    assert data["ops"]["Enter"] == 9 and data["nodes"] == 55


def test_text_summary(capsys):
    assert main(["inspect", str(FIXTURES / "lstm_static_ref.pbtxt")]) == 0
    out = capsys.readouterr().out
    assert "decoder/basic_lstm_cell: lstm, kernel decoder/basic_lstm_cell/kernel 7×16" in out
    assert "gates i j f o, forget bias 1.0" in out


@pytest.fixture(scope="module")
def tf_files(tmp_path_factory):
    """One GRU encoder graph written by plain TensorFlow code in each file kind."""
    from google.protobuf import text_format

    from rnngraph.model.tfcompat import set_control_flow, tf

    t = tf()
    v1 = t.compat.v1
    set_control_flow("v2")
    root = tmp_path_factory.mktemp("graphs")
    graph = t.Graph()
    with graph.as_default():
        x = v1.placeholder(t.float32, [None, 4, 3], name="inputs")
        with v1.variable_scope("encoder"):
            outputs, state = v1.nn.dynamic_rnn(v1.nn.rnn_cell.GRUCell(6), x, dtype=t.float32)
        init = v1.global_variables_initializer()
        graph_def = graph.as_graph_def(add_shapes=True)
        (root / "g.pb").write_bytes(graph_def.SerializeToString())
        (root / "g.pbtxt").write_text(text_format.MessageToString(graph_def))
        v1.train.export_meta_graph(filename=str(root / "g.meta"), graph=graph)
        writer = v1.summary.FileWriter(str(root / "logs"), graph=graph)
        writer.close()
        with v1.Session(graph=graph) as sess:
            sess.run(init)
            builder = v1.saved_model.Builder(str(root / "saved"))
            builder.add_meta_graph_and_variables(sess, ["serve"])
            builder.save()
    events = next((root / "logs").glob("events.out.tfevents.*"))
    return {"pb": root / "g.pb", "pbtxt": root / "g.pbtxt", "meta": root / "g.meta",
            "events": events, "saved": root / "saved", "root": root}


@pytest.mark.tf
@pytest.mark.parametrize("kind", ["pb", "pbtxt", "meta", "events", "saved"])
def test_every_file_kind(tf_files, kind, capsys):
    data = _inspect_json(capsys, tf_files[kind])
    assert list(data) == _KEYS
    assert [(c["kind"], c["kernel_shape"], c["gates"]) for c in data["cells"]] == [
        ("gru", [9, 12], ["r", "u"])]
    assert [(w["name"], w["control_flow"]) for w in data["while_loops"]] == [
        ("encoder/rnn/while", "v2")]
    assert {"name": "encoder/rnn/TensorArrayV2", "role": "output"} in data["tensor_arrays"]


@pytest.mark.tf
def test_inspect_render_focus(tf_files, tmp_path, capsys):
    out = tmp_path / "g.dot"
    assert main(["inspect", str(tf_files["pb"]), "--render", str(out), "--focus", "gates"]) == 0
    dot = out.read_text()
    assert "split: σ of the gates kernel's 12 columns" in dot.replace("\\n", " ")  # notes wrap


def _bad(tmp_path, name: str, data: bytes):
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("name, data, message", [
    ("empty.pb", b"", "is empty"),
    ("notes.pb", b"this is not a graph at all\n" * 20, "notes.pb is a plain text file, not a graph"),
    ("image.pb", b"\x89PNG\r\n\x1a\n" + bytes(range(256)),
     "does not parse as a graph and has no file signature rnngraph knows (it begins with bytes 89 50"),
    ("graph.pbtxt", b'{"nodes": []}', "not a GraphDef in protobuf text format"),
    ("events.out.tfevents.1", b"\x05\x00\x00\x00\x00\x00\x00\x00garbage!", "not a TFRecord"),
])
def test_bad_files(tmp_path, capsys, name, data, message):
    path = _bad(tmp_path, name, data)
    assert main(["inspect", str(path)]) == 1
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "expected a GraphDef" in err


def test_truncated_file(tmp_path, capsys):
    from google.protobuf import text_format

    from rnngraph.graphdef import protos

    graph_def = text_format.Parse((FIXTURES / "rnn_v1_ref.pbtxt").read_text(), protos.GraphDef())
    data = graph_def.SerializeToString()
    path = _bad(tmp_path, "cut.pb", data[: len(data) // 2 + 3])
    assert main(["inspect", str(path)]) == 1
    assert capsys.readouterr().err.count("\n") == 1


def test_directory_without_saved_model(tmp_path, capsys):
    assert main(["inspect", str(tmp_path)]) == 1
    assert "holds no saved_model.pb" in capsys.readouterr().err


def test_huge_file(tmp_path, capsys):
    path = tmp_path / "huge.pb"
    with open(path, "wb") as handle:
        handle.truncate(3 * 2**30)  # sparse: takes no disk space
    assert main(["inspect", str(path)]) == 1
    err = capsys.readouterr().err
    assert "3.0 GiB, larger than the 1.0 GiB" in err and err.count("\n") == 1


def test_missing_file_and_limit(tmp_path):
    with pytest.raises(GraphFileError, match="does not exist"):
        load_graph_def(tmp_path / "nope.pb")
    with pytest.raises(GraphFileError, match="larger than"):
        load_graph_def(FIXTURES / "rnn_v1_ref.pbtxt", limit=100)


def test_help_does_not_import_tensorflow():
    import subprocess
    import sys

    code = ("import sys; from rnngraph.cli import build_parser; build_parser(); "
            "import rnngraph.recognise, rnngraph.draw.focus, rnngraph.graphdef.loaders, rnngraph.explain; "
            "print('tensorflow' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
