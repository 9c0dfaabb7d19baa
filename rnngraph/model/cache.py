"""Built GraphDefs cached on disk, so drawing a model built before needs no TensorFlow.

A build is deterministic (same spec and versions, same GraphDef bytes), so
the serialized GraphDef is stored under a key made of the spec, the
versions of TensorFlow, tf-keras, Keras, protobuf and rnngraph, and a digest
of the model stage's own source (so an edited builder never reads old builds), in
``$XDG_CACHE_HOME/rnngraph`` (``~/.cache/rnngraph`` by default).  A cache
that cannot be read or written is a miss, never an error.  Importing this
module does not import TensorFlow; only a miss does (through ``builder``).
"""

from __future__ import annotations

import hashlib
import json
import os
from importlib import metadata
from pathlib import Path
from typing import Optional

from .. import __version__
from ..files import write_atomic
from .spec import ModelSpec

__all__ = ["cache_dir", "cache_key", "cache_path", "load_cached", "graph_def_for", "VERSIONED"]

VERSIONED = ("tensorflow", "tf-keras", "keras", "protobuf")  # packages whose version keys a build


def cache_dir() -> Path:
    """Return the folder of rnngraph's cached builds (``$XDG_CACHE_HOME/rnngraph/graphs``)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "rnngraph" / "graphs"


def _builder_digest() -> str:
    """Return a digest of the model stage's source: a changed builder never reads old builds."""
    digest = hashlib.sha256()
    for path in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(path.name.encode("utf-8") + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def _versions() -> dict:
    found = {"rnngraph": __version__, "builder": _builder_digest()}
    for package in VERSIONED:
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            found[package] = None
    return found


def cache_key(spec: ModelSpec) -> str:
    """Return the hex key of ``spec`` built by the installed versions."""
    text = json.dumps({"spec": spec.as_dict(), "versions": _versions()}, sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def cache_path(spec: ModelSpec) -> Path:
    """Return the file that holds (or will hold) the GraphDef of ``spec``."""
    return cache_dir() / f"{spec.slug()}-{cache_key(spec)}.pb"


_MAGIC = b"rnngraph-build-1\n"  # then the payload's sha256 (32 bytes), then the GraphDef


def load_cached(spec: ModelSpec) -> Optional[bytes]:
    """Return the serialized GraphDef cached for ``spec``, or None when none is intact."""
    path = cache_path(spec)
    try:
        if not path.is_file():
            return None
        data = path.read_bytes()
    except OSError:
        return None
    head, digest, payload = data[:len(_MAGIC)], data[len(_MAGIC):len(_MAGIC) + 32], data[len(_MAGIC) + 32:]
    if head != _MAGIC or hashlib.sha256(payload).digest() != digest:
        return None  # not ours, truncated or damaged: build again
    return payload


def graph_def_for(spec: ModelSpec, use_cache: bool = True) -> tuple:
    """Return ``(serialized GraphDef, built)`` for ``spec``: from the cache, else built and stored.

    ``built`` is the BuiltGraph when TensorFlow built it in this call, None
    when it came from the cache.  (Parse the bytes with ``graphdef.protos``.)
    """
    if use_cache:
        cached = load_cached(spec)
        if cached is not None:
            return cached, None
    from .builder import build_graph  # noqa: PLC0415 (imports TensorFlow)

    built = build_graph(spec)
    data = built.graph_def().SerializeToString(deterministic=True)
    if use_cache:
        path = cache_path(spec)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(path, _MAGIC + hashlib.sha256(data).digest() + data)
        except OSError:  # a read-only or full disk only costs the next run a build
            pass
    return data, built
