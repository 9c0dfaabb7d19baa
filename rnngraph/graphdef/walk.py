"""GraphDef (from any source) -> networkx.MultiDiGraph, keeping everything a reader needs.

Nodes are keyed by TensorFlow node name.  Each keeps its op, device, decoded
attributes, the dtype and shape of every output, its name scope, and (v1
control flow) the while-loop frame it runs in.  Each input becomes one edge
carrying the source output index, the destination input index, dtype and
shape; control inputs are edges with ``control=True``.  The bodies of
functional control flow (``While``'s cond and body, ``If``'s branches, calls)
are expanded under the calling node, breadth first and without recursion, until a budget
proportional to the nodes the file holds is spent: the calls left stay boxes, listed in
``graph.graph["unexpanded_calls"]``.  A function is decoded once however often it is called.  A
call of a function already being expanded on the way there (recursion) stays a box, marked
``recursive_call``; ``graph.graph["recursion"]`` names the functions that call themselves or
each other.
"""

from __future__ import annotations

import struct
from collections import deque
from typing import Any, Optional

import networkx as nx

from . import protos
from .opattrs import OP_ATTR_TYPES
from ..errors import GraphFileError

__all__ = ["walk", "as_graph_def", "decode_attr", "dtype_name", "FUNCTION_ATTRS",
           "top_level_nodes", "scope_of", "format_shape", "MAX_SCOPE_DEPTH", "RESERVED",
           "body_prefix", "retval_key", "retval_name", "expansion_budget", "walk_notes",
           "calls_of", "expand_body"]

# Ops whose function-valued attributes are expanded as subgraphs.
FUNCTION_ATTRS = ("cond", "body", "then_branch", "else_branch", "f", "branches")
_MAX_FUNCTION_DEPTH = 8
# rnngraph's own keys and ids (expanded function bodies, scope boxes, clusters, the legend) hold
# "::": TensorFlow node names match [A-Za-z0-9.][A-Za-z0-9_.\-/>]*, so no name TensorFlow
# accepts can reach them, and a file whose names hold it is refused (never merged).
RESERVED = "::"
# Nodes that expanding function calls may add: this many per node the file holds, plus a floor.
# A function called N times costs N copies; past the budget calls stay boxes (issue 24).
_BUDGET_PER_NODE = 2
_BUDGET_FLOOR = 3_000
_SMALL_TENSOR = 16  # constants with at most this many elements keep their values
_MAX_VALUE_RANK = 8  # deeper nesting is not kept as a value (TensorFlow allows rank 254)
_MAX_STRING_VALUE = 1024  # bytes kept of each string element
# Shapes and tensors kept of one list attribute: a 20 MB file may record 10 million output shapes
# on one node (2 bytes each in the file, a Python list each once decoded: gigabytes).
MAX_LIST_ITEMS = 100_000

_DTYPE_SHORT = {
    "DT_FLOAT": "float32", "DT_DOUBLE": "float64", "DT_HALF": "float16",
    "DT_BFLOAT16": "bfloat16", "DT_INT32": "int32", "DT_INT64": "int64",
    "DT_INT16": "int16", "DT_INT8": "int8", "DT_UINT8": "uint8", "DT_UINT16": "uint16",
    "DT_UINT32": "uint32", "DT_UINT64": "uint64", "DT_BOOL": "bool", "DT_STRING": "string",
    "DT_COMPLEX64": "complex64", "DT_COMPLEX128": "complex128", "DT_RESOURCE": "resource",
    "DT_VARIANT": "variant", "DT_QINT8": "qint8", "DT_QUINT8": "quint8",
    "DT_QINT32": "qint32", "DT_QINT16": "qint16", "DT_QUINT16": "quint16",
}
# struct codes of raw little-endian tensor_content (struct, not NumPy: reading needs no NumPy).
_STRUCT_CODE = {
    "float32": "f", "float64": "d", "float16": "e", "int32": "i", "int64": "q",
    "int16": "h", "int8": "b", "uint8": "B", "uint16": "H", "uint32": "I",
    "uint64": "Q", "bool": "?",
}
_VAL_FIELD = {
    "float32": "float_val", "float64": "double_val", "int32": "int_val", "int16": "int_val",
    "int8": "int_val", "uint8": "int_val", "uint16": "int_val", "int64": "int64_val",
    "bool": "bool_val", "string": "string_val", "uint32": "uint32_val",
    "uint64": "uint64_val",
}


def dtype_name(enum_value: int) -> str:
    """Return the short name (``float32``, ``resource``, ``float32_ref``) of a DataType value."""
    name = protos.DTYPE_NAMES.get(enum_value, f"DT_{enum_value}")
    ref = name.endswith("_REF")
    base = name[:-4] if ref else name
    short = _DTYPE_SHORT.get(base, base[3:].lower() if base.startswith("DT_") else base)
    return short + ("_ref" if ref else "")


def _shape(shape_proto) -> Optional[list]:
    if shape_proto.unknown_rank:
        return None
    return [None if d.size < 0 else int(d.size) for d in shape_proto.dim]


def _element_count(shape: list) -> Optional[int]:
    """Return the number of elements of ``shape`` if it is at most ``_SMALL_TENSOR``, else None.

    Never multiplies out a declared size: a file may declare ``[10**9, 10**9, ...]``.
    """
    if any(dim is None for dim in shape):
        return None
    if any(dim == 0 for dim in shape):
        return 0
    count = 1
    for dim in shape:
        count *= dim
        if count > _SMALL_TENSOR:
            return None
    return count


def _tensor(tensor_proto) -> dict:
    """Return {dtype, shape} of a TensorProto, plus ``value`` (nested lists) for a small one.

    Decodes at most ``_SMALL_TENSOR`` values whatever the shape declares or the content
    holds, so time and memory are bounded by the file's real size (a 30-byte Const may
    declare 10**9 elements; a scalar may carry 200 MB of raw bytes).
    """
    dtype = dtype_name(tensor_proto.dtype)
    shape = _shape(tensor_proto.tensor_shape) or []
    decoded: dict[str, Any] = {"dtype": dtype, "shape": shape}
    count = _element_count(shape)
    if count is None or len(shape) > _MAX_VALUE_RANK:
        fill = _fill(tensor_proto, dtype)
        if fill is not None:  # too many elements to keep, but all one value (a bias's zeros)
            decoded["fill"] = fill
        return decoded
    if count == 0:
        # An empty tensor: nest only when the empty lists are few ([2, 0] -> [[], []]).
        if _element_count(shape[:shape.index(0)]) is not None:
            decoded["value"] = _nest([], shape)
        return decoded
    values: list = []
    if tensor_proto.tensor_content and dtype in _STRUCT_CODE:
        layout = struct.Struct(f"<{count}{_STRUCT_CODE[dtype]}")
        content = tensor_proto.tensor_content
        if len(content) >= layout.size:
            values = list(layout.unpack_from(content))
    elif dtype in _VAL_FIELD:
        values = list(getattr(tensor_proto, _VAL_FIELD[dtype])[:count])
        if dtype == "string":
            values = [v[:_MAX_STRING_VALUE].decode("utf-8", "replace") for v in values]
        if dtype == "float16":
            values = []
    if values and len(values) < count:  # TensorFlow stores a fill as one value
        values = values + [values[-1]] * (count - len(values))
    if not values and count and not tensor_proto.tensor_content and dtype in _VAL_FIELD \
            and dtype not in ("string", "float16"):
        # No values at all: TensorFlow reads zeros (frozen graphs store `stack` = [0] so).
        values = [False if dtype == "bool" else 0.0 if dtype.startswith("float") else 0] * count
    if len(values) == count:
        decoded["value"] = values[0] if not shape else _nest(values, shape)
    return decoded


def _fill(tensor_proto, dtype: str) -> Any:
    """Return the one value a TensorProto stores for all its elements, else None.

    TensorFlow stores a constant fill as a single value (none at all for zeros).
    """
    if tensor_proto.tensor_content or dtype not in _VAL_FIELD or dtype in ("string", "float16"):
        return None
    stored = getattr(tensor_proto, _VAL_FIELD[dtype])
    if len(stored) > 1:
        return None
    if stored:
        return stored[0]
    return False if dtype == "bool" else 0.0 if dtype.startswith("float") else 0


def _nest(flat: list, shape: list) -> list:
    """Return ``flat`` as nested lists of ``shape`` (few elements: see ``_tensor``)."""
    if len(shape) <= 1:
        return list(flat)
    step = len(flat) // shape[0] if shape[0] else 0
    return [_nest(flat[i * step:(i + 1) * step], shape[1:]) for i in range(shape[0])]


def decode_attr(value, depth: int = 0) -> Any:
    """Return an AttrValue as plain Python (str, int, float, bool, dtype name, shape list, ...).

    A function's own attributes are decoded to ``_MAX_FUNCTION_DEPTH`` levels (a file may
    nest them hundreds deep).
    """
    which = value.WhichOneof("value")
    if which == "s":
        return value.s.decode("utf-8", "replace")
    if which in ("i", "f", "b"):
        return getattr(value, which)
    if which == "type":
        return dtype_name(value.type)
    if which == "shape":
        return _shape(value.shape)
    if which == "tensor":
        return _tensor(value.tensor)
    if which == "func":
        if depth >= _MAX_FUNCTION_DEPTH:
            return {"function": value.func.name, "attr": {}}
        return {"function": value.func.name,
                "attr": {k: decode_attr(v, depth + 1) for k, v in sorted(value.func.attr.items())}}
    if which == "placeholder":
        return "$" + value.placeholder
    if which == "list":
        lst = value.list
        if lst.s:
            return [s.decode("utf-8", "replace") for s in lst.s]
        if lst.i:
            return list(lst.i)
        if lst.f:
            return list(lst.f)
        if lst.b:
            return list(lst.b)
        if lst.type:
            return [dtype_name(t) for t in lst.type]
        if lst.shape:
            return [_shape(s) for s in lst.shape[:MAX_LIST_ITEMS]]
        if lst.tensor:
            return [_tensor(t) for t in lst.tensor[:MAX_LIST_ITEMS]]
        if lst.func:
            return [{"function": f.name} for f in lst.func]
        return []
    return None


def format_shape(shape, dtype: Optional[str] = None, unknown: str = "?", scalar: str = "scalar") -> str:
    """Return a shape as people write it: ``?×3``, ``2×?×5``, ``scalar``; ``unknown`` if not known."""
    if dtype in ("resource", "variant"):
        return dtype
    if shape is None:
        return unknown
    if len(shape) == 0:
        return scalar
    return "×".join("?" if d is None else str(d) for d in shape)


def as_graph_def(source) -> Any:
    """Return rnngraph's GraphDef message for a GraphDef of either library, a tf.Graph or a BuiltGraph."""
    if isinstance(source, protos.GraphDef):
        return source
    if hasattr(source, "graph_def") and callable(source.graph_def):  # BuiltGraph
        source = source.graph_def()
    elif hasattr(source, "as_graph_def"):  # tf.Graph
        source = source.as_graph_def(add_shapes=True)
    if hasattr(source, "SerializeToString"):
        return protos.GraphDef.FromString(source.SerializeToString())
    raise GraphFileError(f"expected a GraphDef, tf.Graph or built graph, got {type(source).__name__}")


_ASCII_DIGITS = frozenset("0123456789")


def _output_index(text: str, index: str, node: str) -> Optional[int]:
    """Return an output index written in ASCII digits; None if ``index`` is no index at all.

    TensorFlow reads only ASCII digits there; ``x:²`` (a Unicode digit, which int() would
    refuse or misread) is a malformed node, reported by name.
    """
    if index and all(c in _ASCII_DIGITS for c in index):
        return int(index)
    if index and any(c.isdigit() or c.isdecimal() or c.isnumeric() for c in index) \
            and all(c.isdigit() or c.isdecimal() or c.isnumeric() for c in index):
        raise GraphFileError(f"node {node[:200]!r} is malformed: its input {text[:200]!r} has "
                             f"an output index that is not written in the digits 0-9")
    return None


def _parse_input(text: str, node: str = "") -> tuple[str, int, bool]:
    """Return (node, output index, is_control) of a GraphDef input string."""
    if text.startswith("^"):
        return text[1:], -1, True
    name, sep, index = text.rpartition(":")
    number = _output_index(text, index, node) if sep else None
    if number is not None:
        return name, number, False
    return text, 0, False


def _output_dtypes(op: str, attrs: dict, count: int) -> list:
    """Best guess of each output's dtype from the node's attributes (no op registry here)."""
    for key in ("output_types", "Tout", "out_types", "component_types"):
        if isinstance(attrs.get(key), list) and attrs[key]:
            return list(attrs[key])
    if op in ("While", "StatelessWhile", "IdentityN") and isinstance(attrs.get("T"), list):
        return list(attrs["T"])  # outputs have the inputs' types
    single = None
    for key in ("dtype", "DstT", "out_type", "T", "Tidx", "type"):
        if isinstance(attrs.get(key), str):
            single = attrs[key]
            break
    if op in ("VarHandleOp", "TensorArrayV3", "TensorListReserve", "TensorListFromTensor",
              "EmptyTensorList", "TensorListSetItem", "TensorListPushBack"):
        single = "resource" if op.startswith(("Var", "TensorArray")) else "variant"
        if op == "TensorArrayV3":
            return ["resource", "float32"][:max(count, 2)]
    if op in ("Shape", "Size", "Rank"):
        single = attrs.get("out_type", "int32")
    if op in ("Less", "Greater", "LessEqual", "GreaterEqual", "Equal", "NotEqual",
              "LogicalAnd", "LogicalOr", "LogicalNot", "LoopCond", "VarIsInitializedOp",
              "InTopK", "InTopKV2", "IsFinite"):
        single = "bool"
    dtypes = [single] * count
    if op in ("Merge", "RefMerge") and count >= 2:
        dtypes[1] = "int32"
    return dtypes


def _is_shape(value) -> bool:
    return value is None or (isinstance(value, list) and all(
        isinstance(d, int) or d is None for d in value))


def _is_func(value) -> bool:
    return isinstance(value, dict) and "function" in value


# The attributes rnngraph reads, and what TensorFlow always stores in them: a file that holds
# something else there is malformed, and is reported naming the node (never a TypeError later).
# A kind is (what it should be, a check of the decoded value, or the AttrValue fields it may hold).
_A_DTYPE = ("a dtype", {"type"})
_DTYPE_LIST = ("a list of dtypes", {"list.type", "list"})
_A_FUNCTION = ("a function", _is_func)
_FUNCTION_LIST = ("a list of functions", lambda v: isinstance(v, list) and all(_is_func(f) for f in v))
_ATTR_KINDS = {
    **{key: _A_DTYPE
       for key in ("dtype", "out_type", "DstT", "SrcT", "Tidx", "type", "element_dtype")},
    "T": ("a dtype or list of dtypes", _A_DTYPE[1] | _DTYPE_LIST[1]),
    **{key: _DTYPE_LIST for key in ("output_types", "Tout", "out_types", "component_types", "Tin")},
    **{key: ("an integer", lambda v: isinstance(v, int) and not isinstance(v, bool))
       for key in ("num", "N", "num_split", "index", "axis", "begin_mask", "end_mask",
                   "ellipsis_mask", "new_axis_mask", "shrink_axis_mask", "parallel_iterations")},
    **{key: ("a boolean", lambda v: isinstance(v, bool))
       for key in ("transpose_a", "transpose_b", "is_constant", "forget_bias_is_bool")},
    "frame_name": ("a string", lambda v: isinstance(v, str)),
    # what the fused RNN kernels are recognised by (BlockLSTM, GRUBlockCell, CudnnRNN...)
    **{key: ("a number", {"f"}) for key in ("forget_bias", "cell_clip", "dropout")},
    **{key: ("a boolean", {"b"}) for key in ("use_peephole", "is_training", "time_major")},
    **{key: ("a string", {"s"}) for key in ("rnn_mode", "direction", "input_mode")},
    **{key: ("an integer", {"i"}) for key in ("num_proj", "seq_dim")},
    "shape": ("a shape", _is_shape),
    "element_shape": ("a shape", _is_shape),
    "_output_shapes": ("a list of shapes", lambda v: isinstance(v, list) and all(
        _is_shape(s) for s in v)),
    **{key: _A_FUNCTION for key in ("body", "cond", "then_branch", "else_branch", "f")},
    "branches": _FUNCTION_LIST,
}
# An attribute whose kind the op's own definition sets (Tout: one dtype for RandomUniformInt,
# a list for PartitionedCall): OpDef type -> kind.  An op the registry does not hold (a
# custom op) may hold any kind some op declares for that name.
_OPDEF_KINDS = {"type": _A_DTYPE, "list(type)": _DTYPE_LIST, "func": _A_FUNCTION,
                "list(func)": _FUNCTION_LIST}


def _attr_kind(op: str, key: str):
    declared = OP_ATTR_TYPES.get(key)
    if declared is None:
        return _ATTR_KINDS.get(key)
    for opdef_type, ops in declared.items():
        if op in ops:
            return _OPDEF_KINDS[opdef_type]
    kinds = [_OPDEF_KINDS[t] for t in declared]
    if all(isinstance(k[1], set) for k in kinds):
        return " or ".join(k[0] for k in kinds), set().union(*(k[1] for k in kinds))
    return " or ".join(k[0] for k in kinds), lambda v: any(
        k[1](v) if callable(k[1]) else isinstance(v, (str, list)) for k in kinds)


# Ops read as constants or variables: a "value" attribute on them must be a tensor.
_VALUE_OPS = frozenset({"Const", "HostConst", "VarHandleOp", "VariableV2", "Variable"})


_FIELD_WORDS = {"s": "a string", "i": "an integer", "f": "a number", "b": "a boolean",
                "type": "a dtype", "shape": "a shape", "tensor": "a tensor", "func": "a function",
                "placeholder": "a placeholder"}


_LIST_WORDS = {"s": "strings", "i": "integers", "f": "numbers", "b": "booleans", "type": "dtypes",
               "shape": "shapes", "tensor": "tensors", "func": "functions"}


def _field(attr_value) -> Optional[str]:
    """Return the AttrValue field set: 'type', 's', 'list.type', 'list' (an empty list), None."""
    which = attr_value.WhichOneof("value")
    if which != "list":
        return which
    return next((f"list.{name}" for name in _LIST_WORDS if getattr(attr_value.list, name)), "list")


def _describe(attr_value) -> str:
    """Name the AttrValue field the file really holds: 'a dtype (type: DT_INT32)', 'a list of strings'."""
    field = _field(attr_value)
    if field is None:
        return "nothing"
    if field == "type":
        return f"a dtype (type: {protos.DTYPE_NAMES.get(attr_value.type, attr_value.type)})"
    if field == "list":
        return "an empty list"
    if field.startswith("list."):
        return f"a list of {_LIST_WORDS[field[5:]]} ({field})"
    return f"{_FIELD_WORDS.get(field, field)} ({field})"


def _check_attr(node_def, key: str, value) -> None:
    kind = _attr_kind(node_def.op, key)
    if key == "value" and node_def.op in _VALUE_OPS:
        kind = ("a tensor", lambda v: isinstance(v, dict) and "dtype" in v)
    attr_value = node_def.attr[key]
    field = _field(attr_value)
    if kind is None or field == "placeholder":
        return  # not read by rnngraph, or a function body's "$T": set by the caller
    if not (field in kind[1] if isinstance(kind[1], set) else kind[1](value)):
        raise GraphFileError(f"node {node_def.name[:200]!r} ({node_def.op[:100]}) is malformed: its "
                             f"attribute {key!r} should be {kind[0]}, but the file holds "
                             f"{_describe(attr_value)}")


def _node_attrs(node_def) -> tuple[dict, Optional[list]]:
    attrs = {}
    output_shapes = None
    for key in sorted(node_def.attr):
        value = decode_attr(node_def.attr[key])
        _check_attr(node_def, key, value)
        if key == "_output_shapes":
            output_shapes = value
            continue
        attrs[key] = value
    return attrs, output_shapes


def _outputs(op: str, attrs: dict, output_shapes: Optional[list]) -> list:
    if output_shapes is not None:
        shapes = list(output_shapes)
    elif op in ("Placeholder", "PlaceholderV2"):
        shapes = [attrs.get("shape")]
    elif op == "Const" and isinstance(attrs.get("value"), dict):
        shapes = [attrs["value"]["shape"]]
    else:
        shapes = []
    count = len(shapes) if output_shapes is not None else max(len(shapes), 1)
    dtypes = _output_dtypes(op, attrs, count)
    return [{"dtype": dtypes[i] if i < len(dtypes) else None,
             "shape": shapes[i] if i < len(shapes) else None} for i in range(count)]


# Name scopes deeper than this are drawn and grouped at this depth: a 40 KB name nested 20,000
# scopes deep would otherwise make 20,000 scopes of 20 KB each (400 MB of scope names).
MAX_SCOPE_DEPTH = 200  # as draw.dot nests clusters


def scope_of(name: str) -> str:
    """Return the name scope a node name sits in (``rnn/while`` for ``rnn/while/Merge``).

    At most ``MAX_SCOPE_DEPTH`` levels: a node nested deeper sits in its 200th scope.
    """
    scope = name.rpartition("/")[0]
    at = -1
    for _ in range(MAX_SCOPE_DEPTH):
        at = scope.find("/", at + 1)
        if at < 0:
            return scope
    return scope[:at]


def _add_node(graph: nx.MultiDiGraph, key: str, node_def, **extra) -> None:
    attrs, output_shapes = _node_attrs(node_def)
    if "_output_shapes" in node_def.attr and \
            len(node_def.attr["_output_shapes"].list.shape) > MAX_LIST_ITEMS:
        graph.graph.setdefault("cut_outputs", []).append(
            (key, len(node_def.attr["_output_shapes"].list.shape)))
    if key.count("/") > MAX_SCOPE_DEPTH:
        graph.graph["deep_nodes"] = graph.graph.get("deep_nodes", 0) + 1
    graph.add_node(
        key, name=key, op=node_def.op, device=node_def.device, attrs=attrs,
        outputs=_outputs(node_def.op, attrs, output_shapes), scope=scope_of(key),
        frame="", function=None, parent_op=None, missing=False,
        order=graph.number_of_nodes(), **extra)


def _add_edge(graph: nx.MultiDiGraph, src: str, dst: str, src_output: int, dst_input: int,
              control: bool, kind: str = "data") -> None:
    outputs = graph.nodes[src]["outputs"] if src in graph else []
    info = outputs[src_output] if 0 <= src_output < len(outputs) else {"dtype": None, "shape": None}
    graph.add_edge(src, dst, key=dst_input, src_output=src_output, dst_input=dst_input,
                   control=control, kind="control" if control else kind,
                   dtype=None if control else info["dtype"],
                   shape=None if control else info["shape"])


def walk(source, expand_functions: bool = True) -> nx.MultiDiGraph:
    """Return the networkx MultiDiGraph of a GraphDef (or tf.Graph / BuiltGraph)."""
    graph_def = as_graph_def(source)
    graph = nx.MultiDiGraph()
    graph.graph["frames"] = {}
    graph.graph["functions"] = sorted(f.signature.name for f in graph_def.library.function)
    graph.graph["producer"] = graph_def.versions.producer
    # Which functions implement one API (Keras' standard/CuDNN pair picked by api_implements).
    graph.graph["function_attrs"] = {
        f.signature.name: {k: decode_attr(f.attr[k]) for k in ("api_implements", "api_preferred_device")
                           if k in f.attr} for f in graph_def.library.function}
    names = set()
    for node_def in graph_def.node:
        if node_def.name in names:
            raise GraphFileError(f"node name {node_def.name[:200]!r} appears twice in the GraphDef")
        _check_name(node_def.name)
        names.add(node_def.name)
        _add_node(graph, node_def.name, node_def)
    for node_def in graph_def.node:
        for index, text in enumerate(node_def.input):
            src, out, control = _parse_input(text, node_def.name)
            _check_name(src)
            if src not in graph:
                graph.add_node(src, name=src, op="<missing>", device="", attrs={},
                               outputs=[], scope=scope_of(src), frame="", function=None,
                               parent_op=None, missing=True, order=graph.number_of_nodes())
            _add_edge(graph, src, node_def.name, out, -1 - index if control else index,
                      control)
    _assign_frames(graph)
    graph.graph["file_nodes"] = {"graph": len(graph_def.node), "functions": sum(
        len(f.node_def) for f in graph_def.library.function)}
    graph.graph["recursion"] = recursive_functions(graph_def)
    graph.graph["unexpanded_calls"] = []
    # The FunctionDefs by name ("_": not written by --format json): the page embeds the bodies
    # of the calls left closed, each once, and opens them on a click (draw/lazycalls.py).
    graph.graph["_library"] = {f.signature.name: f for f in graph_def.library.function}
    if expand_functions:
        graph.graph["expansion_budget"] = expansion_budget(graph_def)
        _expand_calls(graph, graph_def, graph.graph["expansion_budget"])
    _check_inputs(graph)
    return graph


def expansion_budget(graph_def) -> int:
    """Return how many nodes expanding function calls may add, proportional to the file's nodes."""
    held = len(graph_def.node) + sum(len(f.node_def) + len(f.signature.input_arg)
                                     + len(f.signature.output_arg) for f in graph_def.library.function)
    return _BUDGET_FLOOR + _BUDGET_PER_NODE * held


def walk_notes(graph: nx.MultiDiGraph) -> list:
    """Return one line per thing the walk left out on purpose (recursion, budget, cut lists)."""
    notes = []
    for group in graph.graph.get("recursion", []):
        if len(group) == 1:
            notes.append(f"recursion: function {group[0]!r} calls itself; the call inside it is "
                         f"drawn as a box, not expanded")
        else:
            notes.append(f"recursion: functions {', '.join(repr(f) for f in group)} call each "
                         f"other; a call back into one of them is drawn as a box, not expanded")
    for name, count in graph.graph.get("cut_outputs", [])[:5]:
        notes.append(f"node {name[:200]!r} records {count:,} output shapes; the first "
                     f"{MAX_LIST_ITEMS:,} are kept")
    if graph.graph.get("deep_nodes"):
        notes.append(f"{graph.graph['deep_nodes']:,} node(s) nested more than "
                     f"{MAX_SCOPE_DEPTH} scopes deep are drawn in their {MAX_SCOPE_DEPTH}th scope")
    left = graph.graph.get("unexpanded_calls", [])
    if left:
        notes.append(f"{len(left):,} function call{'s' if len(left) != 1 else ''} drawn as "
                     f"boxes, not expanded: expanding stops at "
                     f"{graph.graph.get('expansion_budget', 0):,} nodes ({_BUDGET_PER_NODE} per "
                     f"node the file holds, at least {_BUDGET_FLOOR:,}) or {_MAX_FUNCTION_DEPTH} "
                     f"calls deep; the HTML page opens them one at a time")
    return notes


def _check_name(name: str) -> None:
    if RESERVED in name:
        raise GraphFileError(f"node name {name[:200]!r} holds {RESERVED!r}, which no TensorFlow "
                             f"node name can hold (rnngraph keeps it for its own boxes)")


def body_prefix(caller: str, role: str) -> str:
    """Return the key prefix of a function body expanded under ``caller`` for ``role`` (``body``)."""
    return f"{caller}/{role}{RESERVED}/"


def retval_key(prefix: str, name: str) -> str:
    """Return the key of the node standing for a function's output ``name``."""
    return f"{prefix}{RESERVED}retval_{name}"


def retval_name(key: str) -> str:
    """Return the output name of a key made by :func:`retval_key` (the last part otherwise)."""
    return key.rpartition("/")[2].removeprefix(f"{RESERVED}retval_")


def _called(node_def, library) -> list:
    """Return the library functions a NodeDef calls (function attributes, or its op)."""
    found = [node_def.op] if node_def.op in library else []
    for key in FUNCTION_ATTRS:
        if key not in node_def.attr:
            continue
        value = node_def.attr[key]
        if value.WhichOneof("value") == "func":
            found.append(value.func.name)
        elif value.WhichOneof("value") == "list":
            found += [f.name for f in value.list.func]
    return [f for f in found if f in library]


def recursive_functions(graph_def) -> list:
    """Return each group of library functions that call themselves or each other, sorted.

    Direct recursion is a group of one; mutual recursion (f calls g, g calls f) one group.
    """
    library = {f.signature.name for f in graph_def.library.function}
    calls = nx.DiGraph()
    for fdef in graph_def.library.function:
        calls.add_node(fdef.signature.name)
        for node_def in fdef.node_def:
            for callee in _called(node_def, library):
                calls.add_edge(fdef.signature.name, callee)
    groups = [sorted(c) for c in nx.strongly_connected_components(calls)
              if len(c) > 1 or calls.has_edge(next(iter(c)), next(iter(c)))]
    return sorted(groups)


# Data inputs every op that rnngraph reads takes at least (TensorFlow's op registry): a node
# with fewer is malformed and reported by name, never an IndexError in a recogniser.
_MIN_INPUTS = {
    **dict.fromkeys(("Identity", "Enter", "RefEnter", "Exit", "RefExit", "NextIteration",
                     "RefNextIteration", "Merge", "RefMerge", "LoopCond", "Unpack", "Shape",
                     "ReadVariableOp", "Sigmoid", "Tanh", "Relu", "TensorArrayV3",
                     "TensorListLength", "Size", "Rank"), 1),
    **dict.fromkeys(("ConcatV2", "Concat", "MatMul", "BiasAdd", "Add", "AddV2", "Sub", "Mul",
                     "Less", "Greater", "LessEqual", "GreaterEqual", "Equal", "NotEqual",
                     "LogicalAnd", "LogicalOr", "Minimum", "Maximum", "Switch", "RefSwitch",
                     "TensorListFromTensor", "TensorListReserve", "TensorListStack",
                     "TensorArraySizeV3", "Split", "ExpandDims", "Transpose", "Fill"), 2),
    **dict.fromkeys(("Range", "TensorListSetItem", "TensorListGetItem", "TensorArrayReadV3",
                     "TensorArrayGatherV3", "SplitV", "Select", "SelectV2"), 3),
    **dict.fromkeys(("StridedSlice", "TensorArrayWriteV3", "TensorArrayScatterV3"), 4),
}


def _check_inputs(graph: nx.MultiDiGraph) -> None:
    """Raise GraphFileError, naming the node, for a node with fewer data inputs than its op takes."""
    for name, data in graph.nodes(data=True):
        need = _MIN_INPUTS.get(data["op"])
        if need is None:
            continue
        have = sum(1 for _, _, key in graph.in_edges(name, keys=True) if key >= 0)
        if have < need:
            raise GraphFileError(f"node {name[:200]!r} ({data['op']}) is malformed: it has {have} "
                                 f"data input{'s' if have != 1 else ''}, {data['op']} takes "
                                 f"at least {need}")


def top_level_nodes(graph: nx.MultiDiGraph) -> list:
    """Return the nodes that stand in the GraphDef itself (not function bodies, not missing)."""
    return [n for n, d in graph.nodes(data=True) if d["function"] is None and not d["missing"]]


def _assign_frames(graph: nx.MultiDiGraph) -> None:
    """Give every node the v1 while-loop frame it runs in ("" outside any loop)."""
    if not any(d["op"] in ("Enter", "RefEnter") for _, d in graph.nodes(data=True)):
        return
    frames = graph.graph["frames"]
    back = {"NextIteration", "RefNextIteration"}
    indegree = {n: 0 for n in graph}
    for src, dst in graph.edges():
        if graph.nodes[src]["op"] not in back:
            indegree[dst] += 1
    ready = sorted(n for n, deg in indegree.items() if deg == 0)
    order = []
    while ready:
        node = ready.pop()
        order.append(node)
        for _, dst in graph.out_edges(node):
            if graph.nodes[node]["op"] in back:
                continue
            indegree[dst] -= 1
            if indegree[dst] == 0:
                ready.append(dst)
    parent: dict[str, str] = {}
    for node in order:
        data = graph.nodes[node]
        sources = [s for s, _, k in sorted(graph.in_edges(node, keys=True), key=lambda e: _edge_rank(e[2]))
                   if graph.nodes[s]["op"] not in back]
        outer = graph.nodes[sources[0]]["frame"] if sources else ""
        if data["op"] in ("Enter", "RefEnter"):
            frame = data["attrs"].get("frame_name", "")
            parent.setdefault(frame, outer)
            info = frames.setdefault(frame, {"parent": outer, "enters": [], "exits": []})
            info["enters"].append(node)
        elif data["op"] in ("Exit", "RefExit"):
            frame = parent.get(outer, "")
            if outer in frames:
                frames[outer]["exits"].append(node)
        else:
            frame = outer
        data["frame"] = frame
    # Nodes left on a cycle without NextIteration (malformed graphs) stay at top level.


def _edge_rank(key: int) -> tuple:
    """Data inputs first, in order, then control inputs."""
    return (0, key) if key >= 0 else (1, -key)


class _Decoded:
    """One FunctionDef decoded once: its nodes' attributes, outputs and parsed inputs."""

    def __init__(self, fdef):
        self.fdef = fdef
        self.args = [arg.name for arg in fdef.signature.input_arg]
        arg_set = set(self.args)
        self.nodes = []
        seen = set(self.args)
        for node_def in fdef.node_def:
            _check_name(node_def.name)
            if node_def.name in seen:
                raise GraphFileError(f"function {fdef.signature.name[:200]!r} holds the name "
                                     f"{node_def.name[:200]!r} twice")
            seen.add(node_def.name)
            try:
                attrs, output_shapes = _node_attrs(node_def)
                inputs = [_function_input(text, arg_set, node_def.name) for text in node_def.input]
            except GraphFileError as exc:  # say which function the node is in
                raise GraphFileError(f"in function {fdef.signature.name[:200]!r}: {exc}") from None
            self.nodes.append((node_def, attrs, _outputs(node_def.op, attrs, output_shapes), inputs))
        self.rets = []
        for arg in fdef.signature.output_arg:
            target = fdef.ret.get(arg.name, "")
            parsed = _function_input(target, arg_set, arg.name) if target else None
            self.rets.append((arg, parsed))
        self.size = len(self.nodes) + len(self.args) + len(self.rets)


def _function_input(text: str, args: set, node: str) -> tuple[str, int, bool]:
    """Parse a FunctionDef input (``arg``, ``node:out_arg:idx``, ``^node``) to (name, index, control)."""
    if text.startswith("^"):
        return text[1:], -1, True
    parts = text.split(":")
    if len(parts) == 1:
        return parts[0], 0, False
    index = parts[1] if len(parts) == 2 and parts[0] in args else parts[-1]
    number = _output_index(text, index, node)
    return parts[0], number if number is not None else 0, False


def calls_of(attrs: dict) -> list:
    """Return [(role, function name)] of a node's function-valued attributes."""
    found = []
    for attr_name in FUNCTION_ATTRS:
        value = attrs.get(attr_name)
        refs = value if isinstance(value, list) else [value]
        for number, ref in enumerate(refs):
            if isinstance(ref, dict) and ref.get("function"):
                found.append((attr_name if not isinstance(value, list) else f"{attr_name}_{number}",
                              ref["function"]))
    return found


def _expand_calls(graph: nx.MultiDiGraph, graph_def, budget: int) -> None:
    """Expand every call in ``graph`` breadth first until ``budget`` nodes have been added."""
    library = {f.signature.name: f for f in graph_def.library.function}
    if not library:
        return
    decoded: dict = {}
    queue = deque((name, 0, ()) for name, d in graph.nodes(data=True) if d["function"] is None)
    left_out = graph.graph["unexpanded_calls"]
    while queue:
        node, depth, stack = queue.popleft()
        for role, fname in calls_of(graph.nodes[node]["attrs"]):
            if fname not in library:
                continue
            if fname in stack:
                graph.nodes[node]["recursive_call"] = fname
                continue
            if fname not in decoded:
                decoded[fname] = _Decoded(library[fname])
            body = decoded[fname]
            if depth >= _MAX_FUNCTION_DEPTH or body.size > budget:
                graph.nodes[node].setdefault("unexpanded", []).append(fname)
                left_out.append(node)
                continue
            budget -= body.size
            added = _expand_function(graph, node, role, body)
            queue.extend((key, depth + 1, stack + (fname,)) for key in added)


def expand_body(graph: nx.MultiDiGraph, caller: str, role: str, fdef) -> list:
    """Add one copy of FunctionDef ``fdef`` under ``caller`` (its calls stay closed); return its keys."""
    return _expand_function(graph, caller, role, _Decoded(fdef))


def _expand_function(graph: nx.MultiDiGraph, caller: str, role: str, body: _Decoded) -> list:
    """Add one copy of ``body`` under ``caller``; return the keys of its nodes (which may call)."""
    prefix = body_prefix(caller, role)
    fdef = body.fdef
    common = dict(function=fdef.signature.name, parent_op=caller,
                  frame=graph.nodes[caller]["frame"])
    caller_inputs = sorted(
        (k, s, d) for s, _, k, d in graph.in_edges(caller, keys=True, data=True) if k >= 0)
    if graph.nodes[caller]["op"] in ("If", "StatelessIf", "Case", "StatelessCase"):
        caller_inputs = caller_inputs[1:]  # input 0 is the condition / branch index
    for index, arg in enumerate(fdef.signature.input_arg):
        key = prefix + arg.name
        shape = dtype = None
        if index < len(caller_inputs):
            shape, dtype = caller_inputs[index][2]["shape"], caller_inputs[index][2]["dtype"]
        if shape is None and index in fdef.arg_attr:
            recorded = fdef.arg_attr[index].attr.get("_output_shapes")
            if recorded is not None and decode_attr(recorded):
                shape = decode_attr(recorded)[0]
        _add(graph, key, op="_Arg", device="", attrs={"index": index},
             outputs=[{"dtype": dtype or dtype_name(arg.type), "shape": shape}], common=common)
        graph.add_edge(caller, key, key=-1000 - index, src_output=index, dst_input=0,
                       control=False, kind="call", dtype=dtype, shape=shape)
    for node_def, attrs, outputs, _ in body.nodes:
        _add(graph, prefix + node_def.name, op=node_def.op, device=node_def.device, attrs=attrs,
             outputs=[dict(o) for o in outputs], common=common)
    for node_def, _, _, inputs in body.nodes:
        for index, (src, out, control) in enumerate(inputs):
            if prefix + src in graph:
                _add_edge(graph, prefix + src, prefix + node_def.name, out,
                          -1 - index if control else index, control)
    for index, (arg, parsed) in enumerate(body.rets):
        key = retval_key(prefix, arg.name)
        src, out = (prefix + parsed[0], parsed[1]) if parsed else ("", 0)
        info = {"dtype": dtype_name(arg.type), "shape": None}
        if src in graph:
            outs = graph.nodes[src]["outputs"]
            if 0 <= out < len(outs) and outs[out]["shape"] is not None:
                info["shape"] = outs[out]["shape"]
        _add(graph, key, op="_Retval", device="", attrs={"index": index}, outputs=[info],
             common=common)
        if src in graph:
            _add_edge(graph, src, key, out, 0, False)
        graph.add_edge(key, caller, key=-2000 - index, src_output=0, dst_input=index,
                       control=False, kind="return", dtype=info["dtype"], shape=info["shape"])
    return [prefix + node_def.name for node_def, _, _, _ in body.nodes]


def _add(graph: nx.MultiDiGraph, key: str, common: dict, **data) -> None:
    if key in graph:  # only a name TensorFlow would refuse can get here; never merge two nodes
        raise GraphFileError(f"node name {key[:200]!r} is given twice (a function body's node "
                             f"and another node)")
    graph.add_node(key, name=key, scope=scope_of(key), missing=False,
                   order=graph.number_of_nodes(), **data, **common)
