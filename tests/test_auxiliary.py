"""Auxiliary machinery (initializers, init op, unused constants) is found as TensorFlow defines it,
left out of drawings by default and counted in one line; `--show-init` draws it again."""

from __future__ import annotations

import pytest

from rnngraph.recognise.auxiliary import find_auxiliary, hidden_line

VARIANTS = [dict(kind="dynamic", cell="lstm", steps=2), dict(kind="static", cell="gru", steps=2),
            dict(kind="dynamic", cell="rnn", steps=2, layers=3),
            dict(kind="dynamic", cell="gru", steps=2, control_flow="v2"),
            dict(kind="dynamic", steps=4, head="mnist", inputs=4, neurons=6)]


@pytest.mark.tf
@pytest.mark.slow
@pytest.mark.parametrize("spec", VARIANTS, ids=lambda s: "-".join(str(v) for v in s.values()))
def test_hidden_initializers_are_tensorflows(built, walked, spec):
    graph = built(**spec).graph
    with graph.as_default():
        from rnngraph.model.tfcompat import tf

        tf_ = tf()
        variables = tf_.compat.v1.global_variables()
        init_ops = {v.initializer.name for v in variables}  # read only: the graph is shared
    G = walked(**spec)
    aux = find_auxiliary(G)
    # Exactly TensorFlow's variables have their initializer hidden, and each initializer op is.
    assert sorted(aux.variables) == sorted(v.op.name for v in variables)
    assert init_ops <= aux.nodes
    assert "init" in aux.nodes
    # Nothing the model computes is hidden: the RNN's outputs and everything they read.
    import networkx as nx

    outputs = [t.op.name for t in built(**spec).tensors.values() if hasattr(t, "op")]
    needed = set(outputs).union(*(nx.ancestors(G, o) for o in outputs if o in G))
    assert not (aux.nodes & needed) - {n for n in aux.nodes if G.nodes[n]["op"] == "Const"
                                       and G.out_degree(n) == 0}
    assert hidden_line(aux).startswith(f"initializers of {len(variables)} variable")


@pytest.mark.tf
def test_render_hides_them_and_says_so(walked, tmp_path, capsys):
    from rnngraph.cli import main

    assert main(["render", "dynamic", "--cell", "lstm", "--steps", "2", "-o", str(tmp_path / "a.dot")]) == 0
    err = capsys.readouterr().err
    assert "initializers of 2 variables, 3 unused constants hidden; --show-init draws them" in err
    dot = (tmp_path / "a.dot").read_text(encoding="utf-8")
    assert "Initializer" not in dot and '"init"' not in dot and "IsInitialized" not in dot
    assert "--show-init draws them" in dot  # the legend says it too
    assert main(["render", "dynamic", "--cell", "lstm", "--steps", "2", "--show-init", "--depth", "9",
                 "-o", str(tmp_path / "b.dot")]) == 0
    shown = (tmp_path / "b.dot").read_text(encoding="utf-8")
    assert "stateless_random_uniform" in shown and '"init"' in shown
    assert "hidden" not in capsys.readouterr().err


def test_an_optimizer_assignment_is_not_an_initializer():
    import networkx as nx

    G = nx.MultiDiGraph()

    def node(name, op):
        G.add_node(name, op=op, scope="", missing=False)

    for name, op in [("v", "VarHandleOp"), ("read", "ReadVariableOp"), ("two", "Const"),
                     ("mul", "Mul"), ("update", "AssignVariableOp"), ("train", "NoOp"),
                     ("zeros", "Const"), ("v/Assign", "AssignVariableOp"), ("init", "NoOp")]:
        node(name, op)

    def edge(a, b, key, control=False):
        G.add_edge(a, b, key=key, control=control, kind="data")

    edge("v", "read", 0)
    edge("read", "mul", 0)
    edge("two", "mul", 1)
    edge("v", "update", 0)
    edge("mul", "update", 1)
    edge("update", "train", -1, True)
    edge("v", "v/Assign", 0)
    edge("zeros", "v/Assign", 1)
    edge("v/Assign", "init", -1, True)
    aux = find_auxiliary(G)
    assert aux.nodes == {"zeros", "v/Assign", "init"} and aux.variables == ["v"]
    assert hidden_line(aux) == "initializers of 1 variable hidden; --show-init draws them"
