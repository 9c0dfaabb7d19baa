"""Cells in graphs users bring: LSTM projection and peepholes, one cell in two loops, loop names
by frame, constants stored without values.  Each fact is checked against what TensorFlow returns."""

from __future__ import annotations

from pathlib import Path

import pytest

from rnngraph.commands.inspect import summary, summary_text
from rnngraph.graphdef.loaders import load_graph_def
from rnngraph.graphdef.walk import as_graph_def, walk
from rnngraph.recognise import recognise

KERAS = Path(__file__).parent / "fixtures" / "keras"


def _tf():
    from rnngraph.model.tfcompat import tf

    return tf()


def _graph(build, control_flow: str = "v1", add_shapes: bool = True):
    """Build a TF1 graph with ``build(tf)`` under v1 or v2 control flow; return (GraphDef, result)."""
    tf = _tf()
    v1 = tf.compat.v1
    graph = tf.Graph()
    with graph.as_default():
        (v1.disable_control_flow_v2 if control_flow == "v1" else v1.enable_control_flow_v2)()
        try:
            result = build(tf)
        finally:
            v1.enable_control_flow_v2()
    return as_graph_def(graph.as_graph_def(add_shapes=add_shapes)), result


@pytest.mark.tf
@pytest.mark.parametrize("add_shapes", [True, False])
@pytest.mark.parametrize("num_proj,peepholes", [(4, True), (6, False), (None, True)])
def test_lstm_projection_and_peepholes(num_proj, peepholes, add_shapes):
    def build(tf):
        v1 = tf.compat.v1
        x = v1.placeholder(tf.float32, [None, 5, 10], name="x")
        cell = v1.nn.rnn_cell.LSTMCell(16, num_proj=num_proj, use_peepholes=peepholes)
        outputs, state = v1.nn.dynamic_rnn(cell, x, dtype=tf.float32)
        return cell, outputs, state

    graph_def, (cell, outputs, state) = _graph(build, add_shapes=add_shapes)
    data, found = summary(walk(graph_def))
    assert [c["kind"] for c in data["cells"]] == ["lstm"]  # no custom cell from the projection
    got = found.cells[0]
    # TensorFlow's own variables: the kernel, the projection kernel, the peephole diagonals.
    tf_vars = {v.op.name: v.shape.as_list() for v in cell.variables}
    assert got.kernel_shape == tf_vars[got.kernel] and got.n_neurons == 16
    assert got.n_inputs == 10  # not 14 − 16 = −2 when shapes were not recorded
    if num_proj:
        assert got.projection["shape"] == tf_vars[got.projection["kernel"]] == [16, num_proj]
        # h is the projected output: what dynamic_rnn returns as outputs and state.h
        assert outputs.shape.as_list()[-1] == state.h.shape.as_list()[-1] == got.projection["units"]
        assert got.outputs["h"] == got.projection["matmul"]
        assert data["cells"][0]["projection_shape"] == [16, num_proj]
    else:
        assert got.projection == {}
    diag = {n.rsplit("/", 1)[1] for n in tf_vars if "_diag" in n}
    assert {f"w_{g}_diag" for g in got.peepholes} == diag
    assert sorted(got.peepholes) == (["f", "i", "o"] if peepholes else [])
    line = summary_text("f", "graphdef-text", data, found)
    assert (f"(h has {num_proj} units)" in line) is bool(num_proj)
    loop = found.while_loops[0]
    carries = [v.carries for v in loop.loop_vars]
    assert "hidden state h" in carries and "cell state c" in carries


def _seq2seq(tf):
    """A decoder cell trained with one loop and run greedily with another, plus gradients."""
    v1 = tf.compat.v1
    x = v1.placeholder(tf.float32, [None, 5, 3], name="x")
    y = v1.placeholder(tf.float32, [None, 7, 3], name="y")
    cell = v1.nn.rnn_cell.GRUCell(4, name="decoder_cell")
    with v1.variable_scope("train"):
        out, _ = v1.nn.dynamic_rnn(cell, x, dtype=tf.float32)
    with v1.variable_scope("infer"):
        out2, _ = v1.nn.dynamic_rnn(cell, y, dtype=tf.float32)
    v1.train.GradientDescentOptimizer(0.1).minimize(tf.reduce_sum(out) + tf.reduce_sum(out2))
    return cell


@pytest.mark.tf
@pytest.mark.parametrize("control_flow", ["v1", "v2"])
def test_one_cell_in_two_loops_is_not_unrolled_copies(control_flow):
    graph_def, cell = _graph(_seq2seq, control_flow)
    data, found = summary(walk(graph_def))
    assert len(cell.variables) == 4  # one GRU: gates and candidate kernels and biases
    assert [c["kind"] for c in data["cells"]] == ["gru"]
    gru = data["cells"][0]
    forward = sorted(w.name for w in found.while_loops if not w.name.startswith("gradients"))
    assert forward == ["infer/rnn/while", "train/rnn/while"]
    assert len(gru["loops"]) == 2 and all(("infer" in l) or ("train" in l) for l in gru["loops"])
    text = summary_text("f", "graphdef-text", data, found)
    assert "one cell used by 2 loops" in text and "unrolled copies" not in text
    # The cell's h is named in both loops, not only in the one whose copy was described.
    for loop in found.while_loops:
        if loop.name in forward:
            assert "hidden state h" in [v.carries for v in loop.loop_vars], loop.name


@pytest.mark.tf
def test_gradient_loops_are_named_by_their_frames():
    graph_def, _ = _graph(_seq2seq, "v1")
    tf_frames = {n.attr["frame_name"].s.decode() for n in graph_def.node if n.op == "Enter"}
    found = recognise(walk(graph_def))
    names = [w.name for w in found.while_loops]
    assert len(names) == len(set(names)) == len(tf_frames) == 4
    assert {f"{n}/while_context" for n in names} == tf_frames


@pytest.mark.tf
def test_const_without_values_reads_as_zeros_like_tensorflow():
    """Frozen Keras graphs store strided_slice's begin ([0]) with a shape and no values."""
    tf = _tf()
    graph_def = load_graph_def(KERAS / "k2-lstm.frozen.pbtxt")[0]
    G = walk(graph_def)
    node = next(n for n in graph_def.node if n.name == "model/lstm/strided_slice/stack")
    proto = tf.compat.v1.NodeDef.FromString(node.SerializeToString())
    assert not node.attr["value"].tensor.int_val and not node.attr["value"].tensor.tensor_content
    assert tf.make_ndarray(proto.attr["value"].tensor).tolist() == \
        G.nodes["model/lstm/strided_slice/stack"]["attrs"]["value"]["value"] == [0]
    slices = {s.name: s.slice for s in recognise(G).strided_slices}
    assert slices["model/lstm/strided_slice"] == "Shape(x)[0]"
    assert all(text != name for name, text in slices.items())  # no more "x = x"
