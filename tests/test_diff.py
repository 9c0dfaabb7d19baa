"""`rnngraph diff`: matching by structure, the report, hostile input (no TensorFlow needed).

The truth test renames every node (and every library function) at random and shuffles the
node order: the diff must find the very renaming and report the graphs identical.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest

from rnngraph.cli import main
from rnngraph.graphdef import protos
from rnngraph.graphdef.loaders import load_graph_def
from rnngraph.graphdef.walk import walk
from rnngraph.recognise.match import normalise_name

FIXTURES = Path(__file__).parent / "fixtures"
CORPUS = FIXTURES / "corpus"


def _renamed(graph_def, seed: int):
    """Return (copy with every node and function renamed at random, nodes shuffled; {old: new})."""
    rng = random.Random(seed)
    new = {n.name: f"x{rng.randrange(10 ** 9)}_{i}" for i, n in enumerate(graph_def.node)}
    functions = {f.signature.name: f"fn{rng.randrange(10 ** 9)}" for f in graph_def.library.function}
    out = protos.GraphDef()
    out.CopyFrom(graph_def)
    nodes = list(out.node)
    rng.shuffle(nodes)
    del out.node[:]
    for node in nodes:
        copy = out.node.add()
        copy.CopyFrom(node)
        copy.name = new[node.name]
        del copy.input[:]
        for text in node.input:
            control = text.startswith("^")
            src, _, port = text.lstrip("^").partition(":")
            copy.input.append(("^" if control else "") + new[src] + (":" + port if port else ""))
    for fdef in out.library.function:
        fdef.signature.name = functions[fdef.signature.name]
    for container in [out.node] + [f.node_def for f in out.library.function]:
        for node in container:
            for value in node.attr.values():
                if value.HasField("func") and value.func.name in functions:
                    value.func.name = functions[value.func.name]
    return out, new


def _diff(def_a, def_b):
    from rnngraph.commands.diff import run_diff

    return run_diff(def_a, walk(def_a), def_b, walk(def_b))


@pytest.mark.parametrize("path", [
    FIXTURES / "lstm_static_ref.pbtxt", FIXTURES / "rnn_v1_ref.pbtxt", FIXTURES / "walk_while_v1.pbtxt",
    FIXTURES / "walk_while_v2.pbtxt", CORPUS / "others" / "dl4j_nested_while.pbtxt",
    CORPUS / "others" / "tf_mlir_functional-while-ops.pbtxt", CORPUS / "made" / "static_gru_3.pbtxt",
    CORPUS / "made" / "dynamic_lstm_v1.pb", CORPUS / "made" / "static_lstm_basic_4.pb",
])
def test_random_renaming_and_shuffling_is_identical(path):
    graph_def = load_graph_def(path)[0]
    for seed in (1, 2):
        renamed, new = _renamed(graph_def, seed)
        report, matching, _, _ = _diff(graph_def, renamed)
        assert report["summary"]["identical"], (path.name, seed, report["changed"][:2], report["added"][:2])
        # every top-level node is found as the node it was renamed to (up to nodes nothing tells apart)
        wrong = [a for a, b in matching.pairs.items() if a in new and new[a] != b]
        top = [n.name for n in graph_def.node]
        assert len(matching.pairs) == walk(graph_def).number_of_nodes()
        assert len(wrong) <= len(top) // 20, wrong[:5]


def test_static_lstm_renaming_is_found_node_for_node():
    graph_def = load_graph_def(FIXTURES / "lstm_static_ref.pbtxt")[0]
    renamed, new = _renamed(graph_def, 7)
    _, matching, _, _ = _diff(graph_def, renamed)
    assert matching.pairs == new


def test_changed_attribute_and_perturbed_weight_are_exactly_what_was_changed():
    graph_def = load_graph_def(CORPUS / "others" / "tf2onnx_lstm_frozen.pb")[0]
    changed = protos.GraphDef()
    changed.CopyFrom(graph_def)
    consts = [n for n in changed.node if n.op == "Const" and len(n.attr["value"].tensor.tensor_content) > 64
              and n.attr["value"].tensor.dtype == 1]
    target = max(consts, key=lambda n: len(n.attr["value"].tensor.tensor_content))
    values = np.frombuffer(target.attr["value"].tensor.tensor_content, dtype="<f4").copy()
    values[3] += 0.25
    values[5] -= 0.125
    target.attr["value"].tensor.tensor_content = values.tobytes()
    report, _, _, _ = _diff(graph_def, changed)
    weights = report["weights"]
    assert weights["compared"] >= len(consts) and weights["differ_count"] == 1
    (only,) = weights["differ"]
    assert only["a"] == only["b"] == target.name
    assert only["max_abs"] == pytest.approx(0.25) and only["mean_abs"] == pytest.approx(0.375 / values.size)
    assert report["added"] == report["removed"] == [] and report["summary"]["changed"] == 0


def test_names_lose_their_counters():
    assert normalise_name("functional_1_1/lstm_1_1/MatMul_2") == "functional/lstm/MatMul"
    assert normalise_name("__inference_call_1234") == "__inference_call"
    assert normalise_name("rnn/while/basic_rnn_cell/Tanh") == "rnn/while/basic_rnn_cell/Tanh"


def _text_def(text: str):
    from google.protobuf import text_format

    return text_format.Parse(text, protos.GraphDef())


_SHAPES = {"kernel": (3, 20), "recurrent_kernel": (5, 20), "bias": (20,), "dense_kernel": (5, 2)}


def _restore_graph(order: list, tag: str):
    """A Keras-style restore: variables passed to a function in ``order``, each assigned the
    RestoreV2 output of its position (as an export names them: AssignVariableOp_<position>)."""
    def shape(dims):
        return "".join(f"dim {{ size: {d} }} " for d in dims)
    float_attr = 'attr { key: "dtype" value { type: DT_FLOAT } }'
    text = "".join(f'node {{ name: "{v}{tag}" op: "VarHandleOp" {float_attr} '
                   f'attr {{ key: "shape" value {{ shape {{ {shape(_SHAPES[v])} }} }} }} }}\n' for v in order)
    text += ('node { name: "call" op: "StatefulPartitionedCall" ' + "".join(f'input: "{v}{tag}" ' for v in order)
             + f'attr {{ key: "f" value {{ func {{ name: "restore{tag}" }} }} }} '
             + 'attr { key: "Tin" value { list { ' + "type: DT_RESOURCE " * len(order) + "} } } "
             + 'attr { key: "Tout" value { list { } } } }\n')
    args = "".join(f'input_arg {{ name: "{v}" type: DT_RESOURCE }} ' for v in order)
    body = ('node_def { name: "RestoreV2" op: "RestoreV2" input: "p" input: "n" input: "s" '
            'attr { key: "dtypes" value { list { ' + "type: DT_FLOAT " * len(order) + "} } } }\n")
    body += "".join(f'node_def {{ name: "{c}" op: "Const" attr {{ key: "dtype" value {{ type: DT_STRING }} }} '
                    f'attr {{ key: "value" value {{ tensor {{ dtype: DT_STRING string_val: "{c}" }} }} }} }}\n'
                    for c in "pns")
    for i, v in enumerate(order):
        body += (f'node_def {{ name: "Identity_{i}" op: "Identity" input: "RestoreV2:tensors:{i}" '
                 'attr { key: "T" value { type: DT_FLOAT } } }\n'
                 f'node_def {{ name: "AssignVariableOp_{i}" op: "AssignVariableOp" input: "{v}" '
                 f'input: "Identity_{i}:output:0" {float_attr} }}\n')
    return _text_def(text + f'library {{ function {{ signature {{ name: "restore{tag}" {args} }} {body} }} }}')


def test_function_arguments_in_another_order_are_matched_by_what_they_receive():
    """A second export may pass the same variables to its restore function in another order
    (Keras sorts them by names that carry counters): each assignment pairs with the assignment
    of the same variable, and what it assigns with it, so the graphs are identical."""
    names = list(_SHAPES)
    a = _restore_graph(names, "")
    for seed in range(6):
        order = names[:]
        random.Random(seed).shuffle(order)
        b = _restore_graph(order, "_1")
        report, matching, _, _ = _diff(a, b)
        assert report["summary"]["identical"], (order, report["changed"][:2])
        for i, v in enumerate(names):
            j = order.index(v)
            assert matching.pairs[f"{v}"] == f"{v}_1"
            assert matching.pairs[f"call/f::/AssignVariableOp_{i}"] == f"call/f::/AssignVariableOp_{j}", (order, v)
            assert matching.pairs[f"call/f::/Identity_{i}"] == f"call/f::/Identity_{j}", (order, v)


def test_unrelated_and_empty_graphs_give_bounded_reports():
    from rnngraph.explain.diff import MAX_ENTRIES, diff_text

    lstm = load_graph_def(FIXTURES / "lstm_static_ref.pbtxt")[0]
    loop = load_graph_def(FIXTURES / "walk_while_v2.pbtxt")[0]
    report, matching, _, _ = _diff(lstm, loop)
    assert not report["summary"]["identical"]
    assert len(matching.only_a) + len(matching.pairs) == walk(lstm).number_of_nodes()
    assert all(len(report[k]) <= MAX_ENTRIES for k in ("matched", "renamed", "changed", "added", "removed"))
    empty = _text_def("versions { producer: 27 }")
    report, matching, _, _ = _diff(empty, empty)
    assert report["summary"]["identical"] and matching.pairs == {}
    report, _, _, _ = _diff(empty, lstm)
    assert report["summary"]["added"] == walk(lstm).number_of_nodes()
    assert len(diff_text(report, "A", "B").splitlines()) < 40


def test_many_unrelated_nodes_stay_bounded():
    from rnngraph.explain.diff import diff_text

    a = _text_def("".join(f'node {{ name: "a{i}" op: "Const{i % 97}" }}\n' for i in range(3000)))
    b = _text_def("".join(f'node {{ name: "b{i}" op: "Relu" input: "b{i - 1}" }}\n' if i else 'node { name: "b0" op: "Placeholder" }\n'
                          for i in range(3000)))
    report, _, _, _ = _diff(a, b)
    text = diff_text(report, "A", "B")
    assert len(text.splitlines()) < 60 and len(json.dumps(report)) < 200_000


def test_cli_json_keys_and_exit_status(capsys):
    path = str(FIXTURES / "walk_while_v1.pbtxt")
    assert main(["diff", path, path, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    for key in ("matched", "renamed", "changed", "added", "removed"):
        assert isinstance(report[key], list)
    assert report["summary"]["identical"] and report["summary"]["matched"] == report["summary"]["nodes_a"]
    assert main(["diff", path, str(FIXTURES / "walk_while_v2.pbtxt")]) == 1
    assert "removed (in A only):" in capsys.readouterr().out


@pytest.mark.parametrize("argv, message", [
    (["diff", "nope", "static"], "'nope' is neither a model kind"),
    (["diff", "static", "static", "-o", "x.svg"], "-o/--output writes the picture"),
])
def test_usage_errors_exit_2(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_dot_picture_colours_b_and_explains_the_colours(tmp_path, capsys):
    from rnngraph.draw.diffstyle import DIFF_COLOURS

    a, b = FIXTURES / "rnn_v1_ref.pbtxt", tmp_path / "b.pbtxt"
    graph_def = load_graph_def(a)[0]
    changed = protos.GraphDef()
    changed.CopyFrom(graph_def)
    tanh = next(n for n in changed.node if n.op == "Tanh")
    tanh.op = "Relu"
    extra = changed.node.add(name="extra/Identity", op="Identity", input=[tanh.name])
    extra.attr["T"].type = 1
    b.write_text(str(changed))
    out = tmp_path / "d.dot"
    assert main(["diff", str(a), str(b), "--format", "dot", "-o", str(out)]) == 1
    dot = out.read_text()
    assert DIFF_COLOURS["added"] in dot and DIFF_COLOURS["changed"] in dot
    assert "diff against A" in dot and "op: Tanh → Relu" in dot
    text = capsys.readouterr().out
    assert "op Tanh → Relu" in text
    assert "added (in B only):\n  while loop encoder/rnn/while/while_context: 1 Identity [1 node]" in text


def test_gallery_diff_figures_are_committed_with_their_commands():
    from rnngraph.gallery import DIFFS

    gallery = Path(__file__).resolve().parent.parent / "gallery"
    readme = (gallery / "README.md").read_text(encoding="utf-8")
    for name, heading, a, b in DIFFS:
        svg = (gallery / f"{name}.svg").read_text(encoding="utf-8")
        assert "diff against A" in svg and "added" in svg
        assert f"## {heading}" in readme and f"rnngraph diff {a} {b} --format svg -o gallery/{name}.svg" in readme


def test_compare_counts_renamed_nodes_as_matched(tmp_path, capsys):
    graph_def = load_graph_def(FIXTURES / "walk_while_v1.pbtxt")[0]
    renamed = tmp_path / "renamed.pbtxt"
    renamed.write_text(str(_renamed(graph_def, 3)[0]))
    assert main(["compare", str(FIXTURES / "walk_while_v1.pbtxt"), str(renamed),
                 "-o", str(tmp_path / "c.html")]) == 0
    total = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("total"))
    count = len(graph_def.node)
    assert total.split()[1:] == [str(count), str(count), "0", "0"]


def test_html_page_links_matched_nodes_and_opens_only_changed_scopes(tmp_path):
    import re

    from rnngraph.draw.diffstyle import DIFF_COLOURS

    a, b = FIXTURES / "rnn_v1_ref.pbtxt", tmp_path / "b.pbtxt"
    changed = load_graph_def(a)[0]
    tanh = next(n for n in changed.node if n.op == "Tanh")
    tanh.op = "Relu"
    b.write_text(str(changed))
    out = tmp_path / "d.html"
    assert main(["diff", str(a), str(b), "--format", "html", "-o", str(out)]) == 1
    page = out.read_text(encoding="utf-8")
    links = json.loads(re.search(r'id="rg-links">(.*?)</script>', page, re.S).group(1))
    data_b = json.loads(re.search(r'id="rg-data-b">(.*?)</script>', page, re.S).group(1))
    names_b = [n["n"] for n in data_b["nodes"]]
    (change,) = [link for link in links if link["t"].startswith("changed:")]
    assert change["t"] == "changed: op: Tanh → Relu" and [names_b[i] for i in change["b"]] == [tanh.name]
    # the scopes opened are those holding the change
    assert data_b["open"] and all(tanh.name.startswith(scope + "/") for scope in data_b["open"])
    assert DIFF_COLOURS["changed"] in page
