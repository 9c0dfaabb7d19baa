"""The weights a model file holds, keyed by the node that stands for them, for ``diff``.

One reader per kind of file :func:`rnngraph.graphdef.loaders.load_graph_def`
reads: a frozen GraphDef's float constants, a SavedModel's checkpoint (by the
variables its restore code assigns; a TF1 saver's ``model.ckpt.meta`` likewise, with the
``model.ckpt.index`` beside it), a Keras file's weight datasets (by the
weight nodes of its layer view) and a LiteRT flatbuffer's constant buffers
(quantised integers dequantised with their scale and zero point).  A graph
with variables but no checkpoint holds only their initialisers: no values.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from . import tflite
from .values import float_constants

__all__ = ["FileWeights", "file_weights", "graph_weights"]

_VARIABLE_OPS = {"VariableV2", "Variable", "VarHandleOp", "VariableV3"}


@dataclass
class FileWeights:
    """The values one file holds: {node name: array}, where they come from, and notes."""

    values: dict
    source: str
    notes: list = field(default_factory=list)


def _frozen(graph_def) -> bool:
    """True if the weights are constants in the graph (no variable op anywhere): a frozen graph."""
    if any(n.op in _VARIABLE_OPS for n in graph_def.node):
        return False
    return not any(n.op in _VARIABLE_OPS for f in graph_def.library.function for n in f.node_def)


def file_weights(path, kind: str, graph_def, graph) -> Optional[FileWeights]:
    """Return the weights the file ``path`` (of :data:`loaders.KINDS` ``kind``) holds, or None.

    ``graph`` is :func:`walk`'s graph of ``graph_def``: a .tflite file's constants inside
    function bodies (a while loop's) are keyed as its expanded nodes are.

    None when the file holds no values: a GraphDef or MetaGraphDef with variables (only their
    initialisers are in it), an event file's graph.
    """
    from .loaders import load_keras_model, load_tflite_model  # noqa: PLC0415

    path = Path(path)
    if kind == "savedmodel" and path.is_dir():
        from .checkpoint import variable_values  # noqa: PLC0415

        values, notes = variable_values(graph_def, path / "variables" / "variables")
        return FileWeights(values, "the checkpoint (variables/variables.index and .data)", notes)
    if kind == "metagraph" and path.suffix == ".meta" and path.with_suffix(".index").is_file():
        from .checkpoint import variable_values  # noqa: PLC0415

        values, notes = variable_values(graph_def, path.with_suffix(""))
        return FileWeights(values, f"the checkpoint beside it ({path.with_suffix('.index').name} "
                                   f"and .data)", notes)
    if kind in ("keras", "h5"):
        from .keras_file import node_weight_values  # noqa: PLC0415

        model, data = load_keras_model(path)
        return FileWeights(node_weight_values(path, data, model),
                           f"the weight datasets ({'.keras' if kind == 'keras' else '.h5'})")
    if kind == "tflite":
        model, _ = load_tflite_model(path)
        constants = [(key, data["attrs"]["tflite_tensor"]) for key, data in graph.nodes(data=True)
                     if data["op"] == "Const" and len(data["attrs"].get("tflite_tensor") or ()) == 2]
        values, dequantised = tflite.constant_arrays(model, constants, path)
        notes = [f"{dequantised} quantised constant(s) dequantised as (q - zero_point) × scale "
                 f"before comparing"] if dequantised else []
        return FileWeights(values, "the constant buffers (.tflite)", notes)
    return graph_weights(graph_def)


def graph_weights(graph_def) -> Optional[FileWeights]:
    """Return a frozen graph's float constants as its weights; None for a graph with variables."""
    if _frozen(graph_def):
        return FileWeights(float_constants(graph_def), "the constants (a frozen graph)")
    return None
