"""Side effects of drawing: running Graphviz; the drawing formats; the JSON of a graph."""

from __future__ import annotations

import json
import os
import shutil
from typing import Optional

from ..errors import GraphvizMissing, RenderError

__all__ = ["FORMATS", "GRAPHVIZ_FORMATS", "GRAPHDEF_FORMATS", "run_graphviz", "dot_install_hint",
           "graph_json", "graph_def_bytes", "fields_text_leaves_out"]

GRAPHVIZ_FORMATS = ("svg", "png", "pdf")
GRAPHDEF_FORMATS = ("pb", "pbtxt")  # the GraphDef itself, for other tools (no drawing)
FORMATS = GRAPHVIZ_FORMATS + ("dot", "json", "html") + GRAPHDEF_FORMATS  # html: draw/html.py


def dot_install_hint() -> str:
    """Return the command that installs Graphviz on this kind of machine."""
    if shutil.which("apt-get"):
        prefix = "" if hasattr(os, "geteuid") and os.geteuid() == 0 else "sudo "
        return f"{prefix}apt-get install -y graphviz"
    if shutil.which("brew"):
        return "brew install graphviz"
    if shutil.which("dnf"):
        return "sudo dnf install graphviz"
    return "install Graphviz from https://graphviz.org/download/"


def run_graphviz(dot_text: str, fmt: str, engine: str = "dot", no_op: Optional[int] = None) -> bytes:
    """Return ``dot_text`` laid out and drawn by Graphviz in format ``fmt``.

    ``no_op=2`` runs ``neato -n2``: every node already has its position.
    """
    import graphviz  # noqa: PLC0415 (only when drawing)

    if shutil.which(engine) is None:
        raise GraphvizMissing(
            f"the Graphviz '{engine}' program is not installed, so {fmt} cannot be drawn; "
            f"run `{dot_install_hint()}` (or use --format dot / --format json)")
    try:
        return graphviz.pipe(engine, fmt, dot_text.encode("utf-8"), quiet=True, neato_no_op=no_op)
    except graphviz.ExecutableNotFound:
        raise GraphvizMissing(
            f"the Graphviz '{engine}' program is not installed; run `{dot_install_hint()}`") from None
    except graphviz.CalledProcessError as exc:
        detail = (exc.stderr or b"").decode("utf-8", "replace").strip().splitlines()
        raise RenderError(f"Graphviz {engine} failed: {detail[0] if detail else exc}") from None


def graph_json(graph) -> str:
    """Return the networkx node-link JSON of ``graph`` (sorted, so it is deterministic)."""
    import networkx as nx  # noqa: PLC0415

    data = nx.node_link_data(graph, edges="edges")
    data["graph"] = {k: v for k, v in data["graph"].items() if not k.startswith("_")}  # caches
    data["nodes"] = sorted(data["nodes"], key=lambda n: n["id"])
    data["edges"] = sorted(data["edges"], key=lambda e: (e["target"], e["key"], e["source"]))
    return json.dumps(data, indent=1, sort_keys=True, default=str) + "\n"


def graph_def_bytes(graph_def, fmt: str) -> bytes:
    """Return ``graph_def`` as a binary (``pb``) or text (``pbtxt``) GraphDef, byte-for-byte stable.

    Binary output is serialised deterministically (map fields sorted), so the same
    graph gives the same bytes; TensorFlow reads both (``GraphDef.FromString``,
    ``text_format.Parse``), and so does ``rnngraph inspect``.
    """
    from google.protobuf import text_format  # noqa: PLC0415

    if fmt == "pb":
        return graph_def.SerializeToString(deterministic=True)
    if fmt == "pbtxt":
        return text_format.MessageToString(graph_def).encode("utf-8")
    raise ValueError(f"unknown GraphDef format {fmt!r}; expected one of {GRAPHDEF_FORMATS}")


def fields_text_leaves_out(graph_def) -> int:
    """Return how many nodes carry fields rnngraph does not declare (kept in pb, not in pbtxt).

    rnngraph's protos (graphdef/protos.py) declare what it reads; newer fields such as
    ``experimental_type`` ride along as unknown fields, which binary output keeps
    byte for byte but the text format cannot print by name.
    """
    from google.protobuf.unknown_fields import UnknownFieldSet  # noqa: PLC0415

    nodes = list(graph_def.node) + [n for f in graph_def.library.function for n in f.node_def]
    return sum(1 for node in nodes if len(UnknownFieldSet(node)))
