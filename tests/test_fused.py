"""TensorFlow's fused RNN kernels are cells (issue 21): recognised, drawn with their inputs named,
explained, and verified with NumPy against the op TensorFlow runs.

Ground truth: ``tests/fixtures/fused/manifest.json``, written by ``make_fused_fixtures.py`` from
TensorFlow's own graph (each op's attributes, its OpDef's input names, the input shapes TensorFlow
infers), and running the ops with TensorFlow (the ``tf`` tests).
"""

from __future__ import annotations

import copy
import json
import math
import re
from pathlib import Path

import pytest

from rnngraph.cli import main
from rnngraph.graphdef.loaders import load_graph_def
from rnngraph.graphdef.walk import walk
from rnngraph.recognise import recognise
from rnngraph.recognise.fused import CUDNN_GATES, cudnn_params_size

HERE = Path(__file__).parent / "fixtures" / "fused"
MANIFEST = json.loads((HERE / "manifest.json").read_text())
RUNNABLE = ["blocklstm_peephole", "blocklstmv2_reversed", "blocklstm_reverse_sequence",
            "lstmblockcell", "grublockcell_v1_loop"]
# What the generator wrote around each op (its code, make_fused_fixtures.py): time reversals.
BACKWARD = {"blocklstmv2_reversed": "bw_lstm", "blocklstm_reverse_sequence": "bw_lstm"}
# The gate order of each op's weight columns, per TensorFlow's kernels (lstm_ops.h: i, ci, f, o;
# BlockLSTMV2 keeps Keras' i, f, ci, o; gru_ops.h: r, u then the candidate), checked
# numerically by the verify tests below.
GATES = {"BlockLSTM": ["i", "ci", "f", "o"], "LSTMBlockCell": ["i", "ci", "f", "o"],
         "BlockLSTMV2": ["i", "f", "ci", "o"], "GRUBlockCell": ["r", "u", "c"]}


def _cells(name: str) -> dict:
    graph_def, _ = load_graph_def(HERE / f"{name}.pbtxt")
    found = recognise(walk(graph_def))
    return {c.scope: c for c in found.cells if c.form == "fused"}


def _ops(name: str) -> dict:
    return {k: v for k, v in MANIFEST[name].items()
            if v["op"] not in ("CudnnRNNCanonicalToParams", "CudnnRNNParamsToCanonical")}


@pytest.mark.parametrize("name", sorted(MANIFEST))
def test_every_fused_op_is_one_cell_with_its_inputs_named(name):
    cells = _cells(name)
    assert set(cells) == set(_ops(name))
    for node, truth in _ops(name).items():
        cell, attrs = cells[node], truth["attrs"]
        assert cell.fused["op"] == truth["op"] and cell.implementation == truth["op"]
        assert [i["name"] for i in cell.fused["inputs"]] == [i["name"] for i in truth["inputs"]]
        assert [i["source"] for i in cell.fused["inputs"]] == \
            [i["tensor"][:-2] if i["tensor"].endswith(":0") else i["tensor"] for i in truth["inputs"]]
        shapes = {i["name"]: i["shape"] for i in truth["inputs"]}
        x = shapes.get("x") or shapes.get("input")
        assert cell.n_inputs == x[-1]
        h = shapes["h_prev"] if "h_prev" in shapes else shapes["input_h"]
        assert cell.n_neurons == h[-1]
        if truth["op"] in GATES:
            assert cell.gates == GATES[truth["op"]]
        if "forget_bias" in attrs:
            assert cell.forget_bias == attrs["forget_bias"]
        elif truth["op"] == "BlockLSTMV2":
            assert cell.forget_bias == 0.0  # the V2 kernel adds no forget bias
        if "cell_clip" in attrs:
            assert cell.fused["cell_clip"] == (attrs["cell_clip"] if attrs["cell_clip"] > 0 else None)
        if "use_peephole" in attrs:
            assert cell.fused["use_peephole"] == attrs["use_peephole"]
            assert sorted(cell.peepholes) == (["f", "i", "o"] if attrs["use_peephole"] else [])
        if "rnn_mode" in attrs:
            dirs = 2 if attrs["direction"] == "bidirectional" else 1
            assert (cell.fused["rnn_mode"], cell.fused["direction"]) == (attrs["rnn_mode"], attrs["direction"])
            assert cell.fused["layers"] == h[0] // dirs
            assert cell.gates == (list(CUDNN_GATES[attrs["rnn_mode"]]) if attrs["rnn_mode"] in ("lstm", "gru") else [])
            assert cell.fused["time_major"] == attrs.get("time_major", True)
            assert cell.fused["gpu_only"]
        expected = "backward" if BACKWARD.get(name) == node else \
            attrs.get("direction", "forward")
        assert cell.fused["direction"] == expected


def test_a_cell_in_a_v1_loop_is_one_step_of_that_loop():
    cell = _cells("grublockcell_v1_loop")["rnn/gru_cell"]
    assert cell.fused["steps"] == "one" and cell.loops == ["frame rnn/while_context"]


def test_the_params_buffer_size_is_cudnn_s_canonical_layout():
    """The size rnngraph expects equals the weights and biases TensorFlow packs into the buffer."""
    canonical = next(v for v in MANIFEST["cudnn_rnn"].values() if v["op"] == "CudnnRNNCanonicalToParams")
    packed = sum(math.prod(i["shape"]) for i in canonical["inputs"] if i["name"].startswith(("weights", "biases")))
    cells = _cells("cudnn_rnn")
    params = cells["cudnn_lstm"].fused["params"]
    assert (params["size"], params["expected"], params["canonical"]) == (packed, packed, "lstm_params")
    # one W and one R per gate: the canonical weights TensorFlow packed
    assert params["matrices"] == sum(i["name"].startswith("weights") for i in canonical["inputs"])
    unpack = next(v for k, v in MANIFEST["cudnn_rnn"].items() if v["op"] == "CudnnRNNParamsToCanonical")
    assert cells["cudnn_bigru"].fused["params"]["unpacked_by"] == [
        {"node": "gru_canonical", "weights": unpack["attrs"]["num_params"],
         "biases": unpack["attrs"]["num_params"]}]
    assert cells["cudnn_bigru"].fused["params"]["matrices"] == unpack["attrs"]["num_params"]
    for node, truth in _ops("cudnn_rnn").items():
        params = next(i["shape"] for i in truth["inputs"] if i["name"] == "params")
        if params[0] is not None:
            assert cells[node].fused["params"]["size"] == params[0]
    assert cudnn_params_size("gru", 3, 4, 1, 2) == 216 and cudnn_params_size("lstm", 3, 4, 2, 1) == 144 + 4 * (16 + 16 + 8)


def test_inspect_names_every_input_and_setting(capsys):
    assert main(["inspect", str(HERE / "blocklstm_peephole.pbtxt")]) == 0
    out = capsys.readouterr().out
    assert ("lstm (BlockLSTM): fused LSTM kernel, 3 inputs, 4 units, gates i ci f o, forget bias 1, "
            "cell clip 0.5, peepholes wci wcf wco, forward, time-major [time, batch, features], "
            "the whole sequence in one op") in out
    assert "inputs: seq_len_max = 4, x 4×?×3 ← x, cs_prev ?×4 ← cs_prev" in out
    assert main(["inspect", str(HERE / "blocklstmv2_reversed.pbtxt"), "--json"]) == 0
    cell = json.loads(capsys.readouterr().out)["cells"][0]
    assert cell["form"] == "fused" and cell["fused"]["direction"] == "backward"
    assert cell["fused"]["reversed_by"] == ["reverse_input", "reverse_output"]


def test_the_drawing_names_each_input_edge(capsys, tmp_path):
    out = tmp_path / "g.dot"
    assert main(["inspect", str(HERE / "blocklstm_peephole.pbtxt"), "--render", str(out)]) == 0
    dot = out.read_text()
    truth = MANIFEST["blocklstm_peephole"]["lstm"]["inputs"]
    for item in truth:
        source = item["tensor"][:-2]
        edge = re.search(rf'"{re.escape(source)}" -> "lstm" \[x?label=" ([^"]*)"', dot)
        if edge:  # drawn as an edge: labelled with the input's name
            assert edge.group(1).startswith(item["name"] + ":"), edge.group(1)
        else:  # folded into the op's box: named there
            assert re.search(rf"\\n{item['name']}( \({re.escape(source)}\))? = ", dot), item
    assert '"lstm" -> "output" [xlabel=" h: ' in dot and '"lstm" -> "cell_states" [xlabel=" cs: ' in dot


def test_explain_says_what_the_op_computes(capsys):
    assert main(["explain", "lstm", "--file", str(HERE / "blocklstm_peephole.pbtxt")]) == 0
    out = capsys.readouterr().out
    assert "    f  = σ(f + 1 + wcf ⊙ c_(t−1))" in out
    assert "    c_t = clip(ci ⊙ i + c_(t−1) ⊙ f, −0.5, 0.5)" in out
    assert main(["explain", "lstm", "--file", str(HERE / "blocklstmv2_reversed.pbtxt")]) == 0
    out = capsys.readouterr().out
    assert "[i, f, ci, o] = [x_t, h_(t−1)] · w + b" in out and "f  = σ(f)" in out
    assert "It runs backward in time: its x comes through reverse_input" in out


def test_cudnn_explain_says_verify_needs_a_gpu(capsys):
    assert main(["explain", "lstm", "--file", str(HERE / "cudnn_rnn.pbtxt")]) == 0
    out = capsys.readouterr().out
    assert out.count("--verify is unavailable without a GPU: TensorFlow has no CPU kernel for ") == 2
    assert "The params buffer holds 144 values; the canonical layout for these sizes needs 144" in out
    status = main(["explain", "gru", "--file", str(HERE / "cudnn_rnn.pbtxt"), "--verify"])
    err = capsys.readouterr().err
    assert status == 1 and err.count("\n") == 1
    assert "--verify cannot check cudnn_bigru: TensorFlow has no CPU kernel for CudnnRNNV2" in err


@pytest.mark.tf
@pytest.mark.slow
def test_cudnn_ops_have_no_cpu_kernel():
    """The claim explain makes: TensorFlow cannot run CudnnRNN on a CPU."""
    from rnngraph.model.tfcompat import tf as _tf

    tf = _tf()
    graph_def, _ = load_graph_def(HERE / "cudnn_rnn.pbtxt")
    graph = tf.Graph()
    with graph.as_default():
        tf.compat.v1.import_graph_def(tf.compat.v1.GraphDef.FromString(graph_def.SerializeToString()), name="")
    with tf.compat.v1.Session(graph=graph, config=tf.compat.v1.ConfigProto(device_count={"GPU": 0})) as sess:
        with pytest.raises(tf.errors.OpError, match="CudnnRNN"):
            sess.run("lstm_output:0", {"x:0": [[[0.0] * 3] * 2] * 4})


def _verify(name: str, change=None) -> dict:
    from rnngraph.explain.fused import verify_fused

    graph_def, kind = load_graph_def(HERE / f"{name}.pbtxt")
    cells = list(_cells(name).values())
    if change is not None:
        cells = [copy.deepcopy(c) for c in cells]
        for cell in cells:
            change(cell)
    return verify_fused(kind, graph_def, cells)


@pytest.mark.tf
@pytest.mark.parametrize("name", RUNNABLE)
def test_verify_matches_the_op_tensorflow_runs(name):
    result = _verify(name)
    assert result["ok"] and result["max_abs_diff"] <= 1e-5, result


def _swap(cell, a, b):
    i, j = cell.gates.index(a), cell.gates.index(b)
    cell.gates[i], cell.gates[j] = b, a


@pytest.mark.tf
@pytest.mark.parametrize("name, change", [
    ("blocklstm_peephole", lambda c: _swap(c, "i", "f")),
    ("blocklstm_peephole", lambda c: setattr(c, "forget_bias", None)),
    ("blocklstm_peephole", lambda c: c.fused.update(use_peephole=False)),
    ("blocklstm_peephole", lambda c: c.fused.update(cell_clip=None)),
    ("blocklstmv2_reversed", lambda c: _swap(c, "f", "ci")),
    ("blocklstmv2_reversed", lambda c: setattr(c, "forget_bias", 1.0)),
    ("lstmblockcell", lambda c: setattr(c, "forget_bias", None)),
    ("grublockcell_v1_loop", lambda c: _swap(c, "r", "u")),
])
def test_a_wrong_numpy_cell_fails(name, change):
    result = _verify(name, change)
    assert not result["ok"] and result["max_abs_diff"] > 1e-3, result


def test_a_hand_written_cell_on_one_fused_matmul_is_custom(capsys):
    """An SRU (make_fused_fixtures.py: x_t · W once, split into candidate, forget and reset
    blocks of 3, the state c updated elementwise) is one custom cell around the graph's only
    MatMul, with the state's 3 units."""
    from google.protobuf import text_format

    from rnngraph.graphdef.protos import GraphDef

    graph_def = text_format.Parse((HERE / "sru_fused_matmul.pbtxt").read_text(), GraphDef(),
                                  allow_unknown_field=True)
    matmuls = [n.name for n in graph_def.node if n.op == "MatMul"]
    acts = sorted(n.name for n in graph_def.node if n.op in ("Sigmoid", "Tanh"))
    found = recognise(walk(graph_def))
    assert len(matmuls) == 1 and len(found.cells) == 1
    cell = found.cells[0]
    assert (cell.form, cell.kind, cell.matmul, cell.n_neurons) == ("custom", "custom", matmuls[0], 3)
    assert sorted(p["node"] for p in cell.parts) == acts
    assert cell.loops == ["frame rnn/while_context"]
    assert main(["inspect", str(HERE / "sru_fused_matmul.pbtxt")]) == 0
    assert "rnn/sru: custom cell (hand-written), 2 gate-like parts, state of 3 units" in capsys.readouterr().out


CORPUS = Path(__file__).parent / "fixtures" / "corpus" / "others"
# DL4J's frozen TensorFlow test graphs (corpus README): what their generator says it built.
REAL = {"dl4j_lstmblockfusedcell_peephole_frozen.pb": ("BlockLSTM", "forward", True),
        "dl4j_tr_lstmbfc_frozen.pb": ("BlockLSTM", "backward", False),
        "dl4j_grublockcellv2_dynamic_frozen.pb": ("GRUBlockCell", "forward", None)}


def _real_graph(name: str):
    graph_def, kind = load_graph_def(CORPUS / name)
    return graph_def, kind, recognise(walk(graph_def))


@pytest.mark.parametrize("name", sorted(REAL))
def test_real_fused_graphs_are_recognised_from_their_attributes(name):
    graph_def, _, found = _real_graph(name)
    op, direction, peephole = REAL[name]
    node = next(n for n in graph_def.node if n.op == op)
    (cell,) = [c for c in found.cells if c.form == "fused"]
    assert (cell.scope, cell.fused["op"], cell.fused["direction"]) == (node.name, op, direction)
    assert [i["source"] for i in cell.fused["inputs"]] == [i.split(":0")[0] for i in node.input]
    if peephole is not None:
        assert cell.fused["use_peephole"] is node.attr["use_peephole"].b is peephole
        assert cell.forget_bias == pytest.approx(node.attr["forget_bias"].f)


@pytest.mark.tf
@pytest.mark.parametrize("name", sorted(REAL))
def test_real_fused_graphs_verify(name):
    from rnngraph.explain.fused import verify_fused

    graph_def, kind, found = _real_graph(name)
    result = verify_fused(kind, graph_def, [c for c in found.cells if c.form == "fused"])
    assert result["ok"] and result["max_abs_diff"] <= 1e-5, result


def test_the_page_s_structures_panel_names_the_fused_op():
    from rnngraph.draw.html import structures

    graph_def, _ = load_graph_def(HERE / "grublockcell_v1_loop.pbtxt")
    (entry,) = [s for s in structures(walk(graph_def)) if s["nodes"] == ["rnn/gru_cell"]]
    truth = MANIFEST["grublockcell_v1_loop"]["rnn/gru_cell"]
    assert entry["text"].startswith("TensorFlow's fused GRUBlockCell kernel: one op computes the gru cell")
    assert entry["text"].endswith("reading " + ", ".join(i["name"] for i in truth["inputs"]) + ".")


def test_the_readme_example_is_what_inspect_prints(capsys):
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    block = readme.split("$ rnngraph inspect tests/fixtures/fused/blocklstmv2_reversed.pbtxt\n", 1)[1]
    lines = block.split("```", 1)[0].splitlines()
    assert main(["inspect", str(HERE / "blocklstmv2_reversed.pbtxt")]) == 0
    out = capsys.readouterr().out
    assert lines[0] in out and lines[1] in out
    assert lines[2].rstrip(", ...").rstrip(".") in out


@pytest.mark.parametrize("attr, value, message", [
    ("cell_clip", 's: "big"', "its attribute 'cell_clip' should be a number, but the file holds a string (s)"),
    ("use_peephole", "i: 1", "its attribute 'use_peephole' should be a boolean, but the file holds an integer (i)"),
])
def test_a_fused_op_with_a_wrong_attribute_is_refused_in_one_line(capsys, tmp_path, attr, value, message):
    text = (HERE / "blocklstm_peephole.pbtxt").read_text()
    text = re.sub(rf'key: "{attr}"\n(\s*)value \{{\n\s*[^\n]*\n', rf'key: "{attr}"\n\1value {{\n\1  {value}\n', text)
    path = tmp_path / "bad.pbtxt"
    path.write_text(text)
    status = main(["inspect", str(path)])
    err = capsys.readouterr().err
    assert status == 1 and err.count("\n") == 1 and message in err, err


@pytest.mark.tf
@pytest.mark.slow
@pytest.mark.parametrize("layer, mode, inputs, units", [("LSTM", "lstm", 3, 4), ("GRU", "gru", 5, 2)])
def test_the_params_size_is_the_buffer_keras_packs_for_cudnn(layer, mode, inputs, units):
    """tf_keras packs a layer's weights for CudnnRNN with its own canonical_to_params (its
    gpu_lstm / gpu_gru code): that buffer's size is what rnngraph expects."""
    import numpy as np
    import tensorflow as tf
    import tf_keras
    from tf_keras.src.layers.rnn import gru_lstm_utils

    cell = getattr(tf_keras.layers, layer)(units)
    cell.build((None, 1, inputs))
    kernel, recurrent, bias = cell.get_weights()
    gates = len(CUDNN_GATES[mode])
    weights = np.split(kernel, gates, 1) + np.split(recurrent, gates, 1)
    biases = np.split(np.concatenate([np.zeros_like(bias), bias]) if mode == "lstm"
                      else bias.reshape(-1), 2 * gates)
    params = gru_lstm_utils.canonical_to_params(
        weights=[tf.constant(w) for w in weights], biases=[tf.constant(b) for b in biases],
        shape=tf.constant([-1]), transpose_weights=True)
    assert int(params.shape[0]) == cudnn_params_size(mode, inputs, units, 1, 1)


def test_the_cell_focus_notes_what_the_op_was_read_to_compute(tmp_path):
    out = tmp_path / "cell.dot"
    assert main(["inspect", str(HERE / "blocklstm_peephole.pbtxt"), "--render", str(out),
                 "--focus", "cell"]) == 0
    attrs = MANIFEST["blocklstm_peephole"]["lstm"]["attrs"]
    note = (f"BlockLSTM: the whole lstm cell in one op over the whole sequence; gates i ci f o; "
            f"forget bias {attrs['forget_bias']:g}; cell clip {attrs['cell_clip']:g}; "
            f"peepholes wci wcf wco")
    dot = re.sub(r"\\n", " ", out.read_text())
    assert note in dot, dot
