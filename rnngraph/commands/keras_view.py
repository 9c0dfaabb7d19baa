"""``--view layers|ops`` for Keras files: the layer view (no TensorFlow) or the traced op view."""

from __future__ import annotations

from pathlib import Path

__all__ = ["VIEWS", "add_view_option", "op_view", "keras_lines"]

VIEWS = ("layers", "ops")


def add_view_option(parser) -> None:
    parser.add_argument("--view", choices=VIEWS, default="layers",
                        help="for a .keras/.h5 file: layers (default; the saved layers and weight "
                             "shapes, read without TensorFlow) or ops (what TensorFlow builds: Keras "
                             "loads the file in safe mode and its call is traced; needs TensorFlow)")


def op_view(path) -> tuple:
    """Return (GraphDef, "keras-ops", layer view) of a .keras or .h5 file."""
    from ..errors import GraphFileError, UsageError  # noqa: PLC0415
    from ..graphdef import protos  # noqa: PLC0415
    from ..graphdef.keras_file import HDF5_SIGNATURE, is_keras_zip
    from ..graphdef.loaders import load_keras_model  # noqa: PLC0415
    from ..model.keras_ops import trace_keras  # noqa: PLC0415

    path = Path(path)
    if path.is_dir() or not path.is_file():
        raise UsageError(f"--view ops is for Keras files (.keras, .h5); {path} is not one")
    with open(path, "rb") as handle:
        head = handle.read(8)
    if not (head.startswith(HDF5_SIGNATURE) or is_keras_zip(head)):
        raise UsageError(f"--view ops is for Keras files (.keras, .h5); {path} is not one")
    model, _ = load_keras_model(path)
    model.check_safe_to_load()
    if model.form == "weights-h5":
        raise UsageError(f"--view ops needs the model's config to rebuild it; {path} holds weights only")
    if len(model.inputs) != 1:
        raise UsageError(f"--view ops traces models with one input; {path} has {len(model.inputs)}")
    graph_def = protos.GraphDef()
    try:
        graph_def.ParseFromString(trace_keras(path, model.library))
    except GraphFileError:
        raise
    except Exception as exc:  # noqa: BLE001  protobuf's DecodeError
        raise GraphFileError(f"the graph TensorFlow traced from {path} does not parse ({exc})") from None
    return graph_def, "keras-ops", model


def keras_lines(path, kind: str, found, model=None) -> list:
    """Return the summary lines that tie a Keras file's cells or layers to its Keras layers."""
    from ..graphdef.loaders import load_keras_model  # noqa: PLC0415
    from ..recognise.keras_link import link_cells  # noqa: PLC0415

    if model is None:
        model, _ = load_keras_model(path)
    rnns = model.recurrent()
    lines = [f"keras: {model.form} file by {model.library}" + (f" {model.keras_version}" if model.keras_version
                                                               else "") + f", {len(model.layers)} layers"]
    if kind == "keras-ops":
        links = link_cells(found.cells, model)
        lines.append(f"cells ← Keras layers ({len(links)} of {len(rnns)} recurrent layers):")
        lines += [f"  {scope} ← {layer}" for scope, layer in sorted(links.items())]
        return lines
    lines.append(f"recurrent layers ({len(rnns)}):")
    for layer, wrapper in rnns:
        c = layer.config
        flags = " ".join(k for k in ("return_sequences", "return_state", "go_backwards", "stateful", "unroll")
                         if c.get(k))
        shapes = ", ".join(f"{w.name} {'×'.join(map(str, w.shape))}" for w in layer.weights)
        lines.append(f"  {(wrapper.name + '/') if wrapper else ''}{layer.name}: {layer.class_name}({c.get('units')}"
                     f"{', ' + c['activation'] if c.get('activation') else ''}){' ' + flags if flags else ''}"
                     f"{' [' + shapes + ']' if shapes else ''}")
    return lines
