"""The walker on graphs TensorFlow built: nothing is lost, and our protos read TF's bytes exactly."""

import pytest
from google.protobuf import json_format

from rnngraph.graphdef import protos
from rnngraph.graphdef.walk import top_level_nodes, walk

pytestmark = pytest.mark.tf

SPECS = [
    dict(kind="dynamic"), dict(kind="static"), dict(kind="static", static_inputs="list"),
    dict(kind="dynamic", cell="lstm"), dict(kind="dynamic", cell="lstm-peephole"),
    dict(kind="dynamic", cell="gru", layers=3, dropout=0.5), dict(kind="dynamic", projection=2),
    dict(kind="dynamic", sequence_length=True), dict(kind="dynamic", control_flow="v2"),
    dict(kind="dynamic", head="mnist"), dict(kind="static", cell="lstm", head="series", inputs=1),
    dict(kind="dynamic", layers=2, devices=("/cpu:0", "/gpu:0")),
]


@pytest.mark.parametrize("kwargs", SPECS, ids=lambda kw: "-".join(f"{k}={v}" for k, v in kw.items()))
def test_every_graphdef_node_and_input_appears(built, kwargs):
    graph_def = built(**kwargs).graph_def()
    graph = walk(graph_def)
    assert sorted(top_level_nodes(graph)) == sorted(n.name for n in graph_def.node)
    edges = [e for _, d, e in graph.edges(data=True)
             if e["kind"] in ("data", "control") and graph.nodes[d]["function"] is None]
    assert len(edges) == sum(len(n.input) for n in graph_def.node)
    assert sum(e["control"] for e in edges) == sum(
        i.startswith("^") for n in graph_def.node for i in n.input)


def test_our_graphdef_messages_read_tensorflows_bytes_exactly(built):
    for kwargs in (dict(kind="dynamic", control_flow="v2"), dict(kind="dynamic", head="mnist")):
        tf_graph_def = built(**kwargs).graph_def()
        ours = protos.GraphDef.FromString(tf_graph_def.SerializeToString())
        # Full types (NodeDef.experimental_type) are not declared here; all else is.
        theirs = json_format.MessageToDict(tf_graph_def)
        for node in theirs["node"] + [n for f in theirs.get("library", {}).get("function", [])
                                      for n in f.get("nodeDef", [])]:
            node.pop("experimentalType", None)
        assert json_format.MessageToDict(ours) == theirs
        assert ours.SerializeToString(deterministic=True) == \
            tf_graph_def.SerializeToString(deterministic=True)


def test_frames_and_shapes_of_the_dynamic_graph(walked):
    graph = walked(kind="dynamic")
    assert list(graph.graph["frames"]) == ["rnn/while/while_context"]
    frame = graph.graph["frames"]["rnn/while/while_context"]
    assert len(frame["enters"]) == 11 and len(frame["exits"]) == 4
    assert graph.nodes["rnn/while/basic_rnn_cell/MatMul"]["frame"] == "rnn/while/while_context"
    assert graph.nodes["rnn/while/Exit_3"]["frame"] == ""
    assert graph.nodes["rnn/TensorArrayStack/TensorArrayGatherV3"]["outputs"][0]["shape"] == [2, None, 5]
    enter = graph.nodes["rnn/while/basic_rnn_cell/MatMul/Enter"]["attrs"]
    assert enter["is_constant"] is True and enter["frame_name"] == "rnn/while/while_context"
