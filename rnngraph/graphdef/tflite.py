"""Read a LiteRT (TensorFlow Lite) flatbuffer into a GraphDef, without TensorFlow.

The flatbuffer is parsed with ``ai_edge_litert.schema_py_generated``: the classes flatc
generated from LiteRT's own ``schema.fbs``, shipped and kept current by Google in the
``ai-edge-litert`` package (the LiteRT runtime, which ``--verify`` runs too).  No offset here
is written by hand.  The module is one file, imported only when a ``.tflite`` file is read.  The model
becomes the GraphDef the rest of rnngraph reads:

* each operator is a NodeDef whose op is the builtin operator's name
  (``FULLY_CONNECTED``, ``UNIDIRECTIONAL_SEQUENCE_LSTM``), its options are attributes
  (``fused_activation_function: "TANH"``, ``cell_clip: 10.0``), ``_output_shapes`` holds its
  outputs' shapes and ``_input_names`` the schema's name of each input slot;
* a tensor with a buffer is a ``Const`` (at most :data:`MAX_VALUES` values decoded), a
  subgraph input a ``Placeholder``, a variable tensor (the fused ops' state) a ``VariableV2``;
  quantised tensors carry ``quant_scale`` / ``quant_zero_point``;
* subgraph 0 is the graph; every other subgraph is a FunctionDef of the library, and
  ``WHILE`` / ``IF`` become TensorFlow's ``While`` / ``If`` with ``cond``/``body`` and
  ``then_branch``/``else_branch`` function attributes (``tflite_op`` keeps the builtin
  name), so they are linked like a control-flow-v2 loop.

Every fault (a truncated or garbage flatbuffer, an index out of range, a loop whose body
calls itself, an unknown operator) is one :class:`GraphFileError` line.  Work and memory
are bounded by the file's size: a vector is read only when its declared length fits in
the bytes the file holds.
"""

from __future__ import annotations

import importlib
import re
import struct
from typing import Callable, Optional

import numpy as np

from . import protos
from ..errors import GraphFileError

__all__ = ["is_tflite", "read_tflite", "TfliteModel", "parse_model", "tensor_array",
           "INPUT_NAMES", "MAX_VALUES", "TENSOR_TYPES", "constant_arrays"]

MAX_WEIGHT_VALUES = 50_000_000  # elements of one weight read whole for ``diff`` (as values.py)
_FLOAT_TYPES = {"float32", "float16", "float64"}
MAX_VALUES = 16  # the values of one constant rnngraph decodes for labels (as for GraphDefs)
IDENTIFIER = b"TFL3"
_EXPECTED = "a LiteRT/TFLite flatbuffer (.tflite)"

# schema.fbs TensorType -> (numpy dtype, GraphDef DataType name).
TENSOR_TYPES = {
    0: ("float32", "DT_FLOAT"), 1: ("float16", "DT_HALF"), 2: ("int32", "DT_INT32"),
    3: ("uint8", "DT_UINT8"), 4: ("int64", "DT_INT64"), 5: (None, "DT_STRING"),
    6: ("bool", "DT_BOOL"), 7: ("int16", "DT_INT16"), 8: ("complex64", "DT_COMPLEX64"),
    9: ("int8", "DT_INT8"), 10: ("float64", "DT_DOUBLE"), 11: ("complex128", "DT_COMPLEX128"),
    12: ("uint64", "DT_UINT64"), 13: (None, "DT_RESOURCE"), 14: (None, "DT_VARIANT"),
    15: ("uint32", "DT_UINT32"), 16: ("uint16", "DT_UINT16"), 17: (None, "DT_INT4"),
    18: (None, "DT_BFLOAT16"),
}

_GATES = ("input", "forget", "cell", "output")
_LSTM = (["input"] + [f"input_to_{g}_weights" for g in _GATES]
         + [f"recurrent_to_{g}_weights" for g in _GATES]
         + [f"cell_to_{g}_weights" for g in ("input", "forget", "output")]
         + [f"{g}_gate_bias" for g in _GATES]
         + ["projection_weights", "projection_bias", "output_state", "cell_state"]
         + [f"{g}_layer_norm_coefficients" for g in _GATES])


def _bi_lstm() -> list:
    names = ["input"]
    for side in ("fw", "bw"):
        names += [f"{side}_{n}" for n in _LSTM[1:18]]
    names += ["fw_input_activation_state", "fw_input_cell_state",
              "bw_input_activation_state", "bw_input_cell_state", "aux_input"]
    for side in ("fw", "bw"):
        names += [f"{side}_aux_input_to_{g}_weights" for g in _GATES]
    return names


# The name of each input slot, per builtin operator (TensorFlow lite/kernels: lstm_shared.h,
# bidirectional_sequence_lstm.cc, basic_rnn.cc, bidirectional_sequence_rnn.cc, fully_connected.cc).
INPUT_NAMES = {
    "LSTM": _LSTM,
    "UNIDIRECTIONAL_SEQUENCE_LSTM": _LSTM,
    "BIDIRECTIONAL_SEQUENCE_LSTM": _bi_lstm(),
    "RNN": ["input", "weights", "recurrent_weights", "bias", "hidden_state"],
    "UNIDIRECTIONAL_SEQUENCE_RNN": ["input", "weights", "recurrent_weights", "bias", "hidden_state"],
    "BIDIRECTIONAL_SEQUENCE_RNN": ["input", "fw_weights", "fw_recurrent_weights", "fw_bias",
                                   "fw_hidden_state", "bw_weights", "bw_recurrent_weights",
                                   "bw_bias", "bw_hidden_state", "aux_input", "fw_aux_weights",
                                   "bw_aux_weights"],
    "FULLY_CONNECTED": ["input", "weights", "bias"],
}
# Builtin ops whose subgraph-index options become function attributes (and the TF op they mirror).
_CONTROL = {"WHILE": ("While", {"cond_subgraph_index": "cond", "body_subgraph_index": "body"}),
            "IF": ("If", {"then_subgraph_index": "then_branch", "else_subgraph_index": "else_branch"}),
            "CALL_ONCE": ("CALL_ONCE", {"init_subgraph_index": "f"}),
            "CALL": ("CALL", {"subgraph": "f"})}


def is_tflite(data: bytes) -> bool:
    """True when ``data`` carries the TFLite file identifier ``TFL3`` at bytes 4..8."""
    return len(data) >= 8 and data[4:8] == IDENTIFIER


def _schema():
    """Return LiteRT's flatc-generated schema module (GraphFileError when it is not installed)."""
    try:
        return importlib.import_module("ai_edge_litert.schema_py_generated")
    except ImportError:
        raise GraphFileError("reading a .tflite file needs LiteRT's schema: "
                             "pip install ai-edge-litert") from None


def _enum_names(name: str) -> dict:
    cls = getattr(_schema(), name)
    return {v: k for k, v in vars(cls).items() if not k.startswith("_") and isinstance(v, int)}


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()


class _Bad(Exception):
    """A fault found while reading; becomes one GraphFileError naming the file."""


class TfliteModel:
    """The parsed flatbuffer with bounds-checked access (indices, vector lengths, buffers)."""

    def __init__(self, data: bytes):
        self.data = data
        self.size = len(data)
        (root,) = struct.unpack_from("<I", data, 0)
        if root < 8 or root + 4 > self.size:
            raise _Bad(f"its root table offset {root} lies outside the file's {self.size} bytes")
        self.model = _schema().Model.GetRootAs(data, 0)
        self.op_names = _enum_names("BuiltinOperator")
        self.opcodes = [self._opcode(self.model.OperatorCodes(i))
                        for i in range(self.count(self.model.OperatorCodesLength(), "operator codes"))]
        self.n_buffers = self.count(self.model.BuffersLength(), "buffers")
        self.subgraphs = [self.model.Subgraphs(i)
                          for i in range(self.count(self.model.SubgraphsLength(), "subgraphs"))]
        if not self.subgraphs:
            raise _Bad("it holds no subgraph")

    def count(self, n: int, what: str, item: int = 4) -> int:
        """Return ``n`` when that many items of ``item`` bytes fit in the file, else raise."""
        if n < 0 or n * item > self.size:
            raise _Bad(f"it declares {n} {what}, more than its {self.size} bytes can hold")
        return n

    def _opcode(self, code) -> str:
        number = max(code.BuiltinCode(), code.DeprecatedBuiltinCode())
        name = self.op_names.get(number)
        if name is None:
            raise _Bad(f"it uses operator code {number}, which no LiteRT schema this reader "
                       f"knows defines")
        if name == "CUSTOM":
            custom = code.CustomCode()
            return "CUSTOM:" + custom.decode("utf-8", "replace")[:100] if custom else "CUSTOM"
        return name

    def vector(self, table, name: str, what: str) -> list:
        """Return a table's int vector field ``name`` as a list, bounded by the file's size."""
        n = self.count(getattr(table, name + "Length")(), what)
        return [int(v) for v in getattr(table, name + "AsNumpy")()] if n else []

    def tensor(self, sub, index: int, what: str):
        n = sub.TensorsLength()
        if not 0 <= index < n:
            raise _Bad(f"{what} names tensor {index}, but its subgraph has {n} tensors")
        return sub.Tensors(index)

    def subgraph_index(self, index: int, what: str) -> int:
        if not 0 <= index < len(self.subgraphs):
            raise _Bad(f"{what} names subgraph {index}, but the model has {len(self.subgraphs)}")
        return index

    def buffer_bytes(self, tensor) -> bytes:
        """Return the bytes of the tensor's buffer ("" when it has none)."""
        index = tensor.Buffer()
        if index == 0:
            return b""
        if not 0 <= index < self.n_buffers:
            raise _Bad(f"tensor {_text(tensor.Name())!r} names buffer {index}, but the model has "
                       f"{self.n_buffers}")
        buffer = self.model.Buffers(index)
        offset, size = buffer.Offset(), buffer.Size()
        if offset > 1:  # data stored after the flatbuffer (models over 2 GiB)
            if offset + size > self.size:
                raise _Bad(f"buffer {index} lies outside the file ({offset}+{size} > {self.size})")
            return bytes(self.data[offset:offset + size])
        n = self.count(buffer.DataLength(), f"bytes in buffer {index}", 1)
        return buffer.DataAsNumpy().tobytes() if n else b""


def _text(raw) -> str:
    return raw.decode("utf-8", "replace") if raw else ""


def shape_of(model: TfliteModel, tensor) -> Optional[list]:
    """Return the tensor's shape with unknown dimensions (-1 in shape_signature) as None."""
    sig = model.vector(tensor, "ShapeSignature", "dimensions")
    dims = sig or model.vector(tensor, "Shape", "dimensions")
    return [None if d < 0 else d for d in dims]


def tensor_array(model: TfliteModel, tensor) -> Optional[np.ndarray]:
    """Return the whole value of a constant tensor as a NumPy array (None without a buffer)."""
    raw = model.buffer_bytes(tensor)
    np_type = TENSOR_TYPES.get(tensor.Type(), (None, None))[0]
    if not raw or np_type is None:
        return None
    shape = model.vector(tensor, "Shape", "dimensions")
    count = int(np.prod(shape)) if shape else 1
    itemsize = np.dtype(np_type).itemsize
    if count * itemsize != len(raw):
        raise _Bad(f"tensor {_text(tensor.Name())!r} has shape {shape} but its buffer holds "
                   f"{len(raw)} bytes")
    return np.frombuffer(raw, dtype=np_type).reshape(shape)


def quantisation(model: TfliteModel, tensor) -> dict:
    """Return {"scale": [...], "zero_point": [...], "dimension": d} ({} when not quantised)."""
    q = tensor.Quantization()
    if q is None:
        return {}
    scale = model.vector(q, "Scale", "scales")
    if not scale:
        return {}
    return {"scale": [float(v) for v in q.ScaleAsNumpy()],
            "zero_point": model.vector(q, "ZeroPoint", "zero points"),
            "dimension": q.QuantizedDimension()}


def _options(model: TfliteModel, op) -> dict:
    """Return the operator's builtin options as {snake_case name: value}."""
    kind = op.BuiltinOptionsType()
    table = op.BuiltinOptions()
    if not kind or table is None:
        return {}
    name = _enum_names("BuiltinOptions").get(kind)
    if name is None:
        raise _Bad(f"an operator has options of type {kind}, which the schema does not define")
    cls = getattr(_schema(), name, None)
    if cls is None:
        raise _Bad(f"an operator has options {name}, which the schema module does not define")
    options = cls()
    options.Init(table.Bytes, table.Pos)
    found = {}
    skip = ("GetRootAs", "Init")
    methods = [m for m in dir(cls) if m[:1].isupper() and not m.startswith(skip)
               and not m.endswith(("AsNumpy", "Length", "IsNone", "BufferHasIdentifier"))]
    for method in sorted(methods):
        if hasattr(cls, method + "Length"):
            found[_snake(method)] = model.vector(options, method, "option values")[:MAX_VALUES]
            continue
        value = getattr(options, method)()
        if isinstance(value, (bool, int, float)):
            found[_snake(method)] = value
    if "fused_activation_function" in found:
        found["fused_activation_function"] = _enum_names("ActivationFunctionType").get(
            found["fused_activation_function"], str(found["fused_activation_function"]))
    return found


def _attr(value):
    """Return an AttrValue for a Python value (bool, int, float, str, list of ints/floats)."""
    attr = protos.AttrValue()
    if isinstance(value, bool):
        attr.b = value
    elif isinstance(value, int):
        attr.i = value
    elif isinstance(value, float):
        attr.f = value
    elif isinstance(value, str):
        attr.s = value.encode()
    elif isinstance(value, list) and all(isinstance(v, str) for v in value):
        attr.list.s.extend(v.encode() for v in value)
    elif isinstance(value, list) and all(isinstance(v, float) for v in value):
        attr.list.f.extend(value)
    elif isinstance(value, list):
        attr.list.i.extend(int(v) for v in value)
    return attr


def _set_shapes(attr, shapes: list) -> None:
    for shape in shapes:
        proto = attr.list.shape.add()
        if shape is None:
            proto.unknown_rank = True
            continue
        for dim in shape:
            proto.dim.add().size = -1 if dim is None else dim


def _const_value(attr, model: TfliteModel, tensor, dtype_name: str, shape: list) -> None:
    proto = attr.tensor
    proto.dtype = protos.DTYPE_ENUM[dtype_name]
    for dim in shape:
        proto.tensor_shape.dim.add().size = -1 if dim is None else dim
    count = 1
    for dim in shape:
        count *= dim if dim is not None else MAX_VALUES + 1
        if count > MAX_VALUES:
            # Not decoded: many tensors may share one large buffer, so copying each would
            # cost the file's size squared. --verify reads weights from the model itself.
            return
    value = tensor_array(model, tensor)
    if value is not None:
        proto.tensor_content = value.tobytes()


_NAME_OK = re.compile(r"[^A-Za-z0-9_./\-]")


class _Namer:
    """Unique, GraphDef-safe node names from tensor names (no ':' or ';')."""

    def __init__(self):
        self.used: set = set()

    def __call__(self, raw: str, fallback: str) -> str:
        base = _NAME_OK.sub("_", raw.split(";")[0])[:200].strip("/") or fallback
        name, n = base, 1
        while name in self.used:
            n += 1
            name = f"{base}_{n}"
        self.used.add(name)
        return name


def _subgraph_nodes(model: TfliteModel, s_index: int, functions: dict, in_function: bool):
    """Return (node_defs, {tensor index: input reference}, input arg names) of one subgraph."""
    sub = model.subgraphs[s_index]
    namer = _Namer()
    n_tensors = model.count(sub.TensorsLength(), "tensors")
    ops = model.count(sub.OperatorsLength(), "operators")
    for t in range(n_tensors):
        buffer = sub.Tensors(t).Buffer()
        if not 0 <= buffer < max(model.n_buffers, 1):
            raise _Bad(f"tensor {t} ({_text(sub.Tensors(t).Name())[:100]!r}) of subgraph {s_index} "
                       f"names buffer {buffer}, but the model has {model.n_buffers}")
    inputs = model.vector(sub, "Inputs", "subgraph inputs")
    refs: dict = {}
    nodes = []
    args = []
    for position, index in enumerate(inputs):
        tensor = model.tensor(sub, index, f"subgraph {s_index}'s input {position}")
        if in_function:
            name = f"arg{position}"
            refs[index] = name
            args.append((name, tensor))
            continue
        name = namer(_text(tensor.Name()), f"input_{position}")
        refs[index] = name
        nodes.append(_leaf(model, tensor, name, "Placeholder", (s_index, index)))
    produced = {}
    operators = []
    for o in range(ops):
        op = sub.Operators(o)
        code = op.OpcodeIndex()
        if not 0 <= code < len(model.opcodes):
            raise _Bad(f"operator {o} of subgraph {s_index} names operator code {code}, but the "
                       f"model has {len(model.opcodes)}")
        outs = model.vector(op, "Outputs", "operator outputs")
        for k, t in enumerate(outs):
            model.tensor(sub, t, f"operator {o} ({model.opcodes[code]}) output {k}")
        first = sub.Tensors(outs[0]) if outs else None
        name = namer(_text(first.Name()) if first is not None else "", f"op_{o}")
        for k, t in enumerate(outs):
            produced[t] = (name, k)
        operators.append((op, name, model.opcodes[code], outs))
    for op, name, op_name, outs in operators:
        for k, t in enumerate(outs):
            refs[t] = f"{name}:output:{k}" if in_function else (name if k == 0 else f"{name}:{k}")
    for o, (op, name, op_name, outs) in enumerate(operators):
        node = protos.NodeDef()
        node.name = name
        options = _options(model, op)
        tf_op, links = _CONTROL.get(op_name, (op_name, {}))
        node.op = tf_op
        if tf_op != op_name:
            node.attr["tflite_op"].CopyFrom(_attr(op_name))
        node.attr["tflite_index"].CopyFrom(_attr([s_index, o]))
        for key, value in options.items():
            if key in links:
                target = model.subgraph_index(value, f"{op_name} {name!r} ({key})")
                node.attr[links[key]].func.name = functions[target]
            else:
                node.attr[key].CopyFrom(_attr(value))
        ins = model.vector(op, "Inputs", "operator inputs")
        slots = INPUT_NAMES.get(op_name)
        present, dtypes = [], []
        for slot, t in enumerate(ins):
            if t < 0:
                continue  # an optional input left out (-1)
            tensor = model.tensor(sub, t, f"operator {name!r} ({op_name}) input {slot}")
            if t not in refs:
                # A recurrent op's weights and state are named by their slot (the tensor names
                # the converter writes, "arith.constant3", say nothing); the name stays an attr.
                named = slots and op_name != "FULLY_CONNECTED" and slot < len(slots) and slot
                leaf = namer(f"{name}/{slots[slot]}" if named else _text(tensor.Name()), f"tensor_{t}")
                refs[t] = leaf
                kind = "VariableV2" if tensor.IsVariable() else "Const" if tensor.Buffer() else "Placeholder"
                nodes.append(_leaf(model, tensor, leaf, kind, (s_index, t)))
            node.input.append(refs[t])
            present.append(slot)
            dtypes.append(TENSOR_TYPES.get(tensor.Type(), (None, "DT_INVALID"))[1])
        node.attr["tflite_inputs"].CopyFrom(_attr(list(ins)))
        node.attr["tflite_outputs"].CopyFrom(_attr(list(outs)))
        names = [(slots[s] if slots and s < len(slots) else f"input_{s}") for s in present]
        node.attr["_input_names"].CopyFrom(_attr(names))
        out_tensors = [sub.Tensors(t) for t in outs]
        if tf_op in ("While", "If"):
            node.attr["T"].list.type.extend(protos.DTYPE_ENUM[d] for d in dtypes[1 if tf_op == "If" else 0:])
        elif out_tensors:
            node.attr["T"].type = protos.DTYPE_ENUM[TENSOR_TYPES.get(out_tensors[0].Type(), (None, "DT_INVALID"))[1]]
        _set_shapes(node.attr["_output_shapes"], [shape_of(model, t) for t in out_tensors])
        quant = quantisation(model, out_tensors[0]) if out_tensors else {}
        _quant_attrs(node, quant)
        nodes.append(node)
    outputs = model.vector(sub, "Outputs", "subgraph outputs")
    for position, t in enumerate(outputs):
        tensor = model.tensor(sub, t, f"subgraph {s_index}'s output {position}")
        if t not in refs:  # a constant returned as it is
            refs[t] = namer(_text(tensor.Name()), f"tensor_{t}")
            nodes.append(_leaf(model, tensor, refs[t], "Const" if tensor.Buffer() else "Placeholder",
                               (s_index, t)))
    return nodes, refs, args, outputs


def _quant_attrs(node, quant: dict) -> None:
    if quant:
        node.attr["quant_scale"].CopyFrom(_attr(quant["scale"][:MAX_VALUES]))
        node.attr["quant_zero_point"].CopyFrom(_attr(quant["zero_point"][:MAX_VALUES]))
        node.attr["quant_dimension"].CopyFrom(_attr(quant["dimension"]))
        node.attr["quant_channels"].CopyFrom(_attr(len(quant["scale"])))


def _leaf(model: TfliteModel, tensor, name: str, kind: str, where: tuple):
    node = protos.NodeDef()
    node.name = name
    node.op = kind
    node.attr["tflite_tensor"].CopyFrom(_attr(list(where)))  # (subgraph, tensor index)
    node.attr["tflite_name"].CopyFrom(_attr(_text(tensor.Name())[:200]))
    dtype = TENSOR_TYPES.get(tensor.Type(), (None, "DT_INVALID"))[1]
    shape = shape_of(model, tensor)
    node.attr["dtype"].type = protos.DTYPE_ENUM[dtype]
    if kind == "Const":
        _const_value(node.attr["value"], model, tensor, dtype, shape)
    else:
        _set_shapes_single(node.attr["shape"], shape)
    _set_shapes(node.attr["_output_shapes"], [shape])
    _quant_attrs(node, quantisation(model, tensor))
    return node


def _set_shapes_single(attr, shape) -> None:
    for dim in shape:
        attr.shape.dim.add().size = -1 if dim is None else dim


def _check_calls(model: TfliteModel) -> None:
    """Raise when a subgraph calls itself through WHILE/IF/CALL (directly or not)."""
    calls = {}
    for s, sub in enumerate(model.subgraphs):
        found = set()
        for o in range(model.count(sub.OperatorsLength(), "operators")):
            op = sub.Operators(o)
            code = op.OpcodeIndex()
            if not 0 <= code < len(model.opcodes) or model.opcodes[code] not in _CONTROL:
                continue
            links = _CONTROL[model.opcodes[code]][1]
            for key, value in _options(model, op).items():
                if key in links:
                    found.add((model.subgraph_index(value, f"{model.opcodes[code]} in subgraph {s}"),
                               model.opcodes[code]))
        calls[s] = found
    state = {}

    def visit(s: int, path: tuple) -> None:  # iterative depth is bounded by the subgraph count
        state[s] = 1
        for target, op_name in sorted(calls[s]):
            if state.get(target) == 1:
                raise _Bad(f"a {op_name} in subgraph {s} runs subgraph {target}, which is itself "
                           f"running it (recursion: {' -> '.join(map(str, path + (target,)))})")
            if target not in state:
                visit(target, path + (target,))
        state[s] = 2

    for s in range(len(model.subgraphs)):
        if s not in state:
            visit(s, (s,))


def _decoded(path, decode: Callable, *args):
    """Return ``decode(*args)``; a fault of the file becomes one GraphFileError line naming ``path``."""
    try:
        return decode(*args)
    except _Bad as exc:
        raise GraphFileError(f"{path} is a LiteRT flatbuffer that rnngraph cannot read: {exc}") from None
    except (struct.error, IndexError, ValueError, TypeError, OverflowError, UnicodeDecodeError,
            AttributeError, KeyError):
        raise GraphFileError(f"{path} starts like a LiteRT flatbuffer (TFL3) but does not parse as "
                             f"one (truncated or corrupt); expected {_EXPECTED}") from None
    except RecursionError:
        raise GraphFileError(f"{path} nests its subgraphs deeper than rnngraph follows") from None


def _dequantised(raw: np.ndarray, quant: dict, shape: list) -> Optional[np.ndarray]:
    """Return ``(q - zero_point) * scale`` per channel of ``quant["dimension"]`` (None if malformed)."""
    scale = np.asarray(quant["scale"], np.float64)
    zero = np.asarray(quant["zero_point"] or [0], np.float64)
    axis = quant["dimension"]
    if len(scale) == 1 and len(zero) == 1:
        return (raw.astype(np.float64) - zero[0]) * scale[0]
    if not 0 <= axis < len(shape) or len(scale) != shape[axis] or len(zero) not in (1, len(scale)):
        return None
    view = [1] * len(shape)
    view[axis] = len(scale)
    return (raw.astype(np.float64) - zero.reshape(view if len(zero) > 1 else [1] * len(shape))) \
        * scale.reshape(view)


def constant_arrays(model: TfliteModel, constants: list, path) -> tuple:
    """Return ({key: float array}, how many were dequantised) of constant tensors.

    ``constants`` is [(key, (subgraph, tensor index))], as the ``tflite_tensor`` attribute of
    :func:`read_tflite`'s constants gives them.  Float tensors are returned as they are,
    quantised integer ones as ``(q - zero_point) * scale``; integer constants without
    quantisation (shapes, axes) and single values are left out.
    """
    return _decoded(path, _constant_arrays, model, constants)


def _constant_array(model: TfliteModel, s: int, t: int) -> tuple:
    """Return (float array or None, dequantised?) of tensor ``t`` of subgraph ``s``."""
    tensor = model.tensor(model.subgraphs[model.subgraph_index(s, "a constant")], t, "a constant")
    np_type = TENSOR_TYPES.get(tensor.Type(), (None, None))[0]
    shape = model.vector(tensor, "Shape", "dimensions")
    count = int(np.prod(shape, dtype=np.float64)) if shape else 1
    if np_type is None or count <= 1 or count > MAX_WEIGHT_VALUES:
        return None, False
    quant = quantisation(model, tensor)
    if np_type not in _FLOAT_TYPES and not quant:
        return None, False  # an integer constant (a shape, an axis), not a weight
    raw = tensor_array(model, tensor)
    if raw is None or np_type in _FLOAT_TYPES:
        return raw, False
    value = _dequantised(raw, quant, list(raw.shape))
    return value, value is not None


def _constant_arrays(model: TfliteModel, constants: list) -> tuple:
    out, cache = {}, {}
    for key, (s, t) in constants:
        if (s, t) not in cache:
            cache[s, t] = _constant_array(model, int(s), int(t))
        if cache[s, t][0] is not None:
            out[key] = cache[s, t][0]
    return out, sum(1 for value, dequantised in cache.values() if dequantised)


def parse_model(data: bytes, path) -> TfliteModel:
    """Return the bounds-checked :class:`TfliteModel` of ``data`` (GraphFileError when it is not one)."""
    return _decoded(path, TfliteModel, data)


def read_tflite(data: bytes, path) -> "protos.GraphDef":
    """Return the GraphDef of the LiteRT flatbuffer ``data`` (subgraphs 1.. as functions)."""
    return _decoded(path, _graph_def, parse_model(data, path))


def _graph_def(model: TfliteModel):
    _check_calls(model)
    functions, used = {}, set()
    for s, sub in enumerate(model.subgraphs):
        base = _NAME_OK.sub("_", _text(sub.Name()))[:100] or f"subgraph_{s}"
        name = base if base not in used else f"{base}_{s}"
        used.add(name)
        functions[s] = name
    graph = protos.GraphDef()
    nodes, _, _, _ = _subgraph_nodes(model, 0, functions, in_function=False)
    graph.node.extend(nodes)
    for s in range(1, len(model.subgraphs)):
        fdef = graph.library.function.add()
        fdef.signature.name = functions[s]
        nodes, refs, args, outputs = _subgraph_nodes(model, s, functions, in_function=True)
        sub = model.subgraphs[s]
        for position, (arg, tensor) in enumerate(args):
            spec = fdef.signature.input_arg.add()
            spec.name = arg
            spec.type = protos.DTYPE_ENUM[TENSOR_TYPES.get(tensor.Type(), (None, "DT_INVALID"))[1]]
            _set_shapes(fdef.arg_attr[position].attr["_output_shapes"], [shape_of(model, tensor)])
        fdef.node_def.extend(nodes)
        for position, t in enumerate(outputs):
            spec = fdef.signature.output_arg.add()
            spec.name = f"out{position}"
            tensor = sub.Tensors(t)
            spec.type = protos.DTYPE_ENUM[TENSOR_TYPES.get(tensor.Type(), (None, "DT_INVALID"))[1]]
            fdef.ret[spec.name] = refs[t]
    return graph
