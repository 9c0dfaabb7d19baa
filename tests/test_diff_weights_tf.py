"""`rnngraph diff` weights of SavedModels, Keras files and .tflite files, the truth from Keras / TF / LiteRT.

One Keras model is saved, one element of its LSTM kernel moved by DELTA with
``v.assign``, and saved again, in every format; the report must name exactly
the weight that holds that kernel, with the largest and mean absolute
difference NumPy computes from Keras' own arrays (or, for int8 weights, from
the dequantised tensors LiteRT's interpreter returns).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from rnngraph.cli import main
from rnngraph.graphdef.loaders import load_graph_def

pytestmark = [pytest.mark.tf, pytest.mark.slow]

DELTA = 0.25
WHERE = (3, 17)  # (input feature, gate column) of the LSTM kernel


def _truth(before: np.ndarray, after: np.ndarray) -> tuple:
    delta = np.abs(after.astype(np.float64) - before.astype(np.float64))
    return float(delta.max()), float(delta.mean())


def _perturb(variable) -> None:
    step = np.zeros(tuple(variable.shape), "float32")
    step[WHERE] = DELTA
    variable.assign(variable + step)


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """{name: path} of the A / B files, and the Keras kernels before and after."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from rnngraph.model.tfcompat import tf as _tf

    tf = _tf()
    import keras
    import tf_keras

    folder = tmp_path_factory.mktemp("diff-weights")
    keras.utils.set_random_seed(0)
    inputs = keras.Input((4, 32), batch_size=1)
    model = keras.Model(inputs, keras.layers.Dense(2)(keras.layers.LSTM(64)(inputs)))
    # tf_keras' LSTM converts to LiteRT's fused op: its int8 weights are tensors LiteRT shows
    tf_keras.utils.set_random_seed(0)
    fused_in = tf_keras.Input((4, 32), batch_size=1)
    fused = tf_keras.Model(fused_in, tf_keras.layers.LSTM(64)(fused_in))

    def save(tag: str) -> None:
        model.export(str(folder / f"sm_{tag}"), verbose=False)
        model.save(folder / f"{tag}.keras")
        model.save(folder / f"{tag}.h5")
        (folder / f"{tag}.tflite").write_bytes(tf.lite.TFLiteConverter.from_keras_model(model).convert())
        converter = tf.lite.TFLiteConverter.from_keras_model(fused)
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        (folder / f"{tag}_int8.tflite").write_bytes(converter.convert())

    lstm = next(layer for layer in model.layers if layer.__class__.__name__ == "LSTM")
    kernel = lstm.cell.kernel
    save("a")
    model.export(str(folder / "sm_again"), verbose=False)  # unchanged, exported again
    before = kernel.numpy().copy()
    _perturb(kernel)
    _perturb(fused.layers[1].cell.kernel)
    save("b")
    return {"folder": folder, "before": before, "after": kernel.numpy().copy(), "lstm": lstm,
            "kernel": kernel, "model": model}


def _run(capsys, *args) -> tuple:
    code = main(["diff", *map(str, args)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _weights(capsys, a, b) -> dict:
    code, out, _ = _run(capsys, a, b, "--json")
    report = json.loads(out)
    return code, report


def test_checkpoint_reader_agrees_with_tensorflow(saved):
    from rnngraph.graphdef.checkpoint import read_bundle
    from rnngraph.model.tfcompat import tf

    for tag in ("a", "b"):
        prefix = saved["folder"] / f"sm_{tag}" / "variables" / "variables"
        ours = read_bundle(prefix)
        reader = tf().train.load_checkpoint(str(prefix))
        floats = {k for k, dtype in reader.get_variable_to_dtype_map().items() if dtype.is_floating}
        assert set(ours) == floats
        for key, value in ours.items():
            assert np.array_equal(value, reader.get_tensor(key)), key


def test_savedmodel_pair_names_the_one_weight(saved, capsys):
    folder = saved["folder"]
    code, report = _weights(capsys, folder / "sm_a", folder / "sm_b")
    assert code == 1 and report["summary"]["identical"] and not report["summary"]["same"]
    weights = report["weights"]
    (only,) = weights["differ"]
    assert weights["differ_count"] == 1 and weights["compared"] >= 5
    max_abs, mean_abs = _truth(saved["before"], saved["after"])
    assert only["max_abs"] == pytest.approx(max_abs) and only["mean_abs"] == pytest.approx(mean_abs)
    assert only["shape"] == list(saved["kernel"].shape)
    # the node is the variable the serving signature reads, named after Keras' variable path
    graph_def = load_graph_def(folder / "sm_b")[0]
    node = next(n for n in graph_def.node if n.name == only["b"])
    assert node.op == "VarHandleOp" and node.name.startswith(saved["kernel"].path)  # lstm/lstm_cell/kernel_1
    assert [d.size for d in node.attr["shape"].shape.dim] == list(saved["kernel"].shape)
    # the text says the structure is identical and names the weight
    code, out, _ = _run(capsys, folder / "sm_a", folder / "sm_b")
    assert code == 1
    assert "identical structure" in out and "the values of 1 weight differ" in out
    assert f"{only['b']} ({', '.join(map(str, only['shape']))})" in out
    # unchanged: exported again (Keras' counters rename), and against itself
    for other in ("sm_again", "sm_a"):
        code, report = _weights(capsys, folder / "sm_a", folder / other)
        assert code == 0 and report["summary"]["same"], other
        assert report["weights"]["differ_count"] == 0 and report["weights"]["compared"] >= 5


@pytest.mark.parametrize("ext", [".keras", ".h5"])
def test_keras_file_pair_names_the_one_weight(saved, capsys, ext):
    folder = saved["folder"]
    code, report = _weights(capsys, folder / f"a{ext}", folder / f"b{ext}")
    assert code == 1 and report["summary"]["identical"]
    (only,) = report["weights"]["differ"]
    assert only["b"] == f"{saved['lstm'].name}/{saved['kernel'].name}"
    assert report["weights"]["compared"] == len(saved["model"].weights)
    max_abs, mean_abs = _truth(saved["before"], saved["after"])
    assert only["max_abs"] == pytest.approx(max_abs) and only["mean_abs"] == pytest.approx(mean_abs)
    code, report = _weights(capsys, folder / f"a{ext}", folder / f"a{ext}")
    assert code == 0 and report["weights"]["differ_count"] == 0


def test_tflite_float_pair_names_the_kernel(saved, capsys):
    folder = saved["folder"]
    code, report = _weights(capsys, folder / "a.tflite", folder / "b.tflite")
    assert code == 1 and report["summary"]["identical"]
    (only,) = report["weights"]["differ"]
    # the converter stores the kernel transposed inside the while loop's body
    assert only["shape"] == list(saved["before"].T.shape)
    max_abs, mean_abs = _truth(saved["before"], saved["after"])
    assert only["max_abs"] == pytest.approx(max_abs) and only["mean_abs"] == pytest.approx(mean_abs)
    code, report = _weights(capsys, folder / "a.tflite", folder / "a.tflite")
    assert code == 0 and report["weights"]["differ_count"] == 0 and report["weights"]["compared"] >= 3


def _litert_dequantised(path) -> dict:
    """{tensor index: dequantised array} of the int8 constants, as LiteRT's interpreter gives them."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    interp = Interpreter(model_path=str(path), experimental_op_resolver_type=(
        OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES))
    interp.allocate_tensors()
    out = {}
    for detail in interp.get_tensor_details():
        q = detail["quantization_parameters"]
        if detail["dtype"] != np.int8 or not len(q["scales"]):
            continue
        try:
            raw = interp.get_tensor(detail["index"]).astype(np.float64)
        except ValueError:
            continue
        shape = [1] * raw.ndim
        if len(q["scales"]) > 1:
            shape[q["quantized_dimension"]] = len(q["scales"])
        zero = q["zero_points"].reshape(shape) if len(q["zero_points"]) > 1 else q["zero_points"][0]
        out[detail["index"]] = (raw - zero) * q["scales"].reshape(shape)
    return out


def test_tflite_int8_pair_is_dequantised_as_litert_does(saved, capsys):
    folder = saved["folder"]
    a, b = _litert_dequantised(folder / "a_int8.tflite"), _litert_dequantised(folder / "b_int8.tflite")
    truth = {i: _truth(a[i], b[i]) for i in a if a[i].shape == b[i].shape}
    differ = {i: t for i, t in truth.items() if t[0] > 0}
    assert len(differ) == 1 and len(truth) >= 8  # the 8 gate matrices are int8
    ((index, (max_abs, mean_abs)),) = differ.items()
    code, report = _weights(capsys, folder / "a_int8.tflite", folder / "b_int8.tflite")
    assert code == 1
    (only,) = report["weights"]["differ"]
    graph_def = load_graph_def(folder / "b_int8.tflite")[0]
    node = next(n for n in graph_def.node if n.name == only["b"])
    assert list(node.attr["tflite_tensor"].list.i) == [0, index]
    assert only["max_abs"] == pytest.approx(max_abs) and only["mean_abs"] == pytest.approx(mean_abs)
    assert any("dequantised" in note for note in report["weights"]["notes"])
    assert abs(only["max_abs"] - DELTA) < 0.01  # one quantisation step of these weights


def test_html_page_shows_the_weight_difference(saved, capsys, tmp_path):
    folder = saved["folder"]
    page = tmp_path / "d.html"
    code, _, _ = _run(capsys, folder / "sm_a", folder / "sm_b", "--format", "html", "-o", page)
    assert code == 1
    text = page.read_text(encoding="utf-8")
    assert "largest |Δ| 0.25" in text


CORPUS_SAVEDMODELS = sorted(p.parent.parent for p in
                            (Path(__file__).parent / "fixtures" / "corpus").rglob("variables.index"))


@pytest.mark.parametrize("folder", CORPUS_SAVEDMODELS, ids=lambda p: p.name)
def test_corpus_savedmodels_every_variable_gets_its_checkpoint_value(folder):
    """Each float tensor of the checkpoint reaches a variable of its shape, with TF's values."""
    from rnngraph.graphdef.checkpoint import checkpoint_variables, variable_values
    from rnngraph.model.tfcompat import tf

    reader = tf().train.load_checkpoint(str(folder / "variables" / "variables"))
    floats = {k for k, dtype in reader.get_variable_to_dtype_map().items() if dtype.is_floating}
    graph_def = load_graph_def(folder)[0]
    nodes = {n.name: n for n in graph_def.node}
    names = checkpoint_variables(graph_def)
    assert floats <= set(names)
    for key in floats:
        node = nodes[names[key]]
        assert [d.size for d in node.attr["shape"].shape.dim] == reader.get_variable_to_shape_map()[key]
    values, notes = variable_values(graph_def, folder)
    assert not [n for n in notes if "no variable" in n]
    truth = [reader.get_tensor(k) for k in floats]
    for name, value in values.items():  # each value compared is one TensorFlow holds
        assert any(t.shape == value.shape and np.array_equal(t, value) for t in truth), name


def test_tf1_saver_and_builder_pairs(tmp_path, capsys):
    """TF1: a SavedModelBuilder directory and a Saver's model.ckpt.meta, one variable moved."""
    from rnngraph.model.tfcompat import tf as _tf

    v1 = _tf().compat.v1
    kernels = {}
    for tag, delta in (("a", 0.0), ("b", 0.5)):
        with _tf().Graph().as_default(), v1.Session() as session:
            x = v1.placeholder("float32", [None, 3], name="x")
            w = v1.get_variable("layer/w", [3, 4], initializer=v1.random_normal_initializer(seed=1))
            b = v1.get_variable("layer/b", [4], initializer=v1.zeros_initializer(), use_resource=False)
            _tf().identity(_tf().matmul(x, w) + b, name="y")
            session.run(v1.global_variables_initializer())
            step = np.zeros((3, 4), "float32")
            step[1, 2] = delta
            moved = v1.placeholder("float32", [3, 4], name="step")  # the same graph both times
            session.run(w.assign_add(moved), {moved: step})
            kernels[tag] = session.run(w)
            builder = v1.saved_model.Builder(str(tmp_path / f"sm_{tag}"))
            builder.add_meta_graph_and_variables(session, ["serve"])
            builder.save()
            v1.train.Saver().save(session, str(tmp_path / f"ckpt_{tag}" / "model.ckpt"))
    max_abs, mean_abs = _truth(kernels["a"], kernels["b"])
    for a, b in ((tmp_path / "sm_a", tmp_path / "sm_b"),
                 (tmp_path / "ckpt_a" / "model.ckpt.meta", tmp_path / "ckpt_b" / "model.ckpt.meta")):
        code, report = _weights(capsys, a, b)
        assert code == 1 and report["summary"]["identical"], a
        assert report["weights"]["compared"] == 2
        (only,) = report["weights"]["differ"]
        assert only["b"] == "layer/w" and only["shape"] == [3, 4]
        assert only["max_abs"] == pytest.approx(max_abs) and only["mean_abs"] == pytest.approx(mean_abs)
