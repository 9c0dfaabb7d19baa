"""A seeded mutator of graph files and the pipeline it drives (used by tests/test_fuzz.py and
benchmarks/fuzz.py).

Structure-aware mutations of valid GraphDefs (drop, duplicate or redirect inputs, wrong attribute
types, absurd shapes and sizes, cycles, missing and recursive functions, odd names, deep scopes)
and byte-level mutations of their binary and text forms.  Every case goes through load -> walk
-> recognise -> layout -> DOT -> HTML text; only rnngraph's own errors may come out.
"""

from __future__ import annotations

import random
from pathlib import Path

from google.protobuf import text_format

FIXTURES = Path(__file__).parent / "fixtures"
SEEDS = ("walk_simple.pbtxt", "walk_while_v1.pbtxt", "walk_while_v2.pbtxt",
         "lstm_static_ref.pbtxt", "rnn_v1_ref.pbtxt")
OPS = ("Const", "Placeholder", "Identity", "MatMul", "BiasAdd", "Add", "AddV2", "Mul", "Sigmoid",
       "Tanh", "ConcatV2", "Split", "SplitV", "StridedSlice", "Unpack", "Pack", "Range", "Shape",
       "Enter", "RefEnter", "Exit", "Merge", "Switch", "NextIteration", "LoopCond", "Less",
       "While", "StatelessWhile", "If", "StatelessIf", "Case", "PartitionedCall",
       "StatefulPartitionedCall", "TensorArrayV3", "TensorArrayWriteV3", "TensorArrayReadV3",
       "TensorArrayScatterV3", "TensorArrayGatherV3", "TensorArraySizeV3", "TensorListReserve",
       "TensorListSetItem", "TensorListGetItem", "TensorListStack", "TensorListFromTensor",
       "VarHandleOp", "ReadVariableOp", "VariableV2", "Fill", "Transpose", "ExpandDims",
       "Select", "Maximum", "Minimum", "Sub", "_Arg", "_Retval", "NoOp", "<missing>")
ATTR_KEYS = ("T", "dtype", "value", "shape", "frame_name", "num", "N", "axis", "body", "cond",
             "then_branch", "else_branch", "f", "branches", "_output_shapes", "output_types",
             "element_shape", "begin_mask", "end_mask", "shrink_axis_mask", "ellipsis_mask",
             "new_axis_mask", "transpose_a", "config_proto", "Tout", "num_split", "dtypes")
HUGE = (0, -1, -2, 1, 2**31 - 1, 2**31, 2**62, -(2**63), 10**9, 10**7)
NAMES = ("", "a\\b", "c\rd", "e&lt;f", "g\x00h", "\u2028", "x" * 5000, "/".join(["s"] * 1000),
         "rnn/while/Merge", "a:0", "^b", "a:b:c", "while", "\"q\"", "<script>", "\ud7ff")


def seed_graph_defs() -> list:
    """Return the seed GraphDefs (rnngraph's protos) read from tests/fixtures."""
    from rnngraph.graphdef import protos

    return [text_format.Parse((FIXTURES / name).read_text(), protos.GraphDef()) for name in SEEDS]


def _random_attr(value, rng: random.Random, names: list) -> None:
    """Overwrite an AttrValue with a random, often ill-typed, value."""
    value.Clear()
    kind = rng.choice(("s", "i", "f", "b", "type", "shape", "tensor", "func", "list", "placeholder"))
    if kind == "s":
        value.s = rng.choice((b"", b"\x00\xff\xfe" * rng.randint(1, 3000), rng.choice(names).encode()))
    elif kind == "i":
        value.i = rng.choice(HUGE)
    elif kind == "f":
        value.f = rng.choice((float("nan"), float("inf"), -0.0, 1e38))
    elif kind == "b":
        value.b = True
    elif kind == "type":
        value.type = rng.choice((0, 1, 3, 7, 20, 21, 101, 32))
    elif kind == "shape":
        _random_shape(value.shape, rng)
    elif kind == "tensor":
        _random_tensor(value.tensor, rng)
    elif kind == "func":
        value.func.name = rng.choice(names + ["missing_fn", ""])
    elif kind == "placeholder":
        value.placeholder = "T"
    else:
        lst = value.list
        which = rng.choice(("s", "i", "type", "shape", "tensor", "func", "none"))
        for _ in range(rng.choice((0, 1, 3, 300))):
            if which == "s":
                lst.s.append(b"\x00x")
            elif which == "i":
                lst.i.append(rng.choice(HUGE))
            elif which == "type":
                lst.type.append(rng.choice((1, 3, 20, 999 % 33)))
            elif which == "shape":
                _random_shape(lst.shape.add(), rng)
            elif which == "tensor":
                _random_tensor(lst.tensor.add(), rng)
            elif which == "func":
                lst.func.add(name=rng.choice(names + ["missing_fn"]))


def _random_shape(shape, rng: random.Random) -> None:
    shape.Clear()
    if rng.random() < 0.1:
        shape.unknown_rank = True
        return
    for _ in range(rng.choice((0, 1, 2, 3, 9, 300))):
        shape.dim.add(size=rng.choice(HUGE))


def _random_tensor(tensor, rng: random.Random) -> None:
    tensor.Clear()
    tensor.dtype = rng.choice((1, 2, 3, 7, 9, 10, 19, 20, 21, 0, 18))
    _random_shape(tensor.tensor_shape, rng)
    choice = rng.random()
    if choice < 0.3:
        tensor.tensor_content = bytes(rng.randrange(256) for _ in range(rng.choice((0, 3, 8, 64, 4099))))
    elif choice < 0.6:
        tensor.int_val.extend(rng.choice(HUGE[:6]) % 2**31 for _ in range(rng.choice((1, 2, 17, 500))))
    elif choice < 0.8:
        tensor.float_val.extend([1.5] * rng.choice((1, 4, 300)))
    else:
        tensor.string_val.extend([b"\x00\xff" * 10, b"ok"])


def mutate(graph_def, rng: random.Random):
    """Return a structurally mutated copy of ``graph_def`` (1-4 mutations)."""
    g = type(graph_def)()
    g.CopyFrom(graph_def)
    names = [n.name for n in g.node] or ["x"]
    functions = [f.signature.name for f in g.library.function]
    for _ in range(rng.randint(1, 4)):
        if not g.node:
            g.node.add(name="x", op="Placeholder")
        node = rng.choice(g.node)
        what = rng.randrange(17)
        if what == 0 and node.input:  # drop an input
            del node.input[rng.randrange(len(node.input))]
        elif what == 1 and node.input:  # duplicate one
            node.input.append(rng.choice(node.input))
        elif what == 2:  # redirect to anything: itself (a cycle), a missing node, a bad index
            target = rng.choice(names + ["missing", node.name, "^" + rng.choice(names)])
            suffix = rng.choice(("", ":0", ":1", ":7", ":99999999999", ":-1", ":x"))
            node.input.append(target + suffix)
        elif what == 3:
            node.op = rng.choice(OPS)
        elif what == 4:
            _random_attr(node.attr[rng.choice(ATTR_KEYS)], rng, names + functions)
        elif what == 5 and node.attr:
            key = rng.choice(sorted(node.attr))
            _random_attr(node.attr[key], rng, names + functions)
        elif what == 6 and node.attr:
            del node.attr[rng.choice(sorted(node.attr))]
        elif what == 7:  # absurd shapes recorded for the outputs
            _random_shape(node.attr["_output_shapes"].list.shape.add(), rng)
        elif what == 8:  # a Const with an absurd tensor
            node.op = "Const"
            _random_tensor(node.attr["value"].tensor, rng)
        elif what == 9:  # an odd or duplicate name
            node.name = rng.choice(NAMES + tuple(names))
        elif what == 10:  # a deep scope
            node.name = "/".join(["d"] * rng.choice((50, 1000, 3000))) + "/" + node.name
        elif what == 11:  # a function calling a missing or recursive function
            fn = g.library.function.add()
            fn.signature.name = rng.choice(("rec", "f" + str(rng.randrange(5))))
            fn.signature.input_arg.add(name="x", type=1)
            fn.signature.output_arg.add(name="y", type=1)
            inner = fn.node_def.add(name="call", op=rng.choice(("PartitionedCall", "While", "If")),
                                    input=["x", "missing:out:0", "x:0"])
            inner.attr[rng.choice(("f", "body", "cond", "then_branch"))].func.name = \
                rng.choice((fn.signature.name, "missing_fn", "rec"))
            fn.ret["y"] = rng.choice(("call:output:0", "x", "nowhere:z:9", ""))
            node.attr[rng.choice(("f", "body", "cond", "branches"))].func.name = fn.signature.name
        elif what == 12:  # many copies (big graphs, duplicates)
            for i in range(rng.choice((2, 50))):
                copy = g.node.add()
                copy.CopyFrom(node)
                copy.name = f"{node.name}_{i}" if rng.random() < 0.9 else node.name
        elif what == 13 and len(g.node) > 1:  # delete a node
            del g.node[rng.randrange(len(g.node))]
        elif what == 14:  # v1 frame plumbing with wrong pieces
            node.op = rng.choice(("Enter", "Exit", "Merge", "Switch", "NextIteration", "LoopCond"))
            node.attr["frame_name"].s = rng.choice((b"", b"f", b"\x00", b"rnn/while/while_context"))
        elif what == 15 and g.library.function:  # break a function body
            fn = rng.choice(g.library.function)
            if fn.node_def:
                inner = rng.choice(fn.node_def)
                inner.input.append(rng.choice(("nowhere:0", "x", "^zz", "a:b:c:d", inner.name)))
                inner.op = rng.choice(OPS)
            if rng.random() < 0.5:
                fn.signature.input_arg.add(name=rng.choice(("x", "", "a:b")), type=rng.choice((1, 20, 0)))
        else:  # remove every function
            g.library.Clear()
    return g


def byte_mutate(data: bytes, rng: random.Random) -> bytes:
    """Return ``data`` with a few bytes flipped, inserted, deleted or the tail cut."""
    raw = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        if not raw:
            break
        pos = rng.randrange(len(raw))
        what = rng.randrange(4)
        if what == 0:
            raw[pos] = rng.randrange(256)
        elif what == 1:
            raw[pos:pos] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
        elif what == 2:
            del raw[pos:pos + rng.randint(1, 16)]
        else:
            del raw[pos:]
    return bytes(raw)


def cases(seed: int, count: int):
    """Yield ``count`` (label, file bytes, suffix) fuzz cases, the same for the same seed."""
    rng = random.Random(seed)
    seeds = seed_graph_defs()
    for number in range(count):
        base = rng.choice(seeds)
        graph_def = mutate(base, rng) if rng.random() < 0.8 else base
        if rng.random() < 0.5:
            graph_def = mutate(graph_def, rng)
        text = rng.random() < 0.3
        data = text_format.MessageToString(graph_def).encode() if text \
            else graph_def.SerializeToString()
        if rng.random() < 0.25:
            data = byte_mutate(data, rng)
        yield f"case {number} (seed {seed})", data, ".pbtxt" if text else ".pb"


def exercise(path: Path, run_dot: bool = False) -> str:
    """Run ``path`` through load, walk, recognise, layout, DOT and the HTML page; return the DOT.

    Raises whatever the pipeline raises: rnngraph's errors are expected, anything else is a bug.
    """
    from rnngraph.commands.inspect import summary, summary_text
    from rnngraph.draw.dot import RenderOptions, plan_detail, to_dot
    from rnngraph.draw.html import render_html
    from rnngraph.graphdef.loaders import load_graph_def
    from rnngraph.graphdef.walk import walk

    graph_def, kind = load_graph_def(path)
    graph = walk(graph_def)
    data, found = summary(graph)
    summary_text(str(path), kind, data, found)
    options, _ = plan_detail(graph, RenderOptions(title="fuzz"))
    dot = to_dot(graph, options)
    render_html(graph, options)  # the page lays out in the browser: no Graphviz run here
    if run_dot:
        from rnngraph.draw.output import run_graphviz

        run_graphviz(dot, "svg")
    return dot


# --- Keras files (.keras zip, .h5): byte and structure mutations ---------------------------

KERAS_SEEDS = ("k3-lstm.keras", "k2-bilstm.h5", "k3-lstm-state.h5", "k2-gru.keras")


def _zip_with(members: dict) -> bytes:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _mutate_json(value, rng: random.Random, depth: int = 0):
    """Return a JSON value with a few keys dropped, retyped or replaced by odd values."""
    odd = (None, -1, 2**63, "", "Custom>Thing", [], {}, "x" * 3000, 1e308, True)
    if isinstance(value, dict) and depth < 12:
        out = {}
        for key, item in value.items():
            roll = rng.random()
            if roll < 0.05:
                continue
            out[key] = rng.choice(odd) if roll < 0.12 else _mutate_json(item, rng, depth + 1)
        return out
    if isinstance(value, list) and depth < 12:
        return [_mutate_json(v, rng, depth + 1) for v in value if rng.random() > 0.05]
    return value


def keras_cases(seed: int, count: int):
    """Yield ``count`` (label, bytes, suffix) mutated Keras files, the same for the same seed."""
    import io
    import json
    import zipfile

    rng = random.Random(seed)
    folder = FIXTURES / "keras_files"
    seeds = [(name, (folder / name).read_bytes()) for name in KERAS_SEEDS]
    for number in range(count):
        name, data = rng.choice(seeds)
        suffix = Path(name).suffix
        if suffix == ".keras" and rng.random() < 0.6:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                members = {n: archive.read(n) for n in archive.namelist()}
            config = json.loads(members["config.json"])
            members["config.json"] = json.dumps(_mutate_json(config, rng)).encode()
            if rng.random() < 0.3:
                members["model.weights.h5"] = byte_mutate(members["model.weights.h5"], rng)
            data = _zip_with(members)
        else:
            data = byte_mutate(data, rng)
        yield f"keras case {number} (seed {seed}, from {name})", data, suffix
