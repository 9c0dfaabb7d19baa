"""Keras RNN layers read from files written by plain TensorFlow/Keras (tests/fixtures/keras/).

Ground truth comes from two places the fixture script recorded with TensorFlow itself: what
Keras says about each layer (kernel and recurrent-kernel shapes, units, bias, reset_after) and
counts over the GraphDef protos (While definitions, v1 frames, MatMuls, api_implements).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from rnngraph.commands.inspect import summary
from rnngraph.graphdef.loaders import load_graph_def
from rnngraph.graphdef.walk import walk
from rnngraph.recognise.dataflow import local_name

KERAS = Path(__file__).parent / "fixtures" / "keras"
MANIFEST = json.loads((KERAS / "manifest.json").read_text())
FILES = [(model, name) for model, entry in sorted(MANIFEST.items()) if model != "hand-written"
         for name in sorted(entry["files"])]
GATES = {"lstm": ["i", "f", "c", "o"], "gru": ["z", "r", "h"], "rnn": []}


def _read(name: str):
    G = walk(load_graph_def(KERAS / name)[0])
    data, found = summary(G)
    return G, data, found


def _layer_key(path: str) -> str:
    """model_1/bidirectional_1/forward_lstm_1 -> forward_lstm (Keras 3 adds _1 when it traces)."""
    return re.sub(r"_\d+$", "", path.rsplit("/", 1)[-1])


@pytest.mark.parametrize("model,name", FILES)
def test_keras_cells_match_what_keras_says(model, name):
    G, data, found = _read(name)
    truth = {layer["layer"]: layer for layer in MANIFEST[model]["layers"]}
    cells = {_layer_key(c["layer"]): c for c in data["cells"]}
    assert sorted(cells) == sorted(truth), (name, data["cells"])
    for key, layer in truth.items():
        cell = cells[key]
        assert cell["form"] == "keras"
        assert cell["kind"] == layer["kind"]
        assert cell["kernel_shape"] == layer["kernel_shape"]
        assert cell["recurrent_kernel_shape"] == layer["recurrent_kernel_shape"]
        assert cell["bias_shape"] == layer["bias_shape"]
        assert cell["units"] == layer["units"]
        assert cell["gates"] == GATES[layer["kind"]]
        assert cell["activation"] == "tanh"
        if layer["kind"] != "rnn":
            assert cell["recurrent_activation"] == "sigmoid"
        if layer["kind"] == "gru":
            assert cell["reset_after"] is layer["reset_after"]
        if layer["wrapper"]:
            assert f"/{layer['wrapper']}" in "/" + cell["layer"].replace("_1/", "/")
        if layer["unroll"]:
            assert cell["copies"] == 5 and cell["loops"] == []
        else:
            assert cell["loops"], cell


@pytest.mark.parametrize("model,name", FILES)
def test_keras_files_match_proto_counts(model, name):
    """Loops, functions and MatMuls in the walked graph match counts over TensorFlow's protos."""
    G, data, found = _read(name)
    counts = MANIFEST[model]["files"][name]
    assert data["cells"]
    v2_bodies = {w.body_function for w in found.while_loops if w.control_flow == "v2"}
    v1 = [w for w in found.while_loops if w.control_flow == "v1"]
    assert len(v2_bodies) == counts["while_ops"]
    assert len(v1) == counts["v1_frames"]
    assert len(G.graph["functions"]) == counts["functions"]
    matmuls = {(d["function"], local_name(G, n)) for n, d in G.nodes(data=True) if d["op"] == "MatMul"}
    # Every MatMul definition the walker reached (the save/restore functions hold none).
    assert len(matmuls) <= counts["matmuls"]
    used = {(G.nodes[m]["function"], local_name(G, m)) for c in found.cells
            for m in [c.matmul, *c.recurrent_matmuls]}
    assert used <= matmuls
    for cell in data["cells"]:
        if counts["api_implements"]:
            assert cell["implementation"] and any(api in cell["implementation"]
                                                  for api in counts["api_implements"])
            assert "(GPU)" in cell["implementation"] and "(CPU)" in cell["implementation"]
        else:
            assert cell["implementation"] is None


def test_keras_cell_names_its_layer():
    _, data, _ = _read("k2-lstm.savedmodel")
    assert [c["layer"] for c in data["cells"]] == ["model/lstm"]
    _, data, _ = _read("k2-bilstm.frozen.pbtxt")
    assert sorted(c["layer"] for c in data["cells"]) == ["model/bidirectional/backward_lstm",
                                                         "model/bidirectional/forward_lstm"]


def test_keras3_export_one_cell_two_signatures():
    """model.export traces the layer once per signature: one cell used by two loops, not copies."""
    _, data, found = _read("k3-lstm.savedmodel")
    assert len(data["cells"]) == 1
    assert len(data["cells"][0]["loops"]) == 2


def test_inspect_text_reports_keras_cell():
    from rnngraph.commands.inspect import summary_text

    _, data, found = _read("k2-gru.savedmodel")
    text = summary_text("k2-gru.savedmodel", "savedmodel", data, found)
    assert "cells (1):" in text
    assert "model/gru: gru (Keras), kernel 3×12 + recurrent kernel 4×12 (3 inputs, 4 units), " \
           "gates z r h" in text
    assert "reset_after=True" in text and "implementation: standard_gru" in text


def test_tf1_cells_keep_their_keys_and_gain_new_ones():
    from rnngraph.graphdef.protos import GraphDef
    from google.protobuf import text_format

    graph_def = text_format.Parse((KERAS.parent / "lstm_static_ref.pbtxt").read_text(), GraphDef())
    data, _ = summary(walk(graph_def))
    for cell in data["cells"]:
        assert {"scope", "kind", "kernel_shape", "gates"} <= set(cell)
        assert cell["form"] == "tf1" and cell["recurrent_kernel_shape"] is None
        assert cell["layer"] == cell["scope"] and "implementation" in cell



@pytest.fixture(autouse=True)
def _keep_random_state():
    """Keras seeds its initializers from Python's and NumPy's global random state; give it back,
    so graphs other tests build later (the gallery) get the same seeds as in a fresh process."""
    import random

    python_state, numpy_state = random.getstate(), np.random.get_state()
    yield
    random.setstate(python_state)
    np.random.set_state(numpy_state)

@pytest.mark.tf
@pytest.mark.slow
def test_regenerated_fixture_matches_committed(tmp_path):
    """The fixture script still writes the same structure (op counts, cells) as the committed file."""
    import importlib.util
    import subprocess
    import sys

    script = KERAS.parent / "make_keras_fixtures.py"
    # Its own process: Keras' global seeds must not leak into graphs other tests build.
    subprocess.run([sys.executable, str(script), str(tmp_path), "--only", "k2-simplernn"],
                   check=True, capture_output=True, timeout=600)
    entry = json.loads((tmp_path / "manifest.json").read_text())["k2-simplernn"]
    from rnngraph.model.tfcompat import tf

    tf()  # the script imports TensorFlow: let it start with rnngraph's switches (legacy Keras)
    spec = importlib.util.spec_from_file_location("mkf", script)
    mkf = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mkf)
    for name, counts in entry["files"].items():
        committed = MANIFEST["k2-simplernn"]["files"][name]
        stable = ("while_ops", "v1_frames", "matmuls", "form")
        assert {k: counts[k] for k in stable} == {k: committed[k] for k in stable}
        fresh, old = mkf.graph_def_of(tmp_path / name), mkf.graph_def_of(KERAS / name)

        def ops(graph_def):
            return Counter([n.op for n in graph_def.node] +
                           [n.op for f in graph_def.library.function for n in f.node_def])

        # A SavedModel's helper functions depend on what Keras traced before in the process;
        # the frozen graphs hold only the model.
        # Lowering to v1 leaves a number of unused Placeholders that varies between runs.
        if counts["form"] != "savedmodel":
            assert counts == committed
            drop = {"Placeholder"} if counts["form"] == "frozen-v1" else set()
            assert {k: v for k, v in ops(fresh).items() if k not in drop} == \
                {k: v for k, v in ops(old).items() if k not in drop}
        new_cells = summary(walk(load_graph_def(tmp_path / name)[0]))[0]["cells"]
        old_cells = summary(walk(load_graph_def(KERAS / name)[0]))[0]["cells"]
        drop = ("implementation",)
        assert [{k: v for k, v in c.items() if k not in drop} for c in new_cells] == \
               [{k: v for k, v in c.items() if k not in drop} for c in old_cells]


HAND = MANIFEST["hand-written"]


@pytest.mark.parametrize("name", sorted(HAND))
def test_hand_written_cell_is_one_custom_cell(name):
    """One MatMul per gate in tf.scan / while_loop: one custom cell, its gates as parts, real sizes."""
    G, data, found = _read(name)
    truth = HAND[name]
    assert len(found.while_loops) == truth["loops"] == truth["while_ops"] + truth["v1_frames"]
    assert [c["kind"] for c in data["cells"]] == ["custom"]
    cell = data["cells"][0]
    assert cell["form"] == "custom" and cell["units"] == truth["units"]
    assert sum(len(p["weights"]) for p in cell["parts"]) == truth["gate_matmuls"] == truth["matmuls"]
    assert sorted(p["activation"] for p in cell["parts"]) == truth["activations"]
    for part in cell["parts"]:
        for w in part["weights"]:
            # every weight has units columns: no "151×75 (1 inputs)" sizes
            assert w["shape"][1] == truth["units"]
            assert w["input"] in ("x", "h", "[x, h]")
        assert bool(part["bias"]) is (truth["variables"] > truth["gate_matmuls"])
    assert len(cell["loops"]) == 1


def test_hand_written_gates_are_not_separate_cells_in_text():
    from rnngraph.commands.inspect import summary_text

    _, data, found = _read("hand-lstm-concat-v1.pbtxt")
    text = summary_text("f", "graphdef-text", data, found)
    assert "cells (1):" in text and "custom cell (hand-written), 4 gate-like parts, state of 4 units" in text
    assert "sigmoid([x, h]·7×4 + bias)" in text and ": rnn," not in text


def test_keras_unrolled_copies_stack_like_static_rnn():
    """unroll=True: 5 copies of one cell, compared step by step and stacked (repeats.py)."""
    from rnngraph.recognise.repeats import find_unrolled

    G = walk(load_graph_def(KERAS / "k2-lstm-unroll.frozen.pbtxt")[0])
    unrolled = find_unrolled(G)
    assert unrolled.source == "model/lstm/unstack" and unrolled.steps == 5
    # Each copy reads the frozen kernel through its own Identity: still the same structure.
    assert [(r.first, r.last, r.scope) for r in unrolled.runs] == [(0, 3, "model/lstm/lstm_cell")]
