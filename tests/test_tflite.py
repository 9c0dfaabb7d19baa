"""LiteRT (.tflite) files: the reader, the recognised cells and --verify, against LiteRT itself.

Ground truth comes from the LiteRT interpreter (ai-edge-litert): its op details (op names,
input and output tensor indices, -1 for an absent input) and tensor details (shape, dtype,
quantisation), and from running the file.  The fixtures are written by
tests/fixtures/make_tflite_fixtures.py from Keras 3 and tf_keras models.
"""

from __future__ import annotations

import json
from pathlib import Path

import flatbuffers
import numpy as np
import pytest

from rnngraph.cli import main
from rnngraph.errors import GraphFileError
from rnngraph.explain.tflite import FLOAT_TOLERANCE, verify_tflite
from rnngraph.graphdef.loaders import load_graph_def
from rnngraph.graphdef.tflite import INPUT_NAMES
from rnngraph.graphdef.walk import walk
from rnngraph.recognise.tflite import find_tflite_cells

DIR = Path(__file__).parent / "fixtures" / "tflite"
FILES = sorted(DIR.glob("*.tflite"))
# Written by other people (tests/fixtures/corpus/README.md lists the sources).
FOREIGN = sorted((Path(__file__).parent / "fixtures" / "corpus" / "tflite").glob("*.tflite"))
# What the converter made of each Keras layer (the measurements with TF 2.21).
EXPECTED = {"keras3_lstm": ("while", "lstm", 1), "keras3_gru": ("while", "gru", 1),
            "keras3_simplernn": ("while", "rnn", 1), "keras3_bilstm": ("while", "lstm", 2),
            "keras3_lstm_quant": ("while", "lstm", 1), "tfkeras_lstm": ("fused", "lstm", 1),
            "tfkeras_gru": ("while", "gru", 1), "tfkeras_simplernn": ("while", "rnn", 1),
            "tfkeras_bilstm": ("fused", "lstm", 2), "tfkeras_lstm_quant": ("fused", "lstm", 1),
            "tfkeras_lstm_clip": ("fused", "lstm", 1), "tfkeras_lstm_alias": ("fused", "lstm", 1),
            "tfkeras_gru_reset_before": ("while", "gru", 1)}
_TF_DTYPES = {"float32": "float32", "int32": "int32", "int8": "int8", "int64": "int64",
              "bool": "bool", "uint8": "uint8", "int16": "int16", "float16": "float16"}


def _interpreter(path: Path):
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    # Without the default XNNPACK delegate, whose DELEGATE nodes replace the file's ops.
    interp = Interpreter(model_path=str(path), experimental_op_resolver_type=(
        OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES))
    interp.allocate_tensors()
    return interp


def _graph(path: Path):
    return walk(load_graph_def(path)[0])


def test_every_fixture_has_an_expectation():
    assert sorted(p.stem for p in FILES) == sorted(EXPECTED)


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_reader_ops_and_tensors_match_the_interpreter(path):
    interp = _interpreter(path)
    G = _graph(path)
    ops = sorted((d["attrs"]["tflite_index"][1], d["attrs"].get("tflite_op", d["op"]), d)
                 for n, d in G.nodes(data=True)
                 if d["function"] is None and "tflite_index" in d["attrs"])
    details = interp._get_ops_details()
    assert [op for _, op, _ in ops] == [d["op_name"] for d in details]
    for (_, _, data), truth in zip(ops, details):
        assert data["attrs"]["tflite_inputs"] == [int(i) for i in truth["inputs"]]
        # The interpreter marks a WHILE output that only hands an input back as -1.
        outputs = data["attrs"]["tflite_outputs"]
        assert len(outputs) == len(truth["outputs"])
        assert all(int(t) in (o, -1) for o, t in zip(outputs, truth["outputs"]))
    tensors = {d["index"]: d for d in interp.get_tensor_details()}
    leaves = [d for _, d in G.nodes(data=True)
              if d["function"] is None and "tflite_tensor" in d["attrs"]]
    assert leaves
    for data in leaves:
        truth = tensors[data["attrs"]["tflite_tensor"][1]]
        out = data["outputs"][0]
        assert out["shape"] == [None if d < 0 else int(d) for d in truth["shape_signature"]]
        assert out["dtype"] == _TF_DTYPES[np.dtype(truth["dtype"]).name]
        scales = list(truth["quantization_parameters"]["scales"])
        assert data["attrs"].get("quant_scale", []) == pytest.approx(scales[:16])


def _check_fused(cells: list, interp) -> list:
    """Check each fused LSTM cell against the interpreter's op and tensor details; return the ops."""
    tensors = {d["index"]: d for d in interp.get_tensor_details()}
    fused = [d for d in interp._get_ops_details() if d["op_name"] == "UNIDIRECTIONAL_SEQUENCE_LSTM"]
    mine = sorted((c for c in cells if c.form == "fused"), key=lambda c: c.node)
    assert len(mine) == len(fused)
    for cell, truth in zip(mine, sorted(fused, key=lambda d: tensors[d["outputs"][0]]["name"])):
        slots = [int(i) for i in truth["inputs"]]
        assert cell.absent == [INPUT_NAMES[cell.op][s] for s, t in enumerate(slots) if t < 0]
        kernel = tensors[slots[2]]
        assert [cell.units, cell.n_inputs] == list(kernel["shape"])
        quantised = {INPUT_NAMES[cell.op][s] for s, t in enumerate(slots)
                     if t >= 0 and np.dtype(tensors[t]["dtype"]).name in ("int8", "int16")
                     and INPUT_NAMES[cell.op][s] != "input"}
        assert set(cell.quantised) == quantised
        assert cell.cifg is (slots[1] < 0) and cell.peepholes is (slots[10] >= 0)
        assert cell.projection is (slots[16] >= 0)
    return fused


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_cells_match_the_interpreter(path):
    form, kind, count = EXPECTED[path.stem]
    interp = _interpreter(path)
    cells = find_tflite_cells(_graph(path))
    assert [(c.form, c.kind) for c in cells] == [(form, kind)] * count
    if count == 2:
        assert {c.direction for c in cells} == {"forward", "backward"}
        assert {c.pair for c in cells} == {c.node for c in cells}
    assert len(_check_fused(cells, interp)) == (count if form == "fused" else 0)
    if path.stem.endswith("_quant"):
        assert any(c.quantised for c in cells)


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_verify_agrees_with_litert_and_a_wrong_cell_fails(path):
    G = _graph(path)
    cells = find_tflite_cells(G)
    result = verify_tflite(path, G, cells)
    # Quantised ones too: NumPy quantises each vector as LiteRT's hybrid kernels do, and
    # without that it misses by the int8 rounding, more than the float tolerance.
    assert result["tolerance"] == FLOAT_TOLERANCE
    if path.stem.endswith("_quant"):
        assert "hybrid kernel" in result["summary"]
        assert verify_tflite(path, G, cells, wrong="float_inputs")["max_abs_diff"] > 1e-3
    assert result["ok"], result
    # The clip model holds its input and forget gates equally open: swapping them changes nothing.
    swap = cells[0].kind != "rnn" and path.stem != "tfkeras_lstm_clip"
    for wrong in ("nobias",) + (("swap",) if swap else ()):
        bad = verify_tflite(path, G, cells, wrong=wrong)
        assert not bad["ok"], (wrong, bad["max_abs_diff"])


def test_the_fused_kernel_clips_the_cell_state_at_cell_clip():
    # tfkeras_lstm_clip: c climbs by 1 a step for 15 steps, then falls for 12 (see the generator).
    path = DIR / "tfkeras_lstm_clip.tflite"
    G = _graph(path)
    (cell,) = find_tflite_cells(G)
    assert cell.options["cell_clip"] == 10.0
    feed = np.array([1.0] * 15 + [-1.0] * 12)
    assert verify_tflite(path, G, [cell], feed=feed)["ok"]
    unclipped = verify_tflite(path, G, [cell], wrong="noclip", feed=feed)
    assert unclipped["max_abs_diff"] > 1.0  # h ends near tanh(-2) clipped, tanh(3) unclipped


def test_a_weight_sharing_the_state_variable_is_found_and_explains_litert_against_keras():
    # tfkeras_lstm_alias: a zero 1x1 recurrent kernel, batch 1, one unit (see the generator).
    path = DIR / "tfkeras_lstm_alias.tflite"
    G = _graph(path)
    (cell,) = find_tflite_cells(G)
    gates = ("input", "forget", "cell", "output")
    assert cell.shares_state == {f"recurrent_to_{g}_weights": "output_state" for g in gates}
    interp = _interpreter(path)
    slots = [int(i) for i in interp._get_ops_details()[0]["inputs"]]
    assert {slots[5], slots[6], slots[7], slots[8]} == {slots[18]}  # LiteRT's own view
    x = np.linspace(-1, 1, 6)
    interp.set_tensor(interp.get_input_details()[0]["index"], x.reshape(1, 6, 1).astype("float32"))
    interp.invoke()
    lite = interp.get_tensor(interp.get_output_details()[0]["index"])
    keras_out = np.load(DIR / "tfkeras_lstm_alias.keras_output.npy")
    gap = float(np.max(np.abs(lite - keras_out)))
    assert gap > 0.01  # LiteRT does not compute what the Keras layer computed
    modelled = verify_tflite(path, G, [cell], feed=x)
    assert modelled["ok"] and modelled["max_abs_diff"] < 1e-6
    as_keras = verify_tflite(path, G, [cell], wrong="file_weights", feed=x)
    assert as_keras["max_abs_diff"] == pytest.approx(gap, abs=1e-5)


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_inspect_and_explain_exit_0(path, capsys):
    assert main(["inspect", str(path), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert len(data["tflite_cells"]) == EXPECTED[path.stem][2]
    topic = EXPECTED[path.stem][1]
    assert main(["explain", topic, "--file", str(path)]) == 0
    text = capsys.readouterr().out
    assert "LiteRT cells" in text and "Nothing to explain" not in text


def test_the_foreign_corpus_is_there():
    assert len(FOREIGN) == 4


@pytest.mark.parametrize("path", FOREIGN, ids=lambda p: p.stem)
def test_foreign_files_match_the_interpreter_and_verify(path, capsys):
    G = _graph(path)
    cells = find_tflite_cells(G)
    assert cells and len(_check_fused(cells, _interpreter(path))) == len(cells)
    result = verify_tflite(path, G, cells)
    assert result["ok"], result
    for wrong in ("swap", "nobias"):
        assert not verify_tflite(path, G, cells, wrong=wrong)["ok"], wrong
    assert main(["inspect", str(path)]) == 0
    assert main(["explain", "lstm", "--file", str(path), "--verify"]) == 0
    assert "LiteRT cells" in capsys.readouterr().out


@pytest.mark.dot
@pytest.mark.parametrize("path", FOREIGN, ids=lambda p: p.stem)
def test_foreign_files_draw(path, tmp_path):
    for suffix in (".svg", ".html"):
        out = tmp_path / ("x" + suffix)
        assert main(["inspect", str(path), "--render", str(out)]) == 0
        assert "input_to_forget_weights" in out.read_text()


@pytest.mark.dot
@pytest.mark.parametrize("name", ["tfkeras_bilstm", "keras3_lstm"])
def test_render_svg_and_html_name_the_fused_inputs(name, tmp_path, capsys):
    for suffix in (".svg", ".html"):
        out = tmp_path / (name + suffix)
        assert main(["inspect", str(DIR / f"{name}.tflite"), "--render", str(out)]) == 0
        assert out.stat().st_size > 0
    svg = (tmp_path / f"{name}.svg").read_text()
    if name.startswith("tfkeras"):
        assert "input_to_forget_weights" in svg and "recurrent_to_output_weights" in svg
    else:
        assert "loop variable" in svg


# --- bad input: one line, GraphFileError -------------------------------------------------

def _model(name: str = "keras3_lstm"):
    from ai_edge_litert import schema_py_generated as schema

    return schema, schema.ModelT.InitFromPackedBuf((DIR / f"{name}.tflite").read_bytes(), 0)


def _write(model, tmp_path: Path) -> Path:
    builder = flatbuffers.Builder(0)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    path = tmp_path / "bad.tflite"
    path.write_bytes(bytes(builder.Output()))
    return path


def _while_op(schema, model):
    return next(op for op in model.subgraphs[0].operators
                if isinstance(op.builtinOptions, schema.WhileOptionsT))


def _bad_tensor(schema, model):
    op = model.subgraphs[0].operators[0]
    op.inputs = [999] + [int(v) for v in op.inputs[1:]]


def _bad_buffer(schema, model):
    next(t for t in model.subgraphs[0].tensors if t.buffer).buffer = 10_000


def _bad_subgraph(schema, model):
    _while_op(schema, model).builtinOptions.bodySubgraphIndex = 42


def _recursion(schema, model):
    _while_op(schema, model).builtinOptions.bodySubgraphIndex = 0


def _unknown_opcode(schema, model):
    model.operatorCodes[0].builtinCode = 9999


def _bad_opcode_index(schema, model):
    model.subgraphs[0].operators[0].opcodeIndex = 77


@pytest.mark.parametrize("fault, message", [
    (_bad_tensor, "names tensor 999, but its subgraph has"),
    (_bad_buffer, "names buffer 10000, but the model has"),
    (_bad_subgraph, "names subgraph 42, but the model has 3"),
    (_recursion, r"a WHILE in subgraph 0 runs subgraph 0, which is itself running it"),
    (_unknown_opcode, "operator code 9999, which no LiteRT schema"),
    (_bad_opcode_index, "names operator code 77"),
])
def test_crafted_faults_are_one_line(fault, message, tmp_path, capsys):
    schema, model = _model()
    fault(schema, model)
    path = _write(model, tmp_path)
    with pytest.raises(GraphFileError, match=message):
        load_graph_def(path)
    assert main(["inspect", str(path)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err


@pytest.mark.parametrize("cut", [8, 40, 200, 1000, -100])
def test_truncated_and_garbage_flatbuffers_are_one_line(cut, tmp_path):
    data = (DIR / "keras3_lstm.tflite").read_bytes()
    path = tmp_path / "cut.tflite"
    path.write_bytes(data[:cut])
    with pytest.raises(GraphFileError, match="LiteRT flatbuffer"):
        load_graph_def(path)
    path.write_bytes(data[:8] + bytes(range(256)) * 4)
    with pytest.raises(GraphFileError, match="LiteRT flatbuffer"):
        load_graph_def(path)


# --- compare m.keras m.tflite ---------------------------------------------------------------

KERAS_FILES = sorted([*DIR.glob("*.keras"), *DIR.glob("*.h5")])


@pytest.mark.parametrize("path", KERAS_FILES, ids=lambda p: p.name)
def test_compare_links_every_keras_gate_block_to_equal_litert_weights(path, capsys):
    lite = path.with_suffix(".tflite")
    assert main(["compare", str(path), str(lite)]) == 0
    out = capsys.readouterr().out
    form, kind, count = EXPECTED[path.stem]
    assert out.count("Keras layer ") == count
    gates = {"lstm": 4, "gru": 3, "rnn": 1}[kind]
    # kernel, recurrent kernel, bias (a GRU resetting after the recurrent product: two biases)
    blocks = (3 + (kind == "gru" and "reset_before" not in path.stem)) * gates
    assert out.count("max |diff| 0\n") == count * blocks
    assert f"The converter chose {'a fused op' if form == 'fused' else 'a WHILE loop'}" in out


def test_compare_fails_when_a_weight_differs(tmp_path, capsys):
    import shutil
    import zipfile

    import h5py

    source = DIR / "keras3_lstm.keras"
    changed = tmp_path / "changed.keras"
    with zipfile.ZipFile(source) as archive:
        archive.extractall(tmp_path / "x")
    with h5py.File(tmp_path / "x" / "model.weights.h5", "r+") as h5:
        bias = h5["layers/lstm/cell/vars/2"]
        bias[5] = bias[5] + 0.25  # the forget gate's second unit
    with zipfile.ZipFile(changed, "w") as archive:
        for name in ("metadata.json", "config.json", "model.weights.h5"):
            archive.write(tmp_path / "x" / name, name)
    assert main(["compare", str(changed), str(source.with_suffix(".tflite"))]) == 1
    out = capsys.readouterr().out
    assert out.count("MISMATCH") == 1 and "bias[4:8] (f)" in out
    shutil.rmtree(tmp_path / "x")


def test_compare_says_when_no_litert_cell_fits(capsys):
    assert main(["compare", str(DIR / "keras3_gru.keras"), str(DIR / "keras3_lstm.tflite")]) == 1
    assert "no LiteRT cell of that kind and size" in capsys.readouterr().out


def test_compare_refuses_a_zip_that_is_no_keras_archive_or_a_bomb(tmp_path, capsys):
    import zipfile

    lite = str(DIR / "keras3_lstm.tflite")
    other = tmp_path / "other.keras"
    with zipfile.ZipFile(other, "w") as archive:
        archive.writestr("readme.txt", "hello")
    assert main(["compare", str(other), lite]) == 1
    err = capsys.readouterr().err
    assert "without model.weights.h5" in err and err.count("\n") == 1
    bomb = tmp_path / "bomb.keras"
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("model.weights.h5", bytes(60 << 20))
    assert main(["compare", str(bomb), lite]) == 1
    err = capsys.readouterr().err
    assert "declares 62,914,560 bytes" in err and "refused" in err


@pytest.mark.tf
@pytest.mark.slow
def test_recognised_cells_match_the_keras_layers_they_came_from():
    # Ground truth from Keras' own layer objects: each .keras fixture loaded in safe mode.
    import keras
    import tf_keras

    kinds = {"LSTM": "lstm", "GRU": "gru", "SimpleRNN": "rnn"}
    for path in sorted(DIR.glob("*.keras")):
        library = tf_keras if path.name.startswith("tfkeras") else keras
        model = library.saving.load_model(path, safe_mode=True, compile=False)
        truth = []
        for layer in model.layers:
            inner = [layer.forward_layer, layer.backward_layer] if hasattr(layer, "forward_layer") \
                else [layer]
            truth += [(kinds[type(rnn).__name__], rnn.units,
                       "backward" if rnn.go_backwards else "forward",
                       getattr(rnn, "reset_after", None))
                      for rnn in inner if type(rnn).__name__ in kinds]
        cells = find_tflite_cells(_graph(path.with_suffix(".tflite")))
        found = [(c.kind, c.units, c.direction, c.reset_after) for c in cells]
        assert sorted(found, key=str) == sorted(truth, key=str), path.name
