"""A graph read from a file -> a tf.Graph ready to run once (for ``rnngraph run FILE``).

The GraphDef is imported as it is (``import_graph_def``, no name prefix, so
node names stay those of the file); what to fetch is every op whose result
nobody reads (the graph's ends), and what to initialise is the variables'
initialisers.  Only float placeholders can be fed made-up values: any other
input is refused with its name, rather than guessed.
"""

from __future__ import annotations

import contextlib
import time
from typing import Optional

from ..errors import GraphFileError
from .builder import BuiltGraph
from .tfcompat import tf

__all__ = ["import_graph", "NOT_FETCHED"]

# Ends of a graph that are not results: bookkeeping, saving, initialising, training updates.
NOT_FETCHED = ("NoOp", "Assign", "AssignVariableOp", "AssignAdd", "AssignSub",
               "AssignAddVariableOp", "AssignSubVariableOp", "SaveV2", "Save", "SaveSlices",
               "RestoreV2", "Restore", "MergeV2Checkpoints", "VarIsInitializedOp",
               "IsVariableInitialized", "Const", "Placeholder", "PlaceholderWithDefault",
               "VarHandleOp", "VariableV2", "Variable", "ShardedFilename", "StringJoin",
               "ScalarSummary", "HistogramSummary", "MergeSummary")
_FED = ("Placeholder", "PlaceholderV2")
_UPDATES = ("Apply", "ResourceApply")  # optimizer steps: never run them on a made-up batch


def _initialisers(graph) -> list:
    """Return the ops that give the variables their first values."""
    found = []
    for op in graph.get_operations():
        if op.type in ("Assign", "AssignVariableOp") and any(
                "Initializer" in i.op.name or i.op.type in ("Const", "Fill") for i in op.inputs[1:]):
            found.append(op)
    return found


def _ends(graph) -> list:
    """Return the tensors nobody reads, outside the training updates and the bookkeeping."""
    read = {t.name for op in graph.get_operations() for t in op.inputs}
    ends = []
    for op in graph.get_operations():
        if op.type in NOT_FETCHED or op.type.startswith(_UPDATES) or op.name.startswith("save/"):
            continue
        outputs = [t for t in op.outputs if t.dtype.base_dtype.name not in ("resource", "variant")]
        if outputs and not any(t.name in read for t in op.outputs):
            ends.extend(outputs)
    return ends


def import_graph(graph_def, device: Optional[str] = None) -> BuiltGraph:
    """Return the graph of ``graph_def`` imported into a fresh tf.Graph, with what to feed and fetch.

    ``tensors`` holds ``placeholders`` (name -> tensor), ``fetches`` and
    ``init`` (the initialisers, possibly empty); ``spec`` is None.
    """
    t = tf()
    started = time.perf_counter()
    tf_graph_def = t.compat.v1.GraphDef.FromString(graph_def.SerializeToString())
    graph = t.Graph()
    placed = graph.device(device) if device else contextlib.nullcontext()
    try:
        with graph.as_default(), placed:
            t.compat.v1.import_graph_def(tf_graph_def, name="")
    except (ValueError, TypeError, t.errors.OpError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise GraphFileError(f"TensorFlow cannot import this graph to run it: {first}") from None
    placeholders = {op.name: op.outputs[0] for op in graph.get_operations() if op.type in _FED}
    for name, tensor in sorted(placeholders.items()):
        if not tensor.dtype.is_floating:
            raise GraphFileError(f"cannot make up a value for the {tensor.dtype.name} placeholder "
                                 f"{name!r}: `rnngraph run FILE` feeds float placeholders only")
    fetches = _ends(graph)
    if not fetches:
        raise GraphFileError("nothing to run: every end of this graph is bookkeeping "
                             "(saving, initialising, training updates)")
    return BuiltGraph(spec=None, graph=graph, build_seconds=time.perf_counter() - started,
                      tensors={"placeholders": placeholders, "fetches": fetches,
                               "init": _initialisers(graph)})
