"""Keras cells explained in Keras' terms, and the NumPy step checked against Keras itself."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from rnngraph.explain.keras import cell_section, keras_cell, keras_sequence, weights_from_graph_def
from rnngraph.graphdef.loaders import load_graph_def
from rnngraph.graphdef.walk import as_graph_def, walk
from rnngraph.recognise import recognise

KERAS = Path(__file__).parent / "fixtures" / "keras"

VARIANTS = [(lib, kind, opts) for lib in ("tf_keras", "keras") for kind, opts in (
    ("LSTM", {}), ("GRU", {}), ("GRU", {"reset_after": False}), ("SimpleRNN", {}),
    ("LSTM", {"activation": "relu"}), ("GRU", {"use_bias": False}),
    ("LSTM", {"recurrent_activation": "hard_sigmoid"}),
    ("GRU", {"recurrent_activation": "hard_sigmoid"}))]


def _frozen_cells(lib: str, kind: str, opts: dict, steps=6, inputs=3, units=5):
    """Build a Keras layer with random weights; return (its outputs on x, x, recognised cells, GraphDef)."""
    import importlib

    from rnngraph.model.tfcompat import tf as _tf

    tf = _tf()  # first, so TensorFlow starts with rnngraph's switches (TF_USE_LEGACY_KERAS)
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

    k = importlib.import_module(lib)
    inp = k.Input((steps, inputs))
    layer = getattr(k.layers, kind)(units, return_sequences=True, **opts)
    model = k.Model(inp, layer(inp))
    rng = np.random.default_rng(2)
    layer.set_weights([rng.normal(scale=0.5, size=w.shape).astype(np.float32)
                       for w in layer.get_weights()])
    x = rng.normal(size=(4, steps, inputs)).astype(np.float32)
    want = np.asarray(model(x))
    fn = tf.function(lambda v: model(v)).get_concrete_function(
        tf.TensorSpec([None, steps, inputs], tf.float32))
    graph_def = as_graph_def(convert_variables_to_constants_v2(fn, lower_control_flow=False)
                             .graph.as_graph_def())
    return want, x, recognise(walk(graph_def)).cells, graph_def



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
@pytest.mark.parametrize("lib,kind,opts", VARIANTS)
def test_numpy_step_from_recognised_cell_matches_keras(lib, kind, opts):
    want, x, cells, graph_def = _frozen_cells(lib, kind, opts)
    assert len(cells) == 1 and cells[0].form == "keras"
    cell = cells[0]
    weights = weights_from_graph_def(graph_def, cell)
    assert ("bias" in weights) is opts.get("use_bias", True)
    got, _ = keras_sequence(cell, weights, x)
    assert np.max(np.abs(got - want)) < 1e-5


@pytest.mark.tf
@pytest.mark.slow
def test_numpy_step_fails_when_a_fact_is_wrong():
    """The check can fail: flip reset_after (or swap the gates) and Keras disagrees."""
    want, x, cells, graph_def = _frozen_cells("tf_keras", "GRU", {})
    cell = cells[0]
    weights = weights_from_graph_def(graph_def, cell)
    cell.reset_after = False
    weights["bias"] = weights["bias"][0] + 0  # what a reset_before layout would read
    got, _ = keras_sequence(cell, weights, x)
    assert np.max(np.abs(got - want)) > 1e-3


def test_keras_section_uses_keras_names_and_numbers_from_the_graph():
    found = recognise(walk(load_graph_def(KERAS / "k2-gru.savedmodel")[0]))
    section = keras_cell(found.cells[0])
    text = "\n".join(p if isinstance(p, str) else "\n".join(p) for p in section.paragraphs)
    assert section.title == "The Keras GRU cell model/gru"
    assert "recurrent_kernel" in text and "4 × 12" in text and "3 × 12" in text
    assert "2 × 12 (input bias and recurrent bias, one row each)" in text
    assert "reset_after=True" in text and "r ⊙ u_h" in text
    assert "z = columns 0–3: update gate" in text and "h = columns 8–11: candidate state" in text
    assert "api_implements" in text


def test_keras_section_differs_with_the_graph():
    def cell(name):
        return recognise(walk(load_graph_def(KERAS / name)[0])).cells[0]

    def joined(section):
        return "\n".join(p if isinstance(p, str) else "\n".join(p) for p in section.paragraphs)

    lstm, gru_v1 = keras_cell(cell("k3-lstm.frozen.pbtxt")), keras_cell(cell("k2-gru-v1.savedmodel"))
    assert "c_t = f ⊙ c_(t−1) + i ⊙ tanh(z_c)" in joined(lstm)
    assert "(r ⊙ h_(t−1)) · U_h" in joined(gru_v1) and "reset_after=False" in joined(gru_v1)
    assert cell_section(cell("k2-simplernn.frozen.pbtxt")).title == \
        "The Keras SimpleRNN cell model/simple_rnn"
    hand = cell_section(cell("hand-gru-while-v2.pbtxt"))
    assert hand.title == "A hand-written cell in while" and len(hand.paragraphs[1]) == 3
    assert "rnngraph does not name the gates" in hand.paragraphs[0]


@pytest.mark.tf
@pytest.mark.parametrize("name", ["k2-lstm.frozen.pbtxt", "k2-gru.frozen-v1.pbtxt",
                                  "k2-gru-v1.frozen.pbtxt", "k2-simplernn.frozen-v1.pbtxt",
                                  "k3-gru.frozen.pbtxt", "k3-lstm.frozen.pbtxt",
                                  "k2-lstm-unroll.frozen.pbtxt"])
def test_verify_frozen_keras_file(name):
    """--verify on a file: TensorFlow runs the frozen graph, NumPy recomputes it from the file."""
    from rnngraph.explain.keras import verify_frozen

    graph_def = load_graph_def(KERAS / name)[0]
    cells = recognise(walk(graph_def)).cells
    result = verify_frozen(graph_def, cells[0])
    assert result["ok"], result
    cells[0].activation = "relu"  # a wrong fact must show
    assert not verify_frozen(graph_def, cells[0])["ok"]
