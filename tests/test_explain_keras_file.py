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


def test_keras_savedmodel_verify_is_refused_in_one_line(capsys):
    assert main(["explain", "lstm", "--file", str(KERAS / "k2-lstm.savedmodel"), "--verify"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "frozen GraphDef" in err[0]


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
