"""Keras files (.keras, .h5): the layer view against Keras' own layer objects, hostile files, the
converter prediction against what TensorFlow's converter really wrote, and --verify.

Ground truth: tests/fixtures/keras_files/manifest.json, written by make_keras_files.py from the
Keras layer objects (class, units, flags, weight shapes) and from the LiteRT interpreter's op
list of each converted model; never from rnngraph.
"""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from fuzzing import keras_cases
from rnngraph.cli import main
from rnngraph.errors import GraphFileError, RnnGraphError
from rnngraph.explain.convert import expected_ops, predict_keras_file
from rnngraph.graphdef.keras_file import keras_graph_def, read_keras_model
from rnngraph.graphdef.loaders import load_graph_def

FOLDER = Path(__file__).parent / "fixtures" / "keras_files"
MANIFEST = json.loads((FOLDER / "manifest.json").read_text())
FILES = [(name, f) for name, entry in sorted(MANIFEST.items()) for f in entry["files"]]
FOREIGN = Path(__file__).parent / "fixtures" / "corpus" / "keras"
FOREIGN_FILES = sorted(p for p in FOREIGN.iterdir() if p.suffix in (".h5", ".hdf5", ".keras"))


def _read(path: Path):
    return read_keras_model(path, path.read_bytes())


@pytest.mark.parametrize("name,file", FILES, ids=[f for _, f in FILES])
def test_layer_view_matches_keras_layer_objects(name, file):
    model = _read(FOLDER / file)
    truth = MANIFEST[name]["layers"]
    layers = [l for l in model.layers if not l.is_op]  # Keras 3 ops (NotEqual...) are no layers
    assert [l["name"] for l in truth] == [l.name for l in layers]
    assert model.library == ("Keras 3" if MANIFEST[name]["library"] == "keras" else "tf_keras")
    for want, layer in zip(truth, layers):
        assert layer.class_name == want["class"]
        parts = layer.inner or [layer]
        got = sorted(list(w.shape) for p in parts for w in p.weights)
        assert got == want["weights"], layer.name
        for rnn, part in zip(want.get("rnns", []), parts):
            config = part.config
            assert part.class_name + "Cell" == rnn["cell"]
            assert config["units"] == rnn["units"]
            for key in ("return_sequences", "return_state", "go_backwards", "unroll", "activation"):
                assert config[key] == rnn[key], (layer.name, key)
            shapes = {w.name: list(w.shape) for w in part.weights}
            assert shapes["kernel"] == rnn["kernel"]
            assert shapes["recurrent_kernel"] == rnn["recurrent_kernel"]
            assert shapes.get("bias") == rnn["bias"]
        if "merge_mode" in want:
            assert layer.config["merge_mode"] == want["merge_mode"]


@pytest.mark.parametrize("name,file", FILES[:4], ids=[f for _, f in FILES[:4]])
def test_layer_view_graph_def_keeps_every_layer_and_weight(name, file):
    model = _read(FOLDER / file)
    graph_def, kind = load_graph_def(FOLDER / file)
    assert kind == Path(file).suffix[1:]
    ops = [n.op for n in graph_def.node]
    weights = sum(len(p.weights) for l in model.layers for p in (l.inner or [l]))
    assert ops.count("VariableV2") == weights
    assert {l.class_name for l in model.layers} <= set(ops)
    assert graph_def == keras_graph_def(model)  # deterministic


def test_layer_view_imports_no_tensorflow():
    code = ("import sys; from rnngraph.graphdef.loaders import load_graph_def; "
            f"load_graph_def({str(FOLDER / 'k3-bilstm.keras')!r}); load_graph_def({str(FOLDER / 'k2-lstm.h5')!r}); "
            "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules, 'TF imported'")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).parents[1])


@pytest.mark.parametrize("name", sorted(MANIFEST))
def test_converter_prediction_equals_what_the_converter_wrote(name):
    entry = MANIFEST[name]
    model = _read(FOLDER / entry["files"][0])
    want = expected_ops(predict_keras_file(model))
    real = entry["converter"]
    assert "counts" in real, real  # every fixture converts at batch 1 with built-in ops
    assert real["counts"].get("UNIDIRECTIONAL_SEQUENCE_LSTM", 0) == want["fused"]
    assert ("WHILE" in real["counts"]) == want["while"]


def test_prediction_reasons_name_the_findings():
    state = predict_keras_file(_read(FOLDER / "k2-lstm-state.keras"))[0]
    assert state.form == "while" and any("return_state=True" in r for r in state.reasons)
    masked = predict_keras_file(_read(FOLDER / "k2-lstm-mask.keras"))[0]
    assert masked.form == "while" and masked.findings["mask_from"] == "masking"
    k3 = predict_keras_file(_read(FOLDER / "k3-lstm.keras"))[0]
    assert k3.form == "while" and k3.marker is False and "Keras 3" in k3.reasons[0]
    k2 = predict_keras_file(_read(FOLDER / "k2-lstm.keras"))[0]
    assert k2.form == "fused" and k2.marker is True


# --- hostile files -------------------------------------------------------------------------

def _zip(members: dict, compression=zipfile.ZIP_STORED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _h5(tmp_path, build) -> Path:
    import h5py

    path = tmp_path / "m.h5"
    with h5py.File(path, "w") as f:
        build(f, tmp_path)
    return path


def _model_config(layers) -> str:
    return json.dumps({"class_name": "Sequential", "config": {"name": "s", "layers": layers}})


def _bad_files(tmp_path):
    keras = (FOLDER / "k3-lstm.keras").read_bytes()
    with zipfile.ZipFile(io.BytesIO(keras)) as archive:
        members = {n: archive.read(n) for n in archive.namelist()}
    yield "not a keras zip", _zip({"a.txt": b"hello"}), "not a Keras archive"
    yield "zip bomb", _zip(dict(members, **{"config.json": b" " * (60 << 20)}), zipfile.ZIP_DEFLATED), "bomb"
    yield "path outside", _zip(dict(members, **{"../evil.json": b"{}"})), "outside the archive"
    declared = bytearray(_zip(members))
    at = declared.find(b"PK\x01\x02")  # central directory entry of metadata.json: declare 2 GB
    declared[at + 24:at + 28] = (2**31 - 1).to_bytes(4, "little")
    yield "declared size", bytes(declared), "declares"
    yield "config not json", _zip(dict(members, **{"config.json": b"{not json"})), "not JSON"
    custom = json.loads(members["config.json"])
    custom["config"]["layers"][1]["module"] = "my_package.layers"
    custom["config"]["layers"][1]["registered_name"] = "Custom>MyLSTM"
    yield "custom class", _zip(dict(members, **{"config.json": json.dumps(custom).encode()})), "MyLSTM"

    def huge(f, _):
        f.attrs["model_config"] = _model_config([{"class_name": "Dense", "config": {"name": "d", "units": 1}}])
        g = f.create_group("model_weights")
        g.attrs["layer_names"] = [b"d"]
        d = g.create_group("d")
        d.attrs["weight_names"] = [b"kernel:0"]
        d.create_dataset("kernel:0", shape=(10**6, 10**6), dtype="f4")  # declared, never written
    yield "huge dataset", _h5(tmp_path, huge).read_bytes(), "declares"

    def external(f, folder):
        f.attrs["model_config"] = _model_config([{"class_name": "Dense", "config": {"name": "d", "units": 1}}])
        g = f.create_group("model_weights")
        g.attrs["layer_names"] = [b"d"]
        g["d"] = __import__("h5py").ExternalLink("/etc/passwd", "/x")
    yield "external link", _h5(tmp_path, external).read_bytes(), "external link"

    def virtual(f, folder):
        import h5py

        layout = h5py.VirtualLayout(shape=(4,), dtype="f4")
        layout[:] = h5py.VirtualSource("/tmp/elsewhere.h5", "data", shape=(4,))
        f.attrs["model_config"] = _model_config([{"class_name": "Dense", "config": {"name": "d", "units": 1}}])
        g = f.create_group("model_weights")
        g.attrs["layer_names"] = [b"d"]
        d = g.create_group("d")
        d.attrs["weight_names"] = [b"kernel:0"]
        d.create_virtual_dataset("kernel:0", layout)
    yield "virtual dataset", _h5(tmp_path, virtual).read_bytes(), "virtual dataset"

    def not_json(f, _):
        f.attrs["model_config"] = "{nope"
    yield "model_config not json", _h5(tmp_path, not_json).read_bytes(), "not JSON"

    def unknown(f, _):
        f.attrs["model_config"] = json.dumps({"class_name": "Sequential", "config": {"layers": [
            {"class_name": "Mystery", "module": "evil.layers", "config": {"name": "m"}}]}})
    yield "unknown class", _h5(tmp_path, unknown).read_bytes(), "Mystery"


def test_hostile_keras_files_get_one_line_and_exit_1(tmp_path, capsys):
    for label, data, words in _bad_files(tmp_path):
        path = tmp_path / ("case.keras" if data[:2] == b"PK" else "case.h5")
        path.write_bytes(data)
        assert main(["inspect", str(path)]) == 1, label
        err = capsys.readouterr().err.strip()
        assert "\n" not in err and words in err and "Traceback" not in err, (label, err)


def test_an_hdf5_file_libhdf5_loops_on_is_stopped_in_one_line(capsys, monkeypatch, tmp_path):
    """attribute_loop.h5 is case 252 of keras_cases(7, ...) (tests/fuzzing.py): h5py's
    attrs.get spins in HDF5's C library on it (more than 100 s, measured), which no Python code
    can interrupt; rnngraph reads HDF5 in a forked child and stops it at the limit."""
    import time

    from rnngraph.graphdef import keras_file

    path = FOLDER / "hostile" / "attribute_loop.h5"
    monkeypatch.setattr(keras_file, "_HDF5_SECONDS", 2.0)
    start = time.monotonic()
    assert main(["inspect", str(path)]) == 1
    assert time.monotonic() - start < 30
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "did not read in 2 s" in err and "Traceback" not in err
    # a good file still reads, through the same child
    assert main(["inspect", str(FOLDER / "k3-lstm.h5")]) == 0
    capsys.readouterr()
    # compare reads the Keras weights the same way (h5py raised RuntimeError there)
    tflite = Path(__file__).parent / "fixtures" / "tflite" / "tfkeras_lstm.tflite"
    assert main(["compare", str(path), str(tflite), "-o", str(tmp_path / "c.html")]) == 1
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "Traceback" not in err and "Error:" not in err, err


@pytest.mark.parametrize("name", ["open_overflow.h5", "units_past_int64.keras"])
def test_long_fuzz_finds_are_one_line(name, capsys):
    """Cases 990 and 823 of keras_cases(7, 1000): h5py's open raised OverflowError (a declared
    size past ssize_t), and units of 2**63 reached a protobuf dimension (ValueError)."""
    code = main(["inspect", str(FOLDER / "hostile" / name)])
    err = capsys.readouterr().err.strip()
    assert code in (0, 1) and "\n" not in err and "Traceback" not in err and "Error:" not in err, err


def test_legacy_keras1_names_are_read(tmp_path):
    import h5py

    path = tmp_path / "k1.h5"
    with h5py.File(path, "w") as f:
        f.attrs["keras_version"] = "1.2.2"
        f.attrs["model_config"] = json.dumps({"class_name": "Sequential", "config": [
            {"class_name": "LSTM", "config": {"name": "lstm_1", "output_dim": 7, "input_dim": 3,
                                              "input_length": 5, "inner_activation": "hard_sigmoid",
                                              "activation": "tanh", "return_sequences": True}}]})
        g = f.create_group("model_weights")
        g.attrs["layer_names"] = [b"lstm_1"]
        layer = g.create_group("lstm_1")
        layer.attrs["weight_names"] = [b"lstm_1_W_i"]
        layer.create_dataset("lstm_1_W_i", data=np.zeros((3, 7), np.float32))
    model = _read(path)
    lstm = model.layer("lstm_1")
    assert model.library == "Keras 1" and lstm.config["units"] == 7
    assert lstm.config["recurrent_activation"] == "hard_sigmoid"
    assert model.input_shapes["input"] == [None, 5, 3]
    assert [(w.name, w.shape) for w in lstm.weights] == [("lstm_1_W_i", (3, 7))]


def test_fuzzed_keras_files_raise_only_rnngraph_errors(tmp_path):
    from fuzzing import exercise

    failures = []
    for label, data, suffix in keras_cases(21, 60):
        path = tmp_path / f"case{suffix}"
        path.write_bytes(data)
        try:
            exercise(path)
        except RnnGraphError as exc:
            assert "\n" not in str(exc).strip(), (label, str(exc))
        except Exception as exc:  # noqa: BLE001 - anything else is the bug this looks for
            failures.append(f"{label}: {type(exc).__name__}: {str(exc)[:200]}")
    assert failures == []


# --- foreign files -------------------------------------------------------------------------

@pytest.mark.parametrize("path", FOREIGN_FILES, ids=[p.name for p in FOREIGN_FILES])
def test_foreign_keras_files_inspect_draw_and_explain(path, tmp_path, capsys):
    assert main(["inspect", str(path)]) == 0
    assert main(["inspect", str(path), "--render", str(tmp_path / "g.dot")]) == 0
    assert main(["inspect", str(path), "--view", "layers", "--render", str(tmp_path / "g.html")]) == 0
    assert main(["explain", "lstm", "--file", str(path)]) == 0
    out = capsys.readouterr().out
    assert "The Keras layers (layer view)" in out


def test_foreign_weight_shapes_equal_h5py():
    import h5py

    for path in FOREIGN_FILES:
        model = _read(path)
        with h5py.File(path, "r") as f:
            for layer in model.layers:
                for part in layer.inner or [layer]:
                    for w in part.weights:
                        assert tuple(f[w.path].shape) == w.shape, (path.name, w.path)


# --- with TensorFlow -----------------------------------------------------------------------

def _swapped(facts, weights, x, state):
    """A deliberately wrong cell: the first two gates swapped (LSTM i and f, GRU z and r)."""
    from rnngraph.explain.keras import keras_step

    if facts.kind == "rnn":
        return keras_step(facts, weights, x, state)
    n = weights["recurrent_kernel"].shape[0]
    swap = lambda a: np.concatenate([a[..., n:2 * n], a[..., :n], a[..., 2 * n:]], -1)  # noqa: E731
    w = {k: swap(v) for k, v in weights.items()}
    return keras_step(facts, w, x, state)


def _no_bias(facts, weights, x, state):
    """A deliberately wrong cell: the bias left out (needs a trained file: fresh biases are 0)."""
    from rnngraph.explain.keras import keras_step

    return keras_step(facts, {k: v for k, v in weights.items() if k != "bias"}, x, state)


@pytest.mark.tf
@pytest.mark.slow
@pytest.mark.parametrize("path,wrong", [
    (FOLDER / "k3-bilstm.keras", _swapped), (FOLDER / "k2-lstm-state.h5", _swapped),
    (FOLDER / "k3-gru-rnn-dense.h5", _swapped), (FOREIGN / "pv_lstm_model.h5", _no_bias),
    (FOREIGN / "yangwohenmai_lstm_model.h5", _no_bias)], ids=lambda v: getattr(v, "name", None) or v.__name__)
def test_verify_keras_file_matches_and_a_wrong_cell_fails(path, wrong):
    from rnngraph.explain.keras_verify import verify_keras_file

    good = verify_keras_file(path)
    assert good["ok"] and good["max_abs_diff"] < 1e-5, good["rows"]
    assert not verify_keras_file(path, step=wrong)["ok"]


@pytest.mark.tf
@pytest.mark.slow
@pytest.mark.parametrize("path", [FOLDER / "k2-lstm.keras", FOREIGN / "yangwohenmai_lstm_model.h5",
                                  FOREIGN / "anchita_lstm_model.h5"], ids=lambda p: p.name)
def test_explain_convert_check_confirms_the_prediction(path, capsys):
    assert main(["explain", "convert", str(path), "--check"]) == 0
    out = capsys.readouterr().out
    assert "the prediction holds" in out  # and main returned 0: the counts agreed


# --- the converter's cell_clip, measured ----------------------------------------------------

def test_litert_output_is_a_cell_clipped_at_10_and_keras_is_not():
    """rnngraph/explain/cell_clip.json (tests/fixtures/measure_cell_clip.py): Keras' h and LiteRT's h for the same one-unit LSTM.

    NumPy recomputes the LSTM from the weights that script set, once without a clip and once
    with c held in [-10, 10]: the first equals Keras (1e-5); the second follows LiteRT within
    0.01 (measured 0.0053: LiteRT's float kernel differs slightly in its activations, over 30
    steps of an all-open cell), while the unclipped one is 1.96 away from LiteRT.
    """
    measured = json.loads((Path(__file__).parents[1] / "rnngraph" / "explain" / "cell_clip.json").read_text())
    assert measured["fused"] and measured["ops"] == ["UNIDIRECTIONAL_SEQUENCE_LSTM"]
    sig = lambda v: 1.0 / (1.0 + np.exp(-v))  # noqa: E731
    for clip, key in ((None, "keras_h"), (10.0, "litert_h")):
        c, hs = 0.0, []
        for x in measured["input"]:
            c = sig(10.0) * c + sig(10.0) * np.tanh(5.0 * x)
            c = c if clip is None else float(np.clip(c, -clip, clip))
            hs.append(sig(10.0) * np.tanh(c))
        assert np.max(np.abs(np.array(hs) - measured[key])) < (1e-5 if clip is None else 1e-2), key
        if clip is None:
            assert np.max(np.abs(np.array(hs) - measured["litert_h"])) > 1.0
    assert measured["max_abs_diff"] > 1.0  # where c comes back down, the two part
    assert measured["first_step_over_1e-3"] > measured["first_step_c_over_10"]


SAVED = Path(__file__).parent / "fixtures" / "keras"


@pytest.mark.parametrize("name", ["k2-lstm", "k2-bilstm", "k2-gru", "k2-simplernn", "k3-lstm",
                                  "k3-bilstm", "k3-gru"])
def test_savedmodel_prediction_equals_the_converter_on_the_same_keras_model(name):
    """The SavedModel fixtures hold no variables, so the converter cannot run on them; the same
    layer from the same Keras, saved as .keras and converted (manifest), is the ground truth."""
    from rnngraph.explain.convert import explain_convert

    layers = explain_convert(SAVED / f"{name}.savedmodel").findings["layers"]
    real = MANIFEST[name]["converter"]["counts"]
    assert sum(p["form"] == "fused" for p in layers) == real.get("UNIDIRECTIONAL_SEQUENCE_LSTM", 0)
    assert any(p["form"] == "while" for p in layers) == ("WHILE" in real)


def test_readme_figures_are_the_measured_ones():
    """The README's Keras section quotes cell_clip.json and the fixture count, not memory."""
    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    measured = json.loads((Path(__file__).parents[1] / "rnngraph" / "explain" / "cell_clip.json").read_text())
    assert f"|Keras − LiteRT| in h is {measured['max_abs_diff']:.3g}" in readme
    assert f"passes 10 at step {measured['first_step_c_over_10']}" in readme
    assert f"more than 1e-3 at step {measured['first_step_over_1e-3']}" in readme
    assert f"On all {len(MANIFEST)} generated models" in readme


@pytest.mark.tf
@pytest.mark.slow
@pytest.mark.parametrize("file", ["k3-lstm.keras", "k2-bilstm.h5", "k3-gru-rnn-dense.h5"])
def test_op_view_cells_carry_the_keras_layer_names(file):
    """The traced graph's recognised cells link to the layers Keras itself lists (manifest)."""
    from rnngraph.commands.keras_view import op_view
    from rnngraph.graphdef.walk import walk
    from rnngraph.recognise import recognise
    from rnngraph.recognise.keras_link import link_cells

    graph_def, kind, model = op_view(FOLDER / file)
    cells = recognise(walk(graph_def)).cells
    truth = MANIFEST[file.rsplit(".", 1)[0]]["layers"]
    names = sorted(r["name"] for layer in truth for r in layer.get("rnns", []))
    kinds = {r["name"]: r["cell"] for layer in truth for r in layer.get("rnns", [])}
    links = link_cells(cells, model)
    assert kind == "keras-ops" and sorted(links.values()) == names
    for cell in cells:
        assert kinds[links[cell.scope]] == {"lstm": "LSTMCell", "gru": "GRUCell", "rnn": "SimpleRNNCell"}[cell.kind]


def _export(tmp_path, legacy: bool) -> Path:
    """Write a SavedModel with variables: Bidirectional LSTM (sequences) then GRU, 5 × 3 inputs."""
    out = tmp_path / ("tfk" if legacy else "k3")
    code = (
        "import os, sys\n"
        f"os.environ['TF_USE_LEGACY_KERAS'] = '{1 if legacy else 0}'\n"
        "import tensorflow as tf\n"
        f"import {'tf_keras' if legacy else 'keras'} as k\n"
        "k.utils.set_random_seed(1)\n"
        "x = k.Input((5, 3), name='x')\n"
        "y = k.layers.Bidirectional(k.layers.LSTM(4, return_sequences=True, name='lstm'), name='bi')(x)\n"
        "m = k.Model(x, k.layers.GRU(4, go_backwards=True, name='gru')(y))\n"
        "for w in m.weights:\n"
        "    w.assign(tf.random.stateless_normal(w.shape, [1, 2]) * 0.5)  # biases non-zero too\n"
        + (f"tf.saved_model.save(m, {str(out)!r})\n" if legacy else f"m.export({str(out)!r}, verbose=False)\n"))
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                   cwd=Path(__file__).parents[1])
    return out


@pytest.mark.tf
@pytest.mark.slow
@pytest.mark.parametrize("legacy", [False, True], ids=["keras3-export", "tf_keras-saved_model"])
def test_verify_keras_savedmodel_reports_every_layer_and_a_wrong_cell_fails(tmp_path, legacy, capsys):
    from rnngraph.explain.keras_saved import verify_keras_saved_model

    path = _export(tmp_path, legacy)
    assert main(["explain", "lstm", "--file", str(path), "--verify"]) == 0
    report = verify_keras_saved_model(path)
    layers = {row.split(" (")[0].rsplit("/", 1)[-1] for row in report["rows"]}
    assert {re.sub(r"_\d+$", "", name) for name in layers} == {"forward_lstm", "backward_lstm", "gru"}
    assert report["ok"] and report["max_abs_diff"] < 1e-5
    assert not verify_keras_saved_model(path, step=_swapped)["ok"]
    assert not verify_keras_saved_model(path, step=_no_bias)["ok"]


@pytest.mark.parametrize("name", sorted(MANIFEST))
def test_layer_view_output_shapes_equal_what_keras_returned(name):
    """The shapes drawn on the layer view's edges, at the model's outputs, against Keras' arrays."""
    from rnngraph.graphdef.keras_file import output_shapes

    for file in MANIFEST[name]["files"]:
        model = _read(FOLDER / file)
        shapes = output_shapes(model)
        got = [np.asarray(a).shape for a in MANIFEST[name]["output"]]
        want = [tuple(2 if d is None else d for d in shapes[layer][index])
                for layer, index in model.outputs]
        assert want == got, file


def test_a_lambda_layer_is_drawn_but_never_loaded(tmp_path, capsys):
    """The layer view shows it; --verify, --view ops and convert --check refuse before Keras runs."""
    with zipfile.ZipFile(FOLDER / "k3-lstm.keras") as archive:
        members = {n: archive.read(n) for n in archive.namelist()}
    config = json.loads(members["config.json"])
    config["config"]["layers"][1]["class_name"] = "Lambda"
    path = tmp_path / "lambda.keras"
    path.write_bytes(_zip(dict(members, **{"config.json": json.dumps(config).encode()})))
    assert main(["inspect", str(path)]) == 0
    capsys.readouterr()
    for argv in (["explain", "lstm", "--file", str(path), "--verify"],
                 ["inspect", str(path), "--view", "ops"], ["explain", "convert", str(path), "--check"]):
        assert main(argv) == 1, argv
        err = capsys.readouterr().err.strip()
        assert "\n" not in err and "is a Lambda" in err, (argv, err)


@pytest.mark.tf
@pytest.mark.slow
def test_at_a_dynamic_batch_the_converter_refuses_the_loop():
    """What explain convert says of a dynamic batch: built-in ops only, the conversion fails."""
    code = ("import os; os.environ['TF_USE_LEGACY_KERAS'] = '1'\n"
            "import tensorflow as tf, tf_keras as k\n"
            f"m = k.models.load_model({str(FOLDER / 'k2-lstm.keras')!r}, compile=False, safe_mode=True)\n"
            "c = tf.lite.TFLiteConverter.from_keras_model(m)\n"
            "c.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]\n"
            "try:\n    c.convert(); print('CONVERTED')\n"
            "except Exception as e:\n    print('REFUSED', 'TensorList' in str(e))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                          cwd=Path(__file__).parents[1])
    assert "REFUSED True" in done.stdout, done.stdout[-500:]
