"""`explain --file` on Keras graph files: Keras' terms, no TF1 wording, `--verify` against TensorFlow."""

from __future__ import annotations

from pathlib import Path

import pytest

from rnngraph.cli import main

KERAS = Path(__file__).parent / "fixtures" / "keras"


@pytest.mark.parametrize("name, topic, gates", [
    ("k2-lstm.frozen.pbtxt", "lstm", "i, f, c, o"),
    ("k3-gru.frozen.pbtxt", "gru", "z, r, h"),
    ("k2-simplernn.frozen-v1.pbtxt", "rnn", None),
])
def test_keras_file_is_explained_in_keras_terms(capsys, name, topic, gates):
    assert main(["explain", topic, "--file", str(KERAS / name)]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "recurrent_kernel" in text and "Keras" in text
    if gates:
        assert f"order {gates}" in text
    # TF1 wording must not leak into a Keras layer's explanation
    for wrong in ("[X_t, h", "as dynamic_rnn builds", "ConcatV2", "returned as the state"):
        assert wrong not in text, wrong


@pytest.mark.tf
@pytest.mark.parametrize("name", ["k2-lstm.frozen.pbtxt", "k3-gru.frozen.pbtxt",
                                  "k2-gru-v1.frozen.pbtxt", "k2-simplernn.frozen-v1.pbtxt"])
def test_keras_file_verify_passes(capsys, name):
    assert main(["explain", "rnn", "--file", str(KERAS / name), "--verify"]) == 0
    assert "below 1e-05" in capsys.readouterr().out


def test_keras_savedmodel_without_variables_verify_is_refused_in_one_line(capsys):
    # the fixture keeps only saved_model.pb; with variables/ every layer is checked
    # (tests/test_keras_files.py::test_verify_keras_savedmodel_reports_every_layer_and_a_wrong_cell_fails)
    assert main(["explain", "lstm", "--file", str(KERAS / "k2-lstm.savedmodel"), "--verify"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no variables/ folder" in err[0]


CORPUS = Path(__file__).parent / "fixtures" / "corpus"


@pytest.mark.tf
@pytest.mark.parametrize("name, topic, says", [
    # tf2onnx's frozen LSTM reads X as (None, 784) and reshapes it to 28 steps inside the graph
    ("others/tf2onnx_lstm_frozen.pb", "lstm", "is reshaped inside the graph"),
    # a Dense head follows the Keras LSTM: the file's one output is not the layer's
    ("made/keras2_lstm_frozen.pb", "lstm", "another layer follows it"),
])
def test_verify_refuses_what_it_cannot_map_in_one_line(capsys, name, topic, says):
    """Before: a TensorFlow feed error / a NumPy broadcast error, shown as 'ValueError: …'."""
    assert main(["explain", topic, "--file", str(CORPUS / name), "--verify"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and says in err[0] and "ValueError" not in err[0]


@pytest.mark.tf
@pytest.mark.parametrize("name", ["k2-lstm.frozen.pbtxt", "k3-gru.frozen.pbtxt", "k2-simplernn.frozen.pbtxt"])
def test_keras_final_state_named_in_the_prose_is_what_tensorflow_computes(name):
    """The h the explanation names (a While output) is the layer's output after the last step.

    Each fixture layer has return_sequences=False, so its output, the file's one output, is the
    last h: TensorFlow computes both from one random input and they must be equal.
    """
    import numpy as np

    from rnngraph.graphdef.loaders import load_graph_def
    from rnngraph.graphdef.walk import walk
    from rnngraph.model.tfcompat import tf
    from rnngraph.recognise import recognise

    graph_def, _ = load_graph_def(KERAS / name)
    found = recognise(walk(graph_def))
    (rnn,) = found.rnns
    h = next(s for s in rnn.final_state if s.part in ("h", "state"))
    used = {i.split(":")[0].lstrip("^") for n in graph_def.node for i in n.input}
    (x,) = [n for n in graph_def.node if n.op == "Placeholder" and n.name in used]
    (out,) = [n for n in graph_def.node if n.name not in used and n.op == "Identity"]
    t = tf()
    graph = t.Graph()
    with graph.as_default():
        t.compat.v1.import_graph_def(t.compat.v1.GraphDef.FromString(graph_def.SerializeToString()),
                                     name="")
    dims = [d.size for d in x.attr["shape"].shape.dim]
    value = np.random.default_rng(0).standard_normal((4, dims[1], dims[2])).astype(np.float32)
    with t.compat.v1.Session(graph=graph) as sess:
        got_h, got_out = sess.run([f"{h.node}:{h.output}", f"{out.name}:0"], {f"{x.name}:0": value})
    assert np.allclose(got_h, got_out, atol=1e-6)
