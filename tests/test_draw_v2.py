"""Control flow v2 drawn as a loop: checked on the DOT text, against what TensorFlow built.

Each drawing is parsed back from DOT.  A loop variable is a box whose label's
second line reads ``loop variable i`` or ``invariant i``; it must have an edge
in (or its initial constant folded into its label, as v1 folds it into
Enter), an edge out, and, when the body changes it, an orange back edge from
the body's result.  The count of loop variables and the names of the final
state's variables come from TensorFlow: the While op's inputs and the tensors
``dynamic_rnn`` returns.
"""

from __future__ import annotations

import re

import networkx as nx
import pytest

from rnngraph.cli import build_parser
from rnngraph.commands.render import drawing_options, title_of
from rnngraph.draw.dot import RenderOptions, plan_detail, to_dot
from rnngraph.graphdef.walk import walk

pytestmark = pytest.mark.tf

_QUOTED = r'"((?:[^"\\]|\\.)*)"'
_NODE = re.compile(rf"^\s*{_QUOTED} \[(.*)\];$")
_EDGE = re.compile(rf"^\s*{_QUOTED} -> {_QUOTED}(?: \[(.*)\])?;$")
_ATTR = re.compile(rf'(\w+)=({_QUOTED}|[^,]+)')


def _attrs(text: str) -> dict:
    found = {}
    for key, raw, quoted in _ATTR.findall(text or ""):
        value = quoted if raw.startswith('"') else raw
        found[key] = value.replace("\\n", "\n").replace('\\"', '"')
    return found


def parse_dot(text: str) -> tuple[dict, list]:
    """Return ({box: attrs}, [(a, b, attrs)]) of a DOT text written by rnngraph."""
    nodes, edges = {}, []
    for line in text.splitlines():
        edge = _EDGE.match(line)
        if edge:
            edges.append((edge.group(1), edge.group(2), _attrs(edge.group(3))))
            continue
        node = _NODE.match(line)
        if node and not node.group(1).startswith("legend::"):
            nodes[node.group(1)] = _attrs(node.group(2))
    return nodes, edges


def loop_boxes(nodes: dict) -> dict:
    """Return {box: (name, kind, index)} of the drawn loop variables and invariants."""
    found = {}
    for box, attrs in nodes.items():
        lines = attrs.get("label", "").split("\n")
        match = re.fullmatch(r"(loop variable|invariant) (\d+)", lines[1]) if len(lines) > 1 else None
        if match:
            found[box] = (lines[0], match.group(1), int(match.group(2)))
    return found


def check_loops(nodes: dict, edges: list) -> dict:
    """Assert every drawn loop variable is wired in, out and (if carried) back; return them."""
    boxes = loop_boxes(nodes)
    assert boxes, "no loop variable drawn"
    for box, (name, kind, index) in boxes.items():
        label = nodes[box]["label"]
        into = [e for e in edges if e[1] == box and e[2].get("dir") != "back"]
        out = [e for e in edges if e[0] == box and e[2].get("dir") != "back"]
        back = [e for e in edges if e[0] == box and e[2].get("dir") == "back"]
        assert into or "\nstarts as " in label, f"{name} ({box}) has no edge in"
        assert out, f"{name} ({box}) has no edge out"
        if kind == "loop variable":
            assert len(back) == 1 and back[0][2]["color"] == "#d94801", f"{name} has no back edge"
            assert nodes[back[0][1]]["label"].startswith(f"next {name}\n")
        else:
            assert not back, f"invariant {name} drawn with a back edge"
    for box, attrs in nodes.items():
        # No data edge is elided (a NoOp with many control inputs may still fold those: that
        # rule is about control edges, drawn as "runs after N ops")
        label = attrs.get("label", "")
        assert "read by" not in label and "collects from" not in label, f"{box} drawn as auxiliary"
    return boxes


def _dot(built, **spec) -> tuple:
    args = build_parser().parse_args(["render", "dynamic", "--control-flow", "v2", "--format",
                                      "dot", *_flags(spec)])
    from rnngraph.commands.common import spec_from_args

    model = spec_from_args(args)
    built_graph = built(**_spec_kwargs(model))
    graph = walk(built_graph)
    return built_graph, to_dot(graph, drawing_options(args, graph, title_of(model, graph)))


def _flags(spec: dict) -> list:
    flags = []
    for key, value in spec.items():
        flag = "--" + key.replace("_", "-")
        flags += [flag] if value is True else [flag, str(value)]
    return flags


def _spec_kwargs(model) -> dict:
    from dataclasses import fields

    from rnngraph.model.spec import ModelSpec

    default = ModelSpec()
    return {f.name: getattr(model, f.name) for f in fields(model)
            if getattr(model, f.name) != getattr(default, f.name)}


def _while_inputs(built_graph) -> list:
    return [op for op in built_graph.graph.get_operations() if op.type in ("While", "StatelessWhile")]


def _state_indices(built_graph) -> dict:
    """Return {While output index: 'h' / 'c'} of the final state dynamic_rnn returned."""
    t = built_graph.tensors["states"]
    flat = []

    def visit(state, layer):
        if hasattr(state, "c") and hasattr(state, "h"):
            flat.extend([(state.c, "c", layer), (state.h, "h", layer)])
        elif isinstance(state, (tuple, list)):
            for number, sub in enumerate(state):
                visit(sub, f"cell_{number}")
        else:
            flat.append((state, "h", layer))

    visit(t, "")
    found = {}
    for tensor, letter, layer in flat:
        while tensor.op.type == "Identity":
            tensor = tensor.op.inputs[0]
        assert tensor.op.type in ("While", "StatelessWhile"), tensor.op.type
        found[tensor.value_index] = f"{letter} {layer}".strip()
    return found


VARIANTS = [dict(cell="rnn"), dict(cell="lstm"), dict(cell="lstm-peephole"), dict(cell="gru"),
            dict(cell="lstm", layers=2), dict(cell="gru", layers=2),
            dict(cell="rnn", sequence_length=True), dict(cell="lstm", sequence_length=True)]


@pytest.mark.parametrize("spec", VARIANTS, ids=lambda s: "-".join(str(v) for v in s.values()))
def test_v2_loop_is_drawn_as_a_loop(built, spec):
    built_graph, dot = _dot(built, **spec)
    nodes, edges = parse_dot(dot)
    boxes = check_loops(nodes, edges)
    (while_op,) = _while_inputs(built_graph)
    # One box per input of the While op TensorFlow built, numbered as its inputs.
    assert sorted(i for _, _, i in boxes.values()) == list(range(len(while_op.inputs)))
    # The final state dynamic_rnn returns leaves through the loop variables named h / c.
    names = {i: name for name, _, i in boxes.values()}
    for index, name in _state_indices(built_graph).items():
        assert names[index] == name
    # The iteration counter and time are carried; the kernel is an invariant.
    kinds = {name: kind for name, kind, _ in boxes.values()}
    assert kinds["iteration counter"] == kinds["time"] == "loop variable"
    kernels = [kind for name, kind in kinds.items() if name.endswith("kernel")]
    assert kernels and set(kernels) == {"invariant"}
    # The cond's result is the loop's condition, drawn into the While op, whose outputs leave.
    (loop,) = [b for b, a in nodes.items() if a["label"].split("\n")[1:2] == [while_op.type]]
    assert any(nodes[a]["label"].startswith("condition\n") for a, b, _ in edges if b == loop)
    assert sum(1 for a, _, _ in edges if a == loop) == len(while_op.outputs)
    assert not any("redundant_placeholder" in a["label"] for a in nodes.values())


def test_v1_drawing_has_no_routed_boxes(built):
    args = build_parser().parse_args(["render", "dynamic", "--format", "dot"])
    graph = walk(built())
    nodes, _ = parse_dot(to_dot(graph, drawing_options(args, graph, "")))
    assert not loop_boxes(nodes)


def _keras_model(path, kind: str) -> str:
    from rnngraph.model.tfcompat import tf

    t = tf()
    layers = t.keras.layers
    layer = layers.LSTM(5) if kind == "lstm" else layers.Bidirectional(layers.LSTM(4))
    model = t.keras.Sequential([layers.Input((4, 3)), layer])
    t.saved_model.save(model, str(path))
    return str(path)


def _tf_while_inputs(path) -> list:
    """Return the data-input count of every While the graph runs (through its calls), by TF's protos."""
    from rnngraph.model.tfcompat import tf

    tf()
    from tensorflow.core.protobuf import saved_model_pb2

    graph_def = saved_model_pb2.SavedModel.FromString(
        (path / "saved_model.pb").read_bytes()).meta_graphs[0].graph_def
    library = {f.signature.name: f for f in graph_def.library.function}
    counts = []

    def called(node) -> list:
        names = []
        for value in node.attr.values():
            names += [value.func.name] if value.HasField("func") else [f.name for f in value.list.func]
        return [n for n in names if n in library]

    def visit(nodes, depth=0):
        for node in nodes:
            if node.op in ("While", "StatelessWhile"):
                counts.append(sum(1 for i in node.input if not i.startswith("^")))
            for name in called(node):
                if depth < 8:
                    visit(library[name].node_def, depth + 1)

    visit(graph_def.node)
    return counts


@pytest.mark.slow  # TensorFlow writes a SavedModel: 10-20 s each
@pytest.mark.parametrize("kind", ["lstm", "bidirectional"])
def test_keras_saved_model_reads_as_one_connected_loop(tmp_path, kind):
    from rnngraph.graphdef.loaders import load_graph_def

    path = tmp_path / "keras"
    _keras_model(path, kind)
    loaded = load_graph_def(str(path))
    graph = walk(loaded[0] if isinstance(loaded, tuple) else loaded)
    options, _ = plan_detail(graph, RenderOptions())  # the bidirectional one groups op series
    nodes, edges = parse_dot(to_dot(graph, options))
    boxes = check_loops(nodes, edges)
    assert sorted(i for _, _, i in boxes.values()) == sorted(
        i for count in _tf_while_inputs(path) for i in range(count))
    assert {"iteration counter", "time", "outputs TensorList", "inputs TensorList", "kernel",
            "recurrent_kernel", "bias"} <= {name for name, _, _ in boxes.values()}
    # The serving signature's input reaches each loop and each loop the signature's output.
    drawn = nx.DiGraph([(a, b) for a, b, attrs in edges if attrs.get("dir") != "back"]
                       + [(b, a) for a, b, attrs in edges if attrs.get("dir") == "back"])
    (source,) = [b for b in nodes if b.startswith("serving_default_")]
    loops = [b for b, a in nodes.items() if {"While", "StatelessWhile"} & set(a["label"].split("\n")[:2])]
    assert len(loops) == len(_tf_while_inputs(path))
    for loop in loops:
        assert nx.has_path(drawn, source, loop)
        # The call's outputs are the signature's, read by name: no edge leaves it.
        assert nx.has_path(drawn, loop, "StatefulPartitionedCall")
    arg_labels = [nodes[b]["label"] for a, b, _ in edges if a == source]
    assert arg_labels and all(label.split("\n")[1].startswith("argument ") for label in arg_labels)
    # Issue 11: the condition names its loop variables ("time <", never "state < state").
    conditions = [a["label"] for a in nodes.values() if a["label"].startswith("condition\n")]
    assert len(conditions) == len(loops)
    assert all("time <" in text and "state" not in text for text in conditions)


def _branches_graph():
    from rnngraph.model.tfcompat import set_control_flow, tf

    set_control_flow("v2")
    t = tf()
    v1 = t.compat.v1
    graph = t.Graph()
    with graph.as_default():
        x = v1.placeholder(t.float32, [None, 3], name="x")
        flag = v1.placeholder(t.bool, [], name="flag")
        y = t.cond(flag, lambda: t.nn.tanh(x) * 2.0, lambda: x - 1.0, name="branch")
        k = v1.placeholder(t.int32, [], name="k")
        w = t.switch_case(k, [lambda: x + 1.0, lambda: x * 3.0, lambda: t.sigmoid(x)], name="pick")
        t.add(t.identity(y, name="z"), w, name="out")
    return graph


def test_if_and_case_inputs_flow_into_every_branch_and_results_out():
    graph = _branches_graph()
    G = walk(graph)
    nodes, edges = parse_dot(to_dot(G, RenderOptions()))
    callers = [op for op in graph.get_operations()
               if op.type in ("If", "StatelessIf", "Case", "StatelessCase")]
    assert len(callers) == 2
    for op in callers:
        branches = [f.name for f in (op.get_attr("branches") if "Case" in op.type
                                     else [op.get_attr("then_branch"), op.get_attr("else_branch")])]
        args = [b for b, a in nodes.items() if b.startswith(op.name + "/")
                and re.fullmatch(r"argument \d+", (a["label"].split("\n") + [""])[1])]
        results = [b for b, a in nodes.items() if b.startswith(op.name + "/")
                   and a["label"].startswith("result ")]
        # Every branch TensorFlow built gets each data input (all but the branch selector).
        assert len(args) == len(branches) * (len(op.inputs) - 1)
        sources = {inp.op.name for inp in op.inputs[1:]}
        for arg in args:
            assert {a for a, b, _ in edges if b == arg} <= sources and any(b == arg for _, b, _ in edges)
        assert len(results) == len(branches) * len(op.outputs)
        for result in results:
            assert (result, op.name) in {(a, b) for a, b, _ in edges}
        into = {a for a, b, _ in edges if b == op.name}
        assert op.inputs[0].op.name in into  # the condition / branch index decides
        consumers = {c.name for out in op.outputs for c in out.consumers()}
        assert consumers <= {b for a, b, _ in edges if a == op.name}
    assert not any("edges not drawn" in a.get("label", "") for a in nodes.values())


def test_focus_views_speak_v2(walked):
    from rnngraph.draw.focus import focus_view

    G = walked(kind="dynamic", control_flow="v2", cell="lstm")
    (while_node,) = [n for n, d in G.nodes(data=True) if d["op"] in ("While", "StatelessWhile")]
    inputs = sum(1 for _, _, k in G.in_edges(while_node, keys=True) if k >= 0)
    loop = focus_view(G, "while_loop")
    assert f"loop-variable tuple ({inputs} tensors" in loop.annotations[while_node]
    assert any(text.startswith("cond returns ") for text in loop.annotations.values())
    assert any("(v1: NextIteration → Merge)" in text for text in loop.annotations.values())
    assert not any("Enter" in text.replace("Enter/", "") for text in loop.annotations.values())
    arrays = focus_view(G, "tensor_array")
    ops = {G.nodes[n]["op"]: text for n, text in arrays.annotations.items()}
    assert ops["TensorListGetItem"].startswith("TensorListGetItem(list, time)")
    assert ops["TensorListSetItem"].startswith("TensorListSetItem(list, time, output)")
    assert ops["TensorListStack"].startswith("TensorListStack")
    assert not any("TensorArray" in text for text in arrays.annotations.values())


@pytest.mark.parametrize("spec, names, invariants", [
    (dict(cell="lstm"), ["iteration counter", "time", "outputs TensorList", "c", "h"],
     ["maximum_iterations", "bound of time", "inputs TensorList", "kernel", "bias"]),
    (dict(cell="gru", layers=2),
     ["iteration counter", "time", "outputs TensorList", "h cell_0", "h cell_1"],
     ["maximum_iterations", "bound of time", "inputs TensorList", "cell_0/gates/kernel",
      "cell_0/gates/bias", "cell_0/candidate/kernel", "cell_0/candidate/bias",
      "cell_1/gates/kernel", "cell_1/gates/bias", "cell_1/candidate/kernel",
      "cell_1/candidate/bias"]),
], ids=["lstm", "gru-2"])
def test_v2_loop_variables_are_named_by_role(walked, spec, names, invariants):
    from rnngraph.recognise import find_while_loops

    (loop,) = find_while_loops(walked(kind="dynamic", control_flow="v2", **spec))
    assert [v.name for v in loop.loop_vars] == names
    assert [inv["name"] for inv in loop.invariants] == invariants
    assert loop.condition.startswith("iteration counter < maximum_iterations AND time < ")
