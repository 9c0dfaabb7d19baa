"""Read a Keras model file (``.keras`` zip or ``.h5``) without TensorFlow and without running it.

The layer view: every layer of the saved model with its config (units, activations,
``return_sequences``, ``return_state``, ``go_backwards``, ``unroll``, Bidirectional merge,
masking) and the shapes of its weights, read with ``zipfile``, ``json`` and ``h5py`` only.
:func:`keras_graph_def` turns it into a GraphDef whose nodes are the layers (op = the Keras
class, attributes = the config) and their weights (op ``VariableV2`` with dtype and shape),
so ``inspect``, ``render`` and the HTML page draw it like any graph.

Readable forms: Keras 3 and tf_keras ``.keras`` archives (``config.json``, ``metadata.json``,
``model.weights.h5``), full-model ``.h5`` files from Keras 1, 2 and 3 and tf_keras (with the
legacy config names of Keras 1 such as ``output_dim``), and weights-only ``.h5`` files, from
which only layer names and weight shapes can be read.  Hostile files are refused with one
line, in memory and time bounded by the file's real size (see :func:`_check_zip` and
:func:`_Hdf5`).
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from . import protos
from ..errors import GraphFileError

__all__ = ["KerasLayer", "KerasModel", "KerasWeight", "HDF5_SIGNATURE", "is_keras_zip",
           "read_keras_model", "keras_graph_def", "output_shapes", "weight_values", "node_weight_values",
           "RNN_CLASSES"]

HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
RNN_CLASSES = ("LSTM", "GRU", "SimpleRNN", "CuDNNLSTM", "CuDNNGRU")
_CONFIG_LIMIT = 64 << 20  # config.json of a large model is a few hundred KB
_RATIO_LIMIT = 200  # uncompressed / compressed: JSON deflates ~10x; more is a bomb
_MAX_LAYERS = 20_000
_MAX_H5_OBJECTS = 200_000
# Keras' weight order per cell / layer class, for the Keras 3 layout that stores vars/0, vars/1, ...
_VAR_NAMES = {"LSTM": ("kernel", "recurrent_kernel", "bias"),
              "GRU": ("kernel", "recurrent_kernel", "bias"),
              "SimpleRNN": ("kernel", "recurrent_kernel", "bias"),
              "Dense": ("kernel", "bias"), "Embedding": ("embeddings",),
              "Conv1D": ("kernel", "bias")}
# Keras 1 names -> Keras 2/3 names
_LEGACY = {"output_dim": "units", "inner_activation": "recurrent_activation",
           "init": "kernel_initializer", "inner_init": "recurrent_initializer",
           "W_regularizer": "kernel_regularizer", "U_regularizer": "recurrent_regularizer",
           "b_regularizer": "bias_regularizer", "dropout_W": "dropout", "dropout_U": "recurrent_dropout",
           "bias": "use_bias"}
_LEGACY_CLASSES = {"Convolution1D": "Conv1D", "Convolution2D": "Conv2D"}


@dataclass
class KerasWeight:
    """One saved weight: its Keras name (``kernel``), shape, dtype and where it lies in the HDF5."""

    name: str
    shape: tuple
    dtype: str
    path: str


@dataclass
class KerasLayer:
    """One layer as saved: class, normalised config, the layers it reads, its weights."""

    name: str
    class_name: str
    config: dict
    inbound: list = field(default_factory=list)  # [(layer name, output index)]
    weights: list = field(default_factory=list)
    inner: list = field(default_factory=list)  # Bidirectional: forward and backward layers
    module: str = ""
    op: bool = False  # a Keras 3 operation in the functional graph (keras.ops.not_equal ...)

    @property
    def is_rnn(self) -> bool:
        return self.class_name in RNN_CLASSES

    @property
    def is_op(self) -> bool:
        """True for a Keras 3 operation in the functional graph (keras.src.ops.*), not a layer."""
        return self.op


@dataclass
class KerasModel:
    """What a Keras file says about its model, without TensorFlow."""

    path: str
    form: str  # "keras" (zip), "h5" (full model) or "weights-h5"
    keras_version: Optional[str]
    library: str  # "Keras 3", "tf_keras", "Keras 2 (multi-backend)", "Keras 1", "unknown"
    class_name: str
    layers: list
    inputs: list  # layer names
    outputs: list  # [(layer name, output index)]
    input_shapes: dict  # input layer name -> [None, steps, features]
    notes: list = field(default_factory=list)

    def layer(self, name: str) -> KerasLayer:
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise KeyError(name)

    def check_safe_to_load(self) -> None:
        """Refuse, before Keras sees the file, a layer that carries code (Lambda: saved bytecode)."""
        for layer in self.layers:
            for part in [layer] + layer.inner:
                if part.class_name == "Lambda":
                    raise GraphFileError(f"{self.path}: layer {part.name} is a Lambda (Python code saved "
                                         f"in the file); rnngraph does not let Keras load it")

    def recurrent(self) -> list:
        """Return the recurrent layers (a Bidirectional's inner pair counts as its two)."""
        found = []
        for layer in self.layers:
            if layer.is_rnn:
                found.append((layer, None))
            for inner in layer.inner:
                if inner.is_rnn:
                    found.append((inner, layer))
        return found


def _text(value) -> str:
    """Return ``value`` as a str that encodes as UTF-8 (JSON may hold lone surrogates: \\udca7)."""
    return str(value).encode("utf-8", "replace").decode("utf-8")


def _snake(name: str) -> str:
    """Keras' own to_snake_case (the folder names of a Keras 3 weights file)."""
    name = re.sub(r"(.)([A-Z][a-z0-9]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def _library(version: Optional[str], module: str = "") -> str:
    if module.startswith("tf_keras"):
        return "tf_keras"
    if not version:
        return "unknown"
    major = version.split(".")[0]
    if major == "3":
        return "Keras 3"
    if major == "1":
        return "Keras 1"
    if major == "2":
        # Keras 2.0-2.3 ran on several backends and had no api_implements marker; 2.4 and later
        # (and any "-tf" build) are tf.keras.
        try:
            minor = int(version.split(".")[1])
        except (IndexError, ValueError):
            minor = 0
        return "tf_keras" if version.endswith("-tf") or minor >= 4 else "Keras 2 (multi-backend)"
    return "unknown"


# --- archives -----------------------------------------------------------------------------

def is_keras_zip(data: bytes) -> bool:
    return data[:4] == b"PK\x03\x04"


def _check_zip(archive: zipfile.ZipFile, size: int, path) -> None:
    """Refuse member paths outside the archive and sizes the file cannot hold (bombs included)."""
    total = 0
    for info in archive.infolist():
        name = info.filename
        if name.startswith(("/", "\\")) or ".." in re.split(r"[/\\]", name) or ":" in name:
            raise GraphFileError(f"{path} is a zip with a member path outside the archive "
                                 f"({name[:80]!r}); rnngraph reads Keras archives only")
        if info.compress_size > size:
            raise GraphFileError(f"{path}: zip member {name[:80]!r} declares {info.compress_size} "
                                 f"compressed bytes, more than the whole file ({size} bytes)")
        if info.file_size > max(size, 1 << 20) and info.file_size > _RATIO_LIMIT * max(info.compress_size, 1):
            raise GraphFileError(f"{path}: zip member {name[:80]!r} declares {info.file_size} bytes "
                                 f"from {info.compress_size} (a zip bomb?); refused")
        total += info.file_size
    if total > 4 * max(size, 1 << 20) * _RATIO_LIMIT:
        raise GraphFileError(f"{path}: the zip's members declare {total} bytes in all, far more "
                             f"than its {size} bytes can hold; refused")


def _member(archive: zipfile.ZipFile, name: str, limit: int, path) -> bytes:
    """Return a member's bytes, reading at most what it declares (and at most ``limit``)."""
    info = archive.getinfo(name)
    if info.file_size > limit:
        raise GraphFileError(f"{path}: {name} declares {info.file_size} bytes, more than the "
                             f"{limit} rnngraph reads")
    try:
        with archive.open(info) as handle:
            data = handle.read(info.file_size + 1)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError) as exc:
        raise GraphFileError(f"{path}: cannot read {name} from the zip ({exc})") from None
    if len(data) != info.file_size:
        raise GraphFileError(f"{path}: {name} holds {len(data)} bytes, not the {info.file_size} "
                             f"its zip entry declares")
    return data


# --- HDF5 ---------------------------------------------------------------------------------

class _Hdf5:
    """An h5py file opened from memory, walked without following links out of the file."""

    def __init__(self, data: bytes, path):
        try:
            import h5py  # noqa: PLC0415
        except ImportError:  # pragma: no cover - h5py is a dependency
            raise GraphFileError("reading .h5 files needs h5py (pip install h5py)") from None
        self.h5py = h5py
        self.path = path
        self.size = len(data)
        try:
            self.file = h5py.File(io.BytesIO(data), "r")
        except (OSError, ValueError, RuntimeError, OverflowError) as exc:
            raise GraphFileError(f"{path} begins like HDF5 but does not open as HDF5 "
                                 f"({str(exc).splitlines()[0][:120]})") from None
        self.visited = 0

    def attr_text(self, obj, name: str) -> Optional[str]:
        try:
            value = obj.attrs.get(name)
        except (OSError, RuntimeError, ValueError, TypeError, OverflowError):
            return None
        if value is None:
            return None
        if isinstance(value, bytes):
            return value.decode("utf-8", "replace")
        return str(value)

    def attr_list(self, obj, name: str) -> list:
        try:
            value = obj.attrs.get(name)
        except (OSError, RuntimeError, ValueError, TypeError, OverflowError):
            return []
        if value is None:
            return []
        return [v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v) for v in list(value)]

    def child(self, group, name: str):
        """Return a hard-linked child, refusing external and soft links."""
        try:
            link = group.get(name, getlink=True)
        except (OSError, RuntimeError, ValueError, KeyError, TypeError, OverflowError):
            return None
        if link is None:
            return None
        if isinstance(link, self.h5py.ExternalLink):
            raise GraphFileError(f"{self.path}: HDF5 object {group.name}/{name} is an external link "
                                 f"to {link.filename!r}; rnngraph reads nothing outside the file")
        if isinstance(link, self.h5py.SoftLink):
            return None  # a soft link can point anywhere, cycles included; Keras writes none
        try:
            return group[name]
        except (OSError, RuntimeError, ValueError, KeyError, TypeError, OverflowError):
            return None

    def datasets(self, group, prefix: str = "") -> list:
        """Return [(relative path, dataset)] under ``group``, depth first, sorted by name."""
        found = []
        try:
            names = sorted(group.keys())
        except (OSError, RuntimeError, ValueError, TypeError, OverflowError):
            return found
        for name in names:
            self.visited += 1
            if self.visited > _MAX_H5_OBJECTS:
                raise GraphFileError(f"{self.path} holds more than {_MAX_H5_OBJECTS} HDF5 objects; refused")
            obj = self.child(group, name)
            if obj is None:
                continue
            rel = f"{prefix}{name}"
            if isinstance(obj, self.h5py.Dataset):
                self.check_dataset(obj)
                found.append((rel, obj))
            elif isinstance(obj, self.h5py.Group):
                found.extend(self.datasets(obj, rel + "/"))
        return found

    def check_dataset(self, ds) -> None:
        """Refuse virtual and external datasets and ones declaring more than the file holds."""
        try:
            virtual = ds.is_virtual
            external = ds.external
            nbytes = int(ds.size) * ds.dtype.itemsize if ds.shape is not None else 0
            filtered = bool(ds.compression) or bool(ds.id.get_create_plist().get_nfilters())
        except (OSError, RuntimeError, ValueError, TypeError, OverflowError) as exc:
            raise GraphFileError(f"{self.path}: HDF5 dataset {ds.name} cannot be read "
                                 f"({str(exc).splitlines()[0][:100]})") from None
        if virtual:
            raise GraphFileError(f"{self.path}: HDF5 dataset {ds.name} is a virtual dataset mapping "
                                 f"other files; rnngraph reads nothing outside the file")
        if external:
            raise GraphFileError(f"{self.path}: HDF5 dataset {ds.name} keeps its data in external "
                                 f"file(s); rnngraph reads nothing outside the file")
        limit = self.size * (_RATIO_LIMIT if filtered else 1)
        if nbytes > max(limit, 1024):
            raise GraphFileError(f"{self.path}: HDF5 dataset {ds.name} declares {nbytes} bytes, far "
                                 f"more than the file's {self.size} bytes hold; refused")

    def shape_of(self, ds) -> tuple:
        return tuple(int(d) for d in (ds.shape or ()))


def _dtype_name(ds) -> str:
    try:
        return str(ds.dtype)
    except (TypeError, ValueError):
        return "unknown"


# --- config -------------------------------------------------------------------------------

def _json(text, what: str, path) -> dict:
    try:
        value = json.loads(text)
        dumped = json.dumps(value, ensure_ascii=False)
        try:
            dumped.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate ("\udca7" is valid JSON): no name may hold one
            value = json.loads(dumped.encode("utf-8", "replace").decode("utf-8"))
    except (ValueError, RecursionError) as exc:
        raise GraphFileError(f"{path}: {what} is not JSON ({str(exc)[:100]})") from None
    if not isinstance(value, dict):
        raise GraphFileError(f"{path}: {what} is JSON but not an object describing a model")
    return value


def _act(value) -> Optional[str]:
    """Return an activation's name whether saved as a string or a serialized object."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, dict):
        inner = value.get("config")
        if isinstance(inner, dict) and isinstance(inner.get("name"), str) and \
                value.get("class_name") == "function":
            return inner["name"]
        name = value.get("class_name")
        return name if isinstance(name, str) else None
    return str(value)


def _normalise(class_name: str, config: dict) -> dict:
    """Return the layer config with Keras 1 names mapped to today's and activations as names."""
    config = dict(config)
    for old, new in _LEGACY.items():
        if old == "output_dim" and class_name == "Embedding":  # Embedding still calls it output_dim
            continue
        if old in config and new not in config:
            config[new] = config.pop(old)
    for key in ("activation", "recurrent_activation"):
        if key in config:
            config[key] = _act(config[key])
    if class_name in RNN_CLASSES:
        config.setdefault("return_sequences", False)
        config.setdefault("return_state", False)
        config.setdefault("go_backwards", False)
        config.setdefault("stateful", False)
        config.setdefault("unroll", False)
    return config


_KNOWN_PREFIXES = ("keras", "tf_keras", "tensorflow")


def _known(entry: dict) -> bool:
    """True for a class Keras itself registers (modules keras.*, or none in old files)."""
    module = entry.get("module")
    registered = entry.get("registered_name")
    if isinstance(registered, str) and ">" in registered:
        return False
    return module is None or (isinstance(module, str) and module.split(".")[0] in _KNOWN_PREFIXES)


def _inbound(entry: dict) -> list:
    """Return [(layer, output index)] a layer reads, from any Keras version's inbound_nodes."""
    found = []
    nodes = entry.get("inbound_nodes") or []
    if not isinstance(nodes, list):
        return found
    for node in nodes[:1]:  # the first call is the model's graph; shared layers are rare here
        if isinstance(node, list):  # Keras 1/2, tf_keras: [[name, node, tensor, kwargs], ...]
            for item in node:
                if isinstance(item, list) and item and isinstance(item[0], str):
                    index = item[2] if len(item) > 2 and isinstance(item[2], int) else 0
                    found.append((item[0], index))
        elif isinstance(node, dict):  # Keras 3: {"args": [...keras tensors...], "kwargs": {...}}
            def tensors(value):
                if isinstance(value, dict):
                    if value.get("class_name") == "__keras_tensor__":
                        config = value.get("config")
                        history = config.get("keras_history") if isinstance(config, dict) else None
                        if isinstance(history, list) and history and isinstance(history[0], str):
                            yield history[0], history[2] if len(history) > 2 and isinstance(
                                history[2], int) else 0
                        return
                    for v in value.values():
                        yield from tensors(v)
                elif isinstance(value, list):
                    for v in value:
                        yield from tensors(v)
            found.extend(tensors(node.get("args", [])))
    return found


def _layer(entry, path) -> KerasLayer:
    if not isinstance(entry, dict) or not isinstance(entry.get("class_name"), str):
        raise GraphFileError(f"{path}: a layer entry of model_config has no class_name")
    class_name = _text(_LEGACY_CLASSES.get(entry["class_name"], entry["class_name"]))
    if not _known(entry):
        raise GraphFileError(f"{path}: layer class {class_name!r} ({entry.get('registered_name') or entry.get('module')}) "
                             f"is not one of Keras' own; rnngraph reads only Keras' registered classes")
    config = entry.get("config") if isinstance(entry.get("config"), dict) else {}
    name = config.get("name") or entry.get("name") or class_name.lower()
    layer = KerasLayer(name=_text(name), class_name=class_name, config=_normalise(class_name, config),
                       inbound=_inbound(entry), module=str(entry.get("module") or ""))
    # Keras 3 saves operations (keras.ops.*) beside layers; a layer's config always has "trainable"
    layer.op = ".ops." in layer.module or ("trainable" not in config and class_name != "InputLayer"
                                           and isinstance(entry.get("inbound_nodes"), list)
                                           and any(isinstance(n, dict) for n in entry["inbound_nodes"]))
    if class_name == "Bidirectional":
        forward = config.get("layer")
        if isinstance(forward, dict):
            fw = _layer(forward, path)
            fw.name = f"forward_{fw.name}" if not fw.name.startswith("forward_") else fw.name
            backward = config.get("backward_layer")
            if isinstance(backward, dict):
                bw = _layer(backward, path)
            else:
                bw = KerasLayer(name=fw.name.replace("forward_", "backward_", 1), class_name=fw.class_name,
                                config=dict(fw.config, go_backwards=not fw.config.get("go_backwards")))
            layer.inner = [fw, bw]
    elif class_name == "TimeDistributed" and isinstance(config.get("layer"), dict):
        layer.inner = [_layer(config["layer"], path)]
    return layer


def _model_from_config(config: dict, path) -> tuple:
    """Return (class name, layers, inputs, outputs) of a Sequential or functional model config."""
    class_name = str(config.get("class_name", ""))
    inner = config.get("config")
    if isinstance(inner, list):  # Keras 1/2.0 Sequential: the config is the layer list
        entries, inner = inner, {}
    elif isinstance(inner, dict):
        entries = inner.get("layers")
    else:
        entries = None
    if not isinstance(entries, list):
        raise GraphFileError(f"{path}: model_config names class {class_name or '?'} but lists no layers; "
                             f"rnngraph reads Sequential and functional Keras models")
    if len(entries) > _MAX_LAYERS:
        raise GraphFileError(f"{path}: the model lists {len(entries)} layers, more than {_MAX_LAYERS}")
    if class_name not in ("Sequential", "Functional", "Model"):
        raise GraphFileError(f"{path}: the model's class {class_name!r} is not Sequential or a "
                             f"functional Model; a subclassed model's layers are not in its config")
    layers = [_layer(e, path) for e in entries]
    if not layers:
        raise GraphFileError(f"{path}: the model's config lists no layers")
    names = [layer.name for layer in layers]
    if class_name == "Sequential":
        if not layers or layers[0].class_name != "InputLayer":
            shape = layers[0].config.get("batch_input_shape") or layers[0].config.get("batch_shape") \
                if layers else None
            if shape is None and layers and layers[0].config.get("input_dim") is not None:
                shape = [None, layers[0].config.get("input_length"), layers[0].config["input_dim"]]
            layers.insert(0, KerasLayer(name="input", class_name="InputLayer",
                                        config={"batch_shape": shape}))
        for before, layer in zip(layers, layers[1:]):
            layer.inbound = [(before.name, 0)]
        inputs, outputs = [layers[0].name], [(layers[-1].name, 0)]
    else:
        def refs(value):
            found = []
            if isinstance(value, list) and value and isinstance(value[0], str):
                return [(value[0], value[2] if len(value) > 2 and isinstance(value[2], int) else 0)]
            if isinstance(value, list):
                for v in value:
                    found.extend(refs(v))
            return found
        inputs = [n for n, _ in refs(inner.get("input_layers"))] or \
            [layer.name for layer in layers if layer.class_name == "InputLayer"]
        outputs = refs(inner.get("output_layers")) or [(names[-1], 0)]
    known = set(names) | {layer.name for layer in layers}
    for layer in layers:
        layer.inbound = [(n, i) for n, i in layer.inbound if n in known]
    outputs = [(n, i) for n, i in outputs if n in known] or [(layers[-1].name, 0)]
    inputs = [n for n in inputs if n in known]
    shapes = {}
    for layer in layers:
        if layer.class_name == "InputLayer":
            shape = layer.config.get("batch_shape") or layer.config.get("batch_input_shape")
            if isinstance(shape, list):
                shapes[layer.name] = [d if isinstance(d, int) else None for d in shape]
    return class_name, layers, inputs, outputs, shapes


# --- weights ------------------------------------------------------------------------------

def _weights_keras3(h5: _Hdf5, layers: list) -> None:
    """Fill the weights of a Keras 3 layout (layers/<snake class>[_k]/.../vars/i)."""
    root = h5.child(h5.file, "layers")
    if root is None:
        return
    used: dict = {}
    for layer in layers:
        folder = _snake(layer.class_name)
        if folder in used:
            used[folder] += 1
            folder = f"{folder}_{used[folder]}"
        else:
            used[folder] = 0
        group = h5.child(root, folder)
        if group is None:
            continue
        per_part: dict = {}
        for rel, ds in h5.datasets(group):
            parts = rel.split("/")
            owner = layer
            if parts[0] in ("forward_layer", "backward_layer") and layer.inner:
                owner = layer.inner[0 if parts[0] == "forward_layer" else 1]
            elif parts[0] == "layer" and layer.inner:
                owner = layer.inner[0]
            names = _VAR_NAMES.get(owner.class_name, ())
            index = int(parts[-1]) if parts[-1].isdigit() else None
            name = names[index] if index is not None and index < len(names) and parts[-2] == "vars" \
                else rel
            per_part.setdefault(id(owner), (owner, []))[1].append(
                KerasWeight(name, h5.shape_of(ds), _dtype_name(ds), f"{group.name}/{rel}"))
        for owner, weights in per_part.values():
            owner.weights = weights


def _short_weight(name: str) -> str:
    """``lstm_1/lstm_cell/kernel:0`` -> ``kernel`` (Keras 1: ``lstm_1_W`` -> ``lstm_1_W``)."""
    return name.split("/")[-1].split(":")[0]


def _weights_legacy(h5: _Hdf5, group, layers: list) -> list:
    """Fill weights from a Keras 1/2/tf_keras layout (a group per layer with weight_names)."""
    by_name = {layer.name: layer for layer in layers}
    found_layers = []
    for layer_name in h5.attr_list(group, "layer_names"):
        sub = h5.child(group, layer_name)
        if sub is None:
            continue
        layer = by_name.get(layer_name)
        if layer is None:  # weights-only file: the layer is known only by name
            layer = KerasLayer(name=layer_name, class_name="Layer", config={})
            by_name[layer_name] = layer
            found_layers.append(layer)
        datasets = dict(h5.datasets(sub))
        for weight in h5.attr_list(sub, "weight_names"):
            ds = datasets.get(weight)
            if ds is None:
                continue
            owner = layer
            if layer.inner:
                parts = weight.split("/")
                if any(p.startswith("backward") for p in parts):
                    owner = layer.inner[-1]
                elif any(p.startswith("forward") for p in parts) or len(layer.inner) == 1:
                    owner = layer.inner[0]
            owner.weights.append(KerasWeight(_short_weight(weight), h5.shape_of(ds), _dtype_name(ds),
                                             f"{sub.name}/{weight}"))
    return found_layers


def _guess_class(layer: KerasLayer) -> None:
    """Name a weights-only layer's kind from its weight names and shapes (never from its name)."""
    names = {w.name for w in layer.weights}
    if {"kernel", "recurrent_kernel"} <= names:
        kernel = next(w for w in layer.weights if w.name == "recurrent_kernel")
        units = kernel.shape[0] if kernel.shape else 0
        blocks = kernel.shape[1] // units if len(kernel.shape) == 2 and units else 0
        layer.class_name = {4: "LSTM", 3: "GRU", 1: "SimpleRNN"}.get(blocks, "Layer")
        if layer.class_name != "Layer":
            layer.config = _normalise(layer.class_name, {"units": units})
            layer.config["weights_only"] = True
    elif names == {"kernel", "bias"} or names == {"kernel"}:
        layer.class_name = "Dense"


def _weights_only_keras3(h5: _Hdf5, path) -> list:
    """Layers of a Keras 3 ``*.weights.h5`` (no config): folder names and weight shapes."""
    layers = []
    root = h5.child(h5.file, "layers")
    if root is None:
        return layers
    for folder in sorted(root.keys()):
        group = h5.child(root, folder)
        if group is None:
            continue
        layer = KerasLayer(name=folder, class_name="Layer", config={})
        for rel, ds in h5.datasets(group):
            layer.weights.append(KerasWeight(rel, h5.shape_of(ds), _dtype_name(ds), f"{group.name}/{rel}"))
        if layer.weights:
            shapes = [w.shape for w in layer.weights]
            if len(shapes) >= 3 and len(shapes[1]) == 2 and shapes[1][0] and shapes[1][1] % shapes[1][0] == 0:
                blocks = shapes[1][1] // shapes[1][0]
                kind = {4: "LSTM", 3: "GRU", 1: "SimpleRNN"}.get(blocks)
                if kind:
                    layer.class_name = kind
                    names = _VAR_NAMES[kind]
                    for k, w in enumerate(layer.weights[:3]):
                        w.name = names[k]
                    layer.config = _normalise(kind, {"units": shapes[1][0], "weights_only": True})
        layers.append(layer)
    return layers


# --- entry points -------------------------------------------------------------------------

# HDF5's C library can loop for ever on a damaged file (a fuzzed .h5 spun in attrs.get for more
# than 100 s): no Python code can interrupt it, so HDF5 is read in a forked child, given this
# long plus a second per MiB of the file, and killed past it.
_HDF5_SECONDS = 20.0


def _bounded(fn, path, data: bytes, *args):
    """Return ``fn(path, data, *args)`` computed in a forked child within the HDF5 time limit."""
    return hdf5_bounded(lambda: fn(path, data, *args), path, len(data))


def hdf5_bounded(call, path, size: int):
    """Return ``call()``, which reads HDF5 from ``path`` (``size`` bytes), computed in a forked
    child: past the time limit the child is killed and one line says so."""
    import multiprocessing  # noqa: PLC0415
    import os  # noqa: PLC0415

    if "fork" not in multiprocessing.get_all_start_methods():  # pragma: no cover - not Linux
        return call()
    try:
        import h5py  # noqa: F401, PLC0415 - imported here, so the child does not import it
    except ImportError:  # pragma: no cover - h5py is a dependency
        raise GraphFileError("reading .h5 files needs h5py (pip install h5py)") from None
    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)

    def child() -> None:
        try:
            result = ("ok", call())
        except GraphFileError as exc:
            result = ("refused", str(exc))
        except BaseException as exc:  # noqa: BLE001 - handed to the parent, which raises it
            result = ("crash", f"{type(exc).__name__}: {exc}")
        try:
            send.send(result)
        finally:
            os._exit(0)

    process = context.Process(target=child, daemon=True)
    process.start()
    send.close()
    limit = _HDF5_SECONDS + size / 2**20
    try:
        if not receive.poll(limit):
            raise GraphFileError(f"{path}: its HDF5 did not read in {limit:.0f} s (a damaged file "
                                 "on which HDF5's library does not stop); stopped")
        kind, value = receive.recv()
    except EOFError:
        raise GraphFileError(f"{path}: reading its HDF5 stopped (out of memory?)") from None
    finally:
        process.kill()
        process.join()
        receive.close()
    if kind == "refused":
        raise GraphFileError(value)
    if kind == "crash":
        raise RuntimeError(value)  # a bug of rnngraph's, as it would have been raised here
    return value


def read_keras_model(path, data: bytes) -> KerasModel:
    """Return the layer view of a ``.keras`` archive or an ``.h5`` file given as ``data``."""
    if is_keras_zip(data):
        return _bounded(_read_zip, path, data)
    if data.startswith(HDF5_SIGNATURE):
        return _bounded(_read_h5, path, data)
    raise GraphFileError(f"{path} is neither a Keras archive (zip) nor HDF5")


def _read_zip(path, data: bytes) -> KerasModel:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise GraphFileError(f"{path} begins like a zip but is not one ({exc})") from None
    _check_zip(archive, len(data), path)
    names = set(archive.namelist())
    if "config.json" not in names:
        listed = ", ".join(sorted(names)[:5]) or "nothing"
        raise GraphFileError(f"{path} is a zip but not a Keras archive (no config.json; it holds "
                             f"{listed}); rnngraph reads .keras files saved by model.save")
    config = _json(_member(archive, "config.json", _CONFIG_LIMIT, path).decode("utf-8", "replace"),
                   "config.json", path)
    version = None
    if "metadata.json" in names:
        meta = _json(_member(archive, "metadata.json", 1 << 20, path).decode("utf-8", "replace"),
                     "metadata.json", path)
        version = meta.get("keras_version") if isinstance(meta.get("keras_version"), str) else None
    class_name, layers, inputs, outputs, shapes = _model_from_config(config, path)
    model = KerasModel(str(path), "keras", version, _library(version, str(config.get("module") or "")),
                       class_name, layers, inputs, outputs, shapes)
    if "model.weights.h5" in names:
        blob = _member(archive, "model.weights.h5", len(data) * _RATIO_LIMIT, path)
        if not blob.startswith(HDF5_SIGNATURE):
            raise GraphFileError(f"{path}: model.weights.h5 in the archive is not HDF5")
        _weights_keras3(_Hdf5(blob, path), layers)
    else:
        model.notes.append("the archive holds no model.weights.h5: weight shapes unknown")
    return model


def _read_h5(path, data: bytes) -> KerasModel:
    h5 = _Hdf5(data, path)
    text = h5.attr_text(h5.file, "model_config")
    version = h5.attr_text(h5.file, "keras_version")
    if text is not None:
        config = _json(text, "the model_config attribute", path)
        class_name, layers, inputs, outputs, shapes = _model_from_config(config, path)
        model = KerasModel(str(path), "h5", version, _library(version, str(config.get("module") or "")),
                           class_name, layers, inputs, outputs, shapes)
        group = h5.child(h5.file, "model_weights")
        if group is not None:
            version = version or h5.attr_text(group, "keras_version")
            _weights_legacy(h5, group, layers)
        return model
    if h5.attr_list(h5.file, "layer_names"):  # Keras 1/2 save_weights
        layers = _weights_legacy(h5, h5.file, [])
        for layer in layers:
            _guess_class(layer)
    elif h5.child(h5.file, "layers") is not None:  # Keras 3 save_weights
        layers = _weights_only_keras3(h5, path)
    else:
        raise GraphFileError(f"{path} is HDF5 but holds no Keras model (no model_config attribute, "
                             f"no layer_names, no layers group); rnngraph reads Keras .h5 files")
    if not layers:
        raise GraphFileError(f"{path} is a Keras weights file without layers")
    for before, layer in zip(layers, layers[1:]):
        layer.inbound = [(before.name, 0)]
    model = KerasModel(str(path), "weights-h5", version, _library(version), "weights", layers,
                       [layers[0].name], [(layers[-1].name, 0)], {})
    model.notes.append("a weights-only file: layer names and weight shapes are read; the model's "
                       "config (and so how the layers connect) is not in it, so they are drawn in "
                       "the file's order and the kinds are read from the weight shapes")
    return model


def _weights_file(path, data: bytes) -> "_Hdf5":
    """Return the HDF5 file holding the weights (a .keras zip's model.weights.h5, or the .h5)."""
    if is_keras_zip(data):
        archive = zipfile.ZipFile(io.BytesIO(data))
        _check_zip(archive, len(data), path)
        return _Hdf5(_member(archive, "model.weights.h5", len(data) * _RATIO_LIMIT, path), path)
    return _Hdf5(data, path)


def _weight_array(h5: "_Hdf5", weight: KerasWeight, path):
    """Return one weight's values as float32 (None when the file has no dataset there)."""
    import numpy as np  # noqa: PLC0415

    obj = h5.file.get(weight.path)
    if obj is None or not isinstance(obj, h5.h5py.Dataset):
        return None
    h5.check_dataset(obj)
    try:
        return np.asarray(obj[()], np.float32)
    except (OSError, RuntimeError, ValueError, TypeError, OverflowError) as exc:
        raise GraphFileError(f"{path}: cannot read weight {weight.path} ({exc})") from None


def weight_values(path, data: bytes, model: KerasModel) -> dict:
    """Return {layer name: {weight name: numpy array}} for the recurrent layers (bounded reads)."""
    return _bounded(_weight_values, path, data, model)


def _weight_values(path, data: bytes, model: KerasModel) -> dict:
    h5 = _weights_file(path, data)
    values = {}
    for layer, _ in model.recurrent():
        for weight in layer.weights:
            value = _weight_array(h5, weight, path)
            if value is not None:
                values.setdefault(layer.name, {})[weight.name] = value
    return values


def node_weight_values(path, data: bytes, model: KerasModel) -> dict:
    """Return {weight node of :func:`keras_graph_def`: numpy array} of every layer's weights."""
    return _bounded(_node_weight_values, path, data, model)


def _node_weight_values(path, data: bytes, model: KerasModel) -> dict:
    h5 = _weights_file(path, data)
    values = {}
    for layer in model.layers:
        owners = [(layer, layer.name)] + [(inner, f"{layer.name}/{inner.name}") for inner in layer.inner]
        for owner, node in owners:
            for weight in owner.weights:
                value = _weight_array(h5, weight, path)
                if value is not None:
                    values[f"{node}/{weight.name}"] = value
    return values


# --- GraphDef -----------------------------------------------------------------------------

_INT64 = range(-(2**63), 2**63)


def _set_attr(attr, value) -> bool:
    if isinstance(value, bool):
        attr.b = value
    elif isinstance(value, int) and value in _INT64:
        attr.i = value
    elif isinstance(value, int):  # a config may hold any JSON number; an attribute holds int64
        attr.s = str(value).encode()
    elif isinstance(value, float):
        attr.f = value
    elif isinstance(value, str):
        attr.s = value.encode("utf-8", "replace")[:1024]
    elif isinstance(value, list) and all(isinstance(v, int) and not isinstance(v, bool) and v in _INT64
                                         or v is None for v in value):
        for v in value:
            attr.list.i.append(-1 if v is None else v)
    elif isinstance(value, dict) and isinstance(value.get("class_name"), str):
        attr.s = value["class_name"].encode("utf-8", "replace")  # an initializer, regularizer or dtype policy
    else:
        return False
    return True


_SKIP = {"name", "trainable", "layer", "backward_layer", "dtype", "batch_shape", "batch_input_shape"}


_SAME_SHAPE = ("Masking", "Dropout", "SpatialDropout1D", "Activation", "BatchNormalization",
               "LayerNormalization", "GaussianNoise")


def _rnn_shapes(layer: KerasLayer, shape: list, units: int) -> list:
    out = shape[:2] + [units] if layer.config.get("return_sequences") else [shape[0], units]
    states = {"LSTM": 2, "CuDNNLSTM": 2}.get(layer.class_name, 1) if layer.config.get("return_state") else 0
    return [out] + [[shape[0], layer.config.get("units")]] * states


def output_shapes(model: KerasModel) -> dict:
    """Return {layer name: [shape of each output]} from the saved input shapes and configs.

    Only the layers whose rule is known (inputs, recurrent layers, Bidirectional, Dense,
    Embedding, TimeDistributed(Dense) and shape-keeping layers) get shapes; None is unknown.
    """
    shapes: dict = {}
    for layer in model.layers:
        if layer.class_name == "InputLayer":
            shape = model.input_shapes.get(layer.name)
            shapes[layer.name] = [list(shape)] if shape else None
            continue
        ins = [shapes.get(n) for n, _ in layer.inbound]
        first = ins[0][layer.inbound[0][1]] if ins and ins[0] and layer.inbound[0][1] < len(ins[0]) else None
        units = layer.config.get("units")
        result = None
        if first is None or not isinstance(first, list):
            result = None
        elif layer.is_rnn and len(first) == 3 and isinstance(units, int):
            result = _rnn_shapes(layer, first, units)
        elif layer.class_name == "Bidirectional" and len(first) == 3 and len(layer.inner) == 2 \
                and isinstance(layer.inner[0].config.get("units"), int):
            inner = layer.inner[0]
            n = inner.config["units"]
            mode = layer.config.get("merge_mode")
            out = _rnn_shapes(inner, first, 2 * n if mode == "concat" else n)
            result = ([out[0]] * (1 if mode else 2)) + out[1:] * 2
        elif layer.class_name == "Dense" and isinstance(units, int):
            result = [first[:-1] + [units]]
        elif layer.class_name == "Embedding" and isinstance(layer.config.get("output_dim"), int):
            result = [first + [layer.config["output_dim"]]]
        elif layer.class_name == "TimeDistributed" and layer.inner and layer.inner[0].class_name == "Dense" \
                and isinstance(layer.inner[0].config.get("units"), int):
            result = [first[:-1] + [layer.inner[0].config["units"]]]
        elif layer.class_name in _SAME_SHAPE:
            result = [first]
        shapes[layer.name] = result
    return {name: value for name, value in shapes.items() if value}


def keras_graph_def(model: KerasModel):
    """Return the layer view as a GraphDef: one node per layer, one per weight."""
    graph = protos.GraphDef()

    def add(layer: KerasLayer, name: str, inputs: list):
        node = graph.node.add()
        node.name = name
        node.op = layer.class_name
        node.input.extend(inputs)
        for key, value in sorted(layer.config.items()):
            if key in _SKIP or value is None:
                continue
            _set_attr(node.attr[key], value)
        shape = layer.config.get("batch_shape") or layer.config.get("batch_input_shape")
        if layer.class_name == "InputLayer" and isinstance(shape, list):
            for d in shape:
                node.attr["shape"].shape.dim.add().size = d if isinstance(d, int) else -1
            node.attr["_output_shapes"].list.shape.add().CopyFrom(node.attr["shape"].shape)
            node.attr["dtype"].type = protos.DTYPE_ENUM["DT_FLOAT"]
        for weight in layer.weights:
            var = graph.node.add()
            var.name = f"{name}/{weight.name}"
            var.op = "VariableV2"
            var.attr["dtype"].type = protos.DTYPE_ENUM.get(
                {"float32": "DT_FLOAT", "float64": "DT_DOUBLE", "float16": "DT_HALF"}.get(weight.dtype, ""),
                protos.DTYPE_ENUM["DT_FLOAT"])
            for d in weight.shape:
                var.attr["shape"].shape.dim.add().size = d
            var.attr["_output_shapes"].list.shape.add().CopyFrom(var.attr["shape"].shape)
            node.input.append(var.name)
        return node

    def ref(name: str, index: int) -> str:
        return name if index == 0 else f"{name}:{index}"

    shapes = output_shapes(model)
    for layer in model.layers:
        inputs = [ref(n, i) for n, i in layer.inbound]
        if layer.inner and layer.class_name == "Bidirectional":
            parts = [add(inner, f"{layer.name}/{inner.name}", inputs).name for inner in layer.inner]
            add(layer, layer.name, parts)
        elif layer.inner:
            add(layer.inner[0], f"{layer.name}/{layer.inner[0].name}", [])
            add(layer, layer.name, inputs + [f"{layer.name}/{layer.inner[0].name}"])
        else:
            add(layer, layer.name, inputs)
        node = next(n for n in reversed(graph.node) if n.name == layer.name)
        if layer.name in shapes and layer.class_name != "InputLayer":
            for shape in shapes[layer.name]:
                proto = node.attr["_output_shapes"].list.shape.add()
                for d in shape:
                    proto.dim.add().size = d if isinstance(d, int) and d in _INT64 else -1
    for k, (name, index) in enumerate(model.outputs):
        node = graph.node.add()
        node.name = f"output_{k}" if len(model.outputs) > 1 else "output"
        node.op = "Identity"
        node.input.append(ref(name, index))
    return graph
