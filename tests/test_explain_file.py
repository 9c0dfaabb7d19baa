"""explain TOPIC --file G: foreign graph files, a SavedModel and a frozen graph written by plain TF."""

from __future__ import annotations

from pathlib import Path

import pytest

from rnngraph.cli import main
from rnngraph.explain import TOPICS, explain_file, render_text

FIXTURES = Path(__file__).parent / "fixtures"


def _graph_files() -> list:
    """Every graph file under tests/fixtures: GraphDefs, .meta, event files, SavedModel folders."""
    found = []
    for path in FIXTURES.rglob("*"):
        in_saved_model = any((parent / "saved_model.pb").is_file() for parent in path.parents)
        if path.is_dir() and (path / "saved_model.pb").is_file() and not in_saved_model:
            found.append(path)
        elif path.is_file() and not in_saved_model and (
                path.suffix in (".pb", ".pbtxt", ".meta") or "tfevents" in path.name):
            found.append(path)
    return sorted(str(p.relative_to(FIXTURES)) for p in found)


FILES = _graph_files()


def _flat(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.parametrize("name", FILES)
def test_every_topic_on_every_fixture(name, capsys):
    from rnngraph.errors import RnnGraphError
    from rnngraph.graphdef.loaders import load_graph_def

    try:
        load_graph_def(FIXTURES / name)
    except RnnGraphError:  # e.g. an event file without a graph: one line, exit 1
        assert main(["explain", "rnn", "--file", str(FIXTURES / name)]) == 1
        assert capsys.readouterr().err.count("\n") == 1
        return
    for topic in TOPICS:
        assert main(["explain", topic, "--file", str(FIXTURES / name)]) == 0
        out, err = capsys.readouterr()
        assert out.startswith(f"rnngraph explain {topic}: ") and err == ""
        assert "The graph" in out


def test_fixture_facts():
    text = _flat(render_text(explain_file("dynamic", FIXTURES / "rnn_v1_ref.pbtxt")))
    assert "leaves through encoder/rnn/while/Exit_2, which is the final state the RNN returns" in text
    assert "The outputs are encoder/outputs" in text
    assert "The state starts as zeros: encoder/rnn/zeros." in text
    lstm = _flat(render_text(explain_file("lstm", FIXTURES / "lstm_static_ref.pbtxt")))
    assert "c = decoder/basic_lstm_cell/Add_1, h = decoder/basic_lstm_cell/Mul_2" in lstm
    assert "The state starts from c0 (a placeholder the caller feeds)" in lstm


def test_nothing_recognised_says_so_and_no_more():
    text = render_text(explain_file("lstm", FIXTURES / "walk_simple.pbtxt"))
    assert "No lstm was recognised in this graph" in text
    assert "forget" not in text and "final state" not in text


def test_usage_errors(capsys, tmp_path):
    assert main(["explain", "rnn", "--file", str(FIXTURES / "walk_simple.pbtxt"), "--cell", "gru"]) == 2
    assert "drop the model options" in capsys.readouterr().err
    assert main(["explain", "rnn", "--file", str(tmp_path / "missing.pb")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "missing.pb does not exist" in err


@pytest.mark.tf
def test_verify_needs_weights(capsys):
    assert main(["explain", "dynamic", "--verify", "--file", str(FIXTURES / "rnn_v1_ref.pbtxt")]) == 2
    err = capsys.readouterr().err
    assert "--verify needs the weights" in err and err.count("\n") == 1


def _plain_tf_model(cell_kind: str, layers: int):
    """Build an RNN with plain tf.compat.v1 (not rnngraph); return (graph, session, X, outputs, state)."""
    from rnngraph.model.tfcompat import set_control_flow, tf as get_tf

    tf = get_tf()
    v1 = tf.compat.v1
    set_control_flow("v1")
    graph = tf.Graph()
    with graph.as_default():
        X = v1.placeholder(tf.float32, [None, 4, 3], name="inputs")
        make = {"lstm": lambda: v1.nn.rnn_cell.LSTMCell(6, use_peepholes=True),
                "gru": lambda: v1.nn.rnn_cell.GRUCell(6)}[cell_kind]
        cell = v1.nn.rnn_cell.MultiRNNCell([make() for _ in range(layers)]) if layers > 1 else make()
        with v1.variable_scope("encoder"):
            outputs, state = v1.nn.dynamic_rnn(cell, X, dtype=tf.float32)
        sess = v1.Session(graph=graph)
        sess.run(v1.global_variables_initializer())
    return graph, sess, X, outputs, tf.nest.flatten(state)


@pytest.mark.tf
@pytest.mark.parametrize("cell_kind, layers", [("lstm", 2), ("gru", 1)])
def test_saved_model_from_plain_tensorflow(cell_kind, layers, tmp_path, capsys):
    from rnngraph.model.tfcompat import tf as get_tf

    tf = get_tf()
    graph, sess, X, outputs, state = _plain_tf_model(cell_kind, layers)
    export = tmp_path / "model"
    with graph.as_default():
        tf.compat.v1.saved_model.simple_save(sess, str(export), inputs={"x": X},
                                             outputs={"y": outputs})
    sess.close()
    topic = cell_kind
    assert main(["explain", topic, "--file", str(export), "--verify"]) == 0
    out = _flat(capsys.readouterr().out)
    for tensor in state:  # every final-state tensor TF returned is named
        assert tensor.op.name in out
    assert f"The outputs are {outputs.op.name}" in out
    assert "largest absolute difference" in out and "(below 1e-05)" in out
    assert "every weight, biases included, set to random non-zero values" in out
    # The same graph as a .meta file and as a TensorBoard event file: the same facts, no run.
    from rnngraph.graphdef.tensorboard import write_graph_event

    meta = tmp_path / "model.meta"
    with graph.as_default():
        tf.compat.v1.train.export_meta_graph(filename=str(meta))
    event = write_graph_event(tmp_path / "logs", graph.as_graph_def(add_shapes=True))
    for path in (meta, event):
        assert main(["explain", topic, "--file", str(path)]) == 0
        text = _flat(capsys.readouterr().out)
        assert all(tensor.op.name in text for tensor in state)


@pytest.mark.tf
def test_frozen_graph_verify_and_a_wrong_cell(tmp_path, capsys):
    from rnngraph.explain.verify import numpy_step, verify_file
    from rnngraph.graphdef.loaders import load_graph_def
    from rnngraph.graphdef.walk import walk
    from rnngraph.model.tfcompat import tf as get_tf
    from rnngraph.recognise import recognise

    tf = get_tf()
    graph, sess, X, outputs, state = _plain_tf_model("lstm", 1)
    # Non-zero biases: the file's own weights are what --verify uses in a frozen graph.
    with graph.as_default():
        for var in tf.compat.v1.global_variables():
            var.load(sess.run(var) + 0.3, sess)
        frozen = tf.compat.v1.graph_util.convert_variables_to_constants(
            sess, graph.as_graph_def(add_shapes=True), [outputs.op.name] + [t.op.name for t in state])
    sess.close()
    path = tmp_path / "frozen.pb"
    path.write_bytes(frozen.SerializeToString())
    assert main(["explain", "lstm", "--file", str(path), "--verify"]) == 0
    assert "the file's own weights" in _flat(capsys.readouterr().out)

    graph_def, kind = load_graph_def(path)
    found = recognise(walk(graph_def))

    def no_peepholes(cell, w, x, s):
        return numpy_step(cell, {k: v for k, v in w.items() if not k.startswith("peep_")}, x, s)

    assert not verify_file(path, kind, graph_def, found, step=no_peepholes)["ok"]


@pytest.mark.parametrize("name", ["rnn_v1_ref.pbtxt", "lstm_static_ref.pbtxt"])
@pytest.mark.parametrize("topic", TOPICS)
def test_golden_file_text(topic, name, golden, monkeypatch):
    """Foreign graphs (no TensorFlow needed): every topic, golden."""
    monkeypatch.chdir(FIXTURES.parent.parent)
    text = render_text(explain_file(topic, f"tests/fixtures/{name}"))
    golden(f"explain-{topic}--file-{name.split('.')[0]}.txt", text)


@pytest.mark.tf
def test_lstm_with_a_projection_inside_the_cell(tmp_path):
    """LSTMCell(num_proj=...): h is narrower than the cell; the arithmetic follows TF's sizes."""
    from rnngraph.model.tfcompat import set_control_flow, tf as get_tf

    tf = get_tf()
    set_control_flow("v1")
    graph = tf.Graph()
    with graph.as_default():
        X = tf.compat.v1.placeholder(tf.float32, [None, 4, 3], name="X")
        cell = tf.compat.v1.nn.rnn_cell.LSTMCell(6, num_proj=2)
        tf.compat.v1.nn.dynamic_rnn(cell, X, dtype=tf.float32)
    units, h_size = cell.state_size.c, cell.state_size.h
    path = tmp_path / "proj.pb"
    path.write_bytes(graph.as_graph_def(add_shapes=True).SerializeToString())
    text = _flat(render_text(explain_file("lstm", path)))
    assert f"= (3 + {h_size}, 4·{units})" in text and f"(3 + {units}," not in text
    assert f"c is m × {units}, but h_(t−1) comes back with {h_size} columns" in text
