"""Every graph file of tests/fixtures/corpus: ground truth from TensorFlow's own protos vs rnngraph.

The corpus holds files written by other people (tests/fixtures/corpus/others, sources
in README.md there) and by plain TensorFlow/Keras code (tests/fixtures/corpus/made,
written by make_corpus.py).  For each file the truth is read with TensorFlow's
protobuf classes (``graph_pb2``, ``meta_graph_pb2``, ``saved_model_pb2`` and
TensorFlow's own event-file reader), never with rnngraph's, and compared with what
``rnngraph inspect`` finds.  Every file must inspect (text and JSON) and draw
(SVG and HTML) with exit status 0.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from rnngraph.cli import main

CORPUS = Path(__file__).parent / "fixtures" / "corpus"
FILES = sorted([p for p in (CORPUS / "made").iterdir()] + [p for p in (CORPUS / "others").iterdir()],
               key=lambda p: (p.parent.name, p.name))
IDS = [f"{p.parent.name}/{p.name}" for p in FILES]

WHILE_OPS = {"While", "StatelessWhile"}
MATMUL_OPS = {"MatMul", "BatchMatMul", "BatchMatMulV2", "BatchMatMulV3"}
CALL_OPS = {"If", "StatelessIf", "Case", "StatelessCase", "PartitionedCall",
            "StatefulPartitionedCall"}
FUNCTION_ATTRS = ("cond", "body", "then_branch", "else_branch", "f", "branches")

# The RNN cells each file holds, (kind, kernel shape), from the code that wrote it
# (make_corpus.py, or the publishing project's script): the truth for `cells`.
EXPECTED_CELLS = {
    "made/static_rnn_basic_4.pbtxt": [("rnn", [8, 5])],
    "made/static_lstm_basic_4.pb": [("lstm", [7, 16])],
    "made/static_gru_3.pbtxt": [("gru", [7, 8])],
    "made/static_lstm_peephole_projection.pb": [("lstm", [6, 24])],
    "made/static_rnn_200_steps.pb": [("rnn", [6, 4])],
    "made/dynamic_lstm_v1.pb": [("lstm", [7, 16])],
    "made/dynamic_gru_v2.pb": [("gru", [7, 8])],
    "made/dynamic_rnn_seqlen_v1.pbtxt": [("rnn", [7, 4])],
    "made/dynamic_multi_lstm_v1.pb": [("lstm", [7, 16]), ("lstm", [7, 12])],
    "made/bidirectional_lstm_v1.pb": [("lstm", [7, 16]), ("lstm", [7, 16])],
    "made/dynamic_rnn_v1.meta": [("rnn", [7, 4])],
    "made/tensorboard_logdir": [("rnn", [7, 4])],
    # Keras layers: kernel inputs × gates·units, recurrent kernel apart (issue 11 item 2).
    "made/keras2_simplernn_savedmodel": [("rnn", [3, 4])],
    "made/keras2_lstm_savedmodel": [("lstm", [3, 16])],
    "made/keras2_gru_reset_after_savedmodel": [("gru", [3, 12])],
    "made/keras2_gru_reset_before_savedmodel": [("gru", [3, 12])],
    "made/keras2_bidirectional_lstm_savedmodel": [("lstm", [3, 16]), ("lstm", [3, 16])],
    "made/keras2_lstm_frozen.pb": [("lstm", [3, 16])],
    "made/keras2_gru_frozen.pb": [("gru", [3, 12])],
    "made/keras2_lstm_unrolled_frozen.pb": [("lstm", [3, 16])],
    "made/keras3_lstm_export": [("lstm", [3, 16])],
    "made/keras3_gru_export": [("gru", [3, 12])],
    "made/tf2_summary_graph_logs": [("lstm", [3, 16])],
    # One MatMul per gate in tf.scan: one custom cell (issue 11 item 4).
    "made/scan_handwritten_lstm_v1.pb": [("custom", None)],
    "made/scan_handwritten_lstm_v2.pb": [("custom", None)],
    # tf2onnx's test models: 28 inputs, 128 units (their tests/models scripts).
    "others/tf2onnx_gru_frozen.pb": [("gru", [156, 256])],
    "others/tf2onnx_lstm_frozen.pb": [("lstm", [156, 512])],
    # DL4J's TensorFlow test graphs (issue 21): TensorFlow's fused kernels, one cell each, the
    # kernel [inputs + units, gates·units] of 3 units (their names' "-3"); the SRU is custom.
    "others/dl4j_lstmblockfusedcell_peephole_frozen.pb": [("lstm", [5, 12])],
    "others/dl4j_tr_lstmbfc_frozen.pb": [("lstm", [7, 12])],
    "others/dl4j_grublockcellv2_dynamic_frozen.pb": [("gru", [8, 6])],
    "others/dl4j_srucell_dynamic_frozen.pb": [("custom", None)],
}
# A tf.summary.graph trace of a Keras LSTM feeds the weights in as untyped Placeholders (the
# captured variables), so no kernel shape is recorded and the cell is not recognised.
CELLS_XFAIL = {"made/tf2_summary_graph_logs": "weights arrive as Placeholders without shapes in a "
                                              "tf.summary.graph trace; the Keras cell is not recognised"}



def _param(name: str, xfails: dict, *marks):
    marks = list(marks)
    if name in xfails:
        marks.append(pytest.mark.xfail(strict=False, reason=xfails[name]))
    return pytest.param(name, marks=marks, id=name)


# ----------------------------------------------------------------------------- truth
def _tf_graph_def(path: Path):
    """Return the GraphDef of ``path`` parsed by TensorFlow's own classes and readers."""
    from google.protobuf import text_format

    from rnngraph.model.tfcompat import tf

    t = tf()
    from tensorflow.core.framework import graph_pb2
    from tensorflow.core.protobuf import meta_graph_pb2, saved_model_pb2

    if path.is_dir():
        if (path / "saved_model.pb").exists():
            saved = saved_model_pb2.SavedModel.FromString((path / "saved_model.pb").read_bytes())
            return saved.meta_graphs[0].graph_def
        for event_file in sorted(path.rglob("*tfevents*")):
            for event in t.compat.v1.train.summary_iterator(str(event_file)):
                if event.graph_def:
                    return graph_pb2.GraphDef.FromString(event.graph_def)
        raise AssertionError(f"no graph in {path}")
    data = path.read_bytes()
    if path.suffix == ".pbtxt":
        return text_format.Parse(data.decode(), graph_pb2.GraphDef())
    if path.suffix == ".meta":
        return meta_graph_pb2.MetaGraphDef.FromString(data).graph_def
    return graph_pb2.GraphDef.FromString(data)


def _reachable_functions(graph_def) -> list:
    """Return the FunctionDefs reachable from the top-level nodes through call attributes."""
    library = {f.signature.name: f for f in graph_def.library.function}

    def called(node_defs):
        for node in node_defs:
            if node.op in library:
                yield node.op
            for key in FUNCTION_ATTRS:
                if key in node.attr:
                    value = node.attr[key]
                    if value.HasField("func"):
                        yield value.func.name
                    for func in value.list.func:
                        yield func.name

    seen, todo = [], list(called(graph_def.node))
    while todo:
        name = todo.pop()
        if name in seen or name not in library:
            continue
        seen.append(name)
        todo += list(called(library[name].node_def))
    return [library[name] for name in seen]


def truth(path: Path) -> dict:
    """Return the counts TensorFlow's protos give for ``path``."""
    graph_def = _tf_graph_def(path)
    reachable = _reachable_functions(graph_def)
    everywhere = list(graph_def.node) + [n for f in reachable for n in f.node_def]
    ops = Counter(n.op for n in everywhere)
    library = {f.signature.name for f in graph_def.library.function}
    # Weight matrices a cell's kernel can be: every 2-D variable or constant (frozen
    # Keras graphs name theirs ".../ReadVariableOp/resource", not "kernel").
    kernels, kernel_variables = [], 0
    for node in everywhere:
        if node.op in ("VariableV2", "Variable", "VarHandleOp") and "shape" in node.attr:
            shape = [d.size for d in node.attr["shape"].shape.dim]
        elif node.op == "Const" and "value" in node.attr:
            shape = [d.size for d in node.attr["value"].tensor.tensor_shape.dim]
        else:
            continue
        if len(shape) == 2:
            kernels.append(shape)
            kernel_variables += node.name.rsplit("/", 1)[-1] == "kernel"
    return {
        "nodes": len(graph_def.node),
        "v1_frames": len({n.attr["frame_name"].s for n in graph_def.node if n.op in ("Enter", "RefEnter")}),
        "while_ops": sum(ops[op] for op in WHILE_OPS),
        "functions": len(graph_def.library.function),
        "matmuls": sum(ops[op] for op in MATMUL_OPS),
        "calls": sum(ops[op] for op in CALL_OPS) + sum(1 for n in everywhere if n.op in library),
        "kernels": kernels,
        "kernel_variables": kernel_variables,
    }


def findings(path: Path) -> dict:
    """Return rnngraph's findings for ``path`` (what ``inspect --json`` prints, plus counts)."""
    from rnngraph.commands.inspect import summary
    from rnngraph.graphdef.library import function_attrs
    from rnngraph.graphdef.loaders import load_graph_def
    from rnngraph.graphdef.walk import walk
    from rnngraph.recognise.calls import site_of

    graph_def, _ = load_graph_def(path)
    G = walk(graph_def)
    G.graph["function_attrs"] = function_attrs(graph_def)
    data, _ = summary(G)
    matmul_sites = {site_of(G, n) for n, d in G.nodes(data=True)
                    if d["op"] in MATMUL_OPS and not d["missing"]}
    return {
        "nodes": data["nodes"],
        "v1_frames": sum(1 for w in data["while_loops"] if w["control_flow"] == "v1"),
        "while_ops": sum(1 for w in data["while_loops"] if w["control_flow"] == "v2"),
        "functions": len(G.graph["functions"]),
        "matmuls": len(matmul_sites),
        "calls": len(data["function_calls"]),
        "cells": [(c["kind"], c["kernel_shape"]) for c in data["cells"]],
    }


@pytest.fixture(scope="module")
def corpus_table():
    """{file id: (truth, findings)}, computed once for the whole module."""
    return {}


def _both(table: dict, name: str) -> tuple:
    if name not in table:
        path = CORPUS / name
        table[name] = (truth(path), findings(path))
    return table[name]


def test_corpus_size_and_sources():
    others = [p for p in FILES if p.parent.name == "others"]
    assert len(FILES) >= 40 and len(others) >= 15
    readme = (CORPUS / "README.md").read_text(encoding="utf-8")
    for path in FILES:
        assert f"`{path.name}`" in readme, f"{path.name} has no source line in README.md"


# ----------------------------------------------------------------------------- tests
@pytest.mark.tf
@pytest.mark.parametrize("name", IDS)
def test_counts_match_tensorflow(corpus_table, name):
    expected, found = _both(corpus_table, name)
    for key in ("nodes", "v1_frames", "while_ops", "functions", "matmuls", "calls"):
        assert found[key] == expected[key], (key, found[key], expected[key])
    for _, shape in found["cells"]:
        assert shape is None or shape in expected["kernels"], (shape, expected["kernels"])


@pytest.mark.tf
@pytest.mark.parametrize("name", [_param(n, CELLS_XFAIL) for n in sorted(EXPECTED_CELLS)])
def test_cells_match_the_code_that_wrote_them(corpus_table, name):
    _, found = _both(corpus_table, name)
    want = EXPECTED_CELLS[name]
    got = [(kind, shape if want_shape is not None else None)
           for (kind, shape), (_, want_shape) in zip(found["cells"], want)]
    assert len(found["cells"]) == len(want) and sorted(got, key=str) == sorted(want, key=str), \
        found["cells"]


def test_files_without_cells_report_none():
    for name in IDS:
        if name not in EXPECTED_CELLS:
            assert findings(CORPUS / name)["cells"] == [], name


@pytest.mark.parametrize("name", IDS)
def test_every_file_inspects(capsys, name):
    assert main(["inspect", str(CORPUS / name)]) == 0
    text = capsys.readouterr().out
    assert "while loops (" in text and "function calls (" in text
    assert main(["inspect", str(CORPUS / name), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["nodes"] > 0


@pytest.mark.dot
@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["svg", "html"])
@pytest.mark.parametrize("name", IDS)
def test_every_file_draws(tmp_path, capsys, name, fmt):
    out = tmp_path / f"drawing.{fmt}"
    status = main(["inspect", str(CORPUS / name), "--render", str(out)])
    err = capsys.readouterr().err
    assert status == 0, err
    text = out.read_text(encoding="utf-8")
    assert ("<svg" in text) if fmt == "svg" else ("<html" in text.lower())
