"""GraphDef -> the part of it a run of some nodes needs: those nodes and everything they read.

``explain --verify`` runs a SavedModel's RNN on made-up weights; the graph also holds the
checkpoint's save and restore ops (which write and read files named by the graph itself).
Running only this closure means no such op is ever imported, so the run-policy never has to
admit one.  Pure protobuf: no TensorFlow here.
"""

from __future__ import annotations

__all__ = ["needed_subgraph"]


def _producer(ref: str) -> str:
    return ref.lstrip("^").split(":", 1)[0]


def needed_subgraph(graph_def, names) -> object:
    """Return a copy of ``graph_def`` holding only ``names`` and what they read (data and control).

    The function library is kept whole (the run-policy checks the functions the kept nodes
    call); names not in the graph are ignored.
    """
    by_name = {node.name: node for node in graph_def.node}
    keep = {name for name in names if name in by_name}
    stack = list(keep)
    while stack:
        for ref in by_name[stack.pop()].input:
            name = _producer(ref)
            if name in by_name and name not in keep:
                keep.add(name)
                stack.append(name)
    out = type(graph_def)()
    out.versions.CopyFrom(graph_def.versions)
    out.library.CopyFrom(graph_def.library)
    out.node.extend(node for node in graph_def.node if node.name in keep)
    return out
