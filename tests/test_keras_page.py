"""The linked Keras page: layer boxes labelled with facts read from the file, opening to their ops.

Ground truth: tests/fixtures/keras_files/manifest.json (written from Keras' own layer objects by
make_keras_files.py) and, for a legacy Keras 2 file of the corpus, Keras (tf_keras) loading it
here; never rnngraph.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from rnngraph.draw.keras_page import layer_label
from test_html import chromium  # noqa: F401 (the module's one Chromium)
from rnngraph.graphdef.keras_file import read_keras_model
from rnngraph.graphdef.keras_groups import PLUMBING, group_by_layer, layer_facts

FOLDER = Path(__file__).parent / "fixtures" / "keras_files"
MANIFEST = json.loads((FOLDER / "manifest.json").read_text())
LEGACY = Path(__file__).parent / "fixtures" / "corpus" / "keras" / "lstm-multi_model.h5"  # Keras 2.3.1
# Keras 3 LSTM, GRU, SimpleRNN, Bidirectional, stacked GRU+SimpleRNN+Dense; tf_keras LSTM and stack
FACT_FILES = ["k3-lstm.keras", "k3-gru.keras", "k3-simplernn.keras", "k3-bilstm.keras",
              "k3-gru-rnn-dense.keras", "k2-lstm.h5", "k2-lstm-seq.keras", "k2-bilstm.h5",
              "k2-gru-rnn-dense.h5"]


def _facts(path: Path) -> dict:
    model = read_keras_model(path, path.read_bytes())
    return {layer.name: layer_facts(layer) for layer in model.layers}


@pytest.mark.parametrize("file", FACT_FILES)
def test_layer_box_facts_equal_keras_layer_objects(file):
    facts = _facts(FOLDER / file)
    truth = MANIFEST[file.rsplit(".", 1)[0]]["layers"]
    assert [l["name"] for l in truth] == [n for n, f in facts.items() if f["class"] in
                                         {l["class"] for l in truth}]
    for want in truth:
        got = facts[want["name"]]
        assert got["class"] == want["class"]
        parts = got["inner"] or [got]
        assert sorted(s for p in parts for _, s in p["weights"]) == want["weights"]
        if "merge_mode" in want:
            assert got["merge_mode"] == want["merge_mode"]
        for rnn, part in zip(want.get("rnns", []), parts):
            assert part["name"] == rnn["name"] and part["class"] + "Cell" == rnn["cell"]
            assert part["units"] == rnn["units"] and part["activation"] == rnn["activation"]
            for flag in ("return_sequences", "return_state", "go_backwards", "unroll"):
                assert (flag in part["flags"]) == rnn[flag], (part["name"], flag)
            shapes = dict(map(tuple, ((n, s) for n, s in part["weights"])))
            assert [shapes["kernel"], shapes["recurrent_kernel"], shapes.get("bias")] == \
                [rnn["kernel"], rnn["recurrent_kernel"], rnn["bias"]]
        # the closed box says the same: class, units, each weight's shape
        text = "\n".join(layer_label(got, 7))
        assert text.startswith(want["name"] + "\n" + want["class"]) and "7 ops" in text
        for rnn in want.get("rnns", []):
            assert f"{rnn['units']} units" in text
            assert f"kernel {'×'.join(map(str, rnn['kernel']))}" in text
            assert f"recurrent_kernel {'×'.join(map(str, rnn['recurrent_kernel']))}" in text


@pytest.mark.tf
@pytest.mark.slow
def test_legacy_keras2_layer_facts_equal_what_tf_keras_loads():
    """A Keras 2.3.1 .h5 from another project: units and weight shapes as tf_keras builds them."""
    code = ("import json, sys, tf_keras as k\n"
            "m = k.models.load_model(sys.argv[1], compile=False)\n"
            "print(json.dumps([[l.name, type(l).__name__, getattr(l, 'units', None),\n"
            "                   sorted(list(w.shape) for w in l.weights)] for l in m.layers]))\n")
    done = subprocess.run([sys.executable, "-c", code, str(LEGACY)], capture_output=True, text=True,
                          env=dict(os.environ, TF_USE_LEGACY_KERAS="1", TF_CPP_MIN_LOG_LEVEL="3"),
                          check=True, timeout=300)
    truth = json.loads(done.stdout.strip().splitlines()[-1])
    facts = _facts(LEGACY)
    # a Sequential model lists no InputLayer; the file's config holds one
    assert [t[0] for t in truth] == [n for n, f in facts.items() if f["class"] != "InputLayer"]
    for name, cls, units, shapes in truth:
        got = facts[name]
        assert got["class"] == cls and got.get("units") == units
        assert sorted(s for _, s in got["weights"]) == shapes
        if units is not None:
            assert f"{units} unit" in "\n".join(layer_label(got))


def test_ops_group_by_the_scope_and_ops_each_layer_made():
    """Hand-made trace: Keras 3 names (call suffixes, an op that opens no scope), inlined calls."""
    from rnngraph.graphdef import protos

    graph_def = protos.GraphDef()
    for name, op, inputs in [("x", "Placeholder", []), ("m_1/NotEqual", "NotEqual", ["x"]),
                             ("m_1/lstm_1/transpose", "Transpose", ["x", "^m_1/NotEqual"]),
                             ("m_1/lstm_1/while", "While", ["m_1/lstm_1/transpose:0"]),
                             ("Func/m_1/lstm_1/while/input/_0", "Identity", ["m_1/lstm_1/while:1"]),
                             ("m_1/dense_1/MatMul/ReadVariableOp/resource", "Const", []),
                             ("m_1/dense_1/MatMul", "MatMul", ["Func/m_1/lstm_1/while/input/_0",
                                                               "m_1/dense_1/MatMul/ReadVariableOp/resource"]),
                             ("Identity", "Identity", ["m_1/dense_1/MatMul"]), ("NoOp", "NoOp", [])]:
        node = graph_def.node.add(name=name, op=op)
        node.input.extend(inputs)
    scopes = {"not_equal": ["m_1"], "lstm": ["m_1/lstm_1"], "dense": ["m_1/dense_1"]}
    ops = {"not_equal": ["m_1/NotEqual"], "lstm": ["m_1/lstm_1/transpose", "m_1/lstm_1/while"],
           "dense": ["m_1/dense_1/MatMul"]}
    grouped, back = group_by_layer(graph_def, scopes, "x", ops)
    names = {n.name: list(n.input) for n in grouped.node}
    assert sorted(names) == sorted(["x", "not_equal/m_1/NotEqual", "lstm/transpose", "lstm/while",
                                    "lstm/Func/while/input/_0", "dense/MatMul/ReadVariableOp/resource",
                                    "dense/MatMul", "Identity", "NoOp"])
    assert names["lstm/transpose"] == ["x", "^not_equal/m_1/NotEqual"]
    assert names["dense/MatMul"] == ["lstm/Func/while/input/_0", "dense/MatMul/ReadVariableOp/resource"]
    assert back["lstm/while"] == "m_1/lstm_1/while" and len(back) == len(graph_def.node)
    # without the op lists, the model's scope (shared by not_equal and any) names no layer
    alone, _ = group_by_layer(graph_def, dict(scopes, any=["m_1"]), "x")
    assert "m_1/NotEqual" in {n.name for n in alone.node}


# --- traced (TensorFlow) ------------------------------------------------------------------------

_LINKED: dict = {}


def _linked(file: str):
    """Return (walked grouped graph, layer view, the page's data) of a fixture, traced once."""
    if file not in _LINKED:
        from rnngraph.commands.keras_linked import linked_facts
        from rnngraph.commands.keras_view import linked_view
        from rnngraph.draw.html import interactive_data  # noqa: F401  (the page's own data path)
        from rnngraph.draw.keras_page import render_linked_html
        from rnngraph.graphdef.walk import walk

        graph_def, _, model, _ = linked_view(FOLDER / file)
        graph = walk(graph_def)
        page = render_linked_html(graph, linked_facts(model))
        start = page.index('id="rg-data">') + len('id="rg-data">')
        data = json.loads(page[start:page.index("</script>", start)])
        _LINKED[file] = graph, model, data, page
    return _LINKED[file]


@pytest.mark.tf
@pytest.mark.slow
@pytest.mark.parametrize("file", ["k3-lstm.keras", "k2-bilstm.h5", "k3-gru-rnn-dense.keras",
                                  "k2-lstm-mask.h5", "k3-lstm-unroll.keras"])
def test_every_traced_op_lies_under_exactly_one_keras_layer(file):
    from rnngraph.recognise import recognise
    from rnngraph.recognise.keras_link import link_cells

    graph, model, data, _ = _linked(file)
    truth = MANIFEST[file.rsplit(".", 1)[0]]["layers"]
    layers = {l["name"] for l in truth}  # the names Keras reported for its layers
    heads = {}
    for name in graph.nodes:
        head = name.split("/")[0]
        heads.setdefault(head if head in layers else PLUMBING, []).append(name)
    # what no layer made is only the traced function's output and its control sink
    plumbing = heads.pop(PLUMBING, [])
    assert sorted(graph.nodes[n]["op"] for n in plumbing) == ["Identity", "NoOp"], plumbing
    # every layer with weights made ops; the input layer is the traced placeholder
    assert {l["name"] for l in truth if l["weights"]} <= set(heads)
    assert [graph.nodes[n]["op"] for n in heads[model.inputs[0]]] == ["Placeholder"]
    # each recurrent layer's recognised cell lies inside its own layer's ops and links to it
    cells = recognise(graph).cells
    rnn_names = sorted(r["name"] for l in truth for r in l.get("rnns", []))
    links = link_cells(cells, model)
    assert sorted(set(links.values())) == rnn_names  # unrolled: one cell per step, all one layer
    owner = {r["name"]: l["name"] for l in truth for r in l.get("rnns", [])}
    for cell in cells:
        assert {n.split("/")[0] for n in cell.nodes} == {owner[links[cell.scope]]}
    # the page: one closed box per layer, labelled from the file; nothing of a layer open at first
    scopes = data["scene"]["scopes"]
    for name in set(heads) - {model.inputs[0]}:
        assert layer_label(layer_facts(model.layer(name)))[1] in scopes[name][0]
    assert not set(heads) & set(data["open"]) and data["gatesOnOpen"] is True
    # every op's panel names its layer
    parts = {s["title"]: k for k, s in enumerate(data["structures"])}
    for node in data["nodes"]:
        head = node["n"].split("/")[0]
        if head in heads:
            assert parts[f"Keras layer {head} ({model.layer(head).class_name})"] in node["s"], node["n"]
    # no box stands outside its layer: unrolled step copies are not stacked into one box
    assert not [b for b in data["scene"]["boxes"] if b[0].startswith("stack::")]


@pytest.mark.tf
@pytest.mark.slow
def test_linked_page_is_deterministic_and_shown_in_jupyter():
    """Traced twice (here and through rnngraph.keras_page), the page is the same text."""
    import rnngraph
    from rnngraph.commands.keras_linked import linked_facts
    from rnngraph.draw.dot import RenderOptions
    from rnngraph.draw.keras_page import render_linked_html

    graph, model, _, page = _linked("k3-lstm.keras")
    assert render_linked_html(graph, linked_facts(model)) == page
    shown = rnngraph.keras_page(FOLDER / "k3-lstm.keras")
    title = "k3-lstm.keras — Keras layers and the ops TensorFlow builds for them"
    assert shown.html == render_linked_html(graph, linked_facts(model), RenderOptions(title=title))
    shown_html = shown._repr_html_()  # the page in a sandboxed iframe, the layer view under it
    assert '<iframe srcdoc="&lt;!DOCTYPE html&gt;' in shown_html and 'sandbox="allow-scripts"' in shown_html
    assert "<svg" in shown.svg and "lstm" in shown.svg


@pytest.mark.tf
@pytest.mark.slow
def test_inspect_draws_the_linked_page_and_says_so(tmp_path, capsys):
    from rnngraph.cli import main

    out = tmp_path / "m.html"
    assert main(["inspect", str(FOLDER / "k2-gru-rnn-dense.h5"), "--render", str(out)]) == 0
    text = capsys.readouterr().out
    assert "linked page: 4 Keras layers drawn as boxes that open to their ops (x, gru, simple_rnn, dense)" in text
    page = out.read_text(encoding="utf-8")
    assert "GRU, 4 units, tanh / sigmoid" in page and "return_sequences go_backwards" in page
    assert main(["inspect", str(FOLDER / "k2-gru.h5"), "--view", "linked", "--render",
                 str(tmp_path / "g.svg")]) == 2
    assert "--view linked draws an html page" in capsys.readouterr().err


def test_without_tensorflow_the_page_is_the_layer_view_and_one_line_says_why(monkeypatch, tmp_path, capsys):
    import importlib.util

    from rnngraph.cli import main

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *rest: None if name == "tensorflow" else real(name, *rest))
    out = tmp_path / "m.html"
    assert main(["inspect", str(FOLDER / "k3-lstm.keras"), "--render", str(out)]) == 0
    err = capsys.readouterr().err
    assert "rnngraph: the Keras layers' ops need TensorFlow (pip install tensorflow); this page is the " \
           "layer view only" in err.splitlines()
    page = out.read_text(encoding="utf-8")
    assert "Keras layer: LSTM" not in page and '"o":"LSTM"' in page  # the layer view's LSTM node


@pytest.mark.browser
@pytest.mark.tf
@pytest.mark.slow
def test_a_layer_box_opens_to_its_cell_with_the_gates_in_view(tmp_path, chromium):  # noqa: F811
    """Chromium: the first view is the closed layer boxes; clicking the LSTM's shows its gates."""
    from test_first_view import _GEOMETRY, _gate_nodes
    from test_html import _CLICK, _act, _open

    graph, model, data, page = _linked("k3-lstm.keras")
    path = tmp_path / "k3-lstm.html"
    path.write_text(page, encoding="utf-8")
    _open(chromium, path.as_uri())
    shots = os.environ.get("RNNGRAPH_SHOTS")  # keep the screenshots to look at
    if shots:
        chromium.save_screenshot(str(Path(shots) / "keras-linked-first.png"))
    first = chromium.execute_script(_GEOMETRY)
    assert set(first) == {"scope::lstm", "x", "Identity", "NoOp"}, sorted(first)
    label = "\n".join(first["scope::lstm"]["text"])
    assert label.startswith("lstm\nLSTM, 4 units, tanh / sigmoid\nkernel 3×16, recurrent_kernel 4×16, bias 16")
    assert first["scope::lstm"]["inside"] and first["scope::lstm"]["px"] >= 10
    box = chromium.execute_script(
        "return document.querySelector('#rg-view svg.rg-graph g.node[data-box=\"scope::lstm\"]')")
    _act(chromium, _CLICK, box)
    if shots:
        chromium.save_screenshot(str(Path(shots) / "keras-linked-open.png"))
    drawn = chromium.execute_script(_GEOMETRY)
    gates = _gate_nodes(graph)
    split = next(n for n in gates if graph.nodes[n]["op"] == "Split")
    assert gates[split] == ["i", "f", "c", "o"]
    for node, names in gates.items():
        assert node.startswith("lstm/") and node in drawn, (node, sorted(drawn)[:20])
        assert drawn[node]["inside"] and drawn[node]["px"] >= 10, (node, drawn[node])
        assert all(g in " ".join(drawn[node]["text"]) for g in names), drawn[node]["text"]


def test_inspect_pages_draw_every_closed_scope_box_they_hold(tmp_path):
    """`inspect --render PAGE.html` closes scopes the static drawing would (the loop's story):
    the page's scene must still give every scope box its row, or the viewer cannot lay it out."""
    from rnngraph.cli import main

    out = tmp_path / "p.html"
    assert main(["inspect", str(Path(__file__).parent / "fixtures" / "keras" / "k3-lstm.frozen.pbtxt"),
                 "--render", str(out)]) == 0
    page = out.read_text(encoding="utf-8")
    start = page.index('id="rg-data">') + len('id="rg-data">')
    scene = json.loads(page[start:page.index("</script>", start)])["scene"]
    boxes = [b[0][len("scope::"):] for b in scene["boxes"] if b[0].startswith("scope::")]
    assert [s for s in boxes if s not in scene["scopes"]] == []


def test_render_given_a_keras_file_points_to_inspect_render(tmp_path, capsys):
    from rnngraph.cli import main

    path = FOLDER / "k3-lstm.keras"
    assert main(["render", str(path), "-o", str(tmp_path / "m.html")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and f"Draw a file with `rnngraph inspect {path} --render OUT`" in err[0]
    assert not (tmp_path / "m.html").exists()


@pytest.mark.tf
@pytest.mark.slow
def test_traced_ops_inside_the_loop_carry_their_shapes():
    """The trace records shapes in the function bodies too (as_graph_def(add_shapes=True)): the
    cell's MatMuls inside the While body give batch × 4·units, the units Keras reports."""
    graph = _linked("k3-lstm.keras")[0]
    (rnn,) = MANIFEST["k3-lstm"]["layers"][1]["rnns"]
    matmuls = [n for n, d in graph.nodes(data=True) if d["op"] == "MatMul" and "::" in n]
    assert matmuls
    for name in matmuls:
        (out,) = graph.nodes[name]["outputs"]
        assert out["shape"] is not None and out["shape"][-1] == 4 * rnn["units"], (name, out)
