"""explain --verify on a SavedModel runs only what its check needs (issue 24: run-policy).

A SavedModel's graph holds the checkpoint's save and restore ops, which write and read files the
graph itself names.  --verify once admitted them through the run-policy (the loader ran the
restore); now it imports only the closure of what it fetches, feeds and sets, checks that part
with no checkpoint op admitted, and reads the other variables with TensorFlow's checkpoint
reader.  A SaveV2 wired into the RNN's input path is refused, and writes nothing.
"""

from __future__ import annotations

import pytest

from rnngraph.cli import main


def _parse(text: str):
    from google.protobuf import text_format

    from rnngraph.graphdef import protos

    return text_format.Parse(text, protos.GraphDef())


def test_needed_subgraph_keeps_what_the_nodes_read_and_nothing_else():
    from rnngraph.graphdef.prune import needed_subgraph

    graph_def = _parse('''
node { name: "x" op: "Placeholder" }
node { name: "c" op: "Const" }
node { name: "y" op: "Add" input: "x" input: "c:0" input: "^w" }
node { name: "w" op: "NoOp" }
node { name: "save/SaveV2" op: "SaveV2" input: "c" }
node { name: "z" op: "Identity" input: "y" }
''')
    kept = needed_subgraph(graph_def, ["y", "missing"])
    assert [n.name for n in kept.node] == ["x", "c", "y", "w"]
    assert [n.name for n in needed_subgraph(graph_def, ["z"]).node] == ["x", "c", "y", "w", "z"]


def _saved_model(folder, target=None):
    """Write a plain-TF dynamic_rnn SavedModel; with ``target``, a SaveV2 writing there runs
    before the RNN reads its input (a control input of the input's Identity)."""
    from rnngraph.model.tfcompat import set_control_flow, tf as get_tf

    tf = get_tf()
    v1 = tf.compat.v1
    set_control_flow("v1")
    graph = tf.Graph()
    with graph.as_default():
        X = v1.placeholder(tf.float32, [None, 4, 3], name="inputs")
        inputs = X
        if target is not None:
            secret = tf.constant([1.0], name="secret")
            write = tf.raw_ops.SaveV2(prefix=str(target), tensor_names=["secret"],
                                      shape_and_slices=[""], tensors=[secret], name="leak")
            with tf.control_dependencies([write]):
                inputs = tf.identity(X, name="read_inputs")
        with v1.variable_scope("encoder"):
            outputs, _ = v1.nn.dynamic_rnn(v1.nn.rnn_cell.GRUCell(5), inputs, dtype=tf.float32)
        with v1.Session(graph=graph) as sess:
            sess.run(v1.global_variables_initializer())
            v1.saved_model.simple_save(sess, str(folder), inputs={"x": X}, outputs={"y": outputs})


@pytest.mark.tf
@pytest.mark.slow
def test_a_save_op_in_the_checked_path_is_refused_and_writes_nothing(tmp_path, capsys):
    target = tmp_path / "leaked"
    _saved_model(tmp_path / "model", target)
    for leftover in tmp_path.glob("leaked*"):  # never run while saving the model
        leftover.unlink()
    assert main(["explain", "gru", "--file", str(tmp_path / "model"), "--verify"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "SaveV2 (top level)" in err and "refusing to run" in err
    assert not list(tmp_path.glob("leaked*"))


@pytest.mark.tf
@pytest.mark.slow
def test_verify_on_a_saved_model_never_admits_checkpoint_ops(tmp_path, capsys, monkeypatch):
    from rnngraph.graphdef import runpolicy

    checked = []
    original = runpolicy.check_runnable

    def spy(graph_def, path, allowed=()):
        checked.append(({n.op for n in graph_def.node}, tuple(allowed)))
        return original(graph_def, path, allowed)

    monkeypatch.setattr(runpolicy, "check_runnable", spy)
    _saved_model(tmp_path / "model")
    assert main(["explain", "gru", "--file", str(tmp_path / "model"), "--verify"]) == 0
    out = capsys.readouterr().out
    assert "largest absolute difference" in out and "(below 1e-05)" in out
    assert len(checked) == 1
    ops, allowed = checked[0]
    assert allowed == () and not ops & {"SaveV2", "RestoreV2", "MergeV2Checkpoints"}
    assert "VariableV2" in ops or "VarHandleOp" in ops  # the weights are in what it runs


@pytest.mark.tf
@pytest.mark.slow
def test_keras_savedmodel_whose_call_saves_a_checkpoint_is_refused_and_writes_nothing(tmp_path, capsys):
    """A Keras SavedModel is verified through its frozen serving signature: a SaveV2 in the
    model's own call (admitted by the check of the whole library, which holds the checkpoint's
    save function) is refused before anything runs; the same model without it verifies."""
    from rnngraph.model.tfcompat import tf as get_tf

    tf = get_tf()
    target = tmp_path / "leaked"

    def export(folder, leak: bool):
        layer = tf.keras.layers.LSTM(4)
        layer.build((None, 5, 3))

        class Model(tf.Module):
            def __init__(self):
                super().__init__()
                self.lstm = layer

            @tf.function(input_signature=[tf.TensorSpec([None, 5, 3], tf.float32)])
            def __call__(self, x):
                if leak:  # wired into what the layer reads, so it stays in the frozen graph
                    save = tf.raw_ops.SaveV2(prefix=str(target), tensor_names=["x"],
                                             shape_and_slices=[""],
                                             tensors=[tf.reduce_sum(x, keepdims=True)])
                    with tf.control_dependencies([save]):
                        x = tf.identity(x)
                return self.lstm(x)

        model = Model()
        tf.saved_model.save(model, str(folder), signatures=model.__call__)

    export(tmp_path / "clean", leak=False)
    assert main(["explain", "lstm", "--file", str(tmp_path / "clean"), "--verify"]) == 0
    capsys.readouterr()
    export(tmp_path / "leaky", leak=True)
    assert main(["explain", "lstm", "--file", str(tmp_path / "leaky"), "--verify"]) == 1
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "refusing to run" in err and "SaveV2" in err, err
    assert not list(tmp_path.glob("leaked*"))
