"""Options checked before anything is built, one clear line for bad files (issue 12 items 8, 9)."""

from __future__ import annotations

import gzip
import re
import struct

import pytest

from rnngraph.cli import main
from rnngraph.errors import DataError


def _run(capsys, *argv):
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


@pytest.mark.parametrize("argv", [
    ["render", "static", "--depth", "-1"],
    ["render", "dynamic", "--depth", "x"],
    ["inspect", "whatever.pb", "--depth", "-3"],
])
def test_a_negative_depth_is_refused_before_tensorflow(capsys, argv):
    status, _, err = _run(capsys, *argv)
    assert status == 2 and "--depth" in err and "must be an integer >= 0" in err



def test_an_unwritable_output_is_refused_before_tensorflow(capsys, tmp_path, monkeypatch):
    from rnngraph.model import builder

    def never(*_a, **_k):
        raise AssertionError("built a graph before checking -o")

    monkeypatch.setattr(builder, "build_graph", never)
    status, _, err = _run(capsys, "render", "static", "-o", str(tmp_path))
    assert status == 1 and "is a directory" in err


def test_pbtxt_with_an_out_of_range_integer_says_so(capsys, tmp_path):
    path = tmp_path / "g.pbtxt"
    path.write_text('node { name: "x" op: "Const" attr { key: "value" value { i: 99999999999999999999 } } }\n')
    status, _, err = _run(capsys, "inspect", str(path))
    assert status == 1 and "out of range" in err and "no nodes" not in err
    assert err.count("\n") == 1


@pytest.mark.parametrize("gz", [False, True])
def test_idx_header_with_an_absurd_shape_says_so_without_overflow(tmp_path, gz):
    from rnngraph.train.data import IDX_FILES, load_idx_folder

    folder = tmp_path / "idx"
    folder.mkdir()
    header = struct.pack(">I3I", 0x00000803, 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF)
    for key, stem in IDX_FILES.items():
        data = header if key.startswith("x") else struct.pack(">II", 0x00000801, 3) + b"\0\1\2"
        if gz:
            (folder / (stem + ".gz")).write_bytes(gzip.compress(data))
        else:
            (folder / stem).write_bytes(data)
    with pytest.raises(DataError, match=r"79,228,162,458,924,105,385,300,197,375 bytes") as info:
        load_idx_folder(folder)
    assert "-" not in str(info.value).split("bytes")[0].split("(")[-1]


@pytest.mark.parametrize("text, message", [
    ('node { name: "c" op: "Const" attr { key: "value" value { f: 1.5 } } }',
     r"node 'c' \(Const\) is malformed: its attribute 'value' should be a tensor, but the file holds a number"),
    ('node { name: "u" op: "Unpack" input: "u" attr { key: "num" value { s: "many" } } }',
     r"node 'u' \(Unpack\) is malformed: its attribute 'num' should be an integer"),
    ('node { name: "p" op: "Placeholder" attr { key: "_output_shapes" value { f: 2 } } }',
     r"node 'p' \(Placeholder\) is malformed: its attribute '_output_shapes' should be a list of shapes"),
    ('node { name: "v" op: "VarHandleOp" attr { key: "value" value { func { name: "f" } } } }',
     r"node 'v' \(VarHandleOp\) is malformed: its attribute 'value' should be a tensor, but the file holds a function"),
    ('node { name: "x" op: "Placeholder" }\nnode { name: "s" op: "StridedSlice" input: "x" }',
     r"node 's' \(StridedSlice\) is malformed: it has 1 data input, StridedSlice takes at least 4"),
    ('node { name: "x" op: "Placeholder" }\nnode { name: "l" op: "Less" input: "x" input: "^x" }',
     r"node 'l' \(Less\) is malformed: it has 1 data input, Less takes at least 2"),
])
def test_a_malformed_node_is_named_in_one_line(capsys, tmp_path, text, message):
    path = tmp_path / "bad.pbtxt"
    path.write_text(text + "\n")
    status, _, err = _run(capsys, "inspect", str(path), "--render", str(tmp_path / "bad.dot"))
    assert status == 1 and re.search(message, err), err
    assert err.count("\n") == 1 and "Error:" not in err


def test_a_while_whose_cond_returns_nothing_is_still_read(capsys, tmp_path):
    """Found by the fuzzer: a v2 cond function whose _Retval has no input."""
    path = tmp_path / "while.pbtxt"
    path.write_text('''
node { name: "i" op: "Placeholder" attr { key: "dtype" value { type: DT_INT32 } } }
node { name: "w" op: "While" input: "i" attr { key: "cond" value { func { name: "c" } } }
       attr { key: "body" value { func { name: "b" } } } }
library {
  function { signature { name: "c" input_arg { name: "x" type: DT_INT32 } output_arg { name: "y" type: DT_BOOL } }
             ret { key: "y" value: "nowhere:z:0" } }
  function { signature { name: "b" input_arg { name: "x" type: DT_INT32 } output_arg { name: "y" type: DT_INT32 } }
             node_def { name: "n" op: "AddV2" input: "x" input: "x" }
             ret { key: "y" value: "n:z:0" } }
}
''')
    status, out, err = _run(capsys, "inspect", str(path), "--render", str(tmp_path / "w.dot"))
    assert status == 0, err
    assert "while loops (1)" in out


def test_deeply_nested_pbtxt_is_one_line(capsys, tmp_path):
    inner = 'func { name: "g" }'
    for _ in range(2000):
        inner = f'func {{ name: "f" attr {{ key: "a" value {{ {inner} }} }} }}'
    path = tmp_path / "deep.pbtxt"
    path.write_text(f'node {{ name: "x" op: "PartitionedCall" attr {{ key: "f" value {{ {inner} }} }} }}\n')
    status, _, err = _run(capsys, "inspect", str(path))
    assert status == 1 and "nests messages deeper" in err and "RecursionError" not in err


def test_function_attrs_nested_within_the_parser_limit_are_read(capsys, tmp_path):
    inner = 'func { name: "g" }'
    for _ in range(30):  # 90 nested messages: within the binary format's 100
        inner = f'func {{ name: "f" attr {{ key: "a" value {{ {inner} }} }} }}'
    path = tmp_path / "deep.pbtxt"
    path.write_text(f'node {{ name: "x" op: "PartitionedCall" attr {{ key: "f" value {{ {inner} }} }} }}\n')
    status, _, err = _run(capsys, "inspect", str(path), "--render", str(tmp_path / "d.dot"))
    assert status == 0, err


def test_a_thousand_level_scope_draws(capsys, tmp_path):
    """Before: RecursionError in the DOT writer (one nested cluster per scope level)."""
    from rnngraph.draw.dot import RenderOptions, to_dot
    from rnngraph.graphdef import protos
    from rnngraph.graphdef.walk import walk

    graph_def = protos.GraphDef()
    deep = "/".join(f"s{i}" for i in range(1000))
    graph_def.node.add(name="x", op="Placeholder")
    graph_def.node.add(name=deep + "/relu", op="Relu", input=["x"])
    graph_def.node.add(name=deep + "/relu_1", op="Relu", input=["x"])  # one op alone is drawn bare
    text = to_dot(walk(graph_def), RenderOptions())
    assert text.count("subgraph") == 200 and text.rstrip().endswith("}")  # MAX_CLUSTER_DEPTH


@pytest.mark.dot
def test_a_3000_level_scope_draws_with_graphviz():
    """Found by the fuzzer: 3,000 nested clusters exhaust Graphviz's parser ("memory exhausted")."""
    from rnngraph.draw.dot import RenderOptions, to_dot
    from rnngraph.draw.output import run_graphviz
    from rnngraph.graphdef import protos
    from rnngraph.graphdef.walk import walk

    graph_def = protos.GraphDef()
    graph_def.node.add(name="x", op="Placeholder")
    graph_def.node.add(name="/".join(["d"] * 3000) + "/relu", op="Relu", input=["x"])
    text = to_dot(walk(graph_def), RenderOptions())
    assert len(text) < 1_000_000
    assert run_graphviz(text, "svg").startswith(b"<?xml")


def test_a_slice_of_a_shape_with_a_string_begin_is_read(capsys, tmp_path):
    """Found by the long fuzz: begin = ["a"] compared with an axis number (TypeError)."""
    def const(name, field, value, dtype):
        return (f'node {{ name: "{name}" op: "Const" attr {{ key: "dtype" value {{ type: {dtype} }} }} '
                f'attr {{ key: "value" value {{ tensor {{ dtype: {dtype} tensor_shape {{ dim {{ size: 1 }} }} '
                f'{field}: {value} }} }} }} }}\n')

    path = tmp_path / "slice.pbtxt"
    path.write_text(
        'node { name: "x" op: "Placeholder" attr { key: "dtype" value { type: DT_FLOAT } } '
        'attr { key: "shape" value { shape { dim { size: -1 } dim { size: 6 } dim { size: 3 } } } } }\n'
        'node { name: "shape" op: "Shape" input: "x" }\n'
        + const("begin", "string_val", '"a"', "DT_STRING") + const("end", "int_val", 1, "DT_INT32")
        + const("strides", "int_val", 1, "DT_INT32")
        + 'node { name: "s" op: "StridedSlice" input: "shape" input: "begin" input: "end" '
          'input: "strides" attr { key: "shrink_axis_mask" value { i: 1 } } }\n')
    status, out, err = _run(capsys, "inspect", str(path))
    assert status == 0, err
    assert "strided slices (1)" in out


def test_inspect_summary_sends_no_control_character_to_the_terminal(capsys, tmp_path):
    """Before: node names were printed raw, so a file could send escape sequences to the terminal."""
    from rnngraph.graphdef import protos

    graph_def = protos.GraphDef()
    graph_def.node.add(name="x", op="Placeholder")
    axis = graph_def.node.add(name="axis", op="Const")
    axis.attr["value"].tensor.dtype = 3  # int32
    axis.attr["value"].tensor.int_val.append(1)
    concat = graph_def.node.add(name="c\x1b[2J\x07\x9b31m", op="ConcatV2", input=["x", "x", "axis"])
    concat.attr["N"].i = 2
    path = tmp_path / "escapes.pb"
    path.write_bytes(graph_def.SerializeToString())
    status, out, _ = _run(capsys, "inspect", str(path))
    assert status == 0
    assert not any(ord(ch) < 32 and ch not in "\n\t" or 0x7f <= ord(ch) < 0xa0 for ch in out)
    assert "c\u241b[2J\u2407\ufffd31m" in out  # the name is still there, its controls made visible
