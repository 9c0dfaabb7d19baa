"""Each kind x cell builds the graph TensorFlow builds, and each ModelSpec field changes it."""

from collections import Counter

import networkx as nx
import pytest

pytestmark = pytest.mark.tf


def ops(graph):
    return Counter(d["op"] for _, d in graph.nodes(data=True) if d["function"] is None)


def shape_of(graph, name, index=0):
    return graph.nodes[name]["outputs"][index]["shape"]


def test_dynamic_rnn_has_the_classic_while_loop_and_tensor_arrays(walked):
    graph = walked(kind="dynamic", steps=2)
    found = ops(graph)
    for op in ("Enter", "Merge", "Switch", "LoopCond", "NextIteration", "Exit", "TensorArrayV3",
               "TensorArrayScatterV3", "TensorArrayReadV3", "TensorArrayWriteV3",
               "TensorArrayGatherV3"):
        assert found[op] >= 1, op
    cell = "rnn/while/basic_rnn_cell/"
    # concat -> MatMul -> BiasAdd -> Tanh, chained by real edges
    for src, dst in [("concat", "MatMul"), ("MatMul", "BiasAdd"), ("BiasAdd", "Tanh")]:
        assert graph.has_edge(cell + src, cell + dst), (src, dst)
    assert shape_of(graph, cell + "concat") == [None, 8]  # [X_t, h_(t-1)]: 3 + 5
    assert shape_of(graph, cell + "Tanh") == [None, 5]
    assert shape_of(graph, "rnn/transpose_1") == [None, 2, 5]
    assert found["Merge"] == 4  # iteration counter, time, output TensorArray flow, state h


def test_static_rnn_has_one_cell_copy_per_step_sharing_one_kernel_and_bias(walked):
    graph = walked(kind="static", steps=2)
    matmuls = sorted(n for n, d in graph.nodes(data=True) if d["op"] == "MatMul")
    assert matmuls == ["rnn/basic_rnn_cell/MatMul", "rnn/basic_rnn_cell/MatMul_1"]
    assert ops(graph)["VarHandleOp"] == 2  # kernel and bias, once
    assert ops(graph)["Enter"] == 0
    for matmul in matmuls:
        read = next(s for s, _, k in graph.in_edges(matmul, keys=True) if k == 1)
        handles = [n for n in nx.ancestors(graph, read) if graph.nodes[n]["op"] == "VarHandleOp"]
        assert handles == ["rnn/basic_rnn_cell/kernel"]
    assert graph.nodes["rnn/basic_rnn_cell/kernel"]["attrs"]["shape"] == [8, 5]


@pytest.mark.parametrize("kind", ["static", "dynamic"])
@pytest.mark.parametrize("cell,marker,kernel", [
    ("rnn", "Tanh", [8, 5]), ("lstm", "Split", [8, 20]), ("lstm-peephole", "Split", [8, 20]),
    ("gru", "Sigmoid", [8, 10]),
])
def test_every_kind_and_cell_builds(walked, kind, cell, marker, kernel):
    graph = walked(kind=kind, cell=cell)
    assert ops(graph)[marker] >= 1
    kernels = [n for n, d in graph.nodes(data=True) if d["op"] == "VarHandleOp" and n.endswith("kernel")]
    assert graph.nodes[kernels[0]]["attrs"]["shape"] == kernel


def test_peepholes_add_diagonal_weights(walked):
    graph = walked(kind="dynamic", cell="lstm-peephole")
    handles = {n.rpartition("/")[2] for n, d in graph.nodes(data=True) if d["op"] == "VarHandleOp"}
    assert {"w_f_diag", "w_i_diag", "w_o_diag"} <= handles
    assert not any("diag" in n for n in walked(kind="dynamic", cell="lstm"))


def test_gru_has_gates_and_candidate(walked):
    graph = walked(kind="dynamic", cell="gru")
    assert graph.nodes["rnn/gru_cell/gates/kernel"]["attrs"]["shape"] == [8, 10]  # r and u
    assert graph.nodes["rnn/gru_cell/candidate/kernel"]["attrs"]["shape"] == [8, 5]
    loop_matmuls = [n for n, d in graph.nodes(data=True) if d["op"] == "MatMul" and d["frame"]]
    assert len(loop_matmuls) == 2


def test_relu_activation(walked):
    assert ops(walked(kind="dynamic", activation="relu"))["Relu"] == 1
    assert ops(walked(kind="dynamic", activation="relu"))["Tanh"] == 0


def test_layers_stack_cells(walked):
    graph = walked(kind="dynamic", layers=3)
    kernels = sorted(n for n, d in graph.nodes(data=True) if d["op"] == "VarHandleOp" and n.endswith("kernel"))
    assert kernels == [f"rnn/multi_rnn_cell/cell_{i}/basic_rnn_cell/kernel" for i in range(3)]
    assert graph.nodes[kernels[0]]["attrs"]["shape"] == [8, 5]
    assert graph.nodes[kernels[1]]["attrs"]["shape"] == [10, 5]  # 5 inputs from below + 5
    assert ops(graph)["Merge"] == 6  # counter, time, output flow, three states


def test_dropout_keep_probability_defaults_to_one(walked):
    graph = walked(kind="dynamic", dropout=0.5)
    keep = graph.nodes["keep_prob"]
    assert keep["op"] == "PlaceholderWithDefault" and keep["outputs"][0]["shape"] == []
    assert any("dropout" in n for n in graph if graph.nodes[n]["frame"])
    assert "keep_prob" not in walked(kind="dynamic")


def test_projection_wrapper_projects_outputs(walked):
    graph = walked(kind="dynamic", projection=2)
    assert graph.nodes["rnn/output_projection_wrapper/kernel"]["attrs"]["shape"] == [5, 2]
    assert graph.nodes["rnn/output_projection_wrapper/basic_rnn_cell/kernel"]["attrs"]["shape"] == [8, 5]
    assert shape_of(graph, "rnn/transpose_1") == [None, 2, 2]


def test_sequence_length_placeholder_is_passed_to_dynamic_rnn(walked):
    graph = walked(kind="dynamic", sequence_length=True)
    placeholder = graph.nodes["seq_length"]
    assert placeholder["attrs"]["dtype"] == "int32" and placeholder["attrs"]["shape"] == [None]
    consumers = set(graph.successors("seq_length"))
    assert consumers and all(n.startswith("rnn/") for n in consumers)
    # outputs past each length are zeros: a Select inside the loop picks them
    assert any(d["op"] in ("Select", "SelectV2") and d["frame"] for _, d in graph.nodes(data=True))


def test_static_list_inputs_are_one_placeholder_per_step(walked):
    graph = walked(kind="static", static_inputs="list", steps=3)
    placeholders = sorted(n for n, d in graph.nodes(data=True) if d["op"] == "Placeholder")
    assert placeholders == ["X0", "X1", "X2"]
    assert graph.nodes["X1"]["attrs"]["shape"] == [None, 3]
    assert ops(graph)["Unpack"] == 0
    unstacked = walked(kind="static", steps=3)
    assert ops(unstacked)["Unpack"] == 1 and unstacked.nodes["X"]["attrs"]["shape"] == [None, 3, 3]


def test_devices_pin_each_layer(walked):
    graph = walked(kind="dynamic", layers=2, devices=("/cpu:0", "/gpu:0"))
    for index, device in enumerate(("/device:CPU:0", "/device:GPU:0")):
        matmul = f"rnn/while/rnn/multi_rnn_cell/cell_{index}/basic_rnn_cell/MatMul"
        matmul = matmul if matmul in graph else next(
            n for n in graph if n.endswith(f"cell_{index}/basic_rnn_cell/MatMul"))
        assert graph.nodes[matmul]["device"] == device


def test_control_flow_v2_builds_a_while_op_with_tensor_lists(walked):
    graph = walked(kind="dynamic", control_flow="v2")
    found = ops(graph)
    assert found["Enter"] == 0 and found["Merge"] == 0
    assert found["While"] + found["StatelessWhile"] == 1
    body_ops = {d["op"] for _, d in graph.nodes(data=True) if d["function"]}
    assert "TensorListGetItem" in body_ops and "TensorListSetItem" in body_ops
    assert "MatMul" in body_ops


def test_mnist_head(walked):
    graph = walked(kind="dynamic", head="mnist", steps=28, inputs=28, neurons=150)
    found = ops(graph)
    assert graph.nodes["y"]["attrs"]["dtype"] == "int32"
    assert found["SparseSoftmaxCrossEntropyWithLogits"] == 1
    assert found["InTopKV2"] == 1
    assert found["ResourceApplyAdam"] == 4  # cell kernel + bias, dense kernel + bias
    assert graph.nodes["logits/kernel"]["attrs"]["shape"] == [150, 10]


def test_series_head(walked):
    graph = walked(kind="dynamic", head="series", inputs=1, steps=20, neurons=100, activation="relu")
    assert graph.nodes["y"]["attrs"]["shape"] == [None, 20, 1]
    assert ops(graph)["Square"] >= 1 and ops(graph)["ResourceApplyAdam"] == 4
