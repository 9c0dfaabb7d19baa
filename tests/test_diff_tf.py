"""`rnngraph diff` on pairs built by plain TensorFlow / Keras code, the truth taken from that code."""

from __future__ import annotations

import os
import re
from collections import Counter

import numpy as np
import pytest

from rnngraph.graphdef import protos
from rnngraph.graphdef.loaders import load_graph_def
from rnngraph.graphdef.walk import walk

pytestmark = pytest.mark.tf


def _diff(def_a, def_b):
    from rnngraph.commands.diff import run_diff

    def_a, def_b = (protos.GraphDef.FromString(d.SerializeToString()) for d in (def_a, def_b))
    return run_diff(def_a, walk(def_a), def_b, walk(def_b))[0]


def _pair(built, a: dict, b: dict):
    return _diff(built(**a).graph_def(), built(**b).graph_def())


def _ops(graph_def) -> Counter:
    return Counter(n.op for n in graph_def.node)


def _facts(report) -> dict:
    return {f["what"]: (f["a"], f["b"]) for e in report["changed"] for f in e["facts"]}


def _var_shape(graph_def, suffix: str) -> tuple:
    node = next(n for n in graph_def.node if n.op == "VarHandleOp" and n.name.endswith(suffix))
    return tuple(d.size for d in node.attr["shape"].shape.dim)


def test_dropout_adds_a_keep_mask_per_step_and_nothing_else(built):
    report = _pair(built, dict(kind="dynamic"), dict(kind="dynamic", dropout=0.5))
    truth = _ops(built(kind="dynamic", dropout=0.5).graph_def()) - _ops(built(kind="dynamic").graph_def())
    assert report["removed"] == [] and not report["summary"]["identical"]
    (drop,) = [e for e in report["added"] if e["what"] == "dropout"]
    assert drop["ops"]["RandomUniform"] == truth["RandomUniform"] == 1
    assert "inside the loop" in drop["text"] and "keep_prob" in drop["text"]
    assert report["summary"]["added"] == sum(truth.values())
    # the 10 zero-state ops under a new scope are renamed, not removed and added
    assert {"from": "rnn", "to": "rnn/DropoutWrapperZeroState"}.items() <= report["renamed"][0].items()


def test_sequence_length_adds_its_selects(built):
    report = _pair(built, dict(kind="dynamic"), dict(kind="dynamic", sequence_length=True))
    b = built(kind="dynamic", sequence_length=True).graph_def()
    selects = sum(1 for n in b.node if n.op in ("Select", "SelectV2"))
    (seq,) = [e for e in report["added"] if e["what"] == "sequence_length"]
    assert f"{selects} Select ops per step" in seq["text"] and seq["ops"]["Select"] == selects
    assert report["removed"] == []


@pytest.mark.parametrize("cell,steps", [("rnn", 3), ("lstm", 2), ("gru", 4)])
def test_static_to_dynamic_is_the_same_cell_run_another_way(built, cell, steps):
    a, b = dict(kind="static", cell=cell, steps=steps), dict(kind="dynamic", cell=cell, steps=steps)
    report = _pair(built, a, b)
    def_a, def_b = built(**a).graph_def(), built(**b).graph_def()
    # TensorFlow's graphs: one MatMul per step (GRU: two) unrolled in A, one copy in B's loop frame
    per_copy = 2 if cell == "gru" else 1
    assert _ops(def_a)["MatMul"] == steps * per_copy and _ops(def_b)["MatMul"] == per_copy
    (frame,) = {n.attr["frame_name"].s.decode() for n in def_b.node if n.op == "Enter"}
    facts = _facts(report)
    assert facts["runs as"] == (f"{steps} unrolled copies, one per step",
                                f"one copy inside the v1 loop frame {frame}, run once per step")
    assert "units" not in facts and "kernel" not in facts  # the same variables, paired
    # no "a layer" added or removed: the cell's ops are the same layer's, built another way
    assert not [e for e in report["added"] + report["removed"] if e["what"] == "cell"]
    (removed,) = [e for e in report["removed"] if e["what"] == "cell ops"]
    # all copies removed, or those the matching did not pair with B's one copy
    found = re.search(r"(\d+) of its (\d+) copies|(\d+) unrolled copies, one per step", removed["text"])
    gone, total = (int(found[1]), int(found[2])) if found[1] else (int(found[3]), int(found[3]))
    assert removed["text"].startswith(f"{cell} cell") and total == steps and gone >= steps - 1
    assert removed["ops"]["MatMul"] == gone * per_copy


def test_units_change_is_told_on_the_cell(built):
    a, b = dict(kind="dynamic"), dict(kind="dynamic", neurons=6)
    report = _pair(built, a, b)
    kernel_a = _var_shape(built(**a).graph_def(), "/kernel")
    kernel_b = _var_shape(built(**b).graph_def(), "/kernel")
    facts = _facts(report)
    assert facts["units"] == ("5", "6")
    assert facts["kernel"] == (str(kernel_a), str(kernel_b)) == ("(8, 5)", "(9, 6)")
    assert report["added"] == report["removed"] == []


def test_activation_change_is_one_changed_op(built):
    report = _pair(built, dict(kind="dynamic"), dict(kind="dynamic", activation="relu"))
    assert _facts(report)["activation"] == ("tanh", "relu")
    assert report["summary"]["changed"] == 1 and report["added"] == report["removed"] == []
    (node,) = [n for e in report["changed"] for n in e["nodes"]]
    assert {"what": "op", "a": "Tanh", "b": "Relu"} in node["changes"]


def test_v1_to_v2_keeps_the_cell_and_its_kernel(built):
    report = _pair(built, dict(kind="dynamic"), dict(kind="dynamic", control_flow="v2"))
    assert not report["summary"]["identical"]
    assert report["summary"]["matched"] >= 60
    assert not [e for e in report["added"] + report["removed"] if e["what"] == "cell"]


def test_a_second_layer_is_named_as_a_layer(built):
    report = _pair(built, dict(kind="dynamic"), dict(kind="dynamic", layers=2))
    layers = [e for e in report["added"] if e["what"] == "cell"]
    assert len(layers) == 1 and layers[0]["text"].startswith("a layer: rnn cell")
    assert "units 5" in layers[0]["text"]


# --- Keras 3: model.export, as a notebook does it ------------------------------------------------

def _keras_export(path, build, seed: int = 0):
    from rnngraph.model.tfcompat import tf as _tf

    _tf()  # first, so TensorFlow starts with rnngraph's switches (TF_USE_LEGACY_KERAS)
    import keras

    keras.utils.set_random_seed(seed)
    inputs = keras.Input((4, 3))
    model = keras.Model(inputs, build(keras, inputs))
    model.export(str(path), verbose=False)
    return model


def _lstm(units=5, **kw):
    return lambda k, x: k.layers.Dense(2)(k.layers.LSTM(units, **kw)(x))


@pytest.fixture(scope="module")
def keras_pairs(tmp_path_factory):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    folder = tmp_path_factory.mktemp("keras-diff")
    models = {
        "base": _lstm(), "again": _lstm(), "units6": _lstm(6), "relu": _lstm(activation="relu"),
        "sequences": _lstm(return_sequences=True),
        "two": lambda k, x: k.layers.Dense(2)(k.layers.LSTM(5)(k.layers.LSTM(5, return_sequences=True)(x))),
        "bidi": lambda k, x: k.layers.Dense(2)(k.layers.Bidirectional(k.layers.LSTM(5))(x)),
        # later exports of the same model: other counters, and the variables passed to the
        # restore function in another order (CI found one where two assignments crossed)
        "again2": _lstm(), "again3": _lstm(), "again4": _lstm(),
        "bidi2": lambda k, x: k.layers.Dense(2)(k.layers.Bidirectional(k.layers.LSTM(5))(x)),
    }
    out = {}
    for name, build in models.items():
        model = _keras_export(folder / name, build)
        out[name] = (load_graph_def(folder / name)[0], model)
    return out


@pytest.mark.slow
def test_keras_pairs(keras_pairs):
    base, model = keras_pairs["base"]
    # exported twice in one process: Keras' counters rename two thirds of the nodes, nothing else
    for again in ("again", "again2", "again3", "again4"):
        report = _diff(base, keras_pairs[again][0])
        assert report["summary"]["identical"], (again, report["changed"][:2])
        assert report["summary"]["renamed"] == report["summary"]["counter_renamed"] > 0, \
            (again, [r for r in report["renamed"] if r["why"] != "counter suffixes"][:3])
        assert report["summary"]["renamed"] >= report["summary"]["nodes_a"] // 2
    # units 5 -> 6: the shapes Keras gives its variables
    other = keras_pairs["units6"][1]
    lstm_a = next(l for l in model.layers if l.__class__.__name__ == "LSTM")
    lstm_b = next(l for l in other.layers if l.__class__.__name__ == "LSTM")
    facts = _facts(_diff(base, keras_pairs["units6"][0]))
    assert facts["units"] == ("5", "6")
    assert facts["kernel"] == (str(tuple(lstm_a.cell.kernel.shape)), str(tuple(lstm_b.cell.kernel.shape)))
    assert facts["recurrent_kernel"] == (str(tuple(lstm_a.cell.recurrent_kernel.shape)),
                                         str(tuple(lstm_b.cell.recurrent_kernel.shape)))
    # activation: only ops change, nothing is added or removed
    report = _diff(base, keras_pairs["relu"][0])
    ops = Counter((c["a"], c["b"]) for e in report["changed"] for n in e["nodes"] for c in n["changes"]
                  if c["what"] == "op")
    assert ops and set(ops) == {("Tanh", "Relu")} and report["summary"]["added"] == 0
    # return_sequences: the stacked outputs are read instead of the last one
    report = _diff(base, keras_pairs["sequences"][0])
    assert not report["summary"]["identical"] and report["summary"]["matched"] >= report["summary"]["nodes_a"] // 2
    # an extra layer and a Bidirectional wrapper add recognised cells
    for name, count in (("two", 1), ("bidi", 1), ("bidi2", 1)):
        report = _diff(base, keras_pairs[name][0])
        layers = [e for e in report["added"] if e["what"] == "cell"]
        assert len(layers) == count and "lstm cell" in layers[0]["text"], (name, report["added"][:3])
        if name.startswith("bidi"):
            assert "backward" in layers[0]["text"]


@pytest.mark.slow
def test_perturbed_weight_is_exactly_that_variable(tmp_path):
    from rnngraph.model.tfcompat import tf as _tf

    tf = _tf()  # tf.keras is tf-keras here, as rnngraph's builder needs it
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

    from rnngraph.graphdef.values import float_constants

    def frozen(perturb: float):
        tf.keras.utils.set_random_seed(0)
        layer = tf.keras.layers.SimpleRNN(4)
        layer.build((None, 5, 3))
        kernel = layer.cell.recurrent_kernel
        value = kernel.numpy()
        value[1, 2] += perturb
        kernel.assign(value)
        fn = tf.function(layer).get_concrete_function(tf.TensorSpec((None, 5, 3), tf.float32))
        return convert_variables_to_constants_v2(fn).graph.as_graph_def(), value

    (def_a, _), (def_b, perturbed) = frozen(0.0), frozen(0.5)
    # the constant TensorFlow froze the recurrent kernel into: the one holding its values
    (truth,) = [name for name, array in float_constants(def_b).items()
                if array.shape == perturbed.shape and np.array_equal(array, perturbed)]
    report = _diff(def_a, def_b)
    weights = report["weights"]
    assert weights["compared"] >= 3 and weights["differ_count"] == 1
    (only,) = weights["differ"]
    assert only["b"] == truth and only["shape"] == [4, 4]
    assert only["max_abs"] == pytest.approx(0.5) and only["mean_abs"] == pytest.approx(0.5 / 16)
    # TensorFlow freezes each call with its own unused placeholders: the only other changes
    changed = [n for e in report["changed"] for n in e["nodes"] if n["b"] != truth]
    graph_b = walk(def_b)
    assert all(graph_b.degree(n["b"]) == 0 for n in changed), changed


@pytest.mark.slow
def test_17054_node_static_lstm_against_1754_is_bounded(built):
    from rnngraph.explain.diff import MAX_ENTRIES, diff_text

    big, small = built(kind="static", cell="lstm", steps=1000), built(kind="static", cell="lstm", steps=100)
    report = _diff(big.graph_def(), small.graph_def())
    assert report["summary"]["nodes_a"] == 17054 and report["summary"]["nodes_b"] == 1754
    assert report["summary"]["matched"] <= 1754 and report["summary"]["removed"] >= 17054 - 1754
    assert all(len(report[k]) <= MAX_ENTRIES for k in ("matched", "renamed", "changed", "added", "removed"))
    assert len(diff_text(report, "A", "B").splitlines()) < 120
