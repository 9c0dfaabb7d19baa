"""The GraphDef walker on hand-written pbtxt fixtures (no TensorFlow)."""

from pathlib import Path

import pytest
from google.protobuf import text_format

from rnngraph.graphdef import protos
from rnngraph.errors import GraphFileError
from rnngraph.graphdef.walk import top_level_nodes, walk

FIXTURES = Path(__file__).parent / "fixtures"


def load(name):
    return text_format.Parse((FIXTURES / name).read_text(), protos.GraphDef())


def data_edges(graph):
    """Edges between GraphDef nodes (not inside expanded function bodies)."""
    return [(s, d, k, e) for s, d, k, e in graph.edges(keys=True, data=True)
            if e["kind"] in ("data", "control") and graph.nodes[d]["function"] is None]


@pytest.mark.parametrize("name", ["walk_simple.pbtxt", "walk_while_v1.pbtxt", "walk_while_v2.pbtxt"])
def test_every_node_and_input_survives(name):
    graph_def = load(name)
    graph = walk(graph_def)
    assert sorted(top_level_nodes(graph)) == sorted(n.name for n in graph_def.node)
    assert len(data_edges(graph)) == sum(len(n.input) for n in graph_def.node)


def test_attributes_shapes_and_edges_are_decoded():
    graph = walk(load("walk_simple.pbtxt"))
    x = graph.nodes["x"]
    assert x["op"] == "Placeholder" and x["attrs"]["shape"] == [None, 3]
    assert x["outputs"] == [{"dtype": "float32", "shape": [None, 3]}]
    weights = graph.nodes["layer/W"]["attrs"]["value"]
    assert weights == {"dtype": "float32", "shape": [3, 2], "value": [[0.5, 0.5]] * 3}
    assert graph.nodes["layer/b"]["attrs"]["value"]["value"] == [1.0, 2.0]  # tensor_content
    assert graph.nodes["names"]["attrs"]["value"]["value"] == ["a", "b"]
    assert graph.nodes["init"]["device"] == "/device:CPU:0"
    assert graph.nodes["layer/MatMul"]["scope"] == "layer"
    edge = graph.edges["layer/MatMul", "layer/add", 0]
    assert edge == {"src_output": 0, "dst_input": 0, "control": False, "kind": "data",
                    "dtype": "float32", "shape": [None, 2]}
    control = graph.edges["init", "layer/add", -3]
    assert control["control"] and control["kind"] == "control" and control["shape"] is None


def test_v1_frames_are_propagated_from_enter_to_exit():
    graph = walk(load("walk_while_v1.pbtxt"))
    frame = "loop/while_context"
    inside = {n for n, d in graph.nodes(data=True) if d["frame"] == frame}
    assert inside == {"loop/Enter", "loop/Less/Enter", "loop/Merge", "loop/Less", "loop/LoopCond",
                      "loop/Switch", "loop/Identity", "loop/add/y", "loop/add",
                      "loop/NextIteration"}
    assert graph.nodes["loop/Exit"]["frame"] == "" and graph.nodes["result"]["frame"] == ""
    info = graph.graph["frames"][frame]
    assert info["parent"] == "" and info["exits"] == ["loop/Exit"]
    assert sorted(info["enters"]) == ["loop/Enter", "loop/Less/Enter"]
    assert graph.nodes["loop/Less/Enter"]["attrs"]["is_constant"] is True
    assert graph.nodes["loop/Enter"]["attrs"]["parallel_iterations"] == 10


def test_v2_function_bodies_are_expanded_under_the_while_node():
    graph = walk(load("walk_while_v2.pbtxt"))
    assert graph.graph["functions"] == ["while_body_8", "while_cond_7"]
    body = {n for n, d in graph.nodes(data=True) if d["function"] == "while_body_8"}
    assert body == {"while/body::/i", "while/body::/add/y", "while/body::/add",
                    "while/body::/::retval_identity"}
    assert all(graph.nodes[n]["parent_op"] == "while" for n in body)
    assert graph.has_edge("while/body::/i", "while/body::/add")
    assert graph.has_edge("while/cond::/Less/y", "while/cond::/Less")
    inside = [e for s, d, e in graph.edges(data=True) if graph.nodes[d]["function"] == "while_body_8"
              and e["kind"] == "data"]
    assert len(inside) == 3  # add's two inputs and the result
    kinds = {e["kind"] for _, _, e in graph.edges(data=True)}
    assert {"call", "return"} <= kinds
    assert graph.has_edge("while", "while/body::/i") and graph.has_edge("while/body::/::retval_identity", "while")


def test_functions_can_be_left_unexpanded():
    graph = walk(load("walk_while_v2.pbtxt"), expand_functions=False)
    assert sorted(graph) == ["result", "start", "while"]


def test_missing_inputs_are_kept_and_marked():
    graph_def = text_format.Parse('node { name: "a" op: "Identity" input: "ghost:1" }', protos.GraphDef())
    graph = walk(graph_def)
    assert graph.nodes["ghost"]["missing"] is True
    assert top_level_nodes(graph) == ["a"]
    assert graph.edges["ghost", "a", 0]["src_output"] == 1


def test_duplicate_node_names_are_an_error():
    graph_def = text_format.Parse('node { name: "a" op: "NoOp" } node { name: "a" op: "NoOp" }',
                                  protos.GraphDef())
    with pytest.raises(GraphFileError, match="node name 'a' appears twice"):
        walk(graph_def)


def test_walk_rejects_other_objects():
    with pytest.raises(GraphFileError, match="expected a GraphDef"):
        walk(42)
