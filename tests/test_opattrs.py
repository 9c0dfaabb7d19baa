"""The malformed-node check follows each op's own definition (issue 21: a valid keyword-spotting
graph, a ``RandomUniformInt`` inside a function, was refused because ``Tout`` is a list only for
call ops), and its message names the AttrValue field the file really holds."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from rnngraph.cli import main
from rnngraph.graphdef.opattrs import OP_ATTR_TYPES
from rnngraph.graphdef.protos import GraphDef
from rnngraph.graphdef.walk import walk
from google.protobuf import text_format

KWS = Path(__file__).parent / "fixtures" / "fused" / "kws_random_uniform_int.pbtxt"


def _run(capsys, *argv):
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def test_random_uniform_int_inside_a_function_is_read(capsys, tmp_path):
    """The file TensorFlow wrote (make_fused_fixtures.py) inspects and draws, function body too."""
    status, out, err = _run(capsys, "inspect", str(KWS), "--render", str(tmp_path / "k.dot"))
    assert status == 0, err
    graph_def = text_format.Parse(KWS.read_text(), GraphDef())
    body = [n for f in graph_def.library.function for n in f.node_def if n.op == "RandomUniformInt"]
    assert len(body) == 1 and body[0].attr["Tout"].WhichOneof("value") == "type"
    G = walk(graph_def)
    ours = [d for _, d in G.nodes(data=True) if d["op"] == "RandomUniformInt"]
    assert len(ours) == 1 and ours[0]["attrs"]["Tout"] == "int32"


@pytest.mark.parametrize("text, message", [
    # Tout is a list of dtypes for a call op: one dtype there is malformed, and named as a dtype.
    ('node { name: "c" op: "PartitionedCall" attr { key: "Tout" value { type: DT_FLOAT } } }',
     r"node 'c' \(PartitionedCall\) is malformed: its attribute 'Tout' should be a list of dtypes, "
     r"but the file holds a dtype \(type: DT_FLOAT\)$"),
    # ... and one dtype for RandomUniformInt: a list there is malformed.
    ('node { name: "r" op: "RandomUniformInt" attr { key: "Tout" value { list { type: DT_INT32 } } } }',
     r"node 'r' \(RandomUniformInt\) is malformed: its attribute 'Tout' should be a dtype, "
     r"but the file holds a list of dtypes \(list.type\)$"),
    ('node { name: "r" op: "RandomUniformInt" attr { key: "Tout" value { s: "int32" } } }',
     r"its attribute 'Tout' should be a dtype, but the file holds a string \(s\)$"),
    ('node { name: "m" op: "Merge" attr { key: "N" value { list { s: "two" } } } }',
     r"its attribute 'N' should be an integer, but the file holds a list of strings \(list.s\)$"),
])
def test_a_wrong_kind_is_named_by_the_field_the_file_holds(capsys, tmp_path, text, message):
    path = tmp_path / "bad.pbtxt"
    path.write_text(text + "\n")
    status, _, err = _run(capsys, "inspect", str(path))
    assert status == 1 and re.search(message, err.strip()), err
    assert err.count("\n") == 1


@pytest.mark.parametrize("value", ["type: DT_FLOAT", "list { type: DT_FLOAT type: DT_INT32 }"])
def test_an_op_tensorflow_does_not_know_may_hold_either_kind(capsys, tmp_path, value):
    path = tmp_path / "custom.pbtxt"
    path.write_text(f'node {{ name: "x" op: "MyCustomOp" attr {{ key: "Tout" value {{ {value} }} }} }}\n')
    status, _, err = _run(capsys, "inspect", str(path))
    assert status == 0, err


@pytest.mark.tf
def test_the_table_is_tensorflow_s_op_registry():
    """Every op in the generated table declares the attribute as TensorFlow's OpDef says."""
    from tensorflow.python.framework import op_def_registry

    checked = 0
    for name, kinds in OP_ATTR_TYPES.items():
        for opdef_type, ops in kinds.items():
            for op in ops:
                op_def = op_def_registry.get(op)
                if op_def is None:
                    continue  # an op of another TensorFlow build (the table is a superset)
                declared = {a.name: a.type for a in op_def.attr}
                assert declared[name] == opdef_type, (op, name)
                checked += 1
    assert checked > 100
    assert op_def_registry.get("RandomUniformInt") is not None
    assert "RandomUniformInt" in OP_ATTR_TYPES["Tout"]["type"]
    assert "PartitionedCall" in OP_ATTR_TYPES["Tout"]["list(type)"]
