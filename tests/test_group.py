"""Grouping repeated structure never hides a difference; big graphs get a readable level of detail."""

import re

import pytest

from rnngraph.draw.dot import RenderOptions, count_boxes, drawing, plan_detail, to_dot

pytestmark = pytest.mark.tf


def odd_step_graph(steps=6, odd=3):
    """A static RNN built by plain TensorFlow where step ``odd`` doubles its output."""
    from rnngraph.graphdef.walk import walk
    from rnngraph.model.tfcompat import set_control_flow, tf

    t = tf()
    set_control_flow("v1")
    base = t.compat.v1.nn.rnn_cell.BasicRNNCell

    class OddCell(base):
        calls = 0

        def call(self, inputs, state):
            output, new_state = super().call(inputs, state)
            OddCell.calls += 1
            if OddCell.calls == odd + 1:
                output = output * 2.0
                new_state = output
            return output, new_state

    graph = t.Graph()
    with graph.as_default():
        x = t.compat.v1.placeholder(t.float32, [None, steps, 3], name="inputs")
        cell = OddCell(4)
        t.compat.v1.nn.static_rnn(cell, t.unstack(x, axis=1), dtype=t.float32, scope="encoder")
    return walk(graph)


def test_copies_that_differ_are_not_stacked():
    from rnngraph.recognise.repeats import find_unrolled

    graph = odd_step_graph()
    unrolled = find_unrolled(graph)
    assert unrolled.steps == 6 and unrolled.differing == [3]
    assert [(r.first, r.last) for r in unrolled.runs] == [(0, 2), (4, 5)]
    assert all(r.scope == "encoder/odd_cell" for r in unrolled.runs)
    text = to_dot(graph, RenderOptions(group_steps=True))
    assert "odd_cell × 3\\nsteps 0–2 of 6" in text and "odd_cell × 2\\nsteps 4–5 of 6" in text
    odd = [n for n, d in graph.nodes(data=True) if d["op"] == "Mul" and d["scope"] == "encoder/odd_cell"]
    assert odd == ["encoder/odd_cell/mul"] and '"encoder/odd_cell/mul" [' in text  # drawn in full
    assert '"encoder/odd_cell/MatMul_3" [' in text


def test_static_lstm_copies_are_one_stack_and_each_reads_the_same_variables(walked):
    from rnngraph.recognise.repeats import find_unrolled

    graph = walked(kind="static", cell="lstm", steps=20)
    unrolled = find_unrolled(graph)
    assert unrolled.differing == [] and len(unrolled.runs) == 1
    run = unrolled.runs[0]
    assert (run.first, run.last, run.scope) == (0, 19, "rnn/basic_lstm_cell")
    assert all(len(step) == 17 for step in run.members)
    options, summary = plan_detail(graph, RenderOptions())
    assert options.group_steps and "stacked 20 identical copies of rnn/basic_lstm_cell" in summary
    assert "--full" in summary and count_boxes(graph, options) <= 300
    text = to_dot(graph, options)
    assert "basic_lstm_cell × 20\\nsteps 0–19 of 20, 17 ops each" in text
    assert re.search(r'"stack::rnn/basic_lstm_cell::0-19" -> "stack::rnn/basic_lstm_cell::0-19" '
                     r'\[xlabel=" to the next step: \?×5"', text)
    assert '"rnn/basic_lstm_cell/kernel/Read/Identity" -> "stack::rnn/basic_lstm_cell::0-19" ' \
           '[xlabel=" 8×20 ×20"' in text


def test_expand_ends_draws_the_first_and_last_copy(walked):
    graph = walked(kind="static", cell="lstm", steps=20)
    text = to_dot(graph, RenderOptions(group_steps=True, expand_ends=True))
    assert "basic_lstm_cell × 18\\nsteps 1–18 of 20" in text
    assert '"rnn/basic_lstm_cell/MatMul" [' in text and '"rnn/basic_lstm_cell/MatMul_19" [' in text
    assert '"rnn/basic_lstm_cell/MatMul_7" [' not in text


def test_small_graphs_are_left_alone(walked):
    graph = walked(kind="dynamic")
    options = RenderOptions()
    assert plan_detail(graph, options) == (options, "")


@pytest.mark.dot
def test_full_tiles_every_node_of_a_big_unrolled_graph(walked):
    from rnngraph.draw.output import run_graphviz

    graph = walked(kind="static", cell="lstm", steps=30)
    drawn = drawing(graph, RenderOptions(), full=True)
    assert (drawn.engine, drawn.no_op) == ("neato", 2)
    assert drawn.dot.count('"tile::') == 30
    assert '"rnn/basic_lstm_cell/MatMul_29" [' in drawn.dot
    positioned = re.findall(r'^  "(?!tile::)[^"]+" \[.*pos="[-0-9.]+,[-0-9.]+!"\];$', drawn.dot, flags=re.M)
    assert len(positioned) == count_boxes(graph, RenderOptions())
    svg = run_graphviz(drawn.dot, "svg", drawn.engine, drawn.no_op).decode()
    assert svg.count('class="node"') == len(positioned) + 30
    # The kernel read feeds 30 MatMuls: drawn once with a count instead of 30 long edges.
    assert "read by 30 ops (edges not drawn)" in drawn.dot


def test_full_refuses_what_cannot_finish_and_says_what_to_do(monkeypatch, walked):
    from rnngraph.draw import dot as render
    from rnngraph.errors import UsageError

    monkeypatch.setattr(render, "MAX_LAYOUT_BOXES", 50)
    with pytest.raises(UsageError, match=r"--full: \d+ boxes and no repeated steps to tile.*--depth N or --focus"):
        drawing(walked(kind="dynamic", cell="lstm"), RenderOptions(), full=True)
