"""``--view layers|ops|linked`` for Keras files: the layer view, the traced op view, or both linked."""

from __future__ import annotations

import importlib.util
from pathlib import Path

__all__ = ["VIEWS", "add_view_option", "op_view", "linked_view", "chosen_view", "keras_lines"]

VIEWS = ("layers", "ops")
LINKED_VIEWS = VIEWS + ("linked",)
_NEEDS_TF = ("the Keras layers' ops need TensorFlow (pip install tensorflow); this page is the "
             "layer view only")


def add_view_option(parser, linked: bool = False) -> None:
    if not linked:
        parser.add_argument("--view", choices=VIEWS, default="layers",
                            help="for a .keras/.h5 file: layers (default; the saved layers and weight "
                                 "shapes, read without TensorFlow) or ops (what TensorFlow builds: Keras "
                                 "loads the file in safe mode and its call is traced; needs TensorFlow)")
        return
    parser.add_argument("--view", choices=LINKED_VIEWS, default=None,
                        help="for a .keras/.h5 file: layers (the saved layers and weight shapes, read "
                             "without TensorFlow), ops (what TensorFlow builds: Keras loads the file in "
                             "safe mode and its call is traced; needs TensorFlow) or linked (an html "
                             "page of the layers, each a closed box that opens to the ops TensorFlow "
                             "builds for it; needs TensorFlow). Default: linked for --render *.html "
                             "where TensorFlow is installed, else layers")


def chosen_view(args, path, fmt) -> str:
    """Return the view to read a Keras file in: ``--view``, else linked for html with TensorFlow."""
    view = getattr(args, "view", None)
    from ..errors import UsageError  # noqa: PLC0415

    if view == "linked" and fmt != "html":
        raise UsageError(f"--view linked draws an html page (--render PAGE.html), not "
                         f"{fmt or 'a summary alone'}")
    if view is not None:
        return view
    if fmt != "html" or not _is_keras_file(path):
        return "layers"
    if importlib.util.find_spec("tensorflow") is None:
        import sys  # noqa: PLC0415

        print(f"rnngraph: {_NEEDS_TF}", file=sys.stderr)
        return "layers"
    return "linked"


def _is_keras_file(path) -> bool:
    from ..graphdef.keras_file import HDF5_SIGNATURE, is_keras_zip  # noqa: PLC0415

    path = Path(path)
    if path.is_dir() or not path.is_file():
        return False
    with open(path, "rb") as handle:
        head = handle.read(8)
    return head.startswith(HDF5_SIGNATURE) or is_keras_zip(head)


def _traced(path, view: str) -> tuple:
    """Return (traced GraphDef, the layer view, the trace report) of a .keras or .h5 file."""
    from ..errors import GraphFileError, UsageError  # noqa: PLC0415
    from ..graphdef import protos  # noqa: PLC0415
    from ..graphdef.loaders import load_keras_model  # noqa: PLC0415
    from ..model.keras_ops import trace_keras_report  # noqa: PLC0415

    path = Path(path)
    if not _is_keras_file(path):
        raise UsageError(f"--view {view} is for Keras files (.keras, .h5); {path} is not one")
    model, _ = load_keras_model(path)
    model.check_safe_to_load()
    if model.form == "weights-h5":
        raise UsageError(f"--view {view} needs the model's config to rebuild it; {path} holds weights only")
    if len(model.inputs) != 1:
        raise UsageError(f"--view {view} traces models with one input; {path} has {len(model.inputs)}")
    graph_def = protos.GraphDef()
    data, report = trace_keras_report(path, model.library)
    try:
        graph_def.ParseFromString(data)
    except Exception as exc:  # noqa: BLE001  protobuf's DecodeError
        raise GraphFileError(f"the graph TensorFlow traced from {path} does not parse ({exc})") from None
    return graph_def, model, report


def op_view(path) -> tuple:
    """Return (GraphDef, "keras-ops", layer view) of a .keras or .h5 file."""
    graph_def, model, _ = _traced(path, "ops")
    return graph_def, "keras-ops", model


def linked_view(path) -> tuple:
    """Return (GraphDef with each op under its Keras layer, "keras-ops", layer view, {new: TF name})."""
    from ..graphdef.keras_groups import group_by_layer  # noqa: PLC0415

    graph_def, model, report = _traced(path, "linked")
    grouped, names = group_by_layer(graph_def, report.get("scopes", {}), model.inputs[0], report.get("ops", {}))
    return grouped, "keras-ops", model, names


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
