"""TensorFlow's GraphDef protocol buffers, declared here so reading needs no TensorFlow.

Only the messages a GraphDef (and the files that wrap one: MetaGraphDef,
SavedModel, event files) is made of, with TensorFlow's own field numbers, so
the binary and text formats are read exactly as TensorFlow writes them.  A
test parses TensorFlow-written files with both these classes and
TensorFlow's and compares the results.
"""

from __future__ import annotations

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

__all__ = ["GraphDef", "NodeDef", "AttrValue", "TensorProto", "MetaGraphDef",
           "SavedModel", "Event", "BundleHeaderProto", "BundleEntryProto", "DTYPE_NAMES", "DTYPE_ENUM"]

_PACKAGE = "rnngraph.tensorflow"
_F = descriptor_pb2.FieldDescriptorProto

# DataType enum (tensorflow/core/framework/types.proto); *_REF types are +100.
_DTYPES = [
    ("DT_INVALID", 0), ("DT_FLOAT", 1), ("DT_DOUBLE", 2), ("DT_INT32", 3),
    ("DT_UINT8", 4), ("DT_INT16", 5), ("DT_INT8", 6), ("DT_STRING", 7),
    ("DT_COMPLEX64", 8), ("DT_INT64", 9), ("DT_BOOL", 10), ("DT_QINT8", 11),
    ("DT_QUINT8", 12), ("DT_QINT32", 13), ("DT_BFLOAT16", 14), ("DT_QINT16", 15),
    ("DT_QUINT16", 16), ("DT_UINT16", 17), ("DT_COMPLEX128", 18), ("DT_HALF", 19),
    ("DT_RESOURCE", 20), ("DT_VARIANT", 21), ("DT_UINT32", 22), ("DT_UINT64", 23),
    ("DT_FLOAT8_E5M2", 24), ("DT_FLOAT8_E4M3FN", 25), ("DT_FLOAT8_E4M3FNUZ", 26),
    ("DT_FLOAT8_E4M3B11FNUZ", 27), ("DT_FLOAT8_E5M2FNUZ", 28), ("DT_INT4", 29),
    ("DT_UINT4", 30), ("DT_INT2", 31), ("DT_UINT2", 32),
]
_ALL_DTYPES = _DTYPES + [(name + "_REF", value + 100) for name, value in _DTYPES[1:]]
DTYPE_ENUM = dict(_ALL_DTYPES)
DTYPE_NAMES = {value: name for name, value in _ALL_DTYPES}

# (field name, number, type, label, type name) per message; "map:K:V" makes a map.
_O, _R = _F.LABEL_OPTIONAL, _F.LABEL_REPEATED
_MESSAGES = {
    "TensorShapeProto.Dim": [("size", 1, _F.TYPE_INT64, _O, None),
                             ("name", 2, _F.TYPE_STRING, _O, None)],
    "TensorShapeProto": [("dim", 2, _F.TYPE_MESSAGE, _R, "TensorShapeProto.Dim"),
                         ("unknown_rank", 3, _F.TYPE_BOOL, _O, None)],
    "ResourceHandleProto.DtypeAndShape": [
        ("dtype", 1, _F.TYPE_ENUM, _O, "DataType"),
        ("shape", 2, _F.TYPE_MESSAGE, _O, "TensorShapeProto")],
    "ResourceHandleProto": [
        ("device", 1, _F.TYPE_STRING, _O, None), ("container", 2, _F.TYPE_STRING, _O, None),
        ("name", 3, _F.TYPE_STRING, _O, None), ("hash_code", 4, _F.TYPE_UINT64, _O, None),
        ("maybe_type_name", 5, _F.TYPE_STRING, _O, None),
        ("dtypes_and_shapes", 6, _F.TYPE_MESSAGE, _R, "ResourceHandleProto.DtypeAndShape")],
    "TensorProto": [
        ("dtype", 1, _F.TYPE_ENUM, _O, "DataType"),
        ("tensor_shape", 2, _F.TYPE_MESSAGE, _O, "TensorShapeProto"),
        ("version_number", 3, _F.TYPE_INT32, _O, None),
        ("tensor_content", 4, _F.TYPE_BYTES, _O, None),
        ("float_val", 5, _F.TYPE_FLOAT, _R, None),
        ("double_val", 6, _F.TYPE_DOUBLE, _R, None),
        ("int_val", 7, _F.TYPE_INT32, _R, None),
        ("string_val", 8, _F.TYPE_BYTES, _R, None),
        ("scomplex_val", 9, _F.TYPE_FLOAT, _R, None),
        ("int64_val", 10, _F.TYPE_INT64, _R, None),
        ("bool_val", 11, _F.TYPE_BOOL, _R, None),
        ("dcomplex_val", 12, _F.TYPE_DOUBLE, _R, None),
        ("half_val", 13, _F.TYPE_INT32, _R, None),
        ("resource_handle_val", 14, _F.TYPE_MESSAGE, _R, "ResourceHandleProto"),
        ("variant_val", 15, _F.TYPE_BYTES, _R, None),
        ("uint32_val", 16, _F.TYPE_UINT32, _R, None),
        ("uint64_val", 17, _F.TYPE_UINT64, _R, None),
        ("float8_val", 18, _F.TYPE_BYTES, _O, None)],
    "NameAttrList": [("name", 1, _F.TYPE_STRING, _O, None),
                     ("attr", 2, "map", _R, "AttrValue")],
    "AttrValue.ListValue": [
        ("s", 2, _F.TYPE_BYTES, _R, None), ("i", 3, _F.TYPE_INT64, _R, None),
        ("f", 4, _F.TYPE_FLOAT, _R, None), ("b", 5, _F.TYPE_BOOL, _R, None),
        ("type", 6, _F.TYPE_ENUM, _R, "DataType"),
        ("shape", 7, _F.TYPE_MESSAGE, _R, "TensorShapeProto"),
        ("tensor", 8, _F.TYPE_MESSAGE, _R, "TensorProto"),
        ("func", 9, _F.TYPE_MESSAGE, _R, "NameAttrList")],
    "AttrValue": [
        ("list", 1, _F.TYPE_MESSAGE, _O, "AttrValue.ListValue"),
        ("s", 2, _F.TYPE_BYTES, _O, None), ("i", 3, _F.TYPE_INT64, _O, None),
        ("f", 4, _F.TYPE_FLOAT, _O, None), ("b", 5, _F.TYPE_BOOL, _O, None),
        ("type", 6, _F.TYPE_ENUM, _O, "DataType"),
        ("shape", 7, _F.TYPE_MESSAGE, _O, "TensorShapeProto"),
        ("tensor", 8, _F.TYPE_MESSAGE, _O, "TensorProto"),
        ("placeholder", 9, _F.TYPE_STRING, _O, None),
        ("func", 10, _F.TYPE_MESSAGE, _O, "NameAttrList")],
    "NodeDef.ExperimentalDebugInfo": [
        ("original_node_names", 1, _F.TYPE_STRING, _R, None),
        ("original_func_names", 2, _F.TYPE_STRING, _R, None)],
    "NodeDef": [
        ("name", 1, _F.TYPE_STRING, _O, None), ("op", 2, _F.TYPE_STRING, _O, None),
        ("input", 3, _F.TYPE_STRING, _R, None), ("device", 4, _F.TYPE_STRING, _O, None),
        ("attr", 5, "map", _R, "AttrValue"),
        ("experimental_debug_info", 6, _F.TYPE_MESSAGE, _O, "NodeDef.ExperimentalDebugInfo")],
    "VersionDef": [("producer", 1, _F.TYPE_INT32, _O, None),
                   ("min_consumer", 2, _F.TYPE_INT32, _O, None),
                   ("bad_consumers", 3, _F.TYPE_INT32, _R, None)],
    "OpDef.ArgDef": [
        ("name", 1, _F.TYPE_STRING, _O, None), ("description", 2, _F.TYPE_STRING, _O, None),
        ("type", 3, _F.TYPE_ENUM, _O, "DataType"), ("type_attr", 4, _F.TYPE_STRING, _O, None),
        ("number_attr", 5, _F.TYPE_STRING, _O, None),
        ("type_list_attr", 6, _F.TYPE_STRING, _O, None),
        ("handle_data", 7, _F.TYPE_MESSAGE, _R, "ResourceHandleProto.DtypeAndShape"),
        ("is_ref", 16, _F.TYPE_BOOL, _O, None)],
    "OpDef.AttrDef": [
        ("name", 1, _F.TYPE_STRING, _O, None), ("type", 2, _F.TYPE_STRING, _O, None),
        ("default_value", 3, _F.TYPE_MESSAGE, _O, "AttrValue"),
        ("description", 4, _F.TYPE_STRING, _O, None),
        ("has_minimum", 5, _F.TYPE_BOOL, _O, None), ("minimum", 6, _F.TYPE_INT64, _O, None),
        ("allowed_values", 7, _F.TYPE_MESSAGE, _O, "AttrValue")],
    "OpDef": [
        ("name", 1, _F.TYPE_STRING, _O, None),
        ("input_arg", 2, _F.TYPE_MESSAGE, _R, "OpDef.ArgDef"),
        ("output_arg", 3, _F.TYPE_MESSAGE, _R, "OpDef.ArgDef"),
        ("attr", 4, _F.TYPE_MESSAGE, _R, "OpDef.AttrDef"),
        ("summary", 5, _F.TYPE_STRING, _O, None),
        ("description", 6, _F.TYPE_STRING, _O, None),
        ("is_aggregate", 16, _F.TYPE_BOOL, _O, None),
        ("is_stateful", 17, _F.TYPE_BOOL, _O, None),
        ("is_commutative", 18, _F.TYPE_BOOL, _O, None),
        ("allows_uninitialized_input", 19, _F.TYPE_BOOL, _O, None),
        ("control_output", 20, _F.TYPE_STRING, _R, None)],
    "FunctionDef.ArgAttrs": [("attr", 1, "map", _R, "AttrValue")],
    "FunctionDef": [
        ("signature", 1, _F.TYPE_MESSAGE, _O, "OpDef"),
        ("node_def", 3, _F.TYPE_MESSAGE, _R, "NodeDef"),
        ("ret", 4, "map_ss", _R, None),
        ("attr", 5, "map", _R, "AttrValue"),
        ("control_ret", 6, "map_ss", _R, None),
        ("arg_attr", 7, "map_u32", _R, "FunctionDef.ArgAttrs")],
    "GradientDef": [("function_name", 1, _F.TYPE_STRING, _O, None),
                    ("gradient_func", 2, _F.TYPE_STRING, _O, None)],
    "FunctionDefLibrary": [
        ("function", 1, _F.TYPE_MESSAGE, _R, "FunctionDef"),
        ("gradient", 2, _F.TYPE_MESSAGE, _R, "GradientDef")],
    "GraphDef": [
        ("node", 1, _F.TYPE_MESSAGE, _R, "NodeDef"),
        ("library", 2, _F.TYPE_MESSAGE, _O, "FunctionDefLibrary"),
        ("version", 3, _F.TYPE_INT32, _O, None),
        ("versions", 4, _F.TYPE_MESSAGE, _O, "VersionDef")],
    "MetaGraphDef.MetaInfoDef": [
        ("meta_graph_version", 1, _F.TYPE_STRING, _O, None),
        ("tags", 4, _F.TYPE_STRING, _R, None),
        ("tensorflow_version", 5, _F.TYPE_STRING, _O, None),
        ("tensorflow_git_version", 6, _F.TYPE_STRING, _O, None)],
    "MetaGraphDef": [
        ("meta_info_def", 1, _F.TYPE_MESSAGE, _O, "MetaGraphDef.MetaInfoDef"),
        ("graph_def", 2, _F.TYPE_MESSAGE, _O, "GraphDef")],
    "SavedModel": [
        ("saved_model_schema_version", 1, _F.TYPE_INT64, _O, None),
        ("meta_graphs", 2, _F.TYPE_MESSAGE, _R, "MetaGraphDef")],
    # Event (tensorflow/core/util/event.proto): graph_def holds a serialised GraphDef,
    # meta_graph_def a serialised MetaGraphDef.
    "Event": [
        ("wall_time", 1, _F.TYPE_DOUBLE, _O, None), ("step", 2, _F.TYPE_INT64, _O, None),
        ("file_version", 3, _F.TYPE_STRING, _O, None),
        ("graph_def", 4, _F.TYPE_BYTES, _O, None),
        ("meta_graph_def", 9, _F.TYPE_BYTES, _O, None)],
    # A checkpoint's index (tensorflow/core/protobuf/tensor_bundle.proto): the header under
    # the empty key, then one entry per saved tensor saying where its bytes lie.
    "BundleHeaderProto": [("num_shards", 1, _F.TYPE_INT32, _O, None),
                          ("endianness", 2, _F.TYPE_INT32, _O, None),  # LITTLE = 0, BIG = 1
                          ("version", 3, _F.TYPE_MESSAGE, _O, "VersionDef")],
    "TensorSliceProto.Extent": [("start", 1, _F.TYPE_INT64, _O, None),
                                ("length", 2, _F.TYPE_INT64, _O, None)],
    "TensorSliceProto": [("extent", 1, _F.TYPE_MESSAGE, _R, "TensorSliceProto.Extent")],
    "BundleEntryProto": [
        ("dtype", 1, _F.TYPE_ENUM, _O, "DataType"),
        ("shape", 2, _F.TYPE_MESSAGE, _O, "TensorShapeProto"),
        ("shard_id", 3, _F.TYPE_INT32, _O, None), ("offset", 4, _F.TYPE_INT64, _O, None),
        ("size", 5, _F.TYPE_INT64, _O, None), ("crc32c", 6, _F.TYPE_FIXED32, _O, None),
        ("slices", 7, _F.TYPE_MESSAGE, _R, "TensorSliceProto")],
}


def _build_file() -> descriptor_pb2.FileDescriptorProto:
    file_proto = descriptor_pb2.FileDescriptorProto(
        name="rnngraph/tensorflow_graph.proto", package=_PACKAGE, syntax="proto3")
    enum = file_proto.enum_type.add(name="DataType")
    for name, value in _ALL_DTYPES:
        enum.value.add(name=name, number=value)
    containers: dict[str, descriptor_pb2.DescriptorProto] = {}
    # Parents before nested types: sort by depth.
    for full in sorted(_MESSAGES, key=lambda n: n.count(".")):
        parent, _, short = full.rpartition(".")
        owner = containers[parent].nested_type if parent else file_proto.message_type
        containers[full] = owner.add(name=short)
    for full, fields in _MESSAGES.items():
        message = containers[full]
        for name, number, ftype, label, type_name in fields:
            if ftype in ("map", "map_ss", "map_u32"):
                entry_name = "".join(p.capitalize() for p in name.split("_")) + "Entry"
                entry = message.nested_type.add(name=entry_name)
                entry.options.map_entry = True
                entry.field.add(name="key", number=1, label=_O,
                                type=_F.TYPE_UINT32 if ftype == "map_u32" else _F.TYPE_STRING)
                value = entry.field.add(name="value", number=2, label=_O)
                if ftype in ("map", "map_u32"):
                    value.type = _F.TYPE_MESSAGE
                    value.type_name = f".{_PACKAGE}.{type_name}"
                else:
                    value.type = _F.TYPE_STRING
                message.field.add(name=name, number=number, type=_F.TYPE_MESSAGE, label=_R,
                                  type_name=f".{_PACKAGE}.{full}.{entry_name}")
                continue
            field = message.field.add(name=name, number=number, type=ftype, label=label)
            if type_name:
                field.type_name = f".{_PACKAGE}.{type_name}"
        # One oneof for AttrValue's alternatives, as in TensorFlow.
        if full == "AttrValue":
            message.oneof_decl.add(name="value")
            for field in message.field:
                field.oneof_index = 0
    return file_proto


_POOL = descriptor_pool.DescriptorPool()
_POOL.Add(_build_file())


def _cls(name: str):
    return message_factory.GetMessageClass(_POOL.FindMessageTypeByName(f"{_PACKAGE}.{name}"))


GraphDef = _cls("GraphDef")
NodeDef = _cls("NodeDef")
AttrValue = _cls("AttrValue")
TensorProto = _cls("TensorProto")
MetaGraphDef = _cls("MetaGraphDef")
SavedModel = _cls("SavedModel")
Event = _cls("Event")
BundleHeaderProto = _cls("BundleHeaderProto")
BundleEntryProto = _cls("BundleEntryProto")
