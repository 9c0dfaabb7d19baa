"""The fused LiteRT RNN ops the Keras converter never writes: recognised, explained and verified.

The fixtures (tests/fixtures/tflite/fused/, written with LiteRT's flatc object API by
make_fused_fixtures.py, seed 21) hold ``BIDIRECTIONAL_SEQUENCE_LSTM``, ``UNIDIRECTIONAL_SEQUENCE_LSTM``
with peepholes, projection + proj_clip, layer norm, CIFG, ``UNIDIRECTIONAL_SEQUENCE_RNN`` and
``BIDIRECTIONAL_SEQUENCE_RNN``, batch-major and time-major, float and hybrid (int8 weights).
Ground truth: the LiteRT interpreter's op and tensor details and its outputs, and the options
as LiteRT's own schema classes unpack them.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from rnngraph.cli import main
from rnngraph.explain.tflite import FLOAT_TOLERANCE, QUANT_TOLERANCE, verify_tflite
from rnngraph.graphdef.loaders import load_graph_def
from rnngraph.graphdef.tflite import INPUT_NAMES
from rnngraph.graphdef.walk import walk
from rnngraph.recognise.tflite import find_tflite_cells

DIR = Path(__file__).parent / "fixtures" / "tflite" / "fused"
FILES = sorted(DIR.glob("*.tflite"))
_OPS = {"uni_lstm": "UNIDIRECTIONAL_SEQUENCE_LSTM", "bi_lstm": "BIDIRECTIONAL_SEQUENCE_LSTM",
        "uni_rnn": "UNIDIRECTIONAL_SEQUENCE_RNN", "bi_rnn": "BIDIRECTIONAL_SEQUENCE_RNN"}


def _op_name(path: Path) -> str:
    return _OPS["_".join(path.stem.split("_")[:2])]


def _interpreter(path: Path):
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    interp = Interpreter(model_path=str(path), experimental_op_resolver_type=(
        OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES))
    interp.allocate_tensors()
    return interp


def _options(path: Path) -> dict:
    """The op's options as LiteRT's schema object API unpacks them (not rnngraph's reader)."""
    from ai_edge_litert import schema_py_generated as S

    model = S.ModelT.InitFromPackedBuf(path.read_bytes(), 0)
    return vars(model.subgraphs[0].operators[0].builtinOptions)


def _setup(path: Path):
    G = walk(load_graph_def(path)[0])
    return G, find_tflite_cells(G)


def test_the_fixtures_cover_every_fused_form():
    stems = {p.stem for p in FILES}
    assert {"_".join(s.split("_")[:2]) for s in stems} == set(_OPS)
    assert {s for s in stems if "hybrid" in s} == {"uni_lstm_hybrid", "bi_lstm_hybrid", "uni_rnn_hybrid",
                                                   "bi_rnn_hybrid_time_major"}
    assert sum("time_major" in s for s in stems) == 5


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_named_inputs_and_forms_match_the_interpreter(path):
    interp = _interpreter(path)
    (op,) = interp._get_ops_details()
    assert op["op_name"] == _op_name(path)
    tensors = {d["index"]: d for d in interp.get_tensor_details()}
    G, cells = _setup(path)
    (cell,) = cells
    assert cell.op == op["op_name"]
    names = INPUT_NAMES[cell.op]
    slots = [int(t) for t in op["inputs"]]
    assert cell.absent == [names[s] for s, t in enumerate(slots) if t < 0]
    assert len(cell.inputs) == sum(t >= 0 for t in slots)
    for s, t in enumerate(slots):
        if t < 0:
            continue
        node = G.nodes[cell.inputs[names[s]]]
        assert node["attrs"]["tflite_tensor"][1] == t
        # the generator names every tensor by the kernel's slot it feeds
        assert tensors[t]["name"] == f"{path.stem}/{names[s]}"
        assert node["outputs"][0]["shape"] == [int(d) for d in tensors[t]["shape"]]
    truth = _options(path)
    assert cell.options["time_major"] is truth["timeMajor"]
    assert cell.options.get("merge_outputs", False) is truth.get("mergeOutputs", False)
    for mine, theirs in (("cell_clip", "cellClip"), ("proj_clip", "projClip")):
        if theirs in truth:
            assert cell.options[mine] == pytest.approx(truth[theirs])
    assert cell.direction == ("bidirectional" if cell.op.startswith("BI") else "forward")
    assert bool(cell.quantised) is ("hybrid" in path.stem)
    assert all(np.dtype(tensors[t]["dtype"]).name == "int8" for s, t in enumerate(slots)
               if t >= 0 and names[s] in cell.quantised)
    if cell.kind == "lstm":
        prefix = "fw_" if cell.direction == "bidirectional" else ""
        index = {name: s for s, name in enumerate(names)}
        present = {name: slots[index[prefix + name]] >= 0 for name in
                   ("input_to_input_weights", "cell_to_forget_weights", "projection_weights")}
        assert cell.cifg is not present["input_to_input_weights"]
        assert cell.peepholes is present["cell_to_forget_weights"]
        assert cell.projection is present["projection_weights"]
        norm = index.get("forget_layer_norm_coefficients")
        assert cell.layer_norm is (norm is not None and slots[norm] >= 0)
        units, n_in = tensors[slots[index[prefix + "input_to_forget_weights"]]]["shape"]
        assert (cell.units, cell.n_inputs) == (units, n_in)
        if cell.projection:
            assert cell.projection_size == tensors[slots[index[prefix + "projection_weights"]]]["shape"][0]


def _wrong_cells(cell) -> list:
    """The deliberately wrong NumPy cells that apply to this op (each must fail)."""
    wrong = ["nobias"]
    if cell.kind == "lstm":
        wrong += ["swap"]
        wrong += ["nopeephole"] * bool(cell.peepholes) + ["noprojection"] * bool(cell.projection)
        wrong += ["nolayernorm"] * bool(cell.layer_norm)
        wrong += ["noclip"] * bool(cell.options.get("cell_clip") or cell.options.get("proj_clip"))
    if cell.direction == "bidirectional":
        wrong.append("noreverse")
    return wrong


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_verify_passes_per_direction_and_wrong_cells_fail(path):
    G, cells = _setup(path)
    result = verify_tflite(path, G, cells)
    assert result["ok"], result
    assert result["tolerance"] == FLOAT_TOLERANCE  # hybrid too: NumPy quantises as the kernel does
    directions = 2 if cells[0].direction == "bidirectional" else 1
    assert len(result["rows"]) == directions
    if directions == 2:
        assert "forward output sequence" in result["rows"][0] and "backward" in result["rows"][1]
    for wrong in _wrong_cells(cells[0]):
        bad = verify_tflite(path, G, cells, wrong=wrong)
        assert not bad["ok"], (wrong, bad["max_abs_diff"])


@pytest.mark.parametrize("name", ["uni_lstm_hybrid", "bi_lstm_hybrid", "uni_rnn_hybrid", "bi_rnn_hybrid_time_major"])
def test_hybrid_kernels_agree_once_numpy_quantises_their_inputs_too(name):
    # int8 weights: the kernel quantises each step's input and h (and the projection's input)
    # to int8 per row; NumPy doing the same agrees to the float tolerance, NumPy on float
    # inputs does not (its error is that rounding, well under the old 0.05).
    path = DIR / f"{name}.tflite"
    G, cells = _setup(path)
    result = verify_tflite(path, G, cells)
    assert result["ok"] and result["tolerance"] == FLOAT_TOLERANCE
    mode = "asymmetric" if cells[0].options["asymmetric_quantize_inputs"] else "symmetric"
    assert f"row by row ({mode})" in result["summary"]
    float_inputs = verify_tflite(path, G, cells, wrong="float_inputs")["max_abs_diff"]
    assert 1e-4 < float_inputs < QUANT_TOLERANCE / 5, float_inputs


def test_quantised_rows_follows_the_kernels_rounding():
    from rnngraph.explain.tflite_fused import quantised_rows

    v = np.array([[0.5, -1.0, 0.25], [0.0, 0.0, 0.0], [2.0, 1.0, 0.0]])
    sym = quantised_rows(v, "symmetric")
    # symmetric: max |v| maps to 127, halves round away from zero (63.5 -> 64)
    assert sym[0] == pytest.approx([64 / 127, -1.0, 32 / 127], abs=1e-7)
    assert not sym[1].any()
    asym = quantised_rows(v, "asymmetric")
    # asymmetric over [0, 2]: 255 steps, zero point -128; 1.0 sits at code -128 + 127.5,
    # which rounds away from zero to -1: 127 steps above the zero point
    assert asym[2] == pytest.approx([2.0, 127 * 2 / 255, 0.0], abs=1e-6)


def _final_state(path: Path, x: np.ndarray) -> tuple:
    """Run ``path`` on ``x``; return (output 0, fw_input_activation_state after the run)."""
    interp = _interpreter(path)
    interp.set_tensor(interp.get_input_details()[0]["index"], x.astype("float32"))
    interp.invoke()
    state = next(d for d in interp.get_tensor_details() if d["name"].endswith("/fw_input_activation_state"))
    return (interp.get_tensor(interp.get_output_details()[0]["index"]).astype("float64"),
            interp.get_tensor(state["index"]))


def test_a_merged_batch_major_bidirectional_lstm_is_defined_in_batch_0_only():
    # LiteRT's batch-major LSTM loop steps through the state by the merged output's width
    # (lstm_eval.cc): batch 1's state lies beyond the state tensor.  Ground truth from LiteRT:
    # after a run the state's row for batch 1 was never written, where a file without
    # merge_outputs holds batch 1's last output there; batch 0 equals NumPy on every run.
    from rnngraph.explain.tflite_fused import directions, run_direction
    from rnngraph.graphdef.loaders import load_tflite_model

    path = DIR / "bi_lstm_merged_batch_major.tflite"
    G, (cell,) = _setup(path)
    result = verify_tflite(path, G, [cell])
    assert result["ok"] and all("batch 0 of 2" in row for row in result["rows"])
    assert "only batch 0 is compared" in result["summary"]
    model, _ = load_tflite_model(path)
    x = np.random.default_rng(3).uniform(-1, 1, (2, 5, 3))
    want = np.concatenate([run_direction(cell, d, np.swapaxes(x, 0, 1)) for d in directions(cell, model, G)],
                          axis=-1).swapaxes(0, 1)
    for _ in range(3):
        out, state = _final_state(path, x)
        assert np.abs(out[0] - want[0]).max() < FLOAT_TOLERANCE
        assert np.array_equal(state[0], out[0, -1, :4]) and not state[1].any() and out[1, -1, :4].any()
    out, state = _final_state(DIR / "bi_lstm.tflite", x)  # not merged: each batch's state in its row
    assert np.array_equal(state, out[:, -1, :]) and state[1].any()


def test_a_hybrid_time_major_bidirectional_rnn_runs_its_sequence_once_per_step():
    # bidirectional_sequence_rnn.cc EvalHybrid wraps its time-major step loops in another loop
    # over time.  Ground truth: LiteRT's own output differs from one pass of the RNN by far more
    # than the int8 rounding, and --verify, which runs max_time passes, agrees with it.
    path = DIR / "bi_rnn_hybrid_time_major.tflite"
    G, cells = _setup(path)
    result = verify_tflite(path, G, cells)
    assert result["ok"] and "runs the whole sequence 5 times over" in result["summary"]
    one_pass = verify_tflite(path, G, cells, wrong="single_pass")["max_abs_diff"]
    assert one_pass > 0.1
    float_inputs = verify_tflite(path, G, cells, wrong="float_inputs")["max_abs_diff"]
    assert float_inputs < 0.05  # the repeats, not the int8 rounding, make the difference


def test_the_crashing_hybrid_form_is_refused_before_litert_runs_it(tmp_path, capsys):
    # The same op with merge_outputs and symmetric input quantisation: LiteRT itself dies
    # (SIGSEGV) when it runs it, so --verify refuses in one line instead of running it.
    import subprocess
    import sys

    from ai_edge_litert import schema_py_generated as S
    import flatbuffers

    model = S.ModelT.InitFromPackedBuf((DIR / "bi_rnn_hybrid_time_major.tflite").read_bytes(), 0)
    sub = model.subgraphs[0]
    op = sub.operators[0]
    op.builtinOptions.mergeOutputs, op.builtinOptions.asymmetricQuantizeInputs = True, False
    op.outputs = [int(op.outputs[0])]
    sub.outputs = [int(op.outputs[0])]
    sub.tensors[op.outputs[0]].shape = [5, 2, 8]
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    path = tmp_path / "crash.tflite"
    path.write_bytes(builder.Output())
    run = ("import numpy as np, sys; from ai_edge_litert.interpreter import Interpreter; "
           "i = Interpreter(model_path=sys.argv[1]); i.allocate_tensors(); "
           "d = i.get_input_details()[0]; i.set_tensor(d['index'], np.ones(d['shape'], 'float32')); "
           "i.invoke()")
    crashed = subprocess.run([sys.executable, "-c", run, str(path)], capture_output=True, timeout=120)
    assert crashed.returncode < 0, crashed.returncode  # killed by a signal, not an error
    assert main(["explain", "rnn", "--file", str(path), "--verify"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "crashes the process" in err


def test_the_clips_really_cut_the_state():
    # proj_clip alone: a cell_clip of 0 leaves only the projection's clip to ignore.
    path = DIR / "uni_lstm_projection.tflite"
    G, (cell,) = _setup(path)
    assert cell.options["proj_clip"] == pytest.approx(0.3)
    assert verify_tflite(path, G, [cell], wrong="noclip")["max_abs_diff"] > 0.05
    interp = _interpreter(path)
    detail = interp.get_input_details()[0]
    interp.set_tensor(detail["index"], np.random.default_rng(0).uniform(-1, 1, detail["shape"]).astype("float32"))
    interp.invoke()
    out = interp.get_tensor(interp.get_output_details()[0]["index"])
    assert np.isclose(np.abs(out).max(), 0.3)  # LiteRT's own output sits at the clip


def _input(slot: int, source: int):
    def change(op, S):
        op.inputs = [int(t) for t in op.inputs]
        op.inputs[slot] = op.inputs[source] if source >= 0 else -1
    return change


def _sign_bit(op, S):
    op.builtinOptions.fusedActivationFunction = S.ActivationFunctionType.SIGN_BIT


@pytest.mark.parametrize("name, change, code, message", [
    ("bi_rnn", _input(9, 0), 2, "does not model the auxiliary input"),  # aux_input: the sequence again
    ("bi_rnn", _input(3, -1), 1, "LiteRT's interpreter refuses to run"),  # fw_bias left out
    ("uni_lstm_cifg", _input(3, -1), 1, "LiteRT's interpreter refuses to run"),  # and the forget weights
    ("uni_rnn", _sign_bit, 2, "does not model the activation sign_bit"),
], ids=["aux_input", "no_fw_bias", "no_forget_weights", "sign_bit"])
def test_a_fused_op_verify_cannot_run_is_refused_in_one_line(name, change, code, message, tmp_path, capsys):
    from ai_edge_litert import schema_py_generated as S
    import flatbuffers

    model = S.ModelT.InitFromPackedBuf((DIR / f"{name}.tflite").read_bytes(), 0)
    change(model.subgraphs[0].operators[0], S)
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    path = tmp_path / "bad.tflite"
    path.write_bytes(builder.Output())
    assert main(["explain", "rnn", "--file", str(path), "--verify"]) == code
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and message in err and "Error" not in err


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_inspect_and_explain_state_the_recognised_form(path, capsys):
    assert main(["inspect", str(path), "--json"]) == 0
    (cell,) = json.loads(capsys.readouterr().out)["tflite_cells"]
    topic = "lstm" if "lstm" in path.stem else "rnn"
    assert main(["explain", topic, "--file", str(path), "--verify"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert f"Fused {cell['op']}" in text
    if cell["kind"] == "lstm":
        assert ("CIFG (no input gate weights" in text) is cell["cifg"]
        assert ("layer norm: each gate's sum" in text) is cell["layer_norm"]
        assert ("projection: the output is projection_weights" in text) is cell["projection"]
        assert ("peepholes: cell_to_" in text) is cell["peepholes"]
        diagonal = cell["options"].get("diagonal_recurrent_tensors", False)  # bidirectional: no such option
        assert ("diagonal_recurrent_tensors true: each recurrent_to_*_weights is a vector" in text) is diagonal
        assert ("diagonal recurrent weights (h scaled element by element)" in text) is diagonal
    if cell["direction"] == "bidirectional":
        merged = "merge_outputs true: output 0 holds the forward outputs" in text
        assert merged is cell["options"]["merge_outputs"]


@pytest.mark.dot
@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_render_svg_and_html_name_every_input_the_op_holds(path, tmp_path):
    G, (cell,) = _setup(path)
    for suffix in (".svg", ".html"):
        out = tmp_path / f"{path.stem}{suffix}"
        assert main(["inspect", str(path), "--render", str(out)]) == 0
        text = out.read_text()
        assert cell.op in text
        assert all(name in text for name in cell.inputs), [n for n in cell.inputs if n not in text]


@pytest.mark.dot
def test_a_drawn_vector_shows_float32_values_as_float32_text(tmp_path):
    # A label read -0.23744353652000427 (the float32 as a double); LiteRT's float32 reads -0.23744354.
    path = DIR / "uni_lstm_peephole.tflite"
    interp = _interpreter(path)
    bias = next(d for d in interp.get_tensor_details() if d["name"].endswith("/forget_gate_bias"))
    first = interp.get_tensor(bias["index"])[0]
    out = tmp_path / "x.svg"
    assert main(["inspect", str(path), "--render", str(out)]) == 0
    svg = out.read_text()
    assert f"forget_gate_bias = [{np.float32(first)!s}," in svg
    assert f"{float(first)!r}" not in svg or f"{float(first)!r}" == str(np.float32(first))


def test_fuzzed_fused_fixtures_raise_only_rnngraph_errors(tmp_path):
    # The tests/fuzzing.py mutations on these files, through reading, drawing and the LiteRT
    # explanation (the interpreter is not run on them: its own crashes are LiteRT's).
    import random

    from fuzzing import exercise, tflite_mutate

    from rnngraph.errors import RnnGraphError
    from rnngraph.explain.tflite import tflite_sections

    rng, failures = random.Random(21), []
    for number in range(40):
        data = FILES[number % len(FILES)].read_bytes()
        for _ in range(rng.randint(1, 4)):
            data = tflite_mutate(data, rng)
        path = tmp_path / "case.tflite"
        path.write_bytes(data)
        try:
            exercise(path)
            G, cells = _setup(path)
            tflite_sections("lstm", G, cells) + tflite_sections("rnn", G, cells)
        except RnnGraphError as exc:
            assert "\n" not in str(exc).strip(), (number, str(exc))
        except Exception as exc:  # noqa: BLE001 - anything else is what this test looks for
            failures.append(f"case {number}: {type(exc).__name__}: {str(exc)[:200]}")
    assert failures == []
