"""Recognisers on graphs written by plain TensorFlow code, outside rnngraph's builder."""

from __future__ import annotations

import pytest

from rnngraph.graphdef.walk import walk
from rnngraph.recognise import recognise

pytestmark = pytest.mark.tf


def _graph(control_flow: str, body) -> object:
    from rnngraph.model.tfcompat import set_control_flow, tf

    set_control_flow(control_flow)
    t = tf()
    graph = t.Graph()
    with graph.as_default():
        body(t, t.compat.v1)
    return graph


def _bidirectional_gru(t, v1):
    x = v1.placeholder(t.float32, [None, 4, 3], name="inputs")
    with v1.variable_scope("encoder"):
        fw, bw = v1.nn.rnn_cell.GRUCell(6), v1.nn.rnn_cell.GRUCell(6)
        v1.nn.bidirectional_dynamic_rnn(fw, bw, x, dtype=t.float32)


def _stacked_lstm(t, v1):
    x = v1.placeholder(t.float32, [None, 7, 2], name="series")
    with v1.variable_scope("decoder"):
        cells = [v1.nn.rnn_cell.BasicLSTMCell(n, forget_bias=0.5) for n in (4, 6)]
        v1.nn.dynamic_rnn(v1.nn.rnn_cell.MultiRNNCell(cells), x, dtype=t.float32)


@pytest.fixture(scope="module")
def graphs():
    return {
        ("bi-gru", "v1"): walk(_graph("v1", _bidirectional_gru)),
        ("bi-gru", "v2"): walk(_graph("v2", _bidirectional_gru)),
        ("stacked-lstm", "v1"): walk(_graph("v1", _stacked_lstm)),
        ("stacked-lstm", "v2"): walk(_graph("v2", _stacked_lstm)),
    }


@pytest.mark.parametrize("cf", ["v1", "v2"])
def test_bidirectional_gru(graphs, cf):
    found = recognise(graphs[("bi-gru", cf)])
    assert [c.kind for c in found.cells] == ["gru", "gru"]
    assert sorted(c.kernel for c in found.cells) == [
        "encoder/bidirectional_rnn/bw/gru_cell/gates/kernel",
        "encoder/bidirectional_rnn/fw/gru_cell/gates/kernel"]
    assert all(c.kernel_shape == [9, 12] and c.n_inputs == 3 and c.n_neurons == 6 for c in found.cells)
    assert len(found.while_loops) == 2
    assert {lp.control_flow for lp in found.while_loops} == {cf}
    for loop in found.while_loops:
        assert "time" in [v.carries for v in loop.loop_vars]
        assert sum(v.carries.startswith("hidden state h") for v in loop.loop_vars) == 1
    assert sorted(t.role for t in found.tensor_arrays if t.role != "unused") == [
        "input", "input", "output", "output"]


@pytest.mark.parametrize("cf", ["v1", "v2"])
def test_stacked_lstm(graphs, cf):
    found = recognise(graphs[("stacked-lstm", cf)])
    assert [c.kind for c in found.cells] == ["lstm", "lstm"]
    assert [c.kernel_shape for c in found.cells] == [[6, 16], [10, 24]]
    assert [(c.n_inputs, c.n_neurons) for c in found.cells] == [(2, 4), (4, 6)]
    assert [c.forget_bias for c in found.cells] == [0.5, 0.5]
    (loop,) = found.while_loops
    carries = [v.carries for v in loop.loop_vars]
    assert sum(c.startswith("cell state c of decoder/") for c in carries) == 2
    assert sum(c.startswith("hidden state h of decoder/") for c in carries) == 2
    (seq_slice,) = [s for s in found.strided_slices if s.meaning.startswith("time steps")][:1]
    assert seq_slice.slice.startswith("Shape(decoder/rnn/transpose)")
