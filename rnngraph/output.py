"""Side effects of rendering: running Graphviz and writing files atomically."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Iterator, Optional, Union

from .errors import GraphvizMissing, OutputError, RenderError

__all__ = ["FORMATS", "GRAPHVIZ_FORMATS", "run_graphviz", "write_atomic", "atomic_path", "dot_install_hint",
           "graph_json"]

GRAPHVIZ_FORMATS = ("svg", "png", "pdf")
FORMATS = GRAPHVIZ_FORMATS + ("dot", "json", "html")  # html: htmlview.py, drawn by dot


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


@contextlib.contextmanager
def atomic_path(target: Union[str, Path]) -> Iterator[str]:
    """Yield a temporary path beside ``target``; rename it over ``target`` if the block succeeds.

    A reader (or a Ctrl-C) never sees a half-written file, and a failure leaves the old one.
    """
    target = Path(target)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        os.close(fd)
    except OSError as exc:
        raise OutputError(f"cannot write {target}: {exc.strerror or exc}") from None
    try:
        yield tmp
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except OSError as exc:
        raise OutputError(f"cannot write {target}: {exc.strerror or exc}") from None
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)


def write_atomic(path: Union[str, Path], data: Union[bytes, str]) -> str:
    """Write ``data`` to ``path`` through a temporary file and a rename; ``-`` is stdout."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    if str(path) == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return "-"
    target = Path(path)
    if target.is_dir():
        raise OutputError(f"cannot write {path}: it is a directory")
    if not target.parent.is_dir():
        raise OutputError(f"cannot write {path}: folder {target.parent} does not exist")
    with atomic_path(target) as tmp:
        Path(tmp).write_bytes(data)
    return str(target)


def graph_json(graph) -> str:
    """Return the networkx node-link JSON of ``graph`` (sorted, so it is deterministic)."""
    import networkx as nx  # noqa: PLC0415

    data = nx.node_link_data(graph, edges="edges")
    data["graph"] = {k: v for k, v in data["graph"].items() if not k.startswith("_")}  # caches
    data["nodes"] = sorted(data["nodes"], key=lambda n: n["id"])
    data["edges"] = sorted(data["edges"], key=lambda e: (e["target"], e["key"], e["source"]))
    return json.dumps(data, indent=1, sort_keys=True, default=str) + "\n"
