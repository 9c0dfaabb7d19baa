"""Focus views: the nodes, notes and labels the renderer draws for each topic."""

from __future__ import annotations

from pathlib import Path

import pytest
from google.protobuf import text_format

from rnngraph.graphdef import protos
from rnngraph.errors import UsageError
from rnngraph.draw.focus import FOCUS_TOPICS, annotate_all, focus_view
from rnngraph.graphdef.walk import walk

FIXTURES = Path(__file__).parent / "fixtures"


def _fixture(name: str):
    return walk(text_format.Parse((FIXTURES / name).read_text(), protos.GraphDef()))


def test_gates_on_a_fixture():
    G = _fixture("lstm_static_ref.pbtxt")
    view = focus_view(G, "gates")
    assert view.annotations["decoder/basic_lstm_cell/Add"] == (
        "f + 1.0: forget bias keeps the forget gate open at the start")
    assert view.annotations["decoder/basic_lstm_cell/split"] == "split: 4 blocks of 4 columns, one per gate"
    assert view.labels["decoder/basic_lstm_cell/Sigmoid_2"] == "gate o"
    assert "c0" in view.nodes  # one hop of context: c_(t−1) feeding the forget product
    assert "x0" not in view.nodes
    assert set(view.annotations) <= view.nodes and set(view.labels) <= view.nodes


def test_while_loop_on_a_fixture():
    view = focus_view(_fixture("rnn_v1_ref.pbtxt"), "while_loop")
    assert view.annotations["encoder/rnn/while/Merge"] == (
        "Merge: takes Enter on the first iteration, NextIteration after")
    assert view.labels["encoder/rnn/while/Merge_2"] == "loop var: hidden state h"
    assert view.labels["encoder/rnn/while/basic_rnn_cell/MatMul/Enter"] == (
        "invariant: kernel encoder/rnn/basic_rnn_cell/kernel")
    assert view.annotations["encoder/rnn/while/LoopCond"].startswith("LoopCond: time <")
    # Context: what the loop variables start from and end in; an invariant's Enter says in its
    # label what it brings in, so its source (the bound's strided_slice) is not drawn again.
    assert "encoder/rnn/time" in view.nodes and "encoder/rnn/strided_slice" not in view.nodes
    assert any("strided_slice" in text for text in view.labels.values()) or any(
        "Shape(" in text for text in view.labels.values())
    assert view.rankdir == "LR"  # one row per loop variable


def test_strided_slice_note():
    from rnngraph.draw.roles import structure_labels

    G = _fixture("rnn_v1_ref.pbtxt")
    view = focus_view(G, "strided_slice")
    # The note names its own node; the label (every view) says what the slice picks, by role.
    assert view.annotations["encoder/rnn/strided_slice"] == (
        "strided_slice: reads this number from the input's shape when the graph runs")
    assert "encoder/rnn/strided_slice" not in view.labels
    assert structure_labels(G)["encoder/rnn/strided_slice"] == [
        "picks Shape(transpose)[0]", "= time steps", "shrink_axis_mask: drops axis 0"]


def test_labels_name_inputs_by_role_and_say_each_fact_once():
    from rnngraph.draw.dot import RenderOptions, to_dot

    G = _fixture("rnn_v1_ref.pbtxt")
    view = focus_view(G, "concat")
    dot = to_dot(G, RenderOptions(focus_nodes=frozenset(view.nodes), labels=view.labels,
                                  annotations=view.annotations))
    line = next(t for t in dot.splitlines() if t.strip().startswith('"encoder/rnn/while/basic_rnn_cell/concat"'))
    assert "axis = 1" in line and "axis 1" not in line
    dot = to_dot(G, RenderOptions(focus_nodes=frozenset(focus_view(G, "strided_slice").nodes)))
    line = next(t for t in dot.splitlines() if t.strip().startswith('"encoder/rnn/strided_slice"'))
    assert "begin = [0]" in line and "strides = [1]" in line and "stack_2" not in line


def test_errors_name_the_topics():
    G = _fixture("rnn_v1_ref.pbtxt")
    with pytest.raises(UsageError, match=r"unknown focus topic 'loop' \(choose one of: while_loop"):
        focus_view(G, "loop")
    with pytest.raises(UsageError, match=r"no gates to focus on \(topics present: while_loop, "
                                         r"tensor_array, concat, strided_slice, cell\)"):
        focus_view(G, "gates")


def test_annotate_all_covers_every_topic():
    G = _fixture("rnn_v1_ref.pbtxt")
    view = annotate_all(G)
    assert view.nodes == set(G.nodes)
    assert "encoder/rnn/while/Merge" in view.annotations
    assert "encoder/rnn/strided_slice" in view.annotations
    assert "encoder/rnn/while/basic_rnn_cell/concat" in view.annotations


@pytest.mark.tf
@pytest.mark.parametrize("spec", [{"cell": "lstm"}, {"cell": "gru", "control_flow": "v2"},
                                  {"kind": "static", "cell": "lstm"}])
def test_every_topic_plugs_into_the_renderer(walked, spec):
    from rnngraph.draw.dot import RenderOptions, to_dot

    G = walked(**spec)
    for topic in FOCUS_TOPICS:
        if spec.get("kind") == "static" and topic in ("while_loop", "tensor_array"):
            with pytest.raises(UsageError, match="topics present"):
                focus_view(G, topic)
            continue
        view = focus_view(G, topic)
        assert view.annotations and set(view.annotations) <= view.nodes
        dot = to_dot(G, RenderOptions(focus_nodes=frozenset(view.nodes),
                                      annotations=view.annotations, labels=view.labels))
        some_note = sorted(view.annotations.values())[0]
        assert some_note.split(":")[0] in dot.replace("\\n", " ")  # notes wrap at spaces


# Notes that used to be written for the default model (issue 10), now read from the findings.

@pytest.mark.tf
def test_gru_sigmoid_is_both_gates(walked):
    G = walked(cell="gru")
    view = focus_view(G, "gates")
    assert view.labels["rnn/while/gru_cell/Sigmoid"] == "gates r, u (split after)"
    assert "gate r" not in view.labels.values()


@pytest.mark.tf
@pytest.mark.parametrize("cell", ["lstm", "lstm-peephole", "gru"])
@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_gate_notes_name_the_activation_used(cell, activation, walked):
    G = walked(cell=cell, activation=activation)
    notes = " ".join(focus_view(G, "gates").annotations.values())
    other = {"tanh": "relu", "relu": "tanh"}[activation]
    assert f"{activation}(" in notes and f"{other}(" not in notes
    peepholes = ("w_f⊙c_(t−1)", "w_i⊙c_(t−1)", "w_o⊙c_t")
    assert all((p in notes) == (cell == "lstm-peephole") for p in peepholes)


@pytest.mark.tf
@pytest.mark.parametrize("spec", [{}, {"cell": "lstm", "layers": 2}])
def test_exit_notes_name_the_returned_final_state(spec, built, walked):
    from rnngraph.model.tfcompat import tf

    G = walked(**spec)
    view = focus_view(G, "while_loop")
    returned = [t.op.name for t in tf().nest.flatten(built(**spec).tensors["states"])]
    exits = {n for n, d in G.nodes(data=True) if d["op"] == "Exit"}
    for node in exits:
        note = view.annotations.get(node, "")
        assert ("final state" in note) == (node in returned), (node, note)
