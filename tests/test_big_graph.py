"""Big generic graphs stay quick to draw (issue 11 item 10; timed in benchmarks/bench_big_graph.py).

A frozen Keras graph ends in a NoOp with a control input from every layer: drawn, those edges
cross the whole picture and kept Graphviz busy for 120 s on ResNet50.  Like a box with many
data neighbours, such a box now says how many it waits for instead.
"""

from __future__ import annotations

from rnngraph.draw.dot import RenderOptions, to_dot
from rnngraph.graphdef import protos
from rnngraph.graphdef.walk import walk


def _chain_with_a_waiting_noop(layers: int):
    graph_def = protos.GraphDef()
    graph_def.node.add(name="x", op="Placeholder")
    previous = "x"
    for i in range(layers):
        graph_def.node.add(name=f"layer{i}/relu", op="Relu", input=[previous])
        previous = f"layer{i}/relu"
    graph_def.node.add(name="NoOp", op="NoOp", input=[f"^layer{i}/relu" for i in range(layers)])
    return walk(graph_def)


def test_a_noop_waiting_on_every_layer_draws_a_count_not_edges():
    dot = to_dot(_chain_with_a_waiting_noop(30), RenderOptions())
    assert '-> "NoOp"' not in dot
    assert "runs after 30 ops (control edges not drawn)" in dot
    assert dot.count("->") == 30  # the data chain only


def test_a_few_control_edges_are_still_drawn():
    dot = to_dot(_chain_with_a_waiting_noop(3), RenderOptions())
    assert dot.count('-> "NoOp" [style=dashed') == 3 and "runs after" not in dot
