"""The op view of a Keras file: "what TensorFlow really builds" when Keras runs the model.

Keras loads the file in safe mode in a child process (:mod:`.keras_worker`), traces the model's
call at its saved input shape (batch left dynamic) into a concrete function, freezes the weights
into constants (the loop stays a v2 ``While`` with its functions) and writes the GraphDef, whose
bytes :func:`trace_keras` returns for the same walker and recognisers as any file.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

__all__ = ["trace_keras", "trace_keras_report"]


def trace_keras(path, library: str) -> bytes:
    """Return the serialized GraphDef TensorFlow traces from the Keras file at ``path``."""
    return trace_keras_report(path, library)[0]


def trace_keras_report(path, library: str) -> tuple:
    """Return (the serialized traced GraphDef, the worker's report).

    The report's ``scopes`` maps each top-level Keras layer to the name scopes its calls ran in.
    """
    from .keras_worker import run_worker  # noqa: PLC0415

    with tempfile.TemporaryDirectory(prefix="rnngraph-ops-") as tmp:
        out = Path(tmp) / "graph.pb"
        report = run_worker("trace", path, library, out)
        return out.read_bytes(), report
