"""Hostile graph files: memory and work bounded by the file's real size, not by what it
declares (issue 12 item 2), and special files refused as input (item 3).

Resource bounds are checked with tracemalloc peaks and sizes, never with wall-clock time.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import tracemalloc
from pathlib import Path

import pytest

from rnngraph.errors import GraphFileError
from rnngraph.graphdef import protos
from rnngraph.graphdef.loaders import load_graph_def
from rnngraph.graphdef.walk import walk

ROOT = Path(__file__).resolve().parents[1]


def _const_graph(dims, dtype=1, content: bytes = b"", values=()) -> "protos.GraphDef":
    graph_def = protos.GraphDef()
    node = graph_def.node.add(name="c", op="Const")
    node.attr["dtype"].type = dtype
    tensor = node.attr["value"].tensor
    tensor.dtype = dtype
    for dim in dims:
        tensor.tensor_shape.dim.add(size=dim)
    if content:
        tensor.tensor_content = content
    tensor.float_val.extend(values)
    graph_def.node.add(name="use", op="Identity", input=["c"])
    return graph_def


def _peak_bytes(func) -> int:
    tracemalloc.start()
    try:
        func()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("dims", [[10**6, 0], [10**9, 0], [10**7, -1], [10**6, -1],
                                  [2**62, 2**62, 2**62], [1] * 5000])
def test_a_declared_shape_costs_nothing(dims):
    graph_def = _const_graph(dims, values=[1.0] if 0 not in dims and min(dims) > 0 else [])
    assert graph_def.ByteSize() < 40_100
    peak = _peak_bytes(lambda: walk(graph_def))
    assert peak < 2_000_000, f"walking a {graph_def.ByteSize()}-byte GraphDef took {peak} bytes"
    data = walk(graph_def).nodes["c"]["attrs"]["value"]
    assert data["shape"] == [None if d < 0 else d for d in dims]
    assert "value" not in data


def test_a_huge_raw_scalar_decodes_one_value():
    content = b"\x00\x00\x80\x3f" * (5 * 2**20)  # 20 MB of 1.0f behind a scalar shape
    graph_def = _const_graph([], content=content)
    peak = _peak_bytes(lambda: walk(graph_def))
    # The raw bytes are copied once by protobuf (the file's own size); no Python floats.
    assert peak < 1.5 * len(content), peak
    assert walk(graph_def).nodes["c"]["attrs"]["value"]["value"] == 1.0


def test_a_long_value_list_keeps_the_first_values_only():
    graph_def = _const_graph([4], values=[float(i) for i in range(200_000)])
    peak = _peak_bytes(lambda: walk(graph_def))
    assert peak < 1_000_000, peak
    assert walk(graph_def).nodes["c"]["attrs"]["value"]["value"] == [0.0, 1.0, 2.0, 3.0]


def test_small_tensors_still_decode():
    assert walk(_const_graph([2, 0])).nodes["c"]["attrs"]["value"]["value"] == [[], []]
    assert walk(_const_graph([2, 2], values=[3.0])).nodes["c"]["attrs"]["value"]["value"] == \
        [[3.0, 3.0], [3.0, 3.0]]


def test_a_declared_range_and_unpack_are_not_expanded():
    """A Range of 10**12 values and an Unpack of 10**9 outputs, declared in a few bytes."""
    from rnngraph.recognise import recognise

    text = """
    node { name: "a" op: "Const" attr { key: "dtype" value { type: DT_INT32 } }
           attr { key: "value" value { tensor { dtype: DT_INT32 int_val: 0 } } } }
    node { name: "b" op: "Const" attr { key: "dtype" value { type: DT_INT64 } }
           attr { key: "value" value { tensor { dtype: DT_INT64 int64_val: 1000000000000 } } } }
    node { name: "d" op: "Const" attr { key: "dtype" value { type: DT_INT32 } }
           attr { key: "value" value { tensor { dtype: DT_INT32 int_val: 1 } } } }
    node { name: "r" op: "Range" input: "a" input: "b" input: "d" }
    node { name: "x" op: "Placeholder" }
    node { name: "u" op: "Unpack" input: "x" attr { key: "num" value { i: 1000000000 } } }
    node { name: "s" op: "StridedSlice" input: "r" input: "a" input: "b" input: "d" }
    """ + "".join(f'node {{ name: "y{i}" op: "Relu" input: "u:{i}" }}\n' for i in range(4))
    from google.protobuf import text_format

    graph = walk(text_format.Parse(text, protos.GraphDef()))
    peak = _peak_bytes(lambda: recognise(graph))
    assert peak < 5_000_000, peak


def test_special_files_are_refused_as_input(tmp_path):
    fifo = tmp_path / "graph.pb"
    os.mkfifo(fifo)
    # In a subprocess: before the fix this blocked forever in open().
    result = subprocess.run([sys.executable, "-m", "rnngraph", "inspect", str(fifo)],
                            capture_output=True, text=True, timeout=60,
                            env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert result.returncode == 1
    assert "not a regular file" in result.stderr and "Traceback" not in result.stderr
    for name, minor in (("null", 3), ("zero", 5)):
        device = tmp_path / name
        try:  # null-like and zero-like character devices, inside tmp_path only
            os.mknod(device, 0o444 | stat.S_IFCHR, os.makedev(1, minor))
        except OSError as exc:
            pytest.skip(f"cannot make a device node here: {exc}")
        with pytest.raises(GraphFileError, match="not a regular file"):
            load_graph_def(device)


def test_standard_input_is_read_with_the_size_limit(tmp_path, monkeypatch):
    import io

    graph_def = _const_graph([2], values=[1.0, 2.0])
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(graph_def.SerializeToString())))
    loaded, kind = load_graph_def("-")
    assert kind == "graphdef" and [n.name for n in loaded.node] == ["c", "use"]
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b'node { name: "x" op: "Abs" }')))
    loaded, kind = load_graph_def("-")
    assert kind == "graphdef-text" and loaded.node[0].op == "Abs"
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"\x0a" * 5000)))
    with pytest.raises(GraphFileError, match="larger than the"):
        load_graph_def("-", limit=4096)
