"""Recognisers on hand-written GraphDef fixtures (no TensorFlow) and on graphs rnngraph builds."""

from __future__ import annotations

import pytest
from google.protobuf import text_format

from rnngraph.graphdef import protos
from rnngraph.recognise.exprs import slice_text
from rnngraph.graphdef.walk import walk
from rnngraph.recognise import find_cells, recognise

from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures"


def _fixture(name: str):
    return walk(text_format.Parse((FIXTURES / name).read_text(), protos.GraphDef()))


def test_ref_variable_dynamic_rnn_fixture():
    found = recognise(_fixture("rnn_v1_ref.pbtxt"))
    (cell,) = found.cells
    assert (cell.kind, cell.kernel, cell.kernel_shape) == ("rnn", "encoder/rnn/basic_rnn_cell/kernel", [7, 4])
    assert (cell.n_inputs, cell.n_neurons, cell.activation) == (3, 4, "tanh")
    assert cell.bias == "encoder/rnn/basic_rnn_cell/bias"
    (loop,) = found.while_loops
    assert loop.name == "encoder/rnn/while" and loop.control_flow == "v1"
    assert [v.carries for v in loop.loop_vars] == ["time", "TensorArray flow", "hidden state h"]
    assert loop.condition == "time < Shape(encoder/rnn/transpose)[0]"
    assert loop.comparisons[0]["meaning"] == "time steps"
    assert len(loop.invariants) == 6
    assert [v.exit_used for v in loop.loop_vars] == [False, True, False]
    roles = {t.name: t.role for t in found.tensor_arrays}
    assert roles == {"encoder/rnn/TensorArray": "output", "encoder/rnn/TensorArray_1": "input"}
    ta_in = next(t for t in found.tensor_arrays if t.role == "input")
    assert ta_in.unstack_source == "encoder/rnn/transpose"
    assert ta_in.reads == ["encoder/rnn/while/TensorArrayReadV3"]
    (concat,) = found.concats
    assert concat.axis == 1 and "m × (3 + 4) = m × 7" in concat.meaning


def test_ref_variable_lstm_fixture():
    found = recognise(_fixture("lstm_static_ref.pbtxt"))
    (cell,) = found.cells
    assert cell.kind == "lstm" and cell.gates == ["i", "j", "f", "o"]
    assert cell.kernel_shape == [7, 16] and cell.bias_shape == [16]
    assert (cell.n_inputs, cell.n_neurons) == (3, 4)
    assert cell.forget_bias == 1.0 and cell.forget_bias_node == "decoder/basic_lstm_cell/Add"
    assert cell.outputs == {"c": "decoder/basic_lstm_cell/Add_1", "h": "decoder/basic_lstm_cell/Mul_2"}
    assert cell.gate_nodes["o"]["activation"] == "decoder/basic_lstm_cell/Sigmoid_2"
    (sl,) = found.strided_slices
    assert sl.slice == "decoder/basic_lstm_cell/Mul_2[:, -1]"
    assert found.while_loops == [] and found.tensor_arrays == []


@pytest.mark.parametrize("begin, end, strides, masks, text", [
    ([0], [1], [1], {"shrink_axis_mask": 1}, "0"),
    ([1], [2], [1], {}, "1:2"),
    ([0, -1], [0, 0], [1, 1], {"begin_mask": 1, "end_mask": 1, "shrink_axis_mask": 2}, ":, -1"),
    ([0, 0], [0, 0], [1, 2], {"ellipsis_mask": 1, "begin_mask": 2, "end_mask": 2}, "..., ::2"),
    ([0, 0], [0, 0], [1, 1], {"new_axis_mask": 1, "begin_mask": 2, "end_mask": 2}, "None, :"),
])
def test_slice_text(begin, end, strides, masks, text):
    assert slice_text(begin, end, strides, masks) == text


@pytest.mark.tf
def test_dynamic_rnn_v1(walked):
    found = recognise(walked())
    (loop,) = found.while_loops
    assert [v.carries for v in loop.loop_vars] == [
        "iteration counter", "time", "TensorArray flow", "hidden state h"]
    assert (len(loop.loop_vars), len(loop.invariants)) == (4, 7)
    by_var = {c["var"]: c for c in loop.comparisons}
    assert by_var["iteration counter"]["bound"] == "rnn/strided_slice_1"
    assert by_var["time"]["bound"] == "rnn/Minimum"
    slices = {s.name: s for s in found.strided_slices}
    assert slices["rnn/strided_slice_1"].slice == "Shape(rnn/transpose)[0]"
    assert slices["rnn/strided_slice_1"].meaning.startswith("time steps")
    assert slices["rnn/strided_slice"].meaning == "batch size"
    concats = {c.name: c for c in found.concats}
    assert concats["rnn/concat"].value == [1, 0, 2]
    assert concats["rnn/BasicRNNCellZeroState/concat"].meaning.startswith("shape [batch size, 5]")


@pytest.mark.tf
@pytest.mark.parametrize("cell, kind, shape, gates", [
    ("lstm", "lstm", [8, 20], ["i", "j", "f", "o"]),
    ("lstm-peephole", "lstm", [8, 20], ["i", "j", "f", "o"]),
    ("gru", "gru", [8, 10], ["r", "u"]),
])
def test_gated_cells(walked, cell, kind, shape, gates):
    (found,) = find_cells(walked(cell=cell))
    assert (found.kind, found.kernel_shape, found.gates) == (kind, shape, gates)
    assert (found.n_inputs, found.n_neurons) == (3, 5)
    if kind == "lstm":
        assert found.forget_bias == 1.0 and set(found.outputs) == {"c", "h"}
    if cell == "lstm-peephole":
        assert set(found.peepholes) == {"i", "f", "o"}
    if kind == "gru":
        assert found.candidate["kernel_shape"] == [8, 5]
        assert found.candidate["kernel"] == "rnn/gru_cell/candidate/kernel"


@pytest.mark.tf
def test_dynamic_v2_while(walked):
    found = recognise(walked(cell="lstm", control_flow="v2"))
    (loop,) = found.while_loops
    assert loop.control_flow == "v2" and loop.body_function and loop.cond_function
    assert [v.carries for v in loop.loop_vars] == [
        "iteration counter", "time", "TensorList", "cell state c", "hidden state h"]
    assert any(op.endswith("TensorListSetItem") for op in loop.tensor_list_ops)
    roles = sorted(t.role for t in found.tensor_arrays)
    assert roles == ["input", "output", "unused"]
    assert found.cells[0].kernel_shape == [8, 20]


@pytest.mark.tf
def test_static_unrolled_cell_is_one_cell(walked):
    (cell,) = find_cells(walked(kind="static", steps=3))
    assert len(cell.instances) == 3 and cell.same_structure and cell.same_variables
    concats = [c for c in recognise(walked(kind="static", steps=3)).concats if "X_t" in c.meaning]
    assert len(concats) == 3


@pytest.mark.tf
def test_sequence_length(walked):
    (seq,) = recognise(walked(sequence_length=True)).sequence_length
    assert seq.length == "seq_length"
    assert seq.zero_outputs == ["rnn/while/Select"] and seq.copy_state == ["rnn/while/Select_1"]


def test_recognise_runs_once_per_graph_and_hands_out_copies():
    from rnngraph.graphdef.loaders import load_graph_def

    G = walk(load_graph_def(Path(__file__).parent / "fixtures" / "rnn_v1_ref.pbtxt")[0])
    first = recognise(G)
    assert first.cells and first.while_loops
    first.cells.clear()  # what a caller does with its copy stays with it
    again = recognise(G)
    assert again.cells and again.cells[0].kernel == recognise(G).cells[0].kernel
    G.remove_node(again.cells[0].kernel)  # a changed graph is recognised again
    assert not [c for c in recognise(G).cells if c.kernel == again.cells[0].kernel]
