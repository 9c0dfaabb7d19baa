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


# Names a function body may hold: rnngraph's own key forms (old and new), Unicode digit indices.
LIBRARY_NAMES = ("t", "call", "call/f/t0", "call/f::/t0", "::retval_y", "_retval_y", "a::b", "x",
                 "y", "body", "n\x1b[2J", "scope::a", "cluster_a")
CALL_ROLES = ("f", "body", "cond", "then_branch", "else_branch", "branches")


def library_graph(rng: random.Random):
    """Return a GraphDef whose function library calls itself in random ways (issue 24 item 9).

    Functions call each other several times each (fan-out bombs), themselves and each other
    (recursion), missing functions; body names collide with top-level names and rnngraph's
    own key forms; references carry Unicode digits (``t0:y:²``).
    """
    from rnngraph.graphdef import protos

    g = protos.GraphDef()
    g.node.add(name="in", op="Placeholder").attr["dtype"].type = 1
    count = rng.choice((1, 2, 3, 6, 12))
    names = [f"fn{i}" for i in range(count)]
    for name in names:
        fn = g.library.function.add()
        fn.signature.name = name
        for a in range(rng.choice((0, 1, 1, 2))):
            fn.signature.input_arg.add(name=("x", "z", "x")[a] if rng.random() < 0.9
                                       else rng.choice(LIBRARY_NAMES), type=1)
        fn.signature.output_arg.add(name="y", type=rng.choice((1, 1, 20)))
        args = [a.name for a in fn.signature.input_arg] or ["missing"]
        inner = []
        for i in range(rng.choice((0, 1, 3, 10, 40))):
            node_name = f"t{i}" if rng.random() < 0.95 else rng.choice(LIBRARY_NAMES)
            calls = rng.random() < 0.6
            node = fn.node_def.add(name=node_name, op=rng.choice(("PartitionedCall", "While", "If",
                                                                   "StatefulPartitionedCall"))
                                   if calls else rng.choice(("Tanh", "Identity", "AddV2")))
            hostile = rng.random() < 0.05
            node.input.extend(rng.choice(["x:²", "t0:y:³", "^t0", "nowhere:0"] if hostile
                                         else args + [f"{n}:output:0" for n in inner[-2:]])
                              for _ in range(rng.choice((1, 1, 2))))
            if calls:
                role = rng.choice(CALL_ROLES)
                target = rng.choice(names + [name, "missing_fn"])
                if role == "branches":
                    for _ in range(rng.choice((1, 2, 3))):
                        node.attr[role].list.func.add(name=rng.choice(names))
                else:
                    node.attr[role].func.name = target
            inner.append(node_name)
        fn.ret["y"] = rng.choice([f"{n}:output:0" for n in inner[-1:]] + args
                                 + (["t0:y:²", ""] if rng.random() < 0.05 else []))
    for i in range(rng.choice((1, 2, 5))):
        call = g.node.add(name=f"call{i}" if i or rng.random() < 0.5 else
                          rng.choice(("call", "while", "call/f::")),
                          op=rng.choice(("PartitionedCall", "While", "If")), input=["in"])
        call.attr[rng.choice(CALL_ROLES[:-1])].func.name = rng.choice(names)
    if rng.random() < 0.3:  # a top-level node named as rnngraph once keyed a body node
        g.node.add(name=rng.choice(("call/f/t0", "call/body/t0", "call/f/_retval_y")),
                   op="Identity", input=["in"])
    return g


def cases(seed: int, count: int, mode: str = "graph"):
    """Yield ``count`` (label, file bytes, suffix) fuzz cases, the same for the same seed.

    ``mode`` "graph" mutates the fixture GraphDefs; "library" makes function libraries
    (``library_graph``), then mutates some of them the same way.
    """
    rng = random.Random(seed)
    seeds = seed_graph_defs()
    for number in range(count):
        base = library_graph(rng) if mode == "library" else rng.choice(seeds)
        graph_def = mutate(base, rng) if rng.random() < (0.8 if mode == "graph" else 0.3) else base
        if rng.random() < 0.5 and mode == "graph":
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
    check_counts(graph_def, graph, data)
    summary_text(str(path), kind, data, found)
    options, _ = plan_detail(graph, RenderOptions(title="fuzz"))
    dot = to_dot(graph, options)
    render_html(graph, options)  # the page lays out in the browser: no Graphviz run here
    if run_dot:
        from rnngraph.draw.output import run_graphviz

        run_graphviz(dot, "svg")
    return dot


TFLITE_SEEDS = ("keras3_lstm.tflite", "keras3_gru.tflite", "tfkeras_lstm.tflite",
                "tfkeras_bilstm.tflite", "keras3_lstm_quant.tflite",
                # the fused forms the converter never writes (tests/fixtures/tflite/fused)
                "fused/bi_lstm.tflite", "fused/uni_lstm_all_time_major.tflite",
                "fused/uni_lstm_layernorm.tflite", "fused/bi_rnn_merged.tflite")


def tflite_mutate(data: bytes, rng: random.Random) -> bytes:
    """Return a LiteRT flatbuffer with 1-3 structural faults (indices, opcodes, loops, shapes).

    The model is unpacked and packed again with the object API flatc generated for LiteRT's
    own package (``ai_edge_litert.schema_py_generated``), so each fault is one field's value.
    """
    import flatbuffers
    from ai_edge_litert import schema_py_generated as schema

    model = schema.ModelT.InitFromPackedBuf(data, 0)
    for _ in range(rng.randint(1, 3)):
        s = rng.randrange(len(model.subgraphs))
        sub = model.subgraphs[s]
        op = rng.choice(sub.operators) if sub.operators else None
        tensor = rng.choice(sub.tensors) if sub.tensors else None
        what = rng.randrange(8)
        if what == 0 and op is not None and op.inputs is not None and len(op.inputs):
            inputs = [int(v) for v in op.inputs]
            inputs[rng.randrange(len(inputs))] = rng.choice((len(sub.tensors), 2**31 - 1, -7, -1))
            op.inputs = inputs
        elif what == 1 and op is not None:
            op.opcodeIndex = rng.choice((len(model.operatorCodes), 2**32 - 1, 0))
        elif what == 2 and tensor is not None:
            tensor.buffer = rng.choice((len(model.buffers), 2**32 - 1, 0, 1))
        elif what == 3 and op is not None and isinstance(op.builtinOptions, schema.WhileOptionsT):
            target = rng.choice((s, 0, len(model.subgraphs), 2**31 - 1))
            if rng.random() < 0.5:
                op.builtinOptions.bodySubgraphIndex = target
            else:
                op.builtinOptions.condSubgraphIndex = target
        elif what == 4 and model.operatorCodes:
            code = rng.choice(model.operatorCodes)
            code.builtinCode = rng.choice((9999, 32, 2**31 - 1, 0))
            code.deprecatedBuiltinCode = rng.choice((0, 127, 32))
        elif what == 5 and tensor is not None:
            tensor.shape = rng.choice(([2**30, 2**30], [-3], [], [0, 7], [1] * 300))
            tensor.shapeSignature = None if rng.random() < 0.5 else tensor.shape
        elif what == 6:
            sub.inputs = [int(v) for v in (sub.inputs if sub.inputs is not None else [])] + [
                rng.choice((len(sub.tensors), -2, 0))]
        else:
            tensor_type = rng.choice((0, 1, 5, 9, 13, 14, 17, 18, 99))
            if tensor is not None:
                tensor.type = tensor_type
    builder = flatbuffers.Builder(0)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def tflite_cases(seed: int, count: int):
    """Yield ``count`` (label, file bytes, ".tflite") fuzz cases of LiteRT flatbuffers."""
    rng = random.Random(seed)
    seeds = [(FIXTURES / "tflite" / name).read_bytes() for name in TFLITE_SEEDS]
    for number in range(count):
        data = rng.choice(seeds)
        if rng.random() < 0.7:
            data = tflite_mutate(data, rng)
        if rng.random() < 0.4:
            data = byte_mutate(data, rng)
            data = data[:4] + b"TFL3" + data[8:]  # still claims to be a LiteRT file
        yield f"tflite case {number} (seed {seed})", data, ".tflite"


def tflite_graph_def_cases(seed: int, count: int):
    """Yield GraphDef fuzz cases made from .tflite fixtures (their ops, attrs and functions).

    A GraphDef may carry the attributes the LiteRT reader writes (``tflite_index``,
    ``tflite_inputs``, ``_input_names``) with any value: the LiteRT recognisers must refuse
    them in one line or ignore them, never crash.
    """
    from rnngraph.graphdef.tflite import read_tflite

    rng = random.Random(seed)
    seeds = [read_tflite((FIXTURES / "tflite" / name).read_bytes(), name) for name in TFLITE_SEEDS]
    for number in range(count):
        graph_def = mutate(rng.choice(seeds), rng) if rng.random() < 0.5 else type(seeds[0])()
        if not graph_def.node:
            graph_def.CopyFrom(rng.choice(seeds))
        ops = [n for n in graph_def.node if "tflite_index" in n.attr] or list(graph_def.node)
        for _ in range(rng.randint(1, 3)):
            node = rng.choice(ops)
            key = rng.choice(("tflite_inputs", "tflite_outputs", "_input_names", "tflite_index",
                              "tflite_op", "tflite_tensor", "quant_scale", "quant_channels",
                              "num_splits", "cell_clip", "fused_activation_function",
                              "time_major", "index"))
            _random_attr(node.attr[key], rng, [n.name for n in graph_def.node])
        yield f"tflite GraphDef case {number} (seed {seed})", graph_def.SerializeToString(), ".pb"
# --- Cache mode (issue 24): hostile build-cache entries -------------------------------------

CACHE_KINDS = ("bytes", "header", "symlink", "fifo", "directory", "sparse", "foreign-key", "mode")


def cache_cases(seed: int, count: int):
    """Yield ``count`` (label, kind, entry bytes, spec changes) cache cases, the same for the same seed.

    ``kind`` says what stands at the entry's path (see :func:`exercise_cache`); the bytes are a
    valid entry of a small GraphDef, mutated byte by byte or in its JSON header.
    """
    import json

    from rnngraph.graphdef import protos
    from rnngraph.model import cache
    from rnngraph.model.spec import ModelSpec

    rng = random.Random(seed)
    seeds = seed_graph_defs()
    for number in range(count):
        spec = ModelSpec(kind=rng.choice(("static", "dynamic")), steps=rng.randint(1, 4))
        payload = rng.choice(seeds).SerializeToString()
        kind = rng.choice(CACHE_KINDS)
        entry = cache._entry_bytes(spec, payload)
        if kind == "bytes":
            entry = byte_mutate(entry, rng)
        elif kind == "header":
            head = cache._header(spec, payload)
            field = rng.choice(sorted(head))
            head[field] = rng.choice((None, 0, -1, 2**64, "", "x" * 100, [], {}, head["spec"],
                                      head["key"], True))
            text = json.dumps(head).encode()
            size = rng.choice((len(text), len(text) + 1, 0, 2**32 - 1, len(entry)))
            entry = cache._MAGIC + size.to_bytes(4, "big") + text + rng.choice(
                (payload, payload[:-1], b"", protos.GraphDef().SerializeToString()))
        elif kind == "foreign-key":
            other = ModelSpec(kind="static" if spec.kind == "dynamic" else "dynamic", steps=spec.steps)
            entry = cache._entry_bytes(other, payload)
        yield f"cache case {number} (seed {seed})", kind, entry, spec, payload


def exercise_cache(folder: Path, kind: str, entry: bytes, spec, payload: bytes) -> str:
    """Put one hostile entry in a fresh cache under ``folder`` and read it back as ``render`` does.

    Returns ``served``, ``missed`` (with a note) or ``absent``.  Raises AssertionError when
    the cache served bytes other than ``payload``, wrote through a link, changed the file a
    link points to, or said more than one line; any other exception is a crash.
    """
    import os
    import stat

    from rnngraph.graphdef import protos
    from rnngraph.model import cache

    os.environ["XDG_CACHE_HOME"] = str(folder / "xdg")
    cache._noted.clear()
    path = cache.cache_path(spec)
    path.parent.mkdir(parents=True, mode=0o700)
    path.parent.parent.chmod(0o700)
    secret = folder / "secret"
    secret.write_bytes(b"secret\n")
    secret.chmod(0o600)
    if kind == "symlink":
        path.symlink_to(secret)
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind == "directory":
        path.mkdir()
    elif kind == "sparse":
        with open(path, "wb") as handle:
            handle.truncate(cache.MAX_ENTRY + 1)
    else:
        path.write_bytes(entry)
        if kind == "mode":
            path.parent.chmod(0o777)
    notes: list = []
    served = cache.load_cached(spec, parse=protos.GraphDef.FromString, say=notes.append)
    assert served is None or served == payload, "served bytes that are not this spec's GraphDef"
    assert len(notes) <= 1 and all("\n" not in n for n in notes), notes
    cache._store(spec, payload, notes.append)
    assert secret.read_bytes() == b"secret\n" and stat.S_IMODE(secret.stat().st_mode) == 0o600
    if kind == "mode":
        path.parent.chmod(0o700)
    elif kind != "directory":
        assert not path.is_symlink() and path.is_file()
        assert cache.load_cached(spec, parse=protos.GraphDef.FromString, say=notes.append) == payload
    return "served" if served is not None else "missed" if notes else "absent"


def exercise_run_policy(path: Path) -> str:
    """Check ``path`` as ``run FILE`` does before running it, and bound its v1 loops.

    Returns ``admitted`` or raises: rnngraph's errors are expected, anything else is a bug.
    """
    from rnngraph.graphdef.loaders import load_graph_def
    from rnngraph.graphdef.loopbound import bound_v1_loops
    from rnngraph.graphdef.runpolicy import check_runnable

    graph_def, _ = load_graph_def(path)
    check_runnable(graph_def, path)
    bounded = type(graph_def)()
    bounded.CopyFrom(graph_def)
    bound_v1_loops(bounded, 1000)
    return "admitted"
def check_counts(graph_def, graph, data: dict) -> None:
    """Fail (AssertionError) unless every node the file holds is counted and expansion is bounded."""
    from rnngraph.graphdef.walk import expansion_budget

    assert data["nodes"] == len(graph_def.node), (data["nodes"], len(graph_def.node))
    assert data["file_nodes"]["functions"] == sum(len(f.node_def) for f in graph_def.library.function)
    expanded = sum(1 for _, d in graph.nodes(data=True) if d["function"] is not None)
    assert expanded <= expansion_budget(graph_def), expanded
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


# --- SavedModel checkpoints (variables.index + data): the diff's weight reader -----------------

CHECKPOINT_SEEDS = ("keras2_lstm_savedmodel", "keras3_gru_export", "keras2_bidirectional_lstm_savedmodel")


def checkpoint_cases(seed: int, count: int):
    """Yield ``count`` (label, {file name: bytes}) SavedModels whose checkpoint is mutated."""
    rng = random.Random(seed)
    folder = FIXTURES / "corpus" / "made"
    seeds = []
    for name in CHECKPOINT_SEEDS:
        files = {p.relative_to(folder / name).as_posix(): p.read_bytes()
                 for p in sorted((folder / name).rglob("*")) if p.is_file()}
        seeds.append((name, files))
    index, data = "variables/variables.index", "variables/variables.data-00000-of-00001"
    for number in range(count):
        if rng.random() < 0.5:  # well-formed tables (valid CRCs) whose entries say hostile things
            yield f"checkpoint case {number} (seed {seed}, crafted entries)", _crafted_checkpoint(rng)
            continue
        name, files = rng.choice(seeds)
        files = dict(files)
        target = rng.choice((index, index, data))
        files[target] = byte_mutate(files[target], rng)
        if rng.random() < 0.1:
            del files[data]  # the shard is missing
        yield f"checkpoint case {number} (seed {seed}, {name}, {target.rpartition('/')[2]})", files


def _crafted_checkpoint(rng: random.Random) -> dict:
    """A SavedModel of a few float variables whose BundleEntryProtos (offset, size, shape, dtype,
    shard, CRC) get random values, written with valid table CRCs (tests/test_diff_weights.py)."""
    import tempfile

    import numpy as np
    from test_diff_weights import _saved_model

    arrays = {f"v{i}": np.asarray(rng.random(), "float32") * np.ones(
        [rng.randint(0, 4) for _ in range(rng.randint(0, 3))], "float32") for i in range(rng.randint(1, 3))}
    override = {}
    for key in arrays:
        if rng.random() < 0.7:
            field = rng.choice(("offset", "size", "shape", "dtype", "shard_id", "crc32c"))
            big = rng.choice((0, 1, 3, 4, 2 ** 31 - 1, 2 ** 62, rng.randrange(1 << 20)))
            value = ([rng.choice((0, 1, 5, -1, big)) for _ in range(rng.randint(0, 4))]
                     if field == "shape" else (rng.randint(0, 30) if field == "dtype" else big))
            override[key] = {field: value}
    with tempfile.TemporaryDirectory() as folder:
        try:
            _saved_model(Path(folder), arrays, **override)
        except ValueError:  # a value the proto itself refuses to hold (dtype 30, say)
            _saved_model(Path(folder), arrays)
        return {p.relative_to(folder).as_posix(): p.read_bytes()
                for p in sorted(Path(folder).rglob("*")) if p.is_file()}


def exercise_checkpoint(folder: Path, files: dict) -> dict:
    """Write the SavedModel ``files`` under ``folder`` and read its weights as ``diff`` does."""
    from rnngraph.graphdef.loaders import load_graph_def
    from rnngraph.graphdef.walk import walk
    from rnngraph.graphdef.weights import file_weights

    for name, data in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    graph_def, kind = load_graph_def(folder)
    return file_weights(folder, kind, graph_def, walk(graph_def))
